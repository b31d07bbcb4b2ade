import assert from 'node:assert/strict';
import path from 'node:path';

import { ConfigError } from '../../../src/config/errors';
import { loadProject } from '../../../src/config/load';

const INVALID = path.resolve(__dirname, '..', '..', 'fixtures', 'projects', 'invalid');

/** label, fixture folder under test/fixtures/projects/invalid, the exact ConfigError message. */
const CASES: [string, string, string][] = [
  [
    'YAML syntax error, with line and column',
    'yaml-syntax',
    'meltano.yml:4:11: the file is not valid YAML: Nested mappings are not allowed in compact mappings. Fix the YAML syntax at that position.',
  ],
  [
    'duplicate YAML key',
    'duplicate-yaml-key',
    "meltano.yml:3:1: the file is not valid YAML: key 'default_environment' appears twice in the same mapping. Remove or rename one of them.",
  ],
  [
    'unknown top-level key, listing the accepted keys',
    'unknown-top-level-key',
    "meltano.yml:2:1: the top level has unknown key 'plugin'. Accepted keys: version, requires_meltano, project_id, default_environment, environments, include_paths, plugins, schedules, jobs, env, state_backend, database_uri, database_max_retries, database_retry_timeout, python, venv, elt, project_readonly, experimental, send_anonymous_usage_stats, auto_install, cli, ff, hub_api_root, hub_url, hub_url_auth, snowplow, annotations. Remove it or fix its spelling.",
  ],
  [
    'unknown plugin key, listing the accepted keys',
    'unknown-plugin-key',
    "meltano.yml:4:5: plugins.extractors[0] has unknown key 'pip_ur'. Accepted keys: name, description, plugin_type, repo, ext_repo, inherit_from, pip_url, variant, namespace, config, label, logo_url, python, executable, settings, docs, settings_group_validation, commands, requires, requires_meltano, supported_python_versions, hidden, env, annotations, catalog, load_schema, metadata, schema, state, select, select_filter, use_cached_catalog, log_parser, capabilities. Remove it or fix its spelling.",
  ],
  [
    'plugin without a name',
    'plugin-name-missing',
    'meltano.yml:3:5: plugins.loaders[0].name is required (a string expected).',
  ],
  [
    'pip_url that is a number',
    'pip-url-number',
    'meltano.yml:4:14: plugins.extractors[0].pip_url must be a string (got the number 3).',
  ],
  [
    'select that is not a list',
    'select-not-list',
    "meltano.yml:4:13: plugins.extractors[0].select must be a list (got the string 'users.*').",
  ],
  [
    'config that is not a mapping',
    'config-not-mapping',
    'meltano.yml:4:13: plugins.loaders[0].config must be a mapping (got a list).',
  ],
  [
    'env value that is a list',
    'env-value-list',
    'meltano.yml:14:12: environments[0].env.PATHS must be a string, a number, true/false or empty (got a list).',
  ],
  [
    "setting kind not in Meltano's list",
    'setting-bad-kind',
    "meltano.yml:6:13: plugins.extractors[0].settings[0].kind must be one of: oauth, date_iso8601, file, email, integer, decimal, options, object, array, boolean, string, hidden, password (got the string 'secret').",
  ],
  [
    'unknown plugin type under plugins',
    'unknown-plugin-type',
    "meltano.yml:2:3: plugins has unknown key 'extractor'. Accepted keys: extractors, loaders, mappers, orchestrators, transformers, files, utilities, transforms. Remove it or fix its spelling.",
  ],
  [
    'extractor capability Meltano does not define',
    'bad-capability',
    "meltano.yml:4:29: plugins.extractors[0].capabilities[1] must be one of: properties, catalog, discover, state, about, stream-maps, activate-version, batch, test, log-based, schema-flattening, structured-logging (got the string 'discovery').",
  ],
  [
    'duplicate plugin name',
    'duplicate-plugin',
    "meltano.yml:5:11: plugins.extractors[1].name repeats extractor 'tap-x', already defined in meltano.yml at plugins.extractors[0]. Plugin names must be unique within a plugin type.",
  ],
  [
    'inherit_from naming a plugin that is not in the project',
    'inherit-from-missing',
    "meltano.yml:4:19: plugins.extractors[0].inherit_from names 'tap-x', which is not another extractor in the project. Define it under plugins.extractors or fix the name.",
  ],
  [
    'job task naming an unknown plugin',
    'job-unknown-plugin',
    "meltano.yml:10:10: jobs[0].tasks 'tap-x target-z' names 'target-z', which is not a plugin or mapping defined in the project (defined: tap-x, target-y). Each task is: extractor [mappers...] loader, or plugin[:command], separated by spaces.",
  ],
  [
    'job task with a loader and no extractor',
    'loader-without-extractor',
    "meltano.yml:10:11: jobs[0].tasks[0] 'target-y' has loader 'target-y' without an extractor before it (expected: extractor [mappers...] loader). Each task is: extractor [mappers...] loader, or plugin[:command], separated by spaces.",
  ],
  [
    'job task with an extractor and no loader',
    'extractor-without-loader',
    "meltano.yml:10:11: jobs[0].tasks[0] 'tap-x' starts an extract-load block with extractor 'tap-x' but no loader follows it (expected: extractor [mappers...] loader). Each task is: extractor [mappers...] loader, or plugin[:command], separated by spaces.",
  ],
  [
    'job tasks that are a number',
    'tasks-not-string',
    'meltano.yml:10:10: jobs[0].tasks must be a string or a list whose items are strings or lists of strings (got the number 42).',
  ],
  [
    'job tasks nested three lists deep',
    'tasks-nested-too-deep',
    'meltano.yml:10:10: jobs[0].tasks must be a string or a list whose items are strings or lists of strings (got a list).',
  ],
  [
    'duplicate job',
    'duplicate-job',
    "meltano.yml:11:9: jobs[1].name repeats job 'el', already defined in meltano.yml at jobs[0]. Job names must be unique; rename or remove one.",
  ],
  [
    'schedule with both job and extractor',
    'schedule-job-and-extractor',
    "meltano.yml:12:3: schedules[0] mixes 'job' with 'extractor'/'loader'/'transform'. A schedule runs either a job (name, job, interval) or an extractor and loader (name, extractor, loader, transform, interval); keep one shape.",
  ],
  [
    'schedule with neither job nor extractor',
    'schedule-neither',
    "meltano.yml:12:3: schedules[0] needs 'job' (or the legacy 'extractor' and 'loader'). Add job: <job name> naming one of the project's jobs.",
  ],
  [
    'legacy schedule without a loader',
    'schedule-legacy-without-loader',
    "meltano.yml:12:3: schedules[0] has no 'loader' (a legacy extractor/loader schedule needs both). Add loader: <plugin name>, or use job: instead.",
  ],
  [
    'schedule naming a missing job',
    'schedule-missing-job',
    "meltano.yml:13:8: schedules[0].job names job 'missing', which is not defined (defined jobs: el). Add it with 'floe job add missing --tasks \"...\"' or fix the name.",
  ],
  [
    'schedule naming a missing extractor',
    'schedule-missing-extractor',
    "meltano.yml:13:14: schedules[0].extractor names extractor 'tap-missing', which is not defined under plugins.extractors. Add the plugin or fix the name.",
  ],
  [
    'duplicate schedule',
    'duplicate-schedule',
    "meltano.yml:15:9: schedules[1].name repeats schedule 's', already defined in meltano.yml at schedules[0]. Schedule names must be unique; rename or remove one.",
  ],
  [
    'interval that is a number',
    'interval-not-string',
    'meltano.yml:14:13: schedules[0].interval must be a string: a cron expression or an alias such as @hourly (got the number 3600).',
  ],
  [
    '4-field cron',
    'cron-4-fields',
    "meltano.yml:14:13: schedules[0].interval '0 0 * *' is not a valid cron expression (5 fields expected, got 4). Use a 5-field cron like '0 * * * *' (minute hour day-of-month month day-of-week) or one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually, @once, @manual, @none.",
  ],
  [
    "6-field cron (Meltano's code rejects what its schema allows)",
    'cron-6-fields',
    "meltano.yml:14:13: schedules[0].interval '0 0 0 * * *' is not a valid cron expression (5 fields expected, got 6). Use a 5-field cron like '0 * * * *' (minute hour day-of-month month day-of-week) or one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually, @once, @manual, @none.",
  ],
  [
    'minute out of range',
    'cron-minute-range',
    "meltano.yml:14:13: schedules[0].interval '60 * * * *' is not a valid cron expression (minute value 60 is out of range 0-59). Use a 5-field cron like '0 * * * *' (minute hour day-of-month month day-of-week) or one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually, @once, @manual, @none.",
  ],
  [
    'bad month name',
    'cron-bad-month',
    "meltano.yml:14:13: schedules[0].interval '0 0 1 foo *' is not a valid cron expression (month value 'foo' is not a number or a name (jan, feb, mar, apr, may, jun, jul, aug, sep, oct, nov, dec)). Use a 5-field cron like '0 * * * *' (minute hour day-of-month month day-of-week) or one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually, @once, @manual, @none.",
  ],
  [
    "Quartz-style weekday 'mon#2'",
    'cron-bad-weekday',
    "meltano.yml:14:13: schedules[0].interval '0 0 * * mon#2' is not a valid cron expression (day-of-week value 'mon#2' is not a number or a name (sun, mon, tue, wed, thu, fri, sat)). Use a 5-field cron like '0 * * * *' (minute hour day-of-month month day-of-week) or one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually, @once, @manual, @none.",
  ],
  [
    'hour range that runs backwards',
    'cron-backwards',
    "meltano.yml:14:13: schedules[0].interval '0 10-2 * * *' is not a valid cron expression (hour range 10-2 runs backwards). Use a 5-field cron like '0 * * * *' (minute hour day-of-month month day-of-week) or one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually, @once, @manual, @none.",
  ],
  [
    'step of zero',
    'cron-zero-step',
    "meltano.yml:14:13: schedules[0].interval '*/0 * * * *' is not a valid cron expression (minute step '0' in '*/0' must be a positive whole number). Use a 5-field cron like '0 * * * *' (minute hour day-of-month month day-of-week) or one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually, @once, @manual, @none.",
  ],
  [
    'alias @minutely',
    'alias-minutely',
    "meltano.yml:14:13: schedules[0].interval '@minutely' is not a known alias. Use a 5-field cron like '0 * * * *' (minute hour day-of-month month day-of-week) or one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually, @once, @manual, @none.",
  ],
  [
    'L as day of month (Meltano accepts it, Temporal calendars cannot say it)',
    'cron-last-day',
    "meltano.yml:14:13: schedules[0].interval '0 0 L * *' is not a valid cron expression (day-of-month 'L' (last day) cannot be expressed as a Temporal schedule; use explicit days such as '28-31' with care or a day-of-week). Use a 5-field cron like '0 * * * *' (minute hour day-of-month month day-of-week) or one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually, @once, @manual, @none.",
  ],
  [
    'transform value other than run, skip, only',
    'bad-transform',
    "meltano.yml:15:14: schedules[0].transform must be one of: run, skip, only (got the string 'always').",
  ],
  [
    "environment name with ':'",
    'environment-colon',
    "meltano.yml:12:9: environments[0].name 'dev:eu' contains ':', which separates the parts of a state ID. Rename the environment without a colon.",
  ],
  [
    'unknown annotations.floe key',
    'floe-unknown-key',
    "meltano.yml:17:7: schedules[0].annotations.floe has unknown key 'time_zone'. Accepted keys: timezone, jitter, overlap, catchup_window, pause_on_failure, paused, note, retry. Remove it or fix its spelling.",
  ],
  [
    'bad overlap policy',
    'floe-bad-overlap',
    "meltano.yml:17:16: schedules[0].annotations.floe.overlap must be one of: skip, buffer_one, buffer_all, cancel_other, terminate_other, allow_all (got the string 'queue').",
  ],
  [
    'bad duration',
    'floe-bad-duration',
    "meltano.yml:17:15: schedules[0].annotations.floe.jitter must be a number and a unit (ms, s, m, h or d) such as '30s', '5m', '2h' or '1d' (got the string '5 minutes').",
  ],
  [
    'unknown time zone',
    'floe-bad-timezone',
    "meltano.yml:17:17: schedules[0].annotations.floe.timezone 'Mars/Olympus_Mons' is not an IANA time zone. Use a name such as 'UTC', 'Europe/Berlin' or 'America/New_York'.",
  ],
  [
    'retry maximum_attempts 0',
    'floe-retry-zero',
    'meltano.yml:14:27: jobs[0].annotations.floe.retry.maximum_attempts must be at least 1 (got the number 0).',
  ],
  [
    'included file with an unknown key, located in that file',
    'include-unknown-key',
    "extra.yml:4:1: the top level has unknown key 'state_backend'. Accepted keys: plugins, schedules, jobs, environments, env, annotations. Remove it or fix its spelling.",
  ],
  ['version 2', 'version-2', 'meltano.yml:1:10: version must be one of: 1 (got the number 2).'],
  [
    'several problems, all reported',
    'several-problems',
    "meltano.yml:10:9: jobs[1].name repeats job 'el', already defined in meltano.yml at jobs[0]. Job names must be unique; rename or remove one.\n" +
      "meltano.yml:14:8: schedules[0].job names job 'missing', which is not defined (defined jobs: el). Add it with 'floe job add missing --tasks \"...\"' or fix the name.\n" +
      "meltano.yml:15:13: schedules[0].interval '0 0 * *' is not a valid cron expression (5 fields expected, got 4). Use a 5-field cron like '0 * * * *' (minute hour day-of-month month day-of-week) or one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually, @once, @manual, @none.",
  ],
];

describe('config/schema: invalid meltano.yml files', () => {
  for (const [label, dir, message] of CASES) {
    it(`rejects ${label}`, () => {
      assert.throws(
        () => loadProject(path.join(INVALID, dir)),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
          assert.equal(err.message, message);
          assert.equal(err.exitCode, 2);
          assert.equal(err.problems.length, message.split('\n').length);
          return true;
        },
      );
    });
  }
});
