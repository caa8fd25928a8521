import { loadConfig } from '@troupe/config';
import { SessionConfig } from './session.config';

describe('SessionConfig', () => {
  it('reads TOKEN_STREAM_INTERVAL_MS and names it when the value is wrong', () => {
    expect(loadConfig(SessionConfig, {}).TOKEN_STREAM_INTERVAL_MS).toBeGreaterThan(0);
    expect(loadConfig(SessionConfig, { TOKEN_STREAM_INTERVAL_MS: '0' }).TOKEN_STREAM_INTERVAL_MS).toBe(0);
    expect(loadConfig(SessionConfig, { TOKEN_STREAM_INTERVAL_MS: '120' }).TOKEN_STREAM_INTERVAL_MS).toBe(120);
    expect(() => loadConfig(SessionConfig, { TOKEN_STREAM_INTERVAL_MS: '-1' })).toThrow(/TOKEN_STREAM_INTERVAL_MS="-1"/);
    expect(() => loadConfig(SessionConfig, { TOKEN_STREAM_INTERVAL_MS: 'soon' })).toThrow(/TOKEN_STREAM_INTERVAL_MS="soon"/);
    expect(() => loadConfig(SessionConfig, { TOKEN_STREAM_INTERVAL_MS: '5000' })).toThrow(/TOKEN_STREAM_INTERVAL_MS="5000".*1000/);
  });

  it('reads TOKEN_STREAM_INTERVAL_MAX_MS and names it when the value is wrong', () => {
    expect(loadConfig(SessionConfig, {}).TOKEN_STREAM_INTERVAL_MAX_MS).toBeGreaterThan(loadConfig(SessionConfig, {}).TOKEN_STREAM_INTERVAL_MS);
    expect(loadConfig(SessionConfig, { TOKEN_STREAM_INTERVAL_MAX_MS: '0' }).TOKEN_STREAM_INTERVAL_MAX_MS).toBe(0);
    expect(() => loadConfig(SessionConfig, { TOKEN_STREAM_INTERVAL_MAX_MS: '-5' })).toThrow(/TOKEN_STREAM_INTERVAL_MAX_MS="-5"/);
    expect(() => loadConfig(SessionConfig, { TOKEN_STREAM_INTERVAL_MAX_MS: '9000' })).toThrow(/TOKEN_STREAM_INTERVAL_MAX_MS="9000".*5000/);
  });
});
