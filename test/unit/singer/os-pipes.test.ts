import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { closeQuietly, createOsPipes } from '../../../src/singer/os-pipes';

describe('singer/os-pipes', () => {
  it('creates kernel pipes (FIFOs, no name left) whose data and EOF flow from write end to read end', async () => {
    const pipes = await createOsPipes(2);
    assert.ok(pipes, 'mkfifo is available on this system');
    try {
      assert.equal(pipes.length, 2);
      for (const { readFd, writeFd } of pipes) {
        assert.ok(fs.fstatSync(readFd).isFIFO());
        assert.ok(fs.fstatSync(writeFd).isFIFO());
        // Both ends blocking: a plugin gets its stdio as a shell would give it.
        const flags = parseInt(fs.readFileSync(`/proc/self/fdinfo/${readFd}`, 'utf8').match(/flags:\s+(\d+)/)![1]!, 8);
        assert.equal(flags & fs.constants.O_NONBLOCK, 0);
        assert.match(fs.readlinkSync(`/proc/self/fd/${readFd}`), / \(deleted\)$/);
      }
      const [a] = pipes;
      fs.writeSync(a!.writeFd, 'hello\n');
      fs.closeSync(a!.writeFd);
      const buf = Buffer.alloc(64);
      assert.equal(fs.readSync(a!.readFd, buf), 6);
      assert.equal(buf.toString('utf8', 0, 6), 'hello\n');
      assert.equal(fs.readSync(a!.readFd, buf), 0, 'EOF once the only write end is closed');
    } finally {
      for (const p of pipes ?? []) for (const fd of [p.readFd, p.writeFd]) closeQuietly(fd);
    }
  });

  it('returns an empty list for zero pipes', async () => {
    assert.deepEqual(await createOsPipes(0), []);
  });
});
