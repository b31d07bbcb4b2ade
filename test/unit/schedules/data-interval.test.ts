import assert from 'node:assert/strict';
import { parseInterval, previousFireTime } from '../../../src/schedules/interval';
import type { ParsedCron } from '../../../src/schedules/interval';
import { dataIntervalEnv } from '../../../src/schedules/data-interval';
import type { ScheduleDef } from '../../../src/config/project';

const cron = (interval: string): ParsedCron => {
  const p = parseInterval(interval);
  assert.equal(p.kind, 'cron');
  return (p as { parsed: ParsedCron }).parsed;
};

function schedule(interval: string, timezone?: string): ScheduleDef {
  return {
    name: 's',
    interval,
    parsedInterval: parseInterval(interval),
    job: 'j',
    env: {},
    floe: timezone ? { timezone } : {},
    origin: { file: 'meltano.yml', path: [] },
  };
}

describe('schedules/data-interval', () => {
  const cases: [string, string, string | undefined, string][] = [
    ['@hourly on the hour', '@hourly', undefined, '2026-11-25T09:00:00.000Z'],
    ['every 15 minutes', '*/15 * * * *', undefined, '2026-11-25T09:45:00.000Z'],
    ['daily 02:30 in New York (EST)', '30 2 * * *', 'America/New_York', '2026-11-25T07:30:00.000Z'],
    ['weekdays at 06:00 UTC', '0 6 * * mon-fri', undefined, '2026-11-25T06:00:00.000Z'],
    ['day 1 or Sundays (cron OR rule)', '0 0 1 * sun', undefined, '2026-11-22T00:00:00.000Z'],
  ];
  for (const [label, interval, tz, expected] of cases) {
    it(`finds the previous fire time: ${label}`, () => {
      const at = previousFireTime(cron(interval), new Date('2026-11-25T10:00:00Z'), tz);
      assert.equal(at?.toISOString(), expected);
    });
  }

  it('is strictly before the nominal time', () => {
    assert.equal(
      previousFireTime(cron('@hourly'), new Date('2026-11-25T10:00:00Z'))?.toISOString(),
      '2026-11-25T09:00:00.000Z',
    );
  });

  it('gives a scheduled run its interval as env vars, and none to a manual run', () => {
    assert.deepEqual(dataIntervalEnv(schedule('@daily'), '2026-11-25T00:00:00Z'), {
      FLOE_NOMINAL_TIME: '2026-11-25T00:00:00.000Z',
      FLOE_DATA_INTERVAL_END: '2026-11-25T00:00:00.000Z',
      FLOE_DATA_INTERVAL_START: '2026-11-24T00:00:00.000Z',
    });
    assert.deepEqual(dataIntervalEnv(schedule('@daily'), undefined), {});
    assert.deepEqual(dataIntervalEnv(schedule('@manual'), '2026-11-25T00:00:00Z'), {
      FLOE_NOMINAL_TIME: '2026-11-25T00:00:00.000Z',
      FLOE_DATA_INTERVAL_END: '2026-11-25T00:00:00.000Z',
    });
  });
});
