/**
 * Where the test peers built from Go modules are: the OpenTelemetry Collector, Prometheus 3 and a
 * small Go program on the OpenTelemetry Go SDK (test/peers/go-daemon), go-logfmt's decoder
 * (test/peers/logfmt-decode),
 * built by scripts/build-test-peers.sh (run by `npm test`'s pretest) at the versions pinned in
 * test/peers/versions.env. The script is the one place that knows the cache layout; this asks it.
 *
 * Nothing here builds or skips: a peer that is not there throws, naming the command that builds it.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/build-test-peers.sh', import.meta.url));
export const BUILD_PEERS_COMMAND = 'bash scripts/build-test-peers.sh   (npm test runs it first)';

export interface Peers {
  otelcol: string;
  otelcolVersion: string;
  prometheus3: string;
  promtool3: string;
  prometheus3Version: string;
  goDaemon: string;
  logfmtDecode: string;
  clientModelProto: string;
}

let cached: Peers | undefined;

function where(): Peers {
  if (cached) return cached;
  const out = execFileSync('bash', [SCRIPT, '--where'], { encoding: 'utf8' });
  const kv = new Map(
    out
      .trim()
      .split('\n')
      .map((line) => {
        const i = line.indexOf('=');
        return [line.slice(0, i), line.slice(i + 1)] as const;
      }),
  );
  const get = (key: string): string => {
    const value = kv.get(key);
    if (value === undefined || value === '')
      throw new Error(`build-test-peers.sh --where printed no ${key}:\n${out}`);
    return value;
  };
  cached = {
    otelcol: get('OTELCOL'),
    otelcolVersion: get('OTELCOL_VERSION'),
    prometheus3: get('PROMETHEUS3'),
    promtool3: get('PROMTOOL3'),
    prometheus3Version: get('PROMETHEUS3_VERSION'),
    goDaemon: get('GO_DAEMON'),
    logfmtDecode: get('LOGFMT_DECODE'),
    clientModelProto: get('CLIENT_MODEL_PROTO'),
  };
  return cached;
}

function executable(path: string, what: string): string {
  try {
    accessSync(path, fsConstants.X_OK);
    return path;
  } catch {
    throw new Error(`${what} is not built (${path} missing): run ${BUILD_PEERS_COMMAND}`);
  }
}

/** The pinned Collector binary (`otelcol-jobmeter`, built with OCB). */
export function otelcolBinary(): string {
  const p = where();
  return executable(p.otelcol, `the OpenTelemetry Collector ${p.otelcolVersion}`);
}

/** The pinned Prometheus 3 server or promtool. */
export function prometheus3Binary(name: 'prometheus' | 'promtool'): string {
  const p = where();
  return executable(
    name === 'prometheus' ? p.prometheus3 : p.promtool3,
    `Prometheus ${p.prometheus3Version} (${name})`,
  );
}

/** test/peers/go-daemon: a Go program on the OpenTelemetry Go SDK (stdin: a script of runs). */
export function goDaemonBinary(): string {
  return executable(where().goDaemon, 'test/peers/go-daemon');
}

/**
 * test/peers/logfmt-decode: go-logfmt's decoder (go-kit/log's, Loki's logfmt parser). stdin: logfmt
 * lines; stdout: each line's pairs as a JSON array of [key, value]; exit 1 at a line that is not
 * one record.
 */
export function logfmtDecodeBinary(): string {
  return executable(where().logfmtDecode, 'test/peers/logfmt-decode');
}

/** client_model's official io/prometheus/client/metrics.proto (the version in versions.env). */
export function clientModelProto(): string {
  const path = where().clientModelProto;
  try {
    accessSync(path, fsConstants.R_OK);
    return path;
  } catch {
    throw new Error(
      `client_model's metrics.proto is not fetched (${path} missing): run ${BUILD_PEERS_COMMAND}`,
    );
  }
}

export function peerVersions(): { otelcol: string; prometheus3: string } {
  const p = where();
  return { otelcol: p.otelcolVersion, prometheus3: p.prometheus3Version };
}
