// Each legacy profile against its seed document, read at test time (seed-catalog.ts): every
// documented metric is rendered by the profile's demo with the documented type and exactly the
// documented label names, nothing undocumented is rendered, label words come from the documented
// vocabularies (zero-filled ones complete and in order), and histogram buckets are the seed's.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runDemo } from '../../src/demo/scenarios.ts';
import { OUTCOMES } from '../../src/domain/types.ts';
import type { Family } from '../../src/exposition/types.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { LEGACY_PROFILES } from '../../src/naming/profiles/index.ts';
import { RM_JOB_KINDS } from '../../src/naming/profiles/rm.ts';
import type { FamilyRule, TableProfile } from '../../src/naming/types.ts';
import {
  loadSeedCatalog,
  type LegacyProfileName,
  type SeedCatalog,
  type SeedMetric,
} from './seed-catalog.ts';

/**
 * What each seed documents. Exact, so an extractor that silently finds less (or a seed that
 * gains a metric) fails here first, naming the seed.
 */
const EXPECTED: Readonly<
  Record<LegacyProfileName, { metrics: number; histograms: number; labelled: number }>
> = {
  runwisp: { metrics: 8, histograms: 0, labelled: 3 },
  wasmrun: { metrics: 10, histograms: 0, labelled: 2 },
  crewshipd: { metrics: 17, histograms: 0, labelled: 5 },
  rm: { metrics: 12, histograms: 1, labelled: 10 },
  solti: { metrics: 4, histograms: 1, labelled: 4 },
};

/**
 * Families a profile renders beyond its seed, on purpose (each needs a reason in the profile
 * table). None today: every profile renders exactly its original's set.
 */
const DELIBERATE_ADDITIONS: Readonly<Record<LegacyProfileName, readonly string[]>> = {
  runwisp: [],
  wasmrun: [],
  crewshipd: [],
  rm: [],
  solti: [],
};

const NAMES = Object.keys(LEGACY_PROFILES) as LegacyProfileName[];

/** `a="x",b="y\"z"` → [['a','x'], ['b','y"z']] (values unescaped). */
function parseLabels(s: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;
  while (re.lastIndex < s.length) {
    const at = re.lastIndex;
    const m = re.exec(s);
    if (!m) throw new Error(`unparseable label string at ${at}: ${s}`);
    out.push([m[1]!, m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))]);
  }
  return out;
}

function labelValues(family: Family, label: string): string[] {
  const values: string[] = [];
  for (const s of family.series) {
    const v = parseLabels(s.labels).find(([k]) => k === label)?.[1];
    if (v !== undefined && !values.includes(v)) values.push(v);
  }
  return values;
}

/**
 * The label names in the order the original writes them: the source's order, or sorted by name
 * where the original's library sorts them (solti: the Rust `prometheus` crate, `order: 'sorted'`).
 */
function writtenOrder(profile: {
  readonly order?: 'table' | 'sorted';
}): (labels: readonly string[]) => string[] {
  return (labels) => (profile.order === 'sorted' ? [...labels].sort() : [...labels]);
}

function ruleFor(profile: TableProfile, name: string): FamilyRule {
  const rules = profile.rules.filter((r) => r.name === name);
  assert.equal(rules.length, 1, `${profile.name}: ${rules.length} table rules named ${name}`);
  return rules[0]!;
}

