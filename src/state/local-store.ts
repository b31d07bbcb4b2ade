/**
 * The local backend: Meltano's `file://` layout, so a Meltano project's `state_backend.uri: file:///...`
 * directory can be used as is (meltano.md §5.5):
 *   <root>/<state_id>/state.json   {"completed": {...}, "partial": {...}}
 *   <root>/<state_id>/lock         UTC epoch seconds while a writer holds it (see file-lock.ts)
 *   <root>/<state_id>/run.lease    floe only: the run lease (Meltano ignores unknown files)
 * Writes are atomic (temp file in the same directory, fsync, rename, fsync of the directory), so a crash never
 * leaves a half-written state.json; readers need no lock.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { acquireFileLock, type FileLockOptions, type HeldLock } from './file-lock';
import { applyStateWrite, isJsonObject, type StateFlag } from './merge';
import { assertStorableStateId } from './state-id';
import {
  globToRegExp,
  lostLeaseError,
  singerPayload,
  StateIdBusyError,
  StatePersistenceError,
  type Lease,
  type LeaseInfo,
  type LeaseOptions,
  type StateRecord,
  type StateStore,
} from './store';

export interface LocalStateStoreOptions {
  /** Directory holding one sub-directory per state ID. Created when missing. */
  root: string;
  /** Meltano's `state_backend.lock_timeout_seconds` (default 10): a lock older than this is stale. */
  lockTimeoutSeconds?: number;
  /** How long a writer waits for the lock before StateLockedError (default: 3 x the lock timeout). */
  lockWaitMs?: number;
}

interface LeaseFile {
  owner: string;
  token: string;
  acquiredAt: string;
  expiresAt: string;
}

export class LocalStateStore implements StateStore {
  readonly label: string;
  private readonly lockOptions: FileLockOptions;

  constructor(private readonly options: LocalStateStoreOptions) {
    this.label = `file://${options.root}`;
    const staleMs = (options.lockTimeoutSeconds ?? 10) * 1000;
    this.lockOptions = { staleMs, waitMs: options.lockWaitMs ?? staleMs * 3, retryMs: 10 };
  }

  async get(stateId: string): Promise<StateRecord | undefined> {
    assertStorableStateId(stateId);
    try {
      return await this.readRecord(stateId);
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      // A Meltano writer (truncate, then write) may be mid-write: waiting for its lock gives the whole file.
      return this.withLock(stateId, async () => this.readRecord(stateId)).catch((again: unknown) => {
        throw again instanceof SyntaxError ? this.persistenceError('parse', stateId, again) : again;
      });
    }
  }

  async set(stateId: string, record: StateRecord): Promise<void> {
    assertStorableStateId(stateId);
    await this.withLock(stateId, async (lock) => this.write(stateId, record, lock));
  }

  async update(stateId: string, singerState: unknown, flag: StateFlag): Promise<StateRecord> {
    assertStorableStateId(stateId);
    return this.withLock(stateId, async (lock) => {
      const current = flag === 'partial' ? await this.readRecord(stateId).catch(this.parseFailure(stateId)) : undefined;
      const next = applyStateWrite(current, singerPayload(singerState), flag);
      await this.write(stateId, next, lock);
      return next;
    });
  }

  async clear(stateId: string): Promise<boolean> {
    assertStorableStateId(stateId);
    const existed = await this.withLock(stateId, async () => {
      try {
        await fs.unlink(this.statePath(stateId));
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw this.persistenceError('delete', stateId, err);
      }
    });
    // Meltano removes the whole directory; we only remove it once empty so a live lease or lock survives.
    await fs.rmdir(this.dir(stateId)).catch(() => undefined);
    return existed;
  }

