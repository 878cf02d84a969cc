#!/usr/bin/env bash
# Start time of `docker run` with a Cryptainer volume against a local volume,
# measured in one run on the same machine: a development server, an agent
# joined to it serving its own plugin socket, and a busybox image made with
# `docker import` (no registry needed). Each start is
# `docker run -d -v VOLUME:/data IMAGE sleep 60`, timed until it returns, that
# is until the container runs (create, mount, start); the container is then
# removed, untimed. The runs of the two kinds alternate so that drift hits
# both. Prints the medians, the difference (what the encrypted volume adds:
# the Docker lookup of the workload, lease and key from the key manager over
# mutual TLS, keyslot unlock, engine start, ext4 mount) and the ratio. Needs root, docker (running),
# busybox-static. Called by bench/volume.sh; alone:
#
#   bench/docker-start.sh            # 15 runs of each
#   RUNS=5 bench/docker-start.sh
#
# Honours CARGO_TARGET_DIR (the release `cryptainer` binary).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${RUNS:-15}"
IMAGE=cryptainer-bench/busybox:latest
WORK=$(mktemp -d /var/tmp/cryptainer-docker-start.XXXXXX)
DRIVER="cptbench$$"
SOCKET="/run/docker/plugins/$DRIVER.sock"
VOLUME="$DRIVER-vol"
LOCAL="$DRIVER-local"

[ "$(id -u)" = 0 ] || { echo "bench/docker-start.sh needs root (plugin socket, mounts)" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "docker is not running: start dockerd first" >&2; exit 1; }

cargo build --release -q -p cli
cryptainer="$(pwd)/${CARGO_TARGET_DIR:-target}/release/cryptainer"

server_pid="" agent_pid=""
cleanup() {
    set +e
    docker volume rm -f "$VOLUME" "$LOCAL" >/dev/null 2>&1
    [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -f "$SOCKET"
    rm -rf "$WORK"
}
trap cleanup EXIT

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
    busybox=$(command -v busybox) || { echo "missing busybox (apt-get install busybox-static)" >&2; exit 1; }
    mkdir -p "$WORK"/rootfs/{bin,data,proc,sys,dev,etc,tmp}
    cp "$busybox" "$WORK/rootfs/bin/busybox"
    ln -s busybox "$WORK/rootfs/bin/sleep"
    tar -C "$WORK/rootfs" -c . | docker import - "$IMAGE" >/dev/null
fi

"$cryptainer" server --dev --data-dir "$WORK/server" --listen 127.0.0.1:0 \
    --kmip-listen 127.0.0.1:0 >"$WORK/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 300); do [ -f "$WORK/server/dev.env" ] && break; sleep 0.1; done
[ -f "$WORK/server/dev.env" ] || { echo "the server did not start; see its log:" >&2; cat "$WORK/server.log" >&2; exit 1; }
# shellcheck disable=SC1091
. "$WORK/server/dev.env"
token=$("$cryptainer" node token create --json | jq -r .token)
"$cryptainer" agent join --server "$CRYPTAINER_ADDR" --token "$token" \
    --data-dir "$WORK/agent" >/dev/null
CRYPTAINER_LOG=warn "$cryptainer" agent run --data-dir "$WORK/agent" --plugin-socket "$SOCKET" \
    --storage-dir "$WORK/storage" --run-dir "$WORK/run" 2>"$WORK/agent.log" &
agent_pid=$!
for _ in $(seq 300); do [ -S "$SOCKET" ] && break; sleep 0.1; done

docker volume create -d "$DRIVER" --opt size=1G "$VOLUME" >/dev/null
docker volume create "$LOCAL" >/dev/null

# start_ms VOLUME: milliseconds for `docker run -d` with VOLUME at /data to
# return, which it does once the container runs (volume created, mounted and
# bound in). The container is then removed (its unmount is not timed).
start_ms() {
    local begin end id
    begin=$(date +%s%N)
    id=$(docker run -d --network none -v "$1:/data" "$IMAGE" sleep 60)
    end=$(date +%s%N)
    docker rm -f "$id" >/dev/null
    echo $(((end - begin) / 1000000))
}

# One warm-up of each (image layers, first mount), not counted.
start_ms "$LOCAL" >/dev/null
start_ms "$VOLUME" >/dev/null
local_times=() crypt_times=()
for i in $(seq "$RUNS"); do
    local_times+=("$(start_ms "$LOCAL")")
    crypt_times+=("$(start_ms "$VOLUME")")
    printf '\r  docker run %d/%d' "$i" "$RUNS" >&2
done
echo >&2

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
local_median=$(median "${local_times[@]}")
crypt_median=$(median "${crypt_times[@]}")
printf '\n%-44s %10s %12s %10s %8s\n' "docker run -d -v VOL:/data ($RUNS runs)" "local" "cryptainer" "added" "ratio"
printf '%-44s %8.0fms %10.0fms %8.0fms %8.2f\n' "median time until running" "$local_median" "$crypt_median" \
    "$(echo "$crypt_median - $local_median" | bc -l)" "$(echo "$crypt_median / $local_median" | bc -l)"
echo "target: a Cryptainer volume adds less than 300 ms"
