/**
 * The logic behind `floe state list|get|set|merge|clear|copy|move|export|import`, with the semantics and JSON of
 * `meltano state` (meltano.md §3.9, `cli/state.py`, `core/state_service.py`). Pure functions over a StateStore;
 * confirmation prompts (`--force`) and printing belong to the CLI.
 */
import { UserError } from '../shared/errors';
import { isJsonObject, merge, mergedState, type JsonObject } from './merge';
import { assertStorableStateId } from './state-id';
import type { StateRecord, StateStore } from './store';

/** The state passed to `state set` / `state merge` is not usable. */
export class InvalidStateInputError extends UserError {
  override readonly name: string = 'InvalidStateInputError';
}

/** `list` colours: green = has `singer_state`, red = lacks it, yellow = empty. */
export type StateStatus = 'valid' | 'invalid' | 'empty';

export interface StateListEntry {
  stateId: string;
  status: StateStatus;
}

/** `{state_id: {"completed": ..., "partial": ...}}`, as `meltano state export` writes it. */
export type StateExport = Record<string, StateRecord>;

/** `state list [--pattern GLOB]`. Throws StatePersistenceError when the backend fails. */
export async function listStates(store: StateStore, pattern?: string): Promise<StateListEntry[]> {
  const entries: StateListEntry[] = [];
  for (const stateId of await store.list(pattern)) {
    const state = await getState(store, stateId);
    const status: StateStatus =
      Object.keys(state).length === 0 ? 'empty' : 'singer_state' in state ? 'valid' : 'invalid';
    entries.push({ stateId, status });
  }
  return entries;
}

/**
 * `state get <id>`: the merged state the next run would use, `{"singer_state": ...}`, or `{}` when there is none.
 * Throws InvalidStateIdError / StatePersistenceError.
 */
export async function getState(store: StateStore, stateId: string): Promise<JsonObject> {
  const record = await store.get(stateId);
  return record ? mergedState(record) : {};
}

/**
 * Parses the STATE argument or `--input-file` content of `set`/`merge`.
 * @throws InvalidStateInputError when it is not a JSON object, or lacks top-level `singer_state` while validating.
 */
export function parseStateInput(text: string, options: { source: string; validate: boolean }): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InvalidStateInputError(
      `State from ${options.source} is not valid JSON (${(err as Error).message}); pass an object like '{"singer_state": {"bookmarks": {}}}'.`,
    );
  }
  if (!isJsonObject(parsed)) {
    throw new InvalidStateInputError(
      `State from ${options.source} is not a JSON object; pass an object like '{"singer_state": {"bookmarks": {}}}'.`,
    );
  }
  if (options.validate) assertSingerState(parsed, options.source);
  return parsed;
}

/**
 * `state set <id> STATE [--no-validate]`: replaces the record with a complete state, so earlier partial state is
 * ignored from now on. Throws InvalidStateInputError / InvalidStateIdError / StatePersistenceError / StateLockedError.
 */
export async function setState(
  store: StateStore,
  stateId: string,
  state: JsonObject,
  options: { validate?: boolean } = {},
): Promise<void> {
  assertStorableStateId(stateId);
  if (options.validate !== false) assertSingerState(state, `'state set ${stateId}'`);
  await store.set(stateId, { completed: state, partial: {} });
}

/**
 * `state merge <id> (STATE | --from-state-id SRC)`: deep-merges the state into the stored partial state
 * (the new values win). Returns the merged state the next run would use.
 * @throws InvalidStateInputError when the state lacks `singer_state` or SRC has no state; backend errors.
 */
