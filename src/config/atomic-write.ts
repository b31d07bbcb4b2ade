/**
 * Replacing a file so that readers (a worker reloading meltano.yml, the user's editor) see the old or the new
 * content, never a half-written file, and a crash mid-write leaves the old file in place.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Writes `content` to `file` atomically: a temp file in the same directory (rename is only atomic within one
 * file system), fsync, rename over the target, fsync the directory. Keeps the target's permission bits and
 * writes through a symlink to its real file rather than replacing the link.
 * @throws the underlying `NodeJS.ErrnoException` when the directory is not writable or the disk is full;
 *   the temp file is removed and the target is left untouched.
 */
export function writeFileAtomic(file: string, content: string): void {
  let target = file;
  let mode = 0o644;
  try {
    target = fs.realpathSync(file);
    mode = fs.statSync(target).mode & 0o7777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const dir = path.dirname(target);
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', mode);
    fs.writeFileSync(fd, content, 'utf8');
    // The umask may have narrowed the mode given to open.
    fs.fchmodSync(fd, mode);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, target);
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  syncDir(dir);
}

/** Makes the rename durable; some file systems do not support fsync on a directory, which is not an error. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Best effort: the data itself was already synced.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
