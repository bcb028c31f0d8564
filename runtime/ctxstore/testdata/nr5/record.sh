#!/bin/sh
# Re-records the Node-RED 5 context files this package's tests compare with:
# runs Node-RED once on flows.json with settings.js (a localfilesystem store
# flushing every second), then keeps the context directory it wrote and the
# keys/values the second function node reported.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
nr=${NR:-/work/nr}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$here/settings.js" "$here/flows.json" "$tmp/"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
timeout -s INT 6 "$nr/node_modules/node/bin/node" "$nr/node_modules/node-red/red.js" \
	-u "$tmp" -s "$tmp/settings.js" -p "$port" "$tmp/flows.json" >"$tmp/run.log" 2>&1 || true
rm -rf "$here/context"
cp -r "$tmp/context" "$here/context"
sed -n 's/.*\[function:fn2\] //p' "$tmp/run.log" >"$here/report.json"
echo "recorded: $(find "$here/context" -type f | wc -l) context files"
