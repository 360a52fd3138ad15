/**
 * rules/<profile>.rules.yml and rules/serve.rules.yml: Prometheus' own tools say they are valid and that their unit tests
 * pass, and the unit tests cover every alert both firing and not firing.
 *
 * - `promtool check rules` on every rules file (syntax, PromQL, templates), with the promtool of
 *   Prometheus 2.42 and of the pinned 3.x alike (as for the next point).
 * - `promtool test rules` on every rules/tests/<profile>.test.yml (hand-written input series;
 *   exact expected labels and rendered annotations).
 * - Coverage, read from the test files: each alert has an `alert_rule_test` expecting it and one
 *   expecting nothing (`exp_alerts: []`).
 * - Conventions: a severity of info|warning|critical, a `summary` and a runbook-style
 *   `description` on every alert; a `# summary:` / `# description:` comment on every recording
 *   rule (Prometheus does not allow annotations there); `level:metric:operations` record names.
 *
 * That the expressions match what jobmeter really serves is test/dashboards/queries.test.ts's job
 * (it runs every rule expression against a Prometheus scraping each profile), and
 * test/dashboards/serve-queries.test.ts's for serve's own.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { DASHBOARD_PROFILES } from '../../scripts/dashboards/panels.ts';
import { loadRules, rulesPath, rulesTestPath } from '../../scripts/dashboards/rules-file.ts';
import type { DashboardName } from '../../scripts/dashboards/spec.ts';
import {
  PROMETHEUS_MAJORS,
  prometheusBinaryOf,
  type PrometheusMajor,
} from '../support/prometheus.ts';

const run = promisify(execFile);
/** Each profile's rules, and jobmeter serve's own (rules/serve.rules.yml). */
const PROFILES: readonly DashboardName[] = [...DASHBOARD_PROFILES, 'serve'];
const SEVERITIES = ['info', 'warning', 'critical'];

async function promtool(
  major: PrometheusMajor,
  ...args: string[]
): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(prometheusBinaryOf(major, 'promtool'), args, {
      timeout: 60_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
    return {
      code: typeof e.code === 'number' ? e.code : -1,
      output: `${e.stdout ?? ''}${e.stderr ?? ''}${e.message}`,
    };
  }
}

for (const major of PROMETHEUS_MAJORS) {
  test(`promtool ${major}: check rules: every rules file is valid`, async () => {
    const results = await Promise.all(
      PROFILES.map((p) => promtool(major, 'check', 'rules', rulesPath(p))),
    );
    for (const [i, r] of results.entries()) {
      const { alerts, recordings } = loadRules(PROFILES[i]!);
      assert.equal(r.code, 0, `${PROFILES[i]}:\n${r.output}`);
      assert.match(
        r.output,
        new RegExp(`SUCCESS: ${alerts.length + recordings.length} rules found`),
        r.output,
      );
    }
  });

  // One promtool per file, all at once: the rm file's day-long series dominate.
  test(`promtool ${major}: test rules: every unit test passes`, async () => {
    const results = await Promise.all(
      PROFILES.map((p) => promtool(major, 'test', 'rules', rulesTestPath(p))),
    );
    for (const [i, r] of results.entries()) {
      assert.equal(r.code, 0, `${PROFILES[i]}:\n${r.output}`);
      assert.match(r.output, /SUCCESS/, r.output);
    }
  });
}

interface AlertRuleTest {
  alertname: string;
  eval_time: string;
  exp_alerts?: unknown[] | null;
}
interface UnitTestFile {
  rule_files: string[];
  tests: Array<{ alert_rule_test?: AlertRuleTest[] }>;
}

for (const profile of PROFILES) {
  test(`${profile}: every alert is unit-tested firing and not firing`, () => {
    const file = parse(readFileSync(rulesTestPath(profile), 'utf8')) as UnitTestFile;
    assert.deepEqual(file.rule_files, [`../${profile}.rules.yml`]);
    const cases = file.tests.flatMap((t) => t.alert_rule_test ?? []);
    const { alerts } = loadRules(profile);
    assert.ok(alerts.length >= 4, `${profile}: ${alerts.length} alerts`);
    for (const { alert } of alerts) {
      const mine = cases.filter((c) => c.alertname === alert);
      assert.ok(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${alert}: no test expects it to fire`,
      );
      assert.ok(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${alert}: no test expects it silent`,
      );
    }
    // And nothing tested that does not exist (a renamed alert would pass silently otherwise).
    const names = new Set(alerts.map((a) => a.alert));
    assert.deepEqual(
      cases.map((c) => c.alertname).filter((n) => !names.has(n)),
      [],
    );
  });

  test(`${profile}: alerts carry severity, summary and a runbook; recording rules a comment`, () => {
    const { alerts, recordings } = loadRules(profile);
    const seen = new Set<string>();
    for (const a of alerts) {
      assert.ok(!seen.has(a.alert), `${a.alert} defined twice`);
      seen.add(a.alert);
      assert.ok(
        SEVERITIES.includes(a.labels['severity'] ?? ''),
        `${a.alert}: severity ${a.labels['severity']}`,
      );
      assert.ok((a.annotations['summary'] ?? '').trim().length > 10, `${a.alert}: summary`);
      const description = a.annotations['description'] ?? '';
      assert.match(
        description,
        /\nRunbook: |^Runbook: |\. Runbook: /,
        `${a.alert}: description has no "Runbook:" part`,
      );
      assert.deepEqual(Object.keys(a.annotations).sort(), ['description', 'summary'], a.alert);
    }
    for (const r of recordings) {
      assert.match(
        r.record,
        /^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/,
        `${r.record}: not level:metric:operations`,
      );
      assert.match(r.comment, /^summary: .+/m, `${r.record}: no "# summary:" comment`);
      assert.match(r.comment, /^description: .+/m, `${r.record}: no "# description:" comment`);
    }
  });
}
