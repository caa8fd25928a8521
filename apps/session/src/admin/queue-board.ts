import { INestApplication } from '@nestjs/common';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { NextFunction, Request, Response } from 'express';
import { AgentQueues } from '../agents/agent-queues';
import { AdminAuthGuard } from './admin-auth.guard';
import { toAdminError } from './admin-errors';
import { roleAllows } from './admin-roles';

export const QUEUE_BOARD_PATH = '/admin/queues';

/**
 * Bull Board over every agent queue at /admin/queues, behind the admin auth: viewers look,
 * operators act (retry, clean, pause...). Errors in the admin API's format.
 */
export function setupQueueBoard(app: INestApplication): void {
  const guard = app.get(AdminAuthGuard);
  const board = new ExpressAdapter();
  board.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({ queues: app.get(AgentQueues).all().map((q) => new BullMQAdapter(q)), serverAdapter: board });
  const auth = (req: Request, res: Response, next: NextFunction) => {
    guard
      .identify(req)
      .then((actor) => {
        const needed = req.method === 'GET' || req.method === 'HEAD' ? 'viewer' : 'operator';
        if (!roleAllows(actor.roles, needed)) {
          res.status(403).json({ statusCode: 403, code: 'FORBIDDEN', message: `this needs the ${needed} role`, fields: [] });
          return;
        }
        next();
      })
      .catch((e: unknown) => {
        const body = toAdminError(e);
        res.status(body.statusCode).json(body);
      });
  };
  app.use(QUEUE_BOARD_PATH, auth, board.getRouter());
}
