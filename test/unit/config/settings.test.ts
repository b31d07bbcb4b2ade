import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseDotenv } from '../../../src/config/dotenv';
import { expandString, readEnvVarNames, toEnvVar, writeEnvVarNames } from '../../../src/config/env-vars';
import { loadProject } from '../../../src/config/load';
import type { Project } from '../../../src/config/project';
import { castValue } from '../../../src/config/setting-values';
import { redactConfig, resolvePluginConfig, writeConfigFile } from '../../../src/config/settings';
import type { ResolveOptions } from '../../../src/config/settings';

const ROOT = path.join(__dirname, '../../fixtures/projects/settings-basic');

function resolve(name: string, opts: Partial<ResolveOptions> = {}, project: Project = loadProject(ROOT)) {
  const plugin = project.plugins.find((p) => p.name === name);
  assert.ok(plugin, name);
  return resolvePluginConfig(project, plugin, { env: {}, ...opts });
}

describe('config/settings', () => {
  describe('precedence', () => {
    // Setting `port`: default 3306, meltano.yml none, environment dev 3310, .env / terminal as given.
    const rows: [string, Partial<ResolveOptions>, unknown, string][] = [
      ['default value', { dotenv: {} }, 3306, 'default'],
      ['environment beats default', { environment: 'dev', dotenv: {} }, 3310, 'environment'],
      ['.env beats environment', { environment: 'dev', dotenv: { TAP_MYSQL_PORT: '3311' } }, 3311, 'dotenv'],
      [
        'terminal env beats .env',
        { environment: 'dev', dotenv: { TAP_MYSQL_PORT: '3311' }, env: { TAP_MYSQL_PORT: '3312' } },
        3312,
        'env',
      ],
      [
        'schedule env counts as terminal env',
        { environment: 'dev', dotenv: { TAP_MYSQL_PORT: '3311' }, scheduleEnv: { TAP_MYSQL_PORT: '3313' } },
        3313,
        'env',
      ],
    ];
    for (const [label, opts, value, source] of rows) {
      it(`resolves ${label}`, () => {
        const r = resolve('tap-mysql', opts);
        assert.equal(r.config.port, value);
        assert.equal(r.sources.port, source);
      });
    }

    it('lets meltano.yml beat the default and the environment beat meltano.yml', () => {
      assert.deepEqual(
        [resolve('tap-mysql', { dotenv: {} }).sources.host, resolve('tap-mysql').config.host],
        ['meltano_yml', 'root-db'],
      );
      const r = resolve('tap-mysql', { environment: 'dev', dotenv: {} });
      assert.deepEqual([r.extras.select, r.sources._select], [['db-orders.*'], 'environment']);
      assert.deepEqual(resolve('tap-mysql', { dotenv: {} }).extras.select, [
        'db-customers.*',
        '!db-customers.api_token',
      ]);
    });

    it('reads the project .env file when no dotenv is given', () => {
      const r = resolve('tap-mysql');
      assert.equal(r.config.password, 'from-dotenv');
      assert.equal(r.sources.password, 'dotenv');
      assert.equal(r.env.DOTENV_ONLY, 'quoted value');
    });

    it('inherits values from the parent plugin and overrides its own', () => {
      const r = resolve('tap-mysql-eu', { dotenv: {} });
      assert.deepEqual([r.config.port, r.sources.port], [3307, 'meltano_yml']);
      assert.deepEqual([r.config.host, r.sources.host], ['root-db', 'inherited']);
    });
  });

  describe('env var names', () => {
    it('reads <NAME>_<SETTING> from the plugin name, then the namespace, then aliases', () => {
      const def = { name: 'user', aliases: ['username'] };
      assert.deepEqual(readEnvVarNames(def, ['tap-mysql-eu', 'tap_mysql']), [
        'TAP_MYSQL_EU_USER',
        'TAP_MYSQL_USER',
        'TAP_MYSQL_EU_USERNAME',
        'TAP_MYSQL_USERNAME',
      ]);
      assert.equal(toEnvVar('tap-mysql', 'batch_config.encoding.format'), 'TAP_MYSQL_BATCH_CONFIG_ENCODING_FORMAT');
      assert.equal(toEnvVar('meltano_extract', '_load_schema'), 'MELTANO_EXTRACT__LOAD_SCHEMA');
      assert.deepEqual(
        writeEnvVarNames({ name: 'credentials_file', env: 'GOOGLE_APPLICATION_CREDENTIALS' }, ['tap-x']),
        ['GOOGLE_APPLICATION_CREDENTIALS', 'TAP_X_CREDENTIALS_FILE'],
      );
    });

    it('takes values from name, namespace and alias variables', () => {
      assert.equal(
        resolve('tap-mysql-eu', { dotenv: {}, env: { TAP_MYSQL_EU_HOST: 'by-name' } }).config.host,
        'by-name',
      );
      assert.equal(
        resolve('tap-mysql-eu', { dotenv: {}, env: { TAP_MYSQL_HOST: 'by-namespace' } }).config.host,
        'by-namespace',
      );
      assert.equal(
        resolve('tap-mysql', { dotenv: {}, env: { TAP_MYSQL_USERNAME: 'by-alias' } }).config.user,
        'by-alias',
      );
    });

    it('exports settings, extras and info variables into the plugin environment', () => {
      const r = resolve('tap-mysql', {
        environment: 'dev',
        dotenv: {},
        env: {
          PATH: '/usr/bin',
          VIRTUAL_ENV: '/meltano/venv',
          PYTHONPATH: '/x',
          TAP_MYSQL_CREDENTIALS_FILE: '/k.json',
        },
      });
      const pick = (keys: string[]) => Object.fromEntries(keys.map((k) => [k, r.env[k]]));
      assert.deepEqual(
        pick([
          'TAP_MYSQL_PORT',
          'MELTANO_EXTRACT_PORT',
          'GOOGLE_APPLICATION_CREDENTIALS',
          'TAP_MYSQL_SSL',
          'TAP_MYSQL__SELECT',
          'MELTANO_EXTRACT__LOAD_SCHEMA',
          'TAP_MYSQL__METADATA',
          'MELTANO_EXTRACTOR_NAME',
          'MELTANO_EXTRACTOR_NAMESPACE',
          'MELTANO_EXTRACTOR_VARIANT',
          'MELTANO_ENVIRONMENT',
          'VIRTUAL_ENV',
          'PYTHONPATH',
          'PATH',
        ]),
        {
          TAP_MYSQL_PORT: '3310',
          MELTANO_EXTRACT_PORT: '3310',
          GOOGLE_APPLICATION_CREDENTIALS: '/k.json',
          TAP_MYSQL_SSL: 'false',
          TAP_MYSQL__SELECT: '["db-orders.*"]',
          MELTANO_EXTRACT__LOAD_SCHEMA: 'tap_mysql',
          TAP_MYSQL__METADATA: '{"*": {"replication-method": "FULL_TABLE"}}',
          MELTANO_EXTRACTOR_NAME: 'tap-mysql',
          MELTANO_EXTRACTOR_NAMESPACE: 'tap_mysql',
          MELTANO_EXTRACTOR_VARIANT: 'transferwise',
          MELTANO_ENVIRONMENT: 'dev',
          VIRTUAL_ENV: undefined,
          PYTHONPATH: undefined,
          PATH: '/usr/bin',
        },
      );
    });

    it('layers root, plugin, environment and environment-plugin env, each expanded from the layers before', () => {
      const r = resolve('tap-mysql', { environment: 'dev', dotenv: {}, env: { ROOT_LEVEL: 'terminal' } });
      assert.deepEqual(
        [r.env.ROOT_LEVEL, r.env.PLUGIN_LEVEL, r.env.ENV_LEVEL, r.env.ENV_PLUGIN_LEVEL],
        ['root', 'plugin-root', 'env-plugin-root', 'envplugin-env-plugin-root'],
      );
      // A layer's variable also counts as an env-store setting value (Meltano reads settings from this env).
      const p = loadProject(ROOT);
      p.environments[0]!.env.TAP_MYSQL_HOST = 'from-environment-env';
      assert.deepEqual(
        [
          resolve('tap-mysql', { environment: 'dev', dotenv: {} }, p).config.host,
          resolve('tap-mysql', { environment: 'dev', dotenv: {} }, p).sources.host,
        ],
        ['from-environment-env', 'env'],
      );
    });

    it('reads extras from <NAME>__<EXTRA> variables', () => {
      const r = resolve('tap-mysql', {
        dotenv: {},
        env: { TAP_MYSQL__SELECT: '["db-a.*", "!db-a.x"]', TAP_MYSQL__SELECT_FILTER: "'db-a'," },
      });
      assert.deepEqual(r.extras.select, ['db-a.*', '!db-a.x']);
      assert.deepEqual(r.extras.select_filter, ['db-a']);
      assert.equal(r.sources._select, 'env');
    });
  });

  describe('values', () => {
    it('expands $VAR and ${VAR} from the layered env, unset as empty, \\$ as a literal', () => {
      const r = resolve('tap-mysql', { dotenv: {}, env: { DB_USER: 'ann' } });
      assert.deepEqual(
        [r.config.host, r.config.user, r.config.literal, r.config.missing],
        ['root-db', 'ann-suffix', '$NOT_EXPANDED', 'before--after'],
      );
      assert.equal(expandString('$lower ${lower} $UP_1x', { lower: 'l', UP_1: 'u' }), '$lower l ux');
    });

    it('does not expand values that came from env variables', () => {
      assert.equal(resolve('tap-mysql', { dotenv: {}, env: { TAP_MYSQL_HOST: '$HOME' } }).config.host, '$HOME');
    });

    it('nests dotted keys, keeps escaped dots and drops nulls', () => {
      const r = resolve('tap-mysql', { dotenv: {} });
      assert.deepEqual(r.config.batch_config, { encoding: { format: 'jsonl' }, batch_size: 10 });
      assert.deepEqual(r.config.stream, { 'with.dot': 'escaped' });
      assert.equal('nothing' in r.config, false);
      assert.equal(r.flatConfig.nothing, null);
      assert.equal(r.env.TAP_MYSQL_BATCH_CONFIG_ENCODING_FORMAT, 'jsonl');
    });

    it('converts env values to the setting kind', () => {
      const r = resolve('tap-mysql', {
        dotenv: {},
        env: {
          TAP_MYSQL_PORT: '5432',
          TAP_MYSQL_SSL: 'TRUE',
          TAP_MYSQL_RATIO: '0.25',
          TAP_MYSQL_SESSION_SQLS: "['SET a=1', 'SET b=2']",
          TAP_MYSQL_ENGINE_OPTS: '{"pool": 5}',
        },
      });
      assert.deepEqual(
        [r.config.port, r.config.ssl, r.config.ratio, r.config.session_sqls, r.config.engine_opts],
        [5432, true, 0.25, ['SET a=1', 'SET b=2'], { pool: 5 }],
      );
      assert.equal(resolve('tap-mysql', { dotenv: {}, env: { TAP_MYSQL_SSL: 'nope' } }).config.ssl, false);
    });

    it('rejects an env value that does not fit the kind', () => {
      assert.throws(() => resolve('tap-mysql', { dotenv: {}, env: { TAP_MYSQL_PORT: '54.32' } }), {
        name: 'SettingValueError',
        message:
          "Setting 'port' of extractor 'tap-mysql' (from TAP_MYSQL_PORT) is '54.32', which is not an integer. Use a whole number such as 5432.",
      });
      const where = { where: "Setting 'x' of extractor 't' (from T_X)" };
      assert.throws(() => castValue('[abc, xyz]', 'array', where), /is not a JSON array/);
      assert.throws(() => castValue("{'abc', 'xyz'}", 'object', where), /is not a JSON object/);
      assert.deepEqual(castValue('{"key": "value",}', 'object', where), { key: 'value' });
      assert.deepEqual(castValue('[null, "xyz"]', 'array', where), [null, 'xyz']);
    });

    it('rejects an unknown environment', () => {
      assert.throws(() => resolve('tap-mysql', { environment: 'staging' }), {
        name: 'SettingsError',
        message:
          "Environment 'staging' is not defined in meltano.yml (defined: dev, prod). Add it under environments: or pick another with --environment.",
      });
    });
  });

  describe('secrets', () => {
    it('redacts declared sensitive settings and secret-looking custom ones', () => {
      const r = resolve('tap-mysql', { dotenv: { TAP_MYSQL_PASSWORD: 'pw' }, env: { TAP_MYSQL_CLIENT_SECRET: 's' } });
      assert.deepEqual(r.sensitiveKeys, ['password', 'client_secret', 'api_key']);
      const red = redactConfig(r.config, r.sensitiveKeys);
      assert.deepEqual(
        [red.password, red.client_secret, red.api_key, red.host],
        ['(redacted)', '(redacted)', '(redacted)', 'root-db'],
      );
      assert.equal(r.config.password, 'pw');
      assert.deepEqual(redactConfig({ a: { token: 'x' }, 'a.b': 1 }, ['a.token', 'a.b']), {
        a: { token: '(redacted)' },
        'a.b': '(redacted)',
      });
    });

    it('writes the config file readable by the owner only', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-settings-'));
      try {
        fs.writeFileSync(path.join(dir, 'tap.config.json'), 'old', { mode: 0o644 });
        const file = writeConfigFile(dir, 'tap.config.json', { password: 'pw' });
        assert.equal(file, path.join(dir, 'tap.config.json'));
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
        assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { password: 'pw' });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it('parses .env like python-dotenv', () => {
    const text = [
      '# comment',
      'A=plain value # trailing comment',
      "export B='single $A ${A}'",
      'C="double\\nline ${A}"',
      'D=${MISSING:-fallback}',
      'E="multi',
      'line"',
      'not an assignment',
      'F=',
    ].join('\n');
    assert.deepEqual(parseDotenv(text, { MISSING: '' }), {
      A: 'plain value',
      B: 'single $A ${A}',
      C: 'double\nline plain value',
      D: 'fallback',
      E: 'multi\nline',
      F: '',
    });
  });
});
