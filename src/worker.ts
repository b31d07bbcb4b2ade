/**
 * `npm run worker` / `floe worker`: a Temporal worker for one Meltano project. It registers the pipeline
 * workflow and its activities, syncs the project's schedules at start (unless told not to), and shuts down
 * gracefully on SIGINT/SIGTERM: it stops polling, running plugin processes get SIGTERM (SDK targets flush and
 * emit their final state, which is persisted), and the interrupted activity is retried on another worker.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { LogEntry, LogLevel } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { createActivities } from './activities';
import { loadProject } from './config/load';
import { projectKeyOf, syncSchedules } from './schedules/sync';
import type { SyncResult } from './schedules/sync';
import { taskQueueFrom } from './server/task-queue';

export { taskQueueFrom } from './server/task-queue';

export interface WorkerOptions {
  projectRoot: string;
  address: string;
  namespace: string;
  /** Used for schedule sync. */
  client: Client;
  connectionOptions?: Parameters<typeof NativeConnection.connect>[0];
  taskQueue?: string;
  sync?: boolean;
  /** Concurrent block activities (each runs 2+ processes): default 4 on this kind of small machine. */
  maxConcurrentActivities?: number;
  /** Time running blocks get to stop after shutdown starts (then they are cancelled). Default 30 s. */
  shutdownGraceTime?: Duration;
  onSync?: (result: SyncResult) => void;
  onReady?: (worker: Worker) => void;
}

let runtimeInstalled = false;

/** Meta keys worth a glance on a console; the rest (task tokens, namespaces, ...) stays out of the way. */
const SHOWN_META = ['workflowId', 'activityType', 'attempt', 'plugin', 'block', 'blocks', 'durationMs', 'error'];

/**
 * One line per log entry: `time LEVEL message key=value ...`. The SDK's default prints every entry's whole
 * context over many lines, which buries plugin output (each plugin stderr line is one entry).
 */
export function compactLogLine(entry: LogEntry): string {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  const meta = entry.meta ?? {};
  const extras = SHOWN_META.filter((k) => meta[k] !== undefined)
    .map((k) => {
      const v: unknown = meta[k];
      return `${k}=${typeof v === 'string' ? v : v instanceof Error ? JSON.stringify(v.message) : JSON.stringify(v)}`;
    })
    .join(' ');
  return `${time} ${entry.level.padEnd(5)} ${entry.message}${extras ? `  ${extras}` : ''}`;
}

/** The worker's log level: FLOE_LOG_LEVEL (TRACE, DEBUG, INFO, WARN, ERROR), default INFO. */
export function logLevelFrom(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const level = (env.FLOE_LOG_LEVEL ?? 'INFO').toUpperCase();
  return (['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'].includes(level) ? level : 'INFO') as LogLevel;
}

/**
 * Runs until shutdown (signal or `worker.shutdown()`).
 * @throws ConfigError when meltano.yml is invalid at start; connection errors from the SDK.
 */
export async function runWorker(opts: WorkerOptions): Promise<void> {
  const taskQueue = opts.taskQueue ?? taskQueueFrom();
  const project = loadProject(opts.projectRoot);
  if (!runtimeInstalled) {
    runtimeInstalled = true;
    try {
      Runtime.install({
        shutdownSignals: ['SIGINT', 'SIGTERM'],
        logger: new DefaultLogger(logLevelFrom(), (entry) => process.stderr.write(`${compactLogLine(entry)}\n`)),
      });
    } catch {
      // Already installed by the embedding process (tests): keep its settings.
    }
  }
  if (opts.sync !== false) {
    const result = await syncSchedules(opts.client, project, { taskQueue, projectKey: projectKeyOf(project) });
    opts.onSync?.(result);
  }
  const connection = await NativeConnection.connect({ address: opts.address, ...(opts.connectionOptions ?? {}) });
  try {
    const worker = await Worker.create({
      connection,
      namespace: opts.namespace,
      taskQueue,
      workflowsPath: require.resolve('./workflows'),
      activities: createActivities({ projectRoot: project.root }),
      maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? 4,
      shutdownGraceTime: opts.shutdownGraceTime ?? '30 seconds',
      shutdownForceTime: '60 seconds',
      // Heartbeats also carry live record counts (`floe runs show`).
      // Cancellation reaches an activity only in a heartbeat's response, and the SDK otherwise sends heartbeats
      // every 0.8 x heartbeatTimeout (24 s): a cancelled run's plugins would keep running that long. One small
      // RPC per running block every 5 s is cheap.
      maxHeartbeatThrottleInterval: '5 seconds',
    });
    opts.onReady?.(worker);
    await worker.run();
  } finally {
    await connection.close();
  }
}
