import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { findUv } from '../../../src/plugins/find-uv';

async function fakeUv(file: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, '#!/bin/sh\n');
  await chmod(file, 0o755);
  return file;
}

describe('plugins/find-uv', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'floe-uv-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('prefers $UV, then the project tools venv, then PATH', async () => {
    const fromEnv = await fakeUv(path.join(root, 'custom/uv'));
    const provisioned = await fakeUv(path.join(root, '.floe/tools/venv/bin/uv'));
    const onPath = await fakeUv(path.join(root, 'pathdir/uv'));
    const PATH = path.join(root, 'pathdir');
    assert.equal(await findUv(root, { UV: fromEnv, PATH }), fromEnv);
    assert.equal(await findUv(root, { PATH }), provisioned);
    await rm(provisioned);
    assert.equal(await findUv(root, { PATH }), onPath);
    assert.equal(await findUv(root, { PATH: path.join(root, 'nowhere') }), undefined);
  });

  it('resolves a relative $UV against the project root', async () => {
    const uv = await fakeUv(path.join(root, 'tools/uv'));
    assert.equal(await findUv(root, { UV: 'tools/uv' }), uv);
  });

  it('rejects a $UV that is not an executable file', async () => {
    await assert.rejects(findUv(root, { UV: 'missing/uv' }), {
      name: 'UserError',
      message: `UV='missing/uv' does not name an executable file (resolved to '${path.join(root, 'missing/uv')}'). Point UV at a uv binary or unset it.`,
    });
  });
});
