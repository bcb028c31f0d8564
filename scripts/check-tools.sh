#!/usr/bin/env bash
# Checks (and in CI installs) what the test suite needs. Tests that need a
# real peer skip only when CI is unset and the peer is missing; in CI they
# must run, so a missing tool fails here first.
set -euo pipefail
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need go golang
need git git
need chromium chromium # editor browser test (web/browser_test.go)
need node nodejs
# mosquitto lives in /usr/sbin, which a non-root PATH may lack.
need_sbin() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || missing+=("$2"); }
need_sbin mosquitto mosquitto # MQTT tests (nodes/mqtt, runtime/mqttbroker)
need mosquitto_pub mosquitto-clients # MQTT tests: independent clients
need wrk wrk # HTTP load benchmark (bench/http_test.go)
need kcat kcat # Kafka tests: independent client (nodes/kafka)
need mbpoll mbpoll # Modbus tests: independent client (nodes/modbus)
/usr/bin/python3 -c 'import pymodbus' >/dev/null 2>&1 || missing+=(python3-pymodbus) # Modbus tests: TCP device (nodes/modbus)
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
# The editor's browser test drives chromium with npm playwright-core.
if [ "${CI:-}" = "true" ] && [ ! -d node_modules/playwright-core ] && command -v npm >/dev/null 2>&1; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# OPC UA tests run a node-opcua server (Node 22 comes with the node@22 npm package).
if [ "${CI:-}" = "true" ] && [ ! -d testpeers/opcua/node_modules ] && command -v npm >/dev/null 2>&1; then npm ci --prefix testpeers/opcua --no-audit --no-fund --loglevel=error; fi
echo "tools ok: $(go version)"
