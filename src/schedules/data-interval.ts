/**
 * The data interval of a scheduled or backfilled run, as environment variables every plugin of the run gets,
 * so a tap can bound its extraction by them (e.g. `start_date: $FLOE_DATA_INTERVAL_START` in meltano.yml).
 * This is what Meltano's Airflow DAGs never passed (`catchup=False`, "our extractors do not support
 * date-window extraction"): a backfill of floe gives each run its own window.
 *
 * - FLOE_NOMINAL_TIME, FLOE_DATA_INTERVAL_END: the time the run was scheduled for (UTC, ISO 8601);
 * - FLOE_DATA_INTERVAL_START: the schedule's previous fire time before it (absent for trigger-only schedules).
 */
import type { ScheduleDef } from '../config/project';
import { previousFireTime } from './interval';

export function dataIntervalEnv(
  schedule: ScheduleDef | undefined,
  nominalTime: string | undefined,
): Record<string, string> {
  if (!nominalTime) return {};
  const end = new Date(nominalTime);
  const env: Record<string, string> = {
    FLOE_NOMINAL_TIME: end.toISOString(),
    FLOE_DATA_INTERVAL_END: end.toISOString(),
  };
  if (schedule?.parsedInterval.kind === 'cron') {
    const start = previousFireTime(schedule.parsedInterval.parsed, end, schedule.floe.timezone);
    if (start) env.FLOE_DATA_INTERVAL_START = start.toISOString();
  }
  return env;
}
