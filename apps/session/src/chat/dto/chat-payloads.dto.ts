import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsInt, IsOptional, IsString, Matches, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';
import { SessionPolicyDto } from '../../director/session-policy';

const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;
const ROLE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export class SessionOpenDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(64)
  @Matches(ROLE_ID, { each: true, message: 'each role must be a role id (lowercase letters, digits, "-")' })
  roles!: string[];

  @IsOptional()
  @ValidateNested()
  @Type(() => SessionPolicyDto)
  policy?: SessionPolicyDto;
}

export class SessionJoinDto {
  @Matches(SESSION_ID, { message: 'sessionId must be 1-64 letters, digits, "_" or "-"' })
  sessionId!: string;

  @IsOptional()
  @IsInt({ message: 'lastSeq must be an integer' })
  @Min(0)
  lastSeq?: number;
}

export class MessageSendDto {
  @Matches(SESSION_ID, { message: 'sessionId must be 1-64 letters, digits, "_" or "-"' })
  sessionId!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(16_000)
  text!: string;
}

export class ReplyCancelDto {
  @Matches(SESSION_ID, { message: 'sessionId must be 1-64 letters, digits, "_" or "-"' })
  sessionId!: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  turnId?: string;
}

export class SessionInviteDto {
  @Matches(SESSION_ID, { message: 'sessionId must be 1-64 letters, digits, "_" or "-"' })
  sessionId!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(128)
  userId!: string;
}

export class ApprovalRespondDto {
  @Matches(SESSION_ID, { message: 'sessionId must be 1-64 letters, digits, "_" or "-"' })
  sessionId!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(200)
  callId!: string;

  @IsBoolean()
  approved!: boolean;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  note?: string;
}
