/**
 * floe-only settings, kept under `annotations.floe` of a schedule or job so Meltano still reads the same file
 * (Meltano ignores annotations). Durations are strings like `30s`, `5m`, `2h`, `1d` (or `500ms`).
 */
import { z } from 'zod';
import { strict } from './strict';

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a duration string such as `90s` or `1h`; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}

const duration = z
  .string({ error: "must be a duration string such as '30s', '5m', '2h' or '1d'" })
  .refine((s) => parseDuration(s) !== undefined, {
    error: "must be a number and a unit (ms, s, m, h or d) such as '30s', '5m', '2h' or '1d'",
  });

export const OVERLAP_POLICIES = [
  'skip',
  'buffer_one',
  'buffer_all',
  'cancel_other',
  'terminate_other',
  'allow_all',
] as const;
export type OverlapPolicyName = (typeof OVERLAP_POLICIES)[number];

export const FloeRetry = strict({
  maximum_attempts: z.number().int().min(1).optional(),
  initial_interval: duration.optional(),
  backoff_coefficient: z.number().min(1).optional(),
  maximum_interval: duration.optional(),
});
export type FloeRetry = z.infer<typeof FloeRetry>;

/** `annotations.floe` on a job: how its blocks are retried. */
export const FloeJobAnnotations = strict({
  retry: FloeRetry.optional(),
});

/** `annotations.floe` on a schedule. */
export const FloeScheduleAnnotations = strict({
  timezone: z.string().optional(),
  jitter: duration.optional(),
  overlap: z.enum(OVERLAP_POLICIES).optional(),
  catchup_window: duration.optional(),
  pause_on_failure: z.boolean().optional(),
  /** Create (and keep) the Temporal Schedule paused, e.g. while its source is not reachable. */
  paused: z.boolean().optional(),
  note: z.string().optional(),
  retry: FloeRetry.optional(),
});
export type FloeScheduleAnnotations = z.infer<typeof FloeScheduleAnnotations>;
export type FloeJobAnnotations = z.infer<typeof FloeJobAnnotations>;

/** IANA zone names the runtime knows; the Temporal CLI embeds tzdata, Node's Intl is the check used here. */
export function isValidTimezone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
