import { ChatError, ChatErrorCode } from '@troupe/domain';

/** An error a chat client is told about, with a code and the field to blame. */
export class ChatException extends Error {
  constructor(
    readonly code: ChatErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ChatException';
  }

  toChatError(event?: string): ChatError {
    return { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}), ...(event ? { event } : {}) };
  }
}
