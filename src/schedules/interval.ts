/**
 * Meltano schedule intervals: the aliases of `core/schedule.py` (`CRON_INTERVALS`) and its 5-field cron
 * (`is_valid_cron`: lists, ranges, steps, month and weekday names, `7` = Sunday, wrap-around weekday ranges,
 * `?`), compiled to Temporal calendar specs.
 *
 * floe compiles crons itself instead of sending cron strings to the server: the server's parser differs from
 * Meltano's (it ANDs day-of-month with day-of-week, has no `?`), and `describe()` returns compiled calendars
 * anyway. Day-of-month and day-of-week follow Vixie cron / Airflow: when both are restricted a day matches if
 * either matches, which is a union of two calendars here.
 */
import type { CalendarSpec, DayOfWeek, Month, Range } from '@temporalio/client';

/** Meltano's alias table (meltano.md §1.5). `null` = no automatic runs: triggered by hand only. */
export const INTERVAL_ALIASES: Readonly<Record<string, string | null>> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@once': null,
  '@manual': null,
  '@none': null,
};

export const ACCEPTED_INTERVALS_HINT =
  "Use a 5-field cron like '0 * * * *' (minute hour day-of-month month day-of-week) or one of " +
  Object.keys(INTERVAL_ALIASES).join(', ');

/** Thrown for an interval Meltano would reject (or floe cannot schedule); the message has no location. */
export class IntervalError extends Error {
  override readonly name = 'IntervalError';
}

/** One cron field as inclusive ranges with steps (Temporal's Range shape, numbers only). */
export type FieldRanges = Range<number>[];

export interface ParsedCron {
  /** The cron the interval stands for (an alias expanded). */
  cron: string;
  minute: FieldRanges;
  hour: FieldRanges;
  dayOfMonth: FieldRanges | '*';
  month: FieldRanges | '*';
  dayOfWeek: FieldRanges | '*';
}

export type ParsedInterval = { kind: 'manual'; alias: string } | { kind: 'cron'; parsed: ParsedCron };

interface FieldSpec {
  label: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** Name index offset: names[i] has value i + nameBase. */
  nameBase?: number;
  allowQuestion?: boolean;
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] as const;
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

const FIELDS: readonly FieldSpec[] = [
  { label: 'minute', min: 0, max: 59 },
  { label: 'hour', min: 0, max: 23 },
  { label: 'day-of-month', min: 1, max: 31, allowQuestion: true },
  { label: 'month', min: 1, max: 12, names: MONTH_NAMES, nameBase: 1 },
  { label: 'day-of-week', min: 0, max: 7, names: DAY_NAMES, nameBase: 0, allowQuestion: true },
];

function parseValue(token: string, spec: FieldSpec): number {
  const lower = token.toLowerCase();
  if (spec.names) {
    const idx = spec.names.indexOf(lower);
    if (idx >= 0) return idx + (spec.nameBase ?? 0);
  }
  if (!/^\d+$/.test(token)) {
    const names = spec.names ? ` or a name (${spec.names.join(', ')})` : '';
    throw new IntervalError(`${spec.label} value '${token}' is not a number${names}`);
  }
  const n = Number(token);
  if (n < spec.min || n > spec.max) {
    throw new IntervalError(`${spec.label} value ${n} is out of range ${spec.min}-${spec.max}`);
  }
  return n;
}

