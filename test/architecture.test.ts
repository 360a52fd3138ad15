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
import ts from 'typescript';

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
  // A Collection of the store in; the exposition model it produces (and its MetricData, for the
  // profile-named push).
  naming: ['series', 'domain', 'exposition'],
  // OTLP codecs.
  otlp: ['domain'],
  readers: ['series', 'domain', 'otlp'],
  // The primary merges its members' reports into a store of its own.
  cluster: ['series', 'domain'],
  // An OTLP/HTTP listener writing its senders' streams into output series sets of the store: the
  // HTTP stage's server limits; the views' bounds for what it ingests.
  ingest: ['series', 'domain', 'views', 'otlp', 'http'],
  // Its own self-metrics are instruments of jobmeter's storages (self-telemetry.ts).
  http: ['domain', 'exposition', 'naming'],
  // The debug exporter's text prints doubles as Go does, as the exposition's `le` bounds.
  debug: ['otlp', 'readers', 'exposition'],
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
 * One owner of series state: the series store (src/series/). What a file keeps from one call to
 * the next sits in a class field, a module-level variable, or a variable a function's closure
 * keeps (one a function it makes refers to, other than a callback it hands straight to a call);
 * per-series values take the shape of a keyed container (Map, WeakMap, Set, WeakSet), a column (a
 * typed array, an array) or a record (`{}`, `Object.create(null)`). Only the store's files may
 * make one; every other file that does is listed in KEEPS with each name it keeps and why that is
 * not per-series values. A new name in a listed file fails as a new file does; a listed name kept
 * no more must leave the list.
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
/** A local of one call that the call's own helper closures share: made at each call, dropped after it. */
const ONE_CALL = "one call's, shared with that call's helpers";

