import { Controller, Get } from '@nestjs/common';
import { ModelRegistryService } from './model-registry.service';

/** /health/models: every model's state, with the error of a failed (re)load. */
@Controller('health')
export class ModelsHealthController {
  constructor(private readonly models: ModelRegistryService) {}

  @Get('models')
  report(): { models: ReturnType<ModelRegistryService['list']> } {
    return { models: this.models.list() };
  }
}
