/**
 * A reload applies exactly the file's values and names what changed against what is in force:
 * rotating a credential A → B → A puts A back in force (and says so), and a reload after a
 * rotation, with nothing changed since, says `unchanged` rather than naming the rotated key again.
 * Held for the ingest gate's token and API keys and the metrics route's token, by SIGHUP and by
 * `POST /-/reload` alike (one re-read). A child `jobmeter serve`: its ingest posted a real OTLP
 * body, its metrics route scraped, each with every credential, after every reload; no secret is
 * ever printed.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, it } from 'node:test';

import { EXIT_MS, killChildren, START_MS } from './harness.ts';
import { serveWithIngest } from '../support/serve.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-token-rollback-');
afterEach(killChildren);

const TELEMETRY = /serving jobmeter's own telemetry on (http:\/\/\S+)\/metrics\n/;

/** One gauge point of one resource: a body the ingest accepts once the gate lets it through. */
function otlpBody(): string {
  return JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'rollback' } }] },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'queue.depth',
                gauge: { dataPoints: [{ asDouble: 1, timeUnixNano: `${Date.now()}000000` }] },
              },
            ],
          },
        ],
      },
    ],
  });
}

const INGEST_A = 'INGESTTOKENAAAA';
const INGEST_B = 'INGESTTOKENBBBB';
const KEY_A = 'INGESTKEYAAAA';
const KEY_B = 'INGESTKEYBBBB';
const METRICS_A = 'METRICSTOKENAAAA';
const METRICS_B = 'METRICSTOKENBBBB';
const SECRETS = [INGEST_A, INGEST_B, KEY_A, KEY_B, METRICS_A, METRICS_B];