  async list(pattern?: string): Promise<string[]> {
    const matcher = pattern === undefined ? undefined : globToRegExp(pattern);
    let entries: string[];
    try {
      entries = await fs.readdir(this.options.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new StatePersistenceError(
        `Cannot list state IDs in '${this.options.root}': ${(err as Error).message}; check the directory's permissions.`,
      );
    }
    const ids: string[] = [];
    for (const id of entries) {
      if (matcher && !matcher.test(id)) continue;
      if (await exists(path.join(this.options.root, id, 'state.json'))) ids.push(id);
    }
    return ids.sort();
  }

  async acquireRunLease(stateId: string, options: LeaseOptions): Promise<Lease> {
    assertStorableStateId(stateId);
    const token = randomBytes(12).toString('hex');
    await this.withLock(stateId, async (lock) => {
      const held = await this.readLease(stateId);
      const live = held && new Date(held.expiresAt).getTime() > Date.now();
      // The same owner re-acquiring is a retried attempt of the same run (e.g. after a worker crash).
      if (held && live && held.owner !== options.owner && !options.force) {
        throw new StateIdBusyError(stateId, toInfo(held));
      }
      await this.writeLease(stateId, leaseFile(options, token, new Date()), lock);
    });
    return {
      stateId,
      owner: options.owner,
      renew: async () => {
        await this.withLock(stateId, async (lock) => {
          const held = await this.readLease(stateId);
          if (held?.token !== token) throw lostLeaseError(stateId, options.owner, held && toInfo(held));
          await this.writeLease(
            stateId,
            { ...leaseFile(options, token, new Date()), acquiredAt: held.acquiredAt },
            lock,
          );
        });
      },
      release: async () => {
        await this.withLock(stateId, async () => {
          if ((await this.readLease(stateId))?.token === token) await fs.rm(this.leasePath(stateId), { force: true });
        });
      },
    };
  }

  async describeRunLease(stateId: string): Promise<LeaseInfo | undefined> {
    assertStorableStateId(stateId);
    const held = await this.readLease(stateId);
    return held && toInfo(held);
  }

  async close(): Promise<void> {}

  private dir(stateId: string): string {
    return path.join(this.options.root, stateId);
  }

  private statePath(stateId: string): string {
    return path.join(this.dir(stateId), 'state.json');
  }

  private leasePath(stateId: string): string {
    return path.join(this.dir(stateId), 'run.lease');
  }

  /** Undefined when absent; SyntaxError when the file is not a record; StatePersistenceError on I/O failure. */
  private async readRecord(stateId: string): Promise<StateRecord | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.statePath(stateId), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.persistenceError('read', stateId, err);
    }
    return parseRecord(text);
  }

  private parseFailure(stateId: string): (err: unknown) => never {
    return (err) => {
      throw err instanceof SyntaxError ? this.persistenceError('parse', stateId, err) : err;
    };
  }

  private async withLock<T>(stateId: string, body: (lock: HeldLock) => Promise<T>): Promise<T> {
    let lock: HeldLock;
    try {
      await fs.mkdir(this.dir(stateId), { recursive: true });
      lock = await acquireFileLock(stateId, path.join(this.dir(stateId), 'lock'), this.lockOptions);
    } catch (err) {
      if (err instanceof Error && err.name === 'StateLockedError') throw err;
      throw this.persistenceError('lock', stateId, err);
    }
    try {
      return await body(lock);
    } finally {
      await lock.release();
    }
  }

  private async write(stateId: string, record: StateRecord, lock: HeldLock): Promise<void> {
    await this.atomicWrite(stateId, this.statePath(stateId), JSON.stringify(record), lock);
  }

  private async readLease(stateId: string): Promise<LeaseFile | undefined> {
    try {
      return JSON.parse(await fs.readFile(this.leasePath(stateId), 'utf8')) as LeaseFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.persistenceError('read the run lease of', stateId, err);
    }
  }

  private async writeLease(stateId: string, lease: LeaseFile, lock: HeldLock): Promise<void> {
    await this.atomicWrite(stateId, this.leasePath(stateId), JSON.stringify(lease), lock);
  }

  /** Temp file + fsync + rename + directory fsync: the target is either the old or the new content. */
  private async atomicWrite(stateId: string, target: string, text: string, lock: HeldLock): Promise<void> {
    const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const handle = await fs.open(temp, 'wx');
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await lock.assertHeld();
      await fs.rename(temp, target);
      const dir = await fs.open(path.dirname(target), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch (err) {
      await fs.rm(temp, { force: true });
      if (err instanceof Error && err.name === 'StateLockedError') throw err;
      throw this.persistenceError('write', stateId, err);
    }
  }

  private persistenceError(verb: string, stateId: string, err: unknown): StatePersistenceError {
    const why = err instanceof Error ? err.message : String(err);
    return new StatePersistenceError(
      `Cannot ${verb} state '${stateId}' in '${this.options.root}': ${why}; check the file and the directory's permissions and free space.`,
    );
  }
}

function parseRecord(text: string): StateRecord {
  const parsed: unknown = JSON.parse(text);
  if (!isJsonObject(parsed)) throw new SyntaxError('state.json does not hold a JSON object');
  // Meltano writes both keys; tolerate hand-written files that omit one.
  const completed = isJsonObject(parsed.completed) ? parsed.completed : {};
  const partial = isJsonObject(parsed.partial) ? parsed.partial : {};
  return { completed, partial };
}

function leaseFile(options: LeaseOptions, token: string, now: Date): LeaseFile {
  return {
    owner: options.owner,
    token,
    acquiredAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + options.ttlMs).toISOString(),
  };
}

function toInfo(lease: LeaseFile): LeaseInfo {
  return { owner: lease.owner, acquiredAt: new Date(lease.acquiredAt), expiresAt: new Date(lease.expiresAt) };
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
