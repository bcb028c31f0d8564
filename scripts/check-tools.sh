#!/usr/bin/env bash
# Checks (and in CI installs) what the test suite needs. Tests that need a
# real peer skip only when CI is unset and the peer is missing; in CI they
# must run, so a missing tool fails here first.
set -euo pipefail
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need go golang
need git git
if [ ${#missing[@]} -gt 0 ]; then
  if [ "${CI:-}" = "true" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing: ${missing[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${missing[@]}"
  else
    echo "missing tools: ${missing[*]} (Debian: sudo apt-get install ${missing[*]})" >&2
    [ "${CI:-}" = "true" ] && exit 1
  fi
fi
echo "tools ok: $(go version)"
