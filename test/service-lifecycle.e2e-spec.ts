import { spawnSync } from 'node:child_process';
import { mainOf } from './support/service-stack';

describe('service lifecycle', () => {
  it.each([
    ['inference', { INFERENCE_GRPC_PORT: 'abc' }, 'INFERENCE_GRPC_PORT'],
    ['session', { REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
    ['role-context', { LOG_LEVEL: 'chatty' }, 'LOG_LEVEL'],
    ['tool-plugin', { TOOL_PLUGIN_HTTP_PORT: '70000' }, 'TOOL_PLUGIN_HTTP_PORT'],
  ] as const)('%s refuses to start with a wrong variable and names it', (service, env, variable) => {
    const result = spawnSync(process.execPath, [mainOf(service)], {
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(variable);
  });
});
