/**
 * deploy/temporal/init-namespace.sh (the compose `temporal-init` one-shot) run for real against the test dev
 * server with the project's own `temporal` CLI: namespace creation, floe's search attributes, re-runs, and a
 * conflicting attribute type.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

import { FLOE_SEARCH_ATTRIBUTES } from '../../../src/shared/search-attributes';
import { getTestTemporal, REPO_ROOT, uniqueName } from '../../helpers/temporal';

const SCRIPT = path.join(REPO_ROOT, 'deploy', 'temporal', 'init-namespace.sh');

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runScript(cliPath: string, address: string, namespace: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', [SCRIPT], {
      env: {
        PATH: `${path.dirname(cliPath)}:${process.env.PATH ?? ''}`,
        HOME: process.env.HOME ?? '/tmp',
        TEMPORAL_ADDRESS: address,
        TEMPORAL_NAMESPACE: namespace,
        TEMPORAL_NAMESPACE_RETENTION: '1d',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the `temporal` CLI against the test server; resolves with stdout, rejects on a non-zero exit. */
async function cli(cliPath: string, address: string, args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(cliPath, [...args, '--address', address], { encoding: 'utf8' });
  return stdout;
}

/** The lines of `text` that `expected` lists, in order of appearance (the CLI's own lines are left out). */
function ours(text: string, expected: string[]): string[] {
  return text.split('\n').filter((l) => expected.includes(l));
}

describe('deploy/temporal/init-namespace.sh', function () {
  this.timeout(300_000);
  const names = Object.keys(FLOE_SEARCH_ATTRIBUTES);

  it('creates the namespace and the floe search attributes, and is safe to run again', async () => {
    const t = await getTestTemporal();
    const namespace = uniqueName('floe-init');
    const first = await runScript(t.cliPath, t.address, namespace);
    assert.equal(first.code, 0, first.stderr);
    const expectedFirst = [
      `Waiting for the Temporal server at ${t.address}...`,
      `Namespace '${namespace}' created (retention 1d).`,
      ...names.map((n) => `Search attribute ${n} (Keyword) created.`),
      `Namespace '${namespace}' is ready for floe.`,
    ];
    assert.deepEqual(ours(first.stdout, expectedFirst), expectedFirst);

    const listed = JSON.parse(
      await cli(t.cliPath, t.address, ['operator', 'search-attribute', 'list', '-n', namespace, '-o', 'json']),
    ) as { customAttributes: Record<string, string> };
    assert.deepEqual(listed.customAttributes, Object.fromEntries(names.map((n) => [n, 'INDEXED_VALUE_TYPE_KEYWORD'])));

    const again = await runScript(t.cliPath, t.address, namespace);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(again.stdout.includes(`Namespace '${namespace}' exists.\n`), again.stdout);
    assert.ok(again.stdout.includes(`Namespace '${namespace}' is ready for floe.\n`), again.stdout);
  });

  it('fails, naming the attribute, when one exists with another type', async () => {
    const t = await getTestTemporal();
    const namespace = uniqueName('floe-init-conflict');
    await cli(t.cliPath, t.address, ['operator', 'namespace', 'create', '-n', namespace, '--retention', '1d']);
    // A namespace registered a moment ago may not be visible to the operator service yet.
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await cli(t.cliPath, t.address, [
          'operator',
          'search-attribute',
          'create',
          '-n',
          namespace,
          '--name',
          'FloeJob',
          '--type',
          'Text',
        ]);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const run = await runScript(t.cliPath, t.address, namespace);
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr.trim(),
      `Search attribute FloeJob exists in namespace '${namespace}' with another type (Error: search attribute FloeJob already exists and has different type Text); floe needs Keyword: remove it or use another namespace.`,
    );
  });
});
