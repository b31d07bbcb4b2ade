/**
 * `npm start` / `floe up`: the embedded default. Provides the Temporal CLI, starts `temporal server start-dev`
 * with its SQLite file under `.floe/` and the Web UI, installs the project's plugins, runs a worker (which syncs
 * the schedules) and triggers the offline demo job once so a fresh start shows a successful run. Ctrl-C stops
 * the worker gracefully, then the server (its SQLite file keeps schedules and history for the next start).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from './context';
import { loadConnection, loadDevServer, loadTemporalClient, loadWorker } from './lazy';
import { ensureTemporalCli } from '../server/temporal-cli';
import { FLOE_SEARCH_ATTRIBUTES, FloeJob, FloeTrigger } from '../shared/search-attributes';
import { installPlugins } from '../plugins/install';
import { taskQueueFrom } from '../server/task-queue';
import { syncReportLines } from '../schedules/sync-report';
import { PIPELINE_WORKFLOW_TYPE } from '../shared/pipeline';
import { findJob } from '../config/project';

interface UpOptions {
  port: string;
  uiPort: string;
  install: boolean;
  demo: string;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('up')
    .description('Start the embedded default: Temporal dev server (SQLite in .floe/), Web UI, plugins, a worker.')
    .option('--port <port>', 'Temporal frontend port', '7233')
    .option('--ui-port <port>', 'Web UI port', '8233')
    .option('--no-install', 'do not install plugins first')
    .option('--demo <job>', "job to trigger once at start ('' for none)", 'demo')
    .action(async (o: UpOptions) => {
      const project = ctx.loadProject();
      const cliPath = await ensureTemporalCli(project.root, ctx.io.env);
      const dir = path.join(project.root, '.floe');
      fs.mkdirSync(dir, { recursive: true });
      if (o.install) {
        ctx.warn('Installing plugins (one virtualenv each; unchanged ones are skipped)...');
        const results = await installPlugins(
          project.plugins
            .filter((p) => p.pipUrl)
            .map((p) => ({
              type: p.type,
              name: p.venvName,
              pipUrl: p.pipUrl,
              executable: p.executable,
              python: p.python,
            })),
          { projectRoot: project.root, parallelism: 2 },
        );
        for (const r of results)
          ctx.warn(`  ${r.name}: ${r.status}${r.error ? ` (${r.error.message.split('\n')[0]})` : ''}`);
      }
      const { startDevServer } = loadDevServer();
      const server = await startDevServer({
        cliPath,
        dbFile: path.join(dir, 'temporal.db'),
        port: Number(o.port),
        uiPort: Number(o.uiPort),
        searchAttributes: FLOE_SEARCH_ATTRIBUTES,
        logFile: path.join(dir, 'temporal.log'),
      });
      // The Temporal SDK loads only for this command (see orchestrate.ts).
      const { connectOrClose } = loadConnection();
      const { Client } = loadTemporalClient();
      const { runWorker } = loadWorker();
      const connection = await connectOrClose({ address: server.address });
      const client = new Client({ connection, namespace: server.namespace });
      ctx.out(`Temporal server: ${server.address} (SQLite ${path.relative(project.root, server.dbFile ?? '')})`);
      ctx.out(`Temporal Web UI: ${server.uiUrl ?? '(headless)'}`);
      ctx.out(`Run history:     npx floe runs   |   trigger: npm run trigger -- <schedule|job> --wait`);
      const taskQueue = taskQueueFrom(ctx.io.env);
      try {
        await runWorker({
          projectRoot: project.root,
          address: server.address,
          namespace: server.namespace,
          client,
          taskQueue,
          onSync: (r) => syncReportLines(r).forEach((line) => ctx.out(line)),
          onReady: () => {
            ctx.out(`Worker polling task queue '${taskQueue}'. Ctrl-C stops floe.`);
            if (o.demo && findJob(project, o.demo)) {
              const workflowId = `meltano_job_${o.demo}-startup-${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`;
              client.workflow
                .start(PIPELINE_WORKFLOW_TYPE, {
                  taskQueue,
                  workflowId,
                  args: [{ job: o.demo, trigger: 'manual' }],
                  memo: { trigger: 'manual', job: o.demo },
                  typedSearchAttributes: [
                    { key: FloeTrigger, value: 'manual' },
                    { key: FloeJob, value: o.demo },
                  ],
                })
                .then((h) => ctx.out(`Demo run started: ${h.workflowId} (npx floe runs show ${h.workflowId})`))
                .catch((err: unknown) => ctx.warn(`Demo run not started: ${String(err)}`));
            }
          },
        });
      } finally {
        await connection.close();
        await server.stop();
      }
    });
}
