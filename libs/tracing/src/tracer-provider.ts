import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { TracingSettings } from './tracing-settings';

/** Tracing of one process once started: flush and stop it on shutdown. */
export interface Tracing {
  readonly settings: TracingSettings;
  /** Exports the spans still buffered, then stops; the process's tracer is a no-op afterwards. */
  shutdown(): Promise<void>;
}

export interface StartTracingOptions {
  /** Replaces the batching processor (tests export synchronously to an in-memory exporter). */
  spanProcessor?: SpanProcessor;
}

/**
 * Registers the process-wide tracer provider, context manager (AsyncLocalStorage) and W3C
 * propagators, exporting over OTLP/HTTP in batches. Batch size, delay and queue bound follow
 * the OTEL_BSP_* variables; sampling follows OTEL_TRACES_SAMPLER(_ARG) (default: always on,
 * honouring the caller's sampled flag); headers, timeout and compression of the exporter follow
 * OTEL_EXPORTER_OTLP_(TRACES_)HEADERS/TIMEOUT/COMPRESSION — the SDK reads those itself.
 */
/** Whether this process exports spans: while it does not, per-call instrumentation steps aside. */
let tracingOn = false;

export function isTracing(): boolean {
  return tracingOn;
}

export function startTracing(settings: TracingSettings, options: StartTracingOptions = {}): Tracing {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ ...settings.resourceAttributes, [ATTR_SERVICE_NAME]: settings.serviceName }),
    spanProcessors: [options.spanProcessor ?? new BatchSpanProcessor(otlpExporter(settings))],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  trace.setGlobalTracerProvider(provider);
  tracingOn = true;
  return {
    settings,
    shutdown: async () => {
      try {
        await provider.shutdown();
      } finally {
        tracingOn = false;
        trace.disable();
        propagation.disable();
        context.disable();
      }
    },
  };
}

/** Tracing into memory, each span exported as it ends: for tests that look at spans. */
export function startInMemoryTracing(serviceName = 'test'): { tracing: Tracing; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  const settings: TracingSettings = { serviceName, resourceAttributes: {}, url: 'memory:', protocol: 'http/json' };
  return { tracing: startTracing(settings, { spanProcessor: new SimpleSpanProcessor(exporter) }), exporter };
}

function otlpExporter(settings: TracingSettings): SpanExporter {
  const config = { url: settings.url };
  return settings.protocol === 'http/json' ? new OtlpJsonTraceExporter(config) : new OtlpProtobufTraceExporter(config);
}
