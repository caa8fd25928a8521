import { loadConfig } from '@troupe/config';
import { InferenceConfig } from './inference.config';

describe('InferenceConfig', () => {
  it('reads INFERENCE_STREAM_INTERVAL_MS and names it when the value is wrong', () => {
    expect(loadConfig(InferenceConfig, {}).INFERENCE_STREAM_INTERVAL_MS).toBeGreaterThan(0);
    expect(loadConfig(InferenceConfig, { INFERENCE_STREAM_INTERVAL_MS: '0' }).INFERENCE_STREAM_INTERVAL_MS).toBe(0);
    expect(loadConfig(InferenceConfig, { INFERENCE_STREAM_INTERVAL_MS: '120' }).INFERENCE_STREAM_INTERVAL_MS).toBe(120);
    expect(() => loadConfig(InferenceConfig, { INFERENCE_STREAM_INTERVAL_MS: '-1' })).toThrow(/INFERENCE_STREAM_INTERVAL_MS="-1"/);
    expect(() => loadConfig(InferenceConfig, { INFERENCE_STREAM_INTERVAL_MS: 'soon' })).toThrow(/INFERENCE_STREAM_INTERVAL_MS="soon"/);
    expect(() => loadConfig(InferenceConfig, { INFERENCE_STREAM_INTERVAL_MS: '5000' })).toThrow(/INFERENCE_STREAM_INTERVAL_MS="5000".*1000/);
  });
});
