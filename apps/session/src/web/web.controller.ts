import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { RoleContextClient } from '../peers/role-context.client';
import { CHAT_PAGE_HTML } from './chat-page';

@Controller()
export class WebController {
  constructor(private readonly roleContext: RoleContextClient) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  chatPage(): string {
    return CHAT_PAGE_HTML;
  }

  /** The roles a chat can cast, for the page's picker. */
  @Get('api/roles')
  @UseGuards(BearerAuthGuard)
  async roles(): Promise<{ roles: { id: string; name: string; description: string }[] }> {
    const { roles } = await this.roleContext.listRoles();
    return { roles: roles.map((r) => ({ id: r.id, name: r.name, description: r.description })) };
  }
}