export async function mergeState(
  store: StateStore,
  stateId: string,
  source: { state: JsonObject } | { fromStateId: string },
): Promise<JsonObject> {
  assertStorableStateId(stateId);
  const state = 'state' in source ? source.state : await getSourceState(store, source.fromStateId, 'merge');
  const label = 'state' in source ? `'state merge ${stateId}'` : `state ID '${source.fromStateId}'`;
  assertSingerState(state, label);
  // `update` persists `{singer_state}`; Meltano keeps other top-level keys too, so they go through `set`.
  const { singer_state: singerState, ...rest } = state;
  const written = await store.update(stateId, singerState, 'partial');
  if (Object.keys(rest).length === 0) return mergedState(written);
  const record = { completed: written.completed, partial: merge(rest, written.partial) };
  await store.set(stateId, record);
  return mergedState(record);
}

/** `state clear <id>`: returns whether there was state. Throws InvalidStateIdError / backend errors. */
export async function clearState(store: StateStore, stateId: string): Promise<boolean> {
  return store.clear(stateId);
}

/** `state clear --all`: returns the cleared IDs. Throws backend errors. */
export async function clearAllStates(store: StateStore): Promise<string[]> {
  const ids = await store.list();
  for (const id of ids) await store.clear(id);
  return ids;
}

/**
 * `state copy <src> <dst>`: `set(dst, get(src))`, i.e. dst gets src's merged state as complete state.
 * @throws InvalidStateInputError when src has no state or lacks `singer_state`; backend errors.
 */
export async function copyState(store: StateStore, source: string, destination: string): Promise<void> {
  assertStorableStateId(destination);
  const state = await getSourceState(store, source, 'copy');
  assertSingerState(state, `state ID '${source}'`);
  await store.set(destination, { completed: state, partial: {} });
}

/** `state move <src> <dst>`: copy, then clear src. Throws as `copyState`. */
export async function moveState(store: StateStore, source: string, destination: string): Promise<void> {
  await copyState(store, source, destination);
  await store.clear(source);
}

/** `state export [--pattern]`: every record as stored. Throws backend errors. */
export async function exportStates(store: StateStore, pattern?: string): Promise<StateExport> {
  const out: StateExport = {};
  for (const id of await store.list(pattern)) {
    const record = await store.get(id);
    if (record) out[id] = record;
  }
  return out;
}

/**
 * `state import FILE|-`: writes every record of an export, replacing what each ID had. Returns the IDs written.
 * @throws InvalidStateInputError when `data` is not `{state_id: {"completed": {...}, "partial": {...}}}`
 * (nothing is written then); InvalidStateIdError; backend errors.
 */
export async function importStates(store: StateStore, data: unknown, source = 'the import'): Promise<string[]> {
  if (!isJsonObject(data)) {
    throw new InvalidStateInputError(
      `State from ${source} is not a JSON object; expected {"<state_id>": {"completed": {...}, "partial": {...}}} as 'state export' writes it.`,
    );
  }
  const records: [string, StateRecord][] = [];
  for (const [id, value] of Object.entries(data)) {
    assertStorableStateId(id);
    const completed = isJsonObject(value) ? value.completed : undefined;
    const partial = isJsonObject(value) ? value.partial : undefined;
    if (!isJsonObject(completed) || !isJsonObject(partial)) {
      throw new InvalidStateInputError(
        `State from ${source}: entry '${id}' needs objects under both "completed" and "partial"; expected {"completed": {...}, "partial": {...}} as 'state export' writes it.`,
      );
    }
    records.push([id, { completed, partial }]);
  }
  for (const [id, record] of records) await store.set(id, record);
  return records.map(([id]) => id);
}

async function getSourceState(store: StateStore, stateId: string, verb: string): Promise<JsonObject> {
  const state = await getState(store, stateId);
  if (Object.keys(state).length === 0) {
    throw new InvalidStateInputError(
      `Cannot ${verb} from state ID '${stateId}': it has no state in ${store.label}; check the ID with 'floe state list'.`,
    );
  }
  return state;
}

function assertSingerState(state: JsonObject, source: string): void {
  if (!('singer_state' in state)) {
    throw new InvalidStateInputError(
      `State from ${source} has no top-level "singer_state"; wrap the Singer state as {"singer_state": {...}}, or pass --no-validate to 'state set'.`,
    );
  }
}
