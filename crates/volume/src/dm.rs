//! Device-mapper through its control device's ioctls (`<linux/dm-ioctl.h>`),
//! without libdevmapper or `dmsetup`: create, load, suspend, resume, message
//! and remove devices, and read their status and tables back.
//!
//! Every call sends one buffer: the 312-byte `struct dm_ioctl` header,
//! followed by the call's data (target specifications, a message) or room for
//! the kernel's answer. The header is written and read field by field at the
//! offsets the kernel's structure has on every Linux architecture (natural
//! alignment, no padding before `data`), so the only `unsafe` is the ioctl
//! itself. Buffers are wiped after use: a table can name a key.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::Path;

use zeroize::Zeroize;

use crate::VolumeError;

/// The control device every device-mapper ioctl goes to.
pub const CONTROL: &str = "/dev/mapper/control";

/// `sizeof(struct dm_ioctl)`: where the data after the header starts.
const HEADER: usize = 312;
/// `DM_NAME_LEN` and `DM_UUID_LEN`, both counting the terminating NUL.
const NAME_LEN: usize = 128;
const UUID_LEN: usize = 129;
/// `sizeof(struct dm_target_spec)`: the parameters follow it.
const TARGET_SPEC: usize = 40;
/// `DM_MAX_TYPE_NAME`.
const TYPE_LEN: usize = 16;

/// The interface version we speak (4.0.0: every kernel since 2.6 answers it;
/// the kernel refuses a major version it does not have).
const VERSION: [u32; 3] = [4, 0, 0];

// Header field offsets.
const DATA_SIZE: usize = 12;
const DATA_START: usize = 16;
const TARGET_COUNT: usize = 20;
const OPEN_COUNT: usize = 24;
const FLAGS: usize = 28;
const DEV: usize = 40;
const NAME: usize = 48;
const UUID: usize = 176;

// `DM_*_FLAG`s.
const SUSPEND_FLAG: u32 = 1 << 1;
const STATUS_TABLE_FLAG: u32 = 1 << 4;
const ACTIVE_PRESENT_FLAG: u32 = 1 << 5;
const BUFFER_FULL_FLAG: u32 = 1 << 8;
const SKIP_LOCKFS_FLAG: u32 = 1 << 10;
const NOFLUSH_FLAG: u32 = 1 << 11;
/// The kernel wipes its copies of this call's buffer (Linux 4.3+; older
/// kernels ignore the bit).
const SECURE_DATA_FLAG: u32 = 1 << 15;
const DEFERRED_REMOVE_FLAG: u32 = 1 << 17;

/// The commands (`DM_*_CMD`), numbered as `<linux/dm-ioctl.h>` numbers them.
#[derive(Clone, Copy, Debug)]
enum Command {
    Version = 0,
    DeviceCreate = 3,
    DeviceRemove = 4,
    DeviceSuspend = 6,
    DeviceStatus = 7,
    TableLoad = 9,
    TableDeps = 11,
    TableStatus = 12,
    ListVersions = 13,
    TargetMessage = 14,
}

impl Command {
    /// `_IOWR(DM_IOCTL, command, struct dm_ioctl)`: read-write, the
    /// header's size, type 0xfd.
    fn request(self) -> libc::c_ulong {
        let read_write: libc::c_ulong = 3 << 30;
        let size = (HEADER as libc::c_ulong) << 16;
        read_write | size | (0xfd << 8) | self as libc::c_ulong
    }

    fn name(self) -> &'static str {
        match self {
            Command::Version => "DM_VERSION",
            Command::DeviceCreate => "DM_DEV_CREATE",
            Command::DeviceRemove => "DM_DEV_REMOVE",
            Command::DeviceSuspend => "DM_DEV_SUSPEND",
            Command::DeviceStatus => "DM_DEV_STATUS",
            Command::TableLoad => "DM_TABLE_LOAD",
            Command::TableDeps => "DM_TABLE_DEPS",
            Command::TableStatus => "DM_TABLE_STATUS",
            Command::ListVersions => "DM_LIST_VERSIONS",
            Command::TargetMessage => "DM_TARGET_MSG",
        }
    }
}

/// One line of a table: `length` sectors of 512 bytes from `start`, served
/// by `target_type` with `parameters`.
pub struct Target {
    /// The first sector (512 bytes) it covers.
    pub start: u64,
    /// How many sectors it covers.
    pub length: u64,
    /// The target's type: `crypt`, `error`, `zero`, `linear`, ...
    pub target_type: String,
    /// The target's parameters, as `dmsetup table` shows them.
    pub parameters: String,
}

