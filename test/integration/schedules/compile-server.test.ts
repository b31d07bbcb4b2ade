/**
 * The calendars floe compiles from Meltano crons, checked against a real Temporal server: each cron becomes a
 * paused schedule whose spec starts at a fixed future instant (so the answer does not depend on today), and the
 * server's `nextActionTimes` must equal the times a naive reference matcher finds by walking the clock.
 */
import assert from 'node:assert/strict';

import type { Client, ScheduleSpec } from '@temporalio/client';

import { cronToCalendars, parseInterval } from '../../../src/schedules/interval';
import { getTestTemporal, uniqueName } from '../../helpers/temporal';

const NAMES: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
  sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6,
}; // prettier-ignore

const ALIASES: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
};

/** The set of values one cron field allows, written from the cron man page rather than from interval.ts. */
function fieldValues(text: string, min: number, max: number, dayOfWeek = false): Set<number> {
  const out = new Set<number>();
  const value = (t: string) => NAMES[t.toLowerCase()] ?? Number(t);
  const top = dayOfWeek ? 6 : max;
  for (const item of text.split(',')) {
    const [base = '', stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    let lo: number;
    let hi: number;
    if (base === '*' || base === '?') [lo, hi] = [min, top];
    else if (base.includes('-')) [lo, hi] = base.split('-').map(value) as [number, number];
    else [lo, hi] = [value(base), stepText === undefined ? value(base) : top];
    if (dayOfWeek && hi < lo) hi += 7; // fri-mon wraps through Sunday
    for (let v = lo; v <= hi; v += step) out.add(dayOfWeek ? v % 7 : v);
  }
  return out;
}

/** The first `count` fire times (UTC) of a 5-field cron in `timeZone` at or after `start`, minute by minute. */
function referenceFireTimes(cron: string, timeZone: string, start: Date, count: number): string[] {
  const [mi = '', ho = '', dom = '', mo = '', dow = ''] = (ALIASES[cron] ?? cron).trim().split(/\s+/);
  const minutes = fieldValues(mi, 0, 59);
  const hours = fieldValues(ho, 0, 23);
  const days = fieldValues(dom, 1, 31);
  const months = fieldValues(mo, 1, 12);
  const weekdays = fieldValues(dow, 0, 7, true);
  const domStar = dom === '*' || dom === '?';
  const dowStar = dow === '*' || dow === '?';
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    weekday: 'short',
  });
  const out: string[] = [];
  let t = Math.ceil(start.getTime() / 60_000) * 60_000;
  while (out.length < count) {
    const parts: Record<string, string> = {};
    for (const p of format.formatToParts(new Date(t))) parts[p.type] = p.value;
    const [month, day, hour, minute] = [parts.month, parts.day, parts.hour, parts.minute].map(Number) as [
      number,
      number,
      number,
      number,
    ];
    const domOk = days.has(day);
    const dowOk = weekdays.has(NAMES[String(parts.weekday).toLowerCase()] ?? -1);
    // Vixie cron: when both day fields are restricted, either may match.
    const dayOk = !domStar && !dowStar ? domOk || dowOk : domOk && dowOk;
    if (!months.has(month) || !dayOk || !hours.has(hour)) {
      t += (60 - minute) * 60_000; // on to the next local hour
      continue;
    }
    if (minutes.has(minute)) out.push(new Date(t).toISOString());
    t += 60_000;
  }
  return out;
}

const START = new Date('2031-01-01T00:00:00Z');

/** [cron or alias, IANA zone, startAt]. */
const CASES: [string, string, Date][] = [
  ...[
    '@hourly',
    '@daily',
    '@weekly',
    '@monthly',
    '@yearly',
    '0,30 8,20 * * *',
    '15 9-17 * * *',
    '*/15 * * * *',
    '5/15 * * * *',
    '1-10/3 * * * *',
    '*/20,7 */6 * * *',
    '0 0 1 jan,JUL *',
    '0 0 1 jan-mar/2 *',
    '0 0 * * mon-fri',
    '0 0 * * 7',
    '0 0 * * 5-7',
    '0 0 * * fri-mon',
    '0 0 * * fri-tue/2',
    '0 0 * * */2',
    '0 12 ? * sun',
    '0 12 15 * ?',
    '0 0 1,15 * mon',
    '30 6 13 feb fri',
  ].map((cron): [string, string, Date] => [cron, 'UTC', START]),
  ['0 9 * * mon-fri', 'America/New_York', START],
  ['0 0 1,15 * mon', 'America/New_York', START],
  ['0 0 * * *', 'Asia/Kolkata', START],
  // 2031-03-09 02:30 does not exist in New York; 2031-11-02 01:30 happens twice.
  ['30 2 * * *', 'America/New_York', new Date('2031-03-07T00:00:00Z')],
  ['30 1 * * *', 'America/New_York', new Date('2031-10-31T00:00:00Z')],
  ['0 * * * *', 'America/New_York', new Date('2031-11-02T03:00:00Z')],
];

