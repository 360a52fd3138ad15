// `promtool check metrics` (Prometheus' own parser and linter, 2.42) on each profile's demo render
// in text 0.0.4. The native profile must be clean; a legacy profile may only print the findings its
// original's own names cause, listed with why in PROMTOOL_ALLOWLIST (scripts/gen-profile-docs.ts,
// printed in docs/profiles.md). Any new line fails here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runDemo } from '../../src/demo/scenarios.ts';
import { render } from '../../src/exposition/render.ts';
import { createJobmeter } from '../../src/jobmeter.ts';
import { PROFILE_NAMES } from '../../src/naming/profiles/index.ts';
import {
  allowedWarningLines,
  OPENMETRICS_RECIPE_FINDINGS,
} from '../../scripts/gen-profile-docs.ts';
import { checkMetrics } from '../support/promtool.ts';

for (const name of PROFILE_NAMES) {
  const allowed = allowedWarningLines(name);
  const title = allowed.length === 0 ? 'clean' : `only the ${allowed.length} allow-listed findings`;
  test(`promtool check metrics: ${name} demo render (text 0.0.4) is ${title}`, async () => {
    const jm = await createJobmeter({ profile: name, listener: false });
    let text: string;
    try {
      runDemo(jm, name);
      text = render('text', await jm.scrape());
    } finally {
      await jm.shutdown();
    }
    const { code, output } = await checkMetrics(text);
    assert.doesNotMatch(
      output,
      /error while linting|parsing error/,
      `promtool could not parse the ${name} render:\n${output}`,
    );
    const lines = output
      .split('\n')
      .filter((l) => l !== '')
      .sort();
    assert.deepEqual(
      lines,
      allowed,
      `${name}: promtool's findings differ from PROMTOOL_ALLOWLIST.${name} (scripts/gen-profile-docs.ts); ` +
        'fix the name, or if the original spells it so, allow-list it with why and run: node scripts/gen-profile-docs.ts',
    );
    assert.equal(
      code,
      allowed.length === 0 ? 0 : 3,
      `${name}: promtool exit code (output:\n${output})`,
    );
  });
}

// The seed's own recipe on the body the profile serves by default, when that is OpenMetrics.
for (const [name, findings] of Object.entries(OPENMETRICS_RECIPE_FINDINGS)) {
  test(`promtool check metrics on the ${name} OpenMetrics body, as the seed's curl | promtool recipe pipes it: exit 3, as docs/profiles.md says`, async () => {
    const jm = await createJobmeter({
      profile: name as (typeof PROFILE_NAMES)[number],
      listener: false,
    });
    let text: string;
    try {
      runDemo(jm, name as (typeof PROFILE_NAMES)[number]);
      text = render('openmetrics', await jm.scrape());
    } finally {
      await jm.shutdown();
    }
    const { code, output } = await checkMetrics(text, true);
    assert.deepEqual(
      output
        .split('\n')
        .filter((l) => l !== '')
        .sort(),
      [...findings].sort(),
    );
    assert.equal(code, 3);
  });
}
