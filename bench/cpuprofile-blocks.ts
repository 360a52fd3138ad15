/**
 * The event-loop blocks in a V8 `.cpuprofile`, and what ran in each. The blocks are the spans
 * loop-blocks.ts saw (`<profile>.blocks.json`, written by the event-loop scenario when both
 * BENCH_CPU_PROF and BENCH_LOOP_BLOCKS are set); without that file, runs of samples with no
 * `(idle)` one between them (the sampler thread misses samples on a loaded machine, so those runs
 * are rougher). For each block: its length, self time per function and the inclusive time of the
 * functions that frame it (the handler, the renderer, the socket write, GC), so a 30 ms stall can
 * be attributed to what held the thread rather than guessed.
 *
 *   BENCH_LOOP_BLOCKS=15 BENCH_CPU_PROF=/tmp/el.cpuprofile node --expose-gc bench/event-loop.ts jobmeter-socket
 *   node bench/cpuprofile-blocks.ts /tmp/el.cpuprofile [threshold ms=15] [top=8]
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { keyOf, type Profile } from './cpuprofile.ts';

/** `startTime` (µs) places the samples on the clock the blocks were recorded on. */
interface TimedProfile extends Profile {
  readonly startTime: number;
}

interface Span {
  readonly startUs: number;
  readonly ms: number;
}

function top(m: Map<string, number>, n: number, total: number): string {
  return [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => `${(us / 1000).toFixed(1)} ms (${((100 * us) / total).toFixed(0)}%) ${k}`)
    .join('\n      ');
}

export function blocks(
  p: TimedProfile,
  thresholdMs: number,
  n: number,
  given?: readonly Span[],
): string {
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const parent = new Map<number, number>();
  for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
  const isIdle = (id: number) => byId.get(id)!.callFrame.functionName === '(idle)';
  const out: string[] = [];
  let t = 0;
  const at: number[] = [];
  for (let k = 0; k < p.samples.length; k++) at.push((t += p.timeDeltas[k] ?? 0));
  // Spans as sample index ranges [i, j): given ones by their timestamps, else busy runs.
  const ranges: { i: number; j: number; us: number; offUs: number }[] = [];
  if (given !== undefined) {
    for (const s of given) {
      if (s.ms < thresholdMs) continue;
      const from = s.startUs - p.startTime;
      const to = from + s.ms * 1000;
      const a = at.findIndex((x) => x >= from);
      if (a === -1) continue;
      let b = a;
      while (b < at.length && at[b]! <= to) b++;
      ranges.push({ i: a, j: b, us: s.ms * 1000, offUs: from });
    }
  } else {
    let i = 0;
    while (i < p.samples.length) {
      if (isIdle(p.samples[i]!)) {
        i++;
        continue;
      }
      let j = i;
      while (j < p.samples.length && !isIdle(p.samples[j]!)) j++;
      // Samples i..j-1 are busy; the block lasts from sample i to the idle sample j.
      const us = (at[j] ?? at[j - 1]!) - at[i]!;
      if (us >= thresholdMs * 1000) ranges.push({ i, j, us, offUs: at[i]! });
      i = j;
    }
  }
  let count = 0;
  for (const { i, j, us, offUs } of ranges) {
    count++;
    const self = new Map<string, number>();
    const incl = new Map<string, number>();
    for (let k = i; k < j; k++) {
      const dt = (at[k + 1] ?? at[k]!) - at[k]!;
      const leaf = p.samples[k]!;
      const sk = keyOf(byId.get(leaf)!.callFrame);
      self.set(sk, (self.get(sk) ?? 0) + dt);
      const seen = new Set<string>();
      for (let x: number | undefined = leaf; x !== undefined; x = parent.get(x)) {
        const key = keyOf(byId.get(x)!.callFrame);
        if (key === '(root)' || seen.has(key)) continue;
        seen.add(key);
        incl.set(key, (incl.get(key) ?? 0) + dt);
      }
    }
    let sampled = 0;
    for (const v of self.values()) sampled += v;
    out.push(
      `block ${count}: ${(us / 1000).toFixed(1)} ms at +${(offUs / 1000).toFixed(0)} ms (${j - i} samples, ${(sampled / 1000).toFixed(1)} ms)\n    self:\n      ${top(self, n, Math.max(1, sampled))}\n    inclusive:\n      ${top(incl, n * 2, Math.max(1, sampled))}`,
    );
  }
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, threshold = '15', n = '8'] = process.argv.slice(2);
  if (file === undefined)
    throw new Error(
      'usage: node bench/cpuprofile-blocks.ts <file.cpuprofile> [threshold ms] [top]',
    );
  const p = JSON.parse(await readFile(file, 'utf8')) as TimedProfile;
  const spans = existsSync(file + '.blocks.json')
    ? (JSON.parse(await readFile(file + '.blocks.json', 'utf8')) as Span[])
    : undefined;
  console.log(blocks(p, Number(threshold), Number(n), spans));
}
