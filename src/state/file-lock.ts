/**
 * A cross-process lock file with Meltano's `file://` lock format: `<dir>/lock` holds the UTC epoch in seconds
 * (`str(datetime.now(timezone.utc).timestamp())`), so a Meltano process sharing the directory honours it and
 * floe honours Meltano's. Unlike Meltano (check-then-write, meltano.md §5.5) creation is exclusive (`O_EXCL`),
 * so two floe writers cannot both hold it. A Meltano writer that overwrites a live floe lock changes its content,
 * which the floe holder sees before committing (`assertHeld`), so it fails instead of losing an update.
 *
 * Stale takeover (holder older than the timeout, e.g. it crashed): the lock is renamed to a unique name, which
 * only one breaker can do, and the breaker checks that the inode it moved is the stale one it saw; if it moved
 * a fresh lock instead (another breaker replaced the stale one in between) it links it back. Release and the
 * commit check compare inode and content, so a holder whose lock was taken over never deletes the new holder's
 * lock and never commits (`assertHeld`). Residual window (accepted, documented): a third writer creating a lock in
 * the microseconds between that move and the link-back; it needs a stale lock and three writers at once.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { StateLockedError } from './store';

export interface FileLockOptions {
  /** A lock older than this is stale and may be taken over (Meltano's `lock_timeout_seconds`, default 10). */
  staleMs: number;
  /** Give up with StateLockedError after waiting this long. */
  waitMs: number;
  /** Poll interval while waiting. */
  retryMs: number;
}

export interface HeldLock {
  /** @throws StateLockedError when the lock was taken over (this holder stalled past the stale timeout). */
  assertHeld(): Promise<void>;
  release(): Promise<void>;
}

/**
 * Takes the lock at `lockPath` (creating its directory).
 * @throws StateLockedError when it stays held by someone else for `waitMs`; I/O errors other than contention.
 */
export async function acquireFileLock(stateId: string, lockPath: string, options: FileLockOptions): Promise<HeldLock> {
  const started = Date.now();
  let lastSeen: Date | undefined;
  for (;;) {
    const mine = await tryCreate(lockPath);
    if (mine !== undefined) return heldLock(stateId, lockPath, mine, options.staleMs);
    const seen = await inspect(lockPath);
    if (seen) {
      lastSeen = seen.lockedAt;
      if (Date.now() - seen.lockedAt.getTime() > options.staleMs) {
        await breakStale(lockPath, seen);
        continue;
      }
    }
    if (Date.now() - started >= options.waitMs) {
      const since = lastSeen ? ` (held since ${lastSeen.toISOString()})` : '';
      throw new StateLockedError(
        stateId,
        lockPath,
        `State '${stateId}' stayed locked for ${Math.round((Date.now() - started) / 1000)} s by lock '${lockPath}'${since}; ` +
          'another writer is updating it: retry, or delete the lock file if no floe or meltano process uses this state.',
      );
    }
    await sleep(options.retryMs * (0.5 + Math.random()));
  }
}

/** A lock file's identity: inode numbers are reused quickly, so the (unique) content is compared too. */
interface LockIdentity {
  ino: number;
  text: string;
}

/**
 * Meltano parses the lock with `float()`: a timestamp whose extra digits are random stays a valid float and
 * makes each lock's content unique.
 */
function lockText(now: number): string {
  const seconds = Math.floor(now / 1000);
  const millis = String(now % 1000).padStart(3, '0');
  const noise = String(randomBytes(4).readUInt32BE() % 1_000_000_000).padStart(9, '0');
  return `${seconds}.${millis}${noise}`;
}

async function tryCreate(lockPath: string): Promise<LockIdentity | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(lockPath, 'wx');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return undefined;
    if (code === 'ENOENT') {
      // The state directory is new, or `clear` removed it between our mkdir and open.
      await fs.mkdir(path.dirname(lockPath), { recursive: true });
      return undefined;
    }
    throw err;
  }
  try {
    const text = lockText(Date.now());
    await handle.writeFile(text);
    return { ino: (await handle.stat()).ino, text };
  } finally {
    await handle.close();
  }
}

async function inspect(lockPath: string): Promise<(LockIdentity & { lockedAt: Date }) | undefined> {
  try {
    const [stat, text] = await Promise.all([fs.stat(lockPath), fs.readFile(lockPath, 'utf8')]);
    const epoch = Number.parseFloat(text);
    // Empty content means the creator is between open and write: its mtime is the honest age.
    const lockedAt = Number.isFinite(epoch) ? new Date(epoch * 1000) : stat.mtime;
    return { ino: stat.ino, text, lockedAt };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function readIdentity(file: string): Promise<LockIdentity | undefined> {
  try {
    const [stat, text] = await Promise.all([fs.stat(file), fs.readFile(file, 'utf8')]);
    return { ino: stat.ino, text };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function sameLock(a: LockIdentity | undefined, b: LockIdentity): boolean {
  return a !== undefined && a.ino === b.ino && a.text === b.text;
}

async function breakStale(lockPath: string, stale: LockIdentity): Promise<void> {
  const aside = `${lockPath}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
  try {
    await fs.rename(lockPath, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // another breaker was first
    throw err;
  }
  if (!sameLock(await readIdentity(aside), stale)) {
    // We moved a fresh lock that replaced the stale one after we looked: put it back for its holder.
    try {
      await fs.link(aside, lockPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  await fs.rm(aside, { force: true });
}

function heldLock(stateId: string, lockPath: string, mine: LockIdentity, staleMs: number): HeldLock {
  const acquiredAt = new Date();
  return {
    async assertHeld() {
      if (!sameLock(await readIdentity(lockPath), mine)) {
        throw new StateLockedError(
          stateId,
          lockPath,
          `Lost the lock '${lockPath}' of state '${stateId}' taken at ${acquiredAt.toISOString()}: this writer ` +
            `stalled for more than ${staleMs / 1000} s and another writer took over, so nothing was written; retry.`,
        );
      }
    },
    async release() {
      if (sameLock(await readIdentity(lockPath), mine)) await fs.rm(lockPath, { force: true });
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
