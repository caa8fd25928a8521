import { IsBoolean, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

const ID = /^[A-Za-z0-9_.:-]*$/;
const ID_MESSAGE = { message: 'may hold only letters, digits, ".", ":", "_" and "-"' };

export class ListToolsDto {
  @IsString() @MaxLength(128) @Matches(ID, ID_MESSAGE) roleId = '';
  @IsString() @MaxLength(128) @Matches(ID, ID_MESSAGE) sessionId = '';
  @IsString() @MaxLength(128) @Matches(ID, ID_MESSAGE) turnId = '';
}

export class InvokeToolDto {
  @IsString() @MaxLength(128) callId = '';
  @IsString() @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'must be a tool name (letters, digits, "_" and "-", at most 64)' }) tool = '';
  @IsString() @MaxLength(1024 * 1024) argumentsJson = '';
  @IsString() @MaxLength(128) @Matches(ID, ID_MESSAGE) roleId = '';
  @IsString() @MaxLength(128) @Matches(ID, ID_MESSAGE) sessionId = '';
  @IsString() @MaxLength(128) @Matches(ID, ID_MESSAGE) turnId = '';
  @IsString() @MaxLength(128) userId = '';
  @IsOptional() @IsBoolean() approved = false;
}
