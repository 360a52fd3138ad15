/**
 * The Python OpenMetrics parser harness against known bodies: it accepts a valid exposition and
 * rejects each fault the property test relies on it to catch.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startOpenMetricsParser, type OpenMetricsParser } from './openmetrics-python.ts';

const VALID = [
  '# TYPE jobs counter',
  '# HELP jobs Jobs run.',
  'jobs_total{queue="we\\"ird\\\\path\\nline2"} 3',
  '# TYPE latency_seconds histogram',
  '# UNIT latency_seconds seconds',
  'latency_seconds_bucket{le="0.1"} 1',
  'latency_seconds_bucket{le="+Inf"} 2',
  'latency_seconds_sum 0.35',
  'latency_seconds_count 2',
  '# TYPE target info',
  'target_info{service_name="x"} 1',
  '# EOF',
  '',
].join('\n');

let parser: OpenMetricsParser;
before(async () => {
  parser = await startOpenMetricsParser();
});
after(() => parser.close());

test('accepts a valid exposition and counts its families', async () => {
  assert.deepEqual(await parser.check(VALID), { families: 3 });
});

const FAULTS: ReadonlyArray<[string, string, RegExp]> = [
  ['no # EOF', VALID.replace('# EOF\n', ''), /EOF/],
  [
    '_count is not the +Inf bucket',
    VALID.replace('latency_seconds_count 2', 'latency_seconds_count 3'),
    /Count does not match/,
  ],
  ['a bucket above +Inf', VALID.replace('le="0.1"} 1', 'le="0.1"} 5'), /out of order/],
  [
    'a second family of one name',
    VALID.replace('# TYPE target info', '# TYPE jobs gauge\n# TYPE target info'),
    /Clashing name/,
  ],
  ['a negative counter', VALID.replace('line2"} 3', 'line2"} -3'), /negative/],
  [
    'a duplicate label name',
    VALID.replace('{service_name="x"}', '{a="x",a="y"}'),
    /Invalid labels/,
  ],
];

for (const [what, body, why] of FAULTS) {
  test(`rejects ${what}`, async () => {
    const { error } = await parser.check(body);
    assert.match(error ?? '(accepted)', why);
  });
}
