/**
 * State IDs, exactly as Meltano builds them (meltano.md §5.1):
 * - `meltano run` / a job: `<environment>:<extractor>-to-<loader>[:<suffix>]` (empty parts are dropped);
 * - an ELT schedule (`schedules[].extractor/loader`): the bare schedule name, no environment prefix;
 * - `meltano el --state-id X`: X verbatim.
 * Reproducing these byte for byte is what lets floe pick up the state of an existing Meltano project.
 */
import { UserError } from '../shared/errors';

/** A state ID (or one of its parts) cannot be used. */
export class InvalidStateIdError extends UserError {
  override readonly name: string = 'InvalidStateIdError';
}

export interface StateIdParts {
  /** Active environment name; Meltano drops the prefix when there is none. */
  environment?: string | undefined;
  /** Head plugin name (an inheriting plugin keeps its own name). */
  extractor: string;
  /** Tail plugin name; mappers are never part of the ID. */
  loader: string;
  /** `--state-id-suffix` or the environment's `state_id_suffix`. */
  suffix?: string | undefined;
}

/** What `parseStateId` recognised. `verbatim` covers ELT-schedule names and `--state-id` values. */
export type ParsedStateId =
  | { kind: 'run'; environment: string; extractor: string; loader: string; suffix?: string }
  | { kind: 'verbatim'; id: string };

/**
 * Builds the state ID of a `run`/job pipeline.
 * @throws InvalidStateIdError when extractor or loader is empty or any part contains ':'.
 */
export function stateIdFor(parts: StateIdParts): string {
  const named: [string, string | undefined][] = [
    ['environment', parts.environment],
    ['extractor', parts.extractor],
    ['loader', parts.loader],
    ['state ID suffix', parts.suffix],
  ];
  for (const [label, value] of named) {
    if (value !== undefined && value.includes(':')) {
      throw new InvalidStateIdError(
        `Cannot build a state ID: the ${label} '${value}' contains ':', which separates the parts of a state ID; rename it or choose a suffix without ':'.`,
      );
    }
  }
  for (const [label, value] of [named[1]!, named[2]!]) {
    if (!value) {
      throw new InvalidStateIdError(
        `Cannot build a state ID: the ${label} name is empty; name the plugin in the block.`,
      );
    }
  }
  const pipeline = `${parts.extractor}-to-${parts.loader}`;
  return [parts.environment, pipeline, parts.suffix].filter((p): p is string => !!p).join(':');
}

/**
 * The state ID of an ELT schedule: its bare name, as Meltano passes `--state-id=<schedule name>` (meltano#6848:
 * no environment prefix, so two environments sharing a backend share this state).
 * @throws InvalidStateIdError when the name cannot be stored (see `assertStorableStateId`).
 */
export function stateIdForEltSchedule(scheduleName: string): string {
  assertStorableStateId(scheduleName);
  return scheduleName;
}

const RUN_ID = /^([^:]+):([^:]+)(?::([^:]+))?$/;

/**
 * Splits a state ID into its parts when it has the `run` shape, else returns it as `verbatim`.
 * `<tap>-to-<target>` is ambiguous when a name itself contains `-to-`: the split before a tail starting with
 * `target-` wins, else the last `-to-`. Callers that know the plugin names should compare with `stateIdFor`.
 * Never throws.
 */
export function parseStateId(id: string): ParsedStateId {
  const m = RUN_ID.exec(id);
  const pipeline = m?.[2];
  if (!m || pipeline === undefined) return { kind: 'verbatim', id };
  const splits: number[] = [];
  for (let i = pipeline.indexOf('-to-'); i !== -1; i = pipeline.indexOf('-to-', i + 1)) {
    if (i > 0 && i + 4 < pipeline.length) splits.push(i);
  }
  if (splits.length === 0) return { kind: 'verbatim', id };
  const at = splits.find((i) => pipeline.startsWith('target-', i + 4)) ?? splits[splits.length - 1]!;
  const parsed: ParsedStateId = {
    kind: 'run',
    environment: m[1]!,
    extractor: pipeline.slice(0, at),
    loader: pipeline.slice(at + 4),
  };
  if (m[3] !== undefined) parsed.suffix = m[3];
  return parsed;
}

/**
 * Checks that an ID can name a directory of the `file://` layout (and a row elsewhere, for parity between
 * backends): non-empty, at most 255 bytes, no '/', '\\' or NUL, not '.' or '..'.
 * @throws InvalidStateIdError naming the rule that failed.
 */
export function assertStorableStateId(id: string): void {
  let why: string | undefined;
  if (id.length === 0) why = 'it is empty';
  else if (id === '.' || id === '..') why = `'${id}' is a relative path name`;
  else if (/[/\\\0]/.test(id)) why = "it contains '/', '\\' or a NUL character";
  else if (Buffer.byteLength(id, 'utf8') > 255) why = 'it is longer than 255 bytes';
  if (why !== undefined) {
    throw new InvalidStateIdError(
      `State ID '${id}' cannot be stored: ${why}; use letters, digits, '-', '_', '.' and ':' only.`,
    );
  }
}