/** File → why it keeps what it keeps, and the names it keeps (`fn › name`: a closure's variable). */
const KEEPS: Readonly<Record<string, readonly [string, readonly string[]]>> = {
  'cli/collector-config.ts': [TABLE, ['CATALOG']],
  'cli/profile-views.ts': [TABLE, ['CATALOG']],
  'cli/shutdown.ts': [NOT_SERIES, ['waiting', 'pending']],
  'cluster/aggregate.ts': [
    "metric definitions by instrument, members by key (their series ids' streams): each member's series are streams of the store (series/streams.ts)",
    ['#metrics', '#members', '#warned'],
  ],
  'cluster/primary.ts': [NOT_SERIES, ['#links']],
  'cluster/report-encoder.ts': [
    "the wire's ids: per instrument, its series' ids by attribute set and which level series it reports (keys, no values: what was sent is the store's, series/sources.ts LastSent)",
    ['#metrics', '#warned'],
  ],
  'common/held-shapes.ts': [TABLE, ['held']],
  'common/parts.ts': ["each started part's stop, in start order", ['#stops']],
  'common/warn.ts': ['the warning lines printed once (bounded), no series', ['printed']],
  'domain/attribute-set-cap.ts': [
    "series identity for the SDK's instruments (the attribute sets admitted under a View's cap): keys, no values",
    ['#admitted'],
  ],
  'domain/bounded-attributes.ts': [
    "an attribute's vocabulary: the values allowed, or admitted under its cap (keys, no values)",
    ['closedVocabulary › allowed', 'cappedVocabulary › seen'],
  ],
  'domain/guarded-meter.ts': [NOT_SERIES, ['#wrappers', 'BATCH_WRAPPERS', 'ownSdkFor › made']],
  'domain/meter-provider.ts': [NOT_SERIES, ['#meters', '#readerKinds']],
  'domain/queue-ages.ts': [
    "the host's last job-store read (each queue's oldest waiting job's enqueue time), replaced whole by the next read; the gauge's values are the SDK's storages'",
    ['#last'],
  ],
  'domain/record-guard.ts': [NOT_SERIES, ['#warned', 'dropCounter › byReason']],
  'domain/recorder.ts': [
    NOT_SERIES,
    [
      'OUTCOME_SET',
      'RECORDERS',
      'conventionInstruments › made',
      'createRecorder › queueSources',
      'createRecorder › declaredByName',
      'createRecorder › observed',
      'createRecorder › handles',
    ],
  ],
  'domain/storage/observed.ts': [
    "the callbacks, keyed by callback; one run's observations, shared with that run's result",
    ['#registered', 'run › pending'],
  ],
  'domain/storage/registry.ts': [
    'per instrument: each storage writes its series into the store',
    ['#specs', '#byName', '#hosts', '#observed'],
  ],
  'exposition/numbers.ts': [MEMO, ['cachedLayouts › layouts']],
  'exposition/protobuf.ts': [SCRATCH, ['F64', 'F64_BYTES', 'done', 'owned', 'spare', 'idle']],
  'exposition/render-memo.ts': [
    MEMO,
    [
      'NO_LENGTHS',
      'NO_VALUES',
      'NO_KEYS',
      '#kept',
      '#match',
      '#lineEnds',
      '#keptEnds',
      '#ends',
      '#outs',
      '#spares',
    ],
  ],
  'exposition/samples.ts': [MEMO, ['rowSources']],
  'host-guard.ts': [NOT_SERIES, ['GUARDS', 'GUARDED']],
  'host-recorder.ts': [NOT_SERIES, ['ASKED']],
  'http/access-log.ts': [NOT_SERIES, ['entries']],
  'http/body-store.ts': [SCRATCH, ['#idle', '#stages']],
  'http/connection-room.ts': [NOT_SERIES, ['keepRoom › held']],
  'http/metrics-listener.ts': [TABLE, ['OTHER_METHODS']],
  'http/metrics-response.ts': [MEMO, ['#byType']],
  'http/scrape-handler.ts': [
    'the rendering in flight per variant, shared by the scrapes that wait for it',
    ['createScrapeHandler › rendering'],
  ],
  'ingest/attribute-fold.ts': [MEMO, ['shared']],
  'ingest/body-chunks.ts': [SCRATCH, ['wholeBodies', 'spares', 'residentOf', '#chunks']],
  'ingest/checkpoint.ts': [ONE_CALL, ['encodeCheckpoint › origins']],
  'ingest/clock-refusals.ts': [
    "the last five minutes' refusal counts by half-minute slot, for /ready: no series",
    ['#slots'],
  ],
  'ingest/content-encoding.ts': [TABLE, ['ZLIB']],
  'ingest/decode-worker.ts': [SCRATCH, ['waiting']],
  'ingest/decoder-pool.ts': [SCRATCH, ['#sent', '#queue']],
  'ingest/derived-runs.ts': [MEMO, ['OUTCOME_ATTRIBUTES']],
  'ingest/grpc-listener.ts': [NOT_SERIES, ['startGrpcFront › sessions']],
  'ingest/ingest-step.ts': [NOT_SERIES, ['ingestStep › waiting']],
  'ingest/ingest-report.ts': [NOT_SERIES, ['#reasons', '#warnings']],
  'ingest/ingest-store.ts': [NOT_SERIES, ['PRODUCED']],
  'ingest/lz4-frame.ts': [SCRATCH, ['buf']],
  'ingest/name-claims.ts': [
    'names claimed per family, not series',
    ['PROMETHEUS_SCRAPE_SERIES', '#claims', '#reserved'],
  ],
  'ingest/packed-chunk.ts': [
    `${SCRATCH} (the packer's columns); and the attribute keys and texts each side of the chunk port holds by memo id (KeyWire, KeyTable): names, no value`,
    [
      '#keys',
      '#texts',
      '#ids',
      '#seen',
      '#exact',
      '#starts',
      '#times',
      '#values',
      '#sums',
      '#flags',
      '#spans',
      '#numbers',
      '#ranges',
      'chunks › metrics',
      'explicitBounds',
      'bucketCounts',
    ],
  ],
  'ingest/series-registry.ts': [
    "the ingest's instruments by name, with their caps, charges and name claims: their series and streams are the store's (series/streams.ts StreamStore); dormant series (restored with no source known alive) as the state file had them, plain snapshot data no collection reads, written back unchanged until a point puts them into the store or the expiry drops them, and the ones woken since the last sweep; the seq of those woken since the last write (numbers, no values)",
    ['#instruments', '#dormant', '#woken', '#wokenSeq'],
  ],
  'ingest/senders.ts': [
    "the ingest's senders by resource identity (bounded), each one's counts and resource keys: no series",
    ['refused', 'resources', 'temporality', '#senders'],
  ],
  'integrations/bullmq.ts': [
    'the Redis clients the oldest-job script is defined on: connections, not series',
    ['DEFINED'],
  ],
  'integrations/handle.ts': [NOT_SERIES, ['INSTRUMENTED']],
  'integrations/job-runs.ts': [
    'runs open in a job library, until they end: a run, not a series',
    ['#open'],
  ],
  'integrations/pg-boss.ts': [NOT_SERIES, ['instrumentBoss › queues']],
  'jobmeter.ts': [NOT_SERIES, ['composeJobmeter › stopThreads']],
  'naming/attribute-labels.ts': [MEMO, ['labelNameCache']],
  'naming/native-rules.ts': [TABLE, ['NO_RESERVED', 'LABEL_NAMING', 'labelNaming › reserved']],
  'naming/series-cache.ts': [MEMO, ['#histograms', '#natives', 'NO_ATTRIBUTES']],
  'naming/to-families.ts': [
    "the table's rules and the compiled rules per instrument, the name clashes warned of; a pass's families, its own",
    [
      'createNamer › ruleMap',
      'createNamer › compiled',
      'createNamer › clashes',
      'pass › builders',
      'pass › order',
    ],
  ],
  'naming/zero-fill-push.ts': [
    "the profile's specs and each instrument's shape (a fixed table); which of the table's zero points were replaced (its own points, no value)",
    ['createPushZeroFill › specs', 'createPushZeroFill › shapes', 'createPushZeroFill › replaced'],
  ],
  'naming/zero-fill.ts': [TABLE, ['#filled']],
  'otlp/decode-attribute-memo.ts': [
    'attribute sets decoded before, by number (bounded by the generations that hold them), and the numbers of dropped sets, given again: no series',
    [
      '#freeIds',
      '#generationOf',
      '#at',
      '#next',
      '#attributes',
      '#bytesOf',
      '#keys',
      '#texts',
      '#exacts',
    ],
  ],
  'otlp/decode-protobuf.ts': [TABLE, ['HALVES', 'LAST_LO', 'LAST_HI']],
  'readers/collected-length-limit.ts': [MEMO, ['#cut']],
  'readers/reader-ports.ts': [NOT_SERIES, ['listenerPorts']],
  'readers/resilient-exporter.ts': [NOT_SERIES, ['#pending']],
};

