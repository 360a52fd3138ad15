import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempFiles } from '../support/temp-files.ts';

import { ConfigError } from '../../src/errors.ts';
import { loadConfigFile } from '../../src/config/file-parser.ts';
import { resolveServiceConfig } from '../../src/config/resolve-layers.ts';

const temp = tempFiles('jobmeter-file-config-');
const file = temp.file;

describe('loadConfigFile', () => {
  it('reads TOML, YAML (.yaml, .yml) and JSON into the same data', async () => {
    const expected = { profile: 'rm', listener: { port: 9100 } };
    // TOML tables have a null prototype; compare the data only.
    const toml = await loadConfigFile(
      await file('a.toml', 'profile = "rm"\n[listener]\nport = 9100\n'),
    );
    assert.deepEqual(JSON.parse(JSON.stringify(toml)), expected);
    assert.deepEqual(
      await loadConfigFile(await file('a.yaml', 'profile: rm\nlistener:\n  port: 9100\n')),
      expected,
    );
    assert.deepEqual(
      await loadConfigFile(await file('a.YML', 'profile: rm\nlistener: {port: 9100}\n')),
      expected,
    );
    assert.deepEqual(
      await loadConfigFile(await file('a.json', '\uFEFF{"profile":"rm","listener":{"port":9100}}')),
      expected,
    );
  });

  it('returns null for an empty YAML file', async () => {
    assert.equal(await loadConfigFile(await file('empty.yaml', '# nothing\n')), null);
  });

  it('rejects an unknown extension, naming --config', async () => {
    const path = await file('a.ini', 'x=1');
    await assert.rejects(loadConfigFile(path), {
      name: 'ConfigError',
      key: '--config',
      message: `invalid --config=${path}: expected a file ending in .toml, .yaml, .yml or .json`,
    });
  });

  it('rejects a missing file', async () => {
    const path = join(temp.dir, 'missing.toml');
    await assert.rejects(loadConfigFile(path), {
      message: `invalid --config=${path}: expected a readable file (it does not exist)`,
    });
  });

  it('reports a TOML syntax error with file, line and column, without the source excerpt', async () => {
    const path = await file(
      'bad.toml',
      'profile = "rm"\n[otlp.headers]\nauthorization = Bearer s3cret\n',
    );
    await assert.rejects(loadConfigFile(path), (err: Error) => {
      assert.equal(err.name, 'ConfigError');
      assert.match(
        err.message,
        new RegExp(`^invalid --config=${path}: expected valid TOML \\(line 3, column \\d+: .+\\)$`),
      );
      assert.doesNotMatch(err.message, /s3cret/);
      return true;
    });
  });

  it('reports a TOML duplicate key', async () => {
    const path = await file('dup.toml', 'profile = "rm"\nprofile = "otel"\n');
    await assert.rejects(loadConfigFile(path), {
      message: `invalid --config=${path}: expected valid TOML (line 2, column 1: trying to redefine an already defined table or value)`,
    });
  });

  it('reports a YAML syntax error and a duplicate key with line and column', async () => {
    const dup = await file('dup.yaml', 'profile: rm\nprofile: otel\n');
    await assert.rejects(loadConfigFile(dup), {
      message: `invalid --config=${dup}: expected valid YAML (line 2, column 1: Map keys must be unique)`,
    });
    const bad = await file('bad.yaml', 'listener:\n  port: [1, 2\n');
    await assert.rejects(loadConfigFile(bad), (err: Error) => {
      assert.match(
        err.message,
        new RegExp(
          `^invalid --config=${bad}: expected valid YAML \\(line \\d+, column \\d+: .+\\)$`,
        ),
      );
      return true;
    });
  });

  it('rejects a YAML file holding several documents', async () => {
    const path = await file('multi.yaml', 'profile: rm\n---\nprofile: otel\n');
    await assert.rejects(loadConfigFile(path), /expected valid YAML \(line 2, column 1: /);
  });

  it('reports a JSON syntax error with line and column', async () => {
    const path = await file('bad.json', '{\n  "profile": "rm",\n}\n');
    await assert.rejects(loadConfigFile(path), {
      message: `invalid --config=${path}: expected valid JSON (line 3, column 1: Expected double-quoted property name)`,
    });
  });
});

describe('values JSON cannot spell are printed as written', () => {
  const message = async (name: string, text: string): Promise<string> => {
    const path = await file(name, text);
    try {
      await resolveServiceConfig({ argv: ['--config', path], env: {} });
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.message;
    }
    assert.fail('no ConfigError');
  };

  it('a TOML number past the doubles prints Infinity, not null', async () => {
    assert.equal(
      await message('inf.toml', '[listener]\nport = 1e400\n'),
      'invalid listener.port=Infinity: expected an integer from 0 to 65535',
    );
    assert.equal(
      await message('ninf.toml', '[listener]\nport = -1e400\n'),
      'invalid listener.port=-Infinity: expected an integer from 0 to 65535',
    );
  });

  it('a YAML !!binary value prints as !!binary and its base64, not as a Buffer', async () => {
    assert.equal(
      await message('bin.yaml', 'listener:\n  port: !!binary aGVsbG8=\n'),
      'invalid listener.port=!!binary aGVsbG8=: expected an integer from 0 to 65535',
    );
    const long = Buffer.alloc(300, 7).toString('base64');
    assert.match(
      await message('bin-long.yaml', `otlp:\n  protocol: !!binary ${long}\n`),
      /^invalid otlp\.protocol=!!binary [A-Za-z0-9+/]{48}…: expected one of/,
    );
  });
});
