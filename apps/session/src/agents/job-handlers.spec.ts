import { AgentRunPayload } from '@troupe/domain';
import { assertHandlersCover, validatePayload } from './job-handlers';

describe('job handler map', () => {
  it('refuses a queue whose job kinds lack a handler, naming them', () => {
    expect(() => assertHandlersCover('agent-runs', {})).toThrow('queue agent-runs: no handler for job kind(s) agent.run');
    expect(() => assertHandlersCover('agent-runs', { 'agent.run': async () => undefined })).not.toThrow();
  });

  it('validates a payload against the typed map, naming nested fields', async () => {
    await expect(validatePayload(AgentRunPayload, { role: 'helper', task: 'x', retry: { attempts: 0, backoffMs: 10 } })).rejects.toThrow(
      'INVALID_PAYLOAD: retry.attempts: attempts must not be less than 1',
    );
    await expect(validatePayload(AgentRunPayload, { role: 'helper', task: 'x', deadline: 'tomorrow' })).rejects.toThrow('deadline');
    await expect(validatePayload(AgentRunPayload, { role: 'helper', task: 'x', inputs: { a: 1 } })).resolves.toMatchObject({ role: 'helper' });
  });
});
