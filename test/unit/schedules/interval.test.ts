import assert from 'node:assert/strict';

import type { CalendarSpec } from '@temporalio/client';

import { IntervalError, cronToCalendars, parseInterval } from '../../../src/schedules/interval';
import type { ParsedInterval } from '../../../src/schedules/interval';

/** An inclusive range with a step, as the compiler emits it. */
function r<T>(start: T, end: T = start, step = 1) {
  return { start, end, step };
}

const EVERY_MINUTE = [r(0, 59)];
const EVERY_HOUR = [r(0, 23)];

/** A compiled calendar: every field given explicitly by the compiler, `*` where the cron said so. */
function cal(comment: string, fields: Partial<CalendarSpec>): CalendarSpec {
  return {
    second: 0,
    minute: EVERY_MINUTE,
    hour: EVERY_HOUR,
    month: '*',
    comment,
    dayOfMonth: '*',
    dayOfWeek: '*',
    ...fields,
  };
}

function compile(interval: string): CalendarSpec[] | ParsedInterval {
  const parsed = parseInterval(interval);
  return parsed.kind === 'manual' ? parsed : cronToCalendars(parsed.parsed);
}

const MIDNIGHT = { minute: [r(0)], hour: [r(0)] };

/** label, interval, the exact compiled calendars (or the manual marker). */
const INTERVAL_CASES: [string, string, CalendarSpec[] | ParsedInterval][] = [
  ['@hourly', '@hourly', [cal('0 * * * *', { minute: [r(0)] })]],
  ['@daily', '@daily', [cal('0 0 * * *', MIDNIGHT)]],
  ['@midnight', '@midnight', [cal('0 0 * * *', MIDNIGHT)]],
  ['@weekly', '@weekly', [cal('0 0 * * 0', { ...MIDNIGHT, dayOfWeek: [r('SUNDAY')] })]],
  ['@monthly', '@monthly', [cal('0 0 1 * *', { ...MIDNIGHT, dayOfMonth: [r(1)] })]],
  ['@yearly', '@yearly', [cal('0 0 1 1 *', { ...MIDNIGHT, dayOfMonth: [r(1)], month: [r('JANUARY')] })]],
  ['@annually', '@annually', [cal('0 0 1 1 *', { ...MIDNIGHT, dayOfMonth: [r(1)], month: [r('JANUARY')] })]],
  ['@once is manual', '@once', { kind: 'manual', alias: '@once' }],
  ['@manual is manual', '@manual', { kind: 'manual', alias: '@manual' }],
  ['@none is manual', '@none', { kind: 'manual', alias: '@none' }],
  ['every minute', '* * * * *', [cal('* * * * *', {})]],
  ['lists', '0,30 8,20 * * *', [cal('0,30 8,20 * * *', { minute: [r(0), r(30)], hour: [r(8), r(20)] })]],
  ['a range', '15 9-17 * * *', [cal('15 9-17 * * *', { minute: [r(15)], hour: [r(9, 17)] })]],
  ['*/15', '*/15 * * * *', [cal('*/15 * * * *', { minute: [r(0, 59, 15)] })]],
  ['5/15 runs from 5 to the end', '5/15 * * * *', [cal('5/15 * * * *', { minute: [r(5, 59, 15)] })]],
  ['1-10/3', '1-10/3 * * * *', [cal('1-10/3 * * * *', { minute: [r(1, 10, 3)] })]],
  [
    'a list of a step and a value',
    '*/20,7 */6 * * *',
    [cal('*/20,7 */6 * * *', { minute: [r(0, 59, 20), r(7)], hour: [r(0, 23, 6)] })],
  ],
  [
    'month names',
    '0 0 1 jan,JUL *',
    [cal('0 0 1 jan,JUL *', { ...MIDNIGHT, dayOfMonth: [r(1)], month: [r('JANUARY'), r('JULY')] })],
  ],
  [
    'a month name range with a step',
    '0 0 1 jan-mar/2 *',
    [cal('0 0 1 jan-mar/2 *', { ...MIDNIGHT, dayOfMonth: [r(1)], month: [r('JANUARY', 'MARCH', 2)] })],
  ],
  ['month numbers', '0 6 * 3-5 *', [cal('0 6 * 3-5 *', { minute: [r(0)], hour: [r(6)], month: [r('MARCH', 'MAY')] })]],
  ['weekday names', '0 0 * * mon-fri', [cal('0 0 * * mon-fri', { ...MIDNIGHT, dayOfWeek: [r('MONDAY', 'FRIDAY')] })]],
  [
    'weekday list',
    '0 0 * * Tue,thu',
    [cal('0 0 * * Tue,thu', { ...MIDNIGHT, dayOfWeek: [r('TUESDAY'), r('THURSDAY')] })],
  ],
  ['7 is Sunday', '0 0 * * 7', [cal('0 0 * * 7', { ...MIDNIGHT, dayOfWeek: [r('SUNDAY')] })]],
  [
    '5-7 is Friday to Sunday',
    '0 0 * * 5-7',
    [cal('0 0 * * 5-7', { ...MIDNIGHT, dayOfWeek: [r('FRIDAY', 'SATURDAY'), r('SUNDAY')] })],
  ],
  [
    'wrap-around fri-mon',
    '0 0 * * fri-mon',
    [cal('0 0 * * fri-mon', { ...MIDNIGHT, dayOfWeek: [r('FRIDAY', 'SATURDAY'), r('SUNDAY', 'MONDAY')] })],
  ],
  [
    'wrap-around with a step keeps its phase',
    '0 0 * * fri-tue/2',
    [cal('0 0 * * fri-tue/2', { ...MIDNIGHT, dayOfWeek: [r('FRIDAY', 'SATURDAY', 2), r('SUNDAY', 'TUESDAY', 2)] })],
  ],
  ['*/2 weekdays', '0 0 * * */2', [cal('0 0 * * */2', { ...MIDNIGHT, dayOfWeek: [r('SUNDAY', 'SATURDAY', 2)] })]],
  [
    '? as day-of-month',
    '0 12 ? * sun',
    [cal('0 12 ? * sun', { minute: [r(0)], hour: [r(12)], dayOfWeek: [r('SUNDAY')] })],
  ],
  ['? as day-of-week', '0 12 15 * ?', [cal('0 12 15 * ?', { minute: [r(0)], hour: [r(12)], dayOfMonth: [r(15)] })]],
  [
    'day-of-month and day-of-week both restricted: two calendars, either matches',
    '0 0 1,15 * mon',
    [
      cal('0 0 1,15 * mon', { ...MIDNIGHT, dayOfMonth: [r(1), r(15)] }),
      cal('0 0 1,15 * mon', { ...MIDNIGHT, dayOfWeek: [r('MONDAY')] }),
    ],
  ],
  [
    'both restricted, with a month',
    '30 6 13 feb fri',
    [
      cal('30 6 13 feb fri', { minute: [r(30)], hour: [r(6)], month: [r('FEBRUARY')], dayOfMonth: [r(13)] }),
      cal('30 6 13 feb fri', { minute: [r(30)], hour: [r(6)], month: [r('FEBRUARY')], dayOfWeek: [r('FRIDAY')] }),
    ],
  ],
  ['extra spaces', '  0   3  * * *  ', [cal('0 3 * * *', { minute: [r(0)], hour: [r(3)] })]],
];

