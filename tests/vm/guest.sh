# The kernel engine's tests inside the VM (busybox sh, run by tests/vm/init
# with the phase as its argument). The test disk is mounted at /storage:
# store/ holds the images, secrets/ each volume's keyslot secret (what the
# key manager would lease), manifests/ the SHA-256 sums of what each side
# wrote. Every mount, unmount and fence is its own `cryptainer-volume-ctl`
# process, which exits after it: the control process is restarted between
# any two steps, and each step finds the volume through the state it left.
# The judge of each image is the real cryptsetup (opened read-only) with
# `e2fsck -fn`. Emulated (TCG): this proves correctness only, never speed.
set -u
[ -n "${CRYPTAINER_VM_TRACE:-}" ] && set -x
. /storage/vm/lib.sh
S=/storage
STATE=/run/cryptainer
ctl() { cryptainer-volume-ctl --store "$S/store" --state-root "$STATE" "$@"; }

# mount_kernel NAME: mounts NAME with the kernel engine at /mnt/NAME.
mount_kernel() {
    ctl --engine kernel mount "$1" "/mnt/$1" <"$S/secrets/$1" >/tmp/mount.log 2>&1 ||
        { cat /tmp/mount.log; dmesg | tail -20; fail "$1: the kernel engine mounts it"; }
    grep -q "by the kernel engine" /tmp/mount.log || { cat /tmp/mount.log; fail "$1: mounted by the kernel engine"; }
}

unmount() {
    ctl unmount "$1" >/tmp/unmount.log 2>&1 || { cat /tmp/unmount.log; fail "$1: unmounts"; }
}

# dm_name NAME: the dm-crypt device serving NAME (from `ctl recover`).
dm_name() {
    dmsetup ls | awk -v suffix="-$1" '$1 ~ /^cryptainer-/ && substr($1, length($1) - length(suffix) + 1) == suffix { print $1 }'
}

# volume_key_hex NAME: the volume key, as cryptsetup recovers it (only
# while no device serves the image: cryptsetup 2.6 then waits on udev).
volume_key_hex() {
    cryptsetup luksDump --dump-volume-key --batch-mode --key-file "$S/secrets/$1" "$S/store/$1.img" 2>/dev/null |
        sed -n '/^MK dump:/,$p' | sed 's/^MK dump://' | tr -d ' \t\n:' | tr 'A-F' 'a-f'
}

# judge NAME: cryptsetup opens the image read-only and e2fsck -fn finds its
# filesystem clean.
judge() {
    cryptsetup open --readonly --key-file "$S/secrets/$1" "$S/store/$1.img" "judge-$1" ||
        fail "$1: cryptsetup opens the image"
    if e2fsck -fn "/dev/mapper/judge-$1" >/tmp/fsck.log 2>&1; then
        ok "$1: cryptsetup opens it, e2fsck -fn finds it clean ($2)"
    else
        cat /tmp/fsck.log
        cryptsetup close "judge-$1"
        fail "$1: e2fsck -fn finds it clean ($2)"
    fi
    cryptsetup close "judge-$1"
}

# nothing_left NAME: no dm-crypt device, loop device or kernel key is left.
nothing_left() {
    [ -z "$(dm_name "$1")" ] || fail "$1: its dm-crypt device is gone ($(dmsetup ls))"
    if dmsetup ls | grep -q cryptainer-probe; then fail "$1: no probe device of the engine choice is left"; fi
    if losetup -a | grep -q "$S/store/$1.img"; then fail "$1: its loop device is gone"; fi
    if grep -q "cryptainer:" /proc/keys; then fail "$1: no volume key is left in the kernel keyring"; fi
    ok "$1: no dm-crypt device, loop device or keyring key is left ($2)"
}

