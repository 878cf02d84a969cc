//! The kernel engine: the same LUKS2 image served by dm-crypt, for hosts
//! with device-mapper. The control process sets a volume up and goes: a
//! loop device on the image (direct I/O, autoclear), a dm-crypt device on
//! the loop device with the header's cipher, data offset and sector size,
//! the key handed over through the kernel keyring ([`crate::keyring`]), and
//! the filesystem mounted from it. No process of ours stays in the I/O path,
//! and the key lives only in dm-crypt's memory.
//!
//! Unmounting removes the dm-crypt device (dm-crypt wipes the key when the
//! table goes) and the loop device clears itself. Fencing stops it at once,
//! whoever still uses it: the device is suspended without flushing, its key
//! wiped (`key wipe`), its table replaced by an `error` target, so every
//! queued and later request fails, and it is removed once its last user
//! lets go.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use luks::{DataSegment, VolumeKey};

use crate::VolumeError;
use crate::dm::{Control, Suspend, Target};
use crate::keyring::LogonKey;
use crate::loopdev::LoopDevice;
use crate::mount::{self, Filesystem};
use crate::state::{EngineState, KernelState};

/// The cipher dm-crypt is given: the only one `luks` opens.
const CIPHER: &str = "aes-xts-plain64";
/// The service part of the keyring descriptions of our keys.
const KEY_SERVICE: &str = "cryptainer";
/// How long removing a device may be refused because something (udev's
/// probe, a `blkid`) still has it open, before the removal is deferred.
const REMOVE_RETRY: Duration = Duration::from_secs(5);
/// How long to wait for the loop device to clear itself after a removal.
const DETACH_DEADLINE: Duration = Duration::from_secs(30);

/// What the probe found: the kernel engine works here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelSupport {
    /// The device-mapper interface version.
    pub device_mapper: [u32; 3],
    /// The dm-crypt target's version.
    pub crypt: [u32; 3],
}

impl std::fmt::Display for KernelSupport {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [dm_major, dm_minor, dm_patch] = self.device_mapper;
        let [major, minor, patch] = self.crypt;
        write!(
            formatter,
            "device-mapper {dm_major}.{dm_minor}.{dm_patch} and dm-crypt {major}.{minor}.{patch} \
             set up a probe volume (loop device, dm-crypt, key from the kernel keyring) and read through it"
        )
    }
}

/// Whether the kernel engine works on this host, found by doing what a
/// mount does on a throwaway image: a 64 KiB file in `scratch`, a loop
/// device on it, a dm-crypt device on that (aes-xts-plain64, 4096-byte
/// sectors, a random key through the kernel keyring), a read through it,
/// and all of it removed. The error says what failed (no device-mapper, no
/// dm-crypt, no keyring, no loop device, ...). `scratch` also takes a
/// device node where `/dev` has none.
pub fn probe(scratch: &Path) -> Result<KernelSupport, VolumeError> {
    let control = Control::open()?;
    let device_mapper = control.version()?;
    let tag = format!("cryptainer-probe-{}-{}", std::process::id(), nonce());
    let image_path = scratch.join(format!(".{tag}.img"));
    let result = (|| {
        std::fs::create_dir_all(scratch)
            .map_err(|source| VolumeError::io("creating", scratch, source))?;
        let image = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&image_path)
            .map_err(|source| VolumeError::io("creating the probe image", &image_path, source))?;
        image
            .set_len(64 << 10)
            .map_err(|source| VolumeError::io("sizing the probe image", &image_path, source))?;
        let loop_device = LoopDevice::attach(&image, 4096)?;
        let (major, minor) = device_number_of(loop_device.path())?;
        let crypt = control.create(&tag, "")?;
        {
            let key = LogonKey::add(&format!("{KEY_SERVICE}:{tag}"), &VolumeKey::generate())?;
            control.load(
                &tag,
                &[Target {
                    start: 0,
                    length: 128,
                    target_type: "crypt".to_owned(),
                    parameters: format!(
                        "{CIPHER} {} 0 {major}:{minor} 0 1 sector_size:4096",
                        key.table_reference(luks::VOLUME_KEY_LEN),
                    ),
                }],
            )?;
        }
        control.resume(&tag)?;
        drop(loop_device);
        let node = device_node(crypt, scratch)?;
        let mut sector = vec![0u8; 4096];
        let read = File::open(&node)
            .and_then(|file| std::os::unix::fs::FileExt::read_exact_at(&file, &mut sector, 0))
            .map_err(|source| VolumeError::io("reading through the probe device", &node, source));
        remove_own_node(&node, scratch);
        read?;
        let crypt_version = control
            .target_types()?
            .into_iter()
            .find_map(|(name, version)| (name == "crypt").then_some(version))
            .unwrap_or_default();
        Ok(KernelSupport {
            device_mapper,
            crypt: crypt_version,
        })
    })();
    if control.status(&tag).ok().flatten().is_some() && !remove_now(&control, &tag) {
        if let Err(error) = control.remove(&tag, true) {
            tracing::warn!(device = %tag, error = %crate::engine::chain(&error), "could not remove the probe device");
        }
    }
    let _ = std::fs::remove_file(&image_path);
    result
}

