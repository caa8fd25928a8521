import { Tool, ToolCallError } from '../tool';

interface DatetimeArgs {
  timezone?: string;
  instant?: string;
}

/** The parts of an instant in a time zone, from Intl (no date library). */
function partsIn(date: Date, timeZone: string): Record<string, string> {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    weekday: 'long',
    hourCycle: 'h23',
    timeZoneName: 'longOffset',
  });
  return Object.fromEntries(format.formatToParts(date).map((p) => [p.type, p.value]));
}

export const datetimeTool: Tool<DatetimeArgs> = {
  name: 'datetime',
  description: 'The current date and time (or a given instant) in an IANA time zone, e.g. "Europe/Paris"; default UTC.',
  parameters: {
    type: 'object',
    properties: {
      timezone: { type: 'string', minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. "America/New_York"' },
      instant: { type: 'string', minLength: 1, maxLength: 64, description: 'An ISO 8601 instant to convert instead of now' },
    },
    additionalProperties: false,
  },
  result: {
    type: 'object',
    properties: {
      timezone: { type: 'string' },
      local: { type: 'string' },
      date: { type: 'string' },
      time: { type: 'string' },
      weekday: { type: 'string' },
      utcOffset: { type: 'string' },
      iso: { type: 'string' },
      epochMs: { type: 'number' },
    },
    required: ['timezone', 'local', 'utcOffset', 'iso', 'epochMs'],
  },
  hints: { readOnly: true, idempotent: false },
  source: 'builtin',
  run: ({ timezone = 'UTC', instant }) => {
    const date = instant === undefined ? new Date() : new Date(instant);
    if (Number.isNaN(date.getTime())) throw new ToolCallError('INVALID_ARGUMENTS', `instant: "${instant}" is not an ISO 8601 date-time`);
    let p: Record<string, string>;
    try {
      p = partsIn(date, timezone);
    } catch {
      throw new ToolCallError('INVALID_ARGUMENTS', `timezone: "${timezone}" is not a known IANA time zone`);
    }
    const offset = p.timeZoneName === 'GMT' ? '+00:00' : p.timeZoneName.replace('GMT', '');
    const day = `${p.year}-${p.month}-${p.day}`;
    const time = `${p.hour}:${p.minute}:${p.second}`;
    return {
      timezone,
      local: `${day}T${time}${offset}`,
      date: day,
      time,
      weekday: p.weekday,
      utcOffset: offset,
      iso: date.toISOString(),
      epochMs: date.getTime(),
    };
  },
};
