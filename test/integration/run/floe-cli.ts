/**
 * Runs floe's command groups in-process the way `src/cli/main.ts` does (same program settings and exit codes),
 * without depending on which groups main.ts lists yet.
 */
import { Command, CommanderError, Option } from 'commander';
import { createContext, OUTPUT_FORMATS } from '../../../src/cli/context';
import type { CliContext } from '../../../src/cli/context';
import { register as registerConfig } from '../../../src/cli/config';
import { register as registerInstall } from '../../../src/cli/install';
import { register as registerRun } from '../../../src/cli/run';
import { register as registerSelect } from '../../../src/cli/select';
import { register as registerState } from '../../../src/cli/state';

export interface FloeResult {
  code: number;
  stdout: string;
  stderr: string;
}

const GROUPS = [registerInstall, registerRun, registerState, registerConfig, registerSelect];

/** `floe <args>` with the project at `cwd`; resolves with the exit code and both outputs. Never rejects. */
export async function floe(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<FloeResult> {
  let stdout = '';
  let stderr = '';
  const ctx: CliContext = createContext({
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: opts.env,
    cwd: opts.cwd,
  });
  const program = new Command('floe')
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.io.stdout.write(s), writeErr: (s) => ctx.io.stderr.write(s) })
    .addOption(new Option('--format <format>').choices(OUTPUT_FORMATS));
  for (const group of GROUPS) group(program, ctx);
  let code = 0;
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) code = 2;
    else {
      const exit = (err as { exitCode?: number }).exitCode;
      code = exit === 2 ? 2 : 1;
      ctx.warn(
        exit === 1 || exit === 2 ? (err as Error).message : `unexpected: ${(err as Error).stack ?? String(err)}`,
      );
    }
  }
  return { code, stdout, stderr };
}
