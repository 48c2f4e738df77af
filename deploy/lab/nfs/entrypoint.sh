#!/bin/bash
# PID 1 of the lab's NFS server container: rpcbind, then nfs-ganesha in the foreground.
# With NFS_V41_ONLY=1 it is a v4.1-only server instead (what EFS or Azure Files look like to a
# client): no rpcbind, no MOUNT, no NFSv3, only NFS_PORT.
#
# The NFS and MOUNT ports are taken from the environment and published host:container identically,
# so the ports rpcbind hands out (GETPORT) are valid from the machine's 127.0.0.1 as well.
# rpcbind itself always listens on 111 inside the container; the host side may map it anywhere.
set -euo pipefail

NFS_PORT="${NFS_PORT:-12049}"
MNT_PORT="${MNT_PORT:-20048}"
EXPORT_DIR="${EXPORT_DIR:-/export}"
LOG_LEVEL="${GANESHA_LOG_LEVEL:-NIV_EVENT}"
V41_ONLY="${NFS_V41_ONLY:-0}"
# The main export's squash (ganesha's names) and the ids squashed users become.
SQUASH="${EXPORT_SQUASH:-No_Root_Squash}"
ANON_UID="${EXPORT_ANON_UID:-65534}"
ANON_GID="${EXPORT_ANON_GID:-65534}"
case $SQUASH in
  No_Root_Squash | Root_Squash | All_Squash) ;;
  *) echo "nfs-entrypoint: EXPORT_SQUASH must be No_Root_Squash, Root_Squash or All_Squash" >&2 && exit 2 ;;
esac
[[ $ANON_UID =~ ^[0-9]+$ && $ANON_GID =~ ^[0-9]+$ ]] || {
  echo "nfs-entrypoint: EXPORT_ANON_UID and EXPORT_ANON_GID must be numbers" >&2
  exit 2
}
if [[ $V41_ONLY == 1 ]]; then
  PROTOCOLS=4
  # No MNT_Port: ganesha serves MOUNT only alongside NFSv3.
  CORE_EXTRA=""
else
  PROTOCOLS="3, 4"
  CORE_EXTRA="MNT_Port = ${MNT_PORT};
  # NFSv3 clients mount the pseudo path /export, the same path NFSv4 clients see.
  mount_path_pseudo = true;"
fi

mkdir -p /run/rpcbind /var/run/ganesha /var/lib/nfs/ganesha "$EXPORT_DIR" /srv/secure /srv/denied
rm -f /run/rpcbind.sock /run/rpcbind/*.xdr
# No name service: ganesha's reverse lookups of client addresses must not leave this machine.
: >/etc/resolv.conf || true
if [[ $V41_ONLY != 1 ]]; then
  # -w: warm start off (no state file); rpcbind daemonises and stays in this container.
  rpcbind -w || rpcbind
fi

cat >/etc/ganesha/ganesha.conf <<CONF
NFS_CORE_PARAM {
  NFS_Port = ${NFS_PORT};
  Protocols = ${PROTOCOLS};
  Enable_NLM = false;
  Enable_RQUOTA = false;
  ${CORE_EXTRA}
}
NFSV4 {
  RecoveryRoot = /var/lib/nfs/ganesha;
  # A restarted server serves at once (no 90 s grace period) so restart() is quick.
  Graceless = true;
  # No NFSv4.0: its callback channel is a connection from the server to the address the client
  # announces (10.0.2.15 for a lab VM), which from this container would be routed off the machine.
  # NFSv4.1+ call back over the client's own connection.
  Minor_Versions = 1, 2;
}
EXPORT_DEFAULTS {
  SecType = sys;
}
EXPORT {
  Export_Id = 1;
  Path = ${EXPORT_DIR};
  Pseudo = /export;
  Access_Type = RW;
  Squash = ${SQUASH};
  Anonymous_Uid = ${ANON_UID};
  Anonymous_Gid = ${ANON_GID};
  SecType = sys;
  Protocols = ${PROTOCOLS};
  Transports = TCP;
  FSAL { Name = VFS; }
}
# Two more exports so tests can see refusals a real server gives:
# /secure wants a privileged source port (ganesha answers AUTH_TOOWEAK otherwise, as kernel
# nfsd without "insecure" refuses with MNT3ERR_ACCES); /denied admits a client that is not us.
EXPORT {
  Export_Id = 2;
  Path = /srv/secure;
  Pseudo = /secure;
  Access_Type = RW;
  Squash = No_Root_Squash;
  Protocols = ${PROTOCOLS};
  Transports = TCP;
  PrivilegedPort = true;
  FSAL { Name = VFS; }
}
EXPORT {
  Export_Id = 3;
  Path = /srv/denied;
  Pseudo = /denied;
  Access_Type = None;
  Protocols = ${PROTOCOLS};
  Transports = TCP;
  CLIENT { Clients = 192.0.2.1; Access_Type = RW; }
  FSAL { Name = VFS; }
}
LOG {
  Default_Log_Level = EVENT;
}
CONF

# -F: foreground, so ganesha is PID 1 and receives docker stop's SIGTERM.
exec ganesha.nfsd -F -f /etc/ganesha/ganesha.conf -L /dev/stdout -N "$LOG_LEVEL" -p /var/run/ganesha/ganesha.pid
