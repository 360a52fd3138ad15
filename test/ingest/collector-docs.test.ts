/**
 * docs/collector.md's generated blocks (canonical instruments, expected debug exporter output) are
 * what test/ingest/collector-docs.ts renders now, and the sample is what jobmeter really pushes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DOMAIN_INSTRUMENTS } from '../../src/domain/catalog.ts';
import { PROCESS_INSTRUMENTS } from '../../src/domain/process-metrics.ts';
import { decodeExportRequest } from '../../src/otlp/codec.ts';
import {
  COLLECTOR_DOC,
  REGENERATE,
  renderBlocks,
  sampleRequest,
  updateDoc,
} from './collector-docs.ts';

describe('docs/collector.md', () => {
  it(`its generated blocks are up to date (run: ${REGENERATE})`, async () => {
    const doc = readFileSync(COLLECTOR_DOC, 'utf8');
    assert.equal(
      doc,
      updateDoc(doc, await renderBlocks()),
      `docs/collector.md is out of date; run: ${REGENERATE}`,
    );
  });

  it('lists every canonical instrument', () => {
    const doc = readFileSync(COLLECTOR_DOC, 'utf8');
    for (const spec of [...DOMAIN_INSTRUMENTS, ...PROCESS_INSTRUMENTS])
      assert.ok(doc.includes(`| \`${spec.name}\` |`), spec.name);
  });

  it('the sample is the profile series jobmeter pushes, in protobuf and JSON alike', async () => {
    const { protobuf, json } = await sampleRequest();
    const fromProtobuf = decodeExportRequest(protobuf, 'protobuf');
    assert.deepEqual(decodeExportRequest(json, 'json'), fromProtobuf);
    const names = fromProtobuf.resourceMetrics.flatMap((rm) =>
      rm.scopeMetrics.flatMap((sm) => sm.metrics.map((m) => m.name)),
    );
    assert.deepEqual(names, [
      'solti_runner_errors_total',
      'solti_runner_task_duration_seconds',
      'solti_runner_tasks_completed_total',
      'solti_runner_tasks_started_total',
    ]);
    const doc = readFileSync(COLLECTOR_DOC, 'utf8');
    for (const name of names) assert.ok(doc.includes(`     -> Name: ${name}\n`), name);
  });
});
