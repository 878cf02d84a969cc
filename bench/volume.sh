#!/usr/bin/env bash
# One command, one run: fio on native ext4 (on a loop image on the same
# disk), on a Cryptainer volume, and on gocryptfs, printed as ratios of the
# Cryptainer volume to native and to gocryptfs. Needs root, fio, gocryptfs,
# e2fsprogs, fuse3, jq and bc.
#
#   bench/volume.sh                 # BENCH_DIR=/var/tmp/cryptainer-bench, 1 GiB files, 3 rounds
#   BENCH_SIZE=256M RUNTIME=5 ROUNDS=1 bench/volume.sh   # quicker
#   WORKLOADS="seqwrite" SETTLE=20 bench/volume.sh   # some workloads, a pause before each write
#   TRIES=1 bench/volume.sh         # one sequential write per system and round, not the best of 3
#   bench/volume.sh --engine kernel # the volume served by dm-crypt (needs device-mapper)
#
# --engine user (the default) or kernel chooses the engine that serves the
# Cryptainer volume, as `agent run --engine` does; kernel needs a host with
# device-mapper and dm-crypt, where it checks the cost of the kernel engine
# against native on the same machine.
#
# Workloads: sequential 1 MiB writes with fsync at the end (seqwrite),
# sequential 1 MiB reads after dropping caches (seqread), random 4 KiB writes
# with an fsync every 32 writes (randwrite), random 4 KiB reads after dropping
# caches, each block once, psync, 4 jobs (randread), the same at queue depth
# 1: one job reading a quarter of the file's blocks once each (randread1),
# and small files (4 KiB) created, stat'ed and deleted, in operations per
# second (smallfiles).
#
# Interleaved: the disk of a virtual machine drifts by up to three times
# within minutes, so each workload runs on the three systems back to back,
# in an order that rotates from round to round, and the run does ROUNDS such
# rounds. Each ratio is taken within a round; the table gives the medians
# over the rounds (figures and ratios taken separately) and the lowest and
# highest ratio to native. Every round writes its files afresh.
#
# Sequential writes: each figure is the best of TRIES (default 3) writes of
# a fresh file in a row. This virtual machine's host absorbs a large write
# in its own cache and writes it back later, and while it does, the next
# system's sequential write ran at a fifth of its speed or less, whoever
# it was: native at 0.44 GB/s after gocryptfs against 2.6 GB/s first in a
# round, the volume at 0.33-0.49 GB/s right after native against 1.3-2.4
# otherwise. With one write per system the ratio to native ranged from
# 0.18 to 2.95 within one run; with the best of three, from 0.68 to 0.73.
#
# SETTLE=N waits N seconds (after a sync) before each write workload, so a
# system does not pay for the writeback of the one before it. Off by
# default: the host's writeback cannot be seen from here, and a 15 s pause
# did not remove the effect above.
#
# Random reads: every 4 KiB block of the file is read once, after dropping
# caches, so every read is cold. The run also prints how many bytes and
# how many requests each system read from the disk per 4 KiB read. Native
# and Cryptainer make one 4 KiB request per read (direct I/O under the
# loop device). gocryptfs reads its ciphertext files through the host's
# page cache with readahead: on this machine, 0.30 requests per read for
# the same number of bytes, and the disk's cost here is per request.
#
# Random writes and reads: the run also prints the whole machine's CPU time
# (user, system and interrupts; not idle, iowait or steal) and context
# switches per I/O, from /proc/stat, so that each system's figure can be
# read against what it costs. On a machine with two cores shared by fio and
# the engine, CPU time per I/O is what bounds the volume's random I/O (see
# docs/volume-engine.md, "Where a random I/O's time goes").
#
# Then the start time of `docker run` with a Cryptainer volume against a local
# volume (bench/docker-start.sh; DOCKER_START=0 skips it).
# Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

ENGINE=user
while [ $# -gt 0 ]; do
    case $1 in
        --engine)
            [ $# -ge 2 ] || { echo "--engine needs user or kernel" >&2; exit 1; }
            ENGINE=$2
            shift 2 ;;
        *) echo "unknown argument '$1'; bench/volume.sh takes --engine user|kernel" >&2; exit 1 ;;
    esac
done
case $ENGINE in
    user | kernel) ;;
    *) echo "--engine takes user or kernel, not '$ENGINE'" >&2; exit 1 ;;
esac

BENCH_DIR="${BENCH_DIR:-/var/tmp/cryptainer-bench}"
SIZE="${BENCH_SIZE:-1G}"
RUNTIME="${RUNTIME:-10}"
ROUNDS="${ROUNDS:-3}"
SMALL_FILES="${SMALL_FILES:-4000}"
SETTLE="${SETTLE:-0}"
TRIES="${TRIES:-3}"
WORKLOADS="${WORKLOADS:-seqwrite seqread randwrite randread randread1 smallfiles}"
IMAGE_SIZE=$((4 << 30))
SYSTEMS=(native cryptainer gocryptfs)

