import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { runRelay, startRelay } from '../../../src/singer/relay';
import {
  fixture,
  isAlive,
  ONE_RECORD_SH,
  readPid,
  reportFdSh,
  shPlugin,
  tempDir,
  waitGone,
} from '../../fixtures/plugins/helpers';

describe('singer/relay termination', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('lets the target finish and keeps its state when the tap fails mid-stream', async () => {
    const states: unknown[] = [];
    const result = await runRelay({
      plugins: [
        fixture('tap-gen', 'tap', 'tap-gen.js', [
          '--streams',
          'a=10',
          '--state-every',
          '2',
          '--fail-after',
          '5',
          '--exit-code',
          '3',
        ]),
        fixture('target-collect', 'target', 'target-collect.js'),
      ],
      onState: (v) => void states.push(v),
    });
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'extractor');
    assert.equal(
      result.message,
      "Extractor failed: 'tap-gen' exited with code 3; the loader was let finish and the state it emitted was kept, see the extractor's log lines for the cause.",
    );
    assert.deepEqual(result.exitCodes, { 'tap-gen': 3, 'target-collect': 0 });
    assert.deepEqual(states, [{ bookmarks: { a: 4 }, n: 4 }]);
    assert.deepEqual(result.lastState, { bookmarks: { a: 4 }, n: 4 });
    assert.equal(result.streams.a!.records, 5);
  });

  it('stops the tap (no orphan) and fails when the target exits first with an error', async () => {
    const tapPid = path.join(dir, 'tap.pid');
    const result = await runRelay({
      plugins: [
        fixture('tap-gen', 'tap', 'tap-gen.js', ['--forever', '--pidfile', tapPid]),
        fixture('target-collect', 'target', 'target-collect.js', ['--exit-after-lines', '500', '--exit-code', '2']),
      ],
      killGraceMs: 2000,
    });
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'loader');
    assert.equal(
      result.message,
      "Loader failed: 'target-collect' exited with code 2 before its input ended, so floe stopped the plugins upstream; see its log lines for the cause.",
    );
    assert.deepEqual(result.exitCodes, { 'tap-gen': 'SIGTERM', 'target-collect': 2 });
    assert.equal(await isAlive(await readPid(tapPid)), false);
  });

  it('succeeds when the target exits 0 before its input ended, as Meltano does', async () => {
    const result = await runRelay({
      plugins: [
        fixture('tap-gen', 'tap', 'tap-gen.js', ['--forever']),
        fixture('mapper-pass', 'mapper', 'mapper-pass.js'),
        fixture('target-collect', 'target', 'target-collect.js', ['--exit-after-lines', '500']),
      ],
      killGraceMs: 2000,
    });
    assert.equal(result.status, 'succeeded', result.message);
    assert.equal(result.exitCodes['target-collect'], 0);
  });

  it('stops every plugin with "Mappers failed" when a mapper fails', async () => {
    const tapPid = path.join(dir, 'tap.pid');
    const targetPid = path.join(dir, 'target.pid');
    const result = await runRelay({
      plugins: [
        fixture('tap-gen', 'tap', 'tap-gen.js', ['--forever', '--pidfile', tapPid]),
        fixture('mapper-pass', 'mapper', 'mapper-pass.js', ['--fail-after-lines', '1000', '--exit-code', '4']),
        fixture('target-collect', 'target', 'target-collect.js', ['--pidfile', targetPid]),
      ],
      killGraceMs: 2000,
    });
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'mapper');
    assert.equal(
      result.message,
      "Mappers failed: mapper 'mapper-pass' exited with code 4, so every plugin was stopped; see its log lines for the cause.",
    );
    assert.deepEqual(result.exitCodes, { 'tap-gen': 'SIGTERM', 'mapper-pass': 4, 'target-collect': 'SIGTERM' });
    assert.equal(await isAlive(await readPid(tapPid)), false);
    // Under load SIGTERM can reach the target before it wrote its pid file; then it never ran at all.
    const target = await readPid(targetPid).catch(() => undefined);
    if (target !== undefined) assert.equal(await isAlive(target), false);
  });

  it('fails naming the signal when a plugin is killed by a signal floe did not send', async () => {
    const result = await runRelay({
      plugins: [
        fixture('tap-gen', 'tap', 'tap-gen.js', ['--streams', 'a=10', '--sigkill-after', '3']),
        fixture('target-collect', 'target', 'target-collect.js'),
      ],
    });
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'signal');
    assert.equal(
      result.message,
      "Extractor 'tap-gen' was killed by signal SIGKILL, which floe did not send (out of memory or an operator?); check the system log and rerun.",
    );
    assert.deepEqual(result.exitCodes, { 'tap-gen': 'SIGKILL', 'target-collect': 0 });
  });

  it('cancels on abort, delivers the state the target emits on SIGTERM and leaves no grandchild', async () => {
    const tapPid = path.join(dir, 'tap.pid');
    const grandchildPid = path.join(dir, 'grandchild.pid');
    const controller = new AbortController();
    const states: unknown[] = [];
    const handle = startRelay({
      plugins: [
        fixture('tap-gen', 'tap', 'tap-gen.js', [
          '--streams',
          'a=3',
          '--forever',
          '--pidfile',
          tapPid,
          '--grandchild',
          grandchildPid,
        ]),
        fixture('target-collect', 'target', 'target-collect.js', ['--sigterm-state']),
      ],
      signal: controller.signal,
      killGraceMs: 5000,
      progressIntervalMs: 10,
      onProgress: (p) => {
        if (p.totals.records > 10_000) controller.abort();
      },
      onState: (v) => void states.push(v),
    });
    const result = await handle.result;
    assert.equal(result.status, 'cancelled');
    assert.equal(
      result.message,
      "Run cancelled: floe sent SIGTERM to every plugin's process group (SIGKILL after 5000 ms) and waited for them to exit.",
    );
    // The SDK-like target exits 0 on SIGTERM after writing its state; the run is still cancelled.
    assert.deepEqual(result.exitCodes, { 'tap-gen': 'SIGTERM', 'target-collect': 0 });
    assert.deepEqual(states, [{ bookmarks: { a: 3 }, n: 3 }]);
    assert.equal(await isAlive(await readPid(tapPid)), false);
    assert.equal(await waitGone(await readPid(grandchildPid)), true);
  });

  it('escalates to SIGKILL after killGraceMs when a plugin ignores SIGTERM', async () => {
    const tapPid = path.join(dir, 'tap.pid');
    const controller = new AbortController();
    const handle = startRelay({
      plugins: [
        fixture('tap-gen', 'tap', 'tap-gen.js', ['--forever', '--ignore-sigterm', '--pidfile', tapPid]),
        fixture('target-collect', 'target', 'target-collect.js'),
      ],
      signal: controller.signal,
      killGraceMs: 300,
      progressIntervalMs: 10,
      onProgress: (p) => {
        if (p.totals.records > 1000) controller.abort();
      },
    });
    const result = await handle.result;
    assert.equal(result.status, 'cancelled');
    assert.deepEqual(result.exitCodes, { 'tap-gen': 'SIGKILL', 'target-collect': 'SIGTERM' });
    assert.equal(await isAlive(await readPid(tapPid)), false);
  });

  it('returns cancelled without starting anything when the signal is already aborted', async () => {
    const result = await runRelay({
      plugins: [fixture('tap-gen', 'tap', 'tap-gen.js'), fixture('target-collect', 'target', 'target-collect.js')],
      signal: AbortSignal.abort(),
    });
    assert.equal(result.status, 'cancelled');
    assert.deepEqual(result.exitCodes, { 'tap-gen': null, 'target-collect': null });
  });

  it('keeps the bytes buffered inside the relay bounded when a slow target meets a fast tap', async () => {
    const summary = path.join(dir, 'summary.json');
    const result = await runRelay({
      plugins: [
        fixture('tap-gen', 'tap', 'tap-gen.js', ['--streams', 'a=100000', '--pad', '200']),
        fixture('mapper-pass', 'mapper', 'mapper-pass.js'),
        fixture('target-collect', 'target', 'target-collect.js', ['--slow-ms', '2', '--summary', summary]),
      ],
      hopBufferBytes: 128 * 1024,
    });
    assert.equal(result.status, 'succeeded', result.message);
    assert.ok(result.totals.bytes > 25_000_000, `tap wrote only ${result.totals.bytes} bytes`);
    // Without back-pressure the relay would hold most of the tap's 25 MB; with it, per hop at most the
    // allowance plus the reads already in flight when it was crossed (two 64 KiB reads were seen under load),
    // plus the heads of partial lines.
    const bound = 2 * (128 * 1024 + 2 * 64 * 1024) + 8 * 1024;
    assert.ok(result.maxBufferedBytes <= bound, `relay buffered up to ${result.maxBufferedBytes} bytes`);
    assert.deepEqual(JSON.parse(await fs.readFile(summary, 'utf8')).streams, { a: 100000 });
  });

  for (const socketpairs of [false, true]) {
    it(`kills the group when a tap exits but its background child keeps stdout open (${socketpairs ? 'socketpairs' : 'kernel pipes'})`, async () => {
      const childPid = path.join(dir, 'child.pid');
      const logs: string[] = [];
      const result = await runRelay({
        plugins: [
          shPlugin('tap-sh', 'tap', `sleep 60 2> /dev/null & echo $! > '${childPid}'; ${ONE_RECORD_SH}`),
          fixture('target-collect', 'target', 'target-collect.js'),
        ],
        socketpairs,
        killGraceMs: 300,
        onLog: (e) => logs.push(`${e.plugin} ${e.stream} ${e.line}`),
      });
      assert.equal(result.status, 'succeeded', result.message);
      assert.equal(result.streams.a!.records, 1);
      assert.ok(
        logs.includes(
          "tap-sh relay Extractor 'tap-sh' exited but its child processes kept its pipes open; killed its process group.",
        ),
        logs.join('\n'),
      );
      assert.equal(await waitGone(await readPid(childPid)), true);
    });
  }

  it('gives the plugins kernel pipes for the data path (as a shell pipe would), not socketpairs', async () => {
    const logs: string[] = [];
    const result = await runRelay({
      plugins: [
        shPlugin('tap-sh', 'tap', reportFdSh(1)),
        shPlugin('mapper-sh', 'mapper', `${reportFdSh(0)}; ${reportFdSh(1)}; cat`),
        shPlugin('target-sh', 'target', `${reportFdSh(0)}; cat > /dev/null`),
      ],
      onLog: (e) => {
        if (e.stream === 'stderr') logs.push(`${e.plugin} ${e.line.replace(/\[\d+\]|floe-pipes-\w+\/p\d/g, '#')}`);
      },
    });
    assert.equal(result.status, 'succeeded', result.message);
    // readlink may run before or after floe unlinked the FIFO's name: either way a FIFO, not a socket.
    const normalized = logs.map((l) => l.replace(/\/tmp\/# \(deleted\)|\/tmp\/#/, 'fifo')).sort();
    assert.deepEqual(normalized, ['mapper-sh fifo', 'mapper-sh fifo', 'tap-sh fifo', 'target-sh fifo']);
  });

  it('leaves no descriptor of its pipes open, however a run ends', async () => {
    const openFds = async (): Promise<string[]> => (await fs.readdir('/proc/self/fd')).sort();
    const tap = (args: string[] = []) => fixture('tap-gen', 'tap', 'tap-gen.js', ['--streams', 'a=2000', ...args]);
    const mapper = (args: string[] = []) => fixture('mapper-pass', 'mapper', 'mapper-pass.js', args);
    const target = (args: string[] = []) => fixture('target-collect', 'target', 'target-collect.js', args);
    const missing = (role: 'tap' | 'mapper' | 'target') => ({
      name: `${role}-missing`,
      role,
      command: path.join(dir, 'no-such-plugin'),
      args: [],
    });
    // A first run loads what Node keeps open for good (modules, the signal pipe of child processes).
    await runRelay({ plugins: [tap(), target()] });
    const before = await openFds();
    const runs: Array<{
      label: string;
      status: string;
      plugins: Parameters<typeof runRelay>[0]['plugins'];
      abortAfterMs?: number;
    }> = [
      { label: 'succeeds through a mapper', status: 'succeeded', plugins: [tap(), mapper(), target()] },
      { label: 'tap cannot start', status: 'failed', plugins: [missing('tap'), mapper(), target()] },
      { label: 'mapper cannot start', status: 'failed', plugins: [tap(), missing('mapper'), target()] },
      { label: 'target cannot start', status: 'failed', plugins: [tap(), missing('target')] },
      { label: 'tap fails', status: 'failed', plugins: [tap(['--fail-after', '10', '--exit-code', '3']), target()] },
      {
        label: 'target exits first',
        status: 'failed',
        plugins: [tap(['--forever']), target(['--exit-after-lines', '50', '--exit-code', '2'])],
      },
      { label: 'cancelled', status: 'cancelled', plugins: [tap(['--forever']), mapper(), target()], abortAfterMs: 100 },
    ];
    for (const run of runs) {
      const controller = new AbortController();
      const timer = run.abortAfterMs === undefined ? undefined : setTimeout(() => controller.abort(), run.abortAfterMs);
      const result = await runRelay({ plugins: run.plugins, signal: controller.signal, killGraceMs: 1000 });
      clearTimeout(timer);
      assert.equal(result.status, run.status, `${run.label}: ${result.message}`);
      assert.deepEqual(await openFds(), before, `descriptors left open after: ${run.label}`);
    }
  });
});
