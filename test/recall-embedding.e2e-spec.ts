import { roleContext } from '@troupe/contracts';
import { GrpcClient } from '@troupe/grpc';
import { EmbedServer } from './support/embed-server';
import { makeRolesDir } from './support/roles-fixture';
import { ServiceProcess, testPrefix } from './support/service-process';

jest.setTimeout(90_000);

/**
 * Recall memory against an inference service that does embed: a real gRPC server in this test
 * implementing Embed with a deterministic concept embedding (see EmbedServer), so a question
 * with no word in common with the fact still finds it — which keyword search cannot.
 */
describe('recall memory with embeddings', () => {
  const { prefix, cleanup } = testPrefix();
  const roles = makeRolesDir({
    'concierge.json': { id: 'concierge', name: 'Concierge', persona: 'You are the Concierge.', model: 'tiny-decoder', memory: { recallTopK: 1 } },
  });
  let embedder: EmbedServer;
  let service: ServiceProcess;
  let grpc: GrpcClient;

  beforeAll(async () => {
    embedder = await EmbedServer.start();
    service = await ServiceProcess.start('role-context', { REDIS_KEY_PREFIX: prefix, ROLES_DIR: roles.dir, INFERENCE_ADDRESS: embedder.address });
    grpc = service.roleContextClient();
  });

  afterAll(async () => {
    grpc?.close();
    await service?.stop();
    await embedder?.stop();
    await cleanup();
    roles.remove();
  });

  it('stores facts with embeddings and finds them by similarity, saying so', async () => {
    for (const text of ['Bo lives in Porto.', 'Bo has a cat called Miso.', 'Bo drinks espresso every morning.']) {
      const stored = await grpc.unary<unknown, roleContext.RememberFactResponse>('rememberFact', { roleId: 'concierge', userId: 'bo', text });
      expect(stored.embedded).toBe(true);
    }
    expect(embedder.calls.slice(0, 3)).toEqual([['Bo lives in Porto.'], ['Bo has a cat called Miso.'], ['Bo drinks espresso every morning.']]);

    const found = await grpc.unary<unknown, roleContext.RecallFactsResponse>('recallFacts', { roleId: 'concierge', userId: 'bo', query: 'Which town?', topK: 2 });
    expect(found.mode).toBe('embedding');
    expect(found.facts[0]).toMatchObject({ text: 'Bo lives in Porto.' });
    expect(found.facts[0].score).toBeGreaterThan(found.facts[1].score);
    // The same question shares no keyword with the fact: the fallback would have found nothing.
    expect(embedder.calls[embedder.calls.length - 1]).toEqual(['Which town?']);

    const entry = { id: '', speakerKind: 'person', speaker: 'bo', text: 'Any pet advice?', tokenCount: 0, turnId: '', createdAt: '', toolCallsJson: '' };
    await grpc.unary('appendHistory', { sessionId: 'recall-1', entry });
    const context = await grpc.unary<unknown, roleContext.AssembleContextResponse>('assembleContext', { sessionId: 'recall-1', roleId: 'concierge', userId: 'bo' });
    expect(context.recallMode).toBe('embedding');
    expect(context.messages[1]).toEqual({ role: 'system', name: 'recall', content: 'Facts you remember:\n- Bo has a cat called Miso.' });
  });

  it('keeps another person\'s facts out of the search', async () => {
    await grpc.unary('rememberFact', { roleId: 'concierge', userId: 'cy', text: 'Cy lives in Lyon.' });
    const found = await grpc.unary<unknown, roleContext.RecallFactsResponse>('recallFacts', { roleId: 'concierge', userId: 'bo', query: 'Which city?', topK: 5 });
    expect(found.facts.map((f) => f.text)).not.toContain('Cy lives in Lyon.');
    expect(found.facts.map((f) => f.text)).toContain('Bo lives in Porto.');
  });
});
