import assert from 'node:assert/strict';
import { fingerprintPath, pluginDir, venvBin, venvDir } from '../../../src/plugins/paths';

describe('plugins/paths', () => {
  it('lays venvs out as meltano install does: <root>/.meltano/<type>/<name>/venv', () => {
    assert.equal(pluginDir('/p', 'extractors', 'tap-x'), '/p/.meltano/extractors/tap-x');
    assert.equal(venvDir('/p', 'loaders', 'target-jsonl'), '/p/.meltano/loaders/target-jsonl/venv');
    assert.equal(venvDir('/p/', 'mappers', 'm'), '/p/.meltano/mappers/m/venv');
    assert.equal(venvBin('/v'), '/v/bin');
    assert.equal(fingerprintPath('/v'), '/v/.meltano_plugin_fingerprint');
  });

  it('resolves a relative project root against the working directory', () => {
    assert.equal(venvDir('proj', 'utilities', 'u'), `${process.cwd()}/proj/.meltano/utilities/u/venv`);
  });
});
