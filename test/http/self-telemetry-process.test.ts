/**
 * Issue 60 point 4: the self-telemetry serves the process' start time under Prometheus' own name
 * (`process_start_time_seconds`, what `time() - process_start_time_seconds` reads) and its heap
 * under the Collector's (`otelcol_process_runtime_heap_alloc_bytes`, here jobmeter_'s), and its
 * open and max file descriptors under client_golang's (`process_open_fds`, `process_max_fds`),
 * each with the figure of this process: read against what Node and /proc say at the same collection.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

import { SelfTelemetry } from '../../src/http/self-telemetry.ts';

async function valueOf(telemetry: SelfTelemetry, name: string) {
  const family = (await telemetry.families()).find((f) => f.name === name);
  assert.ok(family, `${name} is served`);
  assert.equal(family.type, 'gauge');
  assert.equal(family.series.length, 1);
  const [series] = family.series;
  assert.ok(series !== undefined && 'value' in series);
  return series.value;
}

test('process_start_time_seconds is when this process started, in Unix seconds', async () => {
  const telemetry = new SelfTelemetry({});
  const started = Date.now() / 1000 - process.uptime();
  const served = await valueOf(telemetry, 'process_start_time_seconds');
  // Whole seconds, as the Prometheus clients serve it.
  assert.equal(served, Math.round(served));
  assert.ok(Math.abs(served - started) <= 1, `${served} vs ${started}`);
});

test('jobmeter_process_runtime_heap_alloc_bytes follows the V8 heap in use', async () => {
  const telemetry = new SelfTelemetry({});
  const before = process.memoryUsage().heapUsed;
  const first = await valueOf(telemetry, 'jobmeter_process_runtime_heap_alloc_bytes');
  assert.ok(first > 1e6 && first < 2 * process.memoryUsage().heapTotal, String(first));
  // 64 MiB held across the next collection: the served heap grows by about as much.
  const held = Array.from({ length: 1 << 20 }, (_, i) => ({ i, s: `x${i}` }));
  const second = await valueOf(telemetry, 'jobmeter_process_runtime_heap_alloc_bytes');
  assert.ok(second - Math.max(first, before) > 32 * 2 ** 20, `${first} -> ${second}`);
  assert.equal(held.length, 1 << 20);
});

test('process_open_fds and process_max_fds follow the descriptors this process holds', async () => {
  const telemetry = new SelfTelemetry({});
  const limit = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))![1];
  assert.equal(await valueOf(telemetry, 'process_max_fds'), Number(limit));
  const first = await valueOf(telemetry, 'process_open_fds');
  assert.equal(first, readdirSync('/proc/self/fd').length - 1);
  // 20 more held open across the next collection: served 20 more.
  const held = Array.from({ length: 20 }, () => openSync('/proc/self/status', 'r'));
  try {
    assert.equal(await valueOf(telemetry, 'process_open_fds'), first + 20);
  } finally {
    held.forEach((fd) => closeSync(fd));
  }
});
