import { ManifestError, Obj, isObj, manifestFields } from '../runtime/manifest-fields';
import { CircuitBreakerOptions, DEFAULT_BREAKER } from './circuit-breaker';
import { DEFAULT_RETRY, RetryOptions } from './retry-policy';

/**
 * manifest.json of a `router` model: a name roles can use that sends each request to other
 * models served here. Either `primary` with ordered `fallbacks`, or a weighted `split`:
 * { name, version, kind: "router", primary: "a", fallbacks?: ["b", …] }
 * { name, version, kind: "router", split: [{ model: "a", weight: 3 }, { model: "b", weight: 1 }] }
 * plus optional retry { maxAttempts, baseDelayMs, maxDelayMs } and breaker
 * { windowSize, minRequests, failureRate, openMs }.
 */
export interface RouterManifest {
  name: string;
  version: string;
  kind: 'router';
  contextLength: number;
  strategy: 'fallback' | 'weighted';
  /** Targets in fallback order (strategy "fallback") or with their weights ("weighted"). */
  targets: { model: string; weight: number }[];
  retry: RetryOptions;
  breaker: CircuitBreakerOptions;
}

const KIND = 'router';

export function parseRouterManifest(json: unknown): RouterManifest {
  const fail = (field: string, problem: string) => new ManifestError(KIND, field, problem);
  const { str, posInt } = manifestFields(fail);
  if (!isObj(json)) throw fail('(manifest)', 'must be an object');
  if (json.kind !== KIND) throw fail('kind', `must be "${KIND}"`);
  const name = str(json, 'name');
  if ((json.primary === undefined) === (json.split === undefined)) throw fail('primary', 'or "split" must be given (exactly one of them)');
  let targets: RouterManifest['targets'];
  if (json.primary !== undefined) {
    const fallbacks = json.fallbacks ?? [];
    if (!Array.isArray(fallbacks) || !fallbacks.every((f) => typeof f === 'string' && f.length > 0)) throw fail('fallbacks', 'must be an array of model names');
    targets = [str(json, 'primary'), ...(fallbacks as string[])].map((model) => ({ model, weight: 1 }));
  } else {
    const split = json.split;
    if (!Array.isArray(split) || split.length === 0) throw fail('split', 'must be a non-empty array of { model, weight }');
    targets = split.map((t, i) => {
      if (!isObj(t) || typeof t.model !== 'string' || !t.model) throw fail(`split[${i}].model`, 'must be a model name');
      if (typeof t.weight !== 'number' || !(t.weight > 0)) throw fail(`split[${i}].weight`, 'must be a positive number');
      return { model: t.model, weight: t.weight };
    });
  }
  const models = targets.map((t) => t.model);
  if (models.includes(name)) throw fail('primary', 'must not route to the router itself');
  if (new Set(models).size !== models.length) throw fail(json.split ? 'split' : 'fallbacks', 'must not name a model twice');
  const section = (field: string): Obj => {
    const v = json[field] ?? {};
    if (!isObj(v)) throw fail(field, 'must be an object');
    return v;
  };
  const retry = section('retry');
  const breaker = section('breaker');
  const nonNegInt = (o: Obj, field: string, path: string, fallback: number) => {
    const v = o[field] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw fail(path, 'must be a non-negative integer');
    return v;
  };
  const rate = breaker.failureRate ?? DEFAULT_BREAKER.failureRate;
  if (typeof rate !== 'number' || !(rate > 0 && rate <= 1)) throw fail('breaker.failureRate', 'must be a number in (0, 1]');
  const at = (prefix: string) => (f: string) => fail(`${prefix}.${f}`, 'must be a positive integer');
  return {
    name,
    version: String(json.version ?? '1'),
    kind: KIND,
    contextLength: posInt(json, 'contextLength', 8192),
    strategy: json.split ? 'weighted' : 'fallback',
    targets,
    retry: {
      maxAttempts: manifestFields(at('retry')).posInt(retry, 'maxAttempts', DEFAULT_RETRY.maxAttempts),
      baseDelayMs: nonNegInt(retry, 'baseDelayMs', 'retry.baseDelayMs', DEFAULT_RETRY.baseDelayMs),
      maxDelayMs: nonNegInt(retry, 'maxDelayMs', 'retry.maxDelayMs', DEFAULT_RETRY.maxDelayMs),
    },
    breaker: {
      windowSize: manifestFields(at('breaker')).posInt(breaker, 'windowSize', DEFAULT_BREAKER.windowSize),
      minRequests: manifestFields(at('breaker')).posInt(breaker, 'minRequests', DEFAULT_BREAKER.minRequests),
      failureRate: rate,
      openMs: manifestFields(at('breaker')).posInt(breaker, 'openMs', DEFAULT_BREAKER.openMs),
    },
  };
}
