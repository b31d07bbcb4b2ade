import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { applyCatalogRules, catalogCacheKey, listSelection, pythonJsonDumps } from '../../../src/singer/catalog';
import type { Catalog } from '../../../src/singer/catalog';
import {
  CatalogRuleError,
  fnmatch,
  metadataRules,
  parseSelectPattern,
  selectFilterRules,
  selectRules,
} from '../../../src/singer/select-rules';

const dir = path.join(__dirname, '../../fixtures/catalogs');
const load = (name: string): Catalog => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as Catalog;
const PG = 'tap-postgres-sdk.json';
const MYSQL = 'pipelinewise-tap-mysql.json';

/** `stream=SELECTION` and `stream.prop=SELECTION`, as `meltano select --list --all` would show. */
function summary(catalog: Catalog): string {
  const out: string[] = [];
  for (const s of listSelection(catalog)) {
    out.push(`${s.tapStreamId}=${s.selection}`);
    for (const p of s.properties) out.push(`${s.tapStreamId}.${p.name}=${p.selection}`);
  }
  return out.join(' ');
}

const ORDERS_OFF =
  'public-orders=EXCLUDED public-orders.amount=EXCLUDED public-orders.id=AUTOMATIC public-orders.legacy_blob=UNSUPPORTED public-orders.updated_at=EXCLUDED public-orders.user_id=EXCLUDED';
const ORDERS_ON =
  'public-orders=SELECTED public-orders.amount=SELECTED public-orders.id=AUTOMATIC public-orders.legacy_blob=UNSUPPORTED public-orders.updated_at=SELECTED public-orders.user_id=SELECTED';
const USERS_ALL =
  'public-users=SELECTED public-users.address=SELECTED public-users.address.city=SELECTED public-users.address.street=SELECTED public-users.email=SELECTED public-users.id=AUTOMATIC public-users.password_hash=SELECTED public-users.updated_at=SELECTED';
const USERS_NONE =
  'public-users=EXCLUDED public-users.address=EXCLUDED public-users.address.city=EXCLUDED public-users.address.street=EXCLUDED public-users.email=EXCLUDED public-users.id=AUTOMATIC public-users.password_hash=EXCLUDED public-users.updated_at=EXCLUDED';

