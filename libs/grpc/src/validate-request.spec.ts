import { IsInt, Matches, Min } from 'class-validator';
import { ValidatedRequests, validateGrpcRequest } from './validate-request';

class LookupDto {
  @Matches(/^[a-z]+$/, { message: 'must be lowercase letters' })
  id!: string;

  @IsInt()
  @Min(0)
  version = 0;
}

describe('validateGrpcRequest', () => {
  it('answers INVALID_ARGUMENT naming the field', () => {
    expect(() => validateGrpcRequest(LookupDto, { id: 'A1', version: 0 })).toThrow(/id: must be lowercase letters/);
  });
});

describe('ValidatedRequests', () => {
  it('answers a repeated valid request with the same frozen DTO', () => {
    const requests = new ValidatedRequests(LookupDto);
    const first = requests.validate({ id: 'guide', version: 2 });
    expect(first).toBeInstanceOf(LookupDto);
    expect(first).toMatchObject({ id: 'guide', version: 2 });
    expect(requests.validate({ id: 'guide', version: 2 })).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(requests.validate({ id: 'guide', version: 3 })).not.toBe(first);
  });

  it('rejects an invalid request every time it is sent (never remembers it as valid)', () => {
    const requests = new ValidatedRequests(LookupDto);
    for (let i = 0; i < 2; i++) expect(() => requests.validate({ id: 'guide', version: -1 })).toThrow(/version: version must not be less than 0/);
  });

  it('stays within its bound, dropping the oldest', () => {
    const requests = new ValidatedRequests(LookupDto, 2);
    const a = requests.validate({ id: 'a', version: 0 });
    requests.validate({ id: 'b', version: 0 });
    requests.validate({ id: 'c', version: 0 });
    expect(requests.validate({ id: 'a', version: 0 })).not.toBe(a); // validated again
  });
});
