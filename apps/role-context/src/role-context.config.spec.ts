import { loadConfig } from '@troupe/config';
import { RoleContextConfig } from './role-context.config';

describe('RoleContextConfig', () => {
  it('reads HISTORY_TTL_SECONDS and names it when the value is wrong', () => {
    expect(loadConfig(RoleContextConfig, {}).HISTORY_TTL_SECONDS).toBeGreaterThan(0);
    expect(loadConfig(RoleContextConfig, { HISTORY_TTL_SECONDS: '0' }).HISTORY_TTL_SECONDS).toBe(0);
    expect(loadConfig(RoleContextConfig, { HISTORY_TTL_SECONDS: '120' }).HISTORY_TTL_SECONDS).toBe(120);
    expect(() => loadConfig(RoleContextConfig, { HISTORY_TTL_SECONDS: '-1' })).toThrow(/HISTORY_TTL_SECONDS="-1"/);
    expect(() => loadConfig(RoleContextConfig, { HISTORY_TTL_SECONDS: 'soon' })).toThrow(/HISTORY_TTL_SECONDS="soon"/);
  });
});
