#!/usr/bin/env bash
# The run command: installs what it needs, starts Azurite (data kept in .azurite/), builds the app, and
# starts the Functions host on the build output. Where Azure Functions Core Tools cannot be installed, it
# stops with a message after everything before the host has been done and checked.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
source scripts/azurite.sh

command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required (dotnet not found)." >&2; exit 2; }
command -v node >/dev/null || { echo "Node.js 20 or later is required (node not found)." >&2; exit 2; }

# 1. Settings: local.settings.json is git-ignored; make one from the sample the first time.
if [ ! -f local.settings.json ]; then
  cp local.settings.sample.json local.settings.json
  key="local-dev-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  link_key="local-link-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
  kek="local-kek-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
  sed -i -e "s/\"Mailgun__SigningKeys__primary\": \"\"/\"Mailgun__SigningKeys__primary\": \"$key\"/" \
         -e "s/\"Unsubscribe__Keys__k1\": \"\"/\"Unsubscribe__Keys__k1\": \"$link_key\"/" \
         -e "s/\"Tenants__KeyEncryptionKeys__k1\": \"\"/\"Tenants__KeyEncryptionKeys__k1\": \"$kek\"/" local.settings.json
  echo "Created local.settings.json with random local keys (Mailgun__SigningKeys__primary, Unsubscribe__Keys__k1, Tenants__KeyEncryptionKeys__k1)." >&2
  echo "Put your Mailgun HTTP webhook signing key there to receive real Mailgun traffic." >&2
fi

# 2. Storage: Azurite on the standard ports, data kept between runs in .azurite/.
export AZURITE_BLOB_PORT=10000 AZURITE_QUEUE_PORT=10001 AZURITE_TABLE_PORT=10002
if (exec 3<>/dev/tcp/127.0.0.1/10001) 2>/dev/null; then
  echo "A storage emulator already listens on 127.0.0.1:10001; using it." >&2
else
  AZURITE_LOG="$repo_root/.azurite/azurite.log" azurite_start "$repo_root/.azurite"
  trap azurite_stop EXIT
fi

# 3. Build the app (the build writes functions.metadata, which the host loads).
dotnet build functions/MailgunFunctions.App/MailgunFunctions.App.csproj -c Debug -nologo -v quiet
out="functions/MailgunFunctions.App/bin/Debug/net10.0"
[ -f "$out/functions.metadata" ] || { echo "Build output has no functions.metadata: the build is broken." >&2; exit 1; }
echo "Built: $out ($(grep -c '"entryPoint"' "$out/functions.metadata") functions)." >&2

# 4. Check what the host would check at start-up, without the host: every setting valid, storage reachable.
check_env="$(node -e 'const v=require(process.argv[1]).Values; for (const [k,x] of Object.entries(v)) console.log(k+"="+x)' "$repo_root/local.settings.json")"
(while IFS= read -r line; do export "$line"; done <<<"$check_env"
 cd "$out" && dotnet MailgunFunctions.App.dll --check) || { echo "The start-up check failed: fix the setting it names in local.settings.json." >&2; exit 1; }

# 5. The Functions host (Azure Functions Core Tools, 'func').
func_bin="$(command -v func || true)"
if [ -z "$func_bin" ]; then
  echo "Installing Azure Functions Core Tools (npm azure-functions-core-tools@4) into .tools/ ..." >&2
  if npm install --prefix "$repo_root/.tools" --no-audit --no-fund --loglevel=error azure-functions-core-tools@4 >&2 \
     && [ -x "$repo_root/.tools/node_modules/.bin/func" ] && "$repo_root/.tools/node_modules/.bin/func" --version >/dev/null 2>&1; then
    func_bin="$repo_root/.tools/node_modules/.bin/func"
  fi
fi
if [ -z "$func_bin" ]; then
  cat >&2 <<MSG

Azure Functions Core Tools ('func') could not be installed on this machine: its npm package downloads the
real host from Microsoft's CDN during installation, and that download failed (no route to the CDN here).
Everything before the host is done and checked: Azurite ran on 127.0.0.1:10000-10002, the settings in
local.settings.json passed the app's start-up validation, storage answered, and the app is built in $out.
Install Core Tools v4 another way (https://learn.microsoft.com/azure/azure-functions/functions-run-local),
then run this command again; it starts 'func start' in $out.
MSG
  exit 3
fi

cp local.settings.json "$out/local.settings.json"
cd "$out"
echo "Starting the Functions host: POST http://localhost:7071/api/mailgun/events" >&2
"$func_bin" start --port "${FUNCTIONS_PORT:-7071}"
