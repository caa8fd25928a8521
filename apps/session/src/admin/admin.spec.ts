import { HttpException } from '@nestjs/common';
import { GrpcCallError, GrpcStatus } from '@troupe/grpc';
import { AgentRunError } from '../agents/agent-runs.service';
import { AdminHttpError, toAdminError } from './admin-errors';
import { parseApiKeys, roleAllows } from './admin-roles';
import { diffRoles } from './roles-admin.service';

describe('admin roles', () => {
  it('ranks admin over operator over viewer', () => {
    expect(roleAllows(['admin'], 'viewer')).toBe(true);
    expect(roleAllows(['operator'], 'operator')).toBe(true);
    expect(roleAllows(['viewer'], 'operator')).toBe(false);
    expect(roleAllows(['chat-user'], 'viewer')).toBe(false);
    expect(roleAllows([], 'viewer')).toBe(false);
  });

  it('reads API keys from name:role:key entries', () => {
    const keys = parseApiKeys('ops:admin:aaaaaaaaaaaaaaaaaaaaaaaa,dash:viewer:bbbbbbbbbbbbbbbbbbbbbbbb');
    expect(keys.get('bbbbbbbbbbbbbbbbbbbbbbbb')).toEqual({ id: 'key:dash', via: 'api-key', roles: ['viewer'] });
  });
});

describe('admin errors', () => {
  it('maps every error kind to status, code, message and fields', () => {
    expect(toAdminError(new AdminHttpError(400, 'INVALID_REQUEST', 'x: bad', [{ field: 'x', message: 'bad' }]))).toEqual({ statusCode: 400, code: 'INVALID_REQUEST', message: 'x: bad', fields: [{ field: 'x', message: 'bad' }] });
    expect(toAdminError(new AgentRunError('UNKNOWN_RUN', 'no run'))).toMatchObject({ statusCode: 404, code: 'UNKNOWN_RUN', fields: [{ field: 'runId' }] });
    expect(toAdminError(new GrpcCallError('getRole', GrpcStatus.NOT_FOUND, 'role "x" does not exist'))).toMatchObject({ statusCode: 404, code: 'NOT_FOUND', message: 'role "x" does not exist' });
    expect(toAdminError(new HttpException('Cannot GET /admin/x', 404))).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
    expect(toAdminError(new Error('secret detail'))).toEqual({ statusCode: 500, code: 'INTERNAL', message: 'internal error', fields: [] });
  });
});

describe('diffRoles', () => {
  it('lists the fields that changed, version aside', () => {
    expect(diffRoles({ version: 1, persona: 'a', tools: ['x'], name: 'N' }, { version: 2, persona: 'b', tools: ['x'], name: 'N' })).toEqual([{ field: 'persona', from: 'a', to: 'b' }]);
  });
});