/** Parses one field into ranges; `*` (or `?`) alone yields '*'. */
function parseField(text: string, spec: FieldSpec): FieldRanges | '*' {
  if (text === '*' || (spec.allowQuestion && text === '?')) return '*';
  // Only day-of-month has `L` in Meltano's cron; elsewhere an L is part of a name such as JUL.
  if (spec.label === 'day-of-month' && /l/i.test(text)) {
    throw new IntervalError(
      `${spec.label} 'L' (last day) cannot be expressed as a Temporal schedule; use explicit days such as '28-31' with care or a day-of-week`,
    );
  }
  const ranges: FieldRanges = [];
  for (const item of text.split(',')) {
    if (item === '') throw new IntervalError(`${spec.label} field '${text}' has an empty list item`);
    const [base, stepText, extra] = item.split('/');
    if (extra !== undefined || base === undefined || base === '') {
      throw new IntervalError(`${spec.label} item '${item}' is not a value, range or step`);
    }
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
        throw new IntervalError(`${spec.label} step '${stepText}' in '${item}' must be a positive whole number`);
      }
      step = Number(stepText);
    }
    let start: number;
    let end: number;
    if (base === '*' || (spec.allowQuestion && base === '?')) {
      start = spec.min;
      end = spec.label === 'day-of-week' ? 6 : spec.max;
    } else if (base.includes('-')) {
      const parts = base.split('-');
      if (parts.length !== 2) throw new IntervalError(`${spec.label} range '${base}' must be 'start-end'`);
      start = parseValue(parts[0] ?? '', spec);
      end = parseValue(parts[1] ?? '', spec);
    } else {
      start = parseValue(base, spec);
      // `5/15` means "from 5 to the end, every 15", as in Vixie cron.
      end = stepText !== undefined ? (spec.label === 'day-of-week' ? 6 : spec.max) : start;
    }
    ranges.push(...normaliseRange(start, end, step, spec));
  }
  return ranges;
}

/** Handles `7` = Sunday and wrap-around ranges (`fri-mon`) for day-of-week; rejects reversed ranges elsewhere. */
function normaliseRange(start: number, end: number, step: number, spec: FieldSpec): FieldRanges {
  if (spec.label === 'day-of-week') {
    if (start === 7 && end === 7) return [{ start: 0, end: 0, step: 1 }];
    if (end === 7 && start <= 7) {
      // `5-7` = fri, sat, sun.
      const out: FieldRanges = start <= 6 ? [{ start, end: 6, step }] : [];
      if ((7 - start) % step === 0) out.push({ start: 0, end: 0, step: 1 });
      return out;
    }
    if (start === 7) start = 0;
    if (start > end) {
      // Wrap-around, e.g. `fri-mon`: fri..sat then sun..mon, keeping the step phase.
      const firstPart: Range<number> = { start, end: 6, step };
      const lastInFirst = start + Math.floor((6 - start) / step) * step;
      const nextStart = lastInFirst + step - 7;
      const out: FieldRanges = [firstPart];
      if (nextStart <= end) out.push({ start: nextStart, end, step });
      return out;
    }
  }
  if (start > end) {
    throw new IntervalError(`${spec.label} range ${start}-${end} runs backwards`);
  }
  return [{ start, end, step }];
}

/**
 * Parses a Meltano interval.
 * @throws IntervalError when the interval is not an alias or a valid 5-field cron.
 */
export function parseInterval(interval: string): ParsedInterval {
  const trimmed = interval.trim();
  if (trimmed.startsWith('@')) {
    if (!(trimmed in INTERVAL_ALIASES)) {
      throw new IntervalError(`'${interval}' is not a known alias`);
    }
    const cron = INTERVAL_ALIASES[trimmed];
    if (cron === null || cron === undefined) return { kind: 'manual', alias: trimmed };
    return { kind: 'cron', parsed: parseCron(cron) };
  }
  return { kind: 'cron', parsed: parseCron(trimmed) };
}

function parseCron(cron: string): ParsedCron {
  const fields = cron.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) {
    throw new IntervalError(`'${cron}' is not a valid cron expression (5 fields expected, got ${fields.length})`);
  }
  const [minute, hour, dom, month, dow] = fields.map((f, i) => {
    try {
      return parseField(f, FIELDS[i] as FieldSpec);
    } catch (err) {
      if (err instanceof IntervalError) {
        throw new IntervalError(`'${cron}' is not a valid cron expression (${err.message})`);
      }
      throw err;
    }
  }) as [FieldRanges | '*', FieldRanges | '*', FieldRanges | '*', FieldRanges | '*', FieldRanges | '*'];
  return {
    cron: fields.join(' '),
    minute: minute === '*' ? [{ start: 0, end: 59, step: 1 }] : minute,
    hour: hour === '*' ? [{ start: 0, end: 23, step: 1 }] : hour,
    dayOfMonth: dom,
    month,
    dayOfWeek: dow,
  };
}

const MONTHS_UPPER: readonly Month[] = [
  'JANUARY',
  'FEBRUARY',
  'MARCH',
  'APRIL',
  'MAY',
  'JUNE',
  'JULY',
  'AUGUST',
  'SEPTEMBER',
  'OCTOBER',
  'NOVEMBER',
  'DECEMBER',
];
const DAYS_UPPER: readonly DayOfWeek[] = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];

