import { TOOL_PLUGIN_CONTRACT, toolPlugin } from '@troupe/contracts';
import { GrpcCallOptions, GrpcClient } from '@troupe/grpc';

/** Typed calls to the tool-plugin service. */
export class ToolPluginClient {
  constructor(readonly grpc: GrpcClient) {}

  static connect(address: string, deadlineMs: number): ToolPluginClient {
    return new ToolPluginClient(new GrpcClient(TOOL_PLUGIN_CONTRACT, address, deadlineMs));
  }

  listTools(roleId: string, options?: GrpcCallOptions): Promise<toolPlugin.ListToolsResponse> {
    return this.grpc.unary('listTools', { roleId }, options);
  }

  invokeTool(request: toolPlugin.InvokeToolRequest, options?: GrpcCallOptions): Promise<toolPlugin.InvokeToolResponse> {
    return this.grpc.unary('invokeTool', request, options);
  }
}