describe('schedules/interval', () => {
  for (const [label, interval, expected] of INTERVAL_CASES) {
    it(`compiles ${label} (${interval.trim()})`, () => assert.deepEqual(compile(interval), expected));
  }

  const REJECTED: [string, string][] = [
    ['@minutely', `'@minutely' is not a known alias`],
    ['0 0 * *', `'0 0 * *' is not a valid cron expression (5 fields expected, got 4)`],
    ['0 0 0 * * *', `'0 0 0 * * *' is not a valid cron expression (5 fields expected, got 6)`],
    ['', `'' is not a valid cron expression (5 fields expected, got 0)`],
    ['60 * * * *', `'60 * * * *' is not a valid cron expression (minute value 60 is out of range 0-59)`],
    ['0 24 * * *', `'0 24 * * *' is not a valid cron expression (hour value 24 is out of range 0-23)`],
    ['0 0 0 * *', `'0 0 0 * *' is not a valid cron expression (day-of-month value 0 is out of range 1-31)`],
    ['0 0 * 13 *', `'0 0 * 13 *' is not a valid cron expression (month value 13 is out of range 1-12)`],
    ['0 0 * * 8', `'0 0 * * 8' is not a valid cron expression (day-of-week value 8 is out of range 0-7)`],
    ['? * * * *', `'? * * * *' is not a valid cron expression (minute value '?' is not a number)`],
    [
      '0 0 * * sunday',
      `'0 0 * * sunday' is not a valid cron expression (day-of-week value 'sunday' is not a number or a name (sun, mon, tue, wed, thu, fri, sat))`,
    ],
    [
      '0 0 1,,2 * *',
      `'0 0 1,,2 * *' is not a valid cron expression (day-of-month field '1,,2' has an empty list item)`,
    ],
    [
      '0 0 1-2-3 * *',
      `'0 0 1-2-3 * *' is not a valid cron expression (day-of-month range '1-2-3' must be 'start-end')`,
    ],
    [
      '*/x * * * *',
      `'*/x * * * *' is not a valid cron expression (minute step 'x' in '*/x' must be a positive whole number)`,
    ],
    [
      '1/2/3 * * * *',
      `'1/2/3 * * * *' is not a valid cron expression (minute item '1/2/3' is not a value, range or step)`,
    ],
    ['0 0 20-10 * *', `'0 0 20-10 * *' is not a valid cron expression (day-of-month range 20-10 runs backwards)`],
    [
      '0 0 LW * *',
      `'0 0 LW * *' is not a valid cron expression (day-of-month 'L' (last day) cannot be expressed as a Temporal schedule; use explicit days such as '28-31' with care or a day-of-week)`,
    ],
  ];
  for (const [interval, message] of REJECTED) {
    it(`rejects '${interval}'`, () =>
      assert.throws(
        () => parseInterval(interval),
        (err: unknown) => err instanceof IntervalError && err.message === message,
      ));
  }
});
