import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalStateStore } from '../../../src/state/local-store';
import {
  clearAllStates,
  clearState,
  copyState,
  exportStates,
  getState,
  importStates,
  listStates,
  mergeState,
  moveState,
  parseStateInput,
  setState,
} from '../../../src/state/state-commands';

describe('state/state-commands', () => {
  let root: string;
  let store: LocalStateStore;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'floe-state-cmd-'));
    store = new LocalStateStore({ root });
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  const ID = 'dev:tap-a-to-target-b';

  it('gets {} for an unknown state ID and the merged singer_state otherwise', async () => {
    assert.deepEqual(await getState(store, ID), {});
    await store.set(ID, {
      completed: { singer_state: { bookmarks: { s1: 1, s2: 1 } } },
      partial: { singer_state: { bookmarks: { s1: 2 } } },
    });
    assert.deepEqual(await getState(store, ID), { singer_state: { bookmarks: { s1: 2, s2: 1 } } });
  });

  it('sets complete state, discarding earlier partial state', async () => {
    await store.update(ID, { bookmarks: { old: 1 } }, 'partial');
    await setState(store, ID, { singer_state: { bookmarks: { s: 1 } } });
    assert.deepEqual(await store.get(ID), { completed: { singer_state: { bookmarks: { s: 1 } } }, partial: {} });
  });

  it('rejects set without singer_state unless validation is off', async () => {
    await assert.rejects(setState(store, ID, { bookmarks: {} }), {
      name: 'InvalidStateInputError',
      message: `State from 'state set ${ID}' has no top-level "singer_state"; wrap the Singer state as {"singer_state": {...}}, or pass --no-validate to 'state set'.`,
    });
    await setState(store, ID, { bookmarks: {} }, { validate: false });
    assert.deepEqual(await getState(store, ID), { bookmarks: {} });
  });

  it('parses STATE input and names bad JSON', () => {
    assert.deepEqual(parseStateInput('{"singer_state": {"a": 1}}', { source: 'STATE', validate: true }), {
      singer_state: { a: 1 },
    });
    assert.throws(() => parseStateInput('[1]', { source: "'s.json'", validate: false }), {
      message: `State from 's.json' is not a JSON object; pass an object like '{"singer_state": {"bookmarks": {}}}'.`,
    });
    assert.throws(() => parseStateInput('{', { source: 'STATE', validate: true }), { name: 'InvalidStateInputError' });
  });

  it('merges state into the stored partial state, new values winning', async () => {
    await setState(store, ID, { singer_state: { bookmarks: { s1: { v: 1 }, s2: { v: 1 } } } });
    const merged = await mergeState(store, ID, { state: { singer_state: { bookmarks: { s1: { v: 5 } } } } });
    assert.deepEqual(merged, { singer_state: { bookmarks: { s1: { v: 5 }, s2: { v: 1 } } } });
    assert.deepEqual((await store.get(ID))?.partial, { singer_state: { bookmarks: { s1: { v: 5 } } } });
  });

  it('merges from another state ID and rejects one without state', async () => {
    await setState(store, 'src', { singer_state: { bookmarks: { x: 1 } } });
    await setState(store, ID, { singer_state: { bookmarks: { y: 1 } } });
    assert.deepEqual(await mergeState(store, ID, { fromStateId: 'src' }), {
      singer_state: { bookmarks: { x: 1, y: 1 } },
    });
    await assert.rejects(mergeState(store, ID, { fromStateId: 'missing' }), {
      name: 'InvalidStateInputError',
      message: `Cannot merge from state ID 'missing': it has no state in file://${root}; check the ID with 'floe state list'.`,
    });
  });

  it('copies the merged state as complete state and moves by copying then clearing', async () => {
    await store.set('src', { completed: { singer_state: { a: 1 } }, partial: { singer_state: { b: 2 } } });
    await copyState(store, 'src', 'dst');
    assert.deepEqual(await store.get('dst'), { completed: { singer_state: { a: 1, b: 2 } }, partial: {} });
    await assert.rejects(copyState(store, 'nothing', 'dst'), {
      message: `Cannot copy from state ID 'nothing': it has no state in file://${root}; check the ID with 'floe state list'.`,
    });
    await moveState(store, 'src', 'moved');
    assert.deepEqual(await getState(store, 'moved'), { singer_state: { a: 1, b: 2 } });
    assert.equal(await store.get('src'), undefined);
  });

  it('lists state IDs as valid, invalid or empty', async () => {
    await setState(store, 'b-valid', { singer_state: {} });
    await setState(store, 'a-invalid', { other: 1 }, { validate: false });
    await store.set('c-empty', { completed: {}, partial: {} });
    assert.deepEqual(await listStates(store), [
      { stateId: 'a-invalid', status: 'invalid' },
      { stateId: 'b-valid', status: 'valid' },
      { stateId: 'c-empty', status: 'empty' },
    ]);
    assert.deepEqual(await listStates(store, 'b-*'), [{ stateId: 'b-valid', status: 'valid' }]);
  });

  it('clears one state ID or all of them', async () => {
    await setState(store, 'one', { singer_state: {} });
    await setState(store, 'two', { singer_state: {} });
    assert.equal(await clearState(store, 'one'), true);
    assert.deepEqual(await clearAllStates(store), ['two']);
    assert.deepEqual(await store.list(), []);
  });

  it('exports and imports {state_id: {completed, partial}} unchanged', async () => {
    const data = {
      'dev:tap-a-to-target-b': { completed: { singer_state: { a: 1 } }, partial: { singer_state: { b: [1] } } },
      nightly: { completed: {}, partial: { singer_state: { c: 1 } } },
    };
    assert.deepEqual(await importStates(store, data), ['dev:tap-a-to-target-b', 'nightly']);
    assert.deepEqual(await exportStates(store), data);
    assert.deepEqual(await exportStates(store, 'night*'), { nightly: data.nightly });
  });

  it('rejects a malformed import before writing anything', async () => {
    await assert.rejects(
      importStates(store, { good: { completed: {}, partial: {} }, bad: { completed: {} } }, "'states.json'"),
      {
        name: 'InvalidStateInputError',
        message: `State from 'states.json': entry 'bad' needs objects under both "completed" and "partial"; expected {"completed": {...}, "partial": {...}} as 'state export' writes it.`,
      },
    );
    assert.deepEqual(await store.list(), []);
  });
});
