import { Controller } from '@nestjs/common';
import { toolPlugin } from '@troupe/contracts';
import { GrpcCallError, GrpcStatus, grpcError, validateGrpcRequest } from '@troupe/grpc';
import { RoleNotFoundError, ToolPermissionError } from '../grants/tool-access';
import { InvokeToolDto, ListToolsDto } from './dto/tool-requests.dto';
import { ToolsService } from './tools.service';

/** Grant refusals and peer failures become gRPC statuses; tool failures are ok=false answers. */
function asGrpcError(e: unknown): unknown {
  if (e instanceof ToolPermissionError) return grpcError(GrpcStatus.PERMISSION_DENIED, e.message);
  if (e instanceof RoleNotFoundError) return grpcError(GrpcStatus.NOT_FOUND, e.message);
  if (e instanceof GrpcCallError) return grpcError(GrpcStatus.UNAVAILABLE, `role-context: ${e.message}`);
  return e;
}

@Controller()
@toolPlugin.ToolPluginServiceControllerMethods()
export class ToolsController implements toolPlugin.ToolPluginServiceController {
  constructor(private readonly tools: ToolsService) {}

  async listTools(request: toolPlugin.ListToolsRequest): Promise<toolPlugin.ListToolsResponse> {
    const dto = validateGrpcRequest(ListToolsDto, request);
    return { tools: await this.tools.list(dto).catch((e) => Promise.reject(asGrpcError(e))) };
  }

  invokeTool(request: toolPlugin.InvokeToolRequest): Promise<toolPlugin.InvokeToolResponse> {
    const dto = validateGrpcRequest(InvokeToolDto, request);
    return this.tools.invoke(dto).catch((e) => Promise.reject(asGrpcError(e)));
  }
}
