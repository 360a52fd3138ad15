// A profile is one module of data (src/naming/profiles/<name>.ts): its naming table and what the
// docs say of it, plain JSON-safe data (no functions, no class instances, no shared mutable state),
// so other tools can read it as it stands (docs/profiles.md is generated from it; a Collector
// transform can be compiled from it).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { OPTION_DEFAULTS } from '../../src/common/option-defaults.ts';
import {
  LEGACY_PROFILES,
  PROFILE_DOCS,
  PROFILE_NAMES,
  profileSettings,
} from '../../src/naming/profiles/index.ts';
import { otelProfile } from '../../src/naming/profiles/otel.ts';
import { semconvConvention } from '../../src/naming/profiles/semconv.ts';
import { isNativeProfileName } from '../../src/common/option-values.ts';

const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

for (const name of PROFILE_NAMES) {
  test(`${name}: its naming and its docs are plain data`, () => {
    const naming = isNativeProfileName(name) ? otelProfile(true, name) : LEGACY_PROFILES[name];
    assert.deepEqual(plain(naming), naming);
    const { convention } = profileSettings(name);
    assert.deepEqual(plain(convention ?? null), convention ?? null);
    assert.deepEqual(plain(PROFILE_DOCS[name]), PROFILE_DOCS[name]);
    assert.ok(PROFILE_DOCS[name].about.length > 0, `${name}: the docs say what the original is`);
  });
}

test("each profile's promtool allow-list names only families of its own table", () => {
  for (const name of PROFILE_NAMES) {
    const families = new Set(
      isNativeProfileName(name) ? [] : LEGACY_PROFILES[name].rules.map((r) => r.name),
    );
    for (const w of PROFILE_DOCS[name].promtool)
      assert.ok(families.has(w.metric), `${name}: ${w.metric} is not one of its families`);
  }
});

test("profileSettings: what jobmeterViews, createRecorder and the ingest read of a profile is its module's", () => {
  assert.deepEqual(profileSettings('otel'), {
    buckets: {},
    vocabularies: undefined,
    snapshot: undefined,
    attributes: {},
    convention: undefined,
  });
  assert.deepEqual(profileSettings('semconv'), {
    buckets: {},
    vocabularies: undefined,
    snapshot: undefined,
    attributes: {},
    convention: semconvConvention,
  });
  for (const name of PROFILE_NAMES) {
    if (isNativeProfileName(name)) continue;
    const p = LEGACY_PROFILES[name];
    const { attributes, ...rest } = profileSettings(name);
    assert.deepEqual(rest, {
      buckets: p.buckets ?? {},
      vocabularies: p.vocabularies,
      snapshot: p.snapshot,
      convention: undefined,
    });
    // Every instrument the table renders, with the attributes its rules label, each once.
    assert.deepEqual(
      Object.keys(attributes).sort(),
      [...new Set(p.rules.map((r) => r.instrument))].sort(),
    );
    for (const r of p.rules)
      for (const [a] of r.labels ?? [])
        assert.ok(attributes[r.instrument]!.includes(a), `${name}: ${r.name} reads ${a}`);
    for (const read of Object.values(attributes)) assert.equal(new Set(read).size, read.length);
  }
  assert.deepEqual(profileSettings('rm').attributes['jobmeter.run.duration'], ['kind', 'outcome']);
  // The one profile with a cache policy of its own keeps the library's timeout.
  assert.equal(profileSettings('crewshipd').snapshot?.ttlMillis, 15_000);
  assert.equal(
    profileSettings('crewshipd').snapshot?.timeoutMillis ?? OPTION_DEFAULTS.snapshot.timeoutMillis,
    2000,
  );
});
