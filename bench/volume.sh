#!/usr/bin/env bash
# One command, one run: fio on native ext4 (on a loop image on the same
# disk), on a Cryptainer volume, and on gocryptfs, printed as ratios of the
# Cryptainer volume to native and to gocryptfs. Needs root, fio, gocryptfs,
# e2fsprogs and fuse3.
#
#   bench/volume.sh                 # BENCH_DIR=/var/tmp/cryptainer-bench, 1 GiB files
#   BENCH_SIZE=256M RUNTIME=5 bench/volume.sh   # quicker
#
# Workloads: sequential 1 MiB writes with fsync at the end, sequential 1 MiB
# reads after dropping caches, random 4 KiB writes with an fsync every 32
# writes, random 4 KiB reads after dropping caches (psync, 4 jobs), and
# small files (4 KiB) created, stat'ed and deleted (operations per second).
# Then the start time of `docker run` with a Cryptainer volume against a local
# volume (bench/docker-start.sh; DOCKER_START=0 skips it).
# Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_DIR="${BENCH_DIR:-/var/tmp/cryptainer-bench}"
SIZE="${BENCH_SIZE:-1G}"
RUNTIME="${RUNTIME:-10}"
SMALL_FILES="${SMALL_FILES:-4000}"
IMAGE_SIZE=$((4 << 30))

[ "$(id -u)" = 0 ] || { echo "bench/volume.sh needs root (loop devices, FUSE, mount)" >&2; exit 1; }
for tool in fio gocryptfs mkfs.ext4 jq losetup; do
    command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

cargo build --release -q -p volume
bin="${CARGO_TARGET_DIR:-target}/release"
ctl=("$bin/cryptainer-volume-ctl" --store "$BENCH_DIR/store" --state-root "$BENCH_DIR/state")

native_loop=""
cleanup() {
    set +e
    umount "$BENCH_DIR/native" 2>/dev/null
    [ -n "$native_loop" ] && losetup -d "$native_loop" 2>/dev/null
    "${ctl[@]}" unmount bench 2>/dev/null
    fusermount3 -u "$BENCH_DIR/gocryptfs" 2>/dev/null || umount "$BENCH_DIR/gocryptfs" 2>/dev/null
    rm -rf "$BENCH_DIR"
}
trap cleanup EXIT
cleanup
mkdir -p "$BENCH_DIR"/{native,cryptainer,gocryptfs,gocryptfs.cipher}

# Native: ext4 on a loop image (direct I/O) on the same disk.
truncate -s "$IMAGE_SIZE" "$BENCH_DIR/native.img"
native_loop=$(losetup --find --show --direct-io=on --sector-size 4096 "$BENCH_DIR/native.img")
mkfs.ext4 -q -F -b 4096 -E nodiscard "$native_loop"
mount "$native_loop" "$BENCH_DIR/native"

# Cryptainer: a sparse volume, a random key on the engine's standard input.
"${ctl[@]}" create bench "$IMAGE_SIZE"
head -c 64 /dev/urandom | "${ctl[@]}" mount bench "$BENCH_DIR/cryptainer" >&2

# gocryptfs, as its documentation sets it up.
gocryptfs -q -init -extpass 'echo pw' "$BENCH_DIR/gocryptfs.cipher" >/dev/null
gocryptfs -q -extpass 'echo pw' "$BENCH_DIR/gocryptfs.cipher" "$BENCH_DIR/gocryptfs"

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

# fio_metric DIR METRIC ARGS...: runs one fio job in DIR, prints METRIC
# (bw in KiB/s or iops) summed over jobs.
fio_metric() {
    local dir=$1 metric=$2; shift 2
    fio --output-format=json --directory="$dir" --group_reporting "$@" \
        | jq ".jobs[0] | (.read.$metric + .write.$metric)"
}

# small_files DIR: create, stat and delete SMALL_FILES files; operations per second.
small_files() {
    local dir=$1 start end
    start=$(date +%s.%N)
    fio --output-format=json --directory="$dir/small" --name=create --ioengine=filecreate \
        --nrfiles="$SMALL_FILES" --filesize=4k --bs=4k --rw=write --openfiles=1 >/dev/null
    sync
    fio --output-format=json --directory="$dir/small" --name=create --ioengine=filestat \
        --nrfiles="$SMALL_FILES" --filesize=4k --bs=4k --rw=read --openfiles=1 >/dev/null
    fio --output-format=json --directory="$dir/small" --name=create --ioengine=filedelete \
        --nrfiles="$SMALL_FILES" --filesize=4k --bs=4k --rw=write --openfiles=1 >/dev/null
    sync
    end=$(date +%s.%N)
    echo "3 * $SMALL_FILES / ($end - $start)" | bc -l
}

declare -A result
for system in native cryptainer gocryptfs; do
    dir="$BENCH_DIR/$system"
    mkdir -p "$dir/small"
    echo "== $system" >&2
    result[$system,seqwrite]=$(fio_metric "$dir" bw --name=seqwrite --rw=write --bs=1M --size="$SIZE" \
        --ioengine=psync --end_fsync=1 --filename=seq)
    drop_caches
    result[$system,seqread]=$(fio_metric "$dir" bw --name=seqread --rw=read --bs=1M --size="$SIZE" \
        --ioengine=psync --filename=seq)
    result[$system,randwrite]=$(fio_metric "$dir" iops --name=randwrite --rw=randwrite --bs=4k \
        --size="$SIZE" --ioengine=psync --fsync=32 --time_based --runtime="$RUNTIME" --filename=rand)
    drop_caches
    result[$system,randread]=$(fio_metric "$dir" iops --name=randread --rw=randread --bs=4k \
        --size="$SIZE" --ioengine=psync --numjobs=4 --time_based --runtime="$RUNTIME" --filename=rand)
    result[$system,smallfiles]=$(small_files "$dir")
    rm -f "$dir/seq" "$dir/rand"
done

printf '\n%-34s %12s %12s %12s %10s %12s\n' workload native cryptainer gocryptfs "vs native" "vs gocryptfs"
row() {
    local key=$1 label=$2 n c g
    n=${result[native,$key]} c=${result[cryptainer,$key]} g=${result[gocryptfs,$key]}
    printf '%-34s %12.0f %12.0f %12.0f %10.2f %12.2f\n' "$label" "$n" "$c" "$g" \
        "$(echo "$c / $n" | bc -l)" "$(echo "$c / $g" | bc -l)"
}
row seqwrite   "seq write 1M + fsync (KiB/s)"
row seqread    "seq read 1M, cold (KiB/s)"
row randwrite  "rand write 4K, fsync/32 (IOPS)"
row randread   "rand read 4K, cold, 4 jobs (IOPS)"
row smallfiles "small files create/stat/rm (op/s)"
echo "targets: >= 0.90 of native, >= 1.5 x gocryptfs"

# Container start time with a Cryptainer volume against a local volume
# (needs dockerd running; DOCKER_START=0 skips it).
if [ "${DOCKER_START:-1}" = 1 ]; then
    if docker info >/dev/null 2>&1; then
        bench/docker-start.sh
    else
        echo "docker run start time: skipped, dockerd is not running (bench/docker-start.sh)"
    fi
fi
