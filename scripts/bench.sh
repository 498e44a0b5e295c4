#!/usr/bin/env bash
# Reproduces every benchmark and rewrites bench/RESULTS.md with the numbers, the machine and the date.
# Installs Azurite if missing (the load harnesses start their own instances). Pass --quick for short runs.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
source scripts/azurite.sh
azurite_install
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet run -c Release --project bench/MailgunFunctions.Benchmarks -- all "$@"
