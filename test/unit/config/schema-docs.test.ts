import assert from 'node:assert/strict';
import path from 'node:path';

import { loadProject } from '../../../src/config/load';
import { findJob, findPlugin, findSchedule } from '../../../src/config/project';
import type { Project } from '../../../src/config/project';
import type { PluginType } from '../../../src/config/schema';
import type { Block } from '../../../src/config/tasks';

const PROJECTS = path.resolve(__dirname, '..', '..', 'fixtures', 'projects');

/** A task as text: blocks joined by ' + ', an extract-load block as `tap [mappers or mappings] target`. */
function taskText(blocks: Block[]): string {
  return blocks
    .map((b) =>
      b.kind === 'extract-load'
        ? [b.extractor, ...b.mappers.map((m) => m.mapping ?? m.plugin), b.loader].join(' ')
        : b.command === undefined
          ? b.plugin
          : `${b.plugin}:${b.command}`,
    )
    .join(' + ');
}

function pluginCounts(p: Project): Partial<Record<PluginType, number>> {
  const counts: Partial<Record<PluginType, number>> = {};
  for (const plugin of p.plugins) counts[plugin.type] = (counts[plugin.type] ?? 0) + 1;
  return counts;
}

function plugin(p: Project, name: string, type: PluginType) {
  const found = findPlugin(p, name, type);
  assert.ok(found, `${type}/${name} not in the model`);
  return found;
}

interface DocsCase {
  /** Folder under test/fixtures/projects. */
  dir: string;
  plugins: Partial<Record<PluginType, number>>;
  /** Job name -> one text per task. */
  jobs?: Record<string, string[]>;
  /** Schedule name -> the cron it runs on, or 'manual'. */
  schedules?: Record<string, string>;
  check?: (p: Project) => void;
}

