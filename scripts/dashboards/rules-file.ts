/**
 * Reads rules/<profile>.rules.yml (and rules/serve.rules.yml, serve's own) into plain data, for the generated docs pages and the tests.
 *
 * Recording rules cannot carry annotations in Prometheus, so their summary and description are
 * the YAML comment right above each one (`# summary: …` / `# description: …`, continued on
 * further `#` lines); {@link loadRules} returns that comment as text.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';
import type { DashboardName } from './spec.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const rulesPath = (profile: DashboardName): string => `${ROOT}rules/${profile}.rules.yml`;
export const rulesTestPath = (profile: DashboardName): string =>
  `${ROOT}rules/tests/${profile}.test.yml`;

export interface AlertRule {
  readonly group: string;
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface RecordingRule {
  readonly group: string;
  readonly record: string;
  readonly expr: string;
  /** The comment above the rule, `#` stripped, lines joined by `\n`. */
  readonly comment: string;
}

export interface RulesFile {
  readonly alerts: readonly AlertRule[];
  readonly recordings: readonly RecordingRule[];
}

export function loadRules(profile: DashboardName): RulesFile {
  return parseRules(readFileSync(rulesPath(profile), 'utf8'));
}

export function parseRules(text: string): RulesFile {
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new Error(`rules YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
  const alerts: AlertRule[] = [];
  const recordings: RecordingRule[] = [];
  const groups = doc.get('groups');
  if (!isSeq(groups)) throw new Error('rules YAML: no groups list');
  for (const g of groups.items) {
    if (!isMap(g)) throw new Error('rules YAML: a group is not a map');
    const group = String(g.get('name'));
    const rules = g.get('rules');
    if (!isSeq(rules)) throw new Error(`rules YAML: group ${group} has no rules list`);
    for (const r of rules.items as YAMLMap[]) {
      const plain = r.toJSON() as Record<string, unknown>;
      const expr = String(plain['expr']).trim();
      if (typeof plain['record'] === 'string') {
        recordings.push({
          group,
          record: plain['record'],
          expr,
          comment: commentAbove(text, `- record: ${plain['record']}`),
        });
      } else {
        alerts.push({
          group,
          alert: String(plain['alert']),
          expr,
          ...(plain['for'] !== undefined ? { for: String(plain['for']) } : {}),
          labels: (plain['labels'] ?? {}) as Record<string, string>,
          annotations: (plain['annotations'] ?? {}) as Record<string, string>,
        });
      }
    }
  }
  return { alerts, recordings };
}

/** The run of `#` lines right above the line that is `anchor` (indentation aside), `#` stripped. */
function commentAbove(text: string, anchor: string): string {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trim() === anchor);
  const out: string[] = [];
  for (let i = at - 1; i >= 0 && lines[i]!.trim().startsWith('#'); i--)
    out.unshift(lines[i]!.trim().replace(/^#\s?/, ''));
  return out.join('\n');
}

/**
 * An alert's expression made to answer wherever the series it reads exist, for a Prometheus that
 * loads no rules: each recording rule it names replaced by that rule's expression, and each
 * comparison against a number made a `bool` one (0 or 1 instead of filtering). "No data" then
 * means a series the alert reads is not served, not that the alert is quiet.
 */
export function answeringExpr(expr: string, recordings: readonly RecordingRule[]): string {
  const inlined = recordings.reduce((e, r) => e.replaceAll(r.record, `(${r.expr})`), expr);
  return inlined.replace(/(>=|<=|==|!=|>|<)\s*(?=[\d.])/g, '$1 bool ');
}