function specFor(cron: string, timezone: string, startAt: Date): ScheduleSpec {
  const parsed = parseInterval(cron);
  assert.equal(parsed.kind, 'cron');
  return { calendars: cronToCalendars(parsed.parsed), timezone, startAt };
}

/** The server's next fire times for `spec`, from a paused schedule that is deleted afterwards. */
async function serverFireTimes(client: Client, spec: ScheduleSpec): Promise<string[]> {
  const scheduleId = uniqueName('floe-compile-check');
  const handle = await client.schedule.create({
    scheduleId,
    spec,
    action: { type: 'startWorkflow', workflowType: 'neverRuns', taskQueue: uniqueName('no-worker') },
    state: { paused: true, note: 'compile-server.test: checks nextActionTimes only' },
  });
  try {
    const description = await handle.describe();
    return description.info.nextActionTimes.map((d) => d.toISOString());
  } finally {
    await handle.delete();
  }
}

describe('schedules/interval on a Temporal server', function () {
  let client: Client;
  before(async function () {
    client = (await getTestTemporal()).client;
  });

  for (const [cron, zone, startAt] of CASES) {
    it(`fires '${cron}' in ${zone} when a cron would`, async () => {
      const actual = await serverFireTimes(client, specFor(cron, zone, startAt));
      assert.ok(actual.length >= 5, `only ${actual.length} next action times: ${actual.join(', ')}`);
      assert.deepEqual(actual, referenceFireTimes(cron, zone, startAt, actual.length));
    });
  }

  it('fires a weekday cron in America/New_York at the expected UTC times across the March DST change', async () => {
    const actual = await serverFireTimes(
      client,
      specFor('0 9 * * mon-fri', 'America/New_York', new Date('2031-03-06T00:00:00Z')),
    );
    assert.deepEqual(actual.slice(0, 5), [
      '2031-03-06T14:00:00.000Z', // Thursday, EST (UTC-5)
      '2031-03-07T14:00:00.000Z',
      '2031-03-10T13:00:00.000Z', // Monday after the change, EDT (UTC-4)
      '2031-03-11T13:00:00.000Z',
      '2031-03-12T13:00:00.000Z',
    ]);
  });

  it('skips a local time that does not exist and fires twice at one that happens twice (no DST smoothing)', async () => {
    const spring = await serverFireTimes(
      client,
      specFor('30 2 * * *', 'America/New_York', new Date('2031-03-07T00:00:00Z')),
    );
    assert.deepEqual(spring.slice(0, 3), [
      '2031-03-07T07:30:00.000Z',
      '2031-03-08T07:30:00.000Z',
      '2031-03-10T06:30:00.000Z', // nothing on 2031-03-09, when 02:00-03:00 is skipped
    ]);
    const autumn = await serverFireTimes(
      client,
      specFor('30 1 * * *', 'America/New_York', new Date('2031-11-01T00:00:00Z')),
    );
    assert.deepEqual(autumn.slice(0, 3), [
      '2031-11-01T05:30:00.000Z',
      '2031-11-02T05:30:00.000Z', // 01:30 EDT
      '2031-11-02T06:30:00.000Z', // 01:30 EST, an hour later
    ]);
  });

  it('runs a day-of-month or day-of-week cron on either day (two calendars), as Meltano and Airflow do', async () => {
    const actual = await serverFireTimes(client, specFor('0 0 13 * fri', 'UTC', START));
    // January 2031: the Fridays and Monday the 13th.
    assert.deepEqual(actual.slice(0, 5), [
      '2031-01-03T00:00:00.000Z',
      '2031-01-10T00:00:00.000Z',
      '2031-01-13T00:00:00.000Z',
      '2031-01-17T00:00:00.000Z',
      '2031-01-24T00:00:00.000Z',
    ]);
  });
});
