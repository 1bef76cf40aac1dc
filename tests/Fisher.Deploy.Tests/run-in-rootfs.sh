#!/usr/bin/env bash
# run-in-rootfs.sh ROOTFS UID GID WORKDIR [--data HOSTDIR] [NAME=VALUE...] -- PROGRAM [ARG...]
# Runs PROGRAM of an unpacked image file system (deploy/image/build.sh --keep-rootfs) the way a container runtime runs
# the image with a read-only root file system, without a runtime: in a new mount namespace, ROOTFS is bound
# read-only, with tmpfs on /tmp (mode 1777) and /var/cache/fisher (mode 0777, like a Kubernetes emptyDir), /proc, and
# /dev/{null,zero,full,random,urandom}; --data binds HOSTDIR read-only at /tmp/data. Then chroot to ROOTFS, change to
# WORKDIR, drop to UID:GID without supplementary groups, and run PROGRAM with only the NAME=VALUE environment.
# Every mount is private to the namespace and ends with it. Each step execs the next, so PROGRAM keeps this script's
# process id (signals reach it). Needs root and util-linux (unshare, mount).
set -euo pipefail
if [ "${1:-}" != --inside ]; then
  exec unshare --mount --propagation private -- "$0" --inside "$@"
fi
shift
[ $# -ge 5 ] || { echo "run-in-rootfs.sh: expected ROOTFS UID GID WORKDIR [--data HOSTDIR] [NAME=VALUE...] -- PROGRAM [ARG...]" >&2; exit 2; }
rootfs=$1 uid=$2 gid=$3 workdir=$4
shift 4
data=""
if [ "$1" = --data ]; then
  data=$2
  shift 2
fi

mount --bind "$rootfs" "$rootfs"
mount -o remount,bind,ro "$rootfs"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$rootfs/tmp"
mount -t tmpfs -o mode=0777,nosuid,nodev tmpfs "$rootfs/var/cache/fisher"
mount -t proc -o nosuid,nodev,noexec proc "$rootfs/proc"
mount -t tmpfs -o mode=0755,nosuid tmpfs "$rootfs/dev"
for d in null zero full random urandom; do
  touch "$rootfs/dev/$d"
  mount --bind "/dev/$d" "$rootfs/dev/$d"
done
if [ -n "$data" ]; then
  mkdir "$rootfs/tmp/data"
  mount --bind "$data" "$rootfs/tmp/data"
  mount -o remount,bind,ro "$rootfs/tmp/data"
fi

# NAME=VALUE arguments up to "--" are the environment; the rest is the command.
environment=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
  environment+=("$1")
  shift
done
[ $# -ge 2 ] || { echo "run-in-rootfs.sh: no '-- PROGRAM' after the environment" >&2; exit 2; }
shift
# Host programs by their host paths: the environment below is the image's (its PATH).
exec "$(command -v env)" -i "${environment[@]}" "$(command -v unshare)" --root="$rootfs" --wd="$workdir" --setgid="$gid" --setuid="$uid" -- "$@"
