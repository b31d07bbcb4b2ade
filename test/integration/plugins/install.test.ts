import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { access, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { pluginEnv, resolveExecutable } from '../../../src/plugins/executable';
import { findUv } from '../../../src/plugins/find-uv';
import { installPlugins } from '../../../src/plugins/install';
import type { InstallablePlugin, InstallResult } from '../../../src/plugins/types';

// Real installs from PyPI (network to the package index required). target-jsonl is the smallest real
// Singer target with a pinned, known-good version on Python 3.11.
const TARGET_JSONL: InstallablePlugin = { type: 'loaders', name: 'target-jsonl', pipUrl: 'target-jsonl==0.1.4' };
const REPO_ROOT = path.resolve(__dirname, '../../..');

const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  );

/** Feeds SCHEMA, RECORD and STATE to target-jsonl and returns its stdout (the state it emits). */
async function runTargetJsonl(exe: string, venv: string, dir: string): Promise<{ stdout: string; output: string }> {
  const configPath = path.join(dir, 'target-jsonl.config.json');
  await writeFile(configPath, JSON.stringify({ destination_path: path.join(dir, 'out'), do_timestamp_file: false }));
  const input = [
    {
      type: 'SCHEMA',
      stream: 'users',
      schema: { type: 'object', properties: { id: { type: 'integer' } } },
      key_properties: ['id'],
    },
    { type: 'RECORD', stream: 'users', record: { id: 1 } },
    { type: 'STATE', value: { bookmarks: { users: { id: 1 } } } },
  ]
    .map((m) => JSON.stringify(m))
    .join('\n');
  const run = spawnSync(exe, ['--config', configPath], { input: `${input}\n`, env: pluginEnv(venv), encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return { stdout: run.stdout, output: await readFile(path.join(dir, 'out', 'users.jsonl'), 'utf8') };
}

function describeInstaller(kind: 'uv' | 'pip', envFor: () => Promise<NodeJS.ProcessEnv>): void {
  describe(`plugins/install with ${kind} (real PyPI packages)`, function () {
    this.timeout(300_000);
    let root: string;
    let env: NodeJS.ProcessEnv;
    const install = (plugins: InstallablePlugin[], clean = false): Promise<InstallResult[]> =>
      installPlugins(plugins, { projectRoot: root, env, clean });

    before(async () => {
      root = await mkdtemp(path.join(os.tmpdir(), `floe-install-${kind}-`));
      env = await envFor();
    });
    after(async () => {
      await rm(root, { recursive: true, force: true });
    });

    it('installs target-jsonl and its executable runs a SCHEMA/RECORD/STATE stream', async () => {
      const started = Date.now();
      const [result] = await install([TARGET_JSONL]);
      console.log(`      target-jsonl install with ${kind}: ${Date.now() - started} ms`);
      assert.equal(result?.status, 'installed', result?.error?.message);
      assert.equal(result.note, `installed with ${kind}`);
      const exe = await resolveExecutable(TARGET_JSONL, root);
      assert.equal(exe, path.join(root, '.meltano/loaders/target-jsonl/venv/bin/target-jsonl'));
      const { stdout, output } = await runTargetJsonl(exe, result.venvDir!, root);
      assert.deepEqual(JSON.parse(stdout), { bookmarks: { users: { id: 1 } } });
      assert.deepEqual(JSON.parse(output), { id: 1 });
    });

    it('leaves an unchanged plugin alone on a second call', async () => {
      const fingerprintFile = path.join(root, '.meltano/loaders/target-jsonl/venv/.meltano_plugin_fingerprint');
      const before = await readFile(fingerprintFile, 'utf8');
      const [result] = await install([TARGET_JSONL]);
      assert.equal(result?.status, 'up to date');
      assert.equal(await readFile(fingerprintFile, 'utf8'), before);
    });

    it('reinstalls with clean and the reinstalled executable still runs', async () => {
      const exe = path.join(root, '.meltano/loaders/target-jsonl/venv/bin/target-jsonl');
      const [result] = await install([TARGET_JSONL], true);
      assert.equal(result?.status, 'installed', result?.error?.message);
      const { stdout } = await runTargetJsonl(exe, result.venvDir!, root);
      assert.deepEqual(JSON.parse(stdout), { bookmarks: { users: { id: 1 } } });
    });

    it('fails clearly on a package that does not exist and leaves no venv behind', async () => {
      const bogus: InstallablePlugin = { type: 'extractors', name: 'tap-bogus', pipUrl: 'floe-no-such-package-7d1f2' };
      const [result] = await install([bogus]);
      assert.equal(result?.status, 'failed');
      assert.equal(result.error?.name, 'PluginInstallError');
      const step = kind === 'uv' ? 'uv pip install' : 'pip install';
      assert.ok(
        result.error?.message.startsWith(
          `Installing plugin 'tap-bogus' (extractor) failed: \`${step} floe-no-such-package-7d1f2\` exited with code 1. Fix pip_url or python for 'tap-bogus' in meltano.yml, then run \`floe install tap-bogus\` again.\n`,
        ),
        result.error?.message,
      );
      assert.match(result.error?.message ?? '', /floe-no-such-package-7d1f2/);
      assert.equal(await exists(path.join(root, '.meltano/extractors/tap-bogus/venv')), false);
      assert.deepEqual(await readdir(path.join(root, '.meltano/extractors/tap-bogus')), []);
    });
  });
}

// uv: $UV, the one `node scripts/ensure-tools.js` provisions into .floe/tools, or uv on PATH.
describeInstaller('uv', async () => {
  const uv = await findUv(REPO_ROOT);
  assert.ok(uv !== undefined, 'no uv found: run `node scripts/ensure-tools.js` (CI does) or set UV');
  return { ...process.env, UV: uv };
});

// pip: no uv anywhere, so `python3 -m venv` + pip runs and the venv is relocated from its temp dir.
describeInstaller('pip', () => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.UV;
  env.PATH = (env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => spawnSync('test', ['-x', path.join(dir, 'uv')]).status !== 0)
    .join(path.delimiter);
  return Promise.resolve(env);
});