impl Drop for Target {
    fn drop(&mut self) {
        // A crypt target's parameters can hold a key.
        self.parameters.zeroize();
    }
}

/// What `DM_DEV_STATUS` says about a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceStatus {
    /// The device's number (`major:minor`).
    pub device: (u32, u32),
    /// How many openers it has (a mounted filesystem is one).
    pub open_count: i32,
    /// Whether it has a live table.
    pub active: bool,
    /// Whether it is suspended.
    pub suspended: bool,
}

/// An open device-mapper control device.
pub struct Control {
    control: File,
}

/// Whether suspending waits for the device's queued I/O and its
/// filesystem's dirty data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suspend {
    /// Flush first (an ordinary suspend).
    Flush,
    /// Neither flush the filesystem nor wait for queued I/O: what is queued
    /// stays queued for the next table (fencing, which waits for nobody).
    Now,
}

impl Control {
    /// Opens [`CONTROL`], creating its node from sysfs first where `/dev`
    /// lacks it (a `/dev` without udev's `mapper` directory).
    pub fn open() -> Result<Control, VolumeError> {
        let path = Path::new(CONTROL);
        if !path.exists() {
            create_control_node(path)?;
        }
        let control = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|source| VolumeError::io("opening", path, source))?;
        Ok(Control { control })
    }

    /// The kernel's device-mapper interface version.
    pub fn version(&self) -> Result<[u32; 3], VolumeError> {
        let mut call = Call::new(Command::Version, None, 0);
        self.send(&mut call)?;
        Ok([call.u32_at(0), call.u32_at(4), call.u32_at(8)])
    }

    /// The targets the kernel has loaded, with their versions. A target
    /// whose module is not loaded yet is missing here, though a table load
    /// would load it.
    pub fn target_types(&self) -> Result<Vec<(String, [u32; 3])>, VolumeError> {
        let call = self.send_growing(Command::ListVersions, None, 0)?;
        let mut types = Vec::new();
        let mut at = call.data_start();
        // struct dm_target_versions { u32 next; u32 version[3]; char name[]; }
        loop {
            let next = call.u32_at(at);
            let version = [
                call.u32_at(at + 4),
                call.u32_at(at + 8),
                call.u32_at(at + 12),
            ];
            types.push((call.text_at(at + 16, TYPE_LEN * 4), version));
            if next == 0 {
                break;
            }
            at = at.saturating_add(usize::try_from(next).unwrap_or(usize::MAX));
            if at >= call.used() {
                break;
            }
        }
        Ok(types)
    }

    /// Creates a device without a table; returns its number.
    pub fn create(&self, name: &str, uuid: &str) -> Result<(u32, u32), VolumeError> {
        let mut call = Call::new(Command::DeviceCreate, Some(name), 0);
        call.put_text(UUID, UUID_LEN, uuid)?;
        self.send(&mut call)?;
        Ok(call.device())
    }

    /// Loads `targets` as the device's inactive table (made live by
    /// [`resume`](Self::resume)). The kernel is asked to wipe its copies of
    /// the buffer, and this one is wiped on return.
    pub fn load(&self, name: &str, targets: &[Target]) -> Result<(), VolumeError> {
        let mut data = Vec::new();
        for target in targets {
            let start = data.len();
            let parameters = target.parameters.as_bytes();
            // The spec, its parameters and their NUL, padded to 8 bytes.
            let length = (TARGET_SPEC + parameters.len() + 1).div_ceil(8) * 8;
            data.resize(start + length, 0);
            let spec = data
                .get_mut(start..start + length)
                .ok_or(VolumeError::InvalidSize(0))?;
            put(spec, 0, &target.start.to_ne_bytes());
            put(spec, 8, &target.length.to_ne_bytes());
            let next = u32::try_from(length).map_err(|_| VolumeError::InvalidSize(0))?;
            put(spec, 20, &next.to_ne_bytes());
            if target.target_type.len() >= TYPE_LEN {
                return Err(VolumeError::EngineArgs(format!(
                    "device-mapper target type {:?} is too long",
                    target.target_type
                )));
            }
            put(spec, 24, target.target_type.as_bytes());
            put(spec, TARGET_SPEC, parameters);
        }
        let mut call = Call::new(Command::TableLoad, Some(name), data.len());
        call.set_u32(
            TARGET_COUNT,
            u32::try_from(targets.len()).unwrap_or(u32::MAX),
        );
        call.add_flags(SECURE_DATA_FLAG);
        call.put_data(&data);
        data.zeroize();
        self.send(&mut call)
    }

    /// Makes the loaded table live and lets I/O through again.
    pub fn resume(&self, name: &str) -> Result<(), VolumeError> {
        let mut call = Call::new(Command::DeviceSuspend, Some(name), 0);
        call.add_flags(SECURE_DATA_FLAG);
        self.send(&mut call)
    }

    /// Suspends the device: I/O queues until the next resume.
    pub fn suspend(&self, name: &str, how: Suspend) -> Result<(), VolumeError> {
        let mut call = Call::new(Command::DeviceSuspend, Some(name), 0);
        let mut flags = SUSPEND_FLAG;
        if how == Suspend::Now {
            flags |= NOFLUSH_FLAG | SKIP_LOCKFS_FLAG;
        }
        call.add_flags(flags);
        self.send(&mut call)
    }

    /// Sends a message to the target at `sector` (`dmsetup message`).
    pub fn message(&self, name: &str, sector: u64, message: &str) -> Result<(), VolumeError> {
        // struct dm_target_msg { u64 sector; char message[]; }
        let mut data = vec![0u8; (8 + message.len() + 1).div_ceil(8) * 8];
        put(&mut data, 0, &sector.to_ne_bytes());
        put(&mut data, 8, message.as_bytes());
        let mut call = Call::new(Command::TargetMessage, Some(name), data.len());
        call.add_flags(SECURE_DATA_FLAG);
        call.put_data(&data);
        self.send(&mut call)
    }

    /// Removes the device; with `deferred`, an open device is removed when
    /// its last opener closes it instead of the call failing with `EBUSY`.
    pub fn remove(&self, name: &str, deferred: bool) -> Result<(), VolumeError> {
        let mut call = Call::new(Command::DeviceRemove, Some(name), 0);
        if deferred {
            call.add_flags(DEFERRED_REMOVE_FLAG);
        }
        self.send(&mut call)
    }

    /// The device's status, or `None` if no device has that name.
    pub fn status(&self, name: &str) -> Result<Option<DeviceStatus>, VolumeError> {
        let mut call = Call::new(Command::DeviceStatus, Some(name), 0);
        match self.send(&mut call) {
            Ok(()) => {}
            Err(VolumeError::Syscall(_, error)) if error.raw_os_error() == Some(libc::ENXIO) => {
                return Ok(None);
            }
            Err(error) => return Err(error),
        }
        let flags = call.u32_at(FLAGS);
        Ok(Some(DeviceStatus {
            device: call.device(),
            open_count: i32::from_ne_bytes(call.bytes_at(OPEN_COUNT)),
            active: flags & ACTIVE_PRESENT_FLAG != 0,
            suspended: flags & SUSPEND_FLAG != 0,
        }))
    }

    /// The device's UUID.
    pub fn uuid(&self, name: &str) -> Result<String, VolumeError> {
        let mut call = Call::new(Command::DeviceStatus, Some(name), 0);
        self.send(&mut call)?;
        Ok(call.text_at(UUID, UUID_LEN))
    }

    /// The device's live table, as `dmsetup table --showkeys` shows it.
    pub fn table(&self, name: &str) -> Result<Vec<Target>, VolumeError> {
        let call = self.send_growing(Command::TableStatus, Some(name), STATUS_TABLE_FLAG)?;
        let count = call.u32_at(TARGET_COUNT);
        let data_start = call.data_start();
        let mut targets = Vec::new();
        let mut at = data_start;
        for _ in 0..count {
            if at.saturating_add(TARGET_SPEC) > call.used() {
                break;
            }
            targets.push(Target {
                start: u64::from_ne_bytes(call.bytes_at(at)),
                length: u64::from_ne_bytes(call.bytes_at(at + 8)),
                target_type: call.text_at(at + 24, TYPE_LEN),
                parameters: call.text_at(
                    at + TARGET_SPEC,
                    call.used().saturating_sub(at + TARGET_SPEC),
                ),
            });
            // In an answer, `next` counts from the start of the data.
            let next = usize::try_from(call.u32_at(at + 20)).unwrap_or(usize::MAX);
            at = data_start.saturating_add(next);
        }
        Ok(targets)
    }

    /// The devices (`major:minor`) the device's live table uses.
    pub fn dependencies(&self, name: &str) -> Result<Vec<(u32, u32)>, VolumeError> {
        let call = self.send_growing(Command::TableDeps, Some(name), 0)?;
        // struct dm_target_deps { u32 count; u32 padding; u64 dev[]; }
        let at = call.data_start();
        let count = call.u32_at(at);
        Ok((0..usize::try_from(count).unwrap_or(0))
            .map(|index| decode_device(u64::from_ne_bytes(call.bytes_at(at + 8 + 8 * index))))
            .collect())
    }

    /// Sends a call whose answer may not fit: grows the buffer while the
    /// kernel says it was too small.
    fn send_growing(
        &self,
        command: Command,
        name: Option<&str>,
        flags: u32,
    ) -> Result<Call, VolumeError> {
        let mut room = 16 << 10;
        loop {
            let mut call = Call::new(command, name, room);
            call.add_flags(flags);
            self.send(&mut call)?;
            if call.u32_at(FLAGS) & BUFFER_FULL_FLAG == 0 {
                return Ok(call);
            }
            if room >= 16 << 20 {
                return Err(VolumeError::Engine(format!(
                    "{} answered more than {room} bytes",
                    command.name()
                )));
            }
            room *= 4;
        }
    }

    fn send(&self, call: &mut Call) -> Result<(), VolumeError> {
        let pointer = call.buffer.as_mut_ptr();
        // SAFETY: `pointer` addresses `call.buffer`, which is 8-byte aligned
        // (a `Vec<u64>`) and holds `data_size` bytes (written in the header
        // by `Call::new`, never more than the buffer), the size the kernel
        // reads and writes at most; the buffer outlives the call and the
        // kernel keeps no pointer to it.
        let result = unsafe {
            libc::ioctl(
                self.control.as_raw_fd(),
                call.command.request(),
                pointer.cast::<libc::c_void>(),
            )
        };
        if result == 0 {
            Ok(())
        } else {
            Err(VolumeError::Syscall(
                call.command.name(),
                std::io::Error::last_os_error(),
            ))
        }
    }
}

