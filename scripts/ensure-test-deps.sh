#!/usr/bin/env bash
# Makes sure the real Prometheus server and promtool that the tests start are installed.
# Installs the Debian package when running as root; otherwise fails loudly with the command.
# Starts nothing: the tests start their own Prometheus on loopback.
set -euo pipefail

INSTALL='apt-get update && apt-get install -y --no-install-recommends prometheus'

have() { command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; }

if ! have; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-test-deps: prometheus/promtool not found and not root: run as root: $INSTALL" >&2
    exit 1
  fi
  echo "ensure-test-deps: installing prometheus (Debian package) ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # policy-rc.d 101 keeps the package's postinst from starting a daemon where an init exists.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq --no-install-recommends prometheus >&2
  if ! have; then
    echo "ensure-test-deps: prometheus still missing after install: run: $INSTALL" >&2
    exit 1
  fi
fi
echo "ensure-test-deps: $(prometheus --version 2>&1 | head -n 1)" >&2
echo "ensure-test-deps: $(promtool --version 2>&1 | head -n 1)" >&2