const CONTAINER =
  /^(?:Map|WeakMap|Set|WeakSet|Array|(?:Float64|Float32|Int32|Uint32|Int16|Uint16|Int8|Uint8|BigInt64|BigUint64)Array)$/;

/** Whether `e` makes a keyed container, a column or a record. */
function makesContainer(e: ts.Expression | undefined): boolean {
  while (
    e !== undefined &&
    (ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isParenthesizedExpression(e))
  )
    e = e.expression;
  if (e === undefined) return false;
  if (ts.isNewExpression(e))
    return ts.isIdentifier(e.expression) && CONTAINER.test(e.expression.text);
  if (ts.isArrayLiteralExpression(e)) return e.elements.length === 0;
  if (ts.isObjectLiteralExpression(e)) return e.properties.length === 0;
  // The built-ins that return a new container: a grouping is a map or an object of lists.
  return (
    ts.isCallExpression(e) &&
    ['Object.create', 'Map.groupBy', 'Object.groupBy'].includes(e.expression.getText())
  );
}

function isFunction(n: ts.Node): n is ts.FunctionLikeDeclaration {
  return (
    ts.isFunctionDeclaration(n) ||
    ts.isFunctionExpression(n) ||
    ts.isArrowFunction(n) ||
    ts.isMethodDeclaration(n) ||
    ts.isGetAccessor(n) ||
    ts.isSetAccessor(n) ||
    ts.isConstructorDeclaration(n)
  );
}

/** A function's name as KEEPS writes it: its own, or the variable or property it is assigned to. */
function functionName(fn: ts.Node): string | undefined {
  if ((ts.isFunctionDeclaration(fn) || ts.isMethodDeclaration(fn)) && fn.name !== undefined)
    return fn.name.getText();
  const parent = fn.parent;
  if (
    (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) &&
    ts.isIdentifier(parent.name)
  )
    return parent.name.text;
  return undefined;
}

/**
 * Whether `name`, declared in `fn`, is read by a function made in `fn` other than a callback
 * handed straight to a call (`list.map((x) => …)`, `new Promise((resolve) => …)`): such a
 * function can outlive the call, and the variable with it.
 */
