import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsInt, IsOptional, IsString, Matches, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';
import { SessionPolicyDto } from '../../director/session-policy';
import { ROLE_ID_PATTERN, SESSION_ID_PATTERN } from '@troupe/domain';


export class SessionOpenDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(64)
  @Matches(ROLE_ID_PATTERN, { each: true, message: 'each role must be a role id (lowercase letters, digits, "-")' })
  roles!: string[];

  @IsOptional()
  @ValidateNested()
  @Type(() => SessionPolicyDto)
  policy?: SessionPolicyDto;
}

export class SessionJoinDto {
  @Matches(SESSION_ID_PATTERN, { message: 'sessionId must be 1-64 letters, digits, "_" or "-"' })
  sessionId!: string;

  @IsOptional()
  @IsInt({ message: 'lastSeq must be an integer' })
  @Min(0)
  lastSeq?: number;
}

export class MessageSendDto {
  @Matches(SESSION_ID_PATTERN, { message: 'sessionId must be 1-64 letters, digits, "_" or "-"' })
  sessionId!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(16_000)
  text!: string;
}

export class ReplyCancelDto {
  @Matches(SESSION_ID_PATTERN, { message: 'sessionId must be 1-64 letters, digits, "_" or "-"' })
  sessionId!: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  turnId?: string;
}

export class SessionInviteDto {
  @Matches(SESSION_ID_PATTERN, { message: 'sessionId must be 1-64 letters, digits, "_" or "-"' })
  sessionId!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(128)
  userId!: string;
}

/** A person's answer to a tool call waiting for approval (REST body; the socket event adds where). */
export class ApprovalDecisionDto {
  @IsBoolean()
  approved!: boolean;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  note?: string;
}

export class ApprovalRespondDto extends ApprovalDecisionDto {
  @Matches(SESSION_ID_PATTERN, { message: 'sessionId must be 1-64 letters, digits, "_" or "-"' })
  sessionId!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(200)
  callId!: string;
}
