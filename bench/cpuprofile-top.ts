/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof` or `BENCH_CPU_PROF`): the functions with
 * the most self time, the most inclusive time, and self time per file.
 *
 *   node bench/cpuprofile-top.ts <file.cpuprofile> [top=25]
 */
import { readFile } from 'node:fs/promises';
import { markdownTable } from './harness.ts';
import { keyOf, where, type Profile } from './cpuprofile.ts';

function summarise(p: Profile, top: number): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Self time per node: each sample's time (the delta to the next sample) goes to its leaf node.
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    totalUs += dt;
    selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + dt);
  }

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const perFile = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const f = byId.get(id)!.callFrame;
    self.set(keyOf(f), (self.get(keyOf(f)) ?? 0) + us);
    perFile.set(where(f), (perFile.get(where(f)) ?? 0) + us);
    // Inclusive: every distinct function on the stack gets the sample once (recursion counted once).
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const k = keyOf(byId.get(n)!.callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }

  const rows = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => [k, (us / 1000).toFixed(1), ((100 * us) / totalUs).toFixed(1) + '%']);
  return [
    `${(totalUs / 1000).toFixed(0)} ms sampled (${p.samples.length} samples)`,
    '',
    '### Self time',
    '',
    markdownTable(['function', 'ms', '%'], rows(self)),
    '',
    '### Inclusive time',
    '',
    markdownTable(['function', 'ms', '%'], rows(inclusive)),
    '',
    '### Self time per file',
    '',
    markdownTable(['file', 'ms', '%'], rows(perFile)),
  ].join('\n');
}

const [file, top] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: node bench/cpuprofile-top.ts <file.cpuprofile> [top=25]');
  process.exit(2);
}
console.log(summarise(JSON.parse(await readFile(file, 'utf8')) as Profile, Number(top ?? 25)));
