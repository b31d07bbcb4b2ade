import assert from 'node:assert/strict';
import { floe, lineDiff, lineNo, range, useProjectCopy } from './harness';

describe('cli/job', () => {
  const project = useProjectCopy('commented');
  const { read, rejects } = project;

  it('adds a job after the last one, keeping every other byte of the file', async () => {
    const r = await floe(['job', 'add', 'pg-to-jsonl', '--tasks', 'tap-postgres target-jsonl'], project.root);
    assert.deepEqual(r, { code: 0, stdout: "Added job pg-to-jsonl: ['tap-postgres target-jsonl']\n", stderr: '' });
    const anchor = '  tasks: [ "tap-github target-jsonl" ]\n';
    assert.equal(
      read(),
      project.original.replace(anchor, `${anchor}\n- name: pg-to-jsonl\n  tasks:\n  - tap-postgres target-jsonl\n`),
    );
  });

  it('adds a job with nested task lists given as YAML', async () => {
    const tasks = '[["tap-github target-postgres", "dbt-postgres:run"], "tap-postgres target-jsonl"]';
    const r = await floe(['job', 'add', 'combo', '--tasks', tasks], project.root);
    assert.equal(
      r.stdout,
      "Added job combo: [['tap-github target-postgres', 'dbt-postgres:run'], 'tap-postgres target-jsonl']\n",
    );
    assert.deepEqual(lineDiff(project.original, read()), {
      removed: [],
      added: [
        '- name: combo',
        '  tasks:',
        '  - - tap-github target-postgres',
        '    - dbt-postgres:run',
        '  - tap-postgres target-jsonl',
        '',
      ],
    });
    const list = await floe(['job', 'list', 'combo', '--format', 'json'], project.root);
    assert.deepEqual(JSON.parse(list.stdout), {
      job_name: 'combo',
      tasks: [['tap-github target-postgres', 'dbt-postgres:run'], 'tap-postgres target-jsonl'],
    });
  });

  it('sets the tasks of a job, replacing only its task lines', async () => {
    const r = await floe(
      ['job', 'set', 'warehouse', '--tasks', '["tap-github target-postgres", "dbt-postgres:run"]'],
      project.root,
    );
    assert.deepEqual(r, {
      code: 0,
      stdout: "Updated job warehouse: ['tap-github target-postgres', 'dbt-postgres:run']\n",
      stderr: '',
    });
    const before = [
      '  - tap-github target-postgres',
      '  - tap-postgres target-postgres   # CDC source',
      '  # - tap-github target-jsonl   (disabled: debugging only)',
      '  - dbt-postgres:run',
    ].join('\n');
    assert.equal(read(), project.original.replace(before, '  - tap-github target-postgres\n  - dbt-postgres:run'));
  });

  it('keeps a flow-style task list in flow style when setting it', async () => {
    await floe(['job', 'set', 'github-to-jsonl', '--tasks', 'tap-github target-postgres'], project.root);
    const line = lineNo(project.original, '  tasks: [ "tap-github target-jsonl" ]');
    assert.deepEqual(lineDiff(project.original, read()), {
      removed: [line],
      added: ['  tasks: [ tap-github target-postgres ]'],
    });
  });

  it('warns and exits 0 when setting a job that does not exist, as Meltano does', async () => {
    const r = await floe(['job', 'set', 'nope', '--tasks', 'tap-github target-jsonl'], project.root);
    assert.deepEqual(r, { code: 0, stdout: '', stderr: "Job 'nope' does not exist.\n" });
    assert.equal(read(), project.original);
  });

  it('removes a job with the lines of that job only', async () => {
    const r = await floe(['job', 'remove', 'github-to-jsonl'], project.root);
    assert.deepEqual(r, { code: 0, stdout: "Removed job 'github-to-jsonl'.\n", stderr: '' });
    assert.equal(
      read(),
      project.original.replace('\n- name: github-to-jsonl\n  tasks: [ "tap-github target-jsonl" ]\n', ''),
    );
  });

  it('removes the first job with the comment directly above it', async () => {
    await floe(['schedule', 'remove', 'nightly-warehouse'], project.root);
    const afterSchedule = read();
    await floe(['job', 'remove', 'warehouse'], project.root);
    const start = lineNo(afterSchedule, '# The nightly warehouse load, then the dbt models.');
    assert.deepEqual(lineDiff(afterSchedule, read()), { removed: range(start, start + 7), added: [] });
  });

  it('rejects removing a job a schedule uses, naming the schedule', () =>
    rejects(
      ['job', 'remove', 'warehouse'],
      "Job 'warehouse' is used by schedule 'nightly-warehouse'; remove the schedule first ('floe schedule remove nightly-warehouse') or point it at another job ('floe schedule set nightly-warehouse --job <job>').",
    ));

  it('rejects removing a job that does not exist', () =>
    rejects(
      ['job', 'remove', 'nope'],
      "Job 'nope' does not exist in meltano.yml. Run 'floe job list' to see the jobs.",
    ));

  it('rejects adding a job whose name exists', () =>
    rejects(
      ['job', 'add', 'warehouse', '--tasks', 'tap-github target-jsonl'],
      "Job 'warehouse' already exists. Change its tasks with 'floe job set warehouse --tasks ...' or choose another name.",
    ));

  it('rejects tasks that name a plugin the project does not define', () =>
    rejects(
      ['job', 'add', 'bad', '--tasks', '["tap-github target-jsonl", "tap-nope target-jsonl"]'],
      "Job 'bad' has invalid tasks. Task 'tap-nope target-jsonl' names 'tap-nope', which is not a plugin or mapping defined in the project (defined: tap-github, tap-postgres, target-jsonl, target-postgres, dbt-postgres). Each task is: extractor [mappers...] loader, or plugin[:command], separated by spaces.",
    ));

  it('rejects an extractor without a loader in set too', () =>
    rejects(
      ['job', 'set', 'warehouse', '--tasks', 'tap-github'],
      "Job 'warehouse' has invalid tasks. Task 'tap-github' starts an extract-load block with extractor 'tap-github' but no loader follows it (expected: extractor [mappers...] loader). Each task is: extractor [mappers...] loader, or plugin[:command], separated by spaces.",
    ));

  it('rejects --tasks that is not YAML or not a list of strings', async () => {
    await rejects(
      ['job', 'add', 'bad', '--tasks', '["tap-github target-jsonl"'],
      `Job 'bad' has invalid tasks. --tasks '["tap-github target-jsonl"' is not valid YAML (Flow sequence must end with a ]). Give a string such as 'tap-a target-b' or a YAML list such as '["tap-a target-b", "dbt:run"]'.`,
    );
    await rejects(
      ['job', 'add', 'bad', '--tasks', '{a: 1}'],
      `Job 'bad' has invalid tasks. --tasks must be a string or a list of strings or lists of strings. Give a string such as 'tap-a target-b' or a YAML list such as '["tap-a target-b", "dbt:run"]'.`,
    );
  });

  it('rejects a missing --tasks as a usage error', async () => {
    const r = await floe(['job', 'add', 'x'], project.root);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: required option '--tasks <yaml>' not specified\n/);
    assert.equal(read(), project.original);
  });

  it("lists jobs in Meltano's JSON shape with tasks as written", async () => {
    const r = await floe(['job', 'list', '--format', 'json'], project.root);
    const expected = {
      jobs: [
        {
          job_name: 'warehouse',
          tasks: ['tap-github target-postgres', 'tap-postgres target-postgres', 'dbt-postgres:run'],
        },
        { job_name: 'github-to-jsonl', tasks: ['tap-github target-jsonl'] },
      ],
    };
    assert.deepEqual(r, { code: 0, stdout: `${JSON.stringify(expected, null, 2)}\n`, stderr: '' });
  });

  it('lists one job as JSON and as text, and warns for an unknown one', async () => {
    const one = await floe(['--format', 'json', 'job', 'list', 'github-to-jsonl'], project.root);
    assert.equal(
      one.stdout,
      `${JSON.stringify({ job_name: 'github-to-jsonl', tasks: ['tap-github target-jsonl'] }, null, 2)}\n`,
    );
    const text = await floe(['job', 'list'], project.root);
    assert.equal(
      text.stdout,
      "warehouse: ['tap-github target-postgres', 'tap-postgres target-postgres', 'dbt-postgres:run']\ngithub-to-jsonl: ['tap-github target-jsonl']\n",
    );
    assert.deepEqual(await floe(['job', 'list', 'nope'], project.root), {
      code: 0,
      stdout: '',
      stderr: "Job 'nope' does not exist.\n",
    });
  });
});
