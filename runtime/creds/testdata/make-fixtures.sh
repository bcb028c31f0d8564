#!/usr/bin/env bash
# Regenerates the Node-RED-made fixtures in this folder by running real
# Node-RED 5 (see README.md). Usage: ./make-fixtures.sh [NODE_RED_DIR]
set -euo pipefail
NR=${1:-/work/nr}
NODE=$NR/node_modules/node/bin/node
RED=$NR/node_modules/node-red/red.js
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# The flow posted to each instance: an MQTT broker config node with a user
# and password, and a global-config node holding a credential env var (its
# credentials are a nested object, not a string).
FLOWS='[
 {"id":"b1","type":"mqtt-broker","name":"broker","broker":"localhost","port":"1883",
  "credentials":{"user":"alice","password":"pa55 wörd \"quoted\""}},
 {"id":"gc","type":"global-config","env":[{"name":"TOKEN","value":"","type":"cred"}],
  "credentials":{"map":{"TOKEN":"t0ken"}}}
]'

free_port() { "$NODE" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# run NAME SETTINGS_BODY: start Node-RED in $TMP/NAME with the given
# module.exports body, deploy $FLOWS, stop it, copy the results to $HERE/NAME.
run() {
  local name=$1 body=$2 dir=$TMP/$1 port
  port=$(free_port)
  mkdir -p "$dir"
  printf 'module.exports = {uiHost:"127.0.0.1", flowFile:"flows.json", %s}\n' "$body" >"$dir/settings.js"
  "$NODE" "$RED" -u "$dir" -p "$port" >"$dir/log.txt" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/settings" >/dev/null && break; sleep 0.2; done
  curl -sf -X POST -H 'Content-Type: application/json' -H 'Node-RED-Deployment-Type: full' \
    --data "$FLOWS" "http://127.0.0.1:$port/flows" >/dev/null
  # What Node-RED reports back for the broker proves it decrypted its own file.
  curl -sf "http://127.0.0.1:$port/credentials/mqtt-broker/b1" >"$dir/api-credentials.json"
  kill "$pid"; wait "$pid" || true
  rm -rf "${HERE:?}/$name"; mkdir -p "$HERE/$name"
  cp "$dir/flows.json" "$dir/flows_cred.json" "$dir/settings.js" "$dir/api-credentials.json" "$HERE/$name/"
  if [ -f "$dir/.config.runtime.json" ]; then cp "$dir/.config.runtime.json" "$HERE/$name/config.runtime.json"; fi
}

run user-secret 'credentialSecret:"sluice fixture secret"'
run system-secret ''
run no-encryption 'credentialSecret:false'
echo "fixtures written to $HERE"
