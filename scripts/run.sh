#!/usr/bin/env bash
# The run command: installs what it needs, starts Azurite (data kept in .azurite/), builds the app, and
# starts a Functions host on the build output: Azure Functions Core Tools ('func start') where 'func' is
# installed, otherwise the local stand-in (tools/FunctionsHost), which runs the same worker.
# MAILGUNFUNCTIONS_HOST=func insists on Core Tools (installing them with npm if missing); =standin forces the stand-in.
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
# Names that are not shell identifiers (the host's own AzureWebJobs.<function>.Disabled) are the host's, not the check's.
(while IFS= read -r line; do if [[ "$line" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then export "$line"; fi; done <<<"$check_env"
 cd "$out" && dotnet MailgunFunctions.App.dll --check) || { echo "The start-up check failed: fix the setting it names in local.settings.json." >&2; exit 1; }

# 5. The Functions host.
host_choice="${MAILGUNFUNCTIONS_HOST:-auto}"
port="${FUNCTIONS_PORT:-7071}"
func_bin=""
if [ "$host_choice" != standin ]; then
  func_bin="$(command -v func || true)"
  if [ -z "$func_bin" ] && [ -x "$repo_root/.tools/node_modules/.bin/func" ]; then func_bin="$repo_root/.tools/node_modules/.bin/func"; fi
fi
if [ -z "$func_bin" ] && [ "$host_choice" = func ]; then
  echo "Installing Azure Functions Core Tools (npm azure-functions-core-tools@4) into .tools/ ..." >&2
  if npm install --prefix "$repo_root/.tools" --no-audit --no-fund --loglevel=error azure-functions-core-tools@4 >&2 \
     && [ -x "$repo_root/.tools/node_modules/.bin/func" ] && "$repo_root/.tools/node_modules/.bin/func" --version >/dev/null 2>&1; then
    func_bin="$repo_root/.tools/node_modules/.bin/func"
  else
    cat >&2 <<MSG

Azure Functions Core Tools ('func') could not be installed on this machine: its npm package downloads the
real host from Microsoft's CDN during installation, and that download failed. Everything before the host is
done and checked (Azurite, settings, build in $out). Install Core Tools v4 another way
(https://learn.microsoft.com/azure/azure-functions/functions-run-local), or run without
MAILGUNFUNCTIONS_HOST=func to use the local stand-in host.
MSG
    exit 3
  fi
fi

if [ -n "$func_bin" ]; then
  cp local.settings.json "$out/local.settings.json"
  cd "$out"
  echo "Starting the Functions host (Core Tools, $func_bin): POST http://localhost:$port/api/mailgun/events" >&2
  "$func_bin" start --port "$port"
else
  # The stand-in reads the same local.settings.json (the environment wins, as with Core Tools) and checks function
  # keys from local.keys.json, which it creates with random keys the first time (never printed).
  dotnet build tools/FunctionsHost/FunctionsHost.csproj -c Debug -nologo -v quiet
  echo "Core Tools ('func') not found: starting the local stand-in host (docs/running-locally.md says what it emulates)." >&2
  echo "Webhooks: POST http://127.0.0.1:$port/api/mailgun/events?code=<\"host\".\"default\" of local.keys.json>; try one with:" >&2
  echo "  dotnet run --project tools/MailgunOps -- webhook send-sample --event failed" >&2
  dotnet tools/FunctionsHost/bin/Debug/net10.0/FunctionsHost.dll --app "$out" --settings local.settings.json --keys local.keys.json --port "$port"
fi
