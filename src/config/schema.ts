/**
 * The raw shape of `meltano.yml` (snake_case, exactly as in the file), mirroring Meltano's
 * `meltano.schema.json` where it agrees with Meltano's runtime and the runtime where they differ
 * (see ../shared/reference/meltano.md §1.7): `@manual`/`@midnight` intervals, `state_id_suffix` on
 * environments and 5-field crons are accepted, 6-field crons are not.
 *
 * Objects are strict, as Meltano's schema is (`additionalProperties: false`): an unknown key is an error that
 * lists the accepted keys. Semantic checks (cron syntax, task blocks, references between jobs, schedules and
 * plugins) live in validate.ts, which runs after this shape check.
 */
import { z } from 'zod';
import { strict } from './strict';

/** Free-form vendor annotations; core Meltano ignores them. floe reads `annotations.floe`. */
const annotations = z.record(z.string(), z.unknown());

/** `env:` maps. YAML may give numbers or booleans; Meltano stringifies them. */
const envMap = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean(), z.null()], {
    error: 'must be a string, a number, true/false or empty',
  }),
);

const settingKind = z.enum([
  'oauth',
  'date_iso8601',
  'file',
  'email',
  'integer',
  'decimal',
  'options',
  'object',
  'array',
  'boolean',
  'string',
  'hidden',
  'password',
]);
const valueProcessor = z.enum(['nest_object', 'upcase_string', 'stringify', 'parse_date']);

export const SettingDefinition = strict({
  name: z.string(),
  aliases: z.array(z.string()).optional(),
  label: z.string().optional(),
  value: z.unknown().optional(),
  placeholder: z.string().optional(),
  kind: settingKind.optional(),
  description: z.string().optional(),
  tooltip: z.string().optional(),
  documentation: z.string().optional(),
  docs: z.string().optional(),
  hidden: z.boolean().optional(),
  sensitive: z.boolean().optional(),
  env: z.string().optional(),
  env_aliases: z.array(z.string()).optional(),
  value_processor: valueProcessor.optional(),
  value_post_processor: valueProcessor.optional(),
  protected: z.boolean().optional(),
  oauth: z.object({ provider: z.string() }).loose().optional(),
  options: z.array(z.object({ label: z.string().optional(), value: z.unknown() }).loose()).optional(),
  annotations: annotations.optional(),
});
export type SettingDefinition = z.infer<typeof SettingDefinition>;

const command = z.union([
  z.string(),
  strict({
    args: z.string(),
    description: z.string().optional(),
    executable: z.string().optional(),
    container_spec: z.record(z.string(), z.unknown()).optional(),
  }),
]);

const pluginRequirement = z.array(strict({ name: z.string(), variant: z.string().optional() }));

const genericPluginShape = {
  name: z.string(),
  description: z.string().optional(),
  plugin_type: z.string().optional(),
  repo: z.string().optional(),
  ext_repo: z.string().optional(),
  inherit_from: z.string().optional(),
  pip_url: z.string().optional(),
  variant: z.string().optional(),
  namespace: z.string().optional(),
  config: z.record(z.string(), z.unknown()).nullable().optional(),
  label: z.string().optional(),
  logo_url: z.string().optional(),
  python: z.string().optional(),
  executable: z.string().optional(),
  settings: z.array(SettingDefinition).optional(),
  docs: z.string().optional(),
  settings_group_validation: z.array(z.array(z.string())).optional(),
  commands: z.record(z.string(), command).optional(),
  requires: z.record(z.string(), pluginRequirement).optional(),
  requires_meltano: z.string().optional(),
  supported_python_versions: z.array(z.string()).optional(),
  hidden: z.boolean().optional(),
  env: envMap.optional(),
  annotations: annotations.optional(),
};

export const EXTRACTOR_CAPABILITIES = [
  'properties',
  'catalog',
  'discover',
  'state',
  'about',
  'stream-maps',
  'activate-version',
  'batch',
  'test',
  'log-based',
  'schema-flattening',
  'structured-logging',
] as const;
export const LOADER_CAPABILITIES = [
  'about',
  'stream-maps',
  'activate-version',
  'batch',
  'soft-delete',
  'hard-delete',
  'datatype-failsafe',
  'schema-flattening',
  'structured-logging',
  'target-schema',
  'validate-records',
] as const;

/** Keys an extractor has beyond the generic ones (Meltano's "extras"), also allowed in environments. */
const extractorExtrasShape = {
  catalog: z.string().optional(),
  load_schema: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  schema: z.record(z.string(), z.unknown()).optional(),
  state: z.string().optional(),
  select: z.array(z.string()).optional(),
  select_filter: z.array(z.string()).optional(),
  use_cached_catalog: z.boolean().optional(),
  log_parser: z.string().optional(),
};

export const Extractor = strict({
  ...genericPluginShape,
  ...extractorExtrasShape,
  capabilities: z.array(z.enum(EXTRACTOR_CAPABILITIES)).optional(),
});
export const Loader = strict({
  ...genericPluginShape,
  capabilities: z.array(z.enum(LOADER_CAPABILITIES)).optional(),
  dialect: z.string().optional(),
  target_schema: z.string().optional(),
  log_parser: z.string().optional(),
});
export const Mapper = strict({
  ...genericPluginShape,
  capabilities: z.array(z.enum(['about', 'stream-maps', 'structured-logging'])).optional(),
  mappings: z.array(strict({ name: z.string(), config: z.record(z.string(), z.unknown()).optional() })).optional(),
  log_parser: z.string().optional(),
});
export const Transform = strict({
  ...genericPluginShape,
  vars: z.record(z.string(), z.unknown()).optional(),
  package_name: z.string().optional(),
});
export const GenericPlugin = strict({ ...genericPluginShape, capabilities: z.array(z.string()).optional() });

