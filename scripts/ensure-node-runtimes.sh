#!/usr/bin/env bash
# Installs the Node runtimes the installed-package test runs the packed tarball on (the `node` npm
# package at the versions pinned in test/peers/versions.env) into a cache directory, and reuses
# them when they are already there. Run by scripts/ensure-test-deps.sh (npm test's pretest).
#
#   scripts/ensure-node-runtimes.sh           install what is missing; print where everything is
#   scripts/ensure-node-runtimes.sh --where   print the paths only (KEY=path lines), install nothing
#
# Not devDependencies: every `node` package links a bin named `node`, and the project's
# node_modules/.bin/node must stay the pinned Node 24. The cache is $JOBMETER_PEERS_CACHE, else
# ${XDG_CACHE_HOME:-~/.cache}/jobmeter/peers (the Go peers' too); installs go to a temporary
# directory first and are renamed into place under the cache's lock. Everything it prints goes to
# stderr.
set -euo pipefail
exec 3>&1 1>&2

readonly ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=../test/peers/versions.env
source "${ROOT}/test/peers/versions.env"
readonly CACHE="${JOBMETER_PEERS_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/jobmeter/peers}"
readonly VERSIONS=("${NODE_OLDEST_SUPPORTED}" "${NODE_BELOW_SUPPORTED}")

bin_of() { echo "${CACHE}/node-$1/node_modules/node/bin/node"; }

where() {
  printf 'NODE_OLDEST_SUPPORTED=%s\nNODE_BELOW_SUPPORTED=%s\n' \
    "$(bin_of "${NODE_OLDEST_SUPPORTED}")" "$(bin_of "${NODE_BELOW_SUPPORTED}")" >&3
}
if [[ "${1:-}" == "--where" ]]; then where; exit 0; fi

mkdir -p "${CACHE}"
exec 9>"${CACHE}/.node-runtimes.lock"
flock 9
for version in "${VERSIONS[@]}"; do
  bin="$(bin_of "${version}")"
  if [[ -x "${bin}" ]] && [[ "$("${bin}" --version)" == "v${version}" ]]; then
    echo "ensure-node-runtimes: cached: ${bin}"
    continue
  fi
  tmp="$(mktemp -d "${CACHE}/.node-${version}.XXXXXX")"
  echo "ensure-node-runtimes: installing node@${version} (npm install --prefix ${tmp} node@${version})"
  npm install --prefix "${tmp}" --no-save --no-audit --no-fund --loglevel=error "node@${version}"
  if [[ "$("${tmp}/node_modules/node/bin/node" --version)" != "v${version}" ]]; then
    echo "ensure-node-runtimes: node@${version} did not install a Node ${version} binary" >&2
    exit 1
  fi
  rm -rf "${CACHE}/node-${version}"
  mv "${tmp}" "${CACHE}/node-${version}"
  echo "ensure-node-runtimes: installed $(bin_of "${version}")"
done
where
