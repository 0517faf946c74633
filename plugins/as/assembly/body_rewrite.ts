// body_rewrite: buffers the request body until end_of_stream and replaces it
// with its ASCII uppercase; the same for the response body. content-length is
// removed in both header callbacks (the body is rewritten later).
//
// The SDK 0.1.8 has no proxy_set_buffer_bytes wrapper (its
// proxy_set_buffer_status is bound to the wrong import), so the raw import is
// declared here.
export * from "@solo-io/proxy-runtime/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues,
  FilterDataStatusValues, stream_context,
} from "@solo-io/proxy-runtime";
import { get_buffer_bytes, BufferTypeValues } from "@solo-io/proxy-runtime/runtime";

// @ts-ignore: decorator
@external("env", "proxy_set_buffer_bytes")
declare function proxy_set_buffer_bytes(typ: u32, start: u32, length: u32, data: usize, size: usize): u32;

function upperBody(typ: BufferTypeValues, size: u32): void {
  if (size == 0) return;
  const buf = get_buffer_bytes(typ, 0, size);
  const bytes = Uint8Array.wrap(buf);
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    out[i] = (c >= 97 && c <= 122) ? c - 32 : c;
  }
  proxy_set_buffer_bytes(typ, 0, size, out.dataStart, out.length);
}

class BodyRewriteRoot extends RootContext {
  onConfigure(configuration_size: u32): bool {
    return true;
  }

  createContext(context_id: u32): Context {
    return new BodyRewrite(context_id, this);
  }
}

class BodyRewrite extends Context {
  constructor(context_id: u32, root_context: BodyRewriteRoot) {
    super(context_id, root_context);
  }

  onRequestHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.request.remove("content-length");
    return FilterHeadersStatusValues.Continue;
  }

  onRequestBody(body_buffer_length: usize, end_of_stream: bool): FilterDataStatusValues {
    if (!end_of_stream) return FilterDataStatusValues.StopIterationAndBuffer;
    upperBody(BufferTypeValues.HttpRequestBody, body_buffer_length as u32);
    return FilterDataStatusValues.Continue;
  }

  onResponseHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.remove("content-length");
    return FilterHeadersStatusValues.Continue;
  }

  onResponseBody(body_buffer_length: usize, end_of_stream: bool): FilterDataStatusValues {
    if (!end_of_stream) return FilterDataStatusValues.StopIterationAndBuffer;
    upperBody(BufferTypeValues.HttpResponseBody, body_buffer_length as u32);
    return FilterDataStatusValues.Continue;
  }
}

registerRootContext((context_id: u32) => { return new BodyRewriteRoot(context_id); }, "as_body_rewrite");
