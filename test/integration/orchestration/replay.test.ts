/**
 * Replays recorded histories of the pipeline workflow (test/fixtures/histories) against the current bundle of
 * src/workflows. A change to the workflow's command sequence (activities scheduled, their order or types, memo
 * and search-attribute upserts) fails here, because it would break every run in flight during a deploy.
 * Changed it on purpose? Guard the change with `patched()`, or re-record the histories (see
 * test/fixtures/histories/record.ts) and commit them with the change.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { loadHistory } from '../../fixtures/histories/history-file';
import { REPO_ROOT, bundleTestWorkflows } from '../../helpers/temporal';

const HISTORIES = path.join(REPO_ROOT, 'test', 'fixtures', 'histories');
const WORKFLOWS = path.join(REPO_ROOT, 'src', 'workflows');

async function replay(name: string, edit?: (events: NonNullable<ReturnType<typeof loadHistory>['events']>) => void) {
  const history = loadHistory(path.join(HISTORIES, `${name}.json`));
  edit?.(history.events ?? []);
  await Worker.runReplayHistory({ workflowBundle: await bundleTestWorkflows(WORKFLOWS) }, history, name);
}

describe('pipeline workflow replay of recorded histories', function () {
  this.timeout(120_000);

  for (const name of ['succeeded', 'failed-after-retries', 'cancelled']) {
    it(`replays the ${name} run without a determinism violation`, async () => {
      await replay(name);
    });
  }

  it('rejects a history whose block activity type differs from the code with a DeterminismViolationError', async () => {
    let renamed = 0;
    await assert.rejects(
      replay('succeeded', (events) => {
        for (const e of events) {
          const type = e.activityTaskScheduledEventAttributes?.activityType;
          if (type?.name === 'runExtractLoad') {
            type.name = 'runExtractLoadRenamed';
            renamed++;
          }
        }
      }),
      (err: unknown) => {
        assert.ok(err instanceof DeterminismViolationError, `expected a DeterminismViolationError, got ${String(err)}`);
        assert.ok(
          err.message.includes(
            "Activity type of scheduled event 'runExtractLoadRenamed' does not match activity type of activity command 'runExtractLoad'",
          ),
          err.message,
        );
        return true;
      },
    );
    assert.equal(renamed, 1, 'the recorded run scheduled one block');
  });
});