/// The dm-crypt device name of volume `name` under `state_root`: the
/// volume's name and a short digest of the state root, so that two agents
/// on one host (each with its own state root) never collide.
pub fn device_name(state_root: &Path, name: &str) -> String {
    // FNV-1a: stable, and plenty to tell a host's few state roots apart.
    let digest = state_root
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    format!("cryptainer-{:08x}-{name}", digest & 0xffff_ffff)
}

/// What [`activate`] needs besides the key.
pub(crate) struct Activation<'a> {
    pub image: &'a Path,
    pub luks_uuid: &'a str,
    pub segment: DataSegment,
    pub dm_name: String,
    pub state_dir: &'a Path,
    pub target: &'a Path,
    pub filesystem: Filesystem,
}

/// Sets the volume up in the kernel and mounts it; the key is dropped
/// (wiped) here, whatever happens. On failure everything made is undone.
pub(crate) fn activate(setup: &Activation<'_>, key: VolumeKey) -> Result<KernelState, VolumeError> {
    let mut state = KernelState {
        image: setup.image.to_owned(),
        target: setup.target.to_owned(),
        dm_name: setup.dm_name.clone(),
        // cryptsetup's form, so that lsblk and udev show a LUKS2 crypt
        // device; the image's UUID in it also keeps one image from being
        // activated twice on a host (the kernel refuses a second device with
        // the same UUID).
        dm_uuid: format!(
            "CRYPT-LUKS2-{}-cryptainer",
            setup.luks_uuid.replace('-', "")
        ),
        device: PathBuf::new(),
        loop_device: PathBuf::new(),
        direct_io: false,
        ready: false,
    };
    // Written before anything exists in the kernel, so that a restart after
    // a crash in between knows what to undo.
    EngineState::Kernel(state.clone()).write(setup.state_dir)?;
    let control = Control::open()?;
    let made = set_up(setup, key, &control, &mut state);
    match made {
        Ok(()) => {
            state.ready = true;
            EngineState::Kernel(state.clone()).write(setup.state_dir)?;
            Ok(state)
        }
        Err(error) => {
            tear_down(&control, &state, Teardown::Undo);
            Err(error)
        }
    }
}

