import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import type { Response } from 'express';
import { HealthReport, HealthService } from './health.service';

@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** Readiness with details; 503 when a dependency is down. */
  @Get()
  async report(@Res({ passthrough: true }) res: Response): Promise<HealthReport> {
    const report = await this.health.report();
    res.status(report.ready ? 200 : 503);
    return report;
  }

  @Get('ready')
  ready(@Res({ passthrough: true }) res: Response): Promise<HealthReport> {
    return this.report(res);
  }

  /** Liveness: the event loop answers. */
  @Get('live')
  @HttpCode(200)
  live(): { live: true } {
    return { live: true };
  }
}
