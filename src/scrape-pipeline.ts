/**
 * From a collection to what a scrape serves: the profile (with the host's rules), its namer, the
 * names jobmeter reserves under the native profile, the JSON view, and the one place concurrent
 * scrapes coalesce (a collection and its naming pass).
 */
const { hostname } = process.getBuiltinModule('node:os');
import { DOMAIN_INSTRUMENTS, REFUSED_METRIC, SELF_INSTRUMENTS } from './domain/catalog.ts';
import { PROCESS_INSTRUMENTS } from './domain/process-metrics.ts';
import type { ServedTotals, SourceTotals } from './series/carry.ts';
import type { Collection } from './series/collection.ts';
import type { HostSnapshot } from './domain/snapshot.ts';
import { EXPOSED_KIND, SHAPE_OF_KIND, type InstrumentSpec } from './domain/types.ts';
import type { RenderFamily } from './exposition/render-model.ts';
import type { JsonView } from './http/metrics-response.ts';
import { checkFamilyRules } from './naming/check-rules.ts';
import { withExpositionOptions, type ProfileExpositionOptions } from './naming/profile-options.ts';
import { SCRAPE_ERRORS_FAMILY } from './naming/name-claims.ts';
import { resolveProfile } from './naming/profiles/index.ts';
import { claimedNames, nativeClaimedNames } from './naming/prometheus-names.ts';
import { createNamer, type Namer, type NamerOptions } from './naming/to-families.ts';
import type { Profile, TableProfile } from './naming/types.ts';
import type { HostInstruments } from './options.ts';
import type { ResolvedOptions } from './resolve-options.ts';

/**
 * The JSON view of a profile. The dedicated listener has no auth, i.e. it is wasmrun's open mode,
 * so the per-session breakdown is included there (never as labels: ids are unbounded), always:
 * `[]` when the host lists no sessions (no snapshot, or one without `sessions.list`), as wasmrun's
 * open mode always has the array. Data ingested over OTLP never fills it: no OTLP instrument
 * carries the per-session list (docs/collector.md).
 */
export function jsonView(
  profile: Profile,
  lastSnapshot: () => HostSnapshot | undefined = () => undefined,
): JsonView {
  if (profile.kind !== 'table' || profile.json !== 'flat') return { shape: 'generic' };
  return {
    shape: 'flat',
    prefix: profile.prefix,
    extra: () => {
      const list = lastSnapshot()?.sessions?.list ?? [];
      return {
        sessions: list.map((s) => ({
          id: s.id,
          disk_bytes: s.diskBytes,
          memory_cap_pages: s.memoryCapPages,
        })),
      };
    },
  };
}

/**
 * The names jobmeter serves itself under the native profile, by owner: its instruments' (a sender
 * may feed those very instruments), `target_info`, and the self-metrics (no sender may take those).
 */
export function reservedNativeNames(
  specs: readonly InstrumentSpec[],
  scopeInfo: boolean,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const spec of [...DOMAIN_INSTRUMENTS, ...PROCESS_INSTRUMENTS, ...specs]) {
    const kind = EXPOSED_KIND[SHAPE_OF_KIND[spec.kind]];
    for (const n of nativeClaimedNames(spec.name, spec.unit, kind)) out.set(n, spec.name);
  }
  if (scopeInfo) for (const n of claimedNames('target_info', 'info')) out.set(n, 'target_info');
  for (const n of claimedNames(SCRAPE_ERRORS_FAMILY, 'counter'))
    out.set(n, `the self-metric ${SCRAPE_ERRORS_FAMILY}`);
  for (const n of nativeClaimedNames(REFUSED_METRIC, '{data_point}', 'counter'))
    out.set(n, `the self-metric ${REFUSED_METRIC}`);
  return out;
}

/** The profile, extended with the host's rules once they are checked against it, under `exposition`. */
export function buildProfile(
  choice: Pick<ResolvedOptions, 'profile' | 'profileRules'>,
  scopeInfo: boolean,
  exposition: ProfileExpositionOptions,
): Profile {
  const builtIn = resolveProfile(choice.profile, scopeInfo);
  const labelsByName = builtIn.kind === 'table' && builtIn.order === 'sorted';
  const rules = checkFamilyRules(choice.profileRules, builtIn.rules ?? [], labelsByName);
  return withExpositionOptions(resolveProfile(choice.profile, scopeInfo, rules), exposition);
}

