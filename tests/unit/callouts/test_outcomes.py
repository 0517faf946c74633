"""What the plugin is handed for each transport outcome (Envoy 1.40, measured)."""

from __future__ import annotations

import grpc
import pytest

from workers.callouts.dispatch import envoy_outcome
from workers.callouts.grpc import close_message
from workers.callouts.http import CallFailure, response_headers, split_headers
from workers.callouts.messages import HttpCallResponse


def test_a_response_passes_through() -> None:
    response = HttpCallResponse(((b":status", b"200"),), b"ok")
    assert envoy_outcome(response) is response


@pytest.mark.parametrize(
    ("failure", "status", "body_start"),
    [
        (CallFailure.TIMEOUT, b"504", b"upstream request timeout"),
        (CallFailure.CONNECT, b"503", b"upstream connect error"),
        (CallFailure.DISCONNECT, b"503", b"upstream connect error"),
    ],
)
def test_no_response_becomes_envoys_local_reply(
    failure: CallFailure, status: bytes, body_start: bytes
) -> None:
    response = envoy_outcome(failure)
    assert response is not None
    assert response.headers[0] == (b":status", status)
    assert (b"content-type", b"text/plain") in response.headers
    assert (b"content-length", str(len(response.body)).encode()) in response.headers
    assert response.body.startswith(body_start)


def test_reset_after_headers_is_the_failure_callback() -> None:
    assert envoy_outcome(CallFailure.RESET) is None


def test_split_headers() -> None:
    pairs = ((b":method", b"POST"), (b":path", b"/a"), (b":authority", b"h"), (b"x-a", b"1"))
    assert split_headers(pairs) == ("POST", "/a", "h", [("x-a", "1")])


def test_split_headers_names_what_is_missing() -> None:
    with pytest.raises(ValueError, match=":path"):
        split_headers(((b":method", b"GET"), (b":authority", b"h")))


def test_response_headers_lead_with_status_and_lower_case() -> None:
    assert response_headers(201, ((b"X-A", b"1"),)) == ((b":status", b"201"), (b"x-a", b"1"))


@pytest.mark.parametrize(
    ("code", "details", "message"),
    [
        (grpc.StatusCode.NOT_FOUND, "no such thing", b"no such thing{via_upstream}"),
        (grpc.StatusCode.OK, "", b"via_upstream"),
        (grpc.StatusCode.UNAVAILABLE, "failed to connect", b"failed to connect"),
    ],
)
def test_grpc_close_message_like_envoy(code: grpc.StatusCode, details: str, message: bytes) -> None:
    assert close_message(code, details) == message