describe('singer/catalog', () => {
  describe('select patterns (meltano.md §6.3 table)', () => {
    const rows: [string, string[], string][] = [
      ['stream name alone = stream.*', ['public-users'], `${ORDERS_OFF} ${USERS_ALL}`],
      ['stream.*', ['public-users.*'], `${ORDERS_OFF} ${USERS_ALL}`],
      [
        'one property (the key stays automatic)',
        ['public-users.id'],
        `${ORDERS_OFF} public-users=SELECTED public-users.address=EXCLUDED public-users.address.city=EXCLUDED public-users.address.street=EXCLUDED public-users.email=EXCLUDED public-users.id=AUTOMATIC public-users.password_hash=EXCLUDED public-users.updated_at=EXCLUDED`,
      ],
      [
        'a nested property selects its parent',
        ['public-users.address.street'],
        `${ORDERS_OFF} public-users=SELECTED public-users.address=SELECTED public-users.address.city=EXCLUDED public-users.address.street=SELECTED public-users.email=EXCLUDED public-users.id=AUTOMATIC public-users.password_hash=EXCLUDED public-users.updated_at=EXCLUDED`,
      ],
      ['!stream excludes the stream and its properties', ['*.*', '!public-users'], `${ORDERS_ON} ${USERS_NONE}`],
      [
        '!stream.prop excludes only that property',
        ['*.*', '!public-users.password_hash'],
        `${ORDERS_ON} ${USERS_ALL.replace('password_hash=SELECTED', 'password_hash=EXCLUDED')}`,
      ],
      ['!*.* excludes everything but automatic fields', ['!*.*'], `${ORDERS_OFF} ${USERS_NONE}`],
      [
        '* spans dots: !*.*_hash hits any property path ending in _hash',
        ['*.*', '!*.*_hash'],
        `${ORDERS_ON} ${USERS_ALL.replace('password_hash=SELECTED', 'password_hash=EXCLUDED')}`,
      ],
    ];
    for (const [label, select, expected] of rows) {
      it(`selects ${label}: ${JSON.stringify(select)}`, () => {
        const { catalog, warnings } = applyCatalogRules(load(PG), { select });
        assert.equal(summary(catalog), expected);
        assert.deepEqual(warnings, []);
      });
    }

    it('lets ! win regardless of list order', () => {
      const a = applyCatalogRules(load(PG), { select: ['!public-users', '*.*'] }).catalog;
      const b = applyCatalogRules(load(PG), { select: ['*.*', '!public-users'] }).catalog;
      assert.deepEqual(a, b);
      assert.equal(summary(a), `${ORDERS_ON} ${USERS_NONE}`);
    });

    it('generates the rules of the table', () => {
      assert.deepEqual(
        selectRules(['users.address.street', '!users.password']).map((r) => [
          r.tapStreamId,
          r.breadcrumb.join('.'),
          r.value,
        ]),
        [
          ['users', '', true],
          ['users', 'properties.address.properties.street', true],
          ['users', 'properties.address', true],
          ['users', 'properties.password', false],
        ],
      );
      assert.deepEqual(parseSelectPattern('!public\\.x.a.b'), {
        streamPattern: 'public.x',
        propertyPattern: 'a.b',
        negated: true,
        raw: '!public\\.x.a.b',
      });
    });
  });

  it('matches like Python fnmatch: case-sensitive, ?, [seq], [!seq], * across dots', () => {
    const cases: [string, string, boolean][] = [
      ['public-users', 'public-?sers', true],
      ['public-users', 'PUBLIC-users', false],
      ['public-orders', 'public-[uo]*', true],
      ['public-orders', 'public-[!u]*', true],
      ['public-users', 'public-[!u]*', false],
      ['properties.address.properties.street', 'properties.*', true],
      ['a[b', 'a[b', true],
      ['a]', '[]]', false],
      [']', '[]]', true],
      ['b', '[z-a]', false],
      ['-', '[a-]', true],
      ['\\', '[\\]', true],
    ];
    for (const [name, pattern, want] of cases) assert.equal(fnmatch(name, pattern), want, `${name} ~ ${pattern}`);
  });

  it('applies metadata globs, then a stream override, in metadata and as underscored stream keys (Meltano 4.4.1 output)', () => {
    const { catalog, warnings } = applyCatalogRules(load(PG), {
      select: ['public-users.*', 'public-orders.*', '!public-users.password_hash'],
      metadata: {
        '*': { 'replication-method': 'FULL_TABLE' },
        'public-users': { 'replication-method': 'INCREMENTAL', 'replication-key': 'updated_at' },
      },
    });
    assert.deepEqual(catalog, load('expected/tap-postgres-sdk.metadata-globs.json'));
    assert.deepEqual(warnings, []);
    const users = catalog.streams[0] as Record<string, unknown>;
    assert.equal(users.replication_method, 'INCREMENTAL');
    assert.equal(users.replication_key, 'updated_at');
    assert.equal(users.selected, true);
    assert.deepEqual((users.metadata as { metadata: unknown }[])[0]?.metadata, {
      inclusion: 'available',
      'table-key-properties': ['id'],
      'forced-replication-method': '',
      'schema-name': 'public',
      'selected-by-default': true,
      selected: true,
      'replication-method': 'INCREMENTAL',
      'replication-key': 'updated_at',
    });
    assert.equal((catalog.streams[1] as Record<string, unknown>).replication_method, 'FULL_TABLE');
  });

  it('replaces and creates property schemas with schema rules (Meltano 4.4.1 output)', () => {
    const { catalog } = applyCatalogRules(load(PG), {
      select: ['public-users.*'],
      schema: { 'public-users': { email: { type: ['string'] }, nickname: { type: ['string', 'null'] } } },
    });
    assert.deepEqual(catalog, load('expected/tap-postgres-sdk.schema-rules.json'));
    const props = (catalog.streams[0]?.schema as { properties: Record<string, unknown> }).properties;
    assert.deepEqual(props.email, { type: ['string'] });
    assert.deepEqual(props.nickname, { type: ['string', 'null'] });
  });

  it('selects pipelinewise-tap-mysql streams whose selected-by-default is false (Meltano 4.4.1 output)', () => {
    const before = load(MYSQL);
    assert.equal(
      summary(before),
      'shop-customers=EXCLUDED shop-customers.api_token=SELECTED shop-customers.id=SELECTED shop-customers.name=SELECTED shop-customers.updated_at=SELECTED shop-invoices=EXCLUDED shop-invoices.id=SELECTED shop-invoices.total=SELECTED',
    );
    const { catalog } = applyCatalogRules(before, {
      select: ['shop-customers.*', '!shop-customers.api_token'],
      metadata: { 'shop-customers': { 'replication-method': 'INCREMENTAL', 'replication-key': 'updated_at' } },
    });
    assert.deepEqual(catalog, load('expected/pipelinewise-tap-mysql.select.json'));
    assert.equal(
      summary(catalog),
      'shop-customers=SELECTED shop-customers.api_token=EXCLUDED shop-customers.id=SELECTED shop-customers.name=SELECTED shop-customers.updated_at=SELECTED shop-invoices=EXCLUDED shop-invoices.id=EXCLUDED shop-invoices.total=EXCLUDED',
    );
  });

  it('never selects an inclusion: unsupported field, even when a rule asks for it', () => {
    const { catalog } = applyCatalogRules(load(PG), {
      select: ['public-orders.legacy_blob'],
      metadata: { 'public-orders': { legacy_blob: { selected: true } } },
    });
    const entry = (catalog.streams[1]?.metadata as { breadcrumb: string[]; metadata: Record<string, unknown> }[]).find(
      (m) => m.breadcrumb[1] === 'legacy_blob',
    );
    assert.deepEqual(entry?.metadata, {
      inclusion: 'unsupported',
      'selected-by-default': false,
      'sql-datatype': 'BYTEA',
      selected: false,
    });
  });

  it('deselects streams with select_filter include and exclude patterns, also for custom catalogs', () => {
    assert.equal(
      summary(applyCatalogRules(load(PG), { selectFilter: ['public-*', '!public-orders'] }).catalog),
      // Stream level only: the properties keep their selection.
      `${ORDERS_ON.replace('public-orders=SELECTED', 'public-orders=EXCLUDED')} ${USERS_ALL}`,
    );
    assert.equal(
      summary(applyCatalogRules(load(PG), { selectFilter: ['public-orders'] }).catalog),
      `${ORDERS_ON} ${USERS_ALL.replace('public-users=SELECTED', 'public-users=EXCLUDED')}`,
    );
    // Custom catalog: select/metadata ignored, the filter still applies (stream-level only).
    const custom = applyCatalogRules(load(PG), {
      select: ['!*.*'],
      selectFilter: ['!public-users'],
      customCatalog: true,
    });
    assert.equal((custom.catalog.streams[0] as Record<string, unknown>).selected, false);
    assert.equal((custom.catalog.streams[1] as Record<string, unknown>).selected, undefined);
    assert.deepEqual(
      selectFilterRules(['a', '!b', 'c']).map((r) => [r.tapStreamId, r.negated, r.value]),
      [
        [['a', 'c'], true, false],
        [['b'], false, false],
      ],
    );
  });

  it('warns about streams and properties the catalog lacks', () => {
    const { warnings } = applyCatalogRules(load(PG), {
      select: ['nope.*', 'public-users.nope', 'public-users.address.zip'],
      metadata: { missing: { 'replication-method': 'FULL_TABLE' } },
    });
    assert.deepEqual(warnings, [
      'Stream `nope` was not found in the catalog',
      'Property `nope` was not found in the schema of stream `public-users`',
      'Property `address.properties.zip` was not found in the schema of stream `public-users`',
      'Stream `missing` was not found in the catalog',
    ]);
  });

  it('rejects a metadata key without a stream part', () => {
    assert.throws(() => metadataRules({ 'replication-method': 'FULL_TABLE' }), {
      name: 'CatalogRuleError',
      message:
        "metadata entry 'replication-method' names no stream: keys must be <stream>: {<metadata key>: value} or <stream>: {<property>: {<metadata key>: value}}. Nest it under a stream ID or glob such as '*'.",
    });
    assert.ok(new CatalogRuleError('x') instanceof Error);
  });

  it('lists selection as JSON-able data', () => {
    const [orders] = listSelection(load(PG));
    assert.deepEqual(orders, {
      tapStreamId: 'public-orders',
      selection: 'SELECTED',
      properties: [
        { name: 'amount', selection: 'SELECTED' },
        { name: 'id', selection: 'AUTOMATIC' },
        { name: 'legacy_blob', selection: 'UNSUPPORTED' },
        { name: 'updated_at', selection: 'SELECTED' },
        { name: 'user_id', selection: 'SELECTED' },
      ],
    });
  });

  it('computes the catalog cache key as Meltano 4.4.1 does (sha1 of its json_dumps)', () => {
    const flat = {
      host: 'db.internal',
      port: 5432,
      password: null,
      filter_schemas: ['public'],
      ssl: true,
      name: 'Zoë',
    };
    const metadata = { '*': { 'replication-method': 'FULL_TABLE' } };
    assert.equal(
      pythonJsonDumps({ ...flat, _schema: {}, _metadata: metadata }),
      '{"host": "db.internal", "port": 5432, "password": null, "filter_schemas": ["public"], "ssl": true, "name": "Zo\\u00eb", "_schema": {}, "_metadata": {"*": {"replication-method": "FULL_TABLE"}}}',
    );
    assert.equal(catalogCacheKey(flat, {}, metadata), 'ae7fc8efdcdea852788cd57e2b4bebde3ede588d');
  });
});
