import { Injectable, OnModuleInit } from '@nestjs/common';
import { LoadMonitor } from '@troupe/discovery';
import { ModelRegistryService } from './model-registry.service';

/**
 * What this instance tells the service registry beyond its call load: the models it serves
 * (read on every heartbeat, so loads and unloads show within one) and its queued generations.
 */
@Injectable()
export class ModelsAnnouncement implements OnModuleInit {
  constructor(
    private readonly load: LoadMonitor,
    private readonly models: ModelRegistryService,
  ) {}

  onModuleInit(): void {
    this.load.describeWith({ models: () => this.models.readyModelNames(), queueDepth: () => this.models.waitingRequests() });
  }
}
