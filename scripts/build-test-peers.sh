#!/usr/bin/env bash
# Builds the test peers that come from Go modules, at the versions pinned in
# test/peers/versions.env, into a cache directory, and reuses them when they are already there:
#
# - the OpenTelemetry Collector, with its official builder (OCB) from test/peers/otelcol-builder.yaml;
# - test/peers/go-daemon, a small Go program on the OpenTelemetry Go SDK (its go.mod pins it);
# - test/peers/logfmt-decode, go-logfmt's decoder reading serve's logfmt lines (its go.mod pins it);
# - client_model's metrics.proto, copied from its module (the protobuf exposition's official schema);
# - Prometheus 3 (server and promtool), from the module github.com/prometheus/prometheus. Its go.mod
#   has `replace` directives, so `go install …@version` refuses it: the module is downloaded and
#   built inside its own directory (GOWORK=off: its go.work names folders the module zip lacks).
#
#   scripts/build-test-peers.sh           build what is missing; print where everything is
#   scripts/build-test-peers.sh --where   print the paths only (KEY=path lines), build nothing
#
# The cache is $JOBMETER_PEERS_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/jobmeter/peers. A peer's
# directory is named after its version (and the Collector's after a hash of its manifest), so a
# change to the manifest builds anew. Builds go to a temporary directory first and are renamed into
# place when complete, under a lock: concurrent test runs neither build twice nor see half a build.
# Without Go (>= 1.26) it exits 1 naming what to install. Everything it prints goes to stderr.
set -euo pipefail
exec 3>&1 1>&2

readonly ROOT="$(cd "$(dirname "$0")/.." && pwd)"
readonly PEERS="${ROOT}/test/peers"
# shellcheck source=../test/peers/versions.env
source "${PEERS}/versions.env"
readonly CACHE="${JOBMETER_PEERS_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/jobmeter/peers}"

recipe_hash() { cat "$@" | sha256sum | cut -c1-12; }
readonly OTELCOL_DIR="${CACHE}/otelcol-${OTELCOL_VERSION}-$(recipe_hash "${PEERS}/otelcol-builder.yaml")"
# Prometheus is built without the service discoveries no test uses (cloud, Kubernetes, Consul, …):
# `remove_all_sd` keeps static, file and HTTP discovery (its plugins/minimum.go) and drops about a
# third of the packages a fresh machine compiles. The tags name the directory, so a change builds anew.
readonly PROM3_TAGS="remove_all_sd"
readonly PROM3_DIR="${CACHE}/prometheus-${PROMETHEUS3_VERSION}-${PROM3_TAGS}"
readonly GO_DAEMON_DIR="${CACHE}/go-daemon-$(recipe_hash "${PEERS}/go-daemon/go.mod" "${PEERS}/go-daemon/go.sum" "${PEERS}/go-daemon/main.go")"
readonly GO_DAEMON_BIN="${GO_DAEMON_DIR}/go-daemon"
readonly LOGFMT_DIR="${CACHE}/logfmt-decode-$(recipe_hash "${PEERS}/logfmt-decode/go.mod" "${PEERS}/logfmt-decode/go.sum" "${PEERS}/logfmt-decode/main.go")"
readonly LOGFMT_BIN="${LOGFMT_DIR}/logfmt-decode"
readonly CLIENT_MODEL_PROTO="${CACHE}/client_model-${CLIENT_MODEL_VERSION}/metrics.proto"
readonly OTELCOL_BIN="${OTELCOL_DIR}/otelcol-jobmeter"
readonly PROM3_BIN="${PROM3_DIR}/prometheus"
readonly PROMTOOL3_BIN="${PROM3_DIR}/promtool"

