import assert from 'node:assert/strict';
import { createProgressReporter, formatDuration, progressLine } from '../../../src/cli/progress';
import { runFlagsFrom } from '../../../src/cli/run';

describe('cli/run options and cli/progress', () => {
  it('takes each run flag from its option, else from its MELTANO_RUN_* variable', () => {
    assert.deepEqual(runFlagsFrom({}, {}), {
      fullRefresh: false,
      refreshCatalog: false,
      noStateUpdate: false,
      force: false,
    });
    assert.deepEqual(
      runFlagsFrom(
        {},
        {
          MELTANO_RUN_FULL_REFRESH: 'true',
          MELTANO_RUN_REFRESH_CATALOG: '1',
          MELTANO_RUN_NO_STATE_UPDATE: 'yes',
          MELTANO_RUN_FORCE: 'false',
          MELTANO_RUN_STATE_STRATEGY: 'merge',
          MELTANO_RUN_STATE_ID_SUFFIX: 'blue',
        },
      ),
      {
        fullRefresh: true,
        refreshCatalog: true,
        noStateUpdate: true,
        force: false,
        stateStrategy: 'merge',
        stateIdSuffix: 'blue',
      },
    );
    assert.deepEqual(
      runFlagsFrom(
        { stateUpdate: false, force: true, stateStrategy: 'overwrite', stateIdSuffix: 'x' },
        { MELTANO_RUN_STATE_STRATEGY: 'merge' },
      ),
      {
        fullRefresh: false,
        refreshCatalog: false,
        noStateUpdate: true,
        force: true,
        stateStrategy: 'overwrite',
        stateIdSuffix: 'x',
      },
    );
  });

  it('rejects an unknown MELTANO_RUN_STATE_STRATEGY with the accepted values', () => {
    assert.throws(() => runFlagsFrom({}, { MELTANO_RUN_STATE_STRATEGY: 'replace' }), {
      name: 'UserError',
      message: "MELTANO_RUN_STATE_STRATEGY 'replace' is not a state strategy; use one of auto, merge, overwrite.",
    });
  });

  it('formats records per stream with the rate since the previous line', () => {
    const first = { elapsedMs: 2000, streams: { users: { records: 1000, bytes: 1 } }, statesPersisted: 1 };
    const second = {
      elapsedMs: 4000,
      streams: { users: { records: 5000, bytes: 1 }, orders: { records: 20, bytes: 1 } },
      statesPersisted: 3,
    };
    assert.equal(progressLine('tap target', first), 'tap target 2.0 s | users 1,000 (500/s) | 1 state');
    assert.equal(
      progressLine('tap target', second, first),
      'tap target 4.0 s | users 5,000 (2,000/s) | orders 20 (10/s) | 3 states',
    );
    assert.deepEqual([formatDuration(850), formatDuration(65_000)], ['850 ms', '1 min 05 s']);
  });

  it('draws on a terminal only, rewriting one line', () => {
    let tty = '';
    let pipe = '';
    const snapshot = { elapsedMs: 1000, streams: { s: { records: 3, bytes: 1 } }, statesPersisted: 0 };
    const onTty = createProgressReporter({ write: (c: string) => (tty += c), isTTY: true, columns: 80 });
    const onPipe = createProgressReporter({ write: (c: string) => (pipe += c) });
    for (const r of [onTty, onPipe]) {
      r.update('b', snapshot);
      r.clear();
    }
    assert.equal(tty, '\r\x1b[2Kb 1.0 s | s 3 (3/s) | 0 states\r\x1b[2K');
    assert.equal(pipe, '');
  });
});
