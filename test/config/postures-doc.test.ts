/**
 * docs/postures.md as a golden test: every config block there is a valid jobmeter config, every
 * scrape job scrapes the path its posture mounts, and a posture whose example sets a credential
 * has a scrape job that sends one.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { parse as parseYaml } from 'yaml';

import { parseConfigText } from '../../src/config/file-parser.ts';
import { parseServiceConfig } from '../../src/config/file-layer.ts';
import { POSTURE_NAMES, POSTURES } from '../../src/common/postures.ts';

const DOC = readFileSync(new URL('../../docs/postures.md', import.meta.url), 'utf8');

interface Block {
  lang: string;
  text: string;
}

function blocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].map((m) => ({
    lang: m[1]!,
    text: m[2]!,
  }));
}

interface ScrapeJob {
  job_name: string;
  metrics_path?: string;
  authorization?: { credentials?: string; credentials_file?: string };
  static_configs: { targets: string[] }[];
}

function sectionOf(posture: string): string {
  const start = DOC.indexOf(`\n### ${posture}`);
  assert.ok(start !== -1, `docs/postures.md has a section for ${posture}`);
  const next = DOC.indexOf('\n### ', start + 1);
  return DOC.slice(start, next === -1 ? undefined : next);
}

describe('docs/postures.md', () => {
  it('every config block is a valid config', () => {
    const configs = blocks(DOC).filter(
      (b) => (b.lang === 'toml' || b.lang === 'yaml') && !b.text.includes('scrape_configs:'),
    );
    assert.equal(
      configs.length,
      6,
      'the reference block and one file per posture but crewshipd (environment)',
    );
    for (const b of configs) {
      const raw = parseConfigText(
        b.text,
        b.lang as 'toml' | 'yaml',
        `docs/postures.md (${b.lang})`,
      );
      assert.doesNotThrow(() => parseServiceConfig(raw, 'docs/postures.md'), b.text);
    }
  });

  for (const posture of POSTURE_NAMES) {
    it(`${posture}: a config and a scrape job that match the posture`, () => {
      const section = sectionOf(posture);
      const bs = blocks(section);
      const jobBlock = bs.find((b) => b.lang === 'yaml' && b.text.includes('scrape_configs:'));
      assert.ok(jobBlock !== undefined, 'a prometheus.yml scrape job');
      const jobs = (parseYaml(jobBlock.text) as { scrape_configs: ScrapeJob[] }).scrape_configs;
      assert.equal(jobs.length, 1);
      const job = jobs[0]!;
      assert.equal(job.metrics_path ?? '/metrics', POSTURES[posture].path);
      assert.ok(job.static_configs[0]!.targets.length > 0);

      const config = bs.find((b) => !b.text.includes('scrape_configs:'));
      assert.ok(config !== undefined, 'a config (file or command line)');
      const credentialInExample = /token|api_keys|CREWSHIP_METRICS_TOKEN/.test(config.text);
      assert.equal(
        job.authorization !== undefined,
        credentialInExample,
        'the scrape job sends a credential exactly when the example sets one',
      );
      if (config.lang === 'sh') {
        assert.match(config.text, new RegExp(`jobmeter serve --profile ${posture}\\b`));
      } else {
        const parsed = parseServiceConfig(
          parseConfigText(config.text, config.lang as 'toml' | 'yaml', 'doc'),
          'doc',
        );
        assert.equal(parsed.profile, posture);
      }
    });
  }
});
