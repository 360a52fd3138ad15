/**
 * dashboards/<profile>.json: what Grafana needs to import them as-is, and that they are exactly
 * what scripts/dashboards/generate.ts makes of the panel lists (so nobody edits the JSON by hand).
 * Also docs/profiles/<profile>.md: generated too, and each shows an existing PNG.
 *
 * That the queries are valid and return data is test/dashboards/queries.test.ts's job.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import {
  dashboardPath,
  generatedFiles,
  pagePath,
  picturePath,
} from '../../scripts/dashboards/generate.ts';
import { DATASOURCE_REF, SCHEMA_VERSION } from '../../scripts/dashboards/grafana.ts';
import { DASHBOARD_PROFILES, DASHBOARDS } from '../../scripts/dashboards/panels.ts';
import { ROOT } from '../../scripts/dashboards/rules-file.ts';
import { GRAFANA_UNITS, type DashboardName } from '../../scripts/dashboards/spec.ts';
import { PROFILE_NAMES } from '../../src/naming/profiles/index.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const load = (profile: string): Obj =>
  JSON.parse(readFileSync(dashboardPath(profile as never), 'utf8')) as Obj;
const panelsOf = (d: Obj): Obj[] => d['panels'] as Obj[];

/** Every (path, value) of `key` anywhere in `node`. */
function findKey(node: Json, key: string, path = '$'): Array<[string, Json]> {
  if (Array.isArray(node)) return node.flatMap((v, i) => findKey(v, key, `${path}[${i}]`));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) => [
    ...(k === key ? [[`${path}.${k}`, v] as [string, Json]] : []),
    ...findKey(v, key, `${path}.${k}`),
  ]);
}

/** Every dashboard: one per profile, and jobmeter serve's own. */
const DASHBOARD_NAMES: readonly DashboardName[] = [...DASHBOARD_PROFILES, 'serve'];

test("one dashboard per profile and serve's own, and nothing else in dashboards/", () => {
  assert.deepEqual([...DASHBOARD_PROFILES].sort(), [...PROFILE_NAMES].sort());
  assert.deepEqual(
    readdirSync(`${ROOT}dashboards`).sort(),
    DASHBOARD_NAMES.map((p) => `${p}.json`).sort(),
  );
});

test("the committed dashboards and docs pages are the generator's output (node scripts/dashboards/generate.ts)", () => {
  for (const [path, text] of generatedFiles()) {
    assert.ok(existsSync(path), `${path} is missing: run node scripts/dashboards/generate.ts`);
    assert.equal(
      readFileSync(path, 'utf8'),
      text,
      `${path} is out of date: run node scripts/dashboards/generate.ts`,
    );
  }
});

for (const profile of DASHBOARD_NAMES) {
  test(`${profile}: importable: schema, uid, title, no id, a datasource variable`, () => {
    const d = load(profile);
    assert.equal(d['schemaVersion'], SCHEMA_VERSION);
    assert.equal(d['uid'], `jobmeter-${profile}`);
    assert.ok(typeof d['title'] === 'string' && d['title'].length > 0);
    assert.ok(!('id' in d), "an id would clash with the importing Grafana's own");
    assert.deepEqual(d['time'], { from: 'now-6h', to: 'now' });
    const vars = (d['templating'] as Obj)['list'] as Obj[];
    const names = vars.map((v) => v['name']);
    assert.equal(new Set(names).size, names.length, 'variable names are unique');
    const ds = vars[0]!;
    assert.deepEqual(
      [ds['name'], ds['type'], ds['query']],
      ['datasource', 'datasource', 'prometheus'],
    );
    for (const v of vars.slice(1)) {
      assert.equal(v['type'], 'query');
      assert.deepEqual(v['datasource'], DATASOURCE_REF, String(v['name']));
      assert.match(String(v['definition']), /^label_values\(/);
    }
  });

  test(`${profile}: every data-source reference is the variable; no uid is hard-coded`, () => {
    const d = load(profile);
    const refs = findKey(d, 'datasource');
    // The dashboard's variable list holds the variable itself (name 'datasource'), not a reference.
    assert.ok(refs.length > 0);
    for (const [path, value] of refs) assert.deepEqual(value, DATASOURCE_REF, path);
    const uids = findKey(d, 'uid').filter(([path]) => path !== '$.uid');
    for (const [path, value] of uids) assert.equal(value, '${datasource}', path);
    // Every panel and every target carries the reference (Grafana falls back to the default data
    // source otherwise, which may not be Prometheus).
    for (const panel of panelsOf(d)) {
      assert.deepEqual(panel['datasource'], DATASOURCE_REF, String(panel['title']));
      for (const t of panel['targets'] as Obj[])
        assert.deepEqual(t['datasource'], DATASOURCE_REF, String(panel['title']));
    }
  });

  test(`${profile}: panels: unique ids, a unit each, valid grid, targets with unique refIds`, () => {
    const d = load(profile);
    const panels = panelsOf(d);
    assert.ok(panels.length >= 6, `${panels.length} panels`);
    const ids = panels.map((p) => p['id']);
    assert.ok(ids.every((id) => Number.isInteger(id) && (id as number) > 0));
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    const taken = new Set<string>();
    for (const panel of panels) {
      const title = String(panel['title']);
      assert.ok(['timeseries', 'stat', 'table'].includes(String(panel['type'])), title);
      assert.ok(String(panel['description']).length > 0, `${title}: description`);
      const defaults = (panel['fieldConfig'] as Obj)['defaults'] as Obj;
      assert.ok(
        (GRAFANA_UNITS as readonly string[]).includes(String(defaults['unit'])),
        `${title}: unit ${String(defaults['unit'])}`,
      );
      for (const o of (panel['fieldConfig'] as Obj)['overrides'] as Obj[]) {
        for (const prop of o['properties'] as Obj[]) {
          if (prop['id'] === 'unit')
            assert.ok(
              (GRAFANA_UNITS as readonly string[]).includes(String(prop['value'])),
              `${title}: column unit`,
            );
        }
      }
      const { x, y, w, h } = panel['gridPos'] as Record<string, number>;
      assert.ok(x! >= 0 && w! > 0 && x! + w! <= 24 && y! >= 0 && h! > 0, `${title}: gridPos`);
      for (let cx = x!; cx < x! + w!; cx++) {
        for (let cy = y!; cy < y! + h!; cy++) {
          assert.ok(!taken.has(`${cx},${cy}`), `${title} overlaps another panel at ${cx},${cy}`);
          taken.add(`${cx},${cy}`);
        }
      }
      const targets = panel['targets'] as Obj[];
      assert.ok(targets.length > 0, title);
      const refIds = targets.map((t) => t['refId']);
      assert.equal(new Set(refIds).size, refIds.length, `${title}: refIds`);
      for (const t of targets) {
        assert.ok(String(t['expr']).length > 0, title);
        assert.ok(!String(t['expr']).includes('$sel'), `${title}: $sel left unexpanded`);
      }
    }
  });

  test(`${profile}: queries only use variables the dashboard defines (or Grafana's own)`, () => {
    const d = load(profile);
    const defined = new Set(
      ((d['templating'] as Obj)['list'] as Obj[]).map((v) => String(v['name'])),
    );
    const builtins = new Set(['__rate_interval', '__interval', '__range', '__range_s']);
    const exprs = [
      ...panelsOf(d).flatMap((p) => (p['targets'] as Obj[]).map((t) => String(t['expr']))),
      ...((d['templating'] as Obj)['list'] as Obj[]).map((v) => String(v['definition'] ?? '')),
    ];
    for (const expr of exprs) {
      for (const m of expr.matchAll(/\$\{?(\w+)\}?/g)) {
        assert.ok(defined.has(m[1]!) || builtins.has(m[1]!), `${expr}: unknown variable $${m[1]}`);
      }
      // Every series selector is filtered by the pickers (vector(0) and time() are not selectors).
      for (const sel of expr.matchAll(/\b([a-z_:][a-z0-9_:]*)\{([^}]*)\}/g)) {
        assert.match(sel[2]!, /job=~"\$job"/, `${expr}: ${sel[1]} ignores the Job picker`);
      }
    }
  });
}

