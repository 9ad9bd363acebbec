#!/usr/bin/env bash
# Installs every Debian 12 package Acervo needs (the one list in
# scripts/debian-packages.txt). Run as root. Skips apt entirely when all are
# already installed, so repeated runs are fast and work offline.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t pkgs < <(grep -v '^\s*#' "$here/debian-packages.txt" | sed 's/\s*#.*//' | grep -v '^\s*$')
# Names that installed packages provide (a nodejs from elsewhere that
# provides npm counts as npm: asking apt for Debian's npm would conflict).
provided=$(dpkg-query -W -f='${db:Status-Abbrev} ${Provides}\n' 2>/dev/null | awk '$1 == "ii" { $1 = ""; print }' |
  tr ',' '\n' | sed 's/(.*)//; s/^ *//; s/ *$//')
missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || grep -qxF "$p" <<<"$provided" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#pkgs[@]} Debian packages present" >&2
  exit 0
fi
echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}" >&2
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: must run as root (apt-get install)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
