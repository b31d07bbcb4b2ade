/**
 * `floe state list|get|set|merge|clear|copy|move|export|import`: `meltano state` (meltano.md §3.9) over the
 * project's state backend. `set` and `clear` ask for confirmation on a terminal, as Meltano does; elsewhere they
 * need `--force`.
 */
import fs from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { CliContext } from './context';
import { openStateStore } from '../state/open-store';
import {
  clearAllStates,
  clearState,
  copyState,
  exportStates,
  getState,
  importStates,
  listStates,
  mergeState,
  moveState,
  parseStateInput,
  setState,
} from '../state/state-commands';
import type { StateStore } from '../state/store';
import { UserError } from '../shared/errors';

async function withStore<T>(ctx: CliContext, fn: (store: StateStore) => Promise<T>): Promise<T> {
  const project = ctx.loadProject();
  const opened = openStateStore({
    uri: project.stateBackend.uri,
    env: ctx.io.env,
    projectRoot: project.root,
    lockTimeoutSeconds: project.stateBackend.lockTimeoutSeconds,
  });
  if (opened.note) ctx.warn(opened.note);
  try {
    return await fn(opened.store);
  } finally {
    await opened.store.close();
  }
}

/** @throws UserError when not confirmed, or when there is no terminal to ask on and `--force` is missing. */
async function confirm(question: string, force: boolean | undefined): Promise<void> {
  if (force) return;
  if (!process.stdin.isTTY) {
    throw new UserError(`${question} No terminal to confirm on: pass --force to go ahead.`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${question} [y/N]: `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') throw new UserError('Aborted: nothing was changed.');
  } finally {
    rl.close();
  }
}

/** The STATE argument or `--input-file`, exactly one of them. */
function stateText(
  stateId: string,
  state: string | undefined,
  inputFile: string | undefined,
): { text: string; source: string } {
  if ((state === undefined) === (inputFile === undefined)) {
    throw new UserError(
      `Give the state for '${stateId}' either as the STATE argument or with --input-file, not both or neither.`,
    );
  }
  if (state !== undefined) return { text: state, source: 'the STATE argument' };
  const file = inputFile as string;
  try {
    return { text: fs.readFileSync(file, 'utf8'), source: `'${file}'` };
  } catch (err) {
    throw new UserError(`Cannot read --input-file '${file}': ${(err as Error).message}.`);
  }
}

export function register(program: Command, ctx: CliContext): void {
  const state = program
    .command('state')
    .description("Manage the pipelines' incremental state (Meltano's state IDs and format).");

  state
    .command('list')
    .description('List state IDs (status: valid, invalid = no singer_state, empty).')
    .option('--pattern <glob>', 'only IDs matching this glob (*, ?, [...])')
    .action(async (opts: { pattern?: string }, cmd: Command) => {
      const entries = await withStore(ctx, (s) => listStates(s, opts.pattern));
      if (ctx.format(cmd) === 'json') ctx.json(entries.map((e) => ({ state_id: e.stateId, status: e.status })));
      else for (const e of entries) ctx.out(e.status === 'valid' ? e.stateId : `${e.stateId} (${e.status})`);
    });

  state
    .command('get')
    .description('Print the state the next run would use: {"singer_state": ...}, or {} when there is none.')
    .argument('<state-id>')
    .action(async (stateId: string) => {
      ctx.json(await withStore(ctx, (s) => getState(s, stateId)));
    });

  state
    .command('set')
    .description('Replace the state with a complete state.')
    .argument('<state-id>')
    .argument('[state]', 'JSON such as {"singer_state": {"bookmarks": {}}}')
    .option('--input-file <file>', 'read the state from this file')
    .option('--no-validate', 'accept state without a top-level singer_state')
    .option('-f, --force', 'do not ask for confirmation')
    .action(
      async (
        stateId: string,
        raw: string | undefined,
        opts: { inputFile?: string; validate: boolean; force?: boolean },
      ) => {
        const { text, source } = stateText(stateId, raw, opts.inputFile);
        const value = parseStateInput(text, { source, validate: opts.validate });
        await confirm(`This overwrites the state of '${stateId}'.`, opts.force);
        await withStore(ctx, (s) => setState(s, stateId, value, { validate: opts.validate }));
        ctx.out(`State for '${stateId}' was set.`);
      },
    );

  state
    .command('merge')
    .description('Deep-merge a state into the stored one (the new values win).')
    .argument('<state-id>')
    .argument('[state]', 'JSON such as {"singer_state": {"bookmarks": {}}}')
    .option('--input-file <file>', 'read the state from this file')
    .option('--from-state-id <id>', "merge this state ID's state")
    .action(async (stateId: string, raw: string | undefined, opts: { inputFile?: string; fromStateId?: string }) => {
      let merged;
      if (opts.fromStateId !== undefined) {
        if (raw !== undefined || opts.inputFile !== undefined) {
          throw new UserError(
            `Give the state to merge into '${stateId}' one way only: STATE, --input-file or --from-state-id.`,
          );
        }
        const from = opts.fromStateId;
        merged = await withStore(ctx, (s) => mergeState(s, stateId, { fromStateId: from }));
      } else {
        const { text, source } = stateText(stateId, raw, opts.inputFile);
        const value = parseStateInput(text, { source, validate: true });
        merged = await withStore(ctx, (s) => mergeState(s, stateId, { state: value }));
      }
      ctx.out(`State for '${stateId}' was merged; it is now: ${JSON.stringify(merged)}`);
    });

  state
    .command('clear')
    .description('Remove the state of one ID, or of all with --all.')
    .argument('[state-id]')
    .option('--all', 'clear every state ID')
    .option('-f, --force', 'do not ask for confirmation')
    .action(async (stateId: string | undefined, opts: { all?: boolean; force?: boolean }) => {
      if ((stateId === undefined) === !opts.all) {
        throw new UserError('Name one state ID to clear, or pass --all (not both).');
      }
      if (opts.all) {
        await confirm('This clears the state of every state ID.', opts.force);
        const ids = await withStore(ctx, (s) => clearAllStates(s));
        ctx.out(`Cleared the state of ${ids.length} state ID(s).`);
        return;
      }
      const id = stateId as string;
      await confirm(`This clears the state of '${id}'.`, opts.force);
      const had = await withStore(ctx, (s) => clearState(s, id));
      ctx.out(had ? `State for '${id}' was cleared.` : `State ID '${id}' had no state.`);
    });

  state
    .command('copy')
    .description("Set <dst>'s state to <src>'s.")
    .argument('<src>')
    .argument('<dst>')
    .action(async (src: string, dst: string) => {
      await withStore(ctx, (s) => copyState(s, src, dst));
      ctx.out(`State of '${src}' was copied to '${dst}'.`);
    });

  state
    .command('move')
    .description("Set <dst>'s state to <src>'s, then clear <src>.")
    .argument('<src>')
    .argument('<dst>')
    .action(async (src: string, dst: string) => {
      await withStore(ctx, (s) => moveState(s, src, dst));
      ctx.out(`State of '${src}' was moved to '${dst}'.`);
    });

  state
    .command('export')
    .description('Print every state record as {"<state_id>": {"completed": ..., "partial": ...}}.')
    .option('--pattern <glob>', 'only IDs matching this glob')
    .action(async (opts: { pattern?: string }) => {
      ctx.json(await withStore(ctx, (s) => exportStates(s, opts.pattern)));
    });

  state
    .command('import')
    .description("Write every record of an export ('-' or no file: standard input), replacing each ID's state.")
    .argument('[file]', "an export file, or '-'")
    .action(async (file: string | undefined) => {
      const fromStdin = file === undefined || file === '-';
      const source = fromStdin ? 'standard input' : `'${file}'`;
      let text: string;
      try {
        text = fs.readFileSync(fromStdin ? 0 : file, 'utf8');
      } catch (err) {
        throw new UserError(`Cannot read the state export from ${source}: ${(err as Error).message}.`);
      }
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch (err) {
        throw new UserError(`The state export from ${source} is not valid JSON (${(err as Error).message}).`);
      }
      const ids = await withStore(ctx, (s) => importStates(s, data, source));
      ctx.out(`Imported the state of ${ids.length} state ID(s).`);
    });
}
