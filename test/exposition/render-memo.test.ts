// RenderMemo (src/exposition/render-memo.ts): a rendering that reuses the kept bytes of the last
// one must be byte for byte the ordinary rendering (render()), whatever changed in between:
// values, series added, removed or relabelled, label strings equal but not the same string,
// families appearing, disappearing or changing type, non-ASCII families, histograms, info
// families, OpenMetrics extras and `# EOF`, empty families, any piece size.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { RenderMemo } from '../../src/exposition/render-memo.ts';
import { render } from '../../src/exposition/render.ts';
import {
  bucketLinePrefix,
  type RenderFamily,
  type RenderHistogramSeries,
} from '../../src/exposition/render-model.ts';
import type { Piece } from '../../src/exposition/samples.ts';
import { pieceBytes } from '../support/render-bytes.ts';
import type { ExpositionExemplar, FamilyType } from '../../src/exposition/types.ts';

/** The body as the body store writes it: bytes copied as they come, text encoded as its piece says. */
function body(pieces: Iterable<Piece | Uint8Array>): Buffer {
  const out: Buffer[] = [];
  for (const p of pieces) out.push(p instanceof Uint8Array ? Buffer.from(p) : pieceBytes(p));
  return Buffer.concat(out);
}

const expected = (format: 'text' | 'openmetrics', families: readonly RenderFamily[]): Buffer =>
  Buffer.from(render(format, families), 'utf8');

const BOUNDS: readonly number[] = [0.1, 1, 10];
const NEG_BOUNDS: readonly number[] = [-1, 0, 1];
const LABELS = [
  '',
  'k="a"',
  'k="b"',
  'k="c"',
  'k="d"',
  'k="e"',
  'k="f",x="1"',
  'k="g"',
  'k="h"',
  'k="i"',
  'k="j"',
];
/** A label string: now and then a non-ASCII one (its family is then rendered plainly). */
const labelOf = (pick: number): string =>
  pick % 41 === 5
    ? 'k="caf\u00e9"'
    : pick % 41 === 6
      ? 'k="\u{1F680}"'
      : LABELS[pick % LABELS.length]!;
/** Labels every series of a family may end with (a host's scope labels, or one other). */
const SHARED = ['', ',otel_scope_name="s",otel_scope_version="1.0"', ',z="0"'];
/** `labels` with a family's shared end, as the naming stage joins them (no comma when alone). */
const withShared = (labels: string, shared: string): string =>
  labels === '' ? shared.slice(1) : labels + shared;
const NAMES = ['a_total', 'b_count', 'c_info', 'd', 'h_seconds', 'e_total', 'f_info_x'];
const VALUES = [
  0,
  1,
  2,
  7,
  1023,
  1024,
  0.5,
  -0,
  -3.25,
  1e21,
  1.5e-7,
  NaN,
  Infinity,
  -Infinity,
  123456.789,
];
const EXEMPLAR: ExpositionExemplar = {
  labels: 'trace_id="abc"',
  value: 1,
  timestamp: 1700000000.5,
};

/** One family as the test changes it; its arrays are replaced (never changed) once handed out. */
interface Model {
  name: string;
  type: FamilyType;
  help: string;
  labels: string[];
  values: number[];
  series: RenderHistogramSeries[];
  /** Number families: columns (as the naming stage gives) or plain series (a hand-made family). */
  columns: boolean;
  created: number[] | undefined;
  exemplars: (ExpositionExemplar | undefined)[] | undefined;
  /** The family's `ascii` mark as given: true only when it holds, or left out. */
  markAscii: boolean;
  /** What its series' label strings end with (most of them: see `add` and `relabel`). */
  shared: string;
}

type Op = {
  kind:
    | 'value'
    | 'add'
    | 'remove'
    | 'relabel'
    | 'help'
    | 'drop'
    | 'addFamily'
    | 'retype'
    | 'all'
    | 'restring'
    | 'extras'
    | 'mark';
  family: number;
  at: number;
  pick: number;
};

const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom(
    'value',
    'value',
    'value',
    'add',
    'remove',
    'relabel',
    'help',
    'drop',
    'addFamily',
    'retype',
    'all',
    'restring',
    'extras',
    'mark',
  ),
  family: fc.nat(20),
  at: fc.nat(40),
  pick: fc.nat(1000),
});

const isAsciiText = (s: string): boolean => /^[\x00-\x7f]*$/.test(s);

