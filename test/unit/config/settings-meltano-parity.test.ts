import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadProject } from '../../../src/config/load';
import { resolvePluginConfig } from '../../../src/config/settings';

// floe's resolved config against what Meltano 4.4.1 printed for the same project and environment variables
// (`meltano [--environment E] config --unsafe print <plugin> --format json`, recorded by
// test/fixtures/settings-parity/record.sh). Key order is not compared: Meltano's JSON key order is not part of
// the config a plugin reads.
const PROJECTS = path.join(__dirname, '../../fixtures/projects');
const RECORDED = path.join(__dirname, '../../fixtures/settings-parity');

interface RecordedCase {
  label: string;
  plugin: string;
  environment?: string;
  env: Record<string, string>;
  config: Record<string, unknown>;
}

const fixtures = fs
  .readdirSync(RECORDED)
  .filter((f) => f.endsWith('.json') && f !== 'cases.json')
  .map((f) => f.replace(/\.json$/, ''));

describe('config/settings parity with Meltano', () => {
  it('has recordings for every parity fixture', () => {
    assert.deepEqual(fixtures.sort(), ['parity-inherit', 'parity-names', 'parity-precedence']);
  });

  for (const fixture of fixtures) {
    const recorded = JSON.parse(fs.readFileSync(path.join(RECORDED, `${fixture}.json`), 'utf8')) as {
      meltano: string;
      cases: RecordedCase[];
    };
    describe(`${fixture} (${recorded.meltano})`, () => {
      for (const c of recorded.cases) {
        it(`resolves ${c.plugin} as Meltano does: ${c.label}`, () => {
          const project = loadProject(path.join(PROJECTS, fixture));
          const plugin = project.plugins.find((p) => p.name === c.plugin);
          assert.ok(plugin, c.plugin);
          const resolved = resolvePluginConfig(project, plugin, {
            ...(c.environment ? { environment: c.environment } : {}),
            env: { PATH: '/usr/bin:/bin', ...c.env },
          });
          assert.deepEqual(resolved.config, c.config);
        });
      }
    });
  }
});
