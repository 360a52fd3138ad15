/**
 * createJobmeter's options resolved once: every default and rule the option table's
 * (common/option-table.ts) where it has them, the rest here; a bad value is a ConfigError naming
 * it, an unknown key too (common/option-keys.ts).
 */
import { cluster } from './cluster/transport.ts';
import { MERGE_POLICIES } from './domain/merge-rules.ts';
import { OPTION_DEFAULTS } from './common/option-defaults.ts';
import { checkOptionKeys } from './common/option-keys.ts';
import {
  CLUSTER_OPTIONS,
  INGEST_OPTIONS,
  JOBMETER_OPTIONS,
  LISTENER_OPTIONS,
  OTLP_OPTIONS,
  PROFILE_TABLE_OPTIONS,
  resolveOption,
  resolveSection,
} from './common/option-table.ts';
import { ConfigError } from './errors.ts';
import { list, oneOfRule, oneServiceName, timeoutWithinInterval } from './common/option-rules.ts';
import { assertBindAllowed } from './common/loopback.ts';
import { logTo } from './common/log.ts';
import { checkInstrumentSpecs } from './domain/check-specs.ts';
import { compileGate } from './http/gate.ts';
import { INGEST_POSTURE } from './common/postures.ts';
import {
  type HostInstruments,
  type IngestOptions,
  type JobmeterOptions,
  type OtlpPushOptions,
  type PullListenerOptions,
} from './options.ts';
import type { ResolvedOtlpPushOptions } from './readers/otlp-push.ts';

/**
 * createJobmeter's options resolved ({@link resolveOptions}): the rows with a default or a rule
 * each its checked value (one without a default left out when unset), the others checked and typed
 * by the functions below.
 */
export type ResolvedOptions = ReturnType<typeof resolveOptions>;

/** The pull listener's options with their defaults; the format unset: the profile's original's. */
export function resolveListener(l: PullListenerOptions | false | undefined) {
  if (l === false) return false as const;
  const section = resolveSection(l, LISTENER_OPTIONS, 'listener');
  // The one place the bind is judged: the listener binds the host it is given.
  assertBindAllowed(section.host, section.allowNonLoopback, 'metrics listener');
  return section;
}

/**
 * The ingest's options with their defaults, each checked by its row's rule, its host held to
 * loopback unless opted out, and its gate keys compiled: the listener checks none of them again.
 */
export function resolveIngest(given: IngestOptions) {
  // The token is the gate's, compiled with its other keys.
  const section = resolveSection(given, INGEST_OPTIONS, 'ingest', ['token']);
  assertBindAllowed(
    section.host,
    section.allowNonLoopback,
    'OTLP ingest listener',
    'ingest.host',
    'ingest.allowNonLoopback (allow_non_loopback = true)',
  );
  return { ...section, gate: compileGate(INGEST_POSTURE, given, 'ingest.') };
}

/**
 * The push's options with their defaults, each checked by its row's rule (the push reader checks
 * none again); `endpoint`: the one given, which makes a push (its row's rule checks it here too).
 */
function resolveOtlp(given: OtlpPushOptions, endpoint: string): ResolvedOtlpPushOptions {
  // The naming is resolveOptions', endpoint or not.
  const rest = resolveSection(given, OTLP_OPTIONS, 'otlp', ['naming']);
  const timeoutMillis =
    given.timeoutMillis === undefined
      ? // A timeout nobody set follows a shorter interval down; one that was set is held to it.
        Math.min(rest.timeoutMillis, rest.intervalMillis)
      : timeoutWithinInterval(
          rest.timeoutMillis,
          rest.intervalMillis,
          'otlp.timeoutMillis',
          'otlp.intervalMillis',
        );
  return { ...rest, endpoint, timeoutMillis };
}

/** The profile option (a name, or `{ name, rules }`) and `hostInstruments`, checked, with defaults. */
export function resolveProfileChoice(
  given: JobmeterOptions['profile'],
  host: HostInstruments | undefined,
) {
  const table = typeof given === 'object' && given !== null;
  const profile = PROFILE_TABLE_OPTIONS.name.rule(
    (table ? given.name : given) ?? OPTION_DEFAULTS.profile,
    table ? 'profile.name' : 'profile',
  );
  const hostInstruments = resolveOption(JOBMETER_OPTIONS, 'hostInstruments', host);
  return { profile, profileRules: table ? (given.rules ?? []) : [], hostInstruments };
}

export function resolveOptions(o: JobmeterOptions) {
  checkOptionKeys(o, 'jobmeter');
  const listener = resolveListener(o.listener);
  const otlp = o.otlp?.endpoint === undefined ? undefined : resolveOtlp(o.otlp, o.otlp.endpoint);
  const otlpNaming = resolveOption(OTLP_OPTIONS, 'naming', o.otlp?.naming, 'otlp');
  // Profile series are cumulative, as Prometheus reads them: with delta, canonical names only.
  if (otlp !== undefined && otlpNaming === 'profile' && otlp.temporality !== 'cumulative') {
    throw new ConfigError(
      'otlp.naming',
      otlpNaming,
      `canonical when otlp.temporality is ${otlp.temporality} (profile series are cumulative)`,
    );
  }
  const ingest =
    o.ingest === undefined || o.ingest === false ? (false as const) : resolveIngest(o.ingest);
  const section = resolveSection(o, JOBMETER_OPTIONS, '', ['profile', 'hostInstruments']);
  return {
    ...resolveProfileChoice(o.profile, o.hostInstruments),
    ...section,
    // `resourceAttributes['service.name']` is the service name, as the config file's and
    // OTEL_RESOURCE_ATTRIBUTES' are.
    ...(Object.hasOwn(section.resourceAttributes, 'service.name') && {
      serviceName: oneServiceName(
        section.resourceAttributes['service.name'],
        "resourceAttributes['service.name']",
        o.serviceName,
        'serviceName',
      ),
    }),
    listener,
    otlp,
    otlpNaming,
    ingest,
    instruments: checkInstrumentSpecs(o.instruments ?? []),
    views: list(o.views ?? [], 'views', 'OpenTelemetry ViewOptions'),
    log: logTo(section.log ?? ((line) => void process.stderr.write(`jobmeter: ${line}\n`))),
    cluster: resolveCluster(o.cluster),
  };
}

function resolveCluster(c: JobmeterOptions['cluster']) {
  if (c === false) return false as const;
  const section = resolveSection(c, CLUSTER_OPTIONS, 'cluster');
  const merge = c?.merge ?? {};
  for (const [name, policy] of Object.entries(merge))
    oneOfRule(MERGE_POLICIES)(policy, `cluster.merge.${name}`);
  return { ...section, reportTo: c?.reportTo, merge: merge as Readonly<typeof merge> };
}

/** A member reports to the primary: it binds nothing and pushes nothing of its own. */
export function roleOf(o: ResolvedOptions): 'primary' | 'member' | 'off' {
  if (o.cluster === false) return 'off';
  return o.cluster.reportTo !== undefined || cluster.isWorker ? 'member' : 'primary';
}
