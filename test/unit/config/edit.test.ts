import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../../src/config/atomic-write';
import {
  EditError,
  EditRejectedError,
  appendEntry,
  editProjectFile,
  removeEntry,
  updateEntry,
} from '../../../src/config/edit';

const PLUGINS = 'plugins:\n  extractors:\n  - name: tap-a\n  loaders:\n  - name: target-b\n';

describe('config/edit', () => {
  it('creates a missing section at the end, separated like the other top-level keys', () => {
    const text = `version: 1\n\n${PLUGINS}`;
    assert.equal(
      appendEntry(text, 'jobs', { name: 'j', tasks: ['tap-a target-b'] }),
      `${text}\njobs:\n- name: j\n  tasks:\n  - tap-a target-b\n`,
    );
    assert.equal(
      appendEntry('version: 1', 'jobs', { name: 'j', tasks: ['tap-a target-b'] }),
      'version: 1\njobs:\n- name: j\n  tasks:\n  - tap-a target-b\n',
    );
  });

  it('fills an empty or null section in place, keeping what follows', () => {
    for (const empty of ['jobs: []', 'jobs:', 'jobs: null']) {
      const text = `version: 1\n${empty}\n# schedules come later\nschedules: []\n`;
      assert.equal(
        appendEntry(text, 'jobs', { name: 'j', tasks: ['x y'] }),
        'version: 1\njobs:\n- name: j\n  tasks:\n  - x y\n# schedules come later\nschedules: []\n',
        empty,
      );
    }
  });

  it("follows the file's indentation: indented sequences and four-space maps", () => {
    const text = 'jobs:\n    -   name: a\n        tasks:\n            - x y\n';
    const fourSpace = 'version: 1\nschedules:\n  - name: s\n    interval: "@daily"\n    job: a\n';
    assert.equal(
      appendEntry(fourSpace, 'schedules', {
        name: 't',
        interval: '@hourly',
        job: 'a',
        annotations: { floe: { paused: true } },
      }),
      `${fourSpace}  - name: t\n    interval: '@hourly'\n    job: a\n    annotations:\n      floe:\n        paused: true\n`,
    );
    // A layout the splice does not line up with (dash and key far apart) gets the right content, reformatted
    // by the Document API rather than a broken file.
    assert.equal(
      appendEntry(text, 'jobs', { name: 'b', tasks: ['y z'] }),
      'jobs:\n  - name: a\n    tasks:\n      - x y\n  - name: b\n    tasks:\n      - y z\n',
    );
  });

  it('keeps CRLF line endings and the bytes around the edited entry', () => {
    const text = 'version: 1\r\njobs:\r\n- name: a   # first\r\n  tasks: x y\r\n- name: b\r\n  tasks: y z\r\n';
    assert.equal(
      updateEntry(text, 'jobs', 'b', { set: { tasks: ['z w'] } }),
      'version: 1\r\njobs:\r\n- name: a   # first\r\n  tasks: x y\r\n- name: b\r\n  tasks:\r\n  - z w\r\n',
    );
  });

  it('replaces a scalar in place keeping its quoting and its comment', () => {
    const text = 'schedules:\n- name: s\n  interval: "@daily"   # nightly\n  job: a\n';
    assert.equal(
      updateEntry(text, 'schedules', 's', { set: { interval: '@hourly' } }),
      'schedules:\n- name: s\n  interval: "@hourly" # nightly\n  job: a\n',
    );
  });

  it('removes floe annotations and the emptied maps', () => {
    const text =
      'schedules:\n- name: s\n  interval: "@daily"\n  job: a\n  annotations:\n    floe:\n      paused: true\n    other: {x: 1}\n';
    assert.equal(
      updateEntry(text, 'schedules', 's', { floe: { paused: undefined } }),
      'schedules:\n- name: s\n  interval: "@daily"\n  job: a\n  annotations:\n    other: { x: 1 }\n',
    );
  });

  it('removes the only entry leaving an empty list', () => {
    const text = 'version: 1\njobs:\n# the one job\n- name: a\n  tasks: x y\nschedules: []\n';
    assert.equal(removeEntry(text, 'jobs', 'a'), 'version: 1\njobs: []\nschedules: []\n');
  });

  it('refuses entries that are not in this file, naming where they may be', () => {
    assert.throws(
      () => removeEntry('version: 1\n', 'schedules', 'x'),
      new EditError(
        "Schedule 'x' is not defined in meltano.yml itself (it may come from a file in include_paths); edit that file by hand.",
      ),
    );
    assert.throws(
      () => appendEntry('- a\n- b\n', 'jobs', { name: 'x' }),
      new EditError("meltano.yml has no top-level mapping; add one (for example 'version: 1') before editing."),
    );
  });

  describe('editProjectFile', () => {
    let root: string;
    let file: string;
    beforeEach(() => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-edit-'));
      file = path.join(root, 'meltano.yml');
      fs.writeFileSync(file, `version: 1\n${PLUGINS}jobs:\n- name: j   # keep\n  tasks: tap-a target-b\n`, {
        mode: 0o640,
      });
      fs.chmodSync(file, 0o640);
    });
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    it('writes a valid edit atomically, keeping the file mode and leaving no temp file', () => {
      const result = editProjectFile(root, (t) => appendEntry(t, 'jobs', { name: 'k', tasks: ['tap-a target-b'] }));
      assert.equal(fs.readFileSync(file, 'utf8'), result.after);
      assert.deepEqual(
        result.project.jobs.map((j) => j.name),
        ['j', 'k'],
      );
      assert.equal(fs.statSync(file).mode & 0o777, 0o640);
      assert.deepEqual(fs.readdirSync(root), ['meltano.yml']);
    });

    it('rejects an edit that makes the project invalid and leaves the file byte for byte unchanged', () => {
      const before = fs.readFileSync(file);
      assert.throws(
        () => editProjectFile(root, (t) => appendEntry(t, 'jobs', { name: 'bad', tasks: ['tap-a'] })),
        (err: unknown) => {
          assert.ok(err instanceof EditRejectedError);
          assert.equal(
            err.message,
            "Nothing was written: after this change meltano.yml would be invalid:\nmeltano.yml:12:5: jobs[1].tasks[0] 'tap-a' starts an extract-load block with extractor 'tap-a' but no loader follows it (expected: extractor [mappers...] loader). Each task is: extractor [mappers...] loader, or plugin[:command], separated by spaces.",
          );
          return true;
        },
      );
      assert.deepEqual(fs.readFileSync(file), before);
      assert.deepEqual(fs.readdirSync(root), ['meltano.yml']);
    });
  });

  describe('writeFileAtomic', () => {
    it('writes through a symlink to the real file', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-atomic-'));
      try {
        fs.mkdirSync(path.join(dir, 'real'));
        fs.writeFileSync(path.join(dir, 'real', 'meltano.yml'), 'old\n');
        fs.symlinkSync(path.join('real', 'meltano.yml'), path.join(dir, 'meltano.yml'));
        writeFileAtomic(path.join(dir, 'meltano.yml'), 'new\n');
        assert.ok(fs.lstatSync(path.join(dir, 'meltano.yml')).isSymbolicLink());
        assert.equal(fs.readFileSync(path.join(dir, 'real', 'meltano.yml'), 'utf8'), 'new\n');
        assert.deepEqual(fs.readdirSync(path.join(dir, 'real')), ['meltano.yml']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
