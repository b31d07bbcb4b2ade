/**
 * One throw-away Temporal dev server per mocha process, shared by every test that needs a server, plus a
 * per-process cache of workflow bundles (bundling takes ~2 s, so once per workflows path).
 *
 * Register the teardown hook by adding this file to mocha's `require` (after `tsx/cjs`), or pass
 * `--require test/helpers/temporal.ts`; `mochaHooks.afterAll` then stops the server after the last test.
 * The server is the project's own `temporal` binary (ensureTemporalCli), so @temporalio/testing never downloads one.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';

import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';

import { ensureTemporalCli } from '../../src/server/temporal-cli';
import { FLOE_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { startDevServer } from '../../src/server/dev-server';
import type { DevServer } from '../../src/server/dev-server';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export interface TestTemporal {
  env: TestWorkflowEnvironment;
  client: Client;
  /** For `Worker.create({connection})`. */
  nativeConnection: NativeConnection;
  namespace: string;
  address: string;
  cliPath: string;
  server: DevServer;
}

let shared: Promise<TestTemporal> | undefined;

/**
 * Worker state changes log at INFO and would bury mocha's output, so loading this helper installs the SDK runtime
 * with a WARN logger. The runtime is a process-wide singleton that the first connection or worker creates, hence at
 * load time; a test that needs its own runtime options must install them before importing this file.
 */
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // Already installed by whoever loaded first: keep theirs.
}

async function start(): Promise<TestTemporal> {
  const cliPath = await ensureTemporalCli(REPO_ROOT);
  // startDevServer rather than createLocal: its process-exit hook kills the server even when mocha exits without
  // running the afterAll hook (`--exit`, hook not registered), so no run leaves an orphaned server behind.
  const server = await startDevServer({ cliPath, headless: true, searchAttributes: FLOE_SEARCH_ATTRIBUTES });
  try {
    const env = await TestWorkflowEnvironment.createFromExistingServer({
      address: server.address,
      namespace: server.namespace,
    });
    return {
      env,
      client: env.client,
      nativeConnection: env.nativeConnection,
      namespace: server.namespace,
      address: server.address,
      cliPath,
      server,
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/**
 * The process-wide dev server (in-memory, headless, loopback, floe's search attributes registered), started on
 * first use. Throws what `ensureTemporalCli` or `startDevServer` throws (no binary, server failed to start).
 */
export function getTestTemporal(): Promise<TestTemporal> {
  shared ??= start();
  return shared;
}

/** Stops the shared server if it was started; safe to call more than once. */
export async function stopTestTemporal(): Promise<void> {
  const pending = shared;
  shared = undefined;
  if (pending === undefined) return;
  const started = await pending.catch(() => undefined);
  if (started === undefined) return;
  await started.env.teardown();
  await started.server.stop();
}

/** Mocha root hooks: picked up when this file is loaded with `--require`. */
export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopTestTemporal();
  },
};

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();

/** The webpack bundle of `workflowsPath`, built once per process. Throws the bundler's error for bad workflow code. */
export function bundleTestWorkflows(workflowsPath: string): Promise<WorkflowBundleWithSourceMap> {
  const key = path.resolve(workflowsPath);
  let bundle = bundles.get(key);
  if (bundle === undefined) {
    bundle = bundleWorkflowCode({ workflowsPath: key, logger: quietLogger });
    bundles.set(key, bundle);
    // A failed bundle should not be cached: the next test gets a fresh attempt and the real error.
    bundle.catch(() => bundles.delete(key));
  }
  return bundle;
}

/** A unique name for task queues and workflow IDs, so tests never see each other's work. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

/**
 * Runs `fn` while a worker polls `taskQueue` with the bundled `workflowsPath`; the worker is shut down (activities
 * get 2 s to finish) before this resolves, so no handle is left behind. Throws what `fn` or the worker throws.
 */
export async function runWithWorker<T>(
  opts: {
    connection: NativeConnection;
    namespace?: string;
    taskQueue: string;
    workflowsPath: string;
    activities?: WorkerOptions['activities'];
  },
  fn: () => Promise<T>,
): Promise<T> {
  const worker = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.taskQueue,
    workflowBundle: await bundleTestWorkflows(opts.workflowsPath),
    activities: opts.activities,
    shutdownGraceTime: '2s',
    shutdownForceTime: '10s',
  });
  return worker.runUntil(fn);
}
