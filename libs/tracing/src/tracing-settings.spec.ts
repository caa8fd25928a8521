import { BaseServiceConfig, ConfigValidationError, loadConfig } from '@troupe/config';
import { OtelEnvironment, parseResourceAttributes, resolveTracingSettings } from './tracing-settings';

const env = (over: Partial<OtelEnvironment> = {}): OtelEnvironment => ({ ...loadConfig(BaseServiceConfig, {}), ...over });

describe('resolveTracingSettings', () => {
  it('is off by default', () => {
    expect(resolveTracingSettings(env(), 'session')).toBeUndefined();
  });

  it('turns on with an OTLP endpoint: spans go to <endpoint>/v1/traces as protobuf, named after the service', () => {
    expect(resolveTracingSettings(env({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }), 'inference')).toEqual({
      serviceName: 'inference',
      resourceAttributes: {},
      url: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
    });
  });

  it('takes the traces endpoint as it is, and the traces protocol over the general one', () => {
    const settings = resolveTracingSettings(
      env({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otel.example/ingest',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      }),
      'session',
    );
    expect(settings).toMatchObject({ url: 'https://otel.example/ingest', protocol: 'http/json' });
  });

  it('turns on with OTEL_TRACES_EXPORTER=otlp alone, sending to the spec default endpoint', () => {
    expect(resolveTracingSettings(env({ OTEL_TRACES_EXPORTER: 'otlp' }), 'session')).toMatchObject({ url: 'http://localhost:4318/v1/traces' });
  });

  it('stays off with OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED, endpoint or not', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(resolveTracingSettings(env({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }), 'session')).toBeUndefined();
    expect(resolveTracingSettings(env({ ...endpoint, OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: true }), 'session')).toBeUndefined();
  });

  it('uses OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES', () => {
    const settings = resolveTracingSettings(
      env({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SERVICE_NAME: 'troupe-session-eu', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,team=stage%20crew' }),
      'session',
    );
    expect(settings).toMatchObject({ serviceName: 'troupe-session-eu', resourceAttributes: { 'deployment.environment': 'prod', team: 'stage crew' } });
  });
});

describe('parseResourceAttributes', () => {
  it('skips pairs without a key or with a broken escape', () => {
    expect(parseResourceAttributes('a=1,=2,novalue,b=%E0%A4%A,c= x ')).toEqual({ a: '1', c: 'x' });
  });
});

describe('OTEL variables in the service config', () => {
  it.each([
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc'],
    ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'http/xml'],
    ['OTEL_TRACES_EXPORTER', 'console'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
    ['OTEL_SDK_DISABLED', 'yes'],
  ])('refuses %s=%s, naming the variable', (variable, value) => {
    expect(() => loadConfig(BaseServiceConfig, { [variable]: value })).toThrow(ConfigValidationError);
    expect(() => loadConfig(BaseServiceConfig, { [variable]: value })).toThrow(new RegExp(`${variable}=`));
  });
});
