import { validateChatPayload } from './chat-payload.validator';
import { MessageSendDto, SessionOpenDto } from './dto/chat-payloads.dto';

describe('validateChatPayload', () => {
  it('accepts a good payload', () => {
    expect(validateChatPayload(MessageSendDto, { sessionId: 'abc', text: 'hi' }, 1000)).toMatchObject({ text: 'hi' });
  });

  it.each([
    ['a string', 'hello', '(payload)', 'INVALID_PAYLOAD'],
    ['null', null, '(payload)', 'INVALID_PAYLOAD'],
    ['an array', [1], '(payload)', 'INVALID_PAYLOAD'],
    ['no text', { sessionId: 'abc' }, 'text', 'INVALID_PAYLOAD'],
    ['empty text', { sessionId: 'abc', text: '' }, 'text', 'INVALID_PAYLOAD'],
    ['a bad session id', { sessionId: 'a b', text: 'x' }, 'sessionId', 'INVALID_PAYLOAD'],
    ['an unknown field', { sessionId: 'abc', text: 'x', admin: true }, 'admin', 'INVALID_PAYLOAD'],
    ['too many bytes', { sessionId: 'abc', text: 'x'.repeat(2000) }, '(payload)', 'PAYLOAD_TOO_LARGE'],
  ])('rejects %s naming the field', (_, payload, field, code) => {
    expect(() => validateChatPayload(MessageSendDto, payload, 1000)).toThrow(expect.objectContaining({ field, code }));
  });

  it('checks each role id', () => {
    expect(() => validateChatPayload(SessionOpenDto, { roles: ['ok', 'NOT OK'] }, 1000)).toThrow(expect.objectContaining({ field: 'roles' }));
    expect(() => validateChatPayload(SessionOpenDto, { roles: [] }, 1000)).toThrow(expect.objectContaining({ field: 'roles' }));
  });
});
