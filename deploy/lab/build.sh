#!/usr/bin/env bash
# Builds the lab's images from Debian packages, cached by a hash of their inputs.
#
#   deploy/lab/build.sh [all|nfs|vm]     (default: all)
#
# Outputs, under the cache dir ($NFSVOL_LAB_CACHE; default <repo>/.lab-cache in a checkout, else,
# run from the package, $XDG_CACHE_HOME/nfsvol-lab as deploy/lab/util.ts's labCacheDir says):
#   nfs-<hash>/image        the Docker image tag of the NFS server (nfs-ganesha + rpcbind)
#   vm-<hash>/vmlinuz, initrd.cpio, disk.img
#                           the Docker host microVM: Debian cloud kernel, busybox initramfs,
#                           ext4 root with sshd, dockerd and nfs-common, busybox image preloaded
#   nfs.current, vm.current the directory of the current build of each (what the TS API reads)
# A second run with the same inputs (this script, the files it copies, the package lists) only
# checks the cache. Progress goes to stderr: each stage and its elapsed seconds.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
if [[ -f $repo/tsconfig.json ]]; then
  default_cache="$repo/.lab-cache"
else
  # From the package (node_modules/nfsvol/dist/deploy/lab/): never inside node_modules.
  default_cache="${XDG_CACHE_HOME:-$HOME/.cache}/nfsvol-lab"
fi
cache="${NFSVOL_LAB_CACHE:-$default_cache}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"

suite=bookworm
mirror="${NFSVOL_LAB_MIRROR:-http://deb.debian.org/debian}"
# netbase: without /etc/services rpcbind silently listens on its unix socket only.
nfs_packages=(nfs-ganesha nfs-ganesha-vfs rpcbind netbase)
vm_packages=(openssh-server nfs-common docker.io iproute2 kmod ca-certificates tini procps netbase)
kernel_package=linux-image-cloud-amd64
# Loaded by the initramfs in this order before the root disk appears (virtio is modular in the
# cloud kernel). Anything else is modprobe'd by the root's init.
initrd_modules=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk)

