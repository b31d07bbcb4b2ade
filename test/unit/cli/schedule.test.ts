import assert from 'node:assert/strict';
import { floe, lineDiff, lineNo, range, useProjectCopy } from './harness';

const SYNC_NOTE = (name: string, verb = 'saved to') =>
  `Schedule '${name}' ${verb} meltano.yml; no Temporal server answered, so it will be synced when a worker starts (or run \`floe schedule sync\`).\n`;

describe('cli/schedule', () => {
  const project = useProjectCopy('commented');
  const { read, rejects } = project;

  it('adds a job schedule with floe options under annotations.floe, after the last schedule', async () => {
    const args = ['schedule', 'add', 'daily-pg', '--interval', '@daily', '--job', 'warehouse'];
    const r = await floe([...args, '--timezone', 'Europe/Berlin', '--paused', '--jitter', '5m'], project.root);
    assert.deepEqual(r, {
      code: 0,
      stdout: `Scheduled job 'daily-pg' at @daily\n${SYNC_NOTE('daily-pg')}`,
      stderr: '',
    });
    const entry = [
      '',
      '- name: daily-pg',
      "  interval: '@daily'",
      '  job: warehouse',
      '  annotations:',
      '    floe:',
      '      timezone: Europe/Berlin',
      '      jitter: 5m',
      '      paused: true',
      '',
    ].join('\n');
    assert.equal(read(), project.original + entry);
  });

  it('adds a legacy extractor/loader schedule with transform skip by default', async () => {
    const r = await floe(
      [
        'schedule',
        'add',
        'pg-jsonl',
        '--extractor',
        'tap-postgres',
        '--loader',
        'target-jsonl',
        '--interval',
        '0 */6 * * *',
      ],
      project.root,
    );
    assert.equal(r.stdout, `Scheduled elt 'pg-jsonl' at 0 */6 * * *\n${SYNC_NOTE('pg-jsonl')}`);
    assert.deepEqual(lineDiff(project.original, read()), {
      removed: [],
      added: [
        '- name: pg-jsonl',
        '  extractor: tap-postgres',
        '  loader: target-jsonl',
        '  transform: skip',
        '  interval: 0 */6 * * *',
        '',
      ],
    });
  });

  it('sets the interval by changing that one line, keeping the comment beside it', async () => {
    const r = await floe(['schedule', 'set', 'nightly-warehouse', '--interval', '@hourly'], project.root);
    assert.deepEqual(r, {
      code: 0,
      stdout: `Updated schedule 'nightly-warehouse'\n${SYNC_NOTE('nightly-warehouse')}`,
      stderr: '',
    });
    assert.equal(
      read(),
      project.original.replace(
        "  interval: '0 2 * * *'   # 02:00 UTC, after the upstream backups",
        "  interval: '@hourly' # 02:00 UTC, after the upstream backups",
      ),
    );
  });

  it('sets and clears floe options inside the schedule only', async () => {
    await floe(
      ['schedule', 'set', 'nightly-warehouse', '--overlap', 'buffer_one', '--timezone', '', '--pause-on-failure'],
      project.root,
    );
    const start = lineNo(project.original, '- name: nightly-warehouse');
    const diff = lineDiff(project.original, read());
    assert.ok(
      diff.removed.every((l) => l >= start && l <= start + 6),
      `removed ${diff.removed.join(',')}`,
    );
    const list = await floe(['schedule', 'list', '--format', 'json'], project.root);
    assert.equal(JSON.parse(list.stdout).schedules.job[0].name, 'nightly-warehouse');
    assert.match(read(), /\n {4}floe:\n {6}overlap: buffer_one\n {6}pause_on_failure: true\n\n# Legacy/);
  });

  it('sets the transform of a legacy schedule and adds annotations to it', async () => {
    await floe(
      ['schedule', 'set', 'github-hourly', '--transform', 'run', '--note', 'for the old dashboards'],
      project.root,
    );
    const transform = lineNo(project.original, '  transform: skip');
    assert.deepEqual(lineDiff(project.original, read()), {
      removed: [transform],
      added: ['  transform: run', '  annotations:', '    floe:', '      note: for the old dashboards'],
    });
  });

  it('removes a schedule with the lines of that schedule only', async () => {
    const r = await floe(['schedule', 'remove', 'github-hourly'], project.root);
    assert.deepEqual(r, {
      code: 0,
      stdout: `Removed schedule 'github-hourly'.\n${SYNC_NOTE('github-hourly', 'removed from')}`,
      stderr: '',
    });
    const start = lineNo(project.original, '# Legacy extractor/loader schedule kept for the old dashboards.');
    assert.deepEqual(lineDiff(project.original, read()), { removed: range(start, start + 6), added: [] });
  });

  it('removing the last schedule leaves an empty list', async () => {
    await floe(['schedule', 'remove', 'github-hourly'], project.root);
    await floe(['schedule', 'remove', 'nightly-warehouse'], project.root);
    assert.equal(read(), project.original.slice(0, project.original.indexOf('schedules:\n')) + 'schedules: []\n');
    const r = await floe(['schedule', 'list', '--format', 'json'], project.root);
    assert.deepEqual(JSON.parse(r.stdout), { schedules: { job: [], elt: [] } });
  });

  it("lists schedules in Meltano's v4 JSON shape", async () => {
    await floe(['schedule', 'add', 'by-hand', '--interval', '@manual', '--job', 'github-to-jsonl'], project.root);
    const r = await floe(['schedule', 'list', '--format', 'json'], project.root);
    const expected = {
      schedules: {
        job: [
          {
            name: 'nightly-warehouse',
            interval: '0 2 * * *',
            cron_interval: '0 2 * * *',
            env: {},
            job: {
              name: 'warehouse',
              tasks: ['tap-github target-postgres', 'tap-postgres target-postgres', 'dbt-postgres:run'],
            },
          },
          {
            name: 'by-hand',
            interval: '@manual',
            cron_interval: null,
            env: {},
            job: { name: 'github-to-jsonl', tasks: ['tap-github target-jsonl'] },
          },
        ],
        elt: [
          {
            name: 'github-hourly',
            extractor: 'tap-github',
            loader: 'target-jsonl',
            transform: 'skip',
            interval: '@hourly',
            env: {},
            cron_interval: '0 * * * *',
            last_successful_run_ended_at: null,
            elt_args: ['tap-github', 'target-jsonl', '--transform=skip', '--state-id=github-hourly'],
          },
        ],
      },
    };
    assert.deepEqual(r, { code: 0, stdout: `${JSON.stringify(expected, null, 2)}\n`, stderr: '' });
  });

  it('lists schedules as a table in text format', async () => {
    const r = await floe(['schedule', 'list'], project.root);
    assert.equal(
      r.stdout,
      [
        'NAME               INTERVAL   CRON       RUNS                                         FLOE',
        'nightly-warehouse  0 2 * * *  0 2 * * *  job warehouse                                timezone=UTC overlap=skip',
        'github-hourly      @hourly    0 * * * *  tap-github -> target-jsonl (transform skip)  -',
        '',
      ].join('\n'),
    );
  });

  it('rejects an interval that is not a cron or an alias', () =>
    rejects(
      ['schedule', 'add', 'bad', '--interval', '0 0 * *', '--job', 'warehouse'],
      "Schedule 'bad' has an invalid --interval: '0 0 * *' is not a valid cron expression (5 fields expected, got 4). Use a 5-field cron like '0 * * * *' (minute hour day-of-month month day-of-week) or one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually, @once, @manual, @none.",
    ));

  it('rejects a name that exists', () =>
    rejects(
      ['schedule', 'add', 'github-hourly', '--interval', '@daily', '--job', 'warehouse'],
      "Schedule 'github-hourly' already exists; change it with 'floe schedule set github-hourly ...' or choose another name.",
    ));

  it('rejects --job together with --extractor', () =>
    rejects(
      ['schedule', 'add', 'mixed', '--interval', '@daily', '--job', 'warehouse', '--extractor', 'tap-github'],
      'Cannot mix --job with --extractor/--loader/--transform: a schedule runs either a job (--job) or an extractor and a loader (--extractor, --loader, --transform).',
    ));

  it('rejects a job that does not exist', () =>
    rejects(
      ['schedule', 'add', 'ghost', '--interval', '@daily', '--job', 'nope'],
      `Job 'nope' does not exist (defined jobs: warehouse, github-to-jsonl); add it with 'floe job add nope --tasks "..."' or fix the name.`,
    ));

  it('rejects a loader that is not defined and a missing --loader', async () => {
    await rejects(
      ['schedule', 'add', 'x', '--interval', '@daily', '--extractor', 'tap-github', '--loader', 'target-nope'],
      "Loader 'target-nope' is not defined under plugins.loaders (defined: target-jsonl, target-postgres); add the plugin or fix the name.",
    );
    await rejects(
      ['schedule', 'add', 'x', '--interval', '@daily', '--extractor', 'tap-github'],
      "Missing --loader: schedule 'x' needs --job <job>, or --extractor <extractor> and --loader <loader>.",
    );
  });

  it('rejects a time zone or duration that is not valid', async () => {
    await rejects(
      ['schedule', 'set', 'github-hourly', '--timezone', 'Mars/Olympus'],
      "--timezone 'Mars/Olympus' is not an IANA time zone; use a name such as 'UTC', 'Europe/Berlin' or 'America/New_York'.",
    );
    await rejects(
      ['schedule', 'add', 'x', '--interval', '@daily', '--job', 'warehouse', '--catchup-window', 'soon'],
      "--catchup-window 'soon' is not a duration; use a number with a unit such as '30s', '5m', '2h' or '1d' (units ms, s, m, h, d).",
    );
  });

  it('rejects set on a missing schedule, mixed shapes and nothing to change', async () => {
    await rejects(
      ['schedule', 'set', 'nope', '--interval', '@daily'],
      "Schedule 'nope' does not exist. Run 'floe schedule list' to see the schedules.",
    );
    await rejects(
      ['schedule', 'set', 'nightly-warehouse', '--extractor', 'tap-postgres'],
      "Schedule 'nightly-warehouse' runs job 'warehouse', so it takes --job, not --extractor/--loader/--transform.",
    );
    await rejects(
      ['schedule', 'set', 'github-hourly', '--job', 'warehouse'],
      "Schedule 'github-hourly' runs extractor 'tap-github' and loader 'target-jsonl', so it takes --extractor/--loader/--transform, not --job.",
    );
    await rejects(
      ['schedule', 'set', 'github-hourly'],
      "Nothing to change for schedule 'github-hourly': give --interval, --job, --extractor, --loader, --transform or a floe option (see 'floe schedule set --help').",
    );
    await rejects(
      ['schedule', 'remove', 'nope'],
      "Schedule 'nope' does not exist. Run 'floe schedule list' to see the schedules.",
    );
  });

  it('rejects an --overlap value outside the accepted policies as a usage error', async () => {
    const r = await floe(['schedule', 'set', 'github-hourly', '--overlap', 'sometimes'], project.root);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^error: option '--overlap <policy>' argument 'sometimes' is invalid\. Allowed choices are skip, buffer_one, buffer_all, cancel_other, terminate_other, allow_all\.\n/,
    );
    assert.equal(read(), project.original);
  });
});
