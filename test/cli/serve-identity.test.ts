/**
 * `jobmeter serve` names itself by `[resource_attributes] "service.name"` as it does by
 * OTEL_RESOURCE_ATTRIBUTES' (test/config/service-name.test.ts has the precedence rules).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import { killChildren, start, START_MS } from './harness.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-serve-identity-');
afterEach(killChildren);

const SERVING = /^jobmeter: serving \S+ metrics on (http:\/\/\S+\/metrics)$/m;

async function targetInfo(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<string> {
  const served = start(['serve', '--listen', '127.0.0.1:0', ...args], env);
  const [, url] = await served.stderrMatches(SERVING, START_MS);
  const text = await (await fetch(url!)).text();
  const line = text.split('\n').find((l) => l.startsWith('target_info{'));
  assert.ok(line !== undefined, text);
  return line;
}

describe('jobmeter serve: the service name from resource attributes', () => {
  it('a config file\'s resource_attributes."service.name", as OTEL_RESOURCE_ATTRIBUTES\'', async () => {
    const path = await files.file(
      'identity.toml',
      '[resource_attributes]\n"service.name" = "billing"\n"host.name" = "ci-7"\n',
    );
    const fromFile = await targetInfo(['--config', path]);
    assert.match(fromFile, /service_name="billing"/);
    assert.match(fromFile, /host_name="ci-7"/);
    killChildren();
    const fromEnv = await targetInfo([], {
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=billing,host.name=ci-7',
    });
    assert.equal(fromFile, fromEnv);
  });
});
