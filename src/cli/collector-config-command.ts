/**
 * `jobmeter collector-config --profile P [--config FILE] [--otlp HOST:PORT] [--prometheus HOST:PORT]`:
 * prints the Collector configuration compiled from a legacy profile, with the host's own rules
 * from its configuration file (collector-config.ts), as YAML, under a
 * header that names what the Collector cannot reproduce. Usage errors are ConfigErrors naming the
 * flag, as serve's are.
 */
import { parseArgs, type ParseArgsOptionDescriptor } from 'node:util';
import { stringify } from 'yaml';

import { parseServiceConfig } from '../config/file-layer.ts';
import { loadConfigFile } from '../config/file-parser.ts';
import { readAddress } from '../config/json-schema.ts';
import { ConfigError } from '../errors.ts';
import { httpUrl } from '../common/option-rules.ts';
import { checkFamilyRules } from '../naming/check-rules.ts';
import { LEGACY_PROFILES } from '../naming/profiles/index.ts';
import type { TableProfile } from '../naming/types.ts';
import { COLLECTOR_CONFIG_DEFAULTS, compileCollectorConfig } from './collector-config.ts';

const LEGACY_NAMES = Object.keys(LEGACY_PROFILES) as (keyof typeof LEGACY_PROFILES)[];

/** A worker's receiver: OTLP/gRPC, which the front's load_balancing exporter sends, on its usual port. */
const WORKER_OTLP_DEFAULT = '127.0.0.1:4317';

export const COLLECTOR_CONFIG_USAGE = `       jobmeter collector-config --profile NAME [--config FILE] [--otlp HOST:PORT]
                                 [--prometheus HOST:PORT | --gateway URL | --remote-write URL | --gateway-grpc HOST:PORT]
                                 [--health HOST:PORT] [--telemetry HOST:PORT]
       jobmeter collector-config --profile NAME --front --workers HOST:PORT,HOST:PORT… [--otlp HOST:PORT] …
       jobmeter collector-config --worker [--otlp HOST:PORT] [--prometheus HOST:PORT | --gateway URL | --remote-write URL] …`;

export const COLLECTOR_CONFIG_HELP = `collector-config prints an OpenTelemetry Collector configuration that serves a legacy profile's
series from jobmeter's canonical instruments pushed over OTLP (docs/collector-profiles.md):
  --profile NAME         ${LEGACY_NAMES.join(', ')}
  --config FILE          jobmeter's configuration file: its profile (when --profile is not given)
                         and its [[profile.rules]], compiled after the profile's own
  --otlp HOST:PORT       the otlp receiver's OTLP/HTTP address (default ${COLLECTOR_CONFIG_DEFAULTS.otlp})
  --prometheus HOST:PORT the prometheus exporter's address (default ${COLLECTOR_CONFIG_DEFAULTS.prometheus})
  --gateway URL          a gateway instead: memory_limiter and batch, and an otlp_http exporter to a
                         store's OTLP endpoint (Prometheus 3: http://HOST:9090/api/v1/otlp)
  --remote-write URL     a gateway with a prometheus_remote_write exporter (http://HOST:9090/api/v1/write);
                         with --gateway, both
  --gateway-grpc HOST:PORT
                         a gateway with an otlp_grpc exporter (no TLS) to an OTLP/gRPC receiver: jobmeter
                         serve's [ingest] grpc_port (docs/fleet.md); with the others, each
  --health HOST:PORT     the health_check extension's address (default ${COLLECTOR_CONFIG_DEFAULTS.health})
  --telemetry HOST:PORT  where the Collector serves its own metrics (default ${COLLECTOR_CONFIG_DEFAULTS.telemetry})
A sharded tier, when one Collector cannot hold the fleet (docs/collector-profiles.md):
  --front                the front: the profile's processors and batch, then a load_balancing exporter
                         routing each stream to one worker (routing_key: streamID), its
                         sending_queue and retry_on_failure written out
  --workers LIST         the workers' OTLP/gRPC addresses, comma-separated (with --front)
  --worker               a worker: OTLP/gRPC in on --otlp (default ${WORKER_OTLP_DEFAULT}), delta_to_cumulative,
                         then --prometheus, --gateway or --remote-write; no --profile needed`;

