#!/usr/bin/env bash
# The fisher-distributed image: deploy/image/build.sh --out DIR [--keep-rootfs] [--source URL]
# writes DIR/fisher-distributed-<version>.oci.tar (an OCI image archive: `podman load -i`, `skopeo copy oci-archive:`)
# and, with --keep-rootfs, DIR/rootfs (the image's file system: its layers unpacked in order).
# Needs root on Debian (mmdebstrap, umoci) and the .NET SDK; no container runtime and no base image: the root file
# system is built from the Debian packages of the host's apt sources and release. deploy/image/README.md says more.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

fail() { echo "deploy/image/build.sh: $*" >&2; exit 1; }

out="" keep_rootfs=false source=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || fail "--out needs a folder"; out=$2; shift 2 ;;
    --keep-rootfs) keep_rootfs=true; shift ;;
    --source) [ $# -ge 2 ] || fail "--source needs a URL"; source=$2; shift 2 ;;
    *) fail "unknown argument '$1' (expected --out DIR [--keep-rootfs] [--source URL])" ;;
  esac
done
[ -n "$out" ] || fail "--out DIR is required"
[ "$(id -u)" -eq 0 ] || fail "must run as root (mmdebstrap extracts packages, the layers keep file owners)"
need() { command -v "$1" >/dev/null || fail "$1 is missing (Debian package $2: apt-get install $2)"; }
need mmdebstrap mmdebstrap
need umoci umoci
need hardlink util-linux
need dpkg-deb dpkg
need git git
command -v dotnet >/dev/null || fail "dotnet is missing (the .NET SDK of global.json)"

# One place for the version: <Version> in Directory.Build.props (the assemblies and `fisher --version` carry it too).
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
[ -n "$version" ] || fail "Directory.Build.props: no <Version> element"
revision=$(git rev-parse HEAD 2>/dev/null) || fail "not a git checkout: the image's revision label is the commit"
[ -z "$(git status --porcelain --untracked-files=no)" ] \
  || echo "deploy/image/build.sh: warning: uncommitted changes are built in, the revision label names $revision" >&2
if [ -z "$source" ]; then
  source=$(git config --get remote.origin.url || true)
  # never a user or token in a label; git@host:path (scp form) as https://host/path, a path as file://
  source=$(printf '%s' "$source" | sed -E -e 's#^([a-z+]+://)[^/@]*@#\1#' -e 's#^[^/@:]+@([^/:]+):#https://\1/#' -e 's#^/#file:///#')
  [ -n "$source" ] || source="file://$repo"
