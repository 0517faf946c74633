// sdk_default_config: keeps the SDK's own RootContext.onConfigure (the README
// pattern) to pin down its bug: it passes configuration_size as the size
// *pointer* of proxy_get_buffer_bytes. With a non-empty configuration it works
// and the response gets x-as-config: <configuration>; with an empty
// configuration the host's write lands at a bogus address and the module
// traps, so the plugin must fail to load (Envoy refuses it).
export * from "@solo-io/proxy-runtime/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
} from "@solo-io/proxy-runtime";

class DefaultRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new DefaultCtx(context_id, this);
  }
}

class DefaultCtx extends Context {
  constructor(context_id: u32, root_context: DefaultRoot) {
    super(context_id, root_context);
  }

  onResponseHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.add("x-as-config", this.root_context.getConfiguration());
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32) => { return new DefaultRoot(context_id); }, "as_sdk_default");
