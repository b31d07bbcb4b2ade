/**
 * What every command group gets: where to print, the environment, the project root, and the output format.
 * Command groups never touch `process` directly, so `main()` runs in-process in tests.
 */
import type { Command } from 'commander';
import { loadProject, projectRootFrom } from '../config/load';
import type { Project } from '../config/project';

export interface CliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export type OutputFormat = 'text' | 'json';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['text', 'json'];

export interface CliContext {
  io: CliIo;
  /** `MELTANO_PROJECT_ROOT` or the working directory. */
  root: string;
  /**
   * Loads and validates the project at `root`.
   * @throws ConfigError when meltano.yml is missing or invalid.
   */
  loadProject(): Project;
  /** A line of results on stdout. */
  out(line: string): void;
  /** A warning or notice on stderr. */
  warn(line: string): void;
  /** A JSON document on stdout, indented like Meltano's (`json.dumps(..., indent=2)`). */
  json(value: unknown): void;
  /** The global `--format` as seen from `cmd` (text unless given). */
  format(cmd: Command): OutputFormat;
}

export function createContext(io: CliIo): CliContext {
  const root = projectRootFrom(io.cwd, io.env);
  return {
    io,
    root,
    loadProject: () => loadProject(root),
    out: (line) => io.stdout.write(`${line}\n`),
    warn: (line) => io.stderr.write(`${line}\n`),
    json: (value) => io.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    format: (cmd) => cmd.optsWithGlobals<{ format?: OutputFormat }>().format ?? 'text',
  };
}
