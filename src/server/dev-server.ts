/**
 * Runs `temporal server start-dev` as a child process: one binary with the frontend, history, matching and
 * the Web UI, persisting to a SQLite file. Used by `npm start` for users and by integration tests.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { RuntimeError } from '../shared/errors';
import { connectOrClose } from './connection';
import type { SearchAttributeTypeName } from '../shared/search-attributes';

export interface DevServerOptions {
  /** Path of the `temporal` binary (see `ensureTemporalCli`). */
  cliPath: string;
  /** SQLite file for persistence; created when missing, reused (with its history) when present. Omit for an
   * in-memory server whose history is lost on stop (tests). */
  dbFile?: string;
  /** Bind address of the frontend and UI. Default 127.0.0.1 (loopback only). */
  ip?: string;
  /** Frontend gRPC port. Default: a free port. */
  port?: number;
  /** Web UI port. Default: a free port. Ignored when `headless`. */
  uiPort?: number;
  /** Run without the Web UI. Default false. */
  headless?: boolean;
  /** Namespace to create at start and wait for. Default `default` (always exists). */
  namespace?: string;
  /** Custom search attributes to register, e.g. `FLOE_SEARCH_ATTRIBUTES`. */
  searchAttributes?: Readonly<Record<string, SearchAttributeTypeName>>;
  /** Append the server's stdout/stderr here. Default: kept in memory, the tail shown in errors. */
  logFile?: string;
  /** How long to wait for the server to accept requests. Default 60 s (a cold start takes a few seconds). */
  startTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL. Default 10 s. */
  stopGraceMs?: number;
}

export interface DevServer {
  /** `host:port` of the frontend, for `Connection.connect({address})` and `TEMPORAL_ADDRESS`. */
  address: string;
  /** `http://host:port` of the Web UI, undefined when headless. */
  uiUrl: string | undefined;
  namespace: string;
  pid: number;
  dbFile: string | undefined;
  /** Resolves with the exit code (or signal name) once the process has exited, for whatever reason. */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone. Idempotent. */
  stop(): Promise<void>;
}

// Children still running when this process exits are killed, so a crashed or `--exit`ed test run leaves none.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. Throws if the OS gives none. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const addr = server.address();
      server.close(() => {
        if (addr !== null && typeof addr === 'object') resolve(addr.port);
        else reject(new RuntimeError(`Could not get a free TCP port on ${host}.`));
      });
    });
  });
}

function tcpReachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** True once the frontend answers for `namespace` and lists every requested search attribute. */
async function serverReady(address: string, namespace: string, attributes: string[]): Promise<boolean> {
  const connection = await connectOrClose({ address, connectTimeout: 2000 });
  try {
    await connection.workflowService.describeNamespace({ namespace });
    if (attributes.length === 0) return true;
    const listed = await connection.operatorService.listSearchAttributes({ namespace });
    const custom = listed.customAttributes ?? {};
    return attributes.every((name) => name in custom);
  } finally {
    await connection.close();
  }
}

/** The `temporal server start-dev` arguments for these options (exported for `floe up --dry-run`-style output). */
export function buildStartDevArgs(o: {
  dbFile: string | undefined;
  ip: string;
  port: number;
  uiPort: number | undefined;
  namespace: string;
  searchAttributes: Readonly<Record<string, SearchAttributeTypeName>>;
}): string[] {
  const args = ['server', 'start-dev', '--ip', o.ip, '--port', String(o.port)];
  if (o.dbFile !== undefined) args.push('--db-filename', o.dbFile);
  if (o.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(o.uiPort), '--ui-disable-news-fetch');
  if (o.namespace !== 'default') args.push('--namespace', o.namespace);
  for (const [name, type] of Object.entries(o.searchAttributes)) args.push('--search-attribute', `${name}=${type}`);
  args.push('--log-level', 'warn');
  return args;
}