where() {
  printf 'OTELCOL=%s\nOTELCOL_VERSION=%s\nPROMETHEUS3=%s\nPROMTOOL3=%s\nPROMETHEUS3_VERSION=%s\nGO_DAEMON=%s\nLOGFMT_DECODE=%s\nCLIENT_MODEL_PROTO=%s\n' \
    "${OTELCOL_BIN}" "${OTELCOL_VERSION}" "${PROM3_BIN}" "${PROMTOOL3_BIN}" "${PROMETHEUS3_VERSION}" "${GO_DAEMON_BIN}" "${LOGFMT_BIN}" "${CLIENT_MODEL_PROTO}" >&3
}
if [[ "${1:-}" == "--where" ]]; then where; exit 0; fi

find_go() {
  local go
  for go in "${GO:-}" "$(command -v go || true)" /usr/local/go/bin/go; do
    if [[ -n "${go}" && -x "${go}" ]]; then echo "${go}"; return 0; fi
  done
  return 1
}

if [[ -x "${OTELCOL_BIN}" && -x "${PROM3_BIN}" && -x "${PROMTOOL3_BIN}" && -x "${GO_DAEMON_BIN}" && -x "${LOGFMT_BIN}" && -f "${CLIENT_MODEL_PROTO}" ]]; then
  echo "build-test-peers: cached: ${OTELCOL_BIN} (Collector ${OTELCOL_VERSION})"
  echo "build-test-peers: cached: ${PROM3_BIN} (Prometheus ${PROMETHEUS3_VERSION})"
  where
  exit 0
fi

if ! GO_BIN="$(find_go)"; then
  echo "build-test-peers: Go is needed to build the test peers (the OpenTelemetry Collector and Prometheus 3) and was not found." >&2
  echo "build-test-peers: install Go >= 1.26 into /usr/local/go (or put its bin/ on PATH, or set GO=/path/to/go), then rerun: npm test" >&2
  exit 1
fi
readonly GO_BIN
go_minor="$("${GO_BIN}" env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')"
if [[ -z "${go_minor}" || "${go_minor}" -lt 26 ]]; then
  echo "build-test-peers: ${GO_BIN} is $("${GO_BIN}" env GOVERSION); the pinned peers need Go >= 1.26." >&2
  exit 1
fi
export PATH="$(dirname "${GO_BIN}"):${PATH}"

mkdir -p "${CACHE}"
exec 9>"${CACHE}/.lock"
flock 9

build_otelcol() {
  [[ -x "${OTELCOL_BIN}" ]] && return 0
  local started=${SECONDS} tmp
  tmp="$(mktemp -d "${CACHE}/.otelcol.XXXXXX")"
  echo "build-test-peers: building the OpenTelemetry Collector ${OTELCOL_VERSION} with OCB (first build: several minutes)"
  GOBIN="${tmp}/tools" go install "go.opentelemetry.io/collector/cmd/builder@v${OTELCOL_VERSION}"
  # The builder's module step runs `go mod tidy`, which also wants every module that the
  # components' *tests* import; the module proxy reached here does not serve all of those. So the
  # builder runs `go` through a wrapper that adds `-e` to `go mod tidy` (record what can be had);
  # everything else, the build included, is the builder's own, and fails loudly on a missing
  # module the Collector itself imports.
  printf '#!/usr/bin/env bash\nif [[ "$1 $2" == "mod tidy" ]]; then shift 2; exec %q mod tidy -e "$@"; fi\nexec %q "$@"\n' \
    "${GO_BIN}" "${GO_BIN}" >"${tmp}/go-tidy-e"
  chmod +x "${tmp}/go-tidy-e"
  # dist.output_path and dist.go belong under `dist:`, the manifest's first block.
  sed -e "s/\${OTELCOL_VERSION}/${OTELCOL_VERSION}/g" "${PEERS}/otelcol-builder.yaml" |
    awk -v out="${tmp}/src" -v go="${tmp}/go-tidy-e" '{ print } /^dist:/ { print "  output_path: " out; print "  go: " go }' \
      >"${tmp}/manifest.yaml"
  "${tmp}/tools/builder" --config "${tmp}/manifest.yaml"
  mkdir -p "${tmp}/out"
  mv "${tmp}/src/otelcol-jobmeter" "${tmp}/out/otelcol-jobmeter"
  rm -rf "${OTELCOL_DIR}"
  mv "${tmp}/out" "${OTELCOL_DIR}"
  rm -rf "${tmp}"
  echo "build-test-peers: built ${OTELCOL_BIN} in $((SECONDS - started)) s"
}