/// One ioctl's buffer: the header and the data, in 8-byte words so that
/// the kernel's structures are aligned.
struct Call {
    command: Command,
    buffer: Vec<u64>,
}

impl Drop for Call {
    fn drop(&mut self) {
        self.buffer.zeroize();
    }
}

impl Call {
    /// A header for `command` on device `name`, with `room` bytes of data
    /// after it.
    fn new(command: Command, name: Option<&str>, room: usize) -> Call {
        let size = (HEADER + room).div_ceil(8) * 8;
        let mut call = Call {
            command,
            buffer: vec![0; size / 8],
        };
        for (index, part) in VERSION.iter().enumerate() {
            call.set_u32(index * 4, *part);
        }
        call.set_u32(DATA_SIZE, u32::try_from(size).unwrap_or(u32::MAX));
        call.set_u32(DATA_START, u32::try_from(HEADER).unwrap_or(u32::MAX));
        if let Some(name) = name {
            // Names are ours (checked when made); one too long is cut, and
            // the kernel then finds no such device.
            let bytes = name.as_bytes();
            let length = bytes.len().min(NAME_LEN - 1);
            put(
                call.bytes_mut(),
                NAME,
                bytes.get(..length).unwrap_or_default(),
            );
        }
        call
    }

    fn bytes(&self) -> &[u8] {
        // Plain reinterpretation of initialised integers as bytes.
        let length = self.buffer.len() * 8;
        bytemuck_bytes(&self.buffer, length)
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        bytemuck_bytes_mut(&mut self.buffer)
    }

