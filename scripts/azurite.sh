#!/usr/bin/env bash
# Shared by scripts/run.sh and scripts/test.sh: install the pinned Azurite and start it on free
# loopback ports. Sourced, not run. Sets AZURITE_PID and AZURITE_CONNECTION_STRING.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

azurite_install() {
  if [ ! -x "$repo_root/node_modules/.bin/azurite" ]; then
    echo "Installing Azurite (pinned in package-lock.json)..." >&2
    (cd "$repo_root" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

# azurite_start [persistent-folder]: in-memory when no folder is given (tests), on disk otherwise (run).
azurite_start() {
  azurite_install
  local blob queue table
  blob="${AZURITE_BLOB_PORT:-$(free_port)}"; queue="${AZURITE_QUEUE_PORT:-$(free_port)}"; table="${AZURITE_TABLE_PORT:-$(free_port)}"
  local storage_args=(--inMemoryPersistence)
  if [ -n "${1:-}" ]; then mkdir -p "$1"; storage_args=(--location "$1"); fi
  # --skipApiVersionCheck: the current Azure SDKs send API versions newer than Azurite knows.
  "$repo_root/node_modules/.bin/azurite" --silent --skipApiVersionCheck --disableTelemetry --loose \
    "${storage_args[@]}" \
    --blobHost 127.0.0.1 --blobPort "$blob" --queueHost 127.0.0.1 --queuePort "$queue" \
    --tableHost 127.0.0.1 --tablePort "$table" >"${AZURITE_LOG:-/dev/null}" 2>&1 &
  AZURITE_PID=$!
  local port
  for port in "$blob" "$queue" "$table"; do
    for _ in $(seq 1 100); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
      if ! kill -0 "$AZURITE_PID" 2>/dev/null; then echo "Azurite exited during start-up" >&2; return 1; fi
      sleep 0.1
    done
  done
  # The well-known development account key of the storage emulator (public, not a secret).
  local key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
  AZURITE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$blob/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue/devstoreaccount1;TableEndpoint=http://127.0.0.1:$table/devstoreaccount1;"
  export AZURITE_PID AZURITE_CONNECTION_STRING
  echo "Azurite started (pid $AZURITE_PID): blob $blob, queue $queue, table $table" >&2
}

azurite_stop() {
  if [ -n "${AZURITE_PID:-}" ] && kill -0 "$AZURITE_PID" 2>/dev/null; then
    kill "$AZURITE_PID" 2>/dev/null || true
    wait "$AZURITE_PID" 2>/dev/null || true
  fi
}
