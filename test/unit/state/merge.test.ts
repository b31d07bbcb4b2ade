import assert from 'node:assert/strict';
import { applyStateWrite, merge, mergedState, stateFlagFor, type StateFlag } from '../../../src/state/merge';

describe('state/merge', () => {
  const cases: [string, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>][] = [
    ['a wins on scalars', { x: 2 }, { x: 1 }, { x: 2 }],
    ['keys are unioned', { a: 1 }, { b: 2 }, { a: 1, b: 2 }],
    [
      'nested dicts merge recursively',
      { s: { k: { v: 2 } } },
      { s: { k: { w: 1 }, j: 3 } },
      { s: { k: { v: 2, w: 1 }, j: 3 } },
    ],
    [
      'lists are replaced whole (SDK partitions)',
      { p: [{ id: 2 }] },
      { p: [{ id: 1 }, { id: 3 }] },
      { p: [{ id: 2 }] },
    ],
    ['null in a replaces a dict in b', { s: null }, { s: { k: 1 } }, { s: null }],
    ['a dict in a replaces a scalar in b', { s: { k: 1 } }, { s: 5 }, { s: { k: 1 } }],
    ['empty a keeps b', {}, { s: { k: 1 } }, { s: { k: 1 } }],
  ];
  for (const [label, a, b, expected] of cases) {
    it(`merges: ${label}`, () => assert.deepEqual(merge(a, b), expected));
  }

  it('does not mutate or alias its inputs', () => {
    const a = { s: { k: [1] } };
    const b = { s: { j: { deep: 1 } } };
    const out = merge(a, b) as { s: { k: number[]; j: { deep: number } } };
    out.s.k.push(2);
    out.s.j.deep = 9;
    assert.deepEqual(a, { s: { k: [1] } });
    assert.deepEqual(b, { s: { j: { deep: 1 } } });
  });

  it('reads partial over completed', () => {
    const record = {
      completed: { singer_state: { bookmarks: { a: { v: 1 }, b: { v: 1 } } } },
      partial: { singer_state: { bookmarks: { a: { v: 2 } } } },
    };
    assert.deepEqual(mergedState(record), { singer_state: { bookmarks: { a: { v: 2 }, b: { v: 1 } } } });
  });

  it('writes complete by replacing the record and resetting partial', () => {
    const current = { completed: { singer_state: { old: 1 } }, partial: { singer_state: { p: 1 } } };
    assert.deepEqual(applyStateWrite(current, { singer_state: { new: 1 } }, 'complete'), {
      completed: { singer_state: { new: 1 } },
      partial: {},
    });
  });

  it('writes partial by merging into partial and keeping completed', () => {
    const current = { completed: { singer_state: { c: 1 } }, partial: { singer_state: { p: { x: 1, y: 1 } } } };
    assert.deepEqual(applyStateWrite(current, { singer_state: { p: { y: 2 } } }, 'partial'), {
      completed: { singer_state: { c: 1 } },
      partial: { singer_state: { p: { x: 1, y: 2 } } },
    });
    assert.deepEqual(applyStateWrite(undefined, { singer_state: { a: 1 } }, 'partial'), {
      completed: {},
      partial: { singer_state: { a: 1 } },
    });
  });

  const flags: [string, Parameters<typeof stateFlagFor>[0], StateFlag][] = [
    ['auto', { strategy: 'auto', fullRefresh: false }, 'complete'],
    ['auto + --full-refresh', { strategy: 'auto', fullRefresh: true }, 'partial'],
    ['merge', { strategy: 'merge', fullRefresh: false }, 'partial'],
    ['merge + --full-refresh', { strategy: 'merge', fullRefresh: true }, 'partial'],
    ['overwrite', { strategy: 'overwrite', fullRefresh: false }, 'complete'],
    ['overwrite + --full-refresh', { strategy: 'overwrite', fullRefresh: true }, 'complete'],
  ];
  for (const [label, options, expected] of flags) {
    it(`chooses ${expected} for ${label}`, () => assert.equal(stateFlagFor(options), expected));
  }

  // meltano integration/example-library/meltano-run-merge-states: a first run bookmarks three streams, then a
  // --full-refresh run filtered to stream_1 writes state only for stream_1.
  describe('worked example meltano-run-merge-states', () => {
    const firstRun = {
      singer_state: {
        bookmarks: {
          stream_1: { replication_key: 'id', replication_key_value: 10 },
          stream_2: { replication_key: 'id', replication_key_value: 20 },
          stream_3: { replication_key: 'id', replication_key_value: 30 },
        },
      },
    };
    const refreshRun = {
      singer_state: { bookmarks: { stream_1: { replication_key: 'id', replication_key_value: 11 } } },
    };
    const afterFirst = applyStateWrite(undefined, firstRun, stateFlagFor({ strategy: 'auto', fullRefresh: false }));

    it('with --state-strategy=overwrite keeps only stream_1', () => {
      const flag = stateFlagFor({ strategy: 'overwrite', fullRefresh: true });
      assert.deepEqual(mergedState(applyStateWrite(afterFirst, refreshRun, flag)), refreshRun);
    });

    for (const strategy of ['merge', 'auto'] as const) {
      it(`with --state-strategy=${strategy} keeps stream_2 and stream_3`, () => {
        const flag = stateFlagFor({ strategy, fullRefresh: true });
        assert.deepEqual(mergedState(applyStateWrite(afterFirst, refreshRun, flag)), {
          singer_state: {
            bookmarks: {
              stream_1: { replication_key: 'id', replication_key_value: 11 },
              stream_2: { replication_key: 'id', replication_key_value: 20 },
              stream_3: { replication_key: 'id', replication_key_value: 30 },
            },
          },
        });
      });
    }
  });
});
