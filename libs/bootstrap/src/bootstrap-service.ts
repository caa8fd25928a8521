import { DynamicModule, INestApplication } from '@nestjs/common';
import { ModulesContainer, NestFactory } from '@nestjs/core';
import { GrpcOptions } from '@nestjs/microservices';
import { BaseServiceConfig, ConfigValidationError, loadConfig } from '@troupe/config';
import { GrpcCallObservers, ObservedGrpcServer } from '@troupe/grpc';
import { HealthService } from '@troupe/health';
import { Logger, PinoNestLogger, createLogger } from '@troupe/logging';
import { Tracing, resolveTracingSettings, startTracing } from '@troupe/tracing';

export interface ServiceDefinition<C extends BaseServiceConfig> {
  name: string;
  config: C;
  logger: Logger;
  module: DynamicModule;
  httpPort: number;
  grpc?: GrpcOptions;
  /** Last touches on the HTTP app before it listens (adapters, pipes). */
  configure?: (app: INestApplication) => void;
}

/** Reads the service's config, or prints which variable is wrong and exits. */
export function loadConfigOrExit<C extends BaseServiceConfig>(service: string, configClass: new () => C): C {
  try {
    return loadConfig(configClass);
  } catch (e) {
    if (e instanceof ConfigValidationError) {
      process.stderr.write(`${service}: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}

export function serviceLogger(service: string, config: BaseServiceConfig): Logger {
  return createLogger(service, config.LOG_LEVEL);
}

/**
 * Starts one Troupe service: HTTP (health, metrics, and whatever the module serves) plus an
 * optional gRPC server, and on SIGTERM/SIGINT fails readiness, stops accepting, lets in-flight
 * calls finish (bounded by SHUTDOWN_TIMEOUT_MS), then closes Redis and exits.
 */
export async function bootstrapService<C extends BaseServiceConfig>(def: ServiceDefinition<C>): Promise<INestApplication> {
  const { logger, config } = def;
  const tracing = startTracingIfAsked(def);
  const app = await NestFactory.create(def.module, { logger: new PinoNestLogger(logger), bufferLogs: false });
  def.configure?.(app);
  if (def.grpc) {
    // The gRPC side takes none of the app's global enhancers: what every call needs (metrics,
    // log context, span, access log, in-flight count) the server does itself, per call.
    const strategy = new ObservedGrpcServer(def.grpc.options, app.get(GrpcCallObservers), logger);
    strategy.callControllersDirectly(controllerInstances(app));
    app.connectMicroservice({ strategy }, { inheritAppConfig: false });
  }
  await app.startAllMicroservices();
  await app.listen(def.httpPort, config.BIND_HOST);
  logger.info(
    { httpPort: def.httpPort, grpcUrl: (def.grpc?.options as { url?: string } | undefined)?.url },
    `${def.name} listening`,
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${def.name} shutting down`);
    app.get(HealthService).markShuttingDown();
    const timer = setTimeout(() => {
      logger.warn({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'in-flight work did not finish in time; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    try {
      await app.close();
      // After the app: spans of the calls that finished during shutdown are exported too.
      await tracing?.shutdown().catch((e: unknown) => logger.warn({ err: e }, 'flushing traces failed'));
      logger.info(`${def.name} stopped`);
      logger.flush?.();
      process.exit(0);
    } catch (e) {
      logger.error({ err: e }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));
  return app;
}

/** Every controller instance of the app (the gRPC server picks those with gRPC methods). */
function controllerInstances(app: INestApplication): object[] {
  const instances: object[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) if (wrapper.instance) instances.push(wrapper.instance as object);
  }
  return instances;
}

/** Tracing runs only when the OTEL_* variables ask for it; otherwise the OpenTelemetry API stays a no-op. */
function startTracingIfAsked<C extends BaseServiceConfig>(def: ServiceDefinition<C>): Tracing | undefined {
  const settings = resolveTracingSettings(def.config, def.name);
  if (!settings) return undefined;
  const tracing = startTracing(settings);
  def.logger.info({ otlpUrl: settings.url, protocol: settings.protocol, serviceName: settings.serviceName }, 'tracing on: exporting spans over OTLP');
  return tracing;
}
