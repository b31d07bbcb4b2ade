/** Runs `floe` in-process against a temp copy of a fixture project, capturing stdout and stderr. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../../src/cli/main';

export const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'projects');

export interface FloeResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A fresh temp copy of `test/fixtures/projects/<name>`; returns the project root. */
export function copyFixture(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `floe-cli-${name}-`));
  fs.cpSync(path.join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

export async function floe(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<FloeResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'floe', ...args], {
    cwd,
    // Nothing listens on port 1: the immediate schedule sync fails fast and says it will happen later,
    // and a developer's running `npm start` is never touched by tests.
    env: { TEMPORAL_ADDRESS: '127.0.0.1:1', ...env },
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr };
}

/** A fixture project copied afresh for every test of the suite (see {@link useProjectCopy}). */
export interface ProjectCopy {
  /** The copy's root directory (the `cwd` of `floe`). */
  readonly root: string;
  /** Its meltano.yml as copied, before the test changed anything. */
  readonly original: string;
  /** Its meltano.yml now. */
  read: () => string;
  /** Runs `floe args` and expects a user error (exit 2, `message` on stderr) that left meltano.yml unchanged. */
  rejects: (args: string[], message: string) => Promise<void>;
}

/** Registers hooks that give each test of the calling suite a fresh copy of fixture project `name`. */
export function useProjectCopy(name: string): ProjectCopy {
  let root = '';
  let original = '';
  const read = (): string => fs.readFileSync(path.join(root, 'meltano.yml'), 'utf8');
  beforeEach(() => {
    root = copyFixture(name);
    original = read();
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
  return {
    get root() {
      return root;
    },
    get original() {
      return original;
    },
    read,
    rejects: async (args, message) => {
      const r = await floe(args, root);
      assert.deepEqual(
        { code: r.code, stdout: r.stdout, stderr: r.stderr },
        { code: 2, stdout: '', stderr: `${message}\n` },
      );
      assert.equal(read(), original, 'meltano.yml must be unchanged');
    },
  };
}

export interface LineDiff {
  /** 1-based line numbers of the old text that are gone. */
  removed: number[];
  /** Lines of the new text that were not in the old one, in order. */
  added: string[];
}

/** A minimal LCS line diff, enough to assert which lines an edit touched. */
export function lineDiff(before: string, after: string): LineDiff {
  const a = before.split('\n');
  const b = after.split('\n');
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const removed: number[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (j < b.length && (i === a.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      added.push(b[j]!);
      j++;
    } else {
      removed.push(i + 1);
      i++;
    }
  }
  return { removed, added };
}

/** 1-based line number of the first line equal to `line` (trimmed-end compare); throws when absent. */
export function lineNo(text: string, line: string): number {
  const idx = text.split('\n').findIndex((l) => l === line);
  if (idx < 0) throw new Error(`line not found: ${line}`);
  return idx + 1;
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, k) => from + k);
}