function histogram(name: string, labels: string, pick: number): RenderHistogramSeries {
  const bounds = pick % 5 === 0 ? NEG_BOUNDS : BOUNDS;
  const counts = [pick % 3, (pick >> 2) % 4, 0, pick % 7];
  const count = counts.reduce((a, b) => a + b, 0);
  return {
    labels,
    bounds,
    counts,
    count,
    sum: VALUES[pick % VALUES.length]! === VALUES[pick % VALUES.length]! ? (pick % 11) * 0.37 : 0,
    ...(pick % 4 === 0 && { prefix: bucketLinePrefix(name, labels) }),
    ...(pick % 6 === 1 && { created: 1700000000000 + pick }),
    ...(pick % 9 === 2 && { exemplars: [EXEMPLAR] }),
  };
}

function newFamily(name: string, pick: number): Model {
  const type: FamilyType =
    name === 'h_seconds'
      ? 'histogram'
      : name.endsWith('_info') || name.endsWith('_info_x')
        ? 'info'
        : (['counter', 'gauge', 'unknown'] as const)[pick % 3]!;
  const m: Model = {
    name,
    type,
    help: pick % 2 === 0 ? 'help' : '',
    labels: [],
    values: [],
    series: [],
    columns: pick % 5 !== 0,
    created: undefined,
    exemplars: undefined,
    markAscii: pick % 7 !== 0,
    shared: SHARED[pick % SHARED.length]!,
  };
  const n = pick % 4 === 3 ? 0 : 1 + (pick % 6);
  for (let i = 0; i < n; i++) add(m, i, pick + i * 13);
  return m;
}

function add(m: Model, at: number, pick: number): void {
  // Now and then a series without the family's shared labels (the memo's cut then shrinks).
  const labels = pick % 17 === 3 ? labelOf(pick) : withShared(labelOf(pick), m.shared);
  if (m.type === 'histogram') {
    m.series = m.series.slice();
    m.series.splice(Math.min(at, m.series.length), 0, histogram(m.name, labels, pick));
  } else {
    const i = Math.min(at, m.labels.length);
    m.labels = m.labels.slice();
    m.values = m.values.slice();
    m.labels.splice(i, 0, labels);
    m.values.splice(i, 0, VALUES[pick % VALUES.length]!);
    if (m.created) (m.created = m.created.slice()).splice(i, 0, 1700000000000 + pick);
    if (m.exemplars)
      (m.exemplars = m.exemplars.slice()).splice(i, 0, pick % 2 === 0 ? EXEMPLAR : undefined);
  }
}

/** A family of `n` series with ASCII labels, marked so: one the memo keeps (its lines whole, unless `shared`). */
function asciiFamily(name: string, pick: number, n: number, shared = ''): Model {
  const m = {
    ...newFamily(name, pick),
    labels: [],
    values: [],
    series: [],
    markAscii: true,
    shared,
  };
  for (let i = 0; i < n; i++) add(m, i, i * 41);
  return m;
}

function size(m: Model): number {
  return m.type === 'histogram' ? m.series.length : m.labels.length;
}

function apply(world: Model[], op: Op): void {
  if (op.kind === 'addFamily') {
    const name = NAMES[op.pick % NAMES.length]!;
    if (!world.some((m) => m.name === name))
      world.splice(op.at % (world.length + 1), 0, newFamily(name, op.pick));
    return;
  }
  if (world.length === 0) return;
  const fi = op.family % world.length;
  const m = world[fi]!;
  const n = size(m);
  const at = n === 0 ? 0 : op.at % n;
  switch (op.kind) {
    case 'drop':
      world.splice(fi, 1);
      return;
    case 'help':
      m.help = op.pick % 3 === 0 ? '' : op.pick % 3 === 1 ? 'new help' : 'caf\u00e9 help';
      return;
    case 'mark':
      m.markAscii = !m.markAscii;
      return;
    case 'add':
      add(m, op.at, op.pick);
      return;
    case 'retype': {
      // The same name, another number type (histogram names stay histograms).
      if (m.type === 'histogram') return;
      m.type = (['counter', 'gauge', 'unknown', 'info'] as const)[op.pick % 4]!;
      m.created = m.exemplars = undefined;
      return;
    }
    case 'extras':
      if (m.type !== 'counter' || !m.columns) return;
      m.created = op.pick % 2 === 0 ? m.labels.map((_, i) => 1700000000000 + i) : undefined;
      m.exemplars =
        op.pick % 3 === 0
          ? m.labels.map((_, i) => (i % 2 === 0 ? EXEMPLAR : undefined))
          : undefined;
      return;
    case 'restring':
      // Equal label strings that are not the same string (escape-names.ts makes such).
      if (m.type === 'histogram') m.series = m.series.map((s) => ({ ...s }));
      else m.labels = m.labels.map((l) => [l, ''].join(''));
      return;
    case 'all':
      if (m.type === 'histogram')
        m.series = m.series.map((s, i) => histogram(m.name, s.labels, op.pick + i));
      else m.values = m.values.map((v, i) => (Number.isNaN(v) ? 1 : v + 1 + i));
      return;
  }
  if (n === 0) return;
  if (m.type === 'histogram') {
    m.series = m.series.slice();
    if (op.kind === 'remove') m.series.splice(at, 1);
    else
      m.series[at] = histogram(
        m.name,
        op.kind === 'relabel' ? labelOf(op.pick) : m.series[at]!.labels,
        op.pick,
      );
    return;
  }
  m.labels = m.labels.slice();
  m.values = m.values.slice();
  if (op.kind === 'remove') {
    m.labels.splice(at, 1);
    m.values.splice(at, 1);
    if (m.created) (m.created = m.created.slice()).splice(at, 1);
    if (m.exemplars) (m.exemplars = m.exemplars.slice()).splice(at, 1);
  } else if (op.kind === 'relabel')
    m.labels[at] = op.pick % 5 === 0 ? labelOf(op.pick) : withShared(labelOf(op.pick), m.shared);
  else m.values[at] = VALUES[op.pick % VALUES.length]!;
}

