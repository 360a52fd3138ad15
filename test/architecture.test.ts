// The pipeline's direction, kept true (docs/ARCHITECTURE.md): every import from one folder of
// src/ into another is one the table below allows. A pipeline stage imports the stages upstream of
// it (the data it consumes) and the model of the stage it feeds; the composition layers (config,
// cli, the files at src/'s top) import whatever they assemble; src/common/ and the shared top-level
// files (errors.ts, options.ts, version.ts) are for everyone. A new import against the table fails
// here, naming the file.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** Top-level files anyone may import. */
const SHARED = new Set(['errors.ts', 'options.ts', 'version.ts']);
const COMPOSITION = '*';

/** Stage → the stages it may import (besides its own files, src/common/ and the shared files). */
export const ALLOWED: Readonly<Record<string, readonly string[] | typeof COMPOSITION>> = {
  common: [],
  // The series store: every writer's series sets, their rules (carry, live), a Collection of them.
  series: [],
  // The Metrics API's engines: jobmeter's synchronous storages write into the store.
  domain: ['series'],
  views: ['domain'],
  exposition: [],
  // A Collection of the store in; the exposition model it produces.
  naming: ['series', 'domain', 'exposition'],
  // OTLP codecs; the profile-named push reads the exposition model back into OTLP.
  otlp: ['domain', 'exposition'],
  readers: ['series', 'domain', 'otlp'],
  // The primary merges its members' reports into a store of its own.
  cluster: ['series', 'domain'],
  // An OTLP/HTTP listener writing its senders' streams into output series sets of the store: the
  // HTTP stage's server limits; the views' bounds for what it ingests.
  ingest: ['series', 'domain', 'views', 'otlp', 'http'],
  http: ['exposition', 'naming'],
  debug: ['otlp', 'readers'],
  demo: ['domain'],
  // Job-library adapters (BullMQ, pg-boss, …): they record through the domain API (its Recorder
  // and types) like any host, and make their depth gauges on the Meter they are given.
  integrations: ['domain'],
  config: COMPOSITION,
  cli: COMPOSITION,
};

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

/** The folder of src/ a path is in, or the file name for a top-level file. */
function stageOf(path: string): string {
  const rel = relative(SRC, path).split('/');
  return rel.length === 1 ? `/${rel[0]}` : rel[0]!;
}