fn set_up(
    setup: &Activation<'_>,
    key: VolumeKey,
    control: &Control,
    state: &mut KernelState,
) -> Result<(), VolumeError> {
    let image = OpenOptions::new()
        .read(true)
        .write(true)
        .open(setup.image)
        .map_err(|source| VolumeError::io("opening", setup.image, source))?;
    // A user-space engine holds this lock while it serves the image.
    rustix::fs::flock(&image, rustix::fs::FlockOperation::NonBlockingLockExclusive)
        .map_err(|_| VolumeError::Busy(setup.image.to_owned()))?;
    let image_length = image
        .metadata()
        .map_err(|source| VolumeError::io("reading the size of", setup.image, source))?
        .len();
    let sector_size =
        u64::try_from(setup.segment.sector_size).map_err(|_| VolumeError::InvalidSize(0))?;
    let available = image_length.saturating_sub(setup.segment.offset);
    let bytes = setup
        .segment
        .size
        .map_or(available, |size| size.min(available));
    let bytes = bytes - bytes % sector_size.max(512);
    if bytes == 0 || setup.segment.offset % 512 != 0 {
        return Err(VolumeError::InvalidSize(image_length));
    }
    let block_size =
        u32::try_from(setup.segment.sector_size).map_err(|_| VolumeError::InvalidSize(0))?;
    let loop_device = LoopDevice::attach(&image, block_size)?;
    state.loop_device = loop_device.path().to_owned();
    state.direct_io = loop_device.direct_io();
    EngineState::Kernel(state.clone()).write(setup.state_dir)?;
    let (loop_major, loop_minor) = device_number_of(loop_device.path())?;

    let device = control
        .create(&state.dm_name, &state.dm_uuid)
        .map_err(|error| match error {
            VolumeError::Syscall(_, ref source) if source.raw_os_error() == Some(libc::EBUSY) => {
                VolumeError::Busy(setup.image.to_owned())
            }
            other => other,
        })?;
    let sector_option = if sector_size == 512 {
        String::new()
    } else {
        format!(" 1 sector_size:{sector_size}")
    };
    {
        let logon = LogonKey::add(&format!("{KEY_SERVICE}:{}", state.dm_name), &key)?;
        drop(key);
        control.load(
            &state.dm_name,
            &[Target {
                start: 0,
                length: bytes / 512,
                target_type: "crypt".to_owned(),
                parameters: format!(
                    "{CIPHER} {} 0 {loop_major}:{loop_minor} {}{sector_option}",
                    logon.table_reference(luks::VOLUME_KEY_LEN),
                    setup.segment.offset / 512,
                ),
            }],
        )?;
        // The key leaves the keyring here: dm-crypt has its copy.
    }
    control.resume(&state.dm_name)?;
    // dm-crypt holds the loop device open now; ours can go (autoclear then
    // detaches it when dm-crypt lets go), and so can the lock.
    drop(loop_device);
    drop(image);
    state.device = device_node(device, setup.state_dir)?;
    EngineState::Kernel(state.clone()).write(setup.state_dir)?;

    let filesystem = match mount::probe(&state.device)? {
        Some(found) => found,
        None => {
            tracing::info!(device = %state.device.display(), filesystem = setup.filesystem.name(), "creating a filesystem on first use");
            mount::mkfs(&state.device, setup.filesystem, mount::Zeroing::Skipped)?;
            setup.filesystem.name().to_owned()
        }
    };
    // The inode tables of a filesystem made here were never zeroed (see
    // mount::Zeroing::Skipped): ext4 must not zero them in the background
    // either, which would write them all, encrypted, into the sparse image.
    let options = (filesystem == "ext4").then_some(c"noinit_itable");
    mount::mount_with(&state.device, setup.target, &filesystem, options)
}

/// How much of a volume [`tear_down`] may leave to the last user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Teardown {
    /// Undo a set-up that failed, or remove a volume already unmounted.
    Undo,
    /// Fence: the filesystem may still be in use.
    Fence,
}

/// Unmounts the volume's filesystem (refusing while it is busy), removes the
/// dm-crypt device (dm-crypt wipes the key with its table) and waits for the
/// loop device to clear itself.
pub(crate) fn deactivate(state: &KernelState) -> Result<(), VolumeError> {
    mount::unmount(&state.target)?;
    let control = Control::open()?;
    tear_down(&control, state, Teardown::Undo);
    Ok(())
}

/// Stops the volume at once, whoever uses it: see the module's comment.
pub(crate) fn fence(state: &KernelState) {
    let _ = mount::unmount_lazy(&state.target);
    match Control::open() {
        Ok(control) => tear_down(&control, state, Teardown::Fence),
        Err(error) => {
            tracing::error!(error = %crate::engine::chain(&error), device = %state.dm_name, "cannot reach device-mapper to fence the volume");
        }
    }
}

/// Whether the device `state` names is live and still the one this state
/// describes (and not, after a reboot, another device of the same name).
pub(crate) fn is_live(state: &KernelState) -> bool {
    let Ok(control) = Control::open() else {
        return false;
    };
    state.ready
        && matches!(control.status(&state.dm_name), Ok(Some(status)) if status.active && !status.suspended)
        && is_ours(&control, state)
        && control
            .table(&state.dm_name)
            .is_ok_and(|table| table.iter().all(|target| target.target_type == "crypt"))
}

/// Removes what a volume whose set-up or serving was interrupted left: its
/// mount (lazily), its device (fenced: key wiped, I/O failing, removed once
/// unused) and its loop device.
pub(crate) fn clean_up(state: &KernelState) {
    fence(state);
}

fn is_ours(control: &Control, state: &KernelState) -> bool {
    control
        .uuid(&state.dm_name)
        .is_ok_and(|uuid| uuid == state.dm_uuid)
}