build_prometheus3() {
  [[ -x "${PROM3_BIN}" && -x "${PROMTOOL3_BIN}" ]] && return 0
  local started=${SECONDS} tmp src
  tmp="$(mktemp -d "${CACHE}/.prometheus.XXXXXX")"
  echo "build-test-peers: building Prometheus ${PROMETHEUS3_VERSION} (module ${PROMETHEUS3_MODULE_VERSION}; first build: several minutes)"
  src="$(go mod download -json "github.com/prometheus/prometheus@${PROMETHEUS3_MODULE_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  if [[ -z "${src}" || ! -d "${src}" ]]; then
    echo "build-test-peers: go mod download of github.com/prometheus/prometheus@${PROMETHEUS3_MODULE_VERSION} gave no directory" >&2
    exit 1
  fi
  # The module cache is read-only; build from a writable copy (go build writes nothing there, but
  # some generate steps and the embed check expect to).
  cp -r "${src}" "${tmp}/src"
  chmod -R u+w "${tmp}/src"
  mkdir -p "${tmp}/out"
  local ldflags="-X github.com/prometheus/common/version.Version=${PROMETHEUS3_VERSION}"
  (cd "${tmp}/src" && GOWORK=off go build -trimpath -tags "${PROM3_TAGS}" -ldflags "${ldflags}" -o "${tmp}/out/prometheus" ./cmd/prometheus)
  (cd "${tmp}/src" && GOWORK=off go build -trimpath -tags "${PROM3_TAGS}" -ldflags "${ldflags}" -o "${tmp}/out/promtool" ./cmd/promtool)
  rm -rf "${PROM3_DIR}"
  mv "${tmp}/out" "${PROM3_DIR}"
  rm -rf "${tmp}"
  echo "build-test-peers: built ${PROM3_BIN} in $((SECONDS - started)) s"
}

# build_go_program NAME DIR BIN WHAT: test/peers/NAME, a Go program its go.mod pins, built into DIR.
build_go_program() {
  local name="$1" dir="$2" bin="$3" what="$4" tmp
  [[ -x "${bin}" ]] && return 0
  tmp="$(mktemp -d "${CACHE}/.${name}.XXXXXX")"
  echo "build-test-peers: building test/peers/${name} (${what})"
  (cd "${PEERS}/${name}" && GOFLAGS=-mod=readonly go build -trimpath -o "${tmp}/${name}" .)
  rm -rf "${dir}"
  mv "${tmp}" "${dir}"
}

fetch_client_model_proto() {
  [[ -f "${CLIENT_MODEL_PROTO}" ]] && return 0
  local dir
  dir="$(go mod download -json "github.com/prometheus/client_model@${CLIENT_MODEL_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  mkdir -p "$(dirname "${CLIENT_MODEL_PROTO}")"
  cp "${dir}/io/prometheus/client/metrics.proto" "${CLIENT_MODEL_PROTO}.tmp"
  mv "${CLIENT_MODEL_PROTO}.tmp" "${CLIENT_MODEL_PROTO}"
}

build_otelcol
build_prometheus3
build_go_program go-daemon "${GO_DAEMON_DIR}" "${GO_DAEMON_BIN}" 'the OpenTelemetry Go SDK'
build_go_program logfmt-decode "${LOGFMT_DIR}" "${LOGFMT_BIN}" 'go-logfmt'
fetch_client_model_proto
echo "build-test-peers: ${OTELCOL_BIN}: $("${OTELCOL_BIN}" --version 2>&1 | head -n 1)"
echo "build-test-peers: ${PROM3_BIN}: $("${PROM3_BIN}" --version 2>&1 | head -n 1)"
where
