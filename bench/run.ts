/**
 * Runs every scenario (or those named on the command line) and regenerates their tables in
 * bench/README.md, between `<!-- bench:<scenario>:start -->` and `<!-- bench:<scenario>:end -->`
 * (the prose around them stays), and redraws bench/pictures/ when a table they draw changed.
 * Prints the tables too.
 *
 *   npm run bench                              everything, rewrites the README (≈ 25–30 min)
 *   npm run bench -- scrape heap               only these scenarios (only their sections change)
 *   BENCH_QUICK=1 npm run bench                smoke run: small N, few runs; README untouched
 *   BENCH_QUICK=1 BENCH_WRITE=1 npm run bench  … written anyway
 *
 * Each job runs in a fresh child process (see harness.ts), so this process only orchestrates.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { QUICK, log, runScenario, type AnyScenario } from './harness.ts';
import { sectionOf } from './readme-sections.ts';
import { targetsTable, type MeasuredTarget } from './targets.ts';
import { scenario as churn } from './churn.ts';
import { scenario as clusterScenario } from './cluster.ts';
import { scenario as collector } from './collector.ts';
import { scenario as eventLoop } from './event-loop.ts';
import { scenario as heap } from './heap.ts';
import { scenario as heapChurn } from './heap-churn.ts';
import { scenario as ingestBig } from './ingest-big.ts';
import { scenario as integrations } from './integrations.ts';
import { scenario as otlp } from './otlp.ts';
import { scenario as recordCounter } from './record-counter.ts';
import { scenario as recordDomain } from './record-domain.ts';
import { scenario as recordHistogram } from './record-histogram.ts';
import { scenario as scrape } from './scrape.ts';
import { scenario as scrapeChanges } from './scrape-changes.ts';
import { scenario as scrapeHttp } from './scrape-http.ts';
import { scenario as startup } from './startup.ts';
import { scenario as throughput } from './throughput.ts';

const SCENARIOS: readonly AnyScenario[] = [
  recordCounter,
  recordHistogram,
  recordDomain,
  scrape,
  scrapeChanges,
  scrapeHttp,
  eventLoop,
  heap,
  heapChurn,
  churn,
  throughput,
  otlp,
  collector,
  clusterScenario,
  ingestBig,
  integrations,
  startup,
];
const README = fileURLToPath(new URL('./README.md', import.meta.url));
/** Scenarios whose tables bench/pictures/ draws (scripts/bench-pictures/render.ts). */
const PICTURED: readonly string[] = [scrape.name, scrapeChanges.name];
/** The README section the targets table (bench/targets.ts) lives in. */
const TARGETS_SECTION = 'targets';

function fileOf(s: AnyScenario): string {
  return fileURLToPath(new URL(`./${s.name}.ts`, import.meta.url));
}

function machine(): string {
  const cpu = cpus();
  return `Node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}`;
}

/** The contenders' versions, as installed (what was measured, not what package.json allows). */
function contenderVersions(): string {
  // Read from node_modules: some packages' `exports` do not list their package.json.
  const version = (pkg: string) => {
    try {
      return `${pkg} ${(JSON.parse(readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')) as { version: string }).version}`;
    } catch {
      return `${pkg} (not installed)`;
    }
  };
  return [
    '@prometheus-io/client',
    'prom-client',
    '@opentelemetry/sdk-metrics',
    '@opentelemetry/exporter-prometheus',
  ]
    .map(version)
    .join(', ');
}

/** Which jobmeter was measured: the commit, and whether src/ differed from it. */
function revision(): string {
  return `jobmeter ${commit()}`;
}

/** The short commit, `+ uncommitted src/ changes` when src/ differed from it. */
function commit(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        encoding: 'utf8',
      }).trim();
    const dirty = git('status', '--porcelain', '--', 'src') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' + uncommitted src/ changes' : ''}`;
  } catch {
    return '(no git revision)';
  }
}

function replaceSection(readme: string, name: string, body: string): string {
  const at = sectionOf(readme, name);
  if (at === undefined)
    throw new Error(
      `bench/README.md: markers <!-- bench:${name}:start --> … <!-- bench:${name}:end --> not found`,
    );
  return readme.slice(0, at.from) + '\n' + body + '\n' + readme.slice(at.to);
}

async function main(): Promise<void> {
  if (typeof globalThis.gc !== 'function')
    throw new Error('run with node --expose-gc (npm run bench does)');
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const unknown = wanted.filter((w) => !SCENARIOS.some((s) => s.name === w));
  if (unknown.length > 0)
    throw new Error(
      `unknown scenario ${unknown.join(', ')}; scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`,
    );
  const chosen = wanted.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => wanted.includes(s.name));
  const write = process.env.BENCH_WRITE !== undefined ? process.env.BENCH_WRITE === '1' : !QUICK;
  // The startup and ingest scenarios run the package as installed (dist/): built from src/ now,
  // before any scenario, so a run measures this checkout and never fails an hour in on a missing
  // or stale dist/.
  log('building dist/ (node scripts/build.ts)');
  execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/build.ts', import.meta.url))], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: 'inherit',
  });

  const t0 = performance.now();
  const sections: [AnyScenario, string][] = [];
  const measured: MeasuredTarget[] = [];
  for (const s of chosen) {
    log(`${s.name}${QUICK ? ' (quick)' : ''}`);
    const load0 = loadavg()[0]!;
    const s0 = performance.now();
    const { table, targets } = await runScenario(fileOf(s), s, QUICK);
    const load1 = loadavg()[0]!;
    const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
    const footer = `<sub>${QUICK ? '**Quick smoke run (BENCH_QUICK=1), not for comparison.** ' : ''}${when} UTC, ${revision()}, ${contenderVersions()}, ${machine()}, 1-min load average ${load0.toFixed(2)} → ${load1.toFixed(2)}, ${((performance.now() - s0) / 1000).toFixed(0)} s.</sub>`;
    sections.push([s, table + '\n\n' + footer]);
    const run = `${QUICK ? 'quick run, ' : ''}${commit()}, ${when} UTC`;
    for (const result of targets) measured.push({ result, run });
  }
  const took = ((performance.now() - t0) / 1000).toFixed(0);

  for (const [s, body] of sections) console.log(`\n### ${s.title}\n\n${body}`);
  if (measured.length > 0)
    console.log(`\n### Targets measured in this run\n\n${targetsTable(measured)}`);
  if (write) {
    let readme = await readFile(README, 'utf8');
    for (const [s, body] of sections) readme = replaceSection(readme, s.name, body);
    if (measured.length > 0) {
      const at = sectionOf(readme, TARGETS_SECTION);
      readme = replaceSection(
        readme,
        TARGETS_SECTION,
        targetsTable(measured, at === undefined ? '' : readme.slice(at.from, at.to)),
      );
    }
    await writeFile(README, readme);
    log(
      `\nbench/README.md updated (${sections.map(([s]) => s.name).join(', ')}); ${took} s in all`,
    );
    if (sections.some(([s]) => PICTURED.includes(s.name))) {
      // Loaded only here: drawing needs vega and resvg, the runs do not.
      const { writeBenchPictures } = await import('../scripts/bench-pictures/render.ts');
      for (const path of await writeBenchPictures(README))
        log(`${path} redrawn from the new tables`);
    }
  } else {
    log(
      `\n${took} s in all; bench/README.md not written (quick run; BENCH_WRITE=1 to write anyway)`,
    );
  }
}

await main();
