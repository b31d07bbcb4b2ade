/**
 * Terminology:
 * - state ID: the key a pipeline's state lives under (see state-id.ts).
 * - record: `{completed, partial}` exactly as Meltano's `file://` backend stores it; each side is a payload
 *   `{"singer_state": <the target's STATE value>}` (or `{}`).
 * - lock: short, held only around one read-modify-write of a record (Meltano's `acquire_lock`).
 * - run lease: long, held for a whole run so one state ID has at most one run at a time across processes and
 *   machines (Meltano's "already running" guard, which only works with its system DB: meltano#9947).
 */
import { RuntimeError } from '../shared/errors';
import type { JsonObject, StateFlag } from './merge';

export interface StateRecord {
  completed: JsonObject;
  partial: JsonObject;
}

export interface LeaseOptions {
  /** Who runs: shown to whoever is refused (e.g. `<workflowId>/<runId>@<host>`). */
  owner: string;
  /** A lease not renewed within this many milliseconds is stale and may be taken by another run. */
  ttlMs: number;
  /** Take the lease even when another owner holds a live one (`--force`). */
  force?: boolean;
}

export interface LeaseInfo {
  owner: string;
  acquiredAt: Date;
  expiresAt: Date;
}

export interface Lease {
  readonly stateId: string;
  readonly owner: string;
  /**
   * Extends the lease by its ttl.
   * @throws StateIdBusyError when the lease was lost (taken over with --force or after it went stale).
   */
  renew(): Promise<void>;
  /** Gives the lease up; a no-op when it is no longer ours. Throws StatePersistenceError on I/O failure. */
  release(): Promise<void>;
}

export interface StateStore {
  /** Human-readable location for messages (never contains a password). */
  readonly label: string;
  /** The stored record, or undefined when the ID has none. Throws StatePersistenceError on I/O failure. */
  get(stateId: string): Promise<StateRecord | undefined>;
  /** Replaces the record as is. Throws StatePersistenceError / StateLockedError. */
  set(stateId: string, record: StateRecord): Promise<void>;
  /**
   * Persists one STATE value under the store's lock: 'complete' replaces the record with
   * `{completed: {singer_state}, partial: {}}`, 'partial' deep-merges `{singer_state}` into partial.
   * Returns the record as written. Throws StatePersistenceError / StateLockedError.
   */
  update(stateId: string, singerState: unknown, flag: StateFlag): Promise<StateRecord>;
  /** Removes the record; returns whether there was one. Throws StatePersistenceError / StateLockedError. */
  clear(stateId: string): Promise<boolean>;
  /** Sorted state IDs, optionally filtered by a glob (`*`, `?`, `[...]`). Throws StatePersistenceError. */
  list(pattern?: string): Promise<string[]>;
  /**
   * Claims the right to run the pipeline of `stateId`.
   * @throws StateIdBusyError when another owner holds a live lease and `force` is not set.
   */
  acquireRunLease(stateId: string, options: LeaseOptions): Promise<Lease>;
  /** The current lease holder, if any (stale leases included, with their expiry). */
  describeRunLease(stateId: string): Promise<LeaseInfo | undefined>;
  /** Frees connections; the store is unusable afterwards. */
  close(): Promise<void>;
}

/** The short read-modify-write lock could not be taken in time, or was lost before the write. */
export class StateLockedError extends RuntimeError {
  override readonly name: string = 'StateLockedError';
  constructor(
    readonly stateId: string,
    readonly lockPath: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reading or writing state failed; the run must fail rather than drift silently (Meltano PR #9922). */
export class StatePersistenceError extends RuntimeError {
  override readonly name: string = 'StatePersistenceError';
}

/** Another run holds the state ID's lease. */
export class StateIdBusyError extends RuntimeError {
  override readonly name: string = 'StateIdBusyError';
  constructor(
    readonly stateId: string,
    readonly holder: LeaseInfo,
    message?: string,
  ) {
    super(
      message ??
        `Another run of '${stateId}' is already running: '${holder.owner}' holds it since ` +
          `${holder.acquiredAt.toISOString()} (lease valid until ${holder.expiresAt.toISOString()}); ` +
          'wait for it to finish, or pass --force if you are sure it is gone.',
    );
  }
}

/** The error `Lease.renew` throws when the lease is no longer ours. Never throws. */
export function lostLeaseError(stateId: string, owner: string, holder: LeaseInfo | undefined): StateIdBusyError {
  const now = holder ? `'${holder.owner}' holds it since ${holder.acquiredAt.toISOString()}` : 'nobody holds it now';
  return new StateIdBusyError(
    stateId,
    holder ?? { owner: '', acquiredAt: new Date(0), expiresAt: new Date(0) },
    `The run lease of '${stateId}' held by '${owner}' was lost (${now}): it was not renewed within its ttl or was taken with --force; stop this run.`,
  );
}

/** Builds the record a store writes for one STATE value (shared by all backends). Never throws. */
export function singerPayload(singerState: unknown): JsonObject {
  return { singer_state: singerState };
}

/**
 * Translates a glob as used by `meltano state list --pattern` (Python `glob` semantics on one path segment)
 * into an anchored RegExp. Never throws: an unclosed '[' matches itself.
 */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) {
        re += '\\[';
      } else {
        let body = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}