for (const profile of DASHBOARD_PROFILES) {
  test(`${profile}: docs/profiles/${profile}.md shows an existing picture and links the files`, () => {
    const page = readFileSync(pagePath(profile), 'utf8');
    const images = [...page.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
    assert.deepEqual(images, [`${profile}.png`]);
    assert.ok(
      existsSync(picturePath(profile)),
      `docs/profiles/${profile}.png is missing: run node scripts/dashboards/render-pictures.ts`,
    );
    const png = readFileSync(picturePath(profile));
    assert.deepEqual(
      [...png.subarray(0, 8)],
      [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
      'a PNG signature',
    );
    assert.ok(png.length > 10_000, 'a real picture, not a placeholder');
    assert.ok(page.includes(`(../../dashboards/${profile}.json)`));
    assert.ok(page.includes(`(../../rules/${profile}.rules.yml)`));
  });
}

test('every panel spec that is drawn in the picture exists on its dashboard (at least three per profile)', () => {
  for (const profile of DASHBOARD_PROFILES) {
    assert.ok(DASHBOARDS[profile].panels.filter((p) => p.main).length >= 3, profile);
  }
});

test('the run-duration panels ask Prometheus for exemplars (trace-linked: a traced run links to its trace)', () => {
  const durationPanels: Record<string, string> = {
    otel: 'Run duration p95 by task',
    semconv: 'Pipeline run duration p95 by pipeline',
    rm: 'Job duration p95 by kind',
    solti: 'Task duration p95 by runner',
  };
  for (const [profile, title] of Object.entries(durationPanels)) {
    const panel = panelsOf(load(profile)).find((p) => p['title'] === title);
    assert.ok(panel !== undefined, `${profile}: ${title}`);
    for (const target of panel['targets'] as Obj[])
      assert.equal(target['exemplar'], true, `${profile}: ${title}`);
  }
  // Only there: a query over a series without exemplars gains nothing from asking.
  const withExemplars = PROFILE_NAMES.flatMap((p) =>
    panelsOf(load(p))
      .filter((panel) => (panel['targets'] as Obj[]).some((t) => t['exemplar'] === true))
      .map((panel) => `${p}: ${String(panel['title'])}`),
  );
  assert.deepEqual(
    withExemplars.sort(),
    Object.entries(durationPanels)
      .map(([p, t]) => `${p}: ${t}`)
      .sort(),
  );
});

test("docs/dashboards.md's table has a row for every dashboard and its rules file, serve's own included", () => {
  const page = readFileSync(`${ROOT}docs/dashboards.md`, 'utf8');
  const rows = page.split('\n').filter((l) => l.startsWith('| '));
  for (const name of DASHBOARD_NAMES) {
    const dashboard = `[dashboards/${name}.json](../dashboards/${name}.json)`;
    const rules = `[rules/${name}.rules.yml](../rules/${name}.rules.yml)`;
    assert.ok(
      rows.some((r) => r.includes(` ${dashboard} | ${rules} |`)),
      `docs/dashboards.md: no row with ${dashboard} | ${rules}`,
    );
  }
});
