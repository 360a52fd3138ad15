/**
 * SIGHUP in `jobmeter serve`, and `POST /-/reload` on its telemetry listener when `[telemetry]
 * enable_reload` is set (as Prometheus' `--web.enable-lifecycle`), the one same re-read, its line
 * starting with what asked for it: the configuration is re-read (file, secret files, environment
 * and the same flags) and checked as at startup, and one line says what came of it, naming the keys
 * whose value in the file differs from the one in force, as the config file spells them (never a
 * value). What serve can apply live it applies (the metrics route's and the ingest gate's tokens
 * and API keys: credentials are rotated without a restart), and from then on that value is the one
 * in force; everything else — listeners, the push, the profile — was built at startup and takes
 * effect at restart, as the line says. A reload that would leave a gated route without any
 * credential is not applied live: the running credentials stay until a restart, and the line says
 * the removal waits for it. A file that no longer loads is reported with serve's own message and
 * the running configuration is kept.
 *
 * serve listens from before it reads the configuration: a SIGHUP during that first read (which may
 * have seen the file before the change the SIGHUP announces) re-reads once the read is done.
 * Before serve listens, bin.ts's early listener answers (early-signals.ts).
 *
 * What must stay true: SIGHUP never stops serve (Node's default for it is to exit 129, so a
 * listener must stay registered for as long as serve runs), never opens a gated route and never
 * prints a secret's value.
 */
import {
  isSecret,
  JOBMETER_OPTIONS,
  SECTIONS,
  type OptionRow,
  type Section,
  type SectionName,
} from '../common/option-table.ts';
import { resolveServeConfig, type Env, type ServeConfig } from '../config/resolve-layers.ts';
import { ConfigError, describeConfigError } from '../errors.ts';
import { resolveOptions } from '../resolve-options.ts';
import type { GateCredentials } from '../http/gate.ts';
import type { LogIo } from './io.ts';
import type { LogFields } from '../common/log.ts';
import { messageOf } from '../common/message-of.ts';

/** Changed keys named in one line at most; past it `…and N more`. */
const MAX_KEYS_NAMED = 8;

/**
 * The gates whose credentials a SIGHUP can apply live (main.ts): the keys of each one's credentials
 * (its secret rows; while one is set, a request must present one), and where a configuration
 * holds them.
 */
const GATES = {
  metrics: gate('metrics', (c) => c.metrics),
  ingest: gate('ingest', (c) => c.options.ingest),
  telemetry: gate('telemetry', (c) => c.telemetry),
};
type Gate = keyof typeof GATES;

/** The keys of `changed` that are `gate`'s credentials (`metrics.token`, `ingest.apiKeys`). */
export const credentialKeys = (gate: Gate, changed: readonly string[]): string[] =>
  GATES[gate].keys(changed);

function gate(table: SectionName, of: (c: ServeConfig) => GateCredentials | false | undefined) {
  const keys = Object.entries(SECTIONS[table] as Section).flatMap(([k, row]) =>
    isSecret(row) ? `${table}.${k}` : [],
  );
  return { of, keys: (changed: readonly string[]) => changed.filter((k) => keys.includes(k)) };
}

/** Whether a gate is in force: it has a token or an API key. */
function gated(gate: GateCredentials | false | undefined): gate is GateCredentials {
  return (
    gate !== undefined &&
    gate !== false &&
    (gate.token !== undefined || (gate.apiKeys ?? []).length > 0)
  );
}

/**
 * `gate`'s new credentials, handed to `replace` when it is in force before and after (one given or
 * taken away is left to a restart: a change between open and gated is a change of what is exposed).
 * Returns the keys applied.
 * @throws ConfigError from `replace` for a credential that cannot be used (the running gate stays).
 */
export function rotateCredentials(gate: Gate, replace: (next: GateCredentials) => void): ApplyLive {
  return (running, next, changed) => {
    const { of, keys } = GATES[gate];
    const after = of(next);
    const live = keys(changed);
    if (live.length === 0 || !gated(of(running)) || !gated(after)) return [];
    replace({ token: after.token, apiKeys: after.apiKeys });
    return live;
  };
}

/**
 * Applies what it can of `next` to the running service; returns the keys of `changed` it applied.
 * Throws a ConfigError when `next` cannot be applied (the running configuration stays).
 */
export type ApplyLive = (
  running: ServeConfig,
  next: ServeConfig,
  changed: readonly string[],
) => readonly string[];

/** What asked for a re-read: its line starts with it. */
export type ReloadTrigger = 'SIGHUP' | 'POST /-/reload';

/** What a re-read came to: `said` is its line's text after the trigger (never a value). */
export interface ReloadAnswer {
  readonly ok: boolean;
  readonly said: string;
}

/**
 * Listens for SIGHUP until `dispose()`; each one re-reads the configuration (one at a time), from
 * {@link loaded} on; one before it re-reads at {@link loaded}.
 */
