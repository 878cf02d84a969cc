# Shell functions the VM test runner (tests/vm/run, bash, on the host) and
# the guest's test script (tests/vm/guest.sh, busybox sh, in the VM) share:
# POSIX sh only.

# say ok|fail MESSAGE: one line of the test report ("ok - ..." or
# "not ok - ..."); a failure stops the script.
ok() { echo "ok - $*"; }
fail() {
    echo "not ok - $*"
    exit 1
}

# fill DIR MANIFEST TAG: writes a tree of files of awkward sizes (empty,
# around a 4 KiB sector, several MiB) with random content under DIR/TAG,
# and their SHA-256 sums, relative to DIR, into MANIFEST.
fill() {
    dir=$1 manifest=$2 tag=$3
    mkdir -p "$dir/$tag/nested/deeper"
    : >"$dir/$tag/empty"
    for size in 1 511 4095 4096 4097 65536 1048577; do
        head -c "$size" /dev/urandom >"$dir/$tag/size-$size"
    done
    head -c 6291456 /dev/urandom >"$dir/$tag/nested/six-mib"
    i=0
    while [ "$i" -lt 40 ]; do
        head -c "$((i * 997 + 13))" /dev/urandom >"$dir/$tag/nested/deeper/small-$i"
        i=$((i + 1))
    done
    ln -s size-4096 "$dir/$tag/link-to-4096"
    (cd "$dir" && find "$tag" -type f | sort | xargs sha256sum) >"$manifest"
    sync
}

# verify DIR MANIFEST WHAT: every file MANIFEST lists reads back under DIR
# with its SHA-256 sum.
verify() {
    dir=$1 manifest=$2 what=$3
    if (cd "$dir" && sha256sum -c "$manifest" >/tmp/verify.log 2>&1); then
        ok "$what: all $(wc -l <"$manifest") files check out"
    else
        grep -v ': OK$' /tmp/verify.log | head -20
        fail "$what: files differ"
    fi
}
