import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { PluginNotInstalledError, pluginEnv, resolveExecutable } from '../../../src/plugins/executable';

async function script(file: string, mode = 0o755): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, '#!/bin/sh\necho hi\n');
  await chmod(file, mode);
}

describe('plugins/executable', () => {
  let root: string;
  let pathDir: string;
  const env = (): NodeJS.ProcessEnv => ({ PATH: pathDir });

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'floe-exe-'));
    pathDir = path.join(root, 'path-bin');
    await mkdir(pathDir);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('finds the plugin name in the venv bin/', async () => {
    const exe = path.join(root, '.meltano/loaders/target-jsonl/venv/bin/target-jsonl');
    await script(exe);
    const plugin = { type: 'loaders', name: 'target-jsonl', pipUrl: 'target-jsonl' } as const;
    assert.equal(await resolveExecutable(plugin, root, env()), exe);
  });

  it('finds a differently named executable in the venv bin/', async () => {
    const exe = path.join(root, '.meltano/extractors/tap-mysql/venv/bin/tap-mysql-x');
    await script(exe);
    const plugin = { type: 'extractors', name: 'tap-mysql', pipUrl: 'p', executable: 'tap-mysql-x' } as const;
    assert.equal(await resolveExecutable(plugin, root, env()), exe);
  });

  it('resolves an executable path relative to the project root', async () => {
    await script(path.join(root, 'tap.py'));
    const plugin = { type: 'extractors', name: 'tap-local', executable: './tap.py' } as const;
    assert.equal(await resolveExecutable(plugin, root, env()), path.join(root, 'tap.py'));
  });

  it('finds a plugin without pip_url on PATH', async () => {
    await script(path.join(pathDir, 'tap-global'));
    const plugin = { type: 'extractors', name: 'tap-global' } as const;
    assert.equal(await resolveExecutable(plugin, root, env()), path.join(pathDir, 'tap-global'));
  });

  it('rejects a missing venv executable with the install instruction', async () => {
    const plugin = { type: 'extractors', name: 'tap-x', pipUrl: 'tap-x' } as const;
    const missing = path.join(root, '.meltano/extractors/tap-x/venv/bin/tap-x');
    await assert.rejects(resolveExecutable(plugin, root, env()), (err: unknown) => {
      assert.ok(err instanceof PluginNotInstalledError);
      assert.equal(err.exitCode, 2);
      assert.equal(
        err.message,
        `Plugin 'tap-x' (extractor) is not installed: ${missing} does not exist. Run \`floe install tap-x\`.`,
      );
      return true;
    });
  });

  it('does not look on PATH for a plugin that has a pip_url', async () => {
    await script(path.join(pathDir, 'target-y'));
    const plugin = { type: 'loaders', name: 'target-y', pipUrl: 'target-y' } as const;
    const missing = path.join(root, '.meltano/loaders/target-y/venv/bin/target-y');
    await assert.rejects(resolveExecutable(plugin, root, env()), {
      name: 'PluginNotInstalledError',
      message: `Plugin 'target-y' (loader) is not installed: ${missing} does not exist. Run \`floe install target-y\`.`,
    });
  });

  it('rejects a project file that is not executable', async () => {
    await script(path.join(root, 'tap.py'), 0o644);
    const plugin = { type: 'extractors', name: 'tap-local', executable: './tap.py' } as const;
    await assert.rejects(resolveExecutable(plugin, root, env()), {
      name: 'PluginNotInstalledError',
      message: `Plugin 'tap-local' (extractor) is not installed: ${path.join(root, 'tap.py')} does not exist or is not executable. Fix \`executable\` for 'tap-local' in meltano.yml or make the file executable (chmod +x).`,
    });
  });

  it('rejects a plugin without pip_url that is nowhere to be found', async () => {
    const plugin = { type: 'mappers', name: 'meltano-map', executable: 'map-x' } as const;
    const bin = path.join(root, '.meltano/mappers/meltano-map/venv/bin');
    await assert.rejects(resolveExecutable(plugin, root, env()), {
      name: 'PluginNotInstalledError',
      message: `Plugin 'meltano-map' (mapper) is not installed: it has no pip_url and 'map-x' is neither in ${bin} nor on PATH. Install 'map-x' on PATH, or set pip_url or executable for 'meltano-map' in meltano.yml.`,
    });
  });

  it('builds a plugin env: venv bin first on PATH, VIRTUAL_ENV set, PYTHONPATH and PYTHONHOME dropped', () => {
    const env = pluginEnv('/p/venv', {
      PATH: '/usr/bin:/bin',
      PYTHONPATH: '/x',
      PYTHONHOME: '/y',
      VIRTUAL_ENV: '/o',
      A: '1',
    });
    assert.deepEqual(env, { PATH: '/p/venv/bin:/usr/bin:/bin', VIRTUAL_ENV: '/p/venv', A: '1' });
    assert.deepEqual(pluginEnv('/v', {}), { PATH: '/v/bin', VIRTUAL_ENV: '/v' });
  });
});