export class HangupReloader {
  private chain: Promise<void> = Promise.resolve();
  private apply: ApplyLive | undefined;
  /** A SIGHUP came before the configuration serve started with was loaded. */
  private missed = false;
  /**
   * How the last load of the configuration went (Prometheus' `…_config_last_reload_successful`):
   * whether the last load, at start or on a SIGHUP, was read and applied (unchanged counts); when
   * the last successful one was, Unix seconds; the keys that one found changed in the file against
   * the configuration in force (applied now or at restart, as its line says), as the file spells
   * them: never a value; none at start (what the status page says the last reload changed).
   */
  private outcome = { successful: false, successSeconds: 0, changed: [] as readonly string[] };
  private readonly onHangup = (): void => {
    if (this.running === undefined) this.missed = true;
    else void this.reload('SIGHUP');
  };

  /** The configuration as serve reads it from its arguments and environment, read again. */
  private readonly read: () => Promise<ServeConfig>;
  private running: ServeConfig | undefined;
  private readonly io: LogIo;

  /** `args` and `env` are what serve reads its configuration from. */
  constructor(args: readonly string[], env: Env, io: LogIo) {
    this.read = () => resolveServeConfig({ argv: args, env });
    this.io = io;
    process.on('SIGHUP', this.onHangup);
  }

  /** `running` is the configuration serve starts with: re-read now if a SIGHUP came while it was read. */
  loaded(running: ServeConfig): void {
    this.running = running;
    this.succeeded();
    if (this.missed) this.onHangup();
  }

  /** From now on, what `apply` can apply is applied live (once the servers are up). */
  applyLiveWith(apply: ApplyLive): void {
    this.apply = apply;
  }

  /** From now on nothing is applied live (shutdown has begun); SIGHUP is still caught and reported. */
  stopApplying(): void {
    this.apply = undefined;
  }

  /** How the last load went: read by serve's self-telemetry. */
  lastReload(): Readonly<typeof this.outcome> {
    return this.outcome;
  }

  private succeeded(changed: readonly string[] = []): void {
    this.outcome = {
      successful: true,
      successSeconds: Date.now() / 1000,
      changed: spelled(changed),
    };
  }

  private failed(trigger: ReloadTrigger, err: unknown): ReloadAnswer {
    this.outcome = { ...this.outcome, successful: false };
    const why = err instanceof ConfigError ? describeConfigError(err) : messageOf(err);
    const said = `configuration not reloaded, the running one is kept: ${why}`;
    this.io.log(
      'error',
      'configuration not reloaded, the running one is kept',
      { trigger, result: 'failed', error: why },
      `${trigger}: ${said}`,
    );
    return { ok: false, said };
  }

  /**
   * Re-reads the configuration now, after the re-reads asked for before it (one at a time), from
   * {@link loaded} on; resolves with what its line said.
   */
  reload(trigger: ReloadTrigger): Promise<ReloadAnswer> {
    const answer = this.chain.then(() => this.reread(trigger));
    // The next re-read waits for this one, however it ends.
    this.chain = answer.then(
      () => undefined,
      () => undefined,
    );
    return answer;
  }

  dispose(): void {
    process.off('SIGHUP', this.onHangup);
  }

  private async reread(trigger: ReloadTrigger): Promise<ReloadAnswer> {
    const running = this.running!;
    let next: ServeConfig;
    try {
      next = await this.read();
      resolveOptions(next.options);
    } catch (err) {
      return this.failed(trigger, err);
    }
    const changed = changedKeys(running, next);
    if (changed.length === 0) {
      this.succeeded();
      return this.said(trigger, 'configuration re-read: unchanged', { result: 'unchanged' });
    }
    const removed = removedCredentials(running, next, changed);
    let applied: readonly string[] = [];
    try {
      applied =
        this.apply?.(
          running,
          next,
          changed.filter((k) => !removed.includes(k)),
        ) ?? [];
    } catch (err) {
      return this.failed(trigger, err);
    }
    this.running = withApplied(running, next, applied);
    this.succeeded(changed);
    const atRestart = changed.filter((k) => !applied.includes(k) && !removed.includes(k));
    const parts = [
      ...(applied.length > 0 ? [`applied now: ${named(applied)}`] : []),
      ...(removed.length > 0 ? [`${named(removed)} removed: takes effect at restart`] : []),
      ...(atRestart.length > 0 ? [`take effect at restart: ${named(atRestart)}`] : []),
    ];
    return this.said(trigger, `configuration re-read; ${parts.join('; ')}`, {
      result: 'reloaded',
      changed: changed.join(','),
      applied: applied.join(','),
      at_restart: [...removed, ...atRestart].join(','),
    });
  }

  private said(trigger: ReloadTrigger, said: string, fields: LogFields): ReloadAnswer {
    this.io.log('info', 'configuration re-read', { trigger, ...fields }, `${trigger}: ${said}`);
    return { ok: true, said };
  }
}

/**
 * The keys whose values differ, two levels deep (`listener.port`, `metrics.token`): what to name
 * to an operator without naming a value.
 */
