import assert from 'node:assert/strict';
import { access, chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { computeFingerprint } from '../../../src/plugins/fingerprint';
import { assertInstalled, installPlugins } from '../../../src/plugins/install';
import type { InstallablePlugin, InstallResult } from '../../../src/plugins/types';

// A stand-in for uv with the same command line, so the install flow (temp dir, fingerprint, swap,
// failures) is tested without a network; the real uv and pip are exercised in test/integration/plugins.
const FAKE_UV = `#!/bin/sh
echo "$*" >> "$FAKE_UV_LOG"
if [ "$1" = venv ]; then
  mkdir -p "$5/bin" && ln -s "$(command -v sh)" "$5/bin/python" && echo "version_info = 3.11.7" > "$5/pyvenv.cfg"
  exit 0
fi
bin=$(dirname "$4"); shift 4
for arg in "$@"; do
  case "$arg" in fail-*) echo "Resolving $arg"; echo "error: No solution found: $arg was not found in the package registry" >&2; exit 1;; esac
  printf '#!/bin/sh\\necho %s\\n' "$arg" > "$bin/$arg" && chmod +x "$bin/$arg"
done
`;

const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  );

describe('plugins/install', () => {
  let root: string;
  let env: NodeJS.ProcessEnv;
  const calls = async (): Promise<string[]> =>
    (await readFile(env.FAKE_UV_LOG!, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');
  const install = (
    plugins: InstallablePlugin[],
    extra: { clean?: boolean; force?: boolean } = {},
  ): Promise<InstallResult[]> => installPlugins(plugins, { projectRoot: root, env, ...extra });
  const loader = (pipUrl: string): InstallablePlugin => ({ type: 'loaders', name: 'target-x', pipUrl });
  const venv = (): string => path.join(root, '.meltano/loaders/target-x/venv');

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'floe-install-'));
    const uv = path.join(root, 'fake-uv');
    await writeFile(uv, FAKE_UV);
    await chmod(uv, 0o755);
    env = { PATH: process.env.PATH, UV: uv, FAKE_UV_LOG: path.join(root, 'uv.log') };
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('installs into .meltano/<type>/<name>/venv with a fingerprint and no temporary dir left', async () => {
    const [result] = await install([loader('target-x dep-y')]);
    assert.equal(result?.status, 'installed');
    assert.equal(result.venvDir, venv());
    assert.equal(result.note, 'installed with uv');
    assert.ok(await exists(path.join(venv(), 'bin/target-x')));
    assert.equal(
      await readFile(path.join(venv(), '.meltano_plugin_fingerprint'), 'utf8'),
      computeFingerprint(['target-x', 'dep-y']),
    );
    assert.deepEqual(await readdir(path.dirname(venv())), ['venv']);
    const [venvCall, pipCall] = await calls();
    assert.match(
      venvCall!,
      /^venv --relocatable --python python3 .*\/\.meltano\/loaders\/target-x\/\.installing-\w+\/venv$/,
    );
    assert.match(pipCall!, /^pip install --python .*\/\.installing-\w+\/venv\/bin\/python target-x dep-y$/);
  });

  it('leaves an unchanged plugin alone, reinstalls on clean and when pip_url changes', async () => {
    await install([loader('target-x')]);
    assert.equal((await calls()).length, 2);
    assert.equal((await install([loader('target-x')]))[0]?.status, 'up to date');
    assert.equal((await calls()).length, 2);
    assert.equal((await install([loader('target-x')], { clean: true }))[0]?.status, 'installed');
    assert.equal((await install([loader('target-x target-x-extra')]))[0]?.status, 'installed');
    assert.equal((await calls()).length, 6);
    assert.ok(await exists(path.join(venv(), 'bin/target-x-extra')));
  });

  it('reports a failed install with the output tail and leaves no venv behind', async () => {
    const [result] = await install([loader('fail-pkg')]);
    assert.equal(result?.status, 'failed');
    assert.equal(result.error?.name, 'PluginInstallError');
    assert.equal(
      result.error?.message,
      "Installing plugin 'target-x' (loader) failed: `uv pip install fail-pkg` exited with code 1. Fix pip_url or python for 'target-x' in meltano.yml, then run `floe install target-x` again.\n" +
        '  Resolving fail-pkg\n  error: No solution found: fail-pkg was not found in the package registry',
    );
    assert.equal(await exists(venv()), false);
    assert.deepEqual(await readdir(path.dirname(venv())), []);
  });

  it('keeps the previous working venv when a reinstall fails', async () => {
    await install([loader('target-x')]);
    assert.equal((await install([loader('target-x fail-new')]))[0]?.status, 'failed');
    assert.ok(await exists(path.join(venv(), 'bin/target-x')));
    assert.equal((await install([loader('target-x')]))[0]?.status, 'up to date');
  });

  it('skips plugins without pip_url and keeps the input order across parallel installs', async () => {
    const results = await installPlugins(
      [
        { type: 'extractors', name: 'tap-local', executable: './tap.py' },
        { type: 'extractors', name: 'tap-a', pipUrl: 'tap-a' },
        { type: 'mappers', name: 'map-b', pipUrl: 'map-b' },
      ],
      { projectRoot: root, env, parallelism: 3 },
    );
    assert.deepEqual(
      results.map((r) => [r.name, r.status, r.note]),
      [
        ['tap-local', 'skipped', "no pip_url: runs './tap.py' from the project or PATH"],
        ['tap-a', 'installed', 'installed with uv'],
        ['map-b', 'installed', 'installed with uv'],
      ],
    );
  });

  it('rejects a pip_url that expands to nothing', async () => {
    const [result] = await install([loader('$FLOE_UNSET_PIP_URL')]);
    assert.equal(result?.status, 'failed');
    assert.equal(
      result.error?.message,
      "Installing plugin 'target-x' (loader) failed: pip_url '$FLOE_UNSET_PIP_URL' expands to no pip arguments (unset: FLOE_UNSET_PIP_URL). Set the variables or fix pip_url in meltano.yml.",
    );
  });

  it('rejects an interpreter outside supported_python_versions unless forced', async () => {
    const plugin: InstallablePlugin = { ...loader('target-x'), supportedPythonVersions: ['3.8', '3.9'] };
    const [result] = await install([plugin]);
    assert.equal(result?.status, 'failed');
    assert.equal(
      result.error?.message,
      "Installing plugin 'target-x' (loader) failed: the interpreter 'python3' is Python 3.11 but the plugin supports 3.8, 3.9. Set `python` for 'target-x' in meltano.yml to a supported interpreter, or install with --force.",
    );
    assert.equal(await exists(venv()), false);
    assert.equal((await install([plugin], { force: true }))[0]?.status, 'installed');
  });

  it('rejects a parallelism below 1', async () => {
    await assert.rejects(installPlugins([], { projectRoot: root, env, parallelism: 0 }), {
      name: 'UserError',
      message: 'Install parallelism must be a whole number of at least 1, got 0.',
    });
  });

  it('turns failed results into one RuntimeError naming each plugin', async () => {
    const results = await install([loader('fail-a')]);
    assert.doesNotThrow(() => assertInstalled([]));
    assert.throws(() => assertInstalled(results), {
      name: 'RuntimeError',
      message: `Failed to install 1 of 1 plugin(s): target-x.\n${results[0]?.error?.message}`,
    });
  });
});
