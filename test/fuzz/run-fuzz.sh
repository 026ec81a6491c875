#!/bin/sh
# run-fuzz.sh BINARY SECONDS SEED_DIR WORK_DIR
# Runs a libFuzzer target for SECONDS. New inputs go to WORK_DIR (in the
# build tree): libFuzzer writes into its first corpus folder, and the seed
# corpus in the source tree must stay as committed.
set -e
bin=$1 seconds=$2 seeds=$3 work=$4
mkdir -p "$work" "$work-artifacts"
exec "$bin" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 \
  -timeout=10 -artifact_prefix="$work-artifacts/" "$work" "$seeds"