[ "$(id -u)" = 0 ] || { echo "bench/volume.sh needs root (loop devices, FUSE, mount)" >&2; exit 1; }
for tool in fio gocryptfs mkfs.ext4 jq bc losetup; do
    command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a positive integer, not '$ROUNDS'" >&2; exit 1; }
[[ "$RUNTIME" =~ ^[1-9][0-9]*$ ]] || { echo "RUNTIME must be a positive number of seconds, not '$RUNTIME'" >&2; exit 1; }
[[ "$SETTLE" =~ ^[0-9]+$ ]] || { echo "SETTLE must be a number of seconds, not '$SETTLE'" >&2; exit 1; }
[[ "$TRIES" =~ ^[1-9][0-9]*$ ]] || { echo "TRIES must be a positive integer, not '$TRIES'" >&2; exit 1; }
for workload in $WORKLOADS; do
    case $workload in
        seqwrite | seqread | randwrite | randread | randread1 | smallfiles) ;;
        *) echo "unknown workload '$workload' in WORKLOADS (seqwrite seqread randwrite randread randread1 smallfiles)" >&2; exit 1 ;;
    esac
done
wants() { [[ " $WORKLOADS " == *" $1 "* ]]; }

# The ctl tool runs its engines as `cryptainer volume-engine` from the
# binary beside it, as the agent does.
cargo build --release -q -p cli --bin cryptainer --bin cryptainer-volume-ctl
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

# Cryptainer: a sparse volume, a random keyslot secret on standard input
# (as the key manager's would be: the first mount writes the LUKS2 header).
"${ctl[@]}" create bench "$IMAGE_SIZE"
head -c 32 /dev/urandom | "${ctl[@]}" --engine "$ENGINE" mount bench "$BENCH_DIR/cryptainer" >&2

# gocryptfs, as its documentation sets it up.
gocryptfs -q -init -extpass 'echo pw' "$BENCH_DIR/gocryptfs.cipher" >/dev/null
gocryptfs -q -extpass 'echo pw' "$BENCH_DIR/gocryptfs.cipher" "$BENCH_DIR/gocryptfs"

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

# settle: before a write workload, lets the writeback of what the previous
# system wrote finish (on a virtual disk, the host's too), so that no system
# pays for the one before it.
settle() { sync; sleep "$SETTLE"; }

# fio_metric DIR METRIC ARGS...: runs one fio job in DIR, prints METRIC
# (bw in KiB/s or iops) summed over jobs.
fio_metric() {
    local dir=$1 metric=$2; shift 2
    fio --output-format=json --directory="$dir" --group_reporting "$@" \
        | jq ".jobs[0] | (.read.$metric + .write.$metric)"
}

# layout DIR FILE: writes FILE (SIZE bytes of data) for a read workload whose
# write workload did not run.
layout() {
    fio --directory="$1" --name=layout --filename="$2" --size="$SIZE" --rw=write --bs=1M \
        --ioengine=psync --end_fsync=1 >/dev/null
}