function captured(fn: ts.FunctionLikeDeclaration, name: string): boolean {
  const look = (n: ts.Node, inner: boolean): boolean => {
    if (isFunction(n)) {
      const call = n.parent;
      const handed =
        (ts.isCallExpression(call) || ts.isNewExpression(call)) &&
        (call.arguments ?? []).some((a) => a === n);
      return ts.forEachChild(n, (c) => look(c, inner || !handed)) === true;
    }
    if (inner && ts.isIdentifier(n) && n.text === name) return true;
    return ts.forEachChild(n, (c) => look(c, inner)) === true;
  };
  return fn.body !== undefined && ts.forEachChild(fn.body, (c) => look(c, false)) === true;
}

/** The names `text` keeps across calls: class fields, module-level variables, closure variables. */
function keptIn(text: string): Set<string> {
  const source = ts.createSourceFile('kept.ts', text, ts.ScriptTarget.Latest, true);
  const kept = new Set<string>();
  const visit = (n: ts.Node, fn: ts.FunctionLikeDeclaration | undefined): void => {
    if (ts.isPropertyDeclaration(n) && makesContainer(n.initializer)) kept.add(n.name.getText());
    else if (
      ts.isBinaryExpression(n) &&
      n.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      ts.isPropertyAccessExpression(n.left) &&
      n.left.expression.kind === ts.SyntaxKind.ThisKeyword &&
      makesContainer(n.right)
    )
      kept.add(n.left.name.getText());
    else if (
      ts.isVariableDeclaration(n) &&
      ts.isIdentifier(n.name) &&
      makesContainer(n.initializer)
    ) {
      if (fn === undefined) kept.add(n.name.text);
      else if (captured(fn, n.name.text)) {
        const owner = functionName(fn);
        kept.add(owner === undefined ? n.name.text : `${owner} › ${n.name.text}`);
      }
    }
    ts.forEachChild(n, (c) => visit(c, isFunction(n) ? n : fn));
  };
  visit(source, undefined);
  return kept;
}

/** Each file of src/ outside the store that keeps something across calls, with the names. */
function keepers(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const file of files(SRC)) {
    const rel = relative(SRC, file);
    if (rel.startsWith(STORE)) continue;
    const names = keptIn(readFileSync(file, 'utf8'));
    if (names.size > 0) out.set(rel, names);
  }
  return out;
}

test('the keeper scan sees class fields, module-level and closure containers, not locals', () => {
  const text = [
    'const a = new Map<string, number>();',
    'export let b: number[] = [];',
    'const c = Object.create(null) as Record<string, number>;',
    // Parameters a formatter puts one per line are not kept state.
    'function f(',
    '  given: object | undefined,',
    '  except: readonly string[] = [],',
    '): void {',
    '  const local = new Map();',
    '  const handed = new Set();',
    '  [1].forEach((x) => handed.add(x));',
    '}',
    'class C {',
    '  readonly #d = new Float64Array(4);',
    '  e = new WeakMap();',
    '  readonly #f: Map<string, number>;',
    '  constructor() {',
    '    this.#f = new Map();',
    '    const local = new Map();',
    '  }',
    '}',
    'export function createG() {',
    '  const g: Record<string, number> = {};',
    '  return (k: string) => (g[k] = (g[k] ?? 0) + 1);',
    '}',
    'export const makeH = () => {',
    '  const h = new Array<number>();',
    '  return { add: (v: number) => h.push(v) };',
    '};',
    'export function groupI(list: readonly string[]) {',
    '  const i = Map.groupBy(list, (x) => x[0]);',
    '  return (k: string) => i.get(k);',
    '}',
  ].join('\n');
  assert.deepEqual(
    [...keptIn(text)],
    ['a', 'b', 'c', '#d', 'e', '#f', 'createG › g', 'makeH › h', 'groupI › i'],
  );
});

test('only the series store keeps per-series values across collections (every other keeper is listed, name by name, with why)', () => {
  const found = keepers();
  const unlisted = [...found]
    .map(
      ([file, names]) => [file, [...names].filter((n) => !KEEPS[file]?.[1].includes(n))] as const,
    )
    .filter(([, names]) => names.length > 0)
    .map(([file, names]) => `${file}: ${names.join(', ')}`);
  assert.deepEqual(
    unlisted,
    [],
    'a file outside src/series/ keeps state across calls: move per-series values into the store, or list the name in KEEPS saying why it is none',
  );
  const stale = Object.entries(KEEPS).flatMap(([file, [, names]]) =>
    names.filter((n) => found.get(file)?.has(n) !== true).map((n) => `${file}: ${n}`),
  );
  assert.deepEqual(stale, [], 'listed in KEEPS but kept no more: take it off the list');
});
