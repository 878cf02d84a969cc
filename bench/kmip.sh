#!/bin/sh
# Builds the server and the load generator in release mode, then runs the KMIP
# benchmark: Get, Create and Encrypt (4 KiB AES-GCM) over mutual TLS at 1 and 16
# connections with each 16-connection rate against its target, the time of one
# durable flush on the data directory's disk (which bounds one connection: every
# key read waits for its audit record), the server's memory with 1,000 idle
# connections, and the same operations against pykmip-server
# (`pip install pykmip`) with ratios. Extra arguments go to
# `cryptainer-bench kmip`, e.g. `--duration 3s`, `--no-pykmip` or
# `--server-bin OTHER` (to compare two builds in the same conditions).
#
# Honours CARGO_TARGET_DIR: the server is taken from the same target directory
# as the load generator.
set -eu
cd "$(dirname "$0")/.."
cargo build --release -p cli -p cryptainer-bench
target_dir="${CARGO_TARGET_DIR:-target}"
exec "$target_dir/release/cryptainer-bench" kmip --server-bin "$target_dir/release/cryptainer" "$@"
