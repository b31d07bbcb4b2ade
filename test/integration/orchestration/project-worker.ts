/** A test worker for one floe project: the pipeline workflow from src/workflows and the project's activities. */
import fs from 'node:fs';
import path from 'node:path';
import { createActivities } from '../../../src/activities';
import { REPO_ROOT, getTestTemporal, runWithWorker } from '../../helpers/temporal';

export const WORKFLOWS = path.join(REPO_ROOT, 'src', 'workflows');

/** Runs `fn` while such a worker polls `taskQueue` on the test server; the worker stops when `fn` settles. */
export async function withProjectWorker<T>(
  taskQueue: string,
  activities: Parameters<typeof createActivities>[0],
  fn: () => Promise<T>,
): Promise<T> {
  const t = await getTestTemporal();
  return runWithWorker(
    { connection: t.nativeConnection, taskQueue, workflowsPath: WORKFLOWS, activities: createActivities(activities) },
    fn,
  );
}

/** The ids the orchestration fixture's target wrote to output/numbers.jsonl under `root`, in order. */
export function outputIds(root: string): number[] {
  const file = path.join(root, 'output', 'numbers.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { id: number }).id);
}
