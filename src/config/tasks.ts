/**
 * Job tasks and the blocks they parse into, with Meltano's semantics (`core/task_sets.py`,
 * `core/block/block_parser.py`): each top-level item of `tasks` is one task (one Airflow task in Meltano's
 * DAGs, one activity sequence here); a nested list is flattened into that task; every string is split on
 * spaces. A task parses left to right into blocks: an extractor, any mappers (or mapping names), then exactly
 * one loader form an extract-load block; any other plugin, optionally as `plugin:command`, is a command block.
 */
import type { PluginType } from './schema';

export type RawTasks = string | (string | string[])[];

/** One argument list per task. */
export function tasksToArgs(tasks: RawTasks): string[][] {
  const split = (s: string) => s.split(/\s+/).filter((a) => a !== '');
  if (typeof tasks === 'string') return [split(tasks)];
  return tasks.map((item) => (typeof item === 'string' ? split(item) : item.flatMap(split)));
}

export interface MapperRef {
  plugin: string;
  /** The mapping name when the task named a mapping rather than the mapper plugin. */
  mapping?: string;
}

export type Block =
  | { kind: 'extract-load'; extractor: string; mappers: MapperRef[]; loader: string }
  | { kind: 'command'; plugin: string; pluginType: PluginType; command?: string };

/** What block parsing needs to know about the project's plugins. */
export interface PluginLookup {
  /** Plugin type of a plugin name, or undefined. */
  typeOf(name: string): PluginType | undefined;
  /** Mapper plugin that defines this mapping name, or undefined. */
  mapperOfMapping(mapping: string): string | undefined;
  /** Every defined plugin name, for messages. */
  names(): string[];
}

/** A task that does not parse into blocks; the message has no location (the caller adds it). */
export class TaskParseError extends Error {
  override readonly name = 'TaskParseError';
}

/**
 * Parses one task's arguments into blocks.
 * @throws TaskParseError for unknown names and incomplete extract-load sets.
 */
export function parseBlocks(args: readonly string[], plugins: PluginLookup): Block[] {
  if (args.length === 0) throw new TaskParseError('is empty');
  const blocks: Block[] = [];
  let i = 0;
  const unknown = (name: string) =>
    new TaskParseError(
      `names '${name}', which is not a plugin or mapping defined in the project (defined: ${plugins.names().join(', ') || 'none'})`,
    );
  while (i < args.length) {
    const token = args[i] as string;
    const [name, command, extra] = token.split(':');
    if (name === undefined || name === '' || extra !== undefined || command === '') {
      throw new TaskParseError(`has '${token}', which is not 'plugin' or 'plugin:command'`);
    }
    const type = plugins.typeOf(name);
    if (type === undefined) {
      if (plugins.mapperOfMapping(name)) {
        throw new TaskParseError(`has mapping '${name}' outside an extract-load block (it must follow an extractor)`);
      }
      throw unknown(name);
    }
    if (type === 'extractors' && command === undefined) {
      const mappers: MapperRef[] = [];
      let j = i + 1;
      let loader: string | undefined;
      while (j < args.length) {
        const next = args[j] as string;
        const nextType = plugins.typeOf(next);
        const mapperOfMapping = plugins.mapperOfMapping(next);
        if (nextType === 'mappers') {
          mappers.push({ plugin: next });
        } else if (nextType === undefined && mapperOfMapping) {
          mappers.push({ plugin: mapperOfMapping, mapping: next });
        } else if (nextType === 'loaders') {
          loader = next;
          break;
        } else if (nextType === undefined && !next.includes(':')) {
          throw unknown(next);
        } else {
          break;
        }
        j++;
      }
      if (loader === undefined) {
        throw new TaskParseError(
          `starts an extract-load block with extractor '${name}' but no loader follows it (expected: extractor [mappers...] loader)`,
        );
      }
      blocks.push({ kind: 'extract-load', extractor: name, mappers, loader });
      i = j + 1;
      continue;
    }
    if (type === 'loaders' || type === 'mappers') {
      throw new TaskParseError(
        `has ${type === 'loaders' ? 'loader' : 'mapper'} '${name}' without an extractor before it (expected: extractor [mappers...] loader)`,
      );
    }
    blocks.push(
      command === undefined
        ? { kind: 'command', plugin: name, pluginType: type }
        : { kind: 'command', plugin: name, pluginType: type, command },
    );
    i++;
  }
  return blocks;
}
