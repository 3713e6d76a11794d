#!/usr/bin/env bash
# Installs the Debian packages twin needs, only those missing, so a second run does nothing.
# Usage: scripts/setup_system.sh [demo|test]
#   demo: PostgreSQL with PostGIS, and mdbtools (survey tables in Access .mdb files)
#   test: the same, plus Chromium for the browser tests (with a Chinese font, so survey text in the
#         screenshots is legible), GDAL's tools for the benchmarks and nginx (the deployment test)
set -euo pipefail

purpose="${1:-demo}"

# PostGIS must match the PostgreSQL major version on the machine (Debian 12 ships 15).
pg_major() {
  local v
  v=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1)
  echo "${v:-15}"
}

major=$(pg_major)
wanted=("postgresql-${major}" "postgresql-${major}-postgis-3" mdbtools)
if [ "$purpose" = "test" ]; then
  wanted+=(chromium fonts-wqy-microhei gdal-bin nginx-light)
fi

missing=()
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "twin setup: missing ${missing[*]} and no apt-get here; install them with your package manager" >&2
  exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "twin setup: need root to install ${missing[*]}; run as root or install sudo" >&2
    exit 1
  fi
fi

echo "twin setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Debian's postgresql package creates and starts a cluster on 5432; twin leaves it alone.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
