/**
 * `service.name` under `[resource_attributes]` is the service name, as it is in
 * OTEL_RESOURCE_ATTRIBUTES (the OpenTelemetry SDK specification's resource rules): honoured, not
 * silently replaced by the default `jobmeter`. Precedence: OTEL_SERVICE_NAME over
 * OTEL_RESOURCE_ATTRIBUTES' service.name (env), the file over the environment, and in one file
 * `service_name` and `resource_attributes."service.name"` are one setting: the same value is
 * accepted, two different ones are refused naming both keys (exit 2, test/cli/validate.test.ts).
 * `jobmeter serve` end to end: test/cli/serve-identity.test.ts.
 *
 * README and docs/ spell the key/attribute pair one way.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { resolveServiceConfig } from '../../src/config/resolve-layers.ts';
import { ConfigError } from '../../src/errors.ts';
import { tempFiles } from '../support/temp-files.ts';

const temp = tempFiles('jobmeter-service-name-');

async function resolveFile(name: string, text: string, env: NodeJS.ProcessEnv = {}) {
  const path = await temp.file(name, text);
  return { path, options: await resolveServiceConfig({ argv: ['--config', path], env }) };
}

describe('resource_attributes."service.name" in a config file', () => {
  it('is the service name (TOML, YAML, JSON), and leaves the other attributes as they are', async () => {
    const texts: Record<string, string> = {
      'a.toml': '[resource_attributes]\n"service.name" = "billing"\n"host.name" = "ci-7"\n',
      'a.yaml': 'resource_attributes:\n  service.name: billing\n  host.name: ci-7\n',
      'a.json': JSON.stringify({
        resource_attributes: { 'service.name': 'billing', 'host.name': 'ci-7' },
      }),
    };
    for (const [name, text] of Object.entries(texts)) {
      const { options } = await resolveFile(name, text);
      assert.equal(options.serviceName, 'billing', name);
      assert.deepEqual(options.resourceAttributes, { 'host.name': 'ci-7' }, name);
    }
  });

  it('the same as OTEL_RESOURCE_ATTRIBUTES says it', async () => {
    const fromEnv = await resolveServiceConfig({
      argv: [],
      env: { OTEL_RESOURCE_ATTRIBUTES: 'service.name=billing,host.name=ci-7' },
    });
    const { options: fromFile } = await resolveFile(
      'same.toml',
      '[resource_attributes]\n"service.name" = "billing"\n"host.name" = "ci-7"\n',
    );
    assert.equal(fromEnv.serviceName, 'billing');
    assert.deepEqual(fromFile, fromEnv);
  });

  it('beats the environment (OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES), as every file key does', async () => {
    const env = {
      OTEL_SERVICE_NAME: 'env-name',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=env-attribute,team=env',
    };
    assert.equal((await resolveServiceConfig({ argv: [], env })).serviceName, 'env-name');
    const { options } = await resolveFile(
      'over-env.toml',
      '[resource_attributes]\n"service.name" = "billing"\n',
      env,
    );
    assert.equal(options.serviceName, 'billing');
    assert.deepEqual(options.resourceAttributes, { team: 'env' });
  });

  it('with service_name set to the same value: accepted', async () => {
    const { options } = await resolveFile(
      'both-same.toml',
      'service_name = "billing"\n[resource_attributes]\n"service.name" = "billing"\n',
    );
    assert.equal(options.serviceName, 'billing');
    assert.deepEqual(options.resourceAttributes, {});
  });

  it('with service_name set to another value: refused, naming both keys and the file', async () => {
    const text = 'service_name = "billing"\n[resource_attributes]\n"service.name" = "payments"\n';
    const path = await temp.file('both-differ.toml', text);
    await assert.rejects(
      resolveServiceConfig({ argv: ['--config', path], env: {} }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.key, 'resource_attributes."service.name"');
        assert.equal(err.value, 'payments');
        assert.equal(err.file, path);
        assert.match(err.message, /service_name = "billing"/);
        return true;
      },
    );
  });

  it('empty or blank: refused like an empty service_name', async () => {
    for (const [name, text] of [
      ['empty.toml', '[resource_attributes]\n"service.name" = ""\n'],
      ['blank.toml', '[resource_attributes]\n"service.name" = "  "\n'],
    ] as const) {
      const path = await temp.file(name, text);
      await assert.rejects(
        resolveServiceConfig({ argv: ['--config', path], env: {} }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError, String(err));
          assert.equal(err.key, 'resource_attributes."service.name"');
          return true;
        },
      );
    }
    const emptyKey = await temp.file('empty-key.toml', 'service_name = ""\n');
    await assert.rejects(
      resolveServiceConfig({ argv: ['--config', emptyKey], env: {} }),
      (err: unknown) => err instanceof ConfigError && err.key === 'service_name',
    );
  });
});

describe('README and docs/ spell the service name one way', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const pages = [
    'README.md',
    ...readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.md'))
      .map((f) => join('docs', f)),
  ];
  /** The prose lines (outside code fences) and the code lines of one page, with their numbers. */
  function lines(page: string): { prose: [number, string][]; code: [number, string][] } {
    const out: { prose: [number, string][]; code: [number, string][] } = { prose: [], code: [] };
    let fenced = false;
    readFileSync(join(root, page), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
        else (fenced ? out.code : out.prose).push([i + 1, line]);
      });
    return out;
  }

  it('prose names the key as "`service_name` (the resource\'s `service.name`…)"', () => {
    let seen = 0;
    for (const page of pages) {
      for (const [n, line] of lines(page).prose) {
        // Table rows list keys (docs/options.md); target_info's label is a third, Prometheus, spelling.
        if (!line.includes('`service_name`') || line.trimStart().startsWith('|')) continue;
        seen++;
        assert.match(line, /`service_name` \(the resource's `service\.name`/, `${page}:${n}`);
      }
    }
    assert.ok(seen >= 2, `the key named in prose ${seen} times`);
  });

  it('a config example\'s comment on service_name says "the resource\'s service.name"', () => {
    let seen = 0;
    for (const page of pages) {
      for (const [n, line] of lines(page).code) {
        const comment = /^\s*service_name\s*[=:].*#\s*(.*)$/.exec(line)?.[1];
        if (comment === undefined) continue;
        seen++;
        assert.match(comment, /^the resource's service\.name/, `${page}:${n}`);
      }
    }
    assert.ok(seen >= 1);
  });
});
