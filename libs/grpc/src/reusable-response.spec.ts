import * as protoLoader from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS, PROTO_ROOT, ROLE_CONTEXT_CONTRACT } from '@troupe/contracts';
import { join } from 'node:path';
import { isReusableResponse, reusableResponse, reuseEncodedResponses } from './reusable-response';

// The real role-context contract, loaded the way the gRPC server loads it.
function assembleContextMethod(): protoLoader.MethodDefinition<object, object> {
  const definition = reuseEncodedResponses(protoLoader.loadSync(join(PROTO_ROOT, ROLE_CONTEXT_CONTRACT.protoFile), { ...PROTO_LOADER_OPTIONS }));
  const service = definition[`${ROLE_CONTEXT_CONTRACT.packageName}.${ROLE_CONTEXT_CONTRACT.serviceName}`] as protoLoader.ServiceDefinition;
  return service.AssembleContext as protoLoader.MethodDefinition<object, object>;
}

const answer = () => ({
  messages: [{ role: 'system', name: 'Guide', content: 'You guide.' }],
  historyEntries: 0,
  tokenCount: 12,
  tokenBudget: 2000,
  tokenizer: 'estimate',
  cached: true,
});

describe('reusable responses', () => {
  it('are encoded once and sent as the same bytes, which decode to the answer', () => {
    const method = assembleContextMethod();
    const response = reusableResponse(answer());
    const first = method.responseSerialize(response);
    expect(method.responseSerialize(response)).toBe(first);
    expect(method.responseDeserialize(first)).toMatchObject(answer());
    expect(isReusableResponse(response)).toBe(true);
    expect(Object.isFrozen(response)).toBe(true);
  });

  it('leave ordinary responses encoded afresh on every call', () => {
    const method = assembleContextMethod();
    const plain = answer();
    const first = method.responseSerialize(plain);
    plain.tokenCount = 13;
    const second = method.responseSerialize(plain);
    expect(second).not.toBe(first);
    expect(method.responseDeserialize(second)).toMatchObject({ tokenCount: 13 });
    expect(isReusableResponse(plain)).toBe(false);
  });

  it('are encoded again by another method (another message type), never sent as the wrong bytes', () => {
    const a = assembleContextMethod();
    const b = assembleContextMethod(); // a second server loading the same contract
    const response = reusableResponse(answer());
    const fromA = a.responseSerialize(response);
    const fromB = b.responseSerialize(response);
    expect(fromB).not.toBe(fromA);
    expect(Buffer.compare(fromA, fromB)).toBe(0);
  });
});
