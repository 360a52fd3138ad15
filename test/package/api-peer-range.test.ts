/**
 * jobmeter's `@opentelemetry/api` peer range is the one the OpenTelemetry SDK packages it depends on
 * allow (their own peerDependencies, as installed): no wider, or a host would install an API the
 * SDK refuses; no narrower, or jobmeter would refuse an API minor the SDK takes. The development
 * install is held to the same range.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const API = '@opentelemetry/api';

interface Manifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const manifest = (path: string): Manifest =>
  JSON.parse(readFileSync(`${ROOT}${path}`, 'utf8')) as Manifest;

type Version = [number, number, number];
/** The versions a range takes, as [lowest, first refused); `undefined`: no upper bound. */
type Interval = [Version, Version | undefined];

const version = (v: string): Version => {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  assert.ok(m, `a plain version: ${v}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
};
const compare = (a: Version, b: Version): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** The range forms the OpenTelemetry packages write: `^a.b.c`, `>=a.b.c`, `>=a.b.c <d.e.f`. */
function interval(range: string): Interval {
  const caret = /^\^(\S+)$/.exec(range);
  if (caret) {
    const lo = version(caret[1]!);
    return [lo, lo[0] > 0 ? [lo[0] + 1, 0, 0] : [0, lo[1] + 1, 0]];
  }
  const bounded = /^>=(\S+)(?: <(\S+))?$/.exec(range);
  assert.ok(bounded, `a range this test reads (^a, >=a, >=a <b): ${range}`);
  return [version(bounded[1]!), bounded[2] === undefined ? undefined : version(bounded[2])];
}

test("the @opentelemetry/api peer range is what jobmeter's OpenTelemetry dependencies allow, together", () => {
  const own = manifest('package.json');
  const allowed = Object.keys(own.dependencies ?? {})
    .map(
      (name) =>
        [name, manifest(`node_modules/${name}/package.json`).peerDependencies?.[API]] as const,
    )
    .filter((entry): entry is readonly [string, string] => entry[1] !== undefined);
  // Not vacuous: the SDK packages jobmeter is built on declare it.
  assert.ok(
    allowed.some(([name]) => name === '@opentelemetry/sdk-metrics'),
    JSON.stringify(allowed),
  );
  const together = allowed
    .map(([, range]) => interval(range))
    .reduce<Interval>(
      ([lo, hi], [l, h]) => [
        compare(l, lo) > 0 ? l : lo,
        hi === undefined ? h : h === undefined || compare(hi, h) < 0 ? hi : h,
      ],
      [[0, 0, 0], undefined],
    );
  const report = `jobmeter: ${own.peerDependencies?.[API]}; its dependencies: ${allowed.map(([n, r]) => `${n} ${r}`).join(', ')}`;
  assert.deepEqual(interval(own.peerDependencies![API]!), together, report);
  assert.equal(
    own.devDependencies?.[API],
    own.peerDependencies?.[API],
    'the development install is held to the peer range',
  );
});
