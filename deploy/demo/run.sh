#!/usr/bin/env bash
# The quick start's first command: on a fresh Debian 12 machine (as root), installs what is
# missing (Debian packages, dockerd, npm packages, the lab images), builds nfsvol, then runs the
# demo on the built-in lab. A second run reuses everything and goes straight to the demo.
#
#   bash deploy/demo/run.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
t0=$SECONDS
say() { printf '\033[1m[setup %4ds]\033[0m %s\n' "$((SECONDS - t0))" "$*"; }

if [[ $(id -u) -ne 0 ]]; then
  echo "run.sh: run as root (it installs Debian packages and starts dockerd and VMs)" >&2
  exit 2
fi
if ! command -v node >/dev/null || (($(node -p 'process.versions.node.split(".")[0]') < 20)); then
  echo "run.sh: nfsvol needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 2
fi

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
if [[ ! -e .lab-cache/apt-updated ]]; then
  say "apt-get update"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  mkdir -p .lab-cache && touch .lab-cache/apt-updated
fi
say "the lab: Debian packages, dockerd, images (the first build takes a few minutes)"
bash deploy/lab/ci-setup.sh
say "building nfsvol"
npm run --silent build
say "ready; starting the demo"
export TESTCONTAINERS_RYUK_DISABLED=true
exec node --import tsx deploy/demo/demo.ts
