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
});