/** A flag's `HOST:PORT`, else `fallback`. @throws ConfigError naming the flag. */
function address<F extends string | undefined>(
  flag: string,
  value: string | undefined,
  fallback: F,
): string | F {
  if (value !== undefined) readAddress(value, flag, 'host');
  return value ?? fallback;
}

/**
 * The profile a command compiles: `--profile NAME`, or the profile of the jobmeter configuration
 * file `--config FILE` (what `jobmeter serve --config` reads), with that file's
 * `[[profile.rules]]` after the table's own, checked as serve checks them. A host's rules are how
 * a legacy profile serves instruments its original never had (the queue wait, the attempts…), so
 * the Collector and the sender's views need them too.
 * @throws ConfigError for a file that serve would refuse, a profile that is not a legacy one, or
 *   `--profile` naming another profile than the file's.
 */
export async function commandProfile(
  name: string | undefined,
  configPath: string | undefined,
): Promise<TableProfile> {
  if (configPath === undefined) return legacyProfile(name);
  const file = parseServiceConfig(await loadConfigFile(configPath), configPath);
  if (name !== undefined && file.profile !== undefined && name !== file.profile)
    throw new ConfigError('--profile', name, `the profile of --config (${file.profile}) or none`);
  const table = legacyProfile(name ?? file.profile);
  const rules = checkFamilyRules(file.profileRules ?? [], table.rules, table.order === 'sorted');
  return rules.length === 0 ? table : { ...table, rules: [...table.rules, ...rules] };
}

/** `--profile NAME`: a legacy profile's table. @throws ConfigError for anything else. */
export function legacyProfile(name: string | undefined): TableProfile {
  if (name === undefined || !(LEGACY_NAMES as string[]).includes(name)) {
    throw new ConfigError(
      '--profile',
      name,
      `one of ${LEGACY_NAMES.join(', ')} (the otel and semconv profiles' names are OpenTelemetry instrument names: they need no compiling)`,
    );
  }
  return LEGACY_PROFILES[name as keyof typeof LEGACY_PROFILES];
}

/** An http(s) URL flag, held to the OTLP endpoint's rule. @throws ConfigError naming the flag. */
export const storeUrl = (flag: string, value: string | undefined): string | undefined =>
  value === undefined ? undefined : httpUrl(value, flag);

/**
 * The flags of a command that compiles a profile (this one, `jobmeter views`): `--profile`,
 * `--config`, `--otlp`, `-h, --help` and the command's `more`, parsed strictly.
 * @throws parseArgs' errors.
 */
export function profileCommandFlags<const O extends Record<string, ParseArgsOptionDescriptor>>(
  args: readonly string[],
  more: O,
) {
  const options = {
    profile: { type: 'string' },
    config: { type: 'string' },
    otlp: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    ...more,
  } as const;
  return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
}

