import { Global, Injectable, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { PeerChannels, peerReadiness } from '@troupe/discovery';
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

  /** Readiness needs every peer: its channel connects, or (discovery) an instance of it is known. */
  onModuleInit(): void {
    this.health.register('role-context', () => peerReadiness(this.roleContext.grpc, 1500));
    this.health.register('inference', () => peerReadiness(this.inference.grpc, 1500));
    this.health.register('tool-plugin', () => peerReadiness(this.toolPlugin.grpc, 1500));
  }

  onApplicationShutdown(): void {
    for (const peer of [this.roleContext, this.inference, this.toolPlugin]) peer.grpc.close();
  }
}

/** gRPC clients of the other services (one channel each, or a balanced pool each with discovery), shared by the whole app. */
@Global()
@Module({
  providers: [
    {
      provide: RoleContextClient,
      inject: [SessionConfig, PeerChannels],
      useFactory: (c: SessionConfig, peers: PeerChannels) => RoleContextClient.open(peers, c.ROLE_CONTEXT_ADDRESS, c.GRPC_DEADLINE_MS),
    },
    {
      provide: InferenceClient,
      inject: [SessionConfig, PeerChannels],
      useFactory: (c: SessionConfig, peers: PeerChannels) => InferenceClient.open(peers, c.INFERENCE_ADDRESS, c.GENERATION_DEADLINE_MS),
    },
    {
      provide: ToolPluginClient,
      inject: [SessionConfig, PeerChannels],
      useFactory: (c: SessionConfig, peers: PeerChannels) => ToolPluginClient.open(peers, c.TOOL_PLUGIN_ADDRESS, c.GRPC_DEADLINE_MS),
    },
    PeersLifecycle,
  ],
  exports: [RoleContextClient, InferenceClient, ToolPluginClient],
})
export class PeersModule {}
