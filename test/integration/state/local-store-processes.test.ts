import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalStateStore } from '../../../src/state/local-store';

const CHILD = path.join(__dirname, 'state-writer-child.ts');

function runChild(args: string[]): { done: Promise<number | null>; kill: () => void; lines: string[] } {
  const child = spawn(process.execPath, ['-r', require.resolve('tsx/cjs'), CHILD, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 || code === null ? resolve(code) : reject(new Error(`writer exited ${code}: ${stderr}`)),
    );
  });
  return { done, kill: () => child.kill('SIGKILL'), lines };
}

describe('state/local-store across processes', () => {
  let root: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'floe-state-proc-'));
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('loses no update when several processes merge partial state at once', async () => {
    const writers = ['w0', 'w1', 'w2', 'w3'];
    const perWriter = 25;
    await Promise.all(
      writers.map((w) => runChild(['partial', root, 'dev:tap-a-to-target-b', w, String(perWriter)]).done),
    );
    const record = await new LocalStateStore({ root }).get('dev:tap-a-to-target-b');
    const keys = Object.keys((record?.partial.singer_state as { bookmarks: object }).bookmarks).sort();
    const expected = writers.flatMap((w) => Array.from({ length: perWriter }, (_, i) => `${w}-${i}`)).sort();
    assert.deepEqual(keys, expected);
    assert.deepEqual(await fs.readdir(path.join(root, 'dev:tap-a-to-target-b')), ['state.json']);
  });

  it('lets exactly one process at a time take over a stale lock', async () => {
    const id = 'dev:tap-stale-to-target-b';
    await fs.mkdir(path.join(root, id));
    await fs.writeFile(path.join(root, id, 'lock'), String(Date.now() / 1000 - 3600));
    const writers = ['a', 'b', 'c', 'd'];
    await Promise.all(writers.map((w) => runChild(['partial', root, id, w, '10']).done));
    const record = await new LocalStateStore({ root }).get(id);
    assert.equal(Object.keys((record?.partial.singer_state as { bookmarks: object }).bookmarks).length, 40);
  });

  it('keeps the last complete state readable when the writer is killed mid-write', async () => {
    const id = 'dev:tap-big-to-target-b';
    const child = runChild(['complete', root, id, String(2 * 1024 * 1024)]);
    let exited = false;
    void child.done.finally(() => (exited = true)).catch(() => undefined);
    while (child.lines.length < 5 && !exited) await new Promise((r) => setTimeout(r, 10));
    assert.equal(exited, false, 'the writer died before writing 5 states');
    await new Promise((r) => setTimeout(r, Math.random() * 30));
    child.kill();
    await child.done;
    const lastPrinted = Number(child.lines[child.lines.length - 1]);
    // The store must parse, hold a whole record, and be at least as new as the last write the child confirmed.
    const store = new LocalStateStore({ root, lockTimeoutSeconds: 0.2 });
    const record = await store.get(id);
    const state = record?.completed.singer_state as { n: number; pad: string };
    assert.ok(state.n >= lastPrinted, `state n=${state.n} is older than confirmed write ${lastPrinted}`);
    assert.equal(state.pad.length, 2 * 1024 * 1024);
    // The lock the killed writer may have left goes stale and is taken over.
    await store.update(id, { n: -1 }, 'partial');
    assert.deepEqual((await store.get(id))?.partial, { singer_state: { n: -1 } });
  });
});