/** The command's arguments → the text it prints (without a final newline). @throws ConfigError, or parseArgs' errors. */
export async function collectorConfigCommand(args: readonly string[]): Promise<string> {
  const values = profileCommandFlags(args, {
    prometheus: { type: 'string' },
    gateway: { type: 'string' },
    'remote-write': { type: 'string' },
    'gateway-grpc': { type: 'string' },
    health: { type: 'string' },
    telemetry: { type: 'string' },
    front: { type: 'boolean' },
    workers: { type: 'string' },
    worker: { type: 'boolean' },
  });
  if (values.help === true)
    return `Usage: ${COLLECTOR_CONFIG_USAGE.trimStart()}\n\n${COLLECTOR_CONFIG_HELP}`;
  const worker = values.worker === true;
  if (worker && values.front === true)
    throw new ConfigError(
      '--worker',
      'true',
      'either --front or --worker (a Collector is one tier of the two)',
    );
  const workers = frontWorkers(values.front === true, values.workers);
  const profile =
    worker && values.profile === undefined && values.config === undefined
      ? WORKER_PROFILE
      : await commandProfile(values.profile, values.config);
  const name = profile.name;
  const otlpStore = storeUrl('--gateway', values.gateway);
  const remoteWrite = storeUrl('--remote-write', values['remote-write']);
  const otlpGrpc = address('--gateway-grpc', values['gateway-grpc'], undefined);
  const gateway = otlpStore !== undefined || remoteWrite !== undefined || otlpGrpc !== undefined;
  if (gateway && values.prometheus !== undefined) {
    throw new ConfigError(
      '--prometheus',
      values.prometheus,
      'no --prometheus with --gateway, --remote-write or --gateway-grpc (a gateway forwards to its store and serves nothing)',
    );
  }
  if (workers !== undefined) {
    const store = [
      ['--prometheus', values.prometheus],
      ['--gateway', otlpStore],
      ['--remote-write', remoteWrite],
      ['--gateway-grpc', otlpGrpc],
    ].find(([, v]) => v !== undefined);
    if (store !== undefined)
      throw new ConfigError(
        store[0]!,
        store[1],
        'no store with --front: its workers export (jobmeter collector-config --worker …)',
      );
  }
  const compiled = compileCollectorConfig(profile, {
    otlp: address(
      '--otlp',
      values.otlp,
      worker ? WORKER_OTLP_DEFAULT : COLLECTOR_CONFIG_DEFAULTS.otlp,
    ),
    prometheus: address('--prometheus', values.prometheus, COLLECTOR_CONFIG_DEFAULTS.prometheus),
    health: address('--health', values.health, COLLECTOR_CONFIG_DEFAULTS.health),
    telemetry: address('--telemetry', values.telemetry, COLLECTOR_CONFIG_DEFAULTS.telemetry),
    // No store given: no gateway (collector-config.ts isGateway).
    gateway: { otlp: otlpStore, remoteWrite, otlpGrpc },
    ...(worker && { tier: { worker: true } as const }),
    ...(workers !== undefined && { tier: { front: { workers } } }),
  });
  // What the configuration does, as comments above it.
  const header = worker
    ? [
        '# OpenTelemetry Collector configuration for a worker of a sharded tier, from: jobmeter collector-config --worker',
        "# The front (jobmeter collector-config --front) ran the profile's processors and routes each stream here over OTLP/gRPC; this worker makes delta streams cumulative and exports.",
      ]
    : [
        `# OpenTelemetry Collector configuration for jobmeter's ${name} profile, from: jobmeter collector-config --profile ${name}${values.config === undefined ? '' : ` --config ${values.config}`}`,
        `# The sender pushes jobmeter's canonical instruments (OTLP/HTTP, cumulative); ${servedBy(compiled.config['exporters'] as object)}.`,
        `# not reproduced by the Collector: ${compiled.notReproduced.length === 0 ? '(none)' : compiled.notReproduced.join(', ')}`,
        ...(compiled.zeroFilled.length === 0
          ? []
          : [`${ZERO_FILLED_PREFIX} ${compiled.zeroFilled.join(', ')}`]),
      ];
  return `${header.join('\n')}\n${stringify(compiled.config, { lineWidth: 0 })}`.replace(/\n$/, '');
}

/** A worker runs no profile rule: any profile's table compiles to the same worker. */
const WORKER_PROFILE = LEGACY_PROFILES.runwisp;

/** `--front --workers LIST`: the workers' addresses. @throws ConfigError for one flag without the other, or a bad address. */
function frontWorkers(front: boolean, list: string | undefined): string[] | undefined {
  if (!front) {
    if (list !== undefined) throw new ConfigError('--workers', list, '--workers only with --front');
    return undefined;
  }
  const workers = (list ?? '')
    .split(',')
    .map((w) => w.trim())
    .filter((w) => w !== '');
  if (workers.length === 0)
    throw new ConfigError(
      '--workers',
      list,
      'one or more worker OTLP/gRPC addresses, HOST:PORT,HOST:PORT',
    );
  for (const w of workers) address('--workers', w, w);
  const twice = workers.find((w, i) => workers.indexOf(w) !== i);
  if (twice !== undefined)
    throw new ConfigError('--workers', list, `each worker once (${twice} is listed twice)`);
  return workers;
}

/** The header line naming the zero-filled families: jobmeter's push carries their zeros, another SDK records them. */
export const ZERO_FILLED_PREFIX =
  "# zero-filled (jobmeter's canonical push carries the zeros; another SDK records 0 at start-up for them):";

function servedBy(exporters: object): string {
  if ('prometheus' in exporters) return "the prometheus exporter serves the profile's series";
  if ('load_balancing' in exporters)
    return 'this front renames them and routes each stream to one of its workers (jobmeter collector-config --worker), which export';
  return "the gateway forwards the profile's series to its store";
}