phase1() {
    # An image the user-space engine formatted and filled on the host.
    judge from-user "made by the user engine"
    key=$(volume_key_hex from-user)
    [ "${#key}" = 128 ] || fail "from-user: cryptsetup dumps a 64-byte volume key"
    mount_kernel from-user
    verify /mnt/from-user "$S/manifests/from-user.1" "from-user: written by the user engine, read by the kernel engine"
    name=$(dm_name from-user)
    table=$(dmsetup table --showkeys "$name")
    echo "$table" | grep -q " crypt aes-xts-plain64 :64:logon:cryptainer:$name 0 " ||
        fail "from-user: the table names the key in the keyring ($table)"
    echo "$table" | grep -q "sector_size:4096" || fail "from-user: 4096-byte sectors ($table)"
    if dmsetup table --showkeys | tr -d ' ' | grep -q "$key"; then fail "from-user: the volume key is not in any table"; fi
    if grep -q "cryptainer:" /proc/keys; then fail "from-user: the key left the keyring once dm-crypt had it"; fi
    ok "from-user: the live table names a keyring key, the key is in no table and no longer in the keyring"
    ctl recover >/tmp/recover.log 2>&1
    grep -q "^from-user	/mnt/from-user	/dev/dm-[0-9]*	kernel	-" /tmp/recover.log ||
        { cat /tmp/recover.log; fail "from-user: a new control process finds the mount"; }
    ok "from-user: a new control process finds the kernel engine's mount"
    fill /mnt/from-user "$S/manifests/from-user.2" by-kernel
    unmount from-user
    nothing_left from-user "after the unmount"
    judge from-user "after the kernel engine wrote"

    # An image the kernel engine formats and fills (the host checks it).
    ctl create from-kernel 268435456 || fail "from-kernel: created"
    mount_kernel from-kernel
    fill /mnt/from-kernel "$S/manifests/from-kernel.1" by-kernel
    verify /mnt/from-kernel "$S/manifests/from-kernel.1" "from-kernel: written and read by the kernel engine"
    unmount from-kernel
    judge from-kernel "made by the kernel engine"
    used=$(du -k "$S/store/from-kernel.img" | cut -f1)
    [ "$used" -lt 65536 ] || fail "from-kernel: the image stays sparse ($used KiB used)"
    ok "from-kernel: the image stays sparse ($used KiB of 256 MiB used)"

    # Fencing while a writer still uses the volume.
    ctl create fence-me 134217728 || fail "fence-me: created"
    mount_kernel fence-me
    echo "synced before the fence" >/mnt/fence-me/before
    unmount fence-me
    key=$(volume_key_hex fence-me)
    # --engine auto probes device-mapper and dm-crypt, and takes the kernel
    # engine here.
    ctl --engine auto mount fence-me /mnt/fence-me <"$S/secrets/fence-me" >/tmp/mount.log 2>&1 ||
        { cat /tmp/mount.log; fail "fence-me: --engine auto mounts it"; }
    grep -q "^engine: kernel (--engine auto: device-mapper .* dm-crypt " /tmp/mount.log ||
        { cat /tmp/mount.log; fail "fence-me: --engine auto takes the kernel engine, saying why"; }
    ok "fence-me: --engine auto takes the kernel engine ($(grep "^engine:" /tmp/mount.log))"
    rm -f /tmp/writer.done
    (
        cd /mnt/fence-me || exit 1
        i=0
        while dd if=/dev/zero of="log-$i" bs=4096 count=1 conv=fsync 2>/dev/null; do i=$((i + 1)); done
        echo "stopped after $i writes" >/tmp/writer.done
    ) &
    writer=$!
    while [ ! -e /mnt/fence-me/log-3 ]; do :; done
    name=$(dm_name fence-me)
    ctl fence fence-me >/tmp/fence.log 2>&1 || { cat /tmp/fence.log; fail "fence-me: fenced"; }
    table=$(dmsetup table --showkeys "$name" 2>/dev/null || true)
    case "$table" in
        "" | *" error"*) ;;
        *) fail "fence-me: after the fence its device is gone or fails all I/O ($table)" ;;
    esac
    if dmsetup table --showkeys | tr -d ' ' | grep -q "$key"; then fail "fence-me: no key in any table after the fence"; fi
    if dmsetup table --showkeys | grep -q " crypt .*$name"; then fail "fence-me: no crypt table left"; fi
    ok "fence-me: after the fence no key is left in the table (it is '${table:-gone}')"
    wait "$writer"
    [ -s /tmp/writer.done ] || fail "fence-me: the writer's I/O fails after the fence"
    ok "fence-me: the writer's next write and fsync failed once the volume was fenced"
    nothing_left fence-me "once the writer let go"
    mount_kernel fence-me
    [ "$(cat /mnt/fence-me/before)" = "synced before the fence" ] || fail "fence-me: what was synced before the fence is there"
    ok "fence-me: mounted again, what was synced before the fence is there"
    unmount fence-me
    judge fence-me "after a fence and a remount"
}

phase2() {
    judge from-user "after the user engine wrote on the host"
    judge from-kernel "after the user engine wrote on the host"
    mount_kernel from-kernel
    verify /mnt/from-kernel "$S/manifests/from-kernel.1" "from-kernel: written by the kernel engine, read again by it"
    verify /mnt/from-kernel "$S/manifests/from-kernel.2" "from-kernel: written by the user engine, read by the kernel engine"
    unmount from-kernel
    nothing_left from-kernel "after the unmount"
}

case "${1:-}" in
    1) phase1 ;;
    2) phase2 ;;
    *) fail "unknown phase '${1:-}'" ;;
esac
echo "guest phase $1 passed"
