import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ConfigError } from '../../../src/config/errors';
import { expandGlob, loadProject, parseProjectText, projectRootFrom } from '../../../src/config/load';
import { findJob, findPlugin } from '../../../src/config/project';

const PROJECTS = path.resolve(__dirname, '..', '..', 'fixtures', 'projects');

function configMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('config/load: include_paths', () => {
  it('merges plugins, jobs, schedules, environments and env from globbed sub-files', () => {
    const p = loadProject(path.join(PROJECTS, 'include-globs'));
    assert.deepEqual(p.includedFiles, [
      'subconfig_extractors.yml',
      'subconfig_jobs.yml',
      'conf/envs/prod.yml',
      'conf/schedules.yml',
    ]);
    assert.deepEqual(
      p.plugins.map((x) => `${x.type}/${x.name} from ${x.origin.file}`),
      [
        'loaders/target-jsonl from meltano.yml',
        'extractors/tap-a from subconfig_extractors.yml',
        'extractors/tap-b from subconfig_extractors.yml',
      ],
    );
    assert.deepEqual(findJob(p, 'ab')?.tasks, [
      ['tap-a', 'target-jsonl'],
      ['tap-b', 'target-jsonl'],
    ]);
    assert.deepEqual(
      p.schedules.map((s) => [s.name, s.job, s.origin.file]),
      [['ab-hourly', 'ab', 'conf/schedules.yml']],
    );
    assert.deepEqual(p.environments[0]?.plugins['extractors/tap-a']?.config, { region: 'eu' });
    assert.deepEqual(p.env, { FROM_ROOT: 'root', FROM_SUBCONFIG: 'sub' });
    // The root model keeps the root file as written.
    assert.equal(p.raw.jobs, undefined);
  });

  it('reports every name repeated across files, naming both places', () => {
    assert.equal(
      configMessage(() => loadProject(path.join(PROJECTS, 'include-duplicate'))),
      [
        "more/dup.yml:3:11: plugins.extractors[0].name repeats extractor 'tap-a', already defined in meltano.yml at plugins.extractors[0]. Plugin names must be unique within a plugin type.",
        "more/dup.yml:6:9: jobs[0].name repeats job 'ab', already defined in meltano.yml at jobs[0]. Job names must be unique; rename or remove one.",
        "more/dup.yml:9:9: schedules[0].name repeats schedule 'ab-daily', already defined in meltano.yml at schedules[0]. Schedule names must be unique; rename or remove one.",
        "more/dup.yml:13:9: environments[0].name repeats environment 'dev', already defined in meltano.yml at environments[0]. Environment names must be unique.",
      ].join('\n'),
    );
  });

  it('locates a YAML syntax error in the included file', () => {
    assert.equal(
      configMessage(() => loadProject(path.join(PROJECTS, 'include-invalid-yaml'))),
      'sub/plugins.yml:5:1: the file is not valid YAML: Flow map in block collection must be sufficiently indented and end with a }. Fix the YAML syntax at that position.',
    );
  });

  it('parseProjectText validates edited text against the included files on disk', () => {
    const root = path.join(PROJECTS, 'include-globs');
    const text = fs.readFileSync(path.join(root, 'meltano.yml'), 'utf8');
    assert.ok(findPlugin(parseProjectText(text, root), 'target-jsonl', 'loaders'));
    // Renaming the loader in the root breaks the job of an included file; the edit is rejected there.
    const renamed = text.replace('- name: target-jsonl', '- name: target-csv');
    const tail =
      "names 'target-jsonl', which is not a plugin or mapping defined in the project (defined: target-csv, tap-a, tap-b). " +
      'Each task is: extractor [mappers...] loader, or plugin[:command], separated by spaces.';
    assert.equal(
      configMessage(() => parseProjectText(renamed, root)),
      `subconfig_jobs.yml:4:5: jobs[0].tasks[0] 'tap-a target-jsonl' ${tail}\n` +
        `subconfig_jobs.yml:5:5: jobs[0].tasks[1] 'tap-b target-jsonl' ${tail}`,
    );
  });
});

describe('config/load: expandGlob', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-glob-'));
    for (const f of [
      'subconfig_1.yml',
      'subconfig_2.yml',
      'subconfig_a.yml',
      '.hidden.yml',
      'a/b/c/deep.yml',
      'a/x.yml',
    ]) {
      fs.mkdirSync(path.dirname(path.join(tmp, f)), { recursive: true });
      fs.writeFileSync(path.join(tmp, f), '{}\n');
    }
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const rel = (pattern: string) => expandGlob(tmp, pattern).map((f) => path.relative(tmp, f));

  it('matches *, ? and character classes within one path segment', () => {
    assert.deepEqual(rel('./subconfig_*.yml'), ['subconfig_1.yml', 'subconfig_2.yml', 'subconfig_a.yml']);
    assert.deepEqual(rel('subconfig_?.yml'), ['subconfig_1.yml', 'subconfig_2.yml', 'subconfig_a.yml']);
    assert.deepEqual(rel('./subconfig_[0-9].yml'), ['subconfig_1.yml', 'subconfig_2.yml']);
    assert.deepEqual(rel('./subconfig_[!0-9].yml'), ['subconfig_a.yml']);
    assert.deepEqual(rel('./*/*.yml'), ['a/x.yml']);
  });

  it('matches ** across zero or more directories', () => {
    assert.deepEqual(rel('./**/*.yml'), [
      'a/b/c/deep.yml',
      'a/x.yml',
      'subconfig_1.yml',
      'subconfig_2.yml',
      'subconfig_a.yml',
    ]);
    assert.deepEqual(rel('a/**/deep.yml'), ['a/b/c/deep.yml']);
  });

  it('skips dot-files unless the pattern names them, and returns nothing for missing paths', () => {
    assert.deepEqual(rel('./.hidden.yml'), ['.hidden.yml']);
    assert.deepEqual(rel('./.h*.yml'), ['.hidden.yml']);
    assert.deepEqual(rel('./nope/*.yml'), []);
    assert.deepEqual(rel('./a'), []);
  });

  it('accepts an absolute pattern', () => {
    assert.deepEqual(expandGlob('/elsewhere', path.join(tmp, 'a', '*.yml')), [path.join(tmp, 'a', 'x.yml')]);
  });
});

describe('config/load: loadProject', () => {
  it('rejects a directory without meltano.yml, saying what to do', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-empty-'));
    try {
      assert.equal(
        configMessage(() => loadProject(dir)),
        `${path.join(dir, 'meltano.yml')}: the file does not exist. Run floe from a Meltano project directory or set MELTANO_PROJECT_ROOT to one.`,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads an empty meltano.yml as an empty project', () => {
    const p = parseProjectText('', '/tmp/empty-project');
    assert.deepEqual([p.plugins, p.jobs, p.schedules, p.environments, p.includedFiles], [[], [], [], [], []]);
  });

  it('finds the root from MELTANO_PROJECT_ROOT, relative to the working directory, else the working directory', () => {
    assert.equal(projectRootFrom('/work/a', { MELTANO_PROJECT_ROOT: '../b' }), '/work/b');
    assert.equal(projectRootFrom('/work/a', { MELTANO_PROJECT_ROOT: '/abs' }), '/abs');
    assert.equal(projectRootFrom('/work/a', { MELTANO_PROJECT_ROOT: '' }), '/work/a');
    assert.equal(projectRootFrom('/work/a', {}), '/work/a');
  });
});