export function changedKeys(before: ServeConfig, after: ServeConfig): string[] {
  const a = flatten(tablesOf(before));
  const b = flatten(tablesOf(after));
  const keys = new Set([...a.keys(), ...b.keys()]);
  const changed = [...keys].filter((k) => a.get(k) !== b.get(k)).sort();
  // The telemetry listener turned off or on is that one setting, `[telemetry] enabled`, not also
  // the address and reload of a listener one side has none of.
  return changed.includes('telemetry.enabled')
    ? changed.filter((k) => k === 'telemetry.enabled' || !k.startsWith('telemetry.'))
    : changed;
}

/**
 * A configuration as one record of tables, the shape {@link changedKeys} names its keys in (the
 * options' own, `metrics`, `telemetry` with its `enabled`); {@link fromTables} is its inverse.
 */
function tablesOf(config: ServeConfig): Record<string, unknown> {
  return {
    ...config.options,
    metrics: config.metrics,
    telemetry:
      config.telemetry === undefined ? { enabled: false } : { enabled: true, ...config.telemetry },
  };
}

function fromTables(tables: Record<string, unknown>): ServeConfig {
  const { metrics, telemetry, ...options } = tables;
  const { enabled, ...address } = telemetry as { enabled: boolean };
  return {
    options,
    metrics: metrics as ServeConfig['metrics'],
    telemetry: enabled ? (address as ServeConfig['telemetry']) : undefined,
  };
}

/**
 * The credential keys of `changed` when `next` leaves a gate (the metrics route, the ingest, the
 * telemetry listener) none while `running` has one: applied live, that would open it to anyone its
 * other gates let through, so it waits for a restart (secure by default). Removing one of two
 * credentials only narrows who gets in.
 */
function removedCredentials(
  running: ServeConfig,
  next: ServeConfig,
  changed: readonly string[],
): string[] {
  return Object.values(GATES).flatMap(({ of, keys }) =>
    gated(of(running)) && !gated(of(next)) ? keys(changed) : [],
  );
}

/** `keys` as the config file spells them, each once. */
const spelled = (keys: readonly string[]): string[] => [...new Set(keys.map(fileKey))];

/** `keys` as the config file spells them, in one line: at most {@link MAX_KEYS_NAMED}. */
function named(keys: readonly string[]): string {
  const names = spelled(keys);
  return (
    names.slice(0, MAX_KEYS_NAMED).join(', ') +
    (names.length > MAX_KEYS_NAMED ? ` …and ${names.length - MAX_KEYS_NAMED} more` : '')
  );
}

/**
 * A key of {@link changedKeys} as the config file spells it, from the option table:
 * `otlp.intervalMillis` → `[otlp] interval_ms`, `serviceName` → `service_name`,
 * `translationStrategy` → `[naming] translation_strategy`; `[telemetry]`'s host and port are its
 * one `listen`. A key no table has is named as it is.
 */
export function fileKey(path: string): string {
  const [table, field] = path.split('.', 2) as [string, string | undefined];
  const rows = (section: SectionName | 'open' | undefined): Record<string, OptionRow> =>
    section === undefined || section === 'open' ? {} : SECTIONS[section];
  if (table === 'telemetry')
    return `[telemetry] ${rows('telemetry')[field ?? '']?.file ?? 'listen'}`;
  const row: OptionRow | undefined = (JOBMETER_OPTIONS as Record<string, OptionRow>)[table];
  if (row?.file === undefined) return path;
  const file =
    field === undefined ? row.file : `${row.file}.${rows(row.keys)[field]?.file ?? field}`;
  const dot = file.indexOf('.');
  return dot === -1 ? file : `[${file.slice(0, dot)}] ${file.slice(dot + 1)}`;
}

/**
 * What the service runs with once `applied` is in force: each key of `applied` (as
 * {@link changedKeys} names it, of any table) has its value in `next`, every other key its value in
 * `running`. The next reload compares the file against this, so a key is named as changed exactly
 * when the file's value differs from the one in force: a rotation back to an earlier value is a
 * change, and an applied one is not named again. What must stay true: an {@link ApplyLive} returns
 * only keys it put in force, and every key it can return is carried here by this one rule.
 */
function withApplied(
  running: ServeConfig,
  next: ServeConfig,
  applied: readonly string[],
): ServeConfig {
  if (applied.length === 0) return running;
  const tables = tablesOf(running);
  const from = tablesOf(next) as Record<string, Record<string, unknown> | undefined>;
  for (const key of applied) {
    const [table, field] = key.split('.', 2) as [string, string];
    tables[table] = { ...(tables[table] as object), [field]: from[table]?.[field] };
  }
  return fromTables(tables);
}

function flatten(config: object): Map<string, string> {
  const entries = Object.entries(config).flatMap(([key, value]: [string, unknown]) =>
    value === null || typeof value !== 'object' || Array.isArray(value)
      ? [[key, value] as const]
      : Object.entries(value).map(
          ([inner, v]: [string, unknown]) => [`${key}.${inner}`, v] as const,
        ),
  );
  return new Map(
    entries
      .filter(([, v]) => v !== undefined && typeof v !== 'function')
      .map(([k, v]) => [k, JSON.stringify(v) ?? '']),
  );
}