    /// How many bytes of the buffer the kernel's answer fills.
    fn used(&self) -> usize {
        usize::try_from(self.u32_at(DATA_SIZE))
            .unwrap_or(0)
            .min(self.buffer.len() * 8)
    }

    fn data_start(&self) -> usize {
        usize::try_from(self.u32_at(DATA_START)).unwrap_or(HEADER)
    }

    fn u32_at(&self, at: usize) -> u32 {
        u32::from_ne_bytes(self.bytes_at(at))
    }

    fn set_u32(&mut self, at: usize, value: u32) {
        put(self.bytes_mut(), at, &value.to_ne_bytes());
    }

    fn add_flags(&mut self, flags: u32) {
        let current = self.u32_at(FLAGS);
        self.set_u32(FLAGS, current | flags);
    }

    /// `N` bytes at `at`, zeros past the buffer's end.
    fn bytes_at<const N: usize>(&self, at: usize) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(bytes) = self.bytes().get(at..at.saturating_add(N)) {
            out.copy_from_slice(bytes);
        }
        out
    }

    /// The NUL-terminated text at `at`, at most `most` bytes.
    fn text_at(&self, at: usize, most: usize) -> String {
        let bytes = self.bytes();
        let end = at.saturating_add(most).min(bytes.len());
        let field = bytes.get(at..end).unwrap_or_default();
        let text = field.split(|byte| *byte == 0).next().unwrap_or_default();
        String::from_utf8_lossy(text).into_owned()
    }

    fn put_text(&mut self, at: usize, length: usize, text: &str) -> Result<(), VolumeError> {
        if text.len() >= length || text.bytes().any(|byte| byte == 0) {
            return Err(VolumeError::EngineArgs(format!(
                "device-mapper name or UUID {text:?} is too long"
            )));
        }
        put(self.bytes_mut(), at, text.as_bytes());
        Ok(())
    }

    fn put_data(&mut self, data: &[u8]) {
        put(self.bytes_mut(), HEADER, data);
    }

    fn device(&self) -> (u32, u32) {
        decode_device(u64::from_ne_bytes(self.bytes_at(DEV)))
    }
}