for (const trigger of ['SIGHUP', 'POST /-/reload'] as const) {
  it(
    `${trigger}: rotating the ingest token, API keys and metrics token A → B → A puts A back in force, and a reload with nothing changed says unchanged`,
    { timeout: 180_000 },
    async () => {
      const ingestToken = await files.file(`ingest-token-${trigger.length}`, `${INGEST_A}\n`);
      const ingestKeys = await files.file(`ingest-keys-${trigger.length}`, `ops:${KEY_A}\n`);
      const metricsToken = await files.file(`metrics-token-${trigger.length}`, `${METRICS_A}\n`);
      const serving = await serveWithIngest(files, {
        lines: [
          'state_dir = false',
          `token_file = "${ingestToken}"`,
          `api_keys_file = "${ingestKeys}"`,
          '[metrics]',
          `token_file = "${metricsToken}"`,
          '[telemetry]',
          'enable_reload = true',
        ],
      });
      const { child } = serving;
      const [, origin] = await child.stderrMatches(TELEMETRY, START_MS);
      await child.stderrMatches(/re-reads the configuration as SIGHUP does\n/, START_MS);

      const post = async (credential?: string): Promise<number> => {
        const res = await fetch(`http://127.0.0.1:${serving.ingestPort}/v1/metrics`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(credential !== undefined && { authorization: `Bearer ${credential}` }),
          },
          body: otlpBody(),
        });
        await res.arrayBuffer();
        return res.status;
      };
      const scrape = async (credential: string): Promise<number> => {
        const res = await fetch(`http://127.0.0.1:${serving.pullPort}/metrics`, {
          headers: { authorization: `Bearer ${credential}` },
        });
        await res.arrayBuffer();
        return res.status;
      };
      /** Who gets in, by credential: the ingest's token and keys, the metrics route's token. */
      const inForce = async (): Promise<Record<string, number>> => ({
        none: await post(),
        [INGEST_A]: await post(INGEST_A),
        [INGEST_B]: await post(INGEST_B),
        [KEY_A]: await post(KEY_A),
        [KEY_B]: await post(KEY_B),
        [`scrape ${METRICS_A}`]: await scrape(METRICS_A),
        [`scrape ${METRICS_B}`]: await scrape(METRICS_B),
      });
      const expect = (
        ingestToken: string,
        key: string,
        metrics: string,
      ): Record<string, number> => ({
        none: 401,
        [INGEST_A]: ingestToken === INGEST_A ? 200 : 401,
        [INGEST_B]: ingestToken === INGEST_B ? 200 : 401,
        [KEY_A]: key === KEY_A ? 200 : 401,
        [KEY_B]: key === KEY_B ? 200 : 401,
        [`scrape ${METRICS_A}`]: metrics === METRICS_A ? 200 : 401,
        [`scrape ${METRICS_B}`]: metrics === METRICS_B ? 200 : 401,
      });

      const prefix = `jobmeter: ${trigger}: `;
      const lines = (): string[] =>
        child
          .stderr()
          .split('\n')
          .filter((l) => l.startsWith(prefix));
      let reloads = 0;
      /** One reload by `trigger`; what its line says after the trigger. */
      const reload = async (): Promise<string> => {
        reloads++;
        let answered: string | undefined;
        if (trigger === 'SIGHUP') child.child.kill('SIGHUP');
        else {
          const res = await fetch(`${origin}/-/reload`, { method: 'POST' });
          answered = await res.text();
          assert.equal(res.status, 200, answered);
        }
        // Stderr and the HTTP answer are two channels: the line is awaited, never assumed there.
        const deadline = Date.now() + START_MS;
        while (lines().length < reloads && Date.now() < deadline) await sleep(20);
        const line = lines()[reloads - 1];
        assert.ok(line !== undefined, `no line for reload ${reloads}; stderr:\n${child.stderr()}`);
        const said = line.slice(prefix.length);
        if (answered !== undefined) assert.equal(answered, `${said}\n`, 'the answer is the line');
        return said;
      };

      assert.deepEqual(await inForce(), expect(INGEST_A, KEY_A, METRICS_A), 'at start');
      assert.equal(await reload(), 'configuration re-read: unchanged');

      await writeFile(ingestToken, `${INGEST_B}\n`);
      assert.equal(await reload(), 'configuration re-read; applied now: [ingest] token');
      assert.deepEqual(await inForce(), expect(INGEST_B, KEY_A, METRICS_A), 'ingest token A → B');
      assert.equal(
        await reload(),
        'configuration re-read: unchanged',
        'B is in force and in the file: nothing changed',
      );

      await writeFile(ingestToken, `${INGEST_A}\n`);
      assert.equal(
        await reload(),
        'configuration re-read; applied now: [ingest] token',
        'B → A is a change',
      );
      assert.deepEqual(await inForce(), expect(INGEST_A, KEY_A, METRICS_A), 'ingest token B → A');
      assert.equal(await reload(), 'configuration re-read: unchanged');

      await writeFile(ingestKeys, `ops:${KEY_B}\n`);
      await writeFile(metricsToken, `${METRICS_B}\n`);
      assert.equal(
        await reload(),
        'configuration re-read; applied now: [metrics] token, [ingest] api_keys',
      );
      assert.deepEqual(
        await inForce(),
        expect(INGEST_A, KEY_B, METRICS_B),
        'API key and metrics token A → B',
      );
      assert.equal(await reload(), 'configuration re-read: unchanged');

      await writeFile(ingestKeys, `ops:${KEY_A}\n`);
      await writeFile(metricsToken, `${METRICS_A}\n`);
      assert.equal(
        await reload(),
        'configuration re-read; applied now: [metrics] token, [ingest] api_keys',
      );
      assert.deepEqual(
        await inForce(),
        expect(INGEST_A, KEY_A, METRICS_A),
        'API key and metrics token B → A',
      );
      assert.equal(await reload(), 'configuration re-read: unchanged');

      for (const secret of SECRETS)
        assert.ok(!child.stderr().includes(secret), 'no secret printed');
      child.child.kill('SIGTERM');
      assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
    },
  );
}
