import { Global, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { PeerChannels } from '@troupe/discovery';
import { ToolPluginConfig } from '../tool-plugin.config';
import { MemoryBlockStore, RoleDirectory } from './peer-ports';
import { RoleContextAdapter } from './role-context.adapter';

@Injectable()
class PeersLifecycle implements OnApplicationShutdown {
  constructor(private readonly roleContext: RoleContextAdapter) {}

  onApplicationShutdown(): void {
    this.roleContext.close();
  }
}

/** Clients of the other services, behind this app's ports. */
@Global()
@Module({
  providers: [
    {
      provide: RoleContextAdapter,
      inject: [ToolPluginConfig, PeerChannels],
      useFactory: (config: ToolPluginConfig, peers: PeerChannels) => RoleContextAdapter.open(peers, config.ROLE_CONTEXT_ADDRESS, config.GRPC_DEADLINE_MS),
    },
    { provide: RoleDirectory, useExisting: RoleContextAdapter },
    { provide: MemoryBlockStore, useExisting: RoleContextAdapter },
    PeersLifecycle,
  ],
  exports: [RoleDirectory, MemoryBlockStore],
})
export class PeersModule {}