for (const name of NAMES) {
  const profile = LEGACY_PROFILES[name];
  const written = writtenOrder(profile);
  describe(`profile ${name} against its seed`, () => {
    let catalog: SeedCatalog;
    let jm: Jobmeter | undefined;
    let byName: Map<string, Family>;
    let families: Family[];

    before(async () => {
      catalog = loadSeedCatalog(name);
      jm = await createJobmeter({ profile: name, listener: false });
      runDemo(jm, name);
      families = await jm.scrape();
      byName = new Map(families.map((f) => [f.name, f]));
    });
    after(async () => {
      await jm?.shutdown();
    });

    test('the seed extractor finds the documented catalog', () => {
      const want = EXPECTED[name];
      const got = {
        metrics: catalog.metrics.length,
        histograms: catalog.metrics.filter((m) => m.type === 'histogram').length,
        labelled: catalog.metrics.filter((m) => m.labels.length > 0).length,
      };
      assert.deepEqual(
        got,
        want,
        `${catalog.path}: extracted ${catalog.metrics.map((m) => m.name).join(', ')}`,
      );
      for (const m of catalog.metrics) {
        assert.match(
          m.name,
          new RegExp(`^${profile.prefix}[a-z0-9_]+$`),
          `${catalog.path}: ${m.name} lacks the prefix ${profile.prefix}`,
        );
        if (m.type === 'histogram')
          assert.ok((m.buckets?.length ?? 0) >= 5, `${catalog.path}: ${m.name} has no bucket list`);
      }
    });

    test('the table has exactly one rule per documented metric, and none undocumented', () => {
      const documented = catalog.metrics.map((m) => m.name).sort();
      const ruled = [...new Set(profile.rules.map((r) => r.name))].sort();
      assert.deepEqual(ruled, [...documented, ...DELIBERATE_ADDITIONS[name]].sort());
      for (const m of catalog.metrics) {
        const rule = ruleFor(profile, m.name);
        assert.equal(rule.type, m.type, `${m.name}: table type`);
        assert.deepEqual(
          (rule.labels ?? []).map(([, label]) => label),
          written(m.labels),
          `${m.name}: table label names (seed: ${m.labels.join(', ') || 'none'})`,
        );
      }
      assert.deepEqual(
        profile.hostnameLabel === undefined ? [] : [profile.hostnameLabel],
        catalog.everySeries,
        'label the seed puts on every series',
      );
    });

    test('every documented metric renders with its type and exactly its label names', () => {
      for (const m of catalog.metrics) {
        const family = byName.get(m.name);
        assert.ok(family, `${m.name} (documented in ${catalog.path}) is not rendered`);
        assert.equal(family.type, m.type, `${m.name}: type`);
        assert.ok(
          family.series.length > 0,
          `${m.name}: the demo renders no series, so its labels go unchecked`,
        );
        const want = [...written(m.labels), ...catalog.everySeries];
        for (const s of family.series) {
          assert.deepEqual(
            parseLabels(s.labels).map(([k]) => k),
            want,
            `${m.name}{${s.labels}}: label names`,
          );
        }
      }
    });

    test('nothing undocumented is rendered', () => {
      const allowed = new Set([
        ...catalog.metrics.map((m) => m.name),
        ...DELIBERATE_ADDITIONS[name],
      ]);
      const extra = families.map((f) => f.name).filter((n) => !allowed.has(n));
      assert.deepEqual(extra, [], `rendered but not in ${catalog.path}`);
    });

    test('label values come from the documented vocabularies; zero-filled ones are complete and in order', () => {
      for (const m of catalog.metrics) {
        const family = byName.get(m.name)!;
        const rule = ruleFor(profile, m.name);
        for (const [label, vocab] of Object.entries(m.values)) {
          const rendered = labelValues(family, label);
          for (const v of rendered) {
            assert.ok(
              vocab.includes(v),
              `${m.name}{${label}="${v}"}: not in the seed's vocabulary ${vocab.join(', ')}`,
            );
          }
          if (m.zeroFilled.includes(label)) {
            assert.deepEqual(
              rendered,
              vocab,
              `${m.name}: the seed zero-fills ${label}, every value in its order`,
            );
            assert.deepEqual(rule.zeroFill?.[label], vocab, `${m.name}: table zeroFill.${label}`);
          } else if (rule.zeroFill?.[label] !== undefined) {
            for (const v of rule.zeroFill[label])
              assert.ok(
                vocab.includes(v),
                `${m.name}: table zeroFill.${label} has ${v}, not in ${vocab.join(', ')}`,
              );
          }
          // The table's word map may only produce documented words …
          const attribute = rule.labels?.find(([, l]) => l === label)?.[0];
          assert.ok(attribute !== undefined, `${m.name}: no table label ${label}`);
          for (const [from, word] of Object.entries(rule.values?.[attribute] ?? {})) {
            assert.ok(
              vocab.includes(word),
              `${m.name}: table maps ${attribute}=${from} to ${word}, not in ${vocab.join(', ')}`,
            );
          }
          // … and every canonical outcome must land on one.
          if (attribute === 'outcome') {
            for (const outcome of OUTCOMES) {
              const word = rule.values?.outcome?.[outcome] ?? outcome;
              assert.ok(
                vocab.includes(word),
                `${m.name}: outcome ${outcome} renders as ${label}="${word}", not in ${vocab.join(', ')}`,
              );
            }
          }
        }
      }
    });

    test("histogram buckets are exactly the seed's", () => {
      const histograms = catalog.metrics.filter((m) => m.type === 'histogram');
      for (const m of histograms) {
        const family = byName.get(m.name)!;
        assert.equal(family.type, 'histogram');
        for (const s of family.series) {
          assert.ok('bounds' in s, `${m.name}: series without buckets`);
          assert.deepEqual(
            [...s.bounds],
            m.buckets,
            `${m.name}{${s.labels}}: bucket bounds (+Inf implied)`,
          );
        }
        const rule = ruleFor(profile, m.name);
        assert.deepEqual(
          profile.buckets?.[rule.instrument],
          m.buckets,
          `${m.name}: table buckets for ${rule.instrument}`,
        );
      }
    });

    test("HELP is the original's where the seed shows it (exposition sample, source)", () => {
      const withHelp = catalog.metrics.filter(
        (m): m is SeedMetric & { help: string } => m.help !== undefined,
      );
      for (const m of withHelp) assert.equal(byName.get(m.name)!.help, m.help, `${m.name}: HELP`);
    });
  });
}

