import { ConcurrentInputPolicy, ROLE_ID_PATTERN, SessionPolicy, TurnPolicy } from '@troupe/domain';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength, ValidateIf } from 'class-validator';

export const TURN_POLICIES: TurnPolicy[] = ['single', 'round-robin', 'selector', 'handoff'];
export const CONCURRENT_INPUT_POLICIES: ConcurrentInputPolicy[] = ['enqueue', 'reject', 'interrupt', 'rollback'];

/** The policy fields a client may set when opening a session; all optional. */
export class SessionPolicyDto {
  @IsOptional()
  @IsIn(TURN_POLICIES)
  turnPolicy?: TurnPolicy;

  @IsOptional()
  @IsIn(CONCURRENT_INPUT_POLICIES)
  concurrentInput?: ConcurrentInputPolicy;

  /** 0 means "one reply per role of the cast". */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(64)
  maxTurnsPerMessage?: number;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(32)
  maxToolCallsPerTurn?: number;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(200, { each: true })
  terminationPhrases?: string[];

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  tokenBudget?: number;

  @IsOptional()
  @ValidateIf((p: SessionPolicyDto) => p.moderator !== '')
  @Matches(ROLE_ID_PATTERN, { message: 'moderator must be a role id' })
  moderator?: string;

  @IsOptional()
  @IsBoolean()
  followLatestRoles?: boolean;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = {
  turnPolicy: 'round-robin',
  concurrentInput: 'enqueue',
  maxTurnsPerMessage: 0,
  maxToolCallsPerTurn: 4,
  terminationPhrases: [],
  tokenBudget: 4096,
  moderator: '',
  followLatestRoles: false,
};

export function resolvePolicy(requested: Partial<SessionPolicy> | undefined): SessionPolicy {
  const defined = Object.fromEntries(Object.entries(requested ?? {}).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_SESSION_POLICY, ...defined };
}
