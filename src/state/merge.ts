/**
 * Meltano's state merge rules (meltano.md §5.3, `meltano.core.utils.merge`):
 * - `merge(a, b)`: recursive dict merge in which `a` wins; nested dict keys are unioned; anything that is not a
 *   plain object (lists such as SDK `partitions`, scalars, null) is replaced whole.
 * - A complete write replaces the record and resets partial to `{}`; a partial write stores
 *   `merge(newPartial, storedPartial)` and keeps completed.
 * - Reading gives `merge(partial, completed)`: partial overrides completed.
 */
import type { StateRecord } from './store';

export type JsonObject = Record<string, unknown>;

/** 'complete' overwrites the stored state; 'partial' is merged into it. */
export type StateFlag = 'complete' | 'partial';

/** `--state-strategy` values (meltano.md §3.3). */
export type StateStrategy = 'auto' | 'merge' | 'overwrite';

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Returns a new object: `b` with `a` merged over it. Inputs are not mutated and the result shares no nested
 * objects with them. Where `a` has an object and `b` a non-object under the same key, `a`'s object wins (Python's
 * `merge` would raise there; winning is the only reading consistent with "a wins"). Never throws.
 */
export function merge(a: JsonObject, b: JsonObject): JsonObject {
  const out = cloneJson(b);
  for (const [key, value] of Object.entries(a)) {
    const existing = out[key];
    out[key] = isJsonObject(value) && isJsonObject(existing) ? merge(value, existing) : cloneJson(value);
  }
  return out;
}

/** The state a tap resumes from: `merge(partial, completed)`. Never throws. */
export function mergedState(record: StateRecord): JsonObject {
  return merge(record.partial, record.completed);
}

/**
 * Applies one write to a stored record (undefined when none): the read-modify-write every backend performs under
 * its lock. Never throws.
 */
export function applyStateWrite(current: StateRecord | undefined, state: JsonObject, flag: StateFlag): StateRecord {
  if (flag === 'complete') return { completed: cloneJson(state), partial: {} };
  return {
    completed: cloneJson(current?.completed ?? {}),
    partial: merge(state, current?.partial ?? {}),
  };
}

/**
 * Meltano's `should_merge_states()`: partial iff strategy `merge`, or `--full-refresh` with strategy `auto`.
 * Never throws.
 */
export function stateFlagFor(options: { strategy: StateStrategy; fullRefresh: boolean }): StateFlag {
  if (options.strategy === 'merge') return 'partial';
  if (options.strategy === 'auto' && options.fullRefresh) return 'partial';
  return 'complete';
}

function cloneJson<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}
