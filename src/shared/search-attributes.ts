/**
 * floe's custom search attributes: set on every run floe starts so runs can be listed by schedule, job, state ID,
 * environment and trigger (`FloeSchedule = 'daily-load'`). All Keyword, the type SQL visibility limits least.
 * Values are stored unencrypted: names and IDs only, never secrets. Safe to import from workflow code.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Name of the meltano.yml schedule that started the run (absent for ad-hoc runs). */
export const FloeSchedule = defineSearchAttributeKey('FloeSchedule', SearchAttributeType.KEYWORD);
/** Name of the meltano.yml job the run executes (absent when the schedule names a single extractor/loader pair). */
export const FloeJob = defineSearchAttributeKey('FloeJob', SearchAttributeType.KEYWORD);
/** Meltano state ID the run reads and writes, e.g. `dev:tap-foo-to-target-bar`. */
export const FloeStateId = defineSearchAttributeKey('FloeStateId', SearchAttributeType.KEYWORD);
/** Meltano environment the run uses (`dev`, `prod`, ...). */
export const FloeEnvironment = defineSearchAttributeKey('FloeEnvironment', SearchAttributeType.KEYWORD);
/** What started the run: `schedule`, `manual` or `backfill`. */
export const FloeTrigger = defineSearchAttributeKey('FloeTrigger', SearchAttributeType.KEYWORD);

/**
 * On floe's Temporal Schedules (not runs): the hash of the meltano.yml config the schedule was made from. The
 * schedule list returns it, so a sync of an unchanged file needs no per-schedule call.
 */
export const FloeConfigHash = defineSearchAttributeKey('FloeConfigHash', SearchAttributeType.KEYWORD);

/** Every floe search attribute key, for registering them (`createLocal({server: {searchAttributes}})`). */
export const FLOE_SEARCH_ATTRIBUTE_KEYS = [
  FloeSchedule,
  FloeJob,
  FloeStateId,
  FloeEnvironment,
  FloeTrigger,
  FloeConfigHash,
] as const;

/** Type names as `temporal server start-dev --search-attribute NAME=TYPE` and `temporal operator` spell them. */
export type SearchAttributeTypeName = 'Text' | 'Keyword' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

const CLI_TYPE_NAMES: Record<SearchAttributeType, SearchAttributeTypeName> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** `{FloeSchedule: 'Keyword', ...}`: the same attributes in the CLI's spelling, for `--search-attribute`. */
export const FLOE_SEARCH_ATTRIBUTES: Readonly<Record<string, SearchAttributeTypeName>> = Object.fromEntries(
  FLOE_SEARCH_ATTRIBUTE_KEYS.map((key) => [key.name, CLI_TYPE_NAMES[key.type]]),
);

/**
 * Set by the server on every run a schedule starts (scheduled, triggered or backfilled): the nominal time of
 * the action. The pipeline workflow reads it to give plugins their data interval.
 */
export const TemporalScheduledStartTime = defineSearchAttributeKey(
  'TemporalScheduledStartTime',
  SearchAttributeType.DATETIME,
);
