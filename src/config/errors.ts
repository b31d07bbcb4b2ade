import { UserError } from '../shared/errors';

/** A path into the YAML document: keys and list indexes. */
export type YamlPath = readonly (string | number)[];

/** `schedules[2].interval`, `plugins.extractors[0]`, or `the top level` for the root. */
export function formatYamlPath(path: YamlPath): string {
  if (path.length === 0) return 'the top level';
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

export interface ConfigProblem {
  /** File name as shown to the user (relative to the project root when inside it). */
  file: string;
  path: YamlPath;
  line?: number;
  column?: number;
  /** What is wrong, starting with a verb phrase: "must be a string (got a number)". */
  problem: string;
  /** What to do, one sentence; optional when `problem` already lists accepted values. */
  fix?: string;
}

/** One line per problem: `meltano.yml:12:5: schedules[2].interval '0 0 * *' is not ... Use ...`. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.line !== undefined ? `${p.file}:${p.line}:${p.column ?? 1}` : p.file;
  const subject = p.path.length === 0 && p.problem.startsWith('has ') ? 'the top level' : formatYamlPath(p.path);
  const sentence = p.path.length === 0 && !p.problem.startsWith('has ') ? p.problem : `${subject} ${p.problem}`;
  const withStop = /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
  return `${where}: ${withStop}${p.fix ? ` ${p.fix}` : ''}`;
}

/**
 * `meltano.yml` (or an included file) is invalid. `message` holds every problem, one per line; `problems`
 * keeps them structured for tests and `--format json`.
 */
export class ConfigError extends UserError {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}
