/**
 * crewshipd's process families from a Go daemon, through the Collector: test/peers/go-daemon runs
 * the OpenTelemetry Go runtime instrumentation (go.opentelemetry.io/contrib/instrumentation/runtime,
 * its semconv `go.*` set and, with OTEL_GO_X_DEPRECATED_RUNTIME_METRICS=true, its deprecated one)
 * and pushes to a real Collector running `jobmeter collector-config --profile crewshipd`. The
 * Collector's prometheus exporter serves crewshipd's five process families, each checked against
 * the figures the daemon's Go runtime reports itself (`runtime.MemStats`, `NumGoroutine`) right
 * after its last push, and the `hostname` label from the Collector's host (resourcedetection).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import {
  GENERATED_PORTS,
  generatedCollectorConfig,
  startCollector,
  type CollectorHandle,
} from '../support/collector.ts';
import { goDaemonBinary } from '../support/peers.ts';

interface RuntimeFigures {
  goroutines: number;
  heapAlloc: number;
  sys: number;
  heapReleased: number;
  numGC: number;
}

let collector: CollectorHandle<'otlp' | 'prom' | 'health' | 'telemetry'> | undefined;
let figures: RuntimeFigures | undefined;
let served = '';

async function runDaemon(endpoint: string, deprecated: boolean): Promise<RuntimeFigures> {
  const env = { ...process.env, OTEL_GO_X_DEPRECATED_RUNTIME_METRICS: String(deprecated) };
  const child = spawn(goDaemonBinary(), [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(JSON.stringify({ endpoint, service: 'crewshipd', runtime: true, pushes: 2 }));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, `go-daemon exited ${code}:\n${stderr}`);
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as RuntimeFigures;
}

/** `name{labels} value` lines of one family, and its TYPE. */
function family(
  text: string,
  name: string,
): { type: string | undefined; samples: { labels: string; value: number }[] } {
  const type = new RegExp(`^# TYPE ${name} (\\S+)$`, 'm').exec(text)?.[1];
  const samples = [...text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))].map(
    (m) => ({ labels: m[1] ?? '', value: Number(m[2]) }),
  );
  return { type, samples };
}

before(async () => {
  collector = await startCollector({
    ports: ['otlp', 'prom', ...GENERATED_PORTS],
    config: (p) => generatedCollectorConfig('crewshipd', p),
  });
  figures = await runDaemon(`http://127.0.0.1:${collector.ports.otlp}/v1/metrics`, true);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && !/^crewshipd_gc_runs_total/m.test(served)) {
    served = await (
      await fetch(`http://127.0.0.1:${collector.ports.prom}/metrics`, {
        signal: AbortSignal.timeout(10_000),
      })
    ).text();
    await new Promise((r) => setTimeout(r, 200));
  }
});

after(async () => {
  await collector?.stop();
});

describe("crewshipd's process families from a Go daemon's runtime instrumentation, through the generated Collector configuration", () => {
  it('every one is served once, as the seed types it, with the hostname of the host the Collector runs on', () => {
    const expected: Record<string, string> = {
      crewshipd_uptime_seconds: 'gauge',
      crewshipd_goroutines: 'gauge',
      crewshipd_memory_alloc_bytes: 'gauge',
      crewshipd_memory_sys_bytes: 'gauge',
      crewshipd_gc_runs_total: 'counter',
    };
    for (const [name, type] of Object.entries(expected)) {
      const f = family(served, name);
      assert.equal(f.type, type, `${name}\n${served}`);
      assert.equal(f.samples.length, 1, `${name}: ${JSON.stringify(f.samples)}`);
      // `job` is the exporter's, from the resource's service.name.
      assert.equal(f.samples[0]!.labels, `{hostname="${hostname()}",job="crewshipd"}`, name);
    }
    // The Go names are renamed, not served beside crewshipd's.
    assert.doesNotMatch(served, /^(go_|process_runtime_go_|runtime_uptime)/m);
  });

  it("the values are the Go runtime's own: GC count exactly, goroutines, heap in use and memory from the OS within what one collection apart can move", () => {
    const f = figures!;
    const value = (name: string): number => family(served, name).samples[0]!.value;
    // The runtime's last collection and the figures printed after shutdown are moments apart.
    const gc = value('crewshipd_gc_runs_total');
    assert.ok(gc <= f.numGC && gc >= f.numGC - 1, `gc ${gc}, NumGC ${f.numGC}`);
    const goroutines = value('crewshipd_goroutines');
    assert.ok(
      goroutines >= 1 && Math.abs(goroutines - f.goroutines) <= 20,
      `goroutines ${goroutines}, NumGoroutine ${f.goroutines}`,
    );
    const alloc = value('crewshipd_memory_alloc_bytes');
    assert.ok(
      alloc > f.heapAlloc / 4 && alloc < f.heapAlloc * 4,
      `alloc ${alloc}, HeapAlloc ${f.heapAlloc}`,
    );
    // go.memory.used summed over go.memory.type: what the runtime holds from the OS, less what the heap released.
    const sys = value('crewshipd_memory_sys_bytes');
    assert.ok(
      sys <= f.sys && sys >= (f.sys - f.heapReleased) / 2,
      `sys ${sys}, Sys ${f.sys}, HeapReleased ${f.heapReleased}`,
    );
    const uptime = value('crewshipd_uptime_seconds');
    assert.ok(uptime > 0 && uptime < 60, `uptime ${uptime} s`);
  });
});
