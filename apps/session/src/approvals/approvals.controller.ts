import { Body, Controller, HttpCode, Param, Post, Req, UseFilters, UseGuards, UsePipes, ValidationPipe } from '@nestjs/common';
import type { Request } from 'express';
import { AuthService } from '../auth/auth.service';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { Principal } from '../auth/principal';
import { ChatExceptionFilter } from '../chat/chat-exception.filter';
import { ApprovalDecisionDto } from '../chat/dto/chat-payloads.dto';
import { ApprovalsService } from './approvals.service';

/** The REST way to answer a tool call waiting for approval (the socket way is `approval.respond`). */
@Controller('api/sessions/:sessionId/approvals')
@UseGuards(BearerAuthGuard)
@UseFilters(ChatExceptionFilter)
export class ApprovalsController {
  constructor(
    private readonly approvals: ApprovalsService,
    private readonly auth: AuthService,
  ) {}

  @Post(':callId')
  @HttpCode(200)
  @UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }))
  async decide(
    @Param('sessionId') sessionId: string,
    @Param('callId') callId: string,
    @Body() body: ApprovalDecisionDto,
    @Req() request: Request & { principal?: Principal },
  ): Promise<{ callId: string; approved: boolean }> {
    const principal = request.principal ?? (await this.auth.authenticate(undefined, 'operator'));
    await this.approvals.respond(sessionId, callId, body.approved, body.note ?? '', principal);
    return { callId, approved: body.approved };
  }
}