t0=$SECONDS
stage() { printf '[lab build %4ds] %s\n' "$((SECONDS - t0))" "$*" >&2; }
die() {
  printf '[lab build] error: %s\n' "$*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, chroot)"

hash_of() {
  # Hash of the inputs of one image: the listed files and the extra strings (package lists).
  local files=("$@")
  {
    for f in "${files[@]}"; do
      if [[ -f $f ]]; then
        printf 'file %s\n' "${f#"$repo"/}"
        cat "$f"
      else
        printf 'str %s\n' "$f"
      fi
    done
  } | sha256sum | cut -c1-16
}

# One builder at a time per cache dir (two test runs may start at once).
exec 9>"$cache/build.lock"
flock 9

debs="$cache/debs"
mkdir -p "$debs"

debootstrap_into() {
  # debootstrap_into DIR PACKAGES... : minbase root with the packages, docs and apt lists removed.
  local dir="$1"
  shift
  local include
  include="$(
    IFS=,
    echo "$*"
  )"
  rm -rf "$dir"
  mkdir -p "$dir"
  debootstrap --variant=minbase --include="$include" --cache-dir="$debs" "$suite" "$dir" "$mirror" \
    >"$dir.debootstrap.log" 2>&1 || {
    tail -n 30 "$dir.debootstrap.log" >&2
    die "debootstrap failed (log $dir.debootstrap.log)"
  }
  rm -rf "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/locale/* \
    "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/archives/*.deb "$dir"/var/log/*.log
}

prune_old() {
  # prune_old KIND KEEP_DIR : delete earlier builds of KIND in this cache (disk images are large).
  local d
  for d in "$cache/$1"-*; do
    [[ -d $d && $d != "$2" ]] && rm -rf "$d"
  done
  return 0
}

# ---------------------------------------------------------------------------------------------
build_nfs() {
  local h dir tag
  # 9>&-: dockerd outlives this script and must not inherit (and so hold forever) the build lock.
  "$here/start-dockerd.sh" 9>&- >&2
  # The hash covers this function's own text (not the whole script), so editing the VM builder
  # does not rebuild the NFS image and vice versa.
  h="$(hash_of "$(declare -f build_nfs debootstrap_into)" "$here/nfs/entrypoint.sh" "${nfs_packages[*]}" "$suite")"
  dir="$cache/nfs-$h"
  tag="nfsvol-lab-nfs:$h"
  if [[ -f $dir/image ]] && docker image inspect "$tag" >/dev/null 2>&1; then
    stage "nfs server image: cached ($tag)"
    ln -sfn "$dir" "$cache/nfs.current"
    return
  fi
  mkdir -p "$dir"
  if [[ -f $dir/rootfs.tar ]]; then
    stage "nfs server image: root filesystem cached, importing"
  else
    stage "nfs server image: debootstrap $suite minbase + ${nfs_packages[*]}"
    debootstrap_into "$dir/rootfs" "${nfs_packages[@]}"
    install -m 0755 "$here/nfs/entrypoint.sh" "$dir/rootfs/usr/local/sbin/nfs-entrypoint"
    stage "nfs server image: packing root filesystem"
    tar -C "$dir/rootfs" --numeric-owner -cf "$dir/rootfs.tar.tmp" .
    mv "$dir/rootfs.tar.tmp" "$dir/rootfs.tar"
    rm -rf "$dir/rootfs"
  fi
  stage "nfs server image: docker import as $tag"
  docker import \
    --change 'ENTRYPOINT ["/usr/local/sbin/nfs-entrypoint"]' \
    --change 'LABEL nfsvol.lab.image=nfs' \
    "$dir/rootfs.tar" "$tag" >/dev/null
  echo "$tag" >"$dir/image"
  ln -sfn "$dir" "$cache/nfs.current"
  prune_old nfs "$dir"
  stage "nfs server image: done ($tag)"
}

# ---------------------------------------------------------------------------------------------
fetch_debs() {
  # fetch_debs DIR PACKAGE... : apt-get download into DIR (apt wants a writable cwd)
  local dir="$1"
  shift
  mkdir -p "$dir"
  (cd "$dir" && apt-get download -q "$@" >/dev/null 2>"$dir/apt.log") || {
    cat "$dir/apt.log" >&2
    die "apt-get download $* failed (run apt-get update?)"
  }
}

build_vm() {
  local h dir work kver
  h="$(hash_of "$(declare -f build_vm debootstrap_into fetch_debs)" "$here/vm/initramfs-init" "$here/vm/lab-init" \
    "${vm_packages[*]}" "$kernel_package" "${initrd_modules[*]}" "$suite")"
  dir="$cache/vm-$h"
  if [[ -f $dir/done ]]; then
    stage "docker host VM image: cached ($dir)"
    ln -sfn "$dir" "$cache/vm.current"
    return
  fi
  rm -rf "$dir"
  work="$dir/work"
  mkdir -p "$work"

  stage "docker host VM image: kernel ($kernel_package) and busybox-static from Debian"
  local kdep
  kdep="$(apt-cache depends "$kernel_package" | awk '/Depends: linux-image-/ {print $2; exit}')"
  [[ -n $kdep ]] || die "cannot resolve $kernel_package (run apt-get update?)"
  fetch_debs "$work/debs" "$kdep" busybox-static
  mkdir -p "$work/kernel" "$work/busybox"
  dpkg-deb -x "$work"/debs/linux-image-*.deb "$work/kernel"
  dpkg-deb -x "$work"/debs/busybox-static_*.deb "$work/busybox"
  kver="$(ls "$work/kernel/lib/modules")"
  cp "$work/kernel/boot/vmlinuz-$kver" "$dir/vmlinuz"

  stage "docker host VM image: initramfs (busybox + ${initrd_modules[*]})"
  local ird="$work/initrd"
  mkdir -p "$ird"/{bin,dev,proc,sys,newroot,lib/modules}
  cp "$work/busybox/bin/busybox" "$ird/bin/busybox"
  ln -s busybox "$ird/bin/sh"
  install -m 0755 "$here/vm/initramfs-init" "$ird/init"
  local m path n=0
  for m in "${initrd_modules[@]}"; do
    path="$(find "$work/kernel/lib/modules/$kver" -name "$m.ko*" | head -n 1)"
    [[ -n $path ]] || die "module $m not found in $kver"
    n=$((n + 1))
    # Numbered so the initramfs loads them in this order; decompressed for busybox insmod.
    case "$path" in
      *.ko.xz) xz -dc "$path" >"$ird/lib/modules/$(printf '%02d' $n)-$m.ko" ;;
      *.ko.zst) zstd -qdc "$path" >"$ird/lib/modules/$(printf '%02d' $n)-$m.ko" ;;
      *) cp "$path" "$ird/lib/modules/$(printf '%02d' $n)-$m.ko" ;;
    esac
  done
  (cd "$ird" && find . -print0 | cpio --null -o -H newc --quiet) >"$dir/initrd.cpio"

  stage "docker host VM image: debootstrap $suite minbase + ${vm_packages[*]}"
  local root="$work/root"
  debootstrap_into "$root" "${vm_packages[@]}"

  stage "docker host VM image: configuring root (modules, sshd, dockerd, busybox image)"
  mkdir -p "$root/lib/modules"
  cp -a "$work/kernel/lib/modules/$kver" "$root/lib/modules/"
  chroot "$root" depmod "$kver"
  install -m 0755 "$here/vm/lab-init" "$root/sbin/lab-init"
  # Host keys come from the per-VM config disk at every boot: none baked into the image.
  rm -f "$root"/etc/ssh/ssh_host_*
  cat >"$root/etc/ssh/sshd_config.d/lab.conf" <<'CONF'
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
HostKey /etc/ssh/ssh_host_ed25519_key
CONF
  mkdir -p "$root/root/.ssh" "$root/etc/docker" "$root/opt/lab"
  chmod 0700 "$root/root/.ssh"
  echo '{ "storage-driver": "overlay2", "log-driver": "json-file" }' >"$root/etc/docker/daemon.json"
  # No nameserver: the VM reaches nothing but the machine's loopback through 10.0.2.2.
  : >"$root/etc/resolv.conf"
  echo 'labhost' >"$root/etc/hostname"
  printf '/dev/vda / ext4 rw,relatime 0 1\n' >"$root/etc/fstab"
  # The busybox root filesystem that the provisioning boot imports as image busybox:latest.
  local bb="$work/bbimg"
  mkdir -p "$bb"/{bin,etc,tmp,data}
  cp "$work/busybox/bin/busybox" "$bb/bin/busybox"
  chroot "$bb" /bin/busybox --install -s /bin 2>/dev/null || {
    # chroot needs /bin/busybox to run; fall back to links made from the host's list.
    local app
    for app in $("$bb/bin/busybox" --list); do ln -sf busybox "$bb/bin/$app"; done
  }
  tar -C "$bb" --numeric-owner -cf "$root/opt/lab/busybox-rootfs.tar" .

  stage "docker host VM image: ext4 disk image"
  local size="${NFSVOL_LAB_DISK_SIZE:-4G}"
  mkfs.ext4 -q -F -L labroot -d "$root" "$work/disk.img" "$size" >/dev/null

  stage "docker host VM image: provisioning boot (imports busybox:latest into the VM's dockerd)"
  local console="$dir/provision-console.log"
  timeout 600 qemu-system-x86_64 -accel tcg -m 1024 -smp 1 -display none -no-reboot \
    -kernel "$dir/vmlinuz" -initrd "$dir/initrd.cpio" \
    -append "console=ttyS0 panic=-1 quiet nfsvol.provision=1" \
    -drive "file=$work/disk.img,if=virtio,format=raw" \
    -nic none -serial "file:$console" -monitor none </dev/null ||
    die "provisioning boot failed (console log $console)"
  grep -q 'nfsvol-lab: .*provisioned' "$console" || {
    tail -n 40 "$console" >&2
    die "provisioning boot did not finish (console log $console)"
  }
  mv "$work/disk.img" "$dir/disk.img"
  echo "$kver" >"$dir/kernel-version"
  rm -rf "$work"
  touch "$dir/done"
  ln -sfn "$dir" "$cache/vm.current"
  prune_old vm "$dir"
  stage "docker host VM image: done ($dir, kernel $kver)"
}

what="${1:-all}"
case "$what" in
  nfs) build_nfs ;;
  vm) build_vm ;;
  all)
    build_nfs
    build_vm
    ;;
  *) die "usage: build.sh [all|nfs|vm]" ;;
esac
stage "finished"
