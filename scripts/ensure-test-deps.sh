#!/usr/bin/env bash
# Makes sure the tests' system dependencies are installed: the official Python client's OpenMetrics
# parser (Debian package `python3-prometheus-client`, for Debian's /usr/bin/python3), `systemd-analyze`
# (Debian package `systemd`), the real
# Prometheus server and promtool (Debian package `prometheus`, 2.42 on bookworm), then the Node runtimes the installed-package
# test needs (scripts/ensure-node-runtimes.sh) and the peers built from Go modules (the
# OpenTelemetry Collector and Prometheus 3: scripts/build-test-peers.sh). Run by `npm test` as its
# `pretest`. Also Debian's `redis-server` and `postgresql` (the job-library integrations' tests,
# test/integrations/, start their own on loopback in temp dirs; the system services stay stopped),
# and Debian's `chromium` (the status page's browser test, test/status/).
#
# - Both on PATH: print their versions, exit 0.
# - Missing, running as root: apt-get update, install the package, check again.
# - Missing, not root: exit 1 naming the command to run. Nothing is skipped silently.
#
# It never starts a service. The package's postinst runs `invoke-rc.d prometheus start` (and, where
# systemd runs, `deb-systemd-invoke start prometheus.service`), which would leave a daemon on
# 0.0.0.0:9090 running as the `prometheus` user (that user is created by the postinst itself).
# Both helpers ask /usr/sbin/policy-rc.d first, so while installing we put one there that denies
# every start (exit 101), unless the machine already has its own; and if a daemon runs afterwards
# all the same (a policy that allows starts), we stop the one the install started.
# --no-install-recommends keeps out prometheus-node-exporter, another daemon (on :9100).
# Everything it prints goes to stderr, so `npm test`'s stdout is the test runner's alone.
set -euo pipefail
exec 1>&2

readonly BUILD_PEERS="$(dirname "$0")/build-test-peers.sh"
readonly NODE_RUNTIMES="$(dirname "$0")/ensure-node-runtimes.sh"
readonly PACKAGE=prometheus
readonly INSTALL_CMD="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${PACKAGE}"
readonly POLICY=/usr/sbin/policy-rc.d
readonly PIDFILE=/run/prometheus/prometheus.pid   # the Debian init script's

readonly PY_PACKAGE=python3-prometheus-client
readonly PY_INSTALL_CMD="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${PY_PACKAGE}"

# Exits 1 naming `$2` (the command that installs `$1`) unless we are root with apt-get.
require_root_apt() {
  if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-test-deps: $1 needed by the tests and missing; install as root with:" >&2
    echo "    $2" >&2
    exit 1
  fi
}

have_python_parser() {
  /usr/bin/python3 -c 'import prometheus_client.openmetrics.parser' >/dev/null 2>&1
}

# The package starts no service, so none of the policy-rc.d care below is needed for it.
ensure_python_parser() {
  if ! have_python_parser; then
    require_root_apt "the Python OpenMetrics parser (prometheus_client for /usr/bin/python3) is" "${PY_INSTALL_CMD}"
    echo "ensure-test-deps: prometheus_client missing for /usr/bin/python3; installing: ${PY_INSTALL_CMD}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PY_PACKAGE}"
    if ! have_python_parser; then
      echo "ensure-test-deps: '${PY_PACKAGE}' installed but /usr/bin/python3 still cannot import prometheus_client" >&2
      exit 1
    fi
  fi
  echo "ensure-test-deps: /usr/bin/python3: prometheus_client $(/usr/bin/python3 -c 'import importlib.metadata as m; print(m.version("prometheus_client"))')"
}

have_binaries() {
  command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1
}

print_versions() {
  echo "ensure-test-deps: $(command -v prometheus): $(prometheus --version 2>&1 | head -n 1)"
  echo "ensure-test-deps: $(command -v promtool): $(promtool --version 2>&1 | head -n 1)"
}

daemon_running() {
  [[ -s "${PIDFILE}" ]] && kill -0 "$(cat "${PIDFILE}")" 2>/dev/null
}

# systemd-analyze (Debian package `systemd`) rates the example unit (test/cli/systemd-unit.test.ts).
# Installing the package starts nothing in a container without systemd as PID 1.
ensure_systemd_analyze() {
  if ! command -v systemd-analyze >/dev/null 2>&1; then
    require_root_apt "systemd-analyze is" "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends systemd"
    echo "ensure-test-deps: systemd-analyze missing; installing the systemd package"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd
  fi
  echo "ensure-test-deps: $(command -v systemd-analyze): $(systemd-analyze --version | head -n 1)"
}

# redis-server and postgresql (Debian packages) for test/integrations/. Both postinsts start a
# system service (redis on 127.0.0.1:6379, the `main` PostgreSQL cluster on 5432); the tests
# start their own servers on free ports instead, so the same policy-rc.d care as Prometheus's
# below keeps those services from starting while we install, and any that did start are stopped.
have_job_stores() {
  command -v redis-server >/dev/null 2>&1 && compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null
}

readonly STORE_INSTALL_CMD="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server postgresql"

