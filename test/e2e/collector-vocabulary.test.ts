/**
 * Why jobmeter's canonical push keeps a zero that a point outside a profile's closed sets would
 * have replaced (naming/zero-fill-push.ts `survivor`), shown on the real Collector (the release
 * pinned in test/peers/versions.env) running `jobmeter collector-config --profile runwisp`: its
 * `filter/vocabulary` drops a host producer's run-history point whose `kind` runwisp does not
 * know, so nothing of it reaches the prometheus exporter; a point inside the vocabulary comes
 * through, and the zero the push carries beside the dropped point is what the exporter serves, as
 * the pull endpoint serves it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { DOMAIN_INSTRUMENTS } from '../../src/domain/catalog.ts';
import { LEGACY_PROFILES } from '../../src/naming/profiles/index.ts';
import { createPushZeroFill } from '../../src/naming/zero-fill-push.ts';
import { pushSerializer } from '../../src/otlp/push-serializer.ts';
import {
  GENERATED_PORTS,
  generatedCollectorConfig,
  startCollector,
  type CollectorHandle,
} from '../support/collector.ts';
import { runHistory } from '../support/run-history.ts';

const SCOPE = { name: 'jobmeter', version: '0.0.0-test' };
const RESOURCE = resourceFromAttributes({
  'service.name': 'runwisp-daemon',
  'service.instance.id': 'daemon-1',
});
/** runwisp's closed set for `kind` (its table's `vocabularies`): `bogus` is outside it. */
const OUTSIDE = { outcome: 'success', kind: 'bogus' };
const INSIDE = { outcome: 'failure', kind: 'task' };

/** `jobmeter.run.history` (runwisp's `runwisp_runs_total`) with these points, cumulative, stamped now. */
const history = (points: readonly [Record<string, string>, number][]): ResourceMetrics =>
  runHistory(RESOURCE, SCOPE, points, [
    [1_700_000_000, 0],
    [Math.floor(Date.now() / 1000), 0],
  ]);

/** `runwisp_runs_total`'s sample lines the exporter serves, by `status`. */
function runsByStatus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^runwisp_runs_total\{([^}]*)\} (\S+)$/gm)) {
    const status = /\bstatus="([^"]*)"/.exec(m[1]!)?.[1] ?? '';
    out.set(status, Number(m[2]));
  }
  return out;
}

describe("the real Collector's filter/vocabulary drops a point outside runwisp's closed sets", () => {
  let collector: CollectorHandle<'otlp' | 'prom' | 'health' | 'telemetry'> | undefined;
  const serialize = pushSerializer('http/json');

  before(async () => {
    collector = await startCollector({
      ports: ['otlp', 'prom', ...GENERATED_PORTS],
      config: (p) => generatedCollectorConfig('runwisp', p),
    });
  });
  after(async () => {
    await collector?.stop();
  });

  async function push(rm: ResourceMetrics): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${collector!.ports.otlp}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: serialize.serializeRequest(rm)!,
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    assert.equal(res.status, 200, collector!.logs());
  }

  /** Scrapes the exporter until `runwisp_runs_total` has the `status` series `ready` waits for. */
  async function servedOnce(ready: (runs: Map<string, number>) => boolean): Promise<string> {
    let text = '';
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`http://127.0.0.1:${collector!.ports.prom}/metrics`, {
        signal: AbortSignal.timeout(10_000),
      });
      text = await res.text();
      if (ready(runsByStatus(text))) return text;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`the exporter never served what was pushed:\n${text}\n${collector!.logs()}`);
  }

  it('a point without the zero fill: only the point inside the vocabulary comes through', async () => {
    await push(
      history([
        [INSIDE, 2],
        [OUTSIDE, 3],
      ]),
    );
    const text = await servedOnce((runs) => runs.has('failed'));
    assert.deepEqual([...runsByStatus(text)], [['failed', 2]], text);
    assert.doesNotMatch(text, /bogus/, text);
  });

  it("with the canonical push's zero fill, the zero stands where the dropped point would have been", async () => {
    const zeros = createPushZeroFill(LEGACY_PROFILES.runwisp, {
      specs: DOMAIN_INSTRUMENTS,
      scope: SCOPE,
    });
    await push(
      zeros(
        history([
          [INSIDE, 2],
          [OUTSIDE, 3],
        ]),
      ),
    );
    const text = await servedOnce((runs) => runs.has('success'));
    assert.deepEqual(
      [...runsByStatus(text)].sort(),
      [
        ['failed', 2],
        ['success', 0],
      ],
      text,
    );
    assert.doesNotMatch(text, /bogus/, text);
  });
});
