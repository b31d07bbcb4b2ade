import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ensureSearchAttributes } from '../../../src/server/search-attributes';
import { startDevServer } from '../../../src/server/dev-server';
import { ensureTemporalCli } from '../../../src/server/temporal-cli';
import { loadProject } from '../../../src/config/load';
import { syncSchedules } from '../../../src/schedules/sync';
import { FLOE_SEARCH_ATTRIBUTE_KEYS } from '../../../src/shared/search-attributes';
import { REPO_ROOT } from '../../helpers/temporal';

describe('search attributes on a server that lacks them', function () {
  this.timeout(120_000);

  it('are registered by the first sync, and a sync then creates schedules that carry them', async () => {
    const cliPath = await ensureTemporalCli(REPO_ROOT);
    // A dev server started without floe's attributes, like a fresh self-hosted cluster.
    const server = await startDevServer({ cliPath, headless: true });
    const connection = await Connection.connect({ address: server.address });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-sa-'));
    try {
      const client = new Client({ connection, namespace: server.namespace });
      fs.cpSync(path.join(REPO_ROOT, 'test', 'fixtures', 'projects', 'orchestration'), dir, { recursive: true });
      const result = await syncSchedules(client, loadProject(dir), { taskQueue: 'tq', projectKey: 'p' });
      assert.deepEqual(
        result.registeredSearchAttributes,
        FLOE_SEARCH_ATTRIBUTE_KEYS.map((k) => k.name),
      );
      assert.deepEqual(result.created, ['floe-numbers-hourly']);
      // Registered once: a second call has nothing to add, and an unchanged file syncs with no per-schedule call.
      assert.deepEqual(await ensureSearchAttributes(connection, server.namespace), { added: [] });
      const again = await syncSchedules(client, loadProject(dir), { taskQueue: 'tq', projectKey: 'p' });
      assert.deepEqual(again, { created: [], updated: [], unchanged: ['floe-numbers-hourly'], deleted: [] });
    } finally {
      await connection.close();
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
