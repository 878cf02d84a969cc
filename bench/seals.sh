#!/bin/sh
# Builds the server and the load generator in release mode, then measures each
# seal kind: time from process start to unsealed (median of 3 starts) and key
# create/get throughput, as ratios against the passphrase seal in the same run.
# Needs softhsm2, swtpm and swtpm-tools (a kind whose tool is missing is
# skipped). Extra arguments go to `cryptainer-bench seals`, e.g. `--duration 5`.
set -eu
cd "$(dirname "$0")/.."
cargo build --release -p cli -p cryptainer-bench
target_dir="${CARGO_TARGET_DIR:-target}"
exec "$target_dir/release/cryptainer-bench" seals --server-bin "$target_dir/release/cryptainer" "$@"
