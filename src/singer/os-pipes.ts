/**
 * Kernel pipes for the relay's data path. Node gives a child's `stdio: 'pipe'` a socketpair (libuv), and a
 * unix socket costs more than a pipe per message: Singer SDK taps write and flush every message, so each
 * ~200-byte write allocates a socket buffer on the tap's side and wakes the relay once, and the socket holds
 * only ~167 such messages before the tap blocks (a pipe holds 64 KiB whatever the message size). Node cannot
 * call pipe(2), so each pipe is a FIFO made in a private temporary directory, opened at both ends and
 * unlinked at once: what remains is an anonymous kernel pipe, exactly what `tap | target` in a shell gets.
 *
 * Both ends are opened blocking (the plugin end stays so: Python and most programs expect a blocking stdio);
 * libuv switches floe's end to non-blocking on its own description when it wraps it in a socket.
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** One pipe: bytes written to `writeFd` are read from `readFd`. The caller owns and closes both. */
export interface OsPipe {
  readFd: number;
  writeFd: number;
}

/**
 * Creates `count` pipes, or returns undefined when this system cannot (no `mkfifo`, not a POSIX system):
 * the caller then falls back to Node's socketpairs, which work the same, only slower.
 */
export async function createOsPipes(count: number): Promise<OsPipe[] | undefined> {
  if (count === 0) return [];
  if (process.platform === 'win32') return undefined;
  let dir: string | undefined;
  const opened: number[] = [];
  try {
    dir = await mkdtemp(join(tmpdir(), 'floe-pipes-'));
    const paths = Array.from({ length: count }, (_, i) => join(dir!, `p${i}`));
    // One process for all of a run's FIFOs; mode 0600 (only floe's own user could open them meanwhile).
    await execFileAsync('mkfifo', ['-m', '600', ...paths]);
    const pipes: OsPipe[] = [];
    for (const p of paths) {
      // Opening a FIFO blocks until the other side is open, unless non-blocking: a throw-away non-blocking
      // reader lets the writer open at once, and the writer then lets the real (blocking) reader open at once.
      const probe = openSync(p, constants.O_RDONLY | constants.O_NONBLOCK);
      opened.push(probe);
      const writeFd = openSync(p, constants.O_WRONLY);
      opened.push(writeFd);
      const readFd = openSync(p, constants.O_RDONLY);
      opened.push(readFd);
      closeSync(probe);
      opened.splice(opened.indexOf(probe), 1);
      pipes.push({ readFd, writeFd });
    }
    return pipes;
  } catch {
    for (const fd of opened) closeQuietly(fd);
    return undefined;
  } finally {
    // The open ends keep the pipes alive; the names are no longer needed.
    if (dir !== undefined) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Closes a descriptor, ignoring an already closed one. */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // EBADF: already closed.
  }
}
