/**
 * The production shape (docker-compose.yml, Dockerfile, deploy/) cannot run here (no Docker engine), so this
 * checks its structure against the code it must agree with: service order, pinned images, the env vars the worker
 * reads, floe's search attributes, the state backend role, and the image's base and command.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { parse } from 'yaml';

import { buildProgram } from '../../../src/cli/main';
import { createContext } from '../../../src/cli/context';
import { FLOE_SEARCH_ATTRIBUTES } from '../../../src/shared/search-attributes';
import { DEFAULT_TASK_QUEUE } from '../../../src/shared/pipeline';
import { openStateStore, resolveStateBackendUri } from '../../../src/state/open-store';
import { PostgresStateStore } from '../../../src/state/postgres-store';
import { taskQueueFrom } from '../../../src/worker';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const read = (rel: string): string => fs.readFileSync(path.join(ROOT, rel), 'utf8');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ensureTools = require(path.join(ROOT, 'scripts', 'ensure-tools.js')) as { UV_VERSION: string };

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; additional_contexts?: Record<string, string> };
  container_name?: string;
  ports?: string[];
  restart?: string;
  init?: boolean;
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  env_file?: { path: string; required: boolean }[];
  volumes?: string[];
  entrypoint?: string[];
  command?: string[];
  healthcheck?: { test: string[] };
}
interface ComposeFile {
  name: string;
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
const services = compose.services;
const svc = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service '${name}'`);
  return s;
};

/** Compose's variable substitution: `$$`, `${V}`, `${V:-default}`, `${V-default}`, `${V:?error}`, `${V?error}`. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (m, name, colon, op, arg) => {
    if (m === '$$') return '$';
    const v = env[name as string];
    const unset = v === undefined || (colon === ':' && v === '');
    if (!unset) return v;
    if (op === '-') return arg as string;
    if (op === '?') throw new Error(`required variable ${name as string} is missing: ${arg as string}`);
    return '';
  });
}

const SECRETS = { POSTGRES_PASSWORD: 'pg-admin-pw', FLOE_STATE_PASSWORD: 'floe-state-pw' };

function envOf(name: string, vars: Record<string, string> = SECRETS): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc(name).environment ?? {})) out[k] = interpolate(String(v), vars);
  return out;
}

/** The named volume or host path mounted at `target` ("./deploy/temporal:/deploy:ro" -> "./deploy/temporal"). */
function hostPathMountedAt(service: string, target: string): string | undefined {
  for (const v of svc(service).volumes ?? []) {
    const [host, inside] = v.split(':');
    if (inside === target) return host;
  }
  return undefined;
}

/** A file as seen inside `service`: finds the bind mount holding it and returns the repository file's text. */
function fileInside(service: string, file: string): string {
  for (const v of svc(service).volumes ?? []) {
    const [host, inside] = v.split(':') as [string, string];
    if (!host.startsWith('./')) continue;
    if (file === inside) return read(host);
    if (file.startsWith(`${inside}/`)) return read(path.join(host, file.slice(inside.length + 1)));
  }
  throw new Error(`no bind mount of service '${service}' holds ${file}`);
}