/**
 * Starts `temporal server start-dev` on loopback and resolves once the namespace (and the search attributes) are
 * served. Throws `RuntimeError` when the binary cannot be spawned, the process exits during startup (e.g. port
 * taken, unreadable database; the message carries the log tail), or it is not ready within `startTimeoutMs`
 * (the process is then stopped).
 */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const namespace = opts.namespace ?? 'default';
  const port = opts.port ?? (await freePort(ip));
  const uiPort = opts.headless ? undefined : (opts.uiPort ?? (await freePort(ip)));
  const searchAttributes = opts.searchAttributes ?? {};
  const args = buildStartDevArgs({ dbFile: opts.dbFile, ip, port, uiPort, namespace, searchAttributes });
  const hostForUrl = ip.includes(':') ? `[${ip}]` : ip;
  const address = `${hostForUrl}:${port}`;

  let logTail = '';
  let logFd: number | undefined;
  if (opts.logFile !== undefined) logFd = openSync(opts.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(opts.cliPath, args, { stdio: ['ignore', logFd ?? 'pipe', logFd ?? 'pipe'] });
  } finally {
    // The child holds its own copy of the descriptor.
    if (logFd !== undefined) closeSync(logFd);
  }
  const keepTail = (chunk: Buffer): void => {
    logTail = (logTail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);
  const logHint = (): string =>
    opts.logFile !== undefined ? `see ${opts.logFile}` : `log tail: ${logTail.trim() || '(empty)'}`;

  let exitedWith: number | string | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<number | string>((resolve) => {
    child.once('error', (err) => {
      spawnError = err;
      exitedWith = 'spawn-error';
      liveChildren.delete(child);
      resolve(exitedWith);
    });
    child.once('exit', (code, signal) => {
      exitedWith = code ?? signal ?? 'unknown';
      liveChildren.delete(child);
      resolve(exitedWith);
    });
  });
  trackChild(child);

  const stop = async (): Promise<void> => {
    if (exitedWith !== undefined) return;
    child.kill('SIGTERM');
    // A plain timer cleared on exit: a pending sleep would keep the caller's event loop alive for the grace time.
    let timer: NodeJS.Timeout | undefined;
    const escalate = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        if (exitedWith === undefined) child.kill('SIGKILL');
        resolve();
      }, opts.stopGraceMs ?? 10_000);
    });
    await Promise.race([exited, escalate]);
    clearTimeout(timer);
    await exited;
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  const describe = `temporal server start-dev on ${address} (db ${opts.dbFile ?? 'in memory'})`;
  let lastError = 'no answer yet';
  for (;;) {
    if (spawnError !== undefined) {
      throw new RuntimeError(
        `Could not run '${opts.cliPath}': ${spawnError.message}; run 'node scripts/ensure-tools.js' or set TEMPORAL_CLI.`,
      );
    }
    if (exitedWith !== undefined) {
      throw new RuntimeError(`${describe} exited during startup (${exitedWith}); ${logHint()}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new RuntimeError(
        `${describe} was not ready after ${opts.startTimeoutMs ?? 60_000} ms (${lastError}); ${logHint()}`,
      );
    }
    // Raced with the exit so a server that dies during startup is reported at once, not after a probe timeout.
    const probe = (async () =>
      (await tcpReachable(ip, port)) && (await serverReady(address, namespace, Object.keys(searchAttributes))))();
    const ready = await Promise.race([
      probe.catch((err: unknown) => (err instanceof Error ? err.message : String(err))),
      exited.then(() => false),
    ]);
    if (ready === true) break;
    if (typeof ready === 'string') lastError = ready;
    await sleep(100);
  }

  return {
    address,
    uiUrl: uiPort === undefined ? undefined : `http://${hostForUrl}:${uiPort}`,
    namespace,
    pid: child.pid ?? -1,
    dbFile: opts.dbFile,
    exited,
    stop,
  };
}
