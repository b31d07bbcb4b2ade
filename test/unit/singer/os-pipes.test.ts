import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { closeQuietly, createOsPipes } from '../../../src/singer/os-pipes';
import { runRelay } from '../../../src/singer/relay';
import { ONE_RECORD_SH, reportFdSh, shPlugin } from '../../fixtures/plugins/helpers';

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

  it('returns undefined, holding no descriptor, where it cannot make pipes (the relay then uses socketpairs)', async () => {
    const saved = { TMPDIR: process.env.TMPDIR, PATH: process.env.PATH };
    // A first child process makes Node open descriptors it keeps for good (its SIGCHLD pipe).
    execFileSync('true');
    const before = fs.readdirSync('/proc/self/fd').length;
    try {
      process.env.TMPDIR = '/nonexistent/floe-no-tmp';
      assert.equal(await createOsPipes(2), undefined, 'no temporary directory');
      const logs: string[] = [];
      const result = await runRelay({
        plugins: [
          shPlugin('tap-sh', 'tap', `${reportFdSh(1)}; ${ONE_RECORD_SH}`),
          shPlugin('target-sh', 'target', 'cat > /dev/null'),
        ],
        onLog: (e) => void (e.stream === 'stderr' && logs.push(e.line)),
      });
      assert.equal(result.status, 'succeeded', result.message);
      assert.equal(result.totals.records, 1);
      assert.match(logs[0] ?? '', /^socket:/, 'the relay fell back to socketpairs');
      delete process.env.TMPDIR;
      process.env.PATH = '/nonexistent';
      assert.equal(await createOsPipes(2), undefined, 'no mkfifo');
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    assert.equal(fs.readdirSync('/proc/self/fd').length, before);
  });
});
