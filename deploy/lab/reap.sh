#!/usr/bin/env bash
# Reaps lab sessions: kills their qemu processes, removes their containers, deletes their state.
#
#   reap.sh [--wait-eof] SESSION_DIR...
#
# --wait-eof: first block until stdin reaches end of file. The lab API starts one such reaper per
# test process, detached, with stdin a pipe that only the test process holds: when that process
# ends in any way (exit, exception, SIGINT, SIGTERM, even SIGKILL) the kernel closes the pipe and
# the reaper cleans up whatever the process left running.
set -u

if [[ ${1:-} == --wait-eof ]]; then
  shift
  cat >/dev/null 2>&1 || true
fi

for dir in "$@"; do
  [[ -d $dir ]] || continue
  id="$(basename "$dir")"
  # qemu writes its pidfile (-pidfile); kill only a process whose command line names this session
  # dir, so a recycled pid is never hit.
  for pidfile in "$dir"/hosts/*/qemu.pid; do
    [[ -f $pidfile ]] || continue
    pid="$(cat "$pidfile" 2>/dev/null)"
    if [[ $pid =~ ^[0-9]+$ ]] && grep -qaF -- "$dir/" "/proc/$pid/cmdline" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null
    fi
  done
  if command -v docker >/dev/null 2>&1; then
    mapfile -t ids < <(docker ps -aq --filter "label=nfsvol.lab.session=$id" 2>/dev/null)
    if ((${#ids[@]} > 0)); then
      docker rm -f -v "${ids[@]}" >/dev/null 2>&1
    fi
  fi
  rm -rf -- "$dir"
done
exit 0
