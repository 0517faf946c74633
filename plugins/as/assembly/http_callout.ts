// http_callout: an auth filter on the SDK's RootContext.httpCall helper.
//
// On request headers, calls upstream "auth" with GET <request path> (timeout 1000 ms, or
// 50 ms when x-as-callout: slow, which asks auth for /slow) and pauses. The SDK routes
// the response (which Envoy delivers to the root context) back to this stream with
// proxy_set_effective_context. Auth 403 -> local 403 with auth's body; otherwise request
// headers x-as-auth-status / x-as-auth-body are added and the request continues. A failed
// call (0 headers) adds x-as-auth-failed: 1. Without x-as-callout the request passes.
//
// SDK 0.1.8 workarounds: onConfigure is overridden (the default traps on an empty
// configuration); callbacks are static functions (no closures in AssemblyScript 0.14).
export * from "@solo-io/proxy-runtime/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
  send_local_response, HeaderPair, Headers, GrpcStatusValues,
} from "@solo-io/proxy-runtime";
import { get_buffer_bytes, BufferTypeValues } from "@solo-io/proxy-runtime/runtime";

function pair(key: string, value: string): HeaderPair {
  return new HeaderPair(String.UTF8.encode(key), String.UTF8.encode(value));
}

function onAuthResponse(origin: Context, headers: u32, body_size: usize, trailers: u32): void {
  if (headers == 0) {
    stream_context.headers.request.add("x-as-auth-failed", "1");
    origin.continueRequest();
    return;
  }
  const status = stream_context.headers.http_callback.get(":status");
  const body = get_buffer_bytes(BufferTypeValues.HttpCallResponseBody, 0, <u32>body_size);
  if (status == "403") {
    send_local_response(403, "as_callout_denied", body, [], GrpcStatusValues.Unknown);
    return;
  }
  stream_context.headers.request.add("x-as-auth-status", status);
  stream_context.headers.request.add("x-as-auth-body", String.UTF8.decode(body));
  origin.continueRequest();
}

class CalloutRoot extends RootContext {
  onConfigure(configuration_size: u32): bool {
    return true;
  }

  createContext(context_id: u32): Context {
    return new Callout(context_id, this);
  }
}

class Callout extends Context {
  constructor(context_id: u32, root_context: CalloutRoot) {
    super(context_id, root_context);
  }

  onRequestHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const mode = stream_context.headers.request.get("x-as-callout");
    if (mode == "") {
      return FilterHeadersStatusValues.Continue;
    }
    const slow = mode == "slow";
    const headers: Headers = [
      pair(":method", "GET"),
      pair(":path", slow ? "/slow" : stream_context.headers.request.get(":path")),
      pair(":authority", "auth"),
    ];
    const result = this.root_context.httpCall(
      "auth", headers, new ArrayBuffer(0), [], slow ? 50 : 1000, this, onAuthResponse,
    );
    if (result != 0) {
      stream_context.headers.request.add("x-as-callout-result", result.toString());
      return FilterHeadersStatusValues.Continue;
    }
    return FilterHeadersStatusValues.StopIteration;
  }
}

registerRootContext((context_id: u32) => { return new CalloutRoot(context_id); }, "as_http_callout");
