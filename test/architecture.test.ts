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
  domain: [],
  views: ['domain'],
  exposition: [],
  // The exposition model it produces.
  naming: ['domain', 'exposition'],
  // OTLP codecs; the profile-named push reads the exposition model back into OTLP.
  otlp: ['domain', 'exposition'],
  readers: ['domain', 'otlp'],
  cluster: ['domain'],
  // An OTLP/HTTP listener: the HTTP stage's server limits; the views' bounds for what it ingests.
  ingest: ['domain', 'views', 'otlp', 'http'],
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
  const stages = new Set(readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name));
  assert.deepEqual([...stages].sort(), Object.keys(ALLOWED).sort(), 'every folder of src/ has a row in ALLOWED (and nothing else does)');
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
        if (allowed !== COMPOSITION && !SHARED.has(to.slice(1))) wrong.push(`${relative(SRC, file)} imports the composition file ${to.slice(1)}`);
        continue;
      }
      if (allowed !== COMPOSITION && !allowed.includes(to)) wrong.push(`${relative(SRC, file)} imports ${relative(SRC, target)} (${from} → ${to})`);
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
    const targets = [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((m) => relative(SRC, normalize(join(dirname(file), m[1] ?? m[2]!))));
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
  assert.deepEqual(importCycles(new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]])), [['a.ts', 'b.ts', 'c.ts']]);
  assert.deepEqual(importCycles(new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', []]])), []);
});

test('no import circles between files of src/ (type imports included)', () => {
  assert.deepEqual(importCycles(importGraph()), []);
});
