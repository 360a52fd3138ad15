// docs/profiles.md (and README.md's profiles table, once its markers exist) are generated from the
// profile tables by scripts/gen-profile-docs.ts; this fails when a table changed without them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PROFILE_NAMES } from '../../src/naming/profiles/index.ts';
import {
  PROFILES_DOC,
  PROMTOOL_ALLOWLIST,
  README,
  README_END,
  README_START,
  generateProfilesDoc,
  profilesTable,
  updateReadme,
} from '../../scripts/gen-profile-docs.ts';

const RUN = 'run: node scripts/gen-profile-docs.ts';

test('docs/profiles.md is what the generator writes', () => {
  let current: string;
  try {
    current = readFileSync(PROFILES_DOC, 'utf8');
  } catch {
    assert.fail(`${PROFILES_DOC} is missing; ${RUN}`);
  }
  // Compare whole texts (a line diff is in the assertion output), with the fix in the message.
  assert.equal(current, generateProfilesDoc(), `docs/profiles.md is out of date; ${RUN}`);
});

test("README.md's profiles table is what the generator writes", () => {
  const readme = readFileSync(README, 'utf8');
  const updated = updateReadme(readme);
  // The README carries the markers; losing them would silently drop the generated table.
  assert.ok(updated !== undefined, `README.md has no ${README_START} … ${README_END} markers`);
  assert.equal(readme, updated, `README.md's profiles table is out of date; ${RUN}`);
});

test('the generated docs cover every profile, every family and every allowed promtool finding', () => {
  const doc = generateProfilesDoc();
  for (const name of PROFILE_NAMES) {
    assert.ok(doc.includes(`\n## ${name}\n`), `no section for ${name}`);
    assert.ok(profilesTable().includes(`[\`${name}\`]`), `no README row for ${name}`);
    for (const w of PROMTOOL_ALLOWLIST[name]) {
      assert.ok(
        doc.includes(`| \`${w.metric}\` | ${w.problems.join('<br>')} |`),
        `${name}: allow-list entry for ${w.metric} not documented`,
      );
    }
  }
});

test('updateReadme only touches the block between the markers, and nothing without them', () => {
  assert.equal(updateReadme('# x\nno markers\n'), undefined);
  const before = `intro\n${README_START}\nstale\n${README_END}\noutro\n`;
  assert.equal(
    updateReadme(before),
    `intro\n${README_START}\n${profilesTable()}\n${README_END}\noutro\n`,
  );
});
