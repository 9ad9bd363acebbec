#!/bin/sh
# CTest driver for one fuzzer: replays every regression input (each crash
# ever found), then fuzzes for SECONDS from the seeds. A crash or leak fails
# the test and leaves the input in WORKDIR (crash-*) to become a regression.
#   run_fuzzer.sh FUZZER SEEDS_DIR REGRESSIONS_DIR SECONDS WORKDIR
set -eu
fuzzer=$1 seeds=$2 regressions=$3 seconds=$4 work=$5
rm -rf "$work/corpus" "$work/tmp"
mkdir -p "$work/corpus" "$work/tmp"
# The manifest fuzzer's lot folder goes here (libFuzzer exits without atexit).
export TMPDIR="$work/tmp"
if [ -n "$(ls -A "$regressions" 2>/dev/null)" ]; then
  # Each known input once, with a tight memory limit: they are all tiny, and
  # one of them once made the decoder take 2 GB.
  "$fuzzer" -runs=0 -rss_limit_mb=512 -malloc_limit_mb=512 -artifact_prefix="$work/" "$regressions"
fi
exec "$fuzzer" -max_total_time="$seconds" -seed=1 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/" "$work/corpus" "$seeds"