export type Extractor = z.infer<typeof Extractor>;
export type Loader = z.infer<typeof Loader>;
export type Mapper = z.infer<typeof Mapper>;
export type RawPlugin = Extractor | Loader | Mapper | z.infer<typeof Transform> | z.infer<typeof GenericPlugin>;

export const PLUGIN_TYPES = [
  'extractors',
  'loaders',
  'mappers',
  'orchestrators',
  'transformers',
  'files',
  'utilities',
  'transforms',
] as const;
export type PluginType = (typeof PLUGIN_TYPES)[number];

export const Plugins = strict({
  extractors: z.array(Extractor).nullable().optional(),
  loaders: z.array(Loader).nullable().optional(),
  mappers: z.array(Mapper).nullable().optional(),
  orchestrators: z.array(GenericPlugin).nullable().optional(),
  transformers: z.array(GenericPlugin).nullable().optional(),
  files: z.array(GenericPlugin).nullable().optional(),
  utilities: z.array(GenericPlugin).nullable().optional(),
  transforms: z.array(Transform).nullable().optional(),
});
export type Plugins = z.infer<typeof Plugins>;

/** A job's `tasks`: a string, or a list whose items are strings or lists of strings. */
export const Tasks = z.union([z.string(), z.array(z.union([z.string(), z.array(z.string())]))], {
  error: 'must be a string or a list whose items are strings or lists of strings',
});

export const Job = strict({ name: z.string(), tasks: Tasks, annotations: annotations.optional() });
export type Job = z.infer<typeof Job>;

/**
 * Both schedule shapes in one strict object; which keys go together (job vs extractor/loader) is checked in
 * validate.ts, where the message can say which shape was meant.
 */
export const Schedule = strict({
  name: z.string(),
  interval: z.string({ error: 'must be a string: a cron expression or an alias such as @hourly' }),
  job: z.string().optional(),
  extractor: z.string().optional(),
  loader: z.string().optional(),
  transform: z.enum(['run', 'skip', 'only']).optional(),
  env: envMap.optional(),
  start_date: z.union([z.string(), z.date()]).optional(),
  annotations: annotations.optional(),
});
export type Schedule = z.infer<typeof Schedule>;

const envPluginShape = {
  name: z.string(),
  config: z.record(z.string(), z.unknown()).nullable().optional(),
  env: envMap.optional(),
  annotations: annotations.optional(),
};
const environmentPluginList = z.array(strict(envPluginShape)).nullable().optional();

export const Environment = strict({
  name: z.string(),
  config: strict({
    plugins: strict({
      extractors: z
        .array(strict({ ...envPluginShape, ...extractorExtrasShape }))
        .nullable()
        .optional(),
      loaders: environmentPluginList,
      mappers: environmentPluginList,
      orchestrators: environmentPluginList,
      transformers: environmentPluginList,
      files: environmentPluginList,
      utilities: environmentPluginList,
      transforms: environmentPluginList,
    }).optional(),
  })
    .nullable()
    .optional(),
  env: envMap.optional(),
  state_id_suffix: z.string().optional(),
  annotations: annotations.optional(),
});
export type Environment = z.infer<typeof Environment>;

export const StateBackend = strict({
  uri: z.string().optional(),
  lock_timeout_seconds: z.number().int().positive().optional(),
  lock_retry_seconds: z.number().int().positive().optional(),
  azure: z.record(z.string(), z.unknown()).optional(),
  gcs: z.record(z.string(), z.unknown()).optional(),
  s3: z.record(z.string(), z.unknown()).optional(),
});

/** The root of meltano.yml. Every key Meltano's JSON schema defines; nothing else. */
export const ProjectFile = strict({
  version: z.literal(1).optional(),
  requires_meltano: z.string().optional(),
  project_id: z.string().optional(),
  default_environment: z.string().optional(),
  environments: z.array(Environment).nullable().optional(),
  include_paths: z.array(z.string()).optional(),
  plugins: Plugins.nullable().optional(),
  schedules: z.array(Schedule).nullable().optional(),
  jobs: z.array(Job).nullable().optional(),
  env: envMap.optional(),
  state_backend: StateBackend.optional(),
  database_uri: z.string().optional(),
  database_max_retries: z.number().int().optional(),
  database_retry_timeout: z.number().int().optional(),
  python: z.string().optional(),
  venv: strict({ backend: z.enum(['virtualenv', 'uv']).optional() }).optional(),
  elt: strict({ buffer_size: z.number().int().positive().optional() }).optional(),
  project_readonly: z.boolean().optional(),
  experimental: z.boolean().optional(),
  send_anonymous_usage_stats: z.boolean().optional(),
  auto_install: z.boolean().optional(),
  cli: strict({ log_level: z.string().optional(), log_config: z.string().optional() }).optional(),
  ff: z.record(z.string(), z.boolean()).optional(),
  hub_api_root: z.string().optional(),
  hub_url: z.string().optional(),
  hub_url_auth: z.union([z.string(), z.boolean()]).optional(),
  snowplow: z.record(z.string(), z.unknown()).optional(),
  annotations: annotations.optional(),
});
export type ProjectFile = z.infer<typeof ProjectFile>;

/**
 * What an included file (`include_paths`) may hold: Meltano merges plugins, schedules, jobs and environments
 * from sub-files; anything else there is rejected so a setting is never silently ignored.
 */
export const IncludedFile = strict({
  plugins: Plugins.nullable().optional(),
  schedules: z.array(Schedule).nullable().optional(),
  jobs: z.array(Job).nullable().optional(),
  environments: z.array(Environment).nullable().optional(),
  env: envMap.optional(),
  annotations: annotations.optional(),
});
export type IncludedFile = z.infer<typeof IncludedFile>;
