import { BeforeApplicationShutdown, DynamicModule, Injectable, Module, OnApplicationBootstrap, Provider } from '@nestjs/common';
import type Redis from 'ioredis';
import { GrpcCallObservers } from '@troupe/grpc';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { REDIS } from '@troupe/redis';
import { DiscoveryEnvironment, DiscoverySettings, advertisedAddress, resolveDiscoverySettings } from './discovery-settings';
import { LoadMonitor } from './load-monitor';
import { DISCOVERY_SETTINGS, PeerChannels } from './peer-channels';
import { ServiceAnnouncer } from './service-announcer';

export interface AnnouncedService {
  /** The name clients look it up by (role-context, tool-plugin, inference). */
  service: string;
  grpcPort: number;
}

@Injectable()
class AnnouncerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly announcer: ServiceAnnouncer,
    private readonly load: LoadMonitor,
  ) {}

  onApplicationBootstrap(): void {
    this.load.start();
    this.announcer.start();
  }

  /** Before the gRPC server drains: clients stop picking this instance at once. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.announcer.stop().catch(() => undefined);
    this.load.close();
  }
}

const IN_FLIGHT_COUNT = Symbol('IN_FLIGHT_COUNT');

function announcerProviders(settings: DiscoverySettings, announced: AnnouncedService): Provider[] {
  const wildcard = ['0.0.0.0', '::', '[::]'].includes(settings.bindHost);
  return [
    {
      provide: ServiceAnnouncer,
      inject: [REDIS, LoadMonitor, APP_LOGGER],
      useFactory: (redis: Redis, load: LoadMonitor, logger: Logger) =>
        new ServiceAnnouncer(
          redis,
          load,
          {
            service: announced.service,
            address: advertisedAddress(settings, announced.grpcPort),
            listening: { host: wildcard ? '127.0.0.1' : settings.bindHost, port: announced.grpcPort },
            heartbeatMs: settings.heartbeatMs,
            ttlMs: settings.ttlMs,
          },
          logger,
        ),
    },
    AnnouncerLifecycle,
    // The calls in flight that the announcement reports, counted by the gRPC server.
    {
      provide: IN_FLIGHT_COUNT,
      inject: [LoadMonitor, { token: GrpcCallObservers, optional: true }],
      useFactory: (load: LoadMonitor, calls?: GrpcCallObservers) =>
        calls?.add({
          callStarted: () => {
            load.callStarted();
            return () => load.callEnded();
          },
        }),
    },
  ];
}

/**
 * The service registry: with DISCOVERY=redis the service announces itself (when it serves
 * gRPC) and PeerChannels opens balanced pools over its peers' instances; with static it does
 * neither and PeerChannels opens one channel per configured address.
 */
@Module({})
export class DiscoveryModule {
  static forRoot(config: DiscoveryEnvironment, announced?: AnnouncedService): DynamicModule {
    const settings = resolveDiscoverySettings(config);
    const announcing = settings.mode === 'redis' && announced !== undefined;
    return {
      module: DiscoveryModule,
      global: true,
      providers: [
        { provide: DISCOVERY_SETTINGS, useValue: settings },
        { provide: LoadMonitor, useFactory: () => new LoadMonitor() },
        PeerChannels,
        ...(announcing ? announcerProviders(settings, announced) : []),
      ],
      exports: [DISCOVERY_SETTINGS, LoadMonitor, PeerChannels],
    };
  }
}