describe('deploy/compose', () => {
  it('defines exactly the production services', () => {
    assert.equal(compose.name, 'floe');
    assert.deepEqual(Object.keys(services).sort(), [
      'postgresql',
      'temporal',
      'temporal-init',
      'temporal-schema',
      'temporal-ui',
      'worker',
    ]);
    assert.deepEqual(Object.keys(compose.volumes), ['postgresql-data']);
    assert.equal(hostPathMountedAt('postgresql', '/var/lib/postgresql/data'), 'postgresql-data');
  });

  it('pins every image to the versions of the reference shape (never latest)', () => {
    const images = Object.fromEntries(Object.entries(services).map(([n, s]) => [n, s.image]));
    assert.deepEqual(images, {
      postgresql: 'postgres:16',
      'temporal-schema': 'temporalio/admin-tools:1.30.1',
      temporal: 'temporalio/server:1.30.1',
      'temporal-init': 'temporalio/admin-tools:1.30.1',
      'temporal-ui': 'temporalio/ui:2.34.0',
      worker: '${FLOE_WORKER_IMAGE:-floe-worker:local}',
    });
    for (const [name, image] of Object.entries(images)) {
      const ref = interpolate(String(image), {});
      assert.match(ref, /^[a-z0-9./-]+:[A-Za-z0-9._-]+$/, `${name}: '${ref}' has no tag`);
      assert.notEqual(ref.split(':').pop(), 'latest', `${name} uses latest`);
    }
  });

  it('orders start-up with depends_on conditions and no cycle', () => {
    const deps = (name: string): Record<string, string> =>
      Object.fromEntries(Object.entries(svc(name).depends_on ?? {}).map(([d, c]) => [d, c.condition]));
    assert.deepEqual(deps('postgresql'), {});
    assert.deepEqual(deps('temporal-schema'), { postgresql: 'service_healthy' });
    assert.deepEqual(deps('temporal'), { 'temporal-schema': 'service_completed_successfully' });
    assert.deepEqual(deps('temporal-init'), { temporal: 'service_healthy' });
    assert.deepEqual(deps('temporal-ui'), { temporal: 'service_healthy' });
    assert.deepEqual(deps('worker'), {
      postgresql: 'service_healthy',
      'temporal-init': 'service_completed_successfully',
    });

    // Kahn's algorithm: every service gets a start position, so there is no cycle.
    const order: string[] = [];
    const pending = new Set(Object.keys(services));
    while (pending.size > 0) {
      const ready = [...pending].filter((n) => Object.keys(deps(n)).every((d) => order.includes(d)));
      assert.ok(ready.length > 0, `depends_on cycle among ${[...pending].join(', ')}`);
      for (const n of ready.sort()) {
        order.push(n);
        pending.delete(n);
      }
    }
    assert.deepEqual(order, ['postgresql', 'temporal-schema', 'temporal', 'temporal-init', 'temporal-ui', 'worker']);

    for (const name of Object.keys(services)) {
      for (const [dep, condition] of Object.entries(deps(name))) {
        if (condition === 'service_healthy') assert.ok(svc(dep).healthcheck, `${dep} has no healthcheck`);
        if (condition === 'service_completed_successfully') {
          // A one-shot must be allowed to exit: restart only on failure.
          assert.match(svc(dep).restart ?? 'no', /^(no|on-failure(:\d+)?)$/, `${dep} restarts after success`);
        }
      }
    }
  });

  it('checks health over TCP: PostgreSQL past its init scripts, the Temporal frontend port', () => {
    assert.deepEqual(svc('postgresql').healthcheck?.test, [
      'CMD-SHELL',
      'pg_isready -h 127.0.0.1 -p 5432 -U "$$POSTGRES_USER" -d postgres',
    ]);
    assert.deepEqual(svc('temporal').healthcheck?.test, ['CMD', 'nc', '-z', 'localhost', '7233']);
  });

  it('runs the schema setup for both databases with the postgres12 plugin', () => {
    const schema = svc('temporal-schema');
    assert.deepEqual(schema.entrypoint, ['/bin/sh']);
    assert.deepEqual(schema.command, ['/deploy/setup-postgres.sh']);
    assert.deepEqual(envOf('temporal-schema'), {
      DB: 'postgres12',
      DB_PORT: '5432',
      POSTGRES_SEEDS: 'postgresql',
      POSTGRES_USER: 'temporal',
      POSTGRES_PWD: 'pg-admin-pw',
      SQL_PASSWORD: 'pg-admin-pw',
    });
    const script = fileInside('temporal-schema', '/deploy/setup-postgres.sh');
    assert.match(script, /temporal-sql-tool --plugin postgres12 --ep "\$POSTGRES_SEEDS"/);
    assert.match(script, /for pair in temporal:temporal temporal_visibility:visibility; do/);
    assert.match(script, /SCHEMA_ROOT=\/etc\/temporal\/schema\/postgresql\/v12\n/);
    for (const step of [
      'sql --db "$db" create',
      'sql --db "$db" setup-schema -v 0.0',
      'sql --db "$db" update-schema -d "${SCHEMA_ROOT}/${dir}/versioned"',
    ]) {
      assert.ok(script.includes(step), `setup-postgres.sh lacks: ${step}`);
    }
  });

  it('gives the server the same database settings and a dynamic config that exists', () => {
    const env = envOf('temporal');
    assert.equal(env.DB, 'postgres12');
    assert.equal(env.POSTGRES_SEEDS, 'postgresql');
    assert.equal(env.POSTGRES_PWD, 'pg-admin-pw');
    assert.equal(env.BIND_ON_IP, '0.0.0.0');
    assert.equal(env.DYNAMIC_CONFIG_FILE_PATH, 'config/dynamicconfig/production-sql.yaml');
    // The server resolves the path relative to /etc/temporal.
    const dynamic = parse(fileInside('temporal', '/etc/temporal/config/dynamicconfig/production-sql.yaml')) as Record<
      string,
      { value: unknown }[]
    >;
    assert.deepEqual(dynamic['limit.maxIDLength']?.[0]?.value, 255);
    assert.equal(dynamic['system.forceSearchAttributesCacheRefreshOnRead'], undefined);
  });

  it("creates the namespace and every floe search attribute, tolerating 'already exists'", () => {
    const init = svc('temporal-init');
    assert.deepEqual(init.command, ['/deploy/init-namespace.sh']);
    assert.deepEqual(envOf('temporal-init'), {
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_NAMESPACE_RETENTION: '7d',
    });
    const script = fileInside('temporal-init', '/deploy/init-namespace.sh');
    const list = /^FLOE_SEARCH_ATTRIBUTES="([^"]*)"$/m.exec(script)?.[1];
    assert.ok(list, 'init-namespace.sh does not define FLOE_SEARCH_ATTRIBUTES');
    const declared = Object.fromEntries(list.split(' ').map((p) => p.split('=') as [string, string]));
    assert.deepEqual(declared, FLOE_SEARCH_ATTRIBUTES);
    assert.ok(
      script.includes(
        'temporal operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "$type"',
      ),
    );
    // Another type is an error; the same name and type is done (checked in this order).
    const conflict = script.indexOf('*"different type"*)');
    assert.ok(conflict > 0 && conflict < script.indexOf('*"already exists"*'));
    assert.ok(script.includes('temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION"'));
  });

  it('gives the worker the env vars floe reads, resolving to the compose services', () => {
    const env = envOf('worker');
    assert.deepEqual(Object.keys(env).sort(), [
      'FLOE_TASK_QUEUE',
      'MELTANO_STATE_BACKEND_URI',
      'TEMPORAL_ADDRESS',
      'TEMPORAL_NAMESPACE',
    ]);
    // Read through the same code the worker uses (src/server/connection.ts reads them with envconfig).
    const temporal = loadClientConnectConfig({ overrideEnvVars: env });
    assert.equal(temporal.connectionOptions.address, 'temporal:7233');
    assert.equal(temporal.namespace, 'default');
    assert.equal(taskQueueFrom(env), DEFAULT_TASK_QUEUE);
    assert.equal(taskQueueFrom(envOf('worker', { ...SECRETS, FLOE_TASK_QUEUE: 'etl-big' })), 'etl-big');
  });

  it('points every worker at the shared PostgreSQL state backend the init script creates', async () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-compose-'));
    try {
      const uri = resolveStateBackendUri('file:///ignored/by/the/override', project, envOf('worker'));
      assert.equal(uri, 'postgresql://floe:floe-state-pw@postgresql:5432/floe_state');
      const { store } = openStateStore({ projectRoot: project, env: envOf('worker') });
      assert.ok(store instanceof PostgresStateStore);
      await store.close();
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
    assert.equal(
      hostPathMountedAt('postgresql', '/docker-entrypoint-initdb.d/10-floe-state.sh'),
      './deploy/postgres/init-floe-state.sh',
    );
    const init = read('deploy/postgres/init-floe-state.sh');
    assert.ok(init.includes("SELECT format('CREATE ROLE floe LOGIN PASSWORD %L', :'floe_password')"));
    assert.ok(init.includes("SELECT 'CREATE DATABASE floe_state OWNER floe'"));
    assert.equal(envOf('postgresql').FLOE_STATE_PASSWORD, 'floe-state-pw');
  });

  it('requires every password from .env instead of defaulting one', () => {
    const withoutSecrets =
      (name: string): (() => unknown) =>
      () =>
        envOf(name, {});
    assert.throws(withoutSecrets('postgresql'), /required variable (POSTGRES_PASSWORD|FLOE_STATE_PASSWORD) is missing/);
    assert.throws(withoutSecrets('temporal'), /required variable POSTGRES_PASSWORD is missing/);
    assert.throws(withoutSecrets('worker'), /required variable FLOE_STATE_PASSWORD is missing/);
    // Plugin secrets reach the workers only, from an untracked file.
    assert.deepEqual(svc('worker').env_file, [
      { path: '${FLOE_WORKER_ENV_FILE:-./deploy/worker.env}', required: false },
    ]);
    assert.match(read('deploy/.gitignore'), /^worker\.env$/m);
    for (const name of Object.keys(services).filter((n) => n !== 'worker')) {
      assert.equal(svc(name).env_file, undefined, `${name} must not get the worker's secrets`);
    }
  });

  it('lets the worker scale: no fixed name or port, built from the Dockerfile with the project context', () => {
    const worker = svc('worker');
    assert.equal(worker.container_name, undefined);
    assert.equal(worker.ports, undefined);
    for (const [name, s] of Object.entries(services)) assert.equal(s.container_name, undefined, name);
    assert.deepEqual(worker.build, {
      context: '.',
      dockerfile: 'Dockerfile',
      additional_contexts: { project: '${FLOE_PROJECT_DIR:-.}' },
    });
    assert.equal(worker.init, true);
    assert.equal(worker.restart, 'unless-stopped');
  });

  it('publishes ports on loopback unless told otherwise', () => {
    assert.deepEqual(svc('temporal').ports, ['${FLOE_TEMPORAL_BIND:-127.0.0.1}:${FLOE_TEMPORAL_PORT:-7233}:7233']);
    assert.deepEqual(svc('temporal-ui').ports, ['${FLOE_UI_BIND:-127.0.0.1}:${FLOE_UI_PORT:-8080}:8080']);
    assert.deepEqual(svc('postgresql').ports, ['${FLOE_POSTGRES_BIND:-127.0.0.1}:${FLOE_POSTGRES_PORT:-5432}:5432']);
  });

  it('has init scripts that parse as POSIX sh', () => {
    for (const script of [
      'deploy/temporal/setup-postgres.sh',
      'deploy/temporal/init-namespace.sh',
      'deploy/postgres/init-floe-state.sh',
    ]) {
      const shell = fs.existsSync('/bin/dash') ? '/bin/dash' : '/bin/sh';
      const r = spawnSync(shell, ['-n', path.join(ROOT, script)], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${script}: ${r.stderr}`);
    }
  });
});

describe('deploy/Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const lines = dockerfile.split('\n');
  const instructions = lines.filter((l) => /^[A-Z]+ /.test(l));

  it('builds every stage on the glibc node:20-bookworm-slim image, never Alpine', () => {
    assert.ok(lines.includes('ARG NODE_IMAGE=node:20-bookworm-slim'));
    const froms = instructions.filter((l) => l.startsWith('FROM '));
    assert.deepEqual(froms, ['FROM scratch AS project', 'FROM ${NODE_IMAGE} AS build', 'FROM ${NODE_IMAGE}']);
    assert.doesNotMatch(dockerfile, /^(FROM|ARG NODE_IMAGE=)[^\n]*alpine/im);
  });

  it('installs Python 3 with venv, headers and gcc, and pins uv like scripts/ensure-tools.js', () => {
    assert.match(
      dockerfile,
      /apt-get install -y --no-install-recommends \\\n\s+python3 python3-venv python3-dev gcc libc6-dev/,
    );
    assert.ok(lines.includes(`ARG UV_VERSION=${ensureTools.UV_VERSION}`));
    assert.match(
      dockerfile,
      /ENV NODE_ENV=production \\\n\s+MELTANO_PROJECT_ROOT=\/project \\\n\s+UV=\/opt\/floe-tools\/bin\/uv/,
    );
  });

  it('builds floe with npm ci and npm run build, then installs the plugins as the non-root user', () => {
    const at = (needle: string): number => {
      const i = lines.findIndex((l) => l.includes(needle));
      assert.ok(i >= 0, `Dockerfile lacks: ${needle}`);
      return i;
    };
    assert.ok(at('npm ci') < at('RUN npm run build && npm prune --omit=dev'));
    assert.ok(at('USER node') < at('node dist/src/cli/main.js install'));
    assert.ok(at('node dist/src/cli/main.js install') < at('CMD '));
    assert.equal(instructions.filter((l) => l.startsWith('USER ')).length, 1);
    // The commands the image runs exist in the CLI.
    const program = buildProgram(
      createContext({ stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: ROOT }),
    );
    const names = program.commands.map((c) => c.name());
    assert.ok(names.includes('install') && names.includes('worker'), names.join(', '));
    // `node dist/src/cli/main.js install` runs the CLI (main.ts is an entry point, not only a module).
    const direct = spawnSync(
      process.execPath,
      ['-r', 'tsx/cjs', path.join(ROOT, 'src/cli/main.ts'), 'install', '--help'],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    assert.equal(direct.status, 0, direct.stderr);
    assert.match(direct.stdout, /^Usage: floe install \[options\] \[names\.\.\.\]\n/);
  });

  it('runs the worker through bin/floe.js', () => {
    const cmd = instructions.filter((l) => l.startsWith('CMD '));
    assert.deepEqual(cmd, ['CMD ["node", "bin/floe.js", "worker"]']);
    assert.ok(lines.includes('WORKDIR /opt/floe'));
    assert.ok(lines.includes('COPY --from=build /opt/floe/bin ./bin'));
    assert.ok(fs.existsSync(path.join(ROOT, 'bin', 'floe.js')));
  });

  it('keeps secrets and local state out of the image', () => {
    assert.match(dockerfile, /--exclude=\.\/\.env --exclude=\.\/\.meltano --exclude=\.\/\.floe --exclude=\.\/\.git/);
    assert.doesNotMatch(dockerfile, /^(ENV|ARG) [^\n]*(PASSWORD|SECRET|TOKEN|API_KEY)/m);
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['.env', '.meltano', '.floe', 'node_modules', '.git', 'deploy/worker.env']) {
      assert.ok(ignored.includes(entry), `.dockerignore lacks ${entry}`);
    }
  });
});
