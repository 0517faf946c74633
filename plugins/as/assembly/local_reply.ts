// local_reply: `:path` == /deny -> local 403, body "denied by as\n", header x-as-denied: yes.
// Every response (including the local reply, on which Envoy still runs
// proxy_on_response_headers) gets x-as-seen: 1.
export * from "@solo-io/proxy-runtime/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
  send_local_response, HeaderPair, GrpcStatusValues,
} from "@solo-io/proxy-runtime";

class LocalReplyRoot extends RootContext {
  // Never read the configuration (the SDK's default onConfigure traps on an
  // empty one).
  onConfigure(configuration_size: u32): bool {
    return true;
  }

  createContext(context_id: u32): Context {
    return new LocalReply(context_id, this);
  }
}

class LocalReply extends Context {
  constructor(context_id: u32, root_context: LocalReplyRoot) {
    super(context_id, root_context);
  }

  onRequestHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const path = stream_context.headers.request.get(":path");
    if (path == "/deny") {
      const headers: HeaderPair[] = [
        new HeaderPair(String.UTF8.encode("x-as-denied"), String.UTF8.encode("yes")),
      ];
      send_local_response(403, "as_denied", String.UTF8.encode("denied by as\n"), headers,
        GrpcStatusValues.InvalidCode);
      return FilterHeadersStatusValues.StopIteration;
    }
    return FilterHeadersStatusValues.Continue;
  }

  onResponseHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.add("x-as-seen", "1");
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32) => { return new LocalReplyRoot(context_id); }, "as_local_reply");
