#!/usr/bin/env bash
# Prepares a machine for the lab: Debian packages, dockerd, the lab images (with progress).
# Run as root on Debian 12, after `apt-get update` (.ci/run calls it). Idempotent: installed
# packages, a running dockerd and cached images are kept.
#
#   bash deploy/lab/ci-setup.sh
#
# Environment: NFSVOL_LAB_CACHE (image cache, default <repo>/.lab-cache; from the package,
# $XDG_CACHE_HOME/nfsvol-lab).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
t0=$SECONDS
say() { printf '[lab ci-setup %4ds] %s\n' "$((SECONDS - t0))" "$*"; }

packages=(
  docker.io                                  # dockerd (20.10) for the NFS server container
  nfs-ganesha nfs-ganesha-vfs rpcbind        # also used directly by the NFS client's own tests
  qemu-system-x86 qemu-utils                 # microVM Docker hosts (TCG), qcow2 overlays
  debootstrap debian-archive-keyring         # root filesystems from Debian's packages
  busybox-static cpio e2fsprogs xz-utils     # initramfs, ext4 disk image
  iproute2 util-linux openssh-client         # setpriv --pdeathsig, flock, ssh-keygen
  libnfs-utils                               # nfs-ls / nfs-cp reference client
  faketime                                   # libfaketime: the soak shifts some CLIs' clocks
  tmux zsh                                   # the CLI's tests in a real terminal, zsh completion
  docker-compose                             # Compose examples run against lab hosts
)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} > 0)); then
  say "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/nfsvol-lab-apt.log 2>&1 || {
    tail -n 30 /tmp/nfsvol-lab-apt.log
    say "apt-get install failed (log /tmp/nfsvol-lab-apt.log)"
    exit 1
  }
else
  say "Debian packages already installed"
fi

say "starting dockerd"
bash "$here/start-dockerd.sh"

say "building lab images (cached by a hash of their inputs)"
bash "$here/build.sh" all 2>&1
say "lab ready"