ensure_job_stores() {
  if ! have_job_stores; then
    require_root_apt "redis-server and PostgreSQL's initdb/pg_ctl (/usr/lib/postgresql/*/bin) are" "${STORE_INSTALL_CMD}"
    local own_policy=0
    if [[ ! -e "${POLICY}" ]]; then
      printf '#!/bin/sh\n# Written by jobmeter scripts/ensure-test-deps.sh while installing; removed after.\nexit 101\n' >"${POLICY}"
      chmod 0755 "${POLICY}"
      own_policy=1
    fi
    local redis_before=0 pg_before=0
    pgrep -x redis-server >/dev/null 2>&1 && redis_before=1
    pgrep -x postgres >/dev/null 2>&1 && pg_before=1
    echo "ensure-test-deps: redis-server/postgresql missing; installing: ${STORE_INSTALL_CMD}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server postgresql || { [[ "${own_policy}" -eq 1 ]] && rm -f "${POLICY}"; exit 1; }
    [[ "${own_policy}" -eq 1 ]] && rm -f "${POLICY}"
    if [[ "${redis_before}" -eq 0 ]] && pgrep -x redis-server >/dev/null 2>&1; then
      echo "ensure-test-deps: the package started a redis-server daemon; stopping it"
      /etc/init.d/redis-server stop || true
    fi
    if [[ "${pg_before}" -eq 0 ]] && pgrep -x postgres >/dev/null 2>&1; then
      echo "ensure-test-deps: the package started a PostgreSQL cluster; stopping it"
      /etc/init.d/postgresql stop || true
    fi
    hash -r
    if ! have_job_stores; then
      echo "ensure-test-deps: redis-server/postgresql installed but redis-server or /usr/lib/postgresql/*/bin/initdb is still missing" >&2
      exit 1
    fi
  fi
  echo "ensure-test-deps: $(command -v redis-server): $(redis-server --version | head -n 1)"
  echo "ensure-test-deps: $(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/postgres: $("$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/postgres" --version)"
}

# libfaketime (Debian package `faketime`): test/cli/serve-clock-step.test.ts steps serve's wall clock
# under it (test/support/faketime.ts finds the library the same way). It starts no service.
have_faketime() {
  compgen -G '/usr/lib/*/faketime/libfaketime.so.1' >/dev/null
}

ensure_faketime() {
  if ! have_faketime; then
    require_root_apt "libfaketime (/usr/lib/*/faketime/libfaketime.so.1) is" "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends faketime"
    echo "ensure-test-deps: libfaketime missing; installing the faketime package"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends faketime
    if ! have_faketime; then
      echo "ensure-test-deps: 'faketime' installed but /usr/lib/*/faketime/libfaketime.so.1 is still missing" >&2
      exit 1
    fi
  fi
  echo "ensure-test-deps: $(compgen -G '/usr/lib/*/faketime/libfaketime.so.1' | head -n 1): faketime $(dpkg-query -W -f='${Version}' libfaketime 2>/dev/null || echo '(version unknown)')"
}

# Debian's chromium (package `chromium`): test/status/ reads serve's status page in it, headless,
# driven by puppeteer-core, which downloads no browser of its own. It starts no service.
ensure_chromium() {
  if ! command -v chromium >/dev/null 2>&1; then
    require_root_apt "chromium is" "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium"
    echo "ensure-test-deps: chromium missing; installing the chromium package"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
    hash -r
    if ! command -v chromium >/dev/null 2>&1; then
      echo "ensure-test-deps: 'chromium' installed but still not on PATH" >&2
      exit 1
    fi
  fi
  echo "ensure-test-deps: $(command -v chromium): $(chromium --version 2>/dev/null | head -n 1)"
}

ensure_python_parser
ensure_systemd_analyze
ensure_chromium
ensure_job_stores
ensure_faketime

if have_binaries; then
  print_versions
  bash "${NODE_RUNTIMES}" >/dev/null
  exec bash "${BUILD_PEERS}" >/dev/null
fi

if [[ "$(id -u)" -ne 0 ]]; then
  echo "ensure-test-deps: prometheus and promtool are needed by the tests and are not on PATH." >&2
  echo "ensure-test-deps: install them as root with:" >&2
  echo "    ${INSTALL_CMD}" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-test-deps: prometheus and promtool are not on PATH and there is no apt-get here." >&2
  echo "ensure-test-deps: install Prometheus 2.x so that both binaries are on PATH." >&2
  exit 1
fi

created_policy=0
remove_policy() {
  if [[ "${created_policy}" -eq 1 ]]; then
    rm -f "${POLICY}"
    created_policy=0
  fi
}
trap remove_policy EXIT
trap 'remove_policy; exit 130' INT
trap 'remove_policy; exit 143' TERM

if [[ ! -e "${POLICY}" ]]; then
  printf '#!/bin/sh\n# Written by jobmeter scripts/ensure-test-deps.sh while installing; removed after.\nexit 101\n' >"${POLICY}"
  chmod 0755 "${POLICY}"
  created_policy=1
fi

daemon_before=0
if daemon_running; then daemon_before=1; fi

echo "ensure-test-deps: prometheus/promtool not on PATH; installing: ${INSTALL_CMD}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PACKAGE}"

remove_policy

if [[ "${daemon_before}" -eq 0 ]] && daemon_running; then
  echo "ensure-test-deps: the package started a prometheus daemon (pid $(cat "${PIDFILE}")); stopping it"
  /etc/init.d/prometheus stop || kill "$(cat "${PIDFILE}")" || true
fi

hash -r
if ! have_binaries; then
  echo "ensure-test-deps: '${PACKAGE}' installed but prometheus/promtool are still not on PATH (PATH=${PATH})" >&2
  exit 1
fi
print_versions
bash "${NODE_RUNTIMES}" >/dev/null
exec bash "${BUILD_PEERS}" >/dev/null
