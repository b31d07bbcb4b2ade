import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { RelayConfigError, runRelay, startRelay } from '../../../src/singer/relay';
import type { RelayLogEntry, RelayProgress } from '../../../src/singer/relay-types';
import { FIXTURES, fixture, tempDir } from '../../fixtures/plugins/helpers';

/** Per-stream RECORD counts and bytes computed independently, by parsing the tap's own output. */
function expectedCounts(tapArgs: string[]): Record<string, { records: number; bytes: number }> {
  const out = execFileSync(path.join(FIXTURES, 'tap-gen.js'), tapArgs, {
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const streams: Record<string, { records: number; bytes: number }> = {};
  for (const line of out.toString('utf8').split('\n')) {
    let msg: { type?: string; stream?: string };
    try {
      msg = JSON.parse(line);
    } catch {
      continue;
    }
    if (msg.type !== 'RECORD' && msg.type !== 'SCHEMA') continue;
    const s = (streams[msg.stream!] ??= { records: 0, bytes: 0 });
    if (msg.type === 'RECORD') {
      s.records++;
      s.bytes += Buffer.byteLength(line) + 1;
    }
  }
  return streams;
}

describe('singer/relay', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  for (const style of ['spaced', 'compact', 'stream-first', 'record-first']) {
    it(`relays several streams through a mapper with exact counts (${style} lines)`, async () => {
      const tapArgs = [
        '--streams',
        'users=1200,orders=3000,empty=0',
        '--state-every',
        '1000',
        '--style',
        style,
        '--pad',
        '300',
      ];
      const summary = path.join(dir, 'summary.json');
      const states: unknown[] = [];
      const logs: RelayLogEntry[] = [];
      const result = await runRelay({
        plugins: [
          fixture('tap-gen', 'tap', 'tap-gen.js', tapArgs),
          fixture('mapper-pass', 'mapper', 'mapper-pass.js'),
          fixture('target-collect', 'target', 'target-collect.js', ['--emit-every-state', '--summary', summary]),
        ],
        onState: async (value) => {
          await new Promise((r) => setTimeout(r, 5));
          states.push(value);
        },
        onLog: (e) => logs.push(e),
      });
      const expected = expectedCounts(tapArgs);
      assert.equal(result.status, 'succeeded', result.message);
      assert.deepEqual(result.streams, expected);
      assert.deepEqual(result.exitCodes, { 'tap-gen': 0, 'mapper-pass': 0, 'target-collect': 0 });
      assert.equal(result.totals.records, 4200);
      assert.equal(result.totals.malformedLines, 0);
      assert.equal(result.outputs['tap-gen']!.bytes, result.totals.bytes);
      assert.equal(result.outputs['mapper-pass']!.bytes, result.totals.bytes);
      assert.deepEqual(JSON.parse(await fs.readFile(summary, 'utf8')).streams, { users: 1200, orders: 3000 });
      assert.equal(result.statesEmitted, 5);
      assert.deepEqual(
        states.map((s) => (s as { n: number }).n),
        [1000, 2000, 3000, 4000, 4200],
      );
      assert.deepEqual(result.lastState, { bookmarks: { users: 1200, orders: 3000 }, n: 4200 });
      assert.deepEqual(logs, [
        { plugin: 'tap-gen', stream: 'stderr', level: 'info', line: 'INFO fixture tap wrote 4200 records' },
      ]);
    });
  }

  it('reports progress on a timer and on demand', async () => {
    const seen: RelayProgress[] = [];
    const handle = startRelay({
      plugins: [
        fixture('tap-gen', 'tap', 'tap-gen.js', ['--streams', 'a=20000', '--pad', '100']),
        fixture('target-collect', 'target', 'target-collect.js', ['--slow-ms', '1']),
      ],
      progressIntervalMs: 20,
      onProgress: (p) => seen.push(p),
    });
    assert.deepEqual(handle.getProgress().totals, { records: 0, bytes: 0, lines: 0, malformedLines: 0 });
    const result = await handle.result;
    assert.equal(result.status, 'succeeded');
    assert.ok(seen.length >= 2, `expected a timer snapshot and the final one, got ${seen.length}`);
    const last = seen[seen.length - 1]!;
    assert.deepEqual(last.streams, { a: result.streams.a });
    assert.equal(last.totals.records, 20000);
    assert.deepEqual(handle.getProgress().totals, result.totals);
  });

  it('forwards a tap line of exactly maxLineBytes across many chunks and counts it', async () => {
    const summary = path.join(dir, 'summary.json');
    const result = await runRelay({
      plugins: [
        fixture('tap-gen', 'tap', 'tap-gen.js', ['--streams', 'a=2', '--huge', String(1 << 20)]),
        fixture('target-collect', 'target', 'target-collect.js', ['--summary', summary]),
      ],
      maxLineBytes: 1 << 20,
    });
    assert.equal(result.status, 'succeeded', result.message);
    assert.deepEqual(result.streams.huge, { records: 1, bytes: (1 << 20) + 1 });
    assert.deepEqual(JSON.parse(await fs.readFile(summary, 'utf8')).streams, { a: 2, huge: 1 });
  });

  it('fails a run whose tap writes a line over maxLineBytes, naming elt.buffer_size', async () => {
    const result = await runRelay({
      plugins: [
        fixture('tap-gen', 'tap', 'tap-gen.js', ['--streams', 'a=2', '--huge', String((1 << 20) + 1)]),
        fixture('target-collect', 'target', 'target-collect.js'),
      ],
      maxLineBytes: 1 << 20,
      killGraceMs: 2000,
    });
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'line_too_long');
    assert.equal(
      result.message,
      "Extractor 'tap-gen' wrote a line longer than 1048576 bytes (half of elt.buffer_size = 2097152); raise elt.buffer_size above twice the longest message, or make the plugin write smaller messages.",
    );
  });

  it('forwards malformed tap lines untouched and lets the target decide', async () => {
    const summary = path.join(dir, 'summary.json');
    const tolerant = await runRelay({
      plugins: [
        fixture('tap-gen', 'tap', 'tap-gen.js', ['--streams', 'a=3', '--malformed']),
        fixture('target-collect', 'target', 'target-collect.js', ['--summary', summary]),
      ],
    });
    assert.equal(tolerant.status, 'succeeded');
    assert.deepEqual(tolerant.streams, { a: tolerant.streams.a });
    assert.equal(tolerant.streams.a!.records, 3);
    assert.equal(tolerant.totals.malformedLines, 1);
    assert.deepEqual(JSON.parse(await fs.readFile(summary, 'utf8')), { streams: { a: 3 }, malformed: 1, lines: 6 });

    const strict = await runRelay({
      plugins: [
        fixture('tap-gen', 'tap', 'tap-gen.js', ['--streams', 'a=3', '--malformed']),
        fixture('target-collect', 'target', 'target-collect.js', ['--strict']),
      ],
    });
    assert.equal(strict.status, 'failed');
    assert.equal(
      strict.message,
      "Loader failed: 'target-collect' exited with code 1; see its log lines for the cause.",
    );
  });

  it('skips a target stdout line that is not JSON with a warning and keeps the states', async () => {
    const logs: RelayLogEntry[] = [];
    const states: unknown[] = [];
    const result = await runRelay({
      plugins: [
        fixture('tap-gen', 'tap', 'tap-gen.js', ['--streams', 'a=3']),
        fixture('target-collect', 'target', 'target-collect.js', ['--bad-stdout']),
      ],
      onState: (v) => void states.push(v),
      onLog: (e) => logs.push(e),
    });
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(states, [{ bookmarks: { a: 3 }, n: 3 }]);
    assert.equal(result.statesEmitted, 1);
    assert.deepEqual(
      logs.filter((l) => l.stream === 'relay'),
      [
        {
          plugin: 'target-collect',
          stream: 'relay',
          level: 'warn',
          line: "Loader 'target-collect' wrote a stdout line that is not JSON, so it is not a state and was skipped: not a state line",
        },
      ],
    );
  });

  it('succeeds with no state when the target never emits one', async () => {
    let calls = 0;
    const result = await runRelay({
      plugins: [
        fixture('tap-gen', 'tap', 'tap-gen.js', ['--streams', 'a=3', '--state-every', '1']),
        fixture('target-collect', 'target', 'target-collect.js', ['--no-state']),
      ],
      onState: () => void calls++,
    });
    assert.equal(result.status, 'succeeded');
    assert.equal(result.statesEmitted, 0);
    assert.equal(calls, 0);
    assert.equal('lastState' in result, false);
  });

  it('fails the run when persisting a state fails', async () => {
    const result = await runRelay({
      plugins: [
        fixture('tap-gen', 'tap', 'tap-gen.js', ['--streams', 'a=3']),
        fixture('target-collect', 'target', 'target-collect.js'),
      ],
      onState: () => Promise.reject(new Error('disk full')),
    });
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'state_persistence');
    assert.equal(
      result.message,
      "Persisting the state that loader 'target-collect' emitted failed (disk full); the run was stopped so stored state cannot drift from the loaded data, fix the state backend and rerun.",
    );
  });

  it('fails a run whose plugin cannot start', async () => {
    const result = await runRelay({
      plugins: [
        { name: 'tap-missing', role: 'tap', command: path.join(dir, 'no-such-tap'), args: [] },
        fixture('target-collect', 'target', 'target-collect.js'),
      ],
      killGraceMs: 2000,
    });
    assert.equal(result.status, 'failed');
    assert.equal(
      result.message,
      `Could not start extractor 'tap-missing' (command '${path.join(dir, 'no-such-tap')}'): spawn ${path.join(dir, 'no-such-tap')} ENOENT; install the plugin or fix its executable and rerun.`,
    );
    assert.equal(result.exitCodes['tap-missing'], null);
  });

  it('rejects a plugin list that is not tap, mappers, target', async () => {
    await assert.rejects(
      runRelay({ plugins: [fixture('t', 'target', 'target-collect.js'), fixture('x', 'tap', 'tap-gen.js')] }),
      new RelayConfigError(
        "Relay plugins must be one tap, then zero or more mappers, then one target (got roles 'target,tap'); fix the block so an extractor comes first and a loader last.",
      ),
    );
    await assert.rejects(
      runRelay({ plugins: [fixture('x', 'tap', 'tap-gen.js'), fixture('x', 'target', 'target-collect.js')] }),
      new RelayConfigError("Relay plugin name 'x' appears twice; give each plugin of the block a distinct name."),
    );
  });
});
