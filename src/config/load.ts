/**
 * Loading a Meltano project: find the root (`MELTANO_PROJECT_ROOT` or the current directory, as Meltano
 * does), read `meltano.yml`, merge the files named by `include_paths`, validate everything.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from './errors';
import { buildProject } from './build';
import type { ValidatedFile } from './build';
import type { Project } from './project';
import { IncludedFile, ProjectFile } from './schema';
import { checkShape } from './shape-check';
import { parseYamlSource } from './yaml-source';

export const PROJECT_FILE = 'meltano.yml';

/** The project root: `MELTANO_PROJECT_ROOT` if set, else `cwd`. */
export function projectRootFrom(cwd: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.MELTANO_PROJECT_ROOT;
  return path.resolve(cwd, fromEnv && fromEnv !== '' ? fromEnv : '.');
}

function display(root: string, file: string): string {
  const rel = path.relative(root, file);
  return rel.startsWith('..') ? file : rel;
}

/** One glob segment as a regular expression: `*`, `?` and `[...]`/`[!...]` classes, as Python's fnmatch. */
function segmentRegExp(seg: string): RegExp {
  let out = '';
  for (let i = 0; i < seg.length; i++) {
    const ch = seg[i] as string;
    if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else if (ch === '[' && seg.indexOf(']', i + 2) > i) {
      const close = seg.indexOf(']', i + 2);
      let body = seg.slice(i + 1, close);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\\^\]]/g, '\\$&')}]`;
      i = close;
    } else out += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/**
 * Minimal glob, as Meltano resolves `include_paths` (Python `glob(..., recursive=True)`): `*`, `?` and `[...]`
 * within a segment, `**` across segments, relative to `root`; like Python, wildcards skip dot-files.
 */
export function expandGlob(root: string, pattern: string): string[] {
  const segments = pattern.split('/').filter((s) => s !== '' && s !== '.');
  const results: string[] = [];
  const walk = (dir: string, i: number): void => {
    if (i === segments.length) {
      if (fs.existsSync(dir) && fs.statSync(dir).isFile()) results.push(dir);
      return;
    }
    const seg = segments[i] as string;
    if (seg === '**') {
      walk(dir, i + 1);
      for (const e of safeReaddir(dir)) {
        if (e.isDirectory() && !e.name.startsWith('.')) walk(path.join(dir, e.name), i);
      }
      return;
    }
    if (!/[*?[]/.test(seg)) {
      walk(path.join(dir, seg), i + 1);
      return;
    }
    const re = segmentRegExp(seg);
    for (const e of safeReaddir(dir)) {
      if (e.name.startsWith('.') && !seg.startsWith('.')) continue;
      if (re.test(e.name)) walk(path.join(dir, e.name), i + 1);
    }
  };
  walk(path.isAbsolute(pattern) ? '/' : root, 0);
  return [...new Set(results)].sort();
}

function safeReaddir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/**
 * Parses and validates project text (the root file's content) without writing anything; used by the CLI to
 * check an edit before it is written.
 * @throws ConfigError when the text or an included file is invalid.
 */
export function parseProjectText(text: string, root: string, file: string = path.join(root, PROJECT_FILE)): Project {
  const mainSource = parseYamlSource(text, display(root, file));
  const main: ValidatedFile = { source: mainSource, data: checkShape(mainSource, ProjectFile) };
  const included: ValidatedFile[] = [];
  const patterns = (main.data as ProjectFile).include_paths ?? [];
  // A file matched by several patterns (the docs' own example does this) is merged once.
  const seen = new Set<string>([path.resolve(file)]);
  patterns.forEach((pattern) => {
    for (const f of expandGlob(root, pattern)) {
      if (seen.has(path.resolve(f))) continue;
      seen.add(path.resolve(f));
      const source = parseYamlSource(fs.readFileSync(f, 'utf8'), display(root, f));
      included.push({ source, data: checkShape(source, IncludedFile) });
    }
  });
  return buildProject(root, file, main, included);
}

/**
 * Loads the project at `root`.
 * @throws ConfigError when meltano.yml is missing or invalid.
 */
export function loadProject(root: string = projectRootFrom()): Project {
  const file = path.join(root, PROJECT_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError([
      {
        file,
        path: [],
        problem: code === 'ENOENT' ? 'the file does not exist' : `the file cannot be read (${code ?? String(err)})`,
        fix: 'Run floe from a Meltano project directory or set MELTANO_PROJECT_ROOT to one.',
      },
    ]);
  }
  return parseProjectText(text, root, file);
}