/// Removes the device. `Undo`: at once, retrying while something opens it
/// briefly (udev's probe); if it stays open, as a fence. `Fence`: after
/// suspending it without flushing, wiping its key and replacing its table
/// by an error target, so that nothing queued or later reaches the image;
/// the removal is deferred until its last user lets go. Failures are
/// logged: this runs on the way out.
fn tear_down(control: &Control, state: &KernelState, how: Teardown) {
    let name = &state.dm_name;
    let warn = |what: &str, error: &VolumeError| {
        tracing::warn!(device = %name, error = %crate::engine::chain(error), "{what}");
    };
    match control.status(name) {
        Ok(Some(_)) if is_ours(control, state) => {
            let removed = how == Teardown::Undo && remove_now(control, name);
            if !removed {
                fence_device(control, state);
                if let Err(error) = control.remove(name, true) {
                    warn("could not remove the dm-crypt device", &error);
                }
            }
        }
        Ok(_) => {}
        Err(error) => warn("reading the dm-crypt device's status", &error),
    }
    if let Some(number) = crate::loopdev::device_number(&state.loop_device) {
        if how == Teardown::Undo {
            if let Err(error) = crate::loopdev::wait_detached(number, DETACH_DEADLINE) {
                warn("the loop device on the image is still attached", &error);
            }
        }
    }
    remove_own_node(
        &state.device,
        state.device.parent().unwrap_or(Path::new("/")),
    );
}

/// Suspends the device without flushing, wipes its key, and makes every
/// request fail from now on (an error table, live at once).
fn fence_device(control: &Control, state: &KernelState) {
    let name = &state.dm_name;
    let length: u64 = control
        .table(name)
        .map(|table| table.iter().map(|target| target.length).sum())
        .unwrap_or(0);
    let steps = control
        .suspend(name, Suspend::Now)
        .and_then(|()| control.message(name, 0, "key wipe"))
        .and_then(|()| {
            control.load(
                name,
                &[Target {
                    start: 0,
                    length: length.max(1),
                    target_type: "error".to_owned(),
                    parameters: String::new(),
                }],
            )
        })
        .and_then(|()| control.resume(name));
    if let Err(error) = steps {
        tracing::error!(device = %name, error = %crate::engine::chain(&error), "fencing the dm-crypt device failed part way; removing it");
        // Resume whatever state it is in, so that the removal below is not
        // held up by a suspended device.
        let _ = control.resume(name);
    }
}

/// Removes the device if nothing uses it, retrying for [`REMOVE_RETRY`]
/// while something holds it (udev probes a new or changed device); returns
/// whether it is gone.
fn remove_now(control: &Control, name: &str) -> bool {
    let until = Instant::now() + REMOVE_RETRY;
    loop {
        match control.remove(name, false) {
            Ok(()) => return true,
            Err(VolumeError::Syscall(_, error))
                if error.raw_os_error() == Some(libc::EBUSY) && Instant::now() < until =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(_) => return false,
        }
    }
}

/// The block device node of `device`: `/dev/dm-MINOR` where devtmpfs made
/// it, else a node of our own in `directory`.
fn device_node(device: (u32, u32), directory: &Path) -> Result<PathBuf, VolumeError> {
    let wanted = rustix::fs::makedev(device.0, device.1);
    let standard = PathBuf::from(format!("/dev/dm-{}", device.1));
    if rustix::fs::stat(&standard).is_ok_and(|stat| stat.st_rdev == wanted) {
        return Ok(standard);
    }
    let own = directory.join(format!("dm-{}-{}", device.0, device.1));
    let _ = std::fs::remove_file(&own);
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &own,
        rustix::fs::FileType::BlockDevice,
        rustix::fs::Mode::from_raw_mode(0o600),
        wanted,
    )
    .map_err(|errno| VolumeError::sys("mknod (the dm-crypt device node)", errno))?;
    Ok(own)
}

/// Removes a device node [`device_node`] made in `directory` (never one
/// under `/dev`).
fn remove_own_node(node: &Path, directory: &Path) {
    if node.starts_with(directory) && !node.starts_with("/dev") && !node.as_os_str().is_empty() {
        let _ = std::fs::remove_file(node);
    }
}

/// The device number of the block device node `path`.
fn device_number_of(path: &Path) -> Result<(u32, u32), VolumeError> {
    let stat = rustix::fs::stat(path)
        .map_err(|errno| VolumeError::sys("stat (the loop device)", errno))?;
    Ok((
        rustix::fs::major(stat.st_rdev),
        rustix::fs::minor(stat.st_rdev),
    ))
}

/// A number unlikely to repeat between two probes of one process.
fn nonce() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| u64::from(elapsed.subsec_nanos()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_differ_between_state_roots_and_fit_device_mapper() {
        let one = device_name(Path::new("/run/cryptainer/engines"), "data");
        let two = device_name(Path::new("/run/other/engines"), "data");
        assert_ne!(one, two);
        assert!(
            one.starts_with("cryptainer-") && one.ends_with("-data"),
            "{one}"
        );
        assert_eq!(
            one,
            device_name(Path::new("/run/cryptainer/engines"), "data")
        );
        let longest = device_name(Path::new("/"), &"n".repeat(64));
        assert!(longest.len() < 128, "{longest}");
    }
}
