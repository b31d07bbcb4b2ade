/**
 * How a finished relay run is judged: Meltano's exit-code rules (meltano.md §4.3) plus what floe itself
 * knows (it cancelled the run, it sent the signal, it saw an overlong line or a failed state write).
 */
import type { PluginProcess } from './plugin-process';
import type { RelayFailureReason, RelayPlugin, RelayStatus } from './relay-types';

export interface RelayFailure {
  reason: RelayFailureReason;
  message: string;
}

export interface OutcomeInput {
  procs: readonly PluginProcess[];
  cancelled: boolean;
  failure: RelayFailure | undefined;
  mapperFailure: PluginProcess | undefined;
  /** The target exited before its input ended, so upstream plugins were stopped by floe. */
  targetFirst: boolean;
  graceMs: number;
}

export interface Outcome {
  status: RelayStatus;
  message?: string;
  reason?: RelayFailureReason;
}

export function roleLabel(plugin: RelayPlugin): string {
  return plugin.role === 'tap' ? 'Extractor' : plugin.role === 'target' ? 'Loader' : 'Mapper';
}

function describeExit(p: PluginProcess): string {
  if (p.exit?.signal) return `was killed by ${p.exit.signal}`;
  return `exited with code ${p.exit?.code ?? 'unknown'}`;
}

/** Never throws. */
export function decideOutcome(input: OutcomeInput): Outcome {
  if (input.cancelled) {
    return {
      status: 'cancelled',
      message: `Run cancelled: floe sent SIGTERM to every plugin's process group (SIGKILL after ${input.graceMs} ms) and waited for them to exit.`,
    };
  }
  if (input.failure) return { status: 'failed', ...input.failure };
  const m = input.mapperFailure;
  if (m) {
    const why = m.exit?.code === 0 ? 'exited before its input ended' : describeExit(m);
    return {
      status: 'failed',
      reason: 'mapper',
      message: `Mappers failed: mapper '${m.plugin.name}' ${why}, so every plugin was stopped; see its log lines for the cause.`,
    };
  }
  const killed = input.procs.find((p) => p.exit?.signal && !p.signalledByFloe);
  if (killed) {
    return {
      status: 'failed',
      reason: 'signal',
      message: `${roleLabel(killed.plugin)} '${killed.plugin.name}' was killed by signal ${killed.exit!.signal}, which floe did not send (out of memory or an operator?); check the system log and rerun.`,
    };
  }
  const tap = input.procs[0]!;
  const target = input.procs[input.procs.length - 1]!;
  // A target that ended first makes the tap's exit irrelevant: floe stopped it (meltano.md §4.3).
  const tapFailed = !input.targetFirst && tap.exit?.code !== 0;
  const targetFailed = target.exit?.code !== 0;
  if (tapFailed && targetFailed) {
    return {
      status: 'failed',
      reason: 'extractor_and_loader',
      message: `Extractor and loader failed: '${tap.plugin.name}' ${describeExit(tap)} and '${target.plugin.name}' ${describeExit(target)}; see their log lines for the cause.`,
    };
  }
  if (tapFailed) {
    return {
      status: 'failed',
      reason: 'extractor',
      message: `Extractor failed: '${tap.plugin.name}' ${describeExit(tap)}; the loader was let finish and the state it emitted was kept, see the extractor's log lines for the cause.`,
    };
  }
  if (targetFailed) {
    return {
      status: 'failed',
      reason: 'loader',
      message: `Loader failed: '${target.plugin.name}' ${describeExit(target)}${input.targetFirst ? ' before its input ended, so floe stopped the plugins upstream' : ''}; see its log lines for the cause.`,
    };
  }
  return { status: 'succeeded' };
}
