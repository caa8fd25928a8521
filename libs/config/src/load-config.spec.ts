import { IsInt, Max, Min } from 'class-validator';
import { BaseServiceConfig } from './base-service.config';
import { ConfigValidationError, loadConfig } from './load-config';

class DemoConfig extends BaseServiceConfig {
  @IsInt()
  @Min(1)
  @Max(65535)
  DEMO_PORT = 4000;
}

describe('loadConfig', () => {
  it('uses defaults when variables are unset', () => {
    const config = loadConfig(DemoConfig, {});
    expect(config.DEMO_PORT).toBe(4000);
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
  });

  it('converts and validates values from the environment', () => {
    const config = loadConfig(DemoConfig, { DEMO_PORT: '5001', LOG_LEVEL: 'debug' });
    expect(config.DEMO_PORT).toBe(5001);
    expect(config.LOG_LEVEL).toBe('debug');
  });

  it('names every wrong variable', () => {
    let error: unknown;
    try {
      loadConfig(DemoConfig, { DEMO_PORT: 'ninety', REDIS_URL: 'localhost', LOG_LEVEL: 'loud' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const message = (error as Error).message;
    expect(message).toContain('DEMO_PORT="ninety"');
    expect(message).toContain('REDIS_URL="localhost"');
    expect(message).toContain('LOG_LEVEL="loud"');
  });

  it('rejects a port out of range', () => {
    expect(() => loadConfig(DemoConfig, { DEMO_PORT: '70000' })).toThrow(/DEMO_PORT="70000".*65535/);
  });

  it('validates the discovery settings, naming each wrong one', () => {
    const config = loadConfig(DemoConfig, { DISCOVERY: 'redis', BALANCING: 'round-robin', DISCOVERY_HEARTBEAT_MS: '500', DISCOVERY_TTL_MS: '1500' });
    expect(config).toMatchObject({ DISCOVERY: 'redis', BALANCING: 'round-robin', DISCOVERY_TTL_MS: 1500, DISCOVERY_COOLDOWN_MS: 5000 });
    expect(() => loadConfig(DemoConfig, { DISCOVERY: 'consul' })).toThrow(/DISCOVERY="consul": must be one of static, redis/);
    expect(() => loadConfig(DemoConfig, { BALANCING: 'random' })).toThrow(/BALANCING="random"/);
    expect(() => loadConfig(DemoConfig, { DISCOVERY_HEARTBEAT_MS: '2000', DISCOVERY_TTL_MS: '3000' })).toThrow(/DISCOVERY_TTL_MS="3000": must be at least twice DISCOVERY_HEARTBEAT_MS/);
    expect(() => loadConfig(DemoConfig, { ADVERTISE_ADDRESS: 'no-port' })).toThrow(/ADVERTISE_ADDRESS="no-port": must be host:port/);
  });
});
