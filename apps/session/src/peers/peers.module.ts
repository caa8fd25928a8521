import { Global, Injectable, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HealthService } from '@troupe/health';
import { SessionConfig } from '../session.config';
import { InferenceClient } from './inference.client';
import { RoleContextClient } from './role-context.client';
import { ToolPluginClient } from './tool-plugin.client';

@Injectable()
class PeersLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly health: HealthService,
    private readonly roleContext: RoleContextClient,
    private readonly inference: InferenceClient,
    private readonly toolPlugin: ToolPluginClient,
  ) {}

  /** Readiness needs every peer's channel to connect. */
  onModuleInit(): void {
    this.health.register('role-context', () => this.roleContext.grpc.waitForReady(1500));
    this.health.register('inference', () => this.inference.grpc.waitForReady(1500));
    this.health.register('tool-plugin', () => this.toolPlugin.grpc.waitForReady(1500));
  }

  onApplicationShutdown(): void {
    for (const peer of [this.roleContext, this.inference, this.toolPlugin]) peer.grpc.close();
  }
}

/** gRPC clients of the other services, one channel each, shared by the whole app. */
@Global()
@Module({
  providers: [
    {
      provide: RoleContextClient,
      inject: [SessionConfig],
      useFactory: (c: SessionConfig) => RoleContextClient.connect(c.ROLE_CONTEXT_ADDRESS, c.GRPC_DEADLINE_MS),
    },
    {
      provide: InferenceClient,
      inject: [SessionConfig],
      useFactory: (c: SessionConfig) => InferenceClient.connect(c.INFERENCE_ADDRESS, c.GENERATION_DEADLINE_MS),
    },
    {
      provide: ToolPluginClient,
      inject: [SessionConfig],
      useFactory: (c: SessionConfig) => ToolPluginClient.connect(c.TOOL_PLUGIN_ADDRESS, c.GRPC_DEADLINE_MS),
    },
    PeersLifecycle,
  ],
  exports: [RoleContextClient, InferenceClient, ToolPluginClient],
})
export class PeersModule {}
