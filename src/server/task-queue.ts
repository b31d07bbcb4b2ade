import { DEFAULT_TASK_QUEUE } from '../shared/pipeline';

/** The task queue floe's workers poll and its runs use: `FLOE_TASK_QUEUE`, default `floe`. Never throws. */
export function taskQueueFrom(env: NodeJS.ProcessEnv = process.env): string {
  return env.FLOE_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
}
