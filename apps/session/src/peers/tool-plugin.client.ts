import { TOOL_PLUGIN_CONTRACT, toolPlugin } from '@troupe/contracts';
import { PeerChannels } from '@troupe/discovery';
import { GrpcCallOptions, GrpcCaller } from '@troupe/grpc';

/** Typed calls to the tool-plugin service. */
export class ToolPluginClient {
  constructor(readonly grpc: GrpcCaller) {}

  /** The tool-plugin service at `address`, or its instances in the registry (DISCOVERY=redis). */
  static open(peers: PeerChannels, address: string, deadlineMs: number): ToolPluginClient {
    return new ToolPluginClient(peers.open({ contract: TOOL_PLUGIN_CONTRACT, service: 'tool-plugin', staticAddress: address, deadlineMs }));
  }

  listTools(roleId: string, options?: GrpcCallOptions): Promise<toolPlugin.ListToolsResponse> {
    return this.grpc.unary('listTools', { roleId }, options);
  }

  invokeTool(request: toolPlugin.InvokeToolRequest, options?: GrpcCallOptions): Promise<toolPlugin.InvokeToolResponse> {
    return this.grpc.unary('invokeTool', request, options);
  }
}