/** What a legacy profile says it drops under `hostInstruments: 'drop'`: the declared instruments it has no rule for. */
export function dropLine(profile: TableProfile, declared: readonly InstrumentSpec[]): string {
  const ruled = new Set(profile.rules.map((r) => r.instrument));
  const dropped = declared.filter((s) => !ruled.has(s.name)).map((s) => s.name);
  return (
    `profile ${profile.name} drops host instruments it has no rule for (hostInstruments: drop): ${dropped.length} declared` +
    (dropped.length > 0 ? ` (${dropped.join(', ')})` : '') +
    ', and any made later on jobmeter.meter or the global API'
  );
}

/**
 * The namer of a profile: jobmeter's own instruments a legacy profile has no rule for are left
 * out (its original has no such series); the host's are served under native names unless it
 * asked to drop them. `carry`: the store's memory of what zero-filled counters served, and of the
 * sources its scrape merges in from the ingest (series/carry.ts).
 */
export function profileNamer(
  profile: Profile,
  hostInstruments: HostInstruments,
  hostName: string | undefined,
  carry: {
    readonly served: ServedTotals;
    readonly sources?: SourceTotals;
    readonly unserved?: NamerOptions['unserved'];
  },
): Namer {
  return createNamer(profile, {
    // The `hostname` option (its row's rule checked it), or the machine's name.
    hostname: hostName ?? hostname(),
    totals: carry.served,
    ...(carry.sources !== undefined && { sources: carry.sources }),
    ...(carry.unserved !== undefined && { unserved: carry.unserved }),
    hostInstruments,
    // The ingest's self-metric too: a legacy profile serves no self-metric (its original has none).
    ownInstruments: new Set(
      [...DOMAIN_INSTRUMENTS, ...PROCESS_INSTRUMENTS, ...SELF_INSTRUMENTS]
        .map((s) => s.name)
        .concat(REFUSED_METRIC),
    ),
  });
}

/**
 * One scrape: a collection, named. Concurrent calls share the collection and the naming pass;
 * the naming pass is sliced, so a large collection never holds the event loop for long. The
 * families keep nothing of the collection's figures (they are copied): the collection is done
 * once the pass is over, and the store copies the next one into the same storage.
 *
 * `collectNow`: where this call's collection comes from, when it starts one (the profile-named
 * push's, read from its own reader); a call while a pass is in flight shares that one unless
 * `version` (what was written: the ingest's changes) moved since it began: then it gets the pass
 * after it, so a scrape holds every push acknowledged before it arrived. Two passes of `namer`
 * never interleave: a pass carries what it reads into the namer's state.
 */
export function coalescedScrape(
  collect: () => Promise<Collection>,
  namer: Namer,
  version: () => number = () => 0,
): (collectNow?: () => Promise<Collection>) => Promise<RenderFamily[]> {
  let inflight: { readonly families: Promise<RenderFamily[]>; readonly at: number } | undefined;
  let next: Promise<RenderFamily[]> | undefined;
  const start = (collectNow: () => Promise<Collection>): Promise<RenderFamily[]> => {
    const pass = {
      at: version(),
      families: collectNow()
        .then((c) =>
          namer.toFamiliesSliced(c).finally(async () => {
            c.done();
            await c.passed?.();
          }),
        )
        .finally(() => {
          if (inflight === pass) inflight = undefined;
        }),
    };
    inflight = pass;
    return pass.families;
  };
  return (collectNow = collect) => {
    if (inflight === undefined) return start(collectNow);
    if (inflight.at === version()) return inflight.families;
    // Written since the pass in flight began: one pass after it, for every call that came since.
    return (next ??= inflight.families
      .then(
        () => {},
        () => {},
      )
      .then(() => {
        next = undefined;
        return inflight?.families ?? start(collectNow);
      }));
  };
}