# small_files DIR: create, stat and delete SMALL_FILES files; operations per second.
small_files() {
    local dir=$1 start end
    mkdir -p "$dir/small"
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

# The disk under BENCH_DIR, whose reads the random-read workload counts.
disk_stat="/sys/class/block/$(basename "$(findmnt -no SOURCE --target "$BENCH_DIR" 2>/dev/null)")/stat"

# disk_reads: "REQUESTS SECTORS" read from that disk so far (requests
# completed, 512-byte sectors), or "0 0" if unknown.
disk_reads() {
    if [ -r "$disk_stat" ]; then awk '{ print $1, $3 }' "$disk_stat"; else echo 0 0; fi
}

# disk_share SYSTEM "REQUESTS SECTORS" FIO_IOS: records, for the current
# round, the bytes read from the disk since then per byte fio read, and
# prints that and the disk reads per fio read (see the header).
disk_share() {
    [ -r "$disk_stat" ] && [ "$3" -gt 0 ] || return 0
    local before_requests before_sectors requests sectors share per_read
    read -r before_requests before_sectors <<<"$2"
    read -r requests sectors <<<"$(disk_reads)"
    share=$(echo "($sectors - $before_sectors) * 512 / ($3 * 4096)" | bc -l)
    per_read=$(echo "($requests - $before_requests) / $3" | bc -l)
    printf '%s\n' "$share" > "$BENCH_DIR/disk-bytes.$1.$round"
    printf '%s\n' "$per_read" > "$BENCH_DIR/disk-requests.$1.$round"
    printf '   randread on %s: %.2f bytes and %.2f requests read from the disk per 4 KiB read\n' \
        "$1" "$share" "$per_read" >&2
}

# cpu_mark: "BUSY SWITCHES": the whole machine's busy CPU time so far (user,
# nice, system, irq and softirq, in clock ticks; not idle, iowait or steal)
# and its context switches so far (/proc/stat).
clock_ticks=$(getconf CLK_TCK)
cpu_mark() {
    awk '/^cpu / { busy = $2 + $3 + $4 + $7 + $8 } /^ctxt / { switches = $2 }
        END { print busy, switches }' /proc/stat
}

# cpu_share WORKLOAD SYSTEM "BUSY SWITCHES" IOS: records, for the current
# round, the machine's CPU time (microseconds) and context switches per I/O
# since that mark, and prints them (see the header).
cpu_share() {
    [ "$4" -gt 0 ] || return 0
    local before_busy before_switches busy switches per_io switches_per_io
    read -r before_busy before_switches <<<"$3"
    read -r busy switches <<<"$(cpu_mark)"
    per_io=$(echo "($busy - $before_busy) * 1000000 / $clock_ticks / $4" | bc -l)
    switches_per_io=$(echo "($switches - $before_switches) / $4" | bc -l)
    printf '%s %s\n' "$per_io" "$switches_per_io" > "$BENCH_DIR/cpu.$1.$2.$round"
    printf '   %s on %s: %.0f us of CPU and %.1f context switches per I/O\n' \
        "$1" "$2" "$per_io" "$switches_per_io" >&2
}

# measure WORKLOAD SYSTEM: one figure of WORKLOAD on SYSTEM.
measure() {
    local workload=$1 dir="$BENCH_DIR/$2"
    case $workload in
        seqwrite)
            # The best of TRIES writes, each of a fresh file (see the header).
            local try figure best=0
            for ((try = 0; try < TRIES; try++)); do
                rm -f "$dir/seq"
                settle
                figure=$(fio_metric "$dir" bw --name=seqwrite --rw=write --bs=1M --size="$SIZE" \
                    --ioengine=psync --end_fsync=1 --filename=seq)
                if (($(echo "$figure > $best" | bc))); then best=$figure; fi
            done
            echo "$best" ;;
        seqread)
            # Reads what seqwrite left, or a file laid out first when it did not run.
            [ -f "$dir/seq" ] || layout "$dir" seq
            drop_caches
            fio_metric "$dir" bw --name=seqread --rw=read --bs=1M --size="$SIZE" \
                --ioengine=psync --filename=seq ;;
        randwrite)
            # The whole file is written first, so the random writes overwrite
            # data, as in a database file, and the random reads after them
            # read data; otherwise the file is preallocated and unwritten
            # blocks read as zeros without any I/O. (overwrite=1 finds it
            # laid out and leaves it.)
            rm -f "$dir/rand"
            layout "$dir" rand
            settle
            local mark json
            mark=$(cpu_mark)
            json=$(fio --output-format=json --directory="$dir" --group_reporting --name=randwrite \
                --rw=randwrite --bs=4k --size="$SIZE" --ioengine=psync --fsync=32 --time_based \
                --runtime="$RUNTIME" --filename=rand --overwrite=1)
            cpu_share randwrite "$2" "$mark" "$(jq '.jobs[0].write.total_ios' <<<"$json")"
            jq '.jobs[0].write.iops' <<<"$json" ;;
        randread1)
            # Queue depth 1: one job reads a quarter of the file's blocks,
            # each once, in random order, every read cold.
            [ -f "$dir/rand" ] || layout "$dir" rand
            drop_caches
            local mark json
            mark=$(cpu_mark)
            json=$(fio --output-format=json --directory="$dir" --group_reporting --name=randread1 \
                --rw=randread --bs=4k --ioengine=psync --numjobs=1 --size=25% --filename=rand)
            cpu_share randread1 "$2" "$mark" "$(jq '.jobs[0].read.total_ios' <<<"$json")"
            jq '.jobs[0].read.iops' <<<"$json" ;;
        randread)
            [ -f "$dir/rand" ] || layout "$dir" rand
            drop_caches
            local before mark json
            before=$(disk_reads)
            mark=$(cpu_mark)
            # Each of 4 jobs reads its quarter of the file once, each block
            # once: every read is cold. (Time-based, the jobs went on over
            # blocks already in the page cache, and the figure mixed cold
            # and cached reads in a proportion set by RUNTIME and SIZE.)
            json=$(fio --output-format=json --directory="$dir" --group_reporting --name=randread \
                --rw=randread --bs=4k --ioengine=psync --numjobs=4 --size=25% \
                --offset_increment=25% --filename=rand)
            disk_share "$2" "$before" "$(jq '.jobs[0].read.total_ios' <<<"$json")"
            cpu_share randread "$2" "$mark" "$(jq '.jobs[0].read.total_ios' <<<"$json")"
            jq '.jobs[0].read.iops' <<<"$json" ;;
        smallfiles)
            small_files "$dir" ;;
    esac
}