fi
# The image's release is the host's: the TorchSharp ELF step (Directory.Build.targets) checks the native shim against
# the host's libstdc++, which is then the one in the image.
. /etc/os-release
suite=${VERSION_CODENAME:-}
[ -n "$suite" ] || fail "/etc/os-release: no VERSION_CODENAME (expected a Debian release)"
sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -s "$f" ] && sources+=("$f")
done
[ ${#sources[@]} -gt 0 ] || fail "/etc/apt: no apt sources to build the root file system from"
export SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)

mkdir -p "$out"
out=$(cd "$out" && pwd)
archive="$out/fisher-distributed-$version.oci.tar"
work=$(mktemp -d "${TMPDIR:-/tmp}/fisher-image.XXXXXX")
debootstrap_pid=""
trap '[ -z "$debootstrap_pid" ] || kill "$debootstrap_pid" 2>/dev/null; rm -rf "$work"' EXIT
started=$(date +%s)
step() { echo "deploy/image/build.sh: [$(( $(date +%s) - started )) s] $*" >&2; }

# The base: only the run-time libraries of .NET and TorchSharp, extracted (no dpkg, apt, shell or maintainer scripts).
# libicu is not needed (InvariantGlobalization in Directory.Build.props); libgomp comes with libtorch.
base="$work/base"
step "root file system from the $suite packages of the host's apt sources (log: $work/mmdebstrap.log)"
mmdebstrap --quiet --variant=extract --skip=cleanup/apt --include=libc6,libgcc-s1,libstdc++6,libssl3 \
  "$suite" "$base" "${sources[@]}" >"$work/mmdebstrap.log" 2>&1 &
debootstrap_pid=$!

# Both apps self-contained, each in its own folder: the silo takes Microsoft.Extensions.* from the ASP.NET Core
# runtime pack and the CLI from NuGet (other versions), so one folder would run one of them on untested assemblies.
# Identical files become hard links (stored once per layer); /opt/fisher/Fisher.Silo and /opt/fisher/fisher are
# symbolic links to the apphosts (an apphost finds its app folder from its real path).
app="$work/app"
for p in "Fisher.Silo silo" "Fisher.Client cli"; do
  set -- $p
  step "dotnet publish src/$1 (self-contained linux-x64, log: $work/publish-$2.log)"
  dotnet publish "src/$1" -c Release -r linux-x64 --self-contained -o "$app/opt/fisher/$2" -nologo \
    >"$work/publish-$2.log" 2>&1 || { tail -n 20 "$work/publish-$2.log" >&2; fail "dotnet publish src/$1 failed"; }
done
ln -s silo/Fisher.Silo "$app/opt/fisher/Fisher.Silo"
ln -s cli/fisher "$app/opt/fisher/fisher"
hardlink --quiet --respect-name --ignore-time "$app/opt/fisher"
chown -R 0:0 "$app/opt"
chmod -R u+rwX,go+rX,go-w "$app/opt"
# The plain-copy cache volume: FISHER_CACHE_DIR is a folder below it, which the silo creates private (0700); the silo
# refuses a cache folder others can write to, and a Kubernetes emptyDir is mode 0777.
install -d -m 0700 -o 10001 -g 10001 "$app/var/cache/fisher"
chmod 0755 "$app"

wait "$debootstrap_pid" || { tail -n 20 "$work/mmdebstrap.log" >&2; fail "mmdebstrap failed"; }
debootstrap_pid=""
step "ca-certificates and tzdata (files only)"
mkdir "$work/debs"
(cd "$work/debs" && apt-get -q -o Dir="$base/" -o Dir::State::Status="$base/var/lib/dpkg/status" \
  -o APT::Sandbox::User=root download ca-certificates tzdata >"$work/download.log" 2>&1) \
  || { tail -n 20 "$work/download.log" >&2; fail "apt-get download ca-certificates tzdata failed"; }
dpkg-deb --fsys-tarfile "$work"/debs/ca-certificates_*.deb | tar -x -C "$base" ./usr/share/ca-certificates
dpkg-deb --fsys-tarfile "$work"/debs/tzdata_*.deb | tar -x -C "$base" ./usr/share/zoneinfo
# What update-ca-certificates would write, and where OpenSSL looks (the openssl package's links).
install -d -m 0755 "$base/etc/ssl/certs" "$base/usr/lib/ssl"
find "$base/usr/share/ca-certificates" -name '*.crt' | LC_ALL=C sort | while read -r crt; do sed -e '$a\' "$crt"; done \
  >"$base/etc/ssl/certs/ca-certificates.crt"
ln -s /etc/ssl/certs "$base/usr/lib/ssl/certs"
ln -s /etc/ssl/certs/ca-certificates.crt "$base/usr/lib/ssl/cert.pem"
# No package database, apt state, documentation or device nodes (the runtime provides /dev); mount points stay.
rm -rf "$base"/etc/apt "$base"/etc/dpkg "$base"/var/lib/apt "$base"/var/lib/dpkg "$base"/var/cache/apt "$base"/var/log/apt \
  "$base"/usr/share/doc "$base"/usr/share/gcc "$base"/usr/share/gdb "$base"/usr/share/lintian \
  "$base"/etc/fstab "$base"/etc/hostname "$base"/etc/resolv.conf "$base"/dev/*
install -d -m 0755 "$base/dev" "$base/proc" "$base/sys" "$base/run" "$base/etc" "$base/var/cache"
install -d -m 1777 "$base/tmp"
chmod 0755 "$base"
ldconfig -r "$base"
rm -rf "$base/var/cache/ldconfig"
cat >"$base/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/usr/sbin/nologin
fisher:x:10001:10001:Fisher.Distributed:/tmp:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$base/etc/group" <<'EOF'
root:x:0:
fisher:x:10001:
nogroup:x:65534:
EOF
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$base/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$base/etc/hosts"

step "layers and image"
layer() { # folder, tar: sorted, owners by number, times clamped to the commit's
  tar -C "$1" --sort=name --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" --clamp-mtime --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf "$2" .
}
layer "$base" "$work/base.tar"
layer "$app" "$work/app.tar"
ref="fisher-distributed:$version"
layout="$work/layout"
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
umoci init --layout "$layout"
umoci new --image "$layout:$ref"
umoci raw add-layer --image "$layout:$ref" --history.created "$created" \
  --history.created_by "mmdebstrap --variant=extract $suite: libc6 libgcc-s1 libstdc++6 libssl3, CA certificates, tzdata" "$work/base.tar"
umoci raw add-layer --image "$layout:$ref" --history.created "$created" \
  --history.created_by "dotnet publish -r linux-x64 --self-contained: /opt/fisher/silo, /opt/fisher/cli" "$work/app.tar"
# Ports: the silo's defaults (Fisher:SiloPort 11111, Fisher:GatewayPort 30000 in src/Fisher.Silo/Program.cs;
# Fisher:Http:Address port 8080 in src/Fisher.Silo/SiloHttp.cs).
umoci config --image "$layout:$ref" --no-history --created "$created" --author "Fisher.Distributed" \
  --config.user 10001:10001 \
  --config.entrypoint /opt/fisher/Fisher.Silo \
  --config.workingdir /opt/fisher \
  --config.env PATH=/opt/fisher:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env FISHER_CACHE_DIR=/var/cache/fisher/decompressed \
  --config.volume /var/cache/fisher --config.volume /tmp \
  --config.exposedports 11111/tcp --config.exposedports 30000/tcp --config.exposedports 8080/tcp \
  --config.label org.opencontainers.image.title=fisher-distributed \
  --config.label "org.opencontainers.image.version=$version" \
  --config.label "org.opencontainers.image.revision=$revision" \
  --config.label "org.opencontainers.image.source=$source"
umoci gc --layout "$layout"
rm -f "$archive"
tar -C "$layout" --sort=name --numeric-owner --owner=0 --group=0 --mtime="@$SOURCE_DATE_EPOCH" -cf "$archive.partial" oci-layout index.json blobs
mv "$archive.partial" "$archive"

if $keep_rootfs; then
  step "rootfs: the layers unpacked"
  rm -rf "$out/rootfs"
  mkdir "$out/rootfs"
  for t in "$work/base.tar" "$work/app.tar"; do tar -C "$out/rootfs" --numeric-owner -xpf "$t"; done
fi
step "done: $archive ($(du -m "$archive" | cut -f1) MB, $ref)"