/// Copies `bytes` into `buffer` at `at`, as far as it fits (every caller
/// sized the buffer for it).
fn put(buffer: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(place) = buffer.get_mut(at..at.saturating_add(bytes.len())) {
        place.copy_from_slice(bytes);
    }
}

fn bytemuck_bytes(words: &[u64], length: usize) -> &[u8] {
    let length = length.min(std::mem::size_of_val(words));
    // SAFETY: a `[u64]` is `length` or more initialised bytes at the same
    // address, every byte pattern is a valid `u8`, `u8` has alignment 1,
    // and the returned slice borrows `words`, so nothing writes it meanwhile.
    unsafe { std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), length) }
}

fn bytemuck_bytes_mut(words: &mut [u64]) -> &mut [u8] {
    let length = std::mem::size_of_val(words);
    // SAFETY: as in `bytemuck_bytes`; the slice borrows `words` mutably, so
    // it is the only access, and any bytes written are a valid `u64` too.
    unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), length) }
}

/// The kernel's "huge" device encoding (`huge_encode_dev`, as in `dev_t`).
fn decode_device(device: u64) -> (u32, u32) {
    let major = ((device >> 8) & 0xfff) | ((device >> 32) & !0xfff);
    let minor = (device & 0xff) | ((device >> 12) & !0xff);
    (
        u32::try_from(major).unwrap_or(u32::MAX),
        u32::try_from(minor & 0xffff_ffff).unwrap_or(u32::MAX),
    )
}

/// Makes `/dev/mapper/control` from the misc device number sysfs gives.
fn create_control_node(path: &Path) -> Result<(), VolumeError> {
    let sysfs = "/sys/class/misc/device-mapper/dev";
    let text = std::fs::read_to_string(sysfs).map_err(|source| {
        VolumeError::io(
            "finding device-mapper (no /dev/mapper/control, and the kernel lists no device-mapper misc device) in",
            sysfs,
            source,
        )
    })?;
    let (major, minor) = text
        .trim()
        .split_once(':')
        .and_then(|(major, minor)| Some((major.parse().ok()?, minor.parse().ok()?)))
        .ok_or_else(|| VolumeError::BadState(sysfs.into()))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|source| VolumeError::io("creating", parent, source))?;
    }
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::CharacterDevice,
        rustix::fs::Mode::from_raw_mode(0o600),
        rustix::fs::makedev(major, minor),
    )
    .or_else(|errno| match errno {
        rustix::io::Errno::EXIST => Ok(()),
        other => Err(other),
    })
    .map_err(|errno| VolumeError::sys("mknod /dev/mapper/control", errno))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_numbers_match_the_kernel_header() {
        // DM_VERSION and DM_TABLE_LOAD as <linux/dm-ioctl.h> computes them.
        assert_eq!(Command::Version.request(), 0xc138_fd00);
        assert_eq!(Command::TableLoad.request(), 0xc138_fd09);
        assert_eq!(Command::TargetMessage.request(), 0xc138_fd0e);
    }

    #[test]
    fn device_numbers_decode_as_the_kernel_encodes_them() {
        // huge_encode_dev(MKDEV(253, 3)) and MKDEV(7, 300).
        assert_eq!(decode_device((253 << 8) | 3), (253, 3));
        assert_eq!(
            decode_device((7 << 8) | (300 & 0xff) | ((300 & !0xff) << 12)),
            (7, 300)
        );
    }

    #[test]
    fn a_header_carries_version_sizes_and_name() {
        let call = Call::new(Command::DeviceStatus, Some("cryptainer-data"), 100);
        assert_eq!(call.u32_at(0), 4);
        assert_eq!(
            call.u32_at(DATA_SIZE) as usize,
            (HEADER + 100).div_ceil(8) * 8
        );
        assert_eq!(call.u32_at(DATA_START) as usize, HEADER);
        assert_eq!(call.text_at(NAME, NAME_LEN), "cryptainer-data");
    }
}