# median N...: the median of the numbers given.
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

declare -A result
for ((round = 0; round < ROUNDS; round++)); do
    # Rotate the order of the systems from round to round.
    order=()
    for ((i = 0; i < ${#SYSTEMS[@]}; i++)); do
        order+=("${SYSTEMS[(i + round) % ${#SYSTEMS[@]}]}")
    done
    for workload in $WORKLOADS; do
        for system in "${order[@]}"; do
            echo "== round $((round + 1))/$ROUNDS $workload on $system" >&2
            result[$workload,$system,$round]=$(measure "$workload" "$system")
        done
        n=${result[$workload,native,$round]} c=${result[$workload,cryptainer,$round]}
        g=${result[$workload,gocryptfs,$round]}
        result[$workload,vsnative,$round]=$(echo "$c / $n" | bc -l)
        result[$workload,vsgocryptfs,$round]=$(echo "$c / $g" | bc -l)
        printf '   %s round %d: native %.0f, cryptainer %.0f, gocryptfs %.0f: %.2f of native, %.2f x gocryptfs\n' \
            "$workload" "$((round + 1))" "$n" "$c" "$g" "${result[$workload,vsnative,$round]}" \
            "${result[$workload,vsgocryptfs,$round]}" >&2
    done
done

# series WORKLOAD COLUMN: the values of COLUMN over the rounds.
series() {
    local round
    for ((round = 0; round < ROUNDS; round++)); do echo "${result[$1,$2,$round]}"; done
}

printf '\nmedians over %d round(s), %s files, the Cryptainer volume served by the %s engine\n' \
    "$ROUNDS" "$SIZE" "$ENGINE"
printf '%-34s %12s %12s %12s %10s %12s %14s\n' workload native cryptainer gocryptfs "vs native" \
    "vs gocryptfs" "vs native, range"
row() {
    local key=$1 label=$2 column values=()
    wants "$key" || return 0
    for column in native cryptainer gocryptfs vsnative vsgocryptfs; do
        # shellcheck disable=SC2046
        values+=("$(median $(series "$key" "$column"))")
    done
    # shellcheck disable=SC2046
    printf '%-34s %12.0f %12.0f %12.0f %10.2f %12.2f %9.2f-%.2f\n' "$label" "${values[@]}" \
        "$(series "$key" vsnative | sort -g | head -1)" "$(series "$key" vsnative | sort -g | tail -1)"
}
row seqwrite   "seq write 1M + fsync (KiB/s)"
row seqread    "seq read 1M, cold (KiB/s)"
row randwrite  "rand write 4K, fsync/32 (IOPS)"
row randread   "rand read 4K, cold, 4 jobs (IOPS)"
row randread1  "rand read 4K, cold, QD1 (IOPS)"
row smallfiles "small files create/stat/rm (op/s)"
echo "targets (issue 21): cold random reads at QD1 >= 0.5 of native, every other workload >= 0.9;"
echo "  every workload >= 1.2 x gocryptfs, or >= 0.95 x where gocryptfs is within 10% of native"
if wants randread && [ -r "$disk_stat" ]; then
    echo "rand read, from the disk per 4 KiB read (medians): bytes / requests"
    for system in "${SYSTEMS[@]}"; do
        compgen -G "$BENCH_DIR/disk-bytes.$system.*" >/dev/null || continue
        # shellcheck disable=SC2046
        printf '  %-12s %.2f / %.2f\n' "$system" "$(median $(cat "$BENCH_DIR"/disk-bytes."$system".*))" \
            "$(median $(cat "$BENCH_DIR"/disk-requests."$system".*))"
    done
fi

for workload in randwrite randread randread1; do
    wants "$workload" || continue
    echo "$workload, the whole machine per I/O (medians): CPU microseconds / context switches"
    for system in "${SYSTEMS[@]}"; do
        compgen -G "$BENCH_DIR/cpu.$workload.$system.*" >/dev/null || continue
        # shellcheck disable=SC2046
        printf '  %-12s %.0f / %.1f\n' "$system" \
            "$(median $(awk '{ print $1 }' "$BENCH_DIR"/cpu."$workload"."$system".*))" \
            "$(median $(awk '{ print $2 }' "$BENCH_DIR"/cpu."$workload"."$system".*))"
    done
done

# Container start time with a Cryptainer volume against a local volume
# (needs dockerd running; DOCKER_START=0 skips it).
if [ "${DOCKER_START:-1}" = 1 ]; then
    if docker info >/dev/null 2>&1; then
        bench/docker-start.sh
    else
        echo "docker run start time: skipped, dockerd is not running (bench/docker-start.sh)"
    fi
fi
