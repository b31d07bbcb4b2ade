/**
 * The `floe` command. Each command group lives in its own file in this folder and exports
 * `register(program, ctx)`; add a group by importing it and listing it in `COMMAND_GROUPS`.
 *
 * Exit codes: 0 ok, 2 user error (`UserError`, including an invalid meltano.yml, and usage errors such as an
 * unknown option or a missing argument), 1 anything else (one line; `FLOE_DEBUG=1` adds the stack).
 */
import { Command, CommanderError, Option } from 'commander';
import { createContext, OUTPUT_FORMATS } from './context';
import type { CliContext, CliIo } from './context';
import { register as registerJob } from './job';
import { register as registerSchedule } from './schedule';
import { register as registerOrchestrate } from './orchestrate';
import { register as registerUp } from './up';
import { register as registerInstall } from './install';
import { register as registerRun } from './run';
import { register as registerState } from './state';
import { register as registerConfig } from './config';
import { register as registerSelect } from './select';

export type { CliContext, CliIo } from './context';

type RegisterGroup = (program: Command, ctx: CliContext) => void;

/** In help order. */
const COMMAND_GROUPS: readonly RegisterGroup[] = [
  registerJob,
  registerSchedule,
  registerInstall,
  registerRun,
  registerState,
  registerConfig,
  registerSelect,
  registerOrchestrate,
  registerUp,
];

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USER = 2;

/** Builds the program; exported for tests and for documentation generators. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('floe');
  // Set before any subcommand is created: subcommands copy these settings from their parent.
  program
    .description("Meltano's orchestration on Temporal: jobs and schedules from meltano.yml, run as durable workflows.")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
    })
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(add --help for usage)')
    .addOption(new Option('--format <format>', 'output format of commands that print results').choices(OUTPUT_FORMATS));
  for (const group of COMMAND_GROUPS) group(program, ctx);
  return program;
}

/** Duck-typed so an error from another copy of the module (tsx vs dist) is still recognised. */
function exitCodeOf(err: unknown): number | undefined {
  const code = (err as { exitCode?: unknown } | null)?.exitCode;
  return err instanceof Error && (code === EXIT_USER || code === EXIT_RUNTIME) ? code : undefined;
}

/**
 * Runs `floe` with `argv` as in `process.argv` (node, script, args...) and returns the exit code; never throws.
 */
export async function main(argv: string[], io?: Partial<CliIo>): Promise<number> {
  const fullIo: CliIo = {
    stdout: io?.stdout ?? process.stdout,
    stderr: io?.stderr ?? process.stderr,
    env: io?.env ?? process.env,
    cwd: io?.cwd ?? process.cwd(),
  };
  const ctx = createContext(fullIo);
  try {
    await buildProgram(ctx).parseAsync(argv, { from: 'node' });
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed the help or the usage error.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT_OK;
      return EXIT_USER;
    }
    const known = exitCodeOf(err);
    const message = err instanceof Error ? err.message : String(err);
    if (known === EXIT_USER) {
      ctx.warn(message);
      return EXIT_USER;
    }
    if (known === EXIT_RUNTIME) ctx.warn(message);
    else {
      const firstLine = message.split('\n')[0] ?? message;
      ctx.warn(
        `floe: unexpected error: ${firstLine}${fullIo.env.FLOE_DEBUG === '1' ? '' : ' (set FLOE_DEBUG=1 for details)'}`,
      );
    }
    if (fullIo.env.FLOE_DEBUG === '1' && err instanceof Error && err.stack) ctx.warn(err.stack);
    return EXIT_RUNTIME;
  }
}

/** Entry point of bin/floe.js: exits once stdout has been flushed (pipes may be asynchronous). */
export function runMain(): void {
  void main(process.argv).then((code) => {
    process.stdout.write('', () => process.exit(code));
  });
}

// `node dist/src/cli/main.js <command>` (the npm scripts start, worker and trigger, and the Dockerfile) runs the
// CLI as bin/floe.js does; required as a module (bin/floe.js, tests) it only exports.
if (require.main === module) runMain();
