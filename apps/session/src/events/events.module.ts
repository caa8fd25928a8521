import { Global, Module } from '@nestjs/common';
import { SessionEventLog } from './session-event-log';
import { SessionEventsService } from './session-events.service';

@Global()
@Module({
  providers: [SessionEventLog, SessionEventsService],
  exports: [SessionEventsService],
})
export class EventsModule {}
