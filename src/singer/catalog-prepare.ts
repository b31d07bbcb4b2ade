/**
 * The catalog a tap runs with (meltano.md §6.1–6.2): the `catalog` extra's file as given, or the discovered
 * catalog (cached per config, schema and metadata rules, as Meltano keys it) with select/metadata/schema rules
 * applied, written into the run's own directory.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { PluginDef, Project } from '../config/project';
import { RuntimeError } from '../shared/errors';
import { applyCatalogRules, catalogCacheKey } from './catalog';

export interface PrepareCatalogRequest {
  project: Project;
  plugin: PluginDef;
  executable: string;
  configFile: string;
  config: Record<string, unknown>;
  extras: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  runDir: string;
  /** Ignore the cache (`--refresh-catalog`, `--full-refresh`). */
  refresh: boolean;
}

/** Discovery failed or printed something that is not a catalog. */
export class CatalogDiscoveryError extends RuntimeError {
  override readonly name = 'CatalogDiscoveryError';
}

function discover(req: PrepareCatalogRequest): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(req.executable, ['--config', req.configFile, '--discover'], {
      env: req.env,
      cwd: req.project.root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) =>
      reject(new CatalogDiscoveryError(`Catalog discovery of '${req.plugin.name}' could not start: ${e.message}`)),
    );
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(Buffer.concat(out).toString('utf8'));
      const tail = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-5).join(' | ');
      reject(
        new CatalogDiscoveryError(
          `Catalog discovery failed: '${req.plugin.name} --discover' exited with ${signal ?? code}${tail ? `: ${tail}` : ''}. Check the extractor's settings with 'floe config list ${req.plugin.name}'.`,
        ),
      );
    });
  });
}

/**
 * Writes the run's catalog and says which flag passes it; undefined when the tap takes no catalog.
 * @throws CatalogDiscoveryError when discovery fails or prints invalid JSON.
 */
export async function prepareCatalog(req: PrepareCatalogRequest): Promise<{ flag: string; file: string } | undefined> {
  const caps = req.plugin.capabilities;
  const flag = caps.includes('catalog') ? '--catalog' : caps.includes('properties') ? '--properties' : undefined;
  if (!flag) return undefined;
  const custom = typeof req.extras.catalog === 'string' && req.extras.catalog !== '';
  let catalogText: string;
  if (custom) {
    catalogText = fs.readFileSync(path.resolve(req.project.root, req.extras.catalog as string), 'utf8');
  } else {
    const key = catalogCacheKey(req.config, req.extras.schema, req.extras.metadata);
    const cacheDir = path.join(req.project.root, '.meltano', 'run', req.plugin.name);
    const cacheFile = path.join(cacheDir, 'floe.catalog.cache.json');
    const keyFile = path.join(cacheDir, 'floe.catalog.cache_key');
    // Meltano keys no cache for plugins without pip_url or installed editable (their code may change).
    const cacheable = !!req.plugin.pipUrl && !req.plugin.pipUrl.includes('-e ');
    const useCache = cacheable && !req.refresh && req.extras.use_cached_catalog !== false;
    if (useCache && fs.existsSync(cacheFile) && fs.existsSync(keyFile) && fs.readFileSync(keyFile, 'utf8') === key) {
      catalogText = fs.readFileSync(cacheFile, 'utf8');
    } else {
      catalogText = await discover(req);
      fs.mkdirSync(cacheDir, { recursive: true });
      // Write catalog then key, each atomically, so a reader never pairs a new key with an old catalog.
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, catalogText);
      fs.renameSync(tmp, cacheFile);
      fs.writeFileSync(`${keyFile}.${process.pid}.tmp`, key);
      fs.renameSync(`${keyFile}.${process.pid}.tmp`, keyFile);
    }
  }
  let catalog: unknown;
  try {
    catalog = JSON.parse(catalogText);
  } catch (e) {
    throw new CatalogDiscoveryError(`The catalog of '${req.plugin.name}' is not valid JSON (${(e as Error).message}).`);
  }
  const applied = applyCatalogRules(catalog as never, {
    select: req.extras.select as string[] | undefined,
    metadata: req.extras.metadata as Record<string, unknown> | undefined,
    schema: req.extras.schema as Record<string, unknown> | undefined,
    selectFilter: req.extras.select_filter as string[] | undefined,
    customCatalog: custom,
  });
  const file = path.join(req.runDir, 'tap.catalog.json');
  fs.writeFileSync(file, JSON.stringify(applied.catalog ?? applied), { mode: 0o600 });
  return { flag, file };
}