/** The families of the world as a renderer takes them (unchanged arrays are the same objects). */
function families(world: readonly Model[]): RenderFamily[] {
  return world.map((m): RenderFamily => {
    const ascii =
      m.type === 'histogram'
        ? m.series.every((s) => isAsciiText(s.labels))
        : m.labels.every(isAsciiText);
    const mark = m.markAscii ? { ascii } : {};
    const head = { name: m.name, help: m.help, unit: '', ...mark };
    if (m.type === 'histogram') return { ...head, type: 'histogram', series: m.series };
    const { labels, values } = m;
    if (!m.columns)
      return {
        ...head,
        type: m.type,
        series: labels.map((l, i) => ({ labels: l, value: values[i]! })),
      };
    const columns = {
      labels,
      values,
      ...(m.created && { created: m.created }),
      ...(m.exemplars && { exemplars: m.exemplars }),
    };
    return {
      ...head,
      type: m.type,
      columns,
      get series() {
        return labels.map((l, i) => ({
          labels: l,
          value: values[i]!,
          ...(m.created && { created: columns.created![i]! }),
          ...(columns.exemplars?.[i] && { exemplar: columns.exemplars[i] }),
        }));
      },
    };
  });
}

describe('RenderMemo', () => {
  for (const format of ['text', 'openmetrics'] as const) {
    test(`${format}: every rendering is the bytes of render(), over random changes between scrapes`, () => {
      let kept = 0;
      let seen = 0;
      fc.assert(
        fc.property(
          fc.array(fc.nat(1000), { minLength: 1, maxLength: 5 }),
          fc.array(fc.array(opArb, { maxLength: 8 }), { minLength: 1, maxLength: 8 }),
          fc.constantFrom(1, 64, 300, 65536, Infinity),
          (start, steps, chunk) => {
            const world = start
              .map((pick, i) => newFamily(NAMES[(pick + i) % NAMES.length]!, pick))
              .filter((m, i, all) => all.findIndex((o) => o.name === m.name) === i);
            const memo = new RenderMemo(format);
            let rendered = families(world);
            assert.ok(
              body(memo.pieces(rendered, chunk)).equals(expected(format, rendered)),
              'first rendering',
            );
            kept += memo.size;
            seen += rendered.length;
            for (const [s, ops] of steps.entries()) {
              for (const op of ops) apply(world, op);
              rendered = families(world);
              const got = body(memo.pieces(rendered, chunk));
              const want = expected(format, rendered);
              assert.ok(
                got.equals(want),
                `step ${s}:\n${got.toString('utf8')}\n---\n${want.toString('utf8')}`,
              );
              // The same families again (nothing changed): the kept bytes as they are.
              assert.ok(body(memo.pieces(rendered, chunk)).equals(want), `step ${s}, again`);
            }
          },
        ),
        { numRuns: 300 },
      );
      // The runs went through the kept bytes, not only the plain fallback.
      assert.ok(kept > seen / 3, `${kept} of ${seen} families kept after a first rendering`);
    });
  }

  test('pieces are whole lines of about the piece size; small families are gathered', () => {
    const world = [
      asciiFamily('a_total', 1, 400),
      asciiFamily('h_seconds', 2, 3),
      asciiFamily('d', 4, 2),
    ];
    const memo = new RenderMemo('text');
    for (let round = 0; round < 3; round++) {
      apply(world, { kind: 'value', family: 0, at: round * 37, pick: round });
      const pieces = [...memo.pieces(families(world), 1024)].map((p) =>
        p instanceof Uint8Array ? Buffer.from(p) : pieceBytes(p),
      );
      assert.ok(Buffer.concat(pieces).equals(expected('text', families(world))));
      for (const p of pieces) assert.equal(p.at(-1), 0x0a, `round ${round}: a piece ends mid-line`);
      // Each piece but the last reaches 1/4 of the size; none is much larger than twice it.
      for (const p of pieces.slice(0, -1))
        assert.ok(
          p.length >= 256 && p.length <= 2 * 1024 + 512,
          `round ${round}: a piece of ${p.length} bytes`,
        );
    }
  });

  // Counts the typed arrays and off-heap buffers made while `fn` runs (render-memo.ts makes
  // them through these globals): storage made and dropped at every scrape is external memory
  // that makes V8 start mark-compacts on the host's event loop.
  const ARRAYS = ['Float64Array', 'Uint32Array', 'Int32Array'] as const;
  const made = (fn: () => void): number => {
    let n = 0;
    const g = globalThis as unknown as Record<(typeof ARRAYS)[number], object>;
    const saved = { Float64Array, Uint32Array, Int32Array };
    const slow = Buffer.allocUnsafeSlow;
    for (const name of ARRAYS)
      g[name] = new Proxy(saved[name], {
        construct: (t, a, nt) => (n++, Reflect.construct(t, a, nt)),
      });
    Buffer.allocUnsafeSlow = (size: number) => (n++, slow(size));
    try {
      fn();
    } finally {
      for (const name of ARRAYS) g[name] = saved[name];
      Buffer.allocUnsafeSlow = slow;
    }
    return n;
  };

  test('families that did not change make no new storage: only a changed family uses its second buffers', () => {
    const world = Array.from({ length: 12 }, (_, i) => asciiFamily(`f${i}_total`, 3 * i + 1, 200));
    const memo = new RenderMemo('text');
    /** One rendering, checked; how much storage the memo made for it. */
    const round = (): number => {
      const rendered = families(world);
      let got: Buffer = Buffer.alloc(0);
      const n = made(() => (got = body(memo.pieces(rendered, 4096))));
      assert.ok(got.equals(expected('text', rendered)));
      return n;
    };
    assert.ok(round() > 0, 'the first rendering makes the kept storage (the count sees it)');
    round();
    // Half the families changed twice, each time to a line of another length (the lines move):
    // each of those has made its second arrays and buffer. The others never change.
    const moving = world.length / 2;
    for (let f = 0; f < moving; f++) {
      apply(world, { kind: 'value', family: f, at: 5, pick: 1 });
      round();
      apply(world, { kind: 'value', family: f, at: 6, pick: 9 });
      round();
    }
    assert.equal(round(), 0, 'nothing changed: nothing made');
    for (let r = 0; r < 2 * moving; r++) {
      apply(world, { kind: 'value', family: r % moving, at: 7 + (r % 3), pick: r });
      assert.equal(round(), 0, `round ${r}: one family changed, the others as they were`);
    }
  });

  test('families that went away are forgotten, and their bytes with them', () => {
    const world = ['a_total', 'd', 'h_seconds'].map((name, i) => asciiFamily(name, 1 + i * 4, 200));
    const memo = new RenderMemo('openmetrics');
    body(memo.pieces(families(world)));
    assert.equal(memo.size, 3);
    const all = memo.bytes;
    assert.ok(all > 0);
    world.splice(1, 1);
    assert.ok(body(memo.pieces(families(world))).equals(expected('openmetrics', families(world))));
    assert.equal(memo.size, 2);
    assert.ok(memo.bytes < all, `${memo.bytes} bytes kept, ${all} before`);
    world.length = 0;
    body(memo.pieces(families(world)));
    assert.equal(memo.size, 0);
    assert.equal(memo.bytes, 0);
  });

  /** A counter family of `n` series whose label strings all end with `shared`. */
  const sharing = (n: number, shared: string): Model => {
    const m = asciiFamily('a_total', 3, 0, shared);
    m.labels = Array.from({ length: n }, (_, i) => `host="host-${i}"${shared}`);
    m.values = m.labels.map((_, i) => 1 + (i % 7));
    return m;
  };
  const SCOPE = ',otel_scope_name="jobmeter",otel_scope_version="1.2.3"';

  test('labels every line of a family ends with are kept once, not in each line; one buffer after every line moved', () => {
    const n = 2000;
    const world = [sharing(n, SCOPE)];
    const memo = new RenderMemo('text');
    /** The body less what the family's lines repeat: each line's opener, the shared labels and `}`. */
    const cut = (b: Buffer) => b.length - n * ('a_total{'.length + SCOPE.length + 1);
    const first = families(world);
    const one = body(memo.pieces(first));
    assert.ok(one.equals(expected('text', first)));
    assert.ok(memo.bytes <= cut(one), `${memo.bytes} B kept for a ${one.length} B body`);
    // Every value changed to a longer line: the lines move, and are kept once still.
    apply(world, { kind: 'all', family: 0, at: 0, pick: 0 });
    const second = families(world);
    const two = body(memo.pieces(second));
    assert.ok(two.equals(expected('text', second)));
    assert.ok(
      memo.bytes <= 1.2 * cut(two) + 1024,
      `${memo.bytes} B kept for a ${two.length} B body, after every line moved`,
    );
  });

  test('a family kept cut, scraped back to back, writes its lines into the storage of the scrape before once that body is done', () => {
    // Its served lines are written at every rendering (the cut put back); the storage of the last
    // rendering is held weakly (a full GC may take it: none runs within this synchronous test).
    const world = [sharing(3000, SCOPE)];
    const memo = new RenderMemo('text');
    /** One scrape as an endpoint makes it (a lent body, released once written); storage made for it. */
    const scrape = (): number => {
      const rendered = families(world);
      const lending = memo.lending(rendered, 4096);
      let got: Buffer = Buffer.alloc(0);
      const n = made(() => (got = body(lending.pieces)));
      assert.ok(got.equals(expected('text', rendered)));
      lending.lent.release();
      return n;
    };
    assert.ok(scrape() > 0, 'the first scrape makes storage (the count sees it)');
    // Some lines keep their length (rewritten in place), then some move (a longer value); the
    // first rounds grow the memo's scratch arrays and a value array (wider values) once.
    for (let r = 0; r < 6; r++) {
      apply(world, { kind: 'value', family: 0, at: 10 * r, pick: r });
      const inPlace = scrape();
      apply(world, { kind: 'value', family: 0, at: 10 * r + 1, pick: 1000 + r });
      const moved = scrape();
      if (r > 1) assert.deepEqual([inPlace, moved], [0, 0], `round ${r}: storage made`);
    }
    // While a body still holds the last storage, a rendering makes its own.
    const held = memo.lending(families(world), 4096);
    body(held.pieces);
    assert.ok(scrape() > 0, 'storage a body holds is not written into');
    held.lent.release();
  });

  test('a body lent from a family kept cut stays as it was while later renderings change it', () => {
    const world = [sharing(500, SCOPE)];
    const memo = new RenderMemo('text');
    body(memo.pieces(families(world), 1024));
    const one = families(world);
    const lending = memo.lending(one, 1024);
    // As the body store does: a lent piece referenced, any other copied before the next is asked for.
    let lent = 0;
    const held: Uint8Array[] = [];
    for (const p of lending.pieces) {
      if (!(p instanceof Uint8Array)) held.push(pieceBytes(p));
      else if (lending.lent.lent(p)) {
        held.push(p);
        lent++;
      } else held.push(Buffer.from(p));
    }
    assert.ok(lent > 0, 'pieces were lent');
    const want = expected('text', one);
    assert.ok(Buffer.concat(held).equals(want));
    // Lines of the same length (rewritten in place), then a series without the shared labels.
    world[0]!.values = world[0]!.values.map((v, i) => (i % 5 === 0 ? (v % 7) + 2 : v));
    const two = families(world);
    assert.ok(body(memo.pieces(two, 1024)).equals(expected('text', two)), 'in place');
    world[0]!.labels = [...world[0]!.labels, 'host="late"'];
    world[0]!.values = [...world[0]!.values, 3];
    const three = families(world);
    assert.ok(body(memo.pieces(three, 1024)).equals(expected('text', three)), 'cut no more');
    assert.ok(Buffer.concat(held).equals(want), 'the lent body as it was');
    lending.lent.release();
    assert.equal(memo.leases, 0);
  });

  test('non-ASCII families and OpenMetrics counters with extras are rendered plainly, not kept', () => {
    const plain = newFamily('a_total', 1);
    plain.type = 'counter';
    plain.labels = ['k="caf\u00e9"', 'k="b"'];
    plain.values = [1, 2];
    const extras = newFamily('e_total', 1);
    extras.type = 'counter';
    extras.labels = ['k="a"'];
    extras.values = [3];
    extras.created = [1700000000000];
    const memo = new RenderMemo('openmetrics');
    const rendered = families([plain, extras]);
    assert.ok(body(memo.pieces(rendered)).equals(expected('openmetrics', rendered)));
    assert.equal(memo.size, 0);
    // Text 0.0.4 writes no extras: the counter is kept there.
    const text = new RenderMemo('text');
    assert.ok(body(text.pieces(rendered)).equals(expected('text', rendered)));
    assert.equal(text.size, 1);
  });

  test('a rendering that finds the memo in use, or one abandoned half way, is still right', () => {
    const world = ['a_total', 'd', 'h_seconds'].map((name, i) => asciiFamily(name, 1 + i * 4, 300));
    const memo = new RenderMemo('text');
    const first = families(world);
    const running = memo.pieces(first, 512);
    const head = running.next();
    assert.equal(head.done, false);
    apply(world, { kind: 'all', family: 0, at: 0, pick: 3 });
    const second = families(world);
    assert.ok(
      body(memo.pieces(second, 512)).equals(expected('text', second)),
      'concurrent: rendered plainly',
    );
    running.return(undefined);
    apply(world, { kind: 'all', family: 2, at: 0, pick: 5 });
    const third = families(world);
    assert.ok(
      body(memo.pieces(third, 512)).equals(expected('text', third)),
      'after an abandoned one',
    );
    assert.equal(memo.size, 3, 'the memo is in use again');
    memo.close();
    assert.ok(body(memo.pieces(third, 512)).equals(expected('text', third)), 'after close');
    assert.equal(memo.size, 0);
  });

  test('two renderings asked for before either starts, then read in turns, are both right', () => {
    const world = ['a_total', 'd', 'h_seconds'].map((name, i) => asciiFamily(name, 1 + i * 4, 300));
    const memo = new RenderMemo('text');
    body(memo.pieces(families(world), 512));
    apply(world, { kind: 'value', family: 0, at: 7, pick: 2 });
    const one = families(world);
    apply(world, { kind: 'all', family: 1, at: 0, pick: 9 });
    const two = families(world);
    const a = memo.pieces(one, 512);
    const b = memo.pieces(two, 512);
    const outA: Buffer[] = [];
    const outB: Buffer[] = [];
    const bytes = (p: Piece | Uint8Array): Buffer =>
      p instanceof Uint8Array ? Buffer.from(p) : pieceBytes(p);
    for (;;) {
      const x = a.next();
      const y = b.next();
      if (!x.done) outA.push(bytes(x.value));
      if (!y.done) outB.push(bytes(y.value));
      if (x.done && y.done) break;
    }
    assert.ok(Buffer.concat(outA).equals(expected('text', one)), 'the first');
    assert.ok(Buffer.concat(outB).equals(expected('text', two)), 'the second');
    apply(world, { kind: 'value', family: 2, at: 3, pick: 4 });
    const three = families(world);
    assert.ok(body(memo.pieces(three, 512)).equals(expected('text', three)), 'the next one');
  });

  test('closed while a rendering is under way, that rendering still completes right', () => {
    // Families small enough to be gathered into shared pieces: closing must not drop what is gathered.
    const world = Array.from({ length: 6 }, (_, i) => asciiFamily(NAMES[i]!, 1 + i * 4, 3));
    const memo = new RenderMemo('openmetrics');
    const rendered = families(world);
    body(memo.pieces(rendered, 4096));
    apply(world, { kind: 'value', family: 2, at: 1, pick: 3 });
    const next = families(world);
    const pieces = memo.pieces(next, 4096);
    const out: Buffer[] = [];
    const first = pieces.next();
    assert.equal(first.done, false);
    out.push(
      first.value instanceof Uint8Array ? Buffer.from(first.value) : pieceBytes(first.value),
    );
    memo.close();
    out.push(body({ [Symbol.iterator]: () => pieces }));
    assert.ok(Buffer.concat(out).equals(expected('openmetrics', next)));
    assert.equal(memo.size, 0);
  });
});
