// add_header: request header x-as-req: <plugin configuration>, response header
// x-as-resp: added, and copies request header x-echo to response header x-as-echo.
//
// Works around the SDK 0.1.8 RootContext.onConfigure bug (it passes the
// configuration size as the size *pointer* of proxy_get_buffer_bytes) by
// overriding onConfigure and reading the configuration through the SDK's
// correct get_buffer_bytes helper.
export * from "@solo-io/proxy-runtime/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
} from "@solo-io/proxy-runtime";
import { get_buffer_bytes, BufferTypeValues } from "@solo-io/proxy-runtime/runtime";

class AddHeaderRoot extends RootContext {
  config: string = "";

  onConfigure(configuration_size: u32): bool {
    if (configuration_size == 0) {
      this.config = "";
      return true;
    }
    const buf = get_buffer_bytes(BufferTypeValues.PluginConfiguration, 0, configuration_size);
    this.config = String.UTF8.decode(buf);
    return true;
  }

  createContext(context_id: u32): Context {
    return new AddHeader(context_id, this);
  }
}

class AddHeader extends Context {
  root: AddHeaderRoot;
  echo: string = "";

  constructor(context_id: u32, root_context: AddHeaderRoot) {
    super(context_id, root_context);
    this.root = root_context;
  }

  onRequestHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.request.add("x-as-req", this.root.config);
    // get() returns "" when the header is absent (NotFound).
    this.echo = stream_context.headers.request.get("x-echo");
    return FilterHeadersStatusValues.Continue;
  }

  onResponseHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.add("x-as-resp", "added");
    if (this.echo.length > 0) {
      stream_context.headers.response.add("x-as-echo", this.echo);
    }
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32) => { return new AddHeaderRoot(context_id); }, "as_add_header");
