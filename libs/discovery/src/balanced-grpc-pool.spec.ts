import { PROTO_ROOT } from '@troupe/contracts';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isReadOnly } from './balanced-grpc-pool';

/** Every rpc of the proto contracts, as the clients call it (lowerCamelCase). */
function allRpcs(dir = PROTO_ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return allRpcs(path);
    if (!e.name.endsWith('.proto')) return [];
    return [...readFileSync(path, 'utf8').matchAll(/^\s*rpc\s+(\w+)/gm)].map((m) => m[1][0].toLowerCase() + m[1].slice(1));
  });
}

describe('isReadOnly (which calls the balanced pool may run again on another instance)', () => {
  it("takes every read of Troupe's gRPC services as safe to repeat, and no write", () => {
    const reads = ['generate', 'listModels', 'countTokens', 'embed', 'getRole', 'listRoles', 'listRoleVersions', 'getHistory', 'assembleContext', 'listMemoryBlocks', 'getMemoryBlock', 'recallFacts', 'getCacheStats', 'listTools'];
    const writes = ['loadModel', 'reloadModel', 'unloadModel', 'putRole', 'deleteRole', 'appendHistory', 'putMemoryBlock', 'rememberFact', 'invokeTool'];
    expect(reads.filter((m) => !isReadOnly(m))).toEqual([]);
    expect(writes.filter(isReadOnly)).toEqual([]);
    // A new rpc must be placed on one side here before the pool may retry it or not.
    expect(allRpcs().sort()).toEqual([...reads, ...writes].sort());
  });
});