function toNamed<T>(ranges: FieldRanges, names: readonly T[], base: number): Range<T>[] {
  return ranges.map((r) => ({ start: names[r.start - base] as T, end: names[r.end - base] as T, step: r.step }));
}

/**
 * Temporal calendar specs equivalent to a parsed cron: one calendar, or two when both day-of-month and
 * day-of-week are restricted (cron's OR rule).
 */
export function cronToCalendars(parsed: ParsedCron): CalendarSpec[] {
  const base: CalendarSpec = {
    second: 0,
    minute: parsed.minute,
    hour: parsed.hour,
    month: parsed.month === '*' ? '*' : toNamed(parsed.month, MONTHS_UPPER, 1),
    comment: parsed.cron,
  };
  const dom = parsed.dayOfMonth;
  const dow = parsed.dayOfWeek === '*' ? '*' : toNamed(parsed.dayOfWeek, DAYS_UPPER, 0);
  if (dom !== '*' && dow !== '*') {
    return [
      { ...base, dayOfMonth: dom, dayOfWeek: '*' },
      { ...base, dayOfMonth: '*', dayOfWeek: dow },
    ];
  }
  return [{ ...base, dayOfMonth: dom, dayOfWeek: dow }];
}

function inRanges(value: number, ranges: FieldRanges | '*'): boolean {
  if (ranges === '*') return true;
  return ranges.some((r) => value >= r.start && value <= r.end && (value - r.start) % r.step === 0);
}

/** Wall-clock fields of an instant in a time zone (UTC when none). */
function localFields(date: Date, fmt: Intl.DateTimeFormat | undefined) {
  if (!fmt) {
    return {
      minute: date.getUTCMinutes(),
      hour: date.getUTCHours(),
      day: date.getUTCDate(),
      month: date.getUTCMonth() + 1,
      weekday: date.getUTCDay(),
    };
  }
  const parts: Record<string, string> = {};
  for (const p of fmt.formatToParts(date)) parts[p.type] = p.value;
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday ?? '');
  return {
    minute: Number(parts.minute),
    hour: Number(parts.hour) % 24,
    day: Number(parts.day),
    month: Number(parts.month),
    weekday,
  };
}

/** Whether the cron fires at the minute of `date` (cron's OR rule when both day fields are restricted). */
export function cronMatches(parsed: ParsedCron, date: Date, timezone?: string): boolean {
  return matchesWith(parsed, date, zoneFormatter(timezone));
}

function zoneFormatter(timezone: string | undefined): Intl.DateTimeFormat | undefined {
  if (!timezone) return undefined;
  return new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    minute: 'numeric',
    hour: 'numeric',
    day: 'numeric',
    month: 'numeric',
    weekday: 'short',
  });
}

function matchesWith(parsed: ParsedCron, date: Date, fmt: Intl.DateTimeFormat | undefined): boolean {
  const f = localFields(date, fmt);
  if (!inRanges(f.minute, parsed.minute) || !inRanges(f.hour, parsed.hour) || !inRanges(f.month, parsed.month)) {
    return false;
  }
  const domRestricted = parsed.dayOfMonth !== '*';
  const dowRestricted = parsed.dayOfWeek !== '*';
  const dom = inRanges(f.day, parsed.dayOfMonth);
  const dow = inRanges(f.weekday, parsed.dayOfWeek);
  return domRestricted && dowRestricted ? dom || dow : dom && dow;
}

/**
 * The last fire time of the cron strictly before `before`, searched up to 366 days back; undefined when none.
 * Used to give a scheduled (or backfilled) run its data interval: [previous fire, nominal time).
 */
export function previousFireTime(parsed: ParsedCron, before: Date, timezone?: string): Date | undefined {
  const fmt = zoneFormatter(timezone);
  const start = Math.floor((before.getTime() - 1) / 60_000) * 60_000;
  for (let t = start, n = 0; n < 366 * 24 * 60; t -= 60_000, n++) {
    const d = new Date(t);
    if (matchesWith(parsed, d, fmt)) return d;
  }
  return undefined;
}
