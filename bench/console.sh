#!/bin/sh
# Builds the server and the load generator in release mode, then measures the
# web console's time to first render of each view in chromium with 1,000
# nodes and 10,000 volumes, against 10 nodes and 100 volumes in the same run
# (needs chromium and chromium-driver). Extra arguments go to
# `cryptainer-bench console`, e.g. `--nodes 200 --volumes 2000` for a quick run.
#
# Honours CARGO_TARGET_DIR: the server is taken from the same target directory
# as the load generator.
set -eu
cd "$(dirname "$0")/.."
cargo build --release -p cli -p cryptainer-bench
target_dir="${CARGO_TARGET_DIR:-target}"
exec "$target_dir/release/cryptainer-bench" console --server-bin "$target_dir/release/cryptainer" "$@"
