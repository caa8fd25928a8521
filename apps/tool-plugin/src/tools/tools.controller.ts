import { Controller } from '@nestjs/common';
import { toolPlugin } from '@troupe/contracts';
import { ToolsService } from './tools.service';

@Controller()
@toolPlugin.ToolPluginServiceControllerMethods()
export class ToolsController implements toolPlugin.ToolPluginServiceController {
  constructor(private readonly tools: ToolsService) {}

  listTools(request: toolPlugin.ListToolsRequest): toolPlugin.ListToolsResponse {
    return { tools: this.tools.list(request.roleId) };
  }

  invokeTool(request: toolPlugin.InvokeToolRequest): Promise<toolPlugin.InvokeToolResponse> {
    return this.tools.invoke(request);
  }
}
