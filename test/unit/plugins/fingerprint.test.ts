import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { computeFingerprint, readFingerprint, writeFingerprint } from '../../../src/plugins/fingerprint';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('plugins/fingerprint', () => {
  it("hashes sorted, de-duplicated pip args joined by spaces (Meltano's value)", () => {
    assert.equal(computeFingerprint(['target-jsonl']), sha256('target-jsonl'));
    assert.equal(computeFingerprint(['pkg2', 'pkg1', 'pkg2']), sha256('pkg1 pkg2'));
  });

  it('ignores argument order and duplicates', () => {
    assert.equal(computeFingerprint(['b', 'a']), computeFingerprint(['a', 'b', 'a']));
  });

  it('changes when the pip args change', () => {
    assert.notEqual(computeFingerprint(['target-jsonl==0.1.4']), computeFingerprint(['target-jsonl==0.1.3']));
  });

  it('changes when the plugin names an interpreter, and with the interpreter', () => {
    const plain = computeFingerprint(['tap-x']);
    const py311 = computeFingerprint(['tap-x'], 'python3.11');
    assert.notEqual(plain, py311);
    assert.notEqual(py311, computeFingerprint(['tap-x'], 'python3.10'));
    assert.equal(py311, sha256('tap-x\npython=python3.11'));
  });

  it('writes .meltano_plugin_fingerprint in the venv and reads it back', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'floe-fp-'));
    try {
      assert.equal(await readFingerprint(dir), undefined);
      await writeFingerprint(dir, 'abc');
      assert.equal(await readFile(path.join(dir, '.meltano_plugin_fingerprint'), 'utf8'), 'abc');
      assert.equal(await readFingerprint(dir), 'abc');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
