#!/usr/bin/env bash
# The tests, on a Debian 12 machine that has the .NET SDK: installs the Debian packages the tests start or call
# when they are missing (redis-server, prometheus, python3-torch, python3-numpy; mmdebstrap, umoci, skopeo for the
# container image; kubectl, nodejs for the manifests), installs the Kubernetes schemas of
# tests/Fisher.Deploy.Tests/schemas with npm ci when they are missing, then runs
#   dotnet test Fisher.Distributed.sln -c Release [extra arguments]
# from the repository root. Extra arguments go to dotnet test (e.g. --filter ..., --logger ...).
# FISHER_TEST_TIMEOUT_SCALE (default 1) multiplies every wait in the tests (tests/Shared/TestTimeouts.cs).
set -euo pipefail
cd "$(dirname "$0")/.."

packages="redis-server prometheus python3-torch python3-numpy mmdebstrap umoci skopeo kubectl nodejs"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done

if [ -n "$missing" ]; then
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "tools/test.sh: the tests need Debian's$missing; run as root or install sudo" >&2; exit 1; }
    as_root=(sudo)
  fi
  command -v apt-get >/dev/null || { echo "tools/test.sh: the tests need Debian's$missing, and apt-get is not here" >&2; exit 1; }
  log=$(mktemp -t fisher-test-apt.XXXXXX.log)
  echo "tools/test.sh: installing Debian packages:$missing (log: $log)" >&2
  if ! { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q \
         && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing; } >"$log" 2>&1; then
    echo "tools/test.sh: installing$missing failed; the end of $log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  rm -f "$log"
fi

# The Kubernetes OpenAPI schemas the deployment tests validate against: npm packages at the versions of
# tests/Fisher.Deploy.Tests/schemas/package-lock.json (npm comes with the nodejs package).
schemas=tests/Fisher.Deploy.Tests/schemas
if [ ! -d "$schemas/node_modules" ] || [ "$schemas/package-lock.json" -nt "$schemas/node_modules/.package-lock.json" ]; then
  command -v npm >/dev/null || { echo "tools/test.sh: the deployment tests need npm (with nodejs) to install $schemas" >&2; exit 1; }
  (cd "$schemas" && npm ci --no-audit --no-fund --loglevel=error) >&2 || { echo "tools/test.sh: npm ci in $schemas failed" >&2; exit 1; }
fi

exec dotnet test Fisher.Distributed.sln -c Release "$@"