const IMPORT = /^(?:import|export)\b[^;]*?\bfrom\s+'(\.[^']+)'|^import\s+'(\.[^']+)'/gm;

test('every import between folders of src/ follows the documented direction', () => {
  const stages = new Set(
    readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name),
  );
  assert.deepEqual(
    [...stages].sort(),
    Object.keys(ALLOWED).sort(),
    'every folder of src/ has a row in ALLOWED (and nothing else does)',
  );
  const wrong: string[] = [];
  for (const file of files(SRC)) {
    const from = stageOf(file);
    // Top-level files compose everything (jobmeter.ts, index.ts, …) or are shared.
    if (from.startsWith('/')) continue;
    const allowed = ALLOWED[from]!;
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = normalize(join(dirname(file), m[1] ?? m[2]!));
      const to = stageOf(target);
      if (to === from || to === 'common') continue;
      if (to.startsWith('/')) {
        if (allowed !== COMPOSITION && !SHARED.has(to.slice(1)))
          wrong.push(`${relative(SRC, file)} imports the composition file ${to.slice(1)}`);
        continue;
      }
      if (allowed !== COMPOSITION && !allowed.includes(to))
        wrong.push(`${relative(SRC, file)} imports ${relative(SRC, target)} (${from} → ${to})`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('the table is a direction: no two stages may import each other', () => {
  for (const [stage, allowed] of Object.entries(ALLOWED)) {
    if (allowed === COMPOSITION) continue;
    for (const other of allowed) {
      const back = ALLOWED[other];
      assert.ok(back !== COMPOSITION && !back!.includes(stage), `${stage} ↔ ${other}`);
    }
  }
});

/**
 * Every file of src/ and the files it imports (type-only imports included: a type import still
 * makes one file's meaning depend on the other's, and the circles this test was written against
 * were type imports one way and value imports the other).
 */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files(SRC)) {
    const targets = [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((m) =>
      relative(SRC, normalize(join(dirname(file), m[1] ?? m[2]!))),
    );
    graph.set(relative(SRC, file), targets);
  }
  return graph;
}

/** The import circles of `graph`, each once (Tarjan's strongly connected components of two files or more). */
export function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

test('the cycle finder finds a circle of three files and no circle in a chain', () => {
  assert.deepEqual(
    importCycles(
      new Map([
        ['a.ts', ['b.ts']],
        ['b.ts', ['c.ts']],
        ['c.ts', ['a.ts']],
        ['d.ts', ['a.ts']],
      ]),
    ),
    [['a.ts', 'b.ts', 'c.ts']],
  );
  assert.deepEqual(
    importCycles(
      new Map([
        ['a.ts', ['b.ts']],
        ['b.ts', ['c.ts']],
        ['c.ts', []],
      ]),
    ),
    [],
  );
});

test('no import circles between files of src/ (type imports included)', () => {
  assert.deepEqual(importCycles(importGraph()), []);
});

/**
 * One owner of series state: the series store (src/series/). What a file keeps from one
 * call to the next sits in a class field or a module-level variable; per-series values take the
 * shape of a keyed container (Map, WeakMap, Set, WeakSet) or a column (a typed array, an array).
 * Only the store's files may declare one; every other file that does is listed in KEEPS with what
 * it keeps and why that is not per-series values. A listed file that keeps nothing any more must
 * leave the list.
 *
 * What the check does not see: state a factory function's closure keeps (a `const` inside
 * `createX`). The known per-series state of that kind is listed too (naming/zero-fill-push.ts).
 */
const STORE = 'series/';

/** Fixed once made (a catalog, a table of keys, a constant): nothing per series. */
const TABLE = 'a fixed table';
/** Keyed by an instrument, meter, reader, callback, request, socket, reason or protocol: nothing per series. */
const NOT_SERIES = 'keyed by something other than a series';
/** Buffers, queues and pools reused from call to call: no value outlives its call. */
const SCRATCH = 'scratch storage reused between calls';
/** Made again from what a collection gives (label strings, rendered text, frozen attributes): dropping it changes no output. */
const MEMO = 'a memo: dropping it changes no output';

const KEEPS: Readonly<Record<string, string>> = {
  'cli/collector-config.ts': TABLE,
  'cli/main.ts': TABLE,
  'cli/print-config.ts': TABLE,
  'cli/profile-views.ts': TABLE,
  'cli/shutdown.ts': NOT_SERIES,
  'cluster/aggregate.ts':
    "metric definitions by instrument, members by key, a row's scratch: each member's series are the store's (series/sources.ts SourceTable)",
  'cluster/primary.ts': NOT_SERIES,
  'cluster/report-encoder.ts':
    "the wire's ids: per instrument, its series' ids by attribute set and which level series it reports (keys, no values: what was sent is the store's, series/sources.ts LastSent)",
  'common/held-shapes.ts': TABLE,
  'domain/attribute-set-cap.ts':
    "series identity for the SDK's instruments (the attribute sets admitted under a View's cap): keys, no values",
  'domain/guarded-meter.ts': NOT_SERIES,
  'domain/meter-provider.ts': NOT_SERIES,
  'domain/observed-instruments.ts':
    "per instrument, and one observation's values until its callbacks end (the SDK's storages keep them)",
  'domain/queue-ages.ts':
    "the host's last job-store read (each queue's oldest waiting job's enqueue time), replaced whole by the next read; the gauge's values are the SDK's storages'",
  'domain/record-guard.ts': NOT_SERIES,
  'domain/recorder.ts': NOT_SERIES,
  'domain/storage/handles.ts': TABLE,
  'domain/storage/observed.ts': NOT_SERIES,
  'domain/storage/registry.ts': 'per instrument: each storage writes its series into the store',
  'exposition/numbers.ts': MEMO,
  'exposition/protobuf.ts': SCRATCH,
  'exposition/render-memo.ts': MEMO,
  'host-guard.ts': NOT_SERIES,
  'host-recorder.ts': NOT_SERIES,
  'http/access-log.ts': NOT_SERIES,
  'http/body-store.ts': SCRATCH,
  'http/metrics-listener.ts': TABLE,
  'http/metrics-response.ts': MEMO,
  'http/self-telemetry.ts': NOT_SERIES,
  'ingest/attribute-fold.ts': MEMO,
  'ingest/body-chunks.ts': SCRATCH,
  'ingest/decode-worker.ts': SCRATCH,
  'ingest/decoder-pool.ts': SCRATCH,
  'ingest/derived-runs.ts': MEMO,
  'ingest/ingest-report.ts': NOT_SERIES,
  'ingest/ingest-store.ts': NOT_SERIES,
  'ingest/lz4-frame.ts': SCRATCH,
  'ingest/name-claims.ts': 'names claimed per family, not series',
  'ingest/series-registry.ts':
    "the ingest's instruments by name, with their caps, charges and name claims: their series and streams are the store's (series/streams.ts StreamStore)",
  'ingest/packed-chunk.ts': SCRATCH,
  'ingest/state-keeper.ts': NOT_SERIES,
  'integrations/bullmq.ts':
    'the Redis clients the oldest-job script is defined on: connections, not series',
  'integrations/handle.ts': NOT_SERIES,
  'integrations/job-runs.ts': 'runs open in a job library, until they end: a run, not a series',
  'jobmeter.ts': NOT_SERIES,
  'naming/attribute-labels.ts': MEMO,
  'naming/family-builder.ts': MEMO,
  'naming/native-rules.ts': TABLE,
  'naming/series-cache.ts': MEMO,
  'naming/zero-fill.ts': TABLE,
  'otlp/decode-protobuf.ts': TABLE,
  'otlp/push-serializer.ts': NOT_SERIES,
  'readers/collected-length-limit.ts': MEMO,
  'readers/otlp-push.ts': NOT_SERIES,
  'readers/reader-ports.ts': NOT_SERIES,
  'readers/resilient-exporter.ts': NOT_SERIES,
};

/** Per-series state kept in a closure, which the scan does not see: file → the variable, and what it keeps. */
const CLOSURE_KEEPS: Readonly<Record<string, readonly [string, string]>> = {};

/** A class field or module-level variable made (or a field set, `this.x =`) as a keyed container or a column. */
const KEPT =
  /^(?:(?:export )?(?:const|let) ([A-Za-z_$][\w$]*)| {2}(?:(?:private|protected|public) )?(?:(?:readonly|static) )*(#?[A-Za-z_$][\w$]*)|\s+this\.(#?[A-Za-z_$][\w$]*))\s*(?::[^=;\n]+)?=\s*(?:new (?:Map|WeakMap|Set|WeakSet|(?:Float64|Float32|Int32|Uint32|Uint8|BigInt64)Array)\b|\[\](?=;))/gm;

/** Each file of src/ outside the store that declares something KEPT matches, with the names. */
function keepers(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of files(SRC)) {
    const rel = relative(SRC, file);
    if (rel.startsWith(STORE)) continue;
    const names = [...readFileSync(file, 'utf8').matchAll(KEPT)].map((m) => m[1] ?? m[2] ?? m[3]!);
    if (names.length > 0) out.set(rel, names);
  }
  return out;
}

test('the keeper scan sees class fields and module-level maps and columns, not locals', () => {
  const text = [
    'const a = new Map<string, number>();',
    'export let b: number[] = [];',
    // Parameters a formatter puts one per line are not kept state.
    'function f(',
    '  given: object | undefined,',
    '  except: readonly string[] = [],',
    '): void {}',
    'class C {',
    '  readonly #c = new Float64Array(4);',
    '  d = new WeakMap();',
    '  readonly #e: Map<string, number>;',
    '  constructor() {',
    '    this.#e = new Map();',
    '    const local = new Map();',
    '  }',
    '}',
  ].join('\n');
  assert.deepEqual(
    [...text.matchAll(KEPT)].map((m) => m[1] ?? m[2] ?? m[3]),
    ['a', 'b', '#c', 'd', '#e'],
  );
});

test('only the series store keeps per-series values across collections (every other keeper is listed with why)', () => {
  const found = keepers();
  const unlisted = [...found]
    .filter(([file]) => KEEPS[file] === undefined)
    .map(([file, names]) => `${file}: ${names.join(', ')}`);
  assert.deepEqual(
    unlisted,
    [],
    'a file outside src/series/ keeps state across calls: move per-series values into the store, or list the file in KEEPS saying why it is none',
  );
  const stale = Object.keys(KEEPS).filter((file) => !found.has(file));
  assert.deepEqual(stale, [], 'listed in KEEPS but keeping nothing any more: take it off the list');
  for (const [file, [name]] of Object.entries(CLOSURE_KEEPS)) {
    assert.match(
      readFileSync(join(SRC, file), 'utf8'),
      new RegExp(`\\bconst ${name} = new `),
      `${file} keeps ${name} no more: take it off CLOSURE_KEEPS`,
    );
  }
});
