#!/bin/sh
# Runs a test program with a private, empty TMPDIR and fails when the program
# fails or leaves anything there (issue 12: passing tests leave nothing in the
# system temp folder).   no_leftovers.sh PROGRAM [ARGS...]
set -u
tmp=$(mktemp -d)
TMPDIR=$tmp "$@"
rc=$?
left=$(ls -A "$tmp")
rm -rf "$tmp"
[ "$rc" -eq 0 ] || exit "$rc"
if [ -n "$left" ]; then
  echo "left in TMPDIR by $1:" >&2
  echo "$left" >&2
  exit 1
fi
