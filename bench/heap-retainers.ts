/**
 * What the first scrape adds to a contender's heap in the wide shape (heap-shape.ts), and what
 * holds it: a V8 heap snapshot after recording and one after the first scrape over HTTP, in one
 * process; the objects of the second that the first had not (snapshot node ids are stable within
 * a process), summed by kind (constructor, or V8's type for strings, arrays and code) and by the
 * path of their first strong retainers. Run it where the heap row (heap.ts, `heap-host`, `heap-declared`) needs
 * explaining.
 *
 *   node --expose-gc bench/heap-retainers.ts [jobmeter-host|jobmeter-declared|prometheus-io|…] [quick] [top=15]
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { markdownTable, num } from './harness.ts';
import {
  heldMemory,
  labelValues,
  setUpWide,
  WIDE_CONTENDERS,
  wideLayout,
  wideSeries,
  type WideContender,
} from './heap-shape.ts';

interface Snapshot {
  readonly snapshot: {
    readonly meta: {
      readonly node_fields: string[];
      readonly node_types: [string[], ...unknown[]];
      readonly edge_fields: string[];
      readonly edge_types: [string[], ...unknown[]];
    };
  };
  readonly nodes: number[];
  readonly edges: number[];
  readonly strings: string[];
}

/** A snapshot read into what the summary needs: each node's id, kind, self size and first strong retainer. */
interface Nodes {
  readonly ids: Float64Array;
  readonly kinds: string[];
  readonly self: Float64Array;
  /** The node index of each node's first strong retainer, -1 for none. */
  readonly retainer: Int32Array;
}

function read(file: string): Nodes {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const nf = s.snapshot.meta.node_fields;
  const ef = s.snapshot.meta.edge_fields;
  const nodeTypes = s.snapshot.meta.node_types[0];
  const edgeTypes = s.snapshot.meta.edge_types[0];
  const [fType, fName, fId, fSelf, fEdges] = ['type', 'name', 'id', 'self_size', 'edge_count'].map(
    (f) => nf.indexOf(f),
  ) as [number, number, number, number, number];
  const [eType, eTo] = ['type', 'to_node'].map((f) => ef.indexOf(f)) as [number, number];
  const n = s.nodes.length / nf.length;
  const ids = new Float64Array(n);
  const self = new Float64Array(n);
  const kinds: string[] = [];
  const retainer = new Int32Array(n).fill(-1);
  let edge = 0;
  for (let i = 0; i < n; i++) {
    const at = i * nf.length;
    const type = nodeTypes[s.nodes[at + fType]!]!;
    const name = s.strings[s.nodes[at + fName]!]!;
    ids[i] = s.nodes[at + fId]!;
    self[i] = s.nodes[at + fSelf]!;
    kinds.push(
      type === 'object' || type === 'closure'
        ? `${name}${type === 'closure' ? ' (closure)' : ''}`
        : type === 'string' || type === 'concatenated string' || type === 'sliced string'
          ? '(string)'
          : `(${type}) ${name.slice(0, 40)}`,
    );
    for (let e = 0; e < s.nodes[at + fEdges]!; e++, edge += ef.length) {
      const kind = edgeTypes[s.edges[edge + eType]!];
      if (kind === 'weak' || kind === 'shortcut') continue;
      const to = s.edges[edge + eTo]! / nf.length;
      if (retainer[to] === -1) retainer[to] = i;
    }
  }
  return { ids, kinds, self, retainer };
}

/** Retainers named on a holder path: an array's holder is what says whose it is. */
const HOPS = 3;

/** The objects `after` has that `before` had not, by kind and by kind ← first retainer's kind. */
function added(before: Nodes, after: Nodes, series: number, top: number): string {
  const old = new Set(before.ids);
  const byKind = new Map<string, { count: number; bytes: number }>();
  const byHolder = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < after.ids.length; i++) {
    if (old.has(after.ids[i]!)) continue;
    const kind = after.kinds[i]!;
    const k = byKind.get(kind) ?? { count: 0, bytes: 0 };
    k.count++;
    k.bytes += after.self[i]!;
    byKind.set(kind, k);
    let holder = kind;
    for (let r = after.retainer[i]!, hops = 0; hops < HOPS; r = after.retainer[r]!, hops++)
      holder += ` ← ${r === -1 ? '(none)' : after.kinds[r]}`;
    byHolder.set(holder, (byHolder.get(holder) ?? 0) + after.self[i]!);
    total += after.self[i]!;
  }
  const perSeries = (b: number) => (b / series).toFixed(1);
  return [
    `${num(total, 0)} bytes in new objects (self sizes), ${perSeries(total)} B a series`,
    '',
    markdownTable(
      ['kind', 'objects', 'bytes', 'B a series'],
      [...byKind]
        .sort((a, b) => b[1].bytes - a[1].bytes)
        .slice(0, top)
        .map(([k, v]) => [k, num(v.count, 0), num(v.bytes, 0), perSeries(v.bytes)]),
    ),
    '',
    markdownTable(
      [`kind ← its first strong retainers (${HOPS})`, 'bytes', 'B a series'],
      [...byHolder]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([k, v]) => [k, num(v, 0), perSeries(v)]),
    ),
  ].join('\n');
}

const contender = (process.argv[2] ?? 'jobmeter-host') as WideContender;
if (!WIDE_CONTENDERS.includes(contender))
  throw new Error(`contender: one of ${WIDE_CONTENDERS.join(', ')}`);
const quick = process.argv[3] === 'quick';
const top = Number(process.argv[4] ?? 15);
const layout = wideLayout(quick);
const series = wideSeries(layout);
const values = labelValues(layout);
const built = await setUpWide(contender, layout);
built.record(values);
const dir = tmpdir();
const first = writeHeapSnapshot(join(dir, `heap-retainers-${process.pid}-recorded.heapsnapshot`));
// Read after the snapshot, whose own collection moves the heap.
const recorded = await heldMemory();
const lines = (await built.scrape()).split('\n').filter((l) => l.startsWith('bench_')).length;
if (lines !== series) throw new Error(`${contender}: ${lines} sample lines, expected ${series}`);
await new Promise((resolve) => setTimeout(resolve, 100));
const scraped = await heldMemory();
const second = writeHeapSnapshot(join(dir, `heap-retainers-${process.pid}-scraped.heapsnapshot`));
try {
  console.log(
    `${contender}, ${num(series, 0)} series: the first scrape added ${((scraped - recorded) / series).toFixed(0)} B a series (heapUsed + arrayBuffers, after gc)\n`,
  );
  console.log(added(read(first), read(second), series, top));
} finally {
  rmSync(first);
  rmSync(second);
  await built.close();
}
