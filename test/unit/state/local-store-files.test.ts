import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalStateStore } from '../../../src/state/local-store';

describe('state/local-store files', () => {
  let root: string;
  const id = 'dev:tap-a-to-target-b';
  const dir = () => path.join(root, id);
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'floe-state-files-'));
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it("reads a state.json written by Meltano's file:// backend", async () => {
    await fs.mkdir(dir());
    // json.dumps({"completed": ..., "partial": ...}) with Python's default separators.
    await fs.writeFile(
      path.join(dir(), 'state.json'),
      '{"completed": {"singer_state": {"bookmarks": {"s1": {"v": 1}}}}, "partial": {"singer_state": {"bookmarks": {"s2": {"v": 2}}}}}',
    );
    const store = new LocalStateStore({ root });
    assert.deepEqual(await store.list(), [id]);
    assert.deepEqual(await store.get(id), {
      completed: { singer_state: { bookmarks: { s1: { v: 1 } } } },
      partial: { singer_state: { bookmarks: { s2: { v: 2 } } } },
    });
  });

  it('writes the {"completed", "partial"} layout at <root>/<state_id>/state.json and leaves no lock behind', async () => {
    await new LocalStateStore({ root }).update(id, { bookmarks: { s: 1 } }, 'complete');
    assert.deepEqual(JSON.parse(await fs.readFile(path.join(dir(), 'state.json'), 'utf8')), {
      completed: { singer_state: { bookmarks: { s: 1 } } },
      partial: {},
    });
    assert.deepEqual(await fs.readdir(dir()), ['state.json']);
  });

  it('takes over a lock older than lock_timeout_seconds', async () => {
    await fs.mkdir(dir());
    await fs.writeFile(path.join(dir(), 'lock'), String(Date.now() / 1000 - 60));
    await new LocalStateStore({ root, lockWaitMs: 5000 }).update(id, { a: 1 }, 'complete');
    assert.deepEqual(await fs.readdir(dir()), ['state.json']);
  });

  it('waits for a live lock and names it when giving up', async () => {
    await fs.mkdir(dir());
    const lockedAt = Date.now() / 1000;
    await fs.writeFile(path.join(dir(), 'lock'), String(lockedAt));
    const store = new LocalStateStore({ root, lockWaitMs: 200 });
    await assert.rejects(store.update(id, { a: 1 }, 'complete'), {
      name: 'StateLockedError',
      message:
        `State '${id}' stayed locked for 0 s by lock '${path.join(dir(), 'lock')}' (held since ${new Date(lockedAt * 1000).toISOString()}); ` +
        'another writer is updating it: retry, or delete the lock file if no floe or meltano process uses this state.',
    });
    assert.equal(await store.get(id), undefined);
  });

  it('writes a lock Meltano can parse: the UTC epoch in seconds as a float', async () => {
    const store = new LocalStateStore({ root });
    let seen: string | undefined;
    await fs.mkdir(dir());
    const watcher = (async () => {
      for (let i = 0; i < 2000 && seen === undefined; i++) {
        seen = await fs.readFile(path.join(dir(), 'lock'), 'utf8').catch(() => undefined);
        if (seen === '') seen = undefined;
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 0; i < 200 && seen === undefined; i++) await store.update(id, { i }, 'partial');
    await watcher;
    assert.match(seen ?? '', /^\d+\.\d+$/);
    assert.ok(Math.abs(Number(seen) - Date.now() / 1000) < 60);
  });

  it('ignores a temp file left by a crash between write and rename', async () => {
    const store = new LocalStateStore({ root });
    await store.update(id, { v: 'old' }, 'complete');
    await fs.writeFile(path.join(dir(), 'state.json.4242.deadbeef.tmp'), '{"completed": {"singer_state": {"v": "ne');
    assert.deepEqual(await store.get(id), { completed: { singer_state: { v: 'old' } }, partial: {} });
    assert.deepEqual(await store.list(), [id]);
    await store.update(id, { v: 'new' }, 'complete');
    assert.deepEqual(await store.get(id), { completed: { singer_state: { v: 'new' } }, partial: {} });
  });

  it('reports a corrupt state.json as a persistence error', async () => {
    await fs.mkdir(dir());
    await fs.writeFile(path.join(dir(), 'state.json'), '{"completed": ');
    await assert.rejects(new LocalStateStore({ root }).get(id), {
      name: 'StatePersistenceError',
      message: `Cannot parse state '${id}' in '${root}': Unexpected end of JSON input; check the file and the directory's permissions and free space.`,
    });
  });

  it('keeps the directory of a cleared state while a run lease lives in it', async () => {
    const store = new LocalStateStore({ root });
    await store.update(id, { a: 1 }, 'complete');
    const lease = await store.acquireRunLease(id, { owner: 'run-1', ttlMs: 60_000 });
    assert.equal(await store.clear(id), true);
    assert.deepEqual(await fs.readdir(dir()), ['run.lease']);
    assert.deepEqual(await store.list(), []);
    await lease.release();
  });

  it('rejects a state ID that would escape the root', async () => {
    await assert.rejects(new LocalStateStore({ root }).update('../x', {}, 'complete'), { name: 'InvalidStateIdError' });
  });
});