// Words the canonical vocabulary spells differently, asserted by name so a regression is obvious.
describe('outcome words', () => {
  const cases: Array<[LegacyProfileName, string, string, string[], string[]]> = [
    // [profile, family, label, must render (demo), must never render]
    [
      'solti',
      'solti_runner_tasks_completed_total',
      'outcome',
      ['success', 'failure', 'canceled', 'timeout'],
      ['cancelled'],
    ],
    ['solti', 'solti_runner_task_duration_seconds', 'outcome', ['canceled'], ['cancelled']],
    [
      'rm',
      'rm_job_duration_seconds',
      'status',
      ['succeeded', 'failed', 'cancelled'],
      ['success', 'failure', 'timeout'],
    ],
    [
      'wasmrun',
      'wasmrun_agent_exec_total',
      'result',
      ['success', 'error', 'timeout'],
      ['failure', 'cancelled'],
    ],
    [
      'runwisp',
      'runwisp_runs_total',
      'status',
      ['success', 'failed'],
      ['failure', 'cancelled', 'timeout'],
    ],
  ];
  for (const [name, family, label, present, absent] of cases) {
    test(`${name}: ${family}{${label}}`, async () => {
      const jm = await createJobmeter({ profile: name, listener: false });
      try {
        runDemo(jm, name);
        const f = (await jm.scrape()).find((x) => x.name === family);
        assert.ok(f, `${family} not rendered`);
        const rendered = labelValues(f, label);
        for (const v of present)
          assert.ok(
            rendered.includes(v),
            `${family}{${label}="${v}"} missing (rendered: ${rendered.join(', ')})`,
          );
        for (const v of absent)
          assert.ok(!rendered.includes(v), `${family}{${label}="${v}"} must not appear`);
      } finally {
        await jm.shutdown();
      }
    });
  }

  test("rm: the job kinds the table documents are the seed's", () => {
    const seed = loadSeedCatalog('rm').metrics.find((m) => m.name === 'rm_job_duration_seconds')!;
    assert.deepEqual([...RM_JOB_KINDS], seed.values.kind);
  });
});
