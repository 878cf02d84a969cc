#!/bin/sh
# Builds the server and the load generator in release mode, then runs the full
# HTTPS API benchmark (16 clients, 10 s phases, 1,000,000 keys). Extra
# arguments go to `cryptainer-bench api`, e.g. `bench/run.sh --keys 20000
# --duration 3s` for a quick smoke run, or `--json` for scripts.
#
# Honours CARGO_TARGET_DIR: the server is taken from the same target directory
# as the load generator.
set -eu
cd "$(dirname "$0")/.."
cargo build --release -p cli -p cryptainer-bench
target_dir="${CARGO_TARGET_DIR:-target}"
exec "$target_dir/release/cryptainer-bench" api --server-bin "$target_dir/release/cryptainer" "$@"