const CASES: DocsCase[] = [
  {
    dir: 'docs-project',
    plugins: { extractors: 1, loaders: 1 },
    check: (p) => {
      assert.equal(p.defaultEnvironment, 'dev');
      assert.equal(p.projectId, '7f6d5c4b-3a29-4e18-9d07-1c2b3a4d5e6f');
      assert.deepEqual(
        p.environments.map((e) => e.name),
        ['dev', 'staging', 'prod'],
      );
      assert.equal(plugin(p, 'target-postgres', 'loaders').config.port, 5432);
      assert.equal(plugin(p, 'tap-gitlab', 'extractors').executable, 'tap-gitlab');
      assert.equal(p.eltBufferSize, 104_857_600);
      assert.deepEqual(p.stateBackend, { uri: undefined, lockTimeoutSeconds: 10 });
    },
  },
  {
    dir: 'docs-environments',
    plugins: { extractors: 1, loaders: 1 },
    check: (p) => {
      const [dev, staging, prod] = p.environments;
      assert.deepEqual(dev?.plugins['extractors/tap-github'], {
        config: { organizations: ['meltano'] },
        env: {},
        extras: { select: ['issues.*', '!issues.body'] },
      });
      assert.deepEqual(dev?.env, { SOME_VAR: 'dev-value' });
      assert.equal(staging?.stateIdSuffix, '${CUSTOM_SUFFIX}');
      assert.deepEqual(prod?.plugins['extractors/tap-github']?.env, { TAP_GITHUB_AUTH_TOKEN: '${PROD_GITHUB_TOKEN}' });
      assert.deepEqual(prod?.plugins['loaders/target-snowflake']?.config, { dbname: 'prod' });
    },
  },
  {
    dir: 'docs-plugin-definitions',
    plugins: { extractors: 5, loaders: 1 },
    check: (p) => {
      const foo = plugin(p, 'tap-ga--view-foo', 'extractors');
      assert.equal(foo.inheritFrom, 'tap-google-analytics');
      assert.equal(foo.venvName, 'tap-google-analytics');
      assert.equal(foo.pipUrl, 'git+https://gitlab.com/meltano/tap-google-analytics.git');
      assert.equal(foo.executable, 'tap-google-analytics');
      assert.deepEqual(foo.config, { key_file_location: 'client_secrets.json', view_id: 123456 });
      assert.equal(plugin(p, 'tap-ga--view-bar', 'extractors').venvName, 'tap-ga--view-bar');
      const custom = plugin(p, 'tap-covid-19', 'extractors');
      assert.equal(custom.namespace, 'tap_covid_19');
      assert.deepEqual(custom.capabilities, ['catalog', 'discover', 'state']);
      assert.deepEqual(
        custom.settings.map((s) => s.name),
        ['api_token', 'user_agent', 'start_date'],
      );
    },
  },
  {
    dir: 'docs-custom-plugin',
    plugins: { extractors: 2, loaders: 1 },
    jobs: { custom: ['tap-my-custom-source target-my-custom'] },
    check: (p) => {
      const script = plugin(p, 'tap-script', 'extractors');
      assert.equal(script.executable, './tap.py');
      assert.equal(script.pipUrl, undefined);
      const tap = plugin(p, 'tap-my-custom-source', 'extractors');
      assert.equal(tap.pipUrl, '-e ./extract/tap-my-custom-source');
      assert.deepEqual(
        tap.settings.filter((s) => s.sensitive).map((s) => s.name),
        ['password'],
      );
      assert.deepEqual(plugin(p, 'target-my-custom', 'loaders').extras, { dialect: 'postgres' });
    },
  },
  {
    dir: 'docs-orchestration',
    plugins: { extractors: 2, loaders: 2, utilities: 1 },
    jobs: {
      'my-job': ['tap-gitlab target-postgres', 'tap-salesforce target-mysql'],
      'tap-gitlab-to-target-postgres-with-dbt': ['tap-gitlab target-postgres', 'dbt-postgres:test', 'dbt-postgres:run'],
      'tap-gitlab-to-target-postgres-with-dbt-partitioned': [
        'tap-gitlab target-postgres + dbt-postgres:test',
        'dbt-postgres:run',
      ],
      'single-string': ['tap-gitlab target-postgres + dbt-postgres:run'],
    },
    schedules: {
      'daily-gitlab-load': '0 0 * * *',
      'every-six-hours': '0 */6 * * *',
      'gitlab-to-postgres': '0 0 * * *',
      'on-demand': 'manual',
    },
    check: (p) => {
      const legacy = findSchedule(p, 'gitlab-to-postgres');
      assert.deepEqual(
        [legacy?.job, legacy?.extractor, legacy?.loader, legacy?.transform],
        [undefined, 'tap-gitlab', 'target-postgres', 'skip'],
      );
      assert.equal(findSchedule(p, 'daily-gitlab-load')?.transform, undefined);
      assert.deepEqual(findJob(p, 'tap-gitlab-to-target-postgres-with-dbt-partitioned')?.tasks, [
        ['tap-gitlab', 'target-postgres', 'dbt-postgres:test'],
        ['dbt-postgres:run'],
      ]);
    },
  },
  {
    dir: 'docs-configuration',
    plugins: { extractors: 1, loaders: 1 },
    jobs: { example: ['tap-example target-jsonl'] },
    schedules: { 'example-hourly': '0 * * * *' },
    check: (p) => {
      // Meltano stringifies env values.
      assert.deepEqual(p.env, { TOP_LEVEL_VAR: 'top', NUMERIC_VAR: '42', FLAG_VAR: 'true' });
      const tap = plugin(p, 'tap-example', 'extractors');
      assert.deepEqual(tap.env, { PLUGIN_VAR: 'plugin' });
      assert.equal(tap.config.start_date, '${START_DATE}');
      assert.equal(tap.settings.length, 13);
      assert.deepEqual(
        tap.settings.find((s) => s.name === 'api_url'),
        {
          name: 'api_url',
          kind: 'string',
          aliases: ['base_url'],
          env: 'EXAMPLE_API_URL',
          value: 'https://api.example.com',
        },
      );
      assert.deepEqual(tap.extras, {});
      assert.deepEqual(p.environments[0]?.plugins['extractors/tap-example']?.env, { ENV_PLUGIN_VAR: 'dev-plugin' });
      assert.deepEqual(findSchedule(p, 'example-hourly')?.env, { SCHEDULE_VAR: 'scheduled' });
    },
  },
  {
    dir: 'docs-schedules',
    plugins: { extractors: 1, loaders: 1, utilities: 1 },
    jobs: { 'gitlab-to-postgres': ['tap-gitlab target-postgres', 'dbt-postgres:run'] },
    schedules: {
      'daily-gitlab-load': '0 0 * * *',
      'hourly-tuned': '15 8-18 * * mon-fri',
      'gitlab-legacy': '0 3 1,15 * sun',
      'backfill-by-hand': 'manual',
    },
    check: (p) => {
      assert.equal(findSchedule(p, 'hourly-tuned')?.floe.paused, true);
      assert.deepEqual(findSchedule(p, 'daily-gitlab-load')?.env, { TAP_GITLAB_PRIVATE_TOKEN: 's3cr3t-value' });
    },
  },
  {
    dir: 'docs-state-backend-s3',
    plugins: { extractors: 1, loaders: 1 },
    check: (p) => assert.deepEqual(p.stateBackend, { uri: 's3://some_bucket/some/prefix', lockTimeoutSeconds: 60 }),
  },
  {
    dir: 'docs-state-backend-postgres',
    plugins: { extractors: 1, loaders: 1 },
    check: (p) =>
      assert.deepEqual(p.stateBackend, {
        uri: 'postgresql://meltano:${PG_PASSWORD}@localhost:5432/meltano_state',
        lockTimeoutSeconds: 10,
      }),
  },
  {
    dir: 'docs-state-backend-file',
    plugins: { extractors: 1, loaders: 1 },
    check: (p) => assert.equal(p.stateBackend.uri, 'file:///${MELTANO_PROJECT_ROOT}/.meltano/state'),
  },
  {
    dir: 'docs-mappers',
    plugins: { extractors: 1, loaders: 1, mappers: 2 },
    jobs: {
      hashed: ['tap-csv hash_email drop_ids target-jsonl'],
      flattened: ['tap-csv meltano-map-transformer--flatten target-jsonl'],
    },
    check: (p) => {
      assert.deepEqual(findJob(p, 'hashed')?.blocks, [
        [
          {
            kind: 'extract-load',
            extractor: 'tap-csv',
            mappers: [
              { plugin: 'meltano-map-transformer', mapping: 'hash_email' },
              { plugin: 'meltano-map-transformer', mapping: 'drop_ids' },
            ],
            loader: 'target-jsonl',
          },
        ],
      ]);
      const flatten = plugin(p, 'meltano-map-transformer--flatten', 'mappers');
      assert.equal(flatten.executable, 'meltano-map-transform');
      assert.equal((flatten.extras.mappings as unknown[]).length, 2);
    },
  },
  {
    dir: 'docs-include-paths',
    plugins: { extractors: 1, loaders: 1 },
    jobs: { gitlab: ['tap-gitlab target-jsonl'] },
    schedules: { 'gitlab-daily': '0 0 * * *' },
    check: (p) => {
      // subdir/subconfig_2.yml matches two of the patterns and is merged once.
      assert.deepEqual(p.includedFiles, ['subconfig_1.yml', 'subdir/subconfig_2.yml', 'subdir/nested/schedules.yml']);
      assert.deepEqual(
        p.environments.map((e) => e.origin.file),
        ['subconfig_1.yml'],
      );
      assert.equal(findJob(p, 'gitlab')?.origin.file, 'subdir/subconfig_2.yml');
    },
  },
  {
    dir: 'docs-dbt-commands',
    plugins: { extractors: 1, loaders: 1, utilities: 2, files: 1 },
    jobs: {
      'load-and-transform': [
        'tap-gitlab target-postgres + dbt-postgres:deps + dbt-postgres:my_models',
        'sqlfluff:lint',
      ],
    },
    schedules: { nightly: '0 2 * * *' },
    check: (p) =>
      assert.deepEqual(plugin(p, 'dbt-postgres', 'utilities').commands, {
        my_models: {
          args: 'run --select +my_model_name',
          description: 'Run dbt, selecting model my_model_name and all upstream models.',
          executable: undefined,
        },
        compile: { args: 'compile' },
        describe: { args: 'describe', executable: 'dbt_extension', description: undefined },
      }),
  },
  {
    dir: 'docs-select-metadata',
    plugins: { extractors: 2, loaders: 1 },
    check: (p) => {
      const gitlab = plugin(p, 'tap-gitlab', 'extractors');
      assert.deepEqual(Object.keys(gitlab.extras).sort(), [
        'load_schema',
        'metadata',
        'schema',
        'select',
        'select_filter',
        'use_cached_catalog',
      ]);
      assert.equal((gitlab.extras.select as string[]).length, 6);
      assert.deepEqual((gitlab.extras.metadata as Record<string, unknown>).commits, {
        'replication-method': 'INCREMENTAL',
        'replication-key': 'created_at',
      });
      const pg = plugin(p, 'tap-postgres', 'extractors');
      assert.deepEqual(pg.extras, {
        catalog: 'extract/tap-postgres.catalog.json',
        state: 'extract/tap-postgres.state.json',
      });
      assert.ok(pg.capabilities.includes('log-based'));
    },
  },
  {
    dir: 'docs-annotations',
    plugins: { extractors: 1, loaders: 1 },
    jobs: { gitlab: ['tap-gitlab target-jsonl'] },
    schedules: { 'gitlab-hourly': '0 * * * *' },
    check: (p) => {
      assert.deepEqual(findJob(p, 'gitlab')?.floe, {
        retry: { maximum_attempts: 5, initial_interval: '30s', backoff_coefficient: 2, maximum_interval: '10m' },
      });
      assert.deepEqual(findSchedule(p, 'gitlab-hourly')?.floe, {
        timezone: 'Europe/Berlin',
        jitter: '30s',
        overlap: 'buffer_one',
        catchup_window: '2h',
        pause_on_failure: true,
        note: 'loads GitLab every hour',
      });
      // Other vendors' annotations are not plugin extras and do not reach environment overrides.
      assert.deepEqual(plugin(p, 'tap-gitlab', 'extractors').extras, {});
      assert.deepEqual(p.environments[0]?.plugins['extractors/tap-gitlab'], { config: {}, env: {}, extras: {} });
    },
  },
  {
    dir: 'docs-settings-reference',
    plugins: { extractors: 1, loaders: 1 },
    check: (p) => {
      assert.equal(p.eltBufferSize, 52_428_800);
      assert.deepEqual(p.raw.venv, { backend: 'uv' });
      assert.equal(p.raw.requires_meltano, '>=3.5,<5');
      assert.equal(plugin(p, 'tap-gitlab', 'extractors').python, 'python3.10');
    },
  },
  {
    dir: 'docs-intervals',
    plugins: { extractors: 1, loaders: 1 },
    jobs: { gitlab: ['tap-gitlab target-jsonl'] },
    schedules: {
      's-hourly': '0 * * * *',
      's-daily': '0 0 * * *',
      's-midnight': '0 0 * * *',
      's-weekly': '0 0 * * 0',
      's-monthly': '0 0 1 * *',
      's-yearly': '0 0 1 1 *',
      's-annually': '0 0 1 1 *',
      's-once': 'manual',
      's-manual': 'manual',
      's-none': 'manual',
      's-cron': '*/15 9-17 * * mon-fri',
      's-legacy': '0 0 1,15 * ?',
    },
    check: (p) => assert.equal(findSchedule(p, 's-legacy')?.transform, 'run'),
  },
  {
    dir: 'docs-requires',
    plugins: { extractors: 1, loaders: 1, orchestrators: 1, files: 1, transformers: 1, transforms: 1, utilities: 1 },
    schedules: { 'gitlab-to-postgres': '0 * * * *' },
    check: (p) => {
      // A transform may share its extractor's name: names are unique per plugin type.
      assert.deepEqual(plugin(p, 'tap-gitlab', 'transforms').extras, {
        vars: { schema: "{{ env_var('DBT_SOURCE_SCHEMA') }}" },
        package_name: 'tap_gitlab',
      });
      assert.deepEqual(plugin(p, 'airflow', 'orchestrators').extras, {});
      assert.deepEqual(p.raw.plugins?.orchestrators?.[0]?.requires, {
        files: [{ name: 'files-airflow', variant: 'meltano' }],
      });
    },
  },
];

describe('config/schema: Meltano documentation examples', () => {
  for (const c of CASES) {
    it(`loads ${c.dir}`, () => {
      const p = loadProject(path.join(PROJECTS, c.dir));
      assert.deepEqual(pluginCounts(p), c.plugins);
      assert.deepEqual(Object.fromEntries(p.jobs.map((j) => [j.name, j.blocks.map(taskText)])), c.jobs ?? {});
      assert.deepEqual(
        Object.fromEntries(
          p.schedules.map((s) => [
            s.name,
            s.parsedInterval.kind === 'manual' ? 'manual' : s.parsedInterval.parsed.cron,
          ]),
        ),
        c.schedules ?? {},
      );
      c.check?.(p);
    });
  }
});
