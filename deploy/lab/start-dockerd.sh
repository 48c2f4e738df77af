#!/usr/bin/env bash
# Start dockerd in the background if it is not already answering, then wait for `docker info`.
# Idempotent: a second call returns at once. Nothing on these machines starts dockerd for us.
#
# /usr/local/bin/docker may be a newer client than Debian's dockerd 20.10 (API 1.41). Newer clients
# negotiate the API version down by themselves; set DOCKER_API_VERSION only if one does not.
set -euo pipefail

log_file="${NFSVOL_DOCKERD_LOG:-/var/log/nfsvol-dockerd.log}"
timeout_s="${NFSVOL_DOCKERD_TIMEOUT:-60}"

if docker info >/dev/null 2>&1; then
  echo "dockerd: already running"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "dockerd: not installed (apt-get install -y docker.io)" >&2
  exit 1
fi

# A stale pidfile from a killed dockerd makes the new one refuse to start.
if [[ -f /var/run/docker.pid ]] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  rm -f /var/run/docker.pid
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  echo "dockerd: starting (log $log_file)"
  # setsid: dockerd outlives this script and is not in its process group.
  setsid dockerd >>"$log_file" 2>&1 </dev/null &
fi

start=$SECONDS
until docker info >/dev/null 2>&1; do
  if ((SECONDS - start >= timeout_s)); then
    echo "dockerd: not ready after ${timeout_s}s; last log lines:" >&2
    tail -n 20 "$log_file" >&2 || true
    exit 1
  fi
  sleep 0.2
done
echo "dockerd: ready after $((SECONDS - start))s ($(docker version --format '{{.Server.Version}} API {{.Server.APIVersion}}'))"
