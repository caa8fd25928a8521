import { INFERENCE_CONTRACT, inference } from '@troupe/contracts';
import { BalancedGrpcPool, BalancingPolicy, routeByModelField } from '@troupe/discovery';
import { Redis, RedisSubscriber } from '@troupe/redis';
import { generateRequest } from './generate-request';
import { TEST_REDIS_URL } from './redis-cleanup';

/**
 * A balanced pool over the inference instances registered under a test's key prefix, as
 * session's PeersModule opens it with DISCOVERY=redis; close() also closes its Redis connections.
 */
export function openInferencePool(prefix: string, balancing: BalancingPolicy, heartbeatMs = 1000): BalancedGrpcPool & { closeAll(): void } {
  const redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix });
  const subscriber = new RedisSubscriber(redis.duplicate({ keyPrefix: '', lazyConnect: true }));
  const pool = BalancedGrpcPool.open(redis, subscriber, { balancing, cooldownMs: 5000, heartbeatMs }, 'inference', {
    contract: INFERENCE_CONTRACT,
    defaultDeadlineMs: 60_000,
    modelOf: routeByModelField(['generate', 'embed']),
  });
  return Object.assign(pool, {
    closeAll: () => {
      pool.close();
      void subscriber.close();
      redis.disconnect();
    },
  });
}

/** Streams one generation through the pool: its text and token count, and the error that ended it if one did. */
export async function generateThrough(pool: BalancedGrpcPool, model: string, tokens: number, onToken?: () => void): Promise<{ text: string; tokens: number; error?: Error }> {
  let text = '';
  let count = 0;
  try {
    for await (const m of pool.serverStream<inference.GenerateRequest, inference.GenerateResponse>('generate', generateRequest(model, [{ role: 'user', name: '', content: 'Go.' }], tokens))) {
      if (m.token) {
        text += m.token.text;
        count += m.token.tokenIds.length || 1;
        onToken?.();
      }
    }
    return { text, tokens: count };
  } catch (e) {
    return { text, tokens: count, error: e as Error };
  }
}
