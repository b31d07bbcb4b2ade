import assert from 'node:assert/strict';
import { assertStorableStateId, parseStateId, stateIdFor, stateIdForEltSchedule } from '../../../src/state/state-id';

describe('state/state-id', () => {
  const builds: [string, Parameters<typeof stateIdFor>[0], string][] = [
    [
      'environment, tap and target',
      { environment: 'dev', extractor: 'tap-gitlab', loader: 'target-postgres' },
      'dev:tap-gitlab-to-target-postgres',
    ],
    [
      'with a suffix',
      { environment: 'prod', extractor: 'tap-gitlab', loader: 'target-postgres', suffix: 'daily' },
      'prod:tap-gitlab-to-target-postgres:daily',
    ],
    [
      'no environment (dropped, as Meltano joins non-empty parts)',
      { extractor: 'tap-csv', loader: 'target-jsonl' },
      'tap-csv-to-target-jsonl',
    ],
    [
      'empty suffix is dropped',
      { environment: 'dev', extractor: 'tap-csv', loader: 'target-jsonl', suffix: '' },
      'dev:tap-csv-to-target-jsonl',
    ],
    [
      'inherited plugin names are used as is',
      { environment: 'dev', extractor: 'tap-csv--orders', loader: 'target-jsonl' },
      'dev:tap-csv--orders-to-target-jsonl',
    ],
  ];
  for (const [label, parts, expected] of builds) {
    it(`builds ${label}`, () => assert.equal(stateIdFor(parts), expected));
  }

  it('rejects a part containing a colon', () => {
    assert.throws(() => stateIdFor({ environment: 'dev', extractor: 'tap-a', loader: 'target-b', suffix: 'x:y' }), {
      name: 'InvalidStateIdError',
      message:
        "Cannot build a state ID: the state ID suffix 'x:y' contains ':', which separates the parts of a state ID; rename it or choose a suffix without ':'.",
    });
    assert.throws(() => stateIdFor({ environment: 'a:b', extractor: 'tap-a', loader: 'target-b' }), {
      message:
        "Cannot build a state ID: the environment 'a:b' contains ':', which separates the parts of a state ID; rename it or choose a suffix without ':'.",
    });
  });

  it('rejects an empty loader name', () => {
    assert.throws(() => stateIdFor({ environment: 'dev', extractor: 'tap-a', loader: '' }), {
      message: 'Cannot build a state ID: the loader name is empty; name the plugin in the block.',
    });
  });

  it('uses the bare schedule name for an ELT schedule', () => {
    assert.equal(stateIdForEltSchedule('daily-gitlab'), 'daily-gitlab');
  });

  const parses: [string, string, ReturnType<typeof parseStateId>][] = [
    [
      'a run ID',
      'dev:tap-gitlab-to-target-postgres',
      { kind: 'run', environment: 'dev', extractor: 'tap-gitlab', loader: 'target-postgres' },
    ],
    [
      'a run ID with suffix',
      'prod:tap-a-to-target-b:nightly',
      { kind: 'run', environment: 'prod', extractor: 'tap-a', loader: 'target-b', suffix: 'nightly' },
    ],
    [
      'a tap whose name contains -to- (split before target-)',
      'dev:tap-go-to-market-to-target-x',
      { kind: 'run', environment: 'dev', extractor: 'tap-go-to-market', loader: 'target-x' },
    ],
    ['a bare ELT schedule name', 'daily-gitlab', { kind: 'verbatim', id: 'daily-gitlab' }],
    ['an el --state-id without -to-', 'dev:custom', { kind: 'verbatim', id: 'dev:custom' }],
    ['a name with -to- but no environment', 'tap-a-to-target-b', { kind: 'verbatim', id: 'tap-a-to-target-b' }],
  ];
  for (const [label, id, expected] of parses) {
    it(`parses ${label}`, () => assert.deepEqual(parseStateId(id), expected));
  }

  it('round-trips stateIdFor through parseStateId', () => {
    const parts = { environment: 'staging', extractor: 'tap-postgres', loader: 'target-snowflake', suffix: 's1' };
    assert.deepEqual(parseStateId(stateIdFor(parts)), { kind: 'run', ...parts });
  });

  const unstorable: [string, string, string][] = [
    ['empty', '', 'it is empty'],
    ['a slash', 'dev/x', "it contains '/', '\\' or a NUL character"],
    ['dot-dot', '..', "'..' is a relative path name"],
    ['over 255 bytes', 'x'.repeat(256), 'it is longer than 255 bytes'],
  ];
  for (const [label, id, why] of unstorable) {
    it(`rejects storing an ID that is ${label}`, () => {
      assert.throws(() => assertStorableStateId(id), {
        name: 'InvalidStateIdError',
        message: `State ID '${id}' cannot be stored: ${why}; use letters, digits, '-', '_', '.' and ':' only.`,
      });
    });
  }
});
