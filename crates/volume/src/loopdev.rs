//! Loop devices: attach one to the FUSE block file with direct I/O and a
//! 4096-byte logical block size, and detach it again.
//!
//! The ioctl numbers and structures are those of `<linux/loop.h>`; the `libc`
//! crate does not carry them.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::VolumeError;

const LOOP_CLR_FD: libc::c_ulong = 0x4C01;
const LOOP_SET_FD: libc::c_ulong = 0x4C00;
const LOOP_SET_DIRECT_IO: libc::c_ulong = 0x4C08;
const LOOP_SET_BLOCK_SIZE: libc::c_ulong = 0x4C09;
const LOOP_CONFIGURE: libc::c_ulong = 0x4C0A;
const LOOP_CTL_GET_FREE: libc::c_ulong = 0x4C82;

/// Detach the device when its last opener closes it, so a crashed engine
/// leaves no loop device behind once the filesystem above is gone.
const LO_FLAGS_AUTOCLEAR: u32 = 4;
const LO_FLAGS_DIRECT_IO: u32 = 16;

/// `struct loop_info64`.
#[repr(C)]
struct LoopInfo64 {
    lo_device: u64,
    lo_inode: u64,
    lo_rdevice: u64,
    lo_offset: u64,
    lo_sizelimit: u64,
    lo_number: u32,
    lo_encrypt_type: u32,
    lo_encrypt_key_size: u32,
    lo_flags: u32,
    lo_file_name: [u8; 64],
    lo_crypt_name: [u8; 64],
    lo_encrypt_key: [u8; 32],
    lo_init: [u64; 2],
}

/// `struct loop_config`.
#[repr(C)]
struct LoopConfig {
    fd: u32,
    block_size: u32,
    info: LoopInfo64,
    reserved: [u64; 8],
}

/// An attached loop device. The engine keeps it open for its lifetime: the
/// device has the autoclear flag, so it detaches when the last opener (this
/// handle or a mounted filesystem) goes away.
pub struct LoopDevice {
    device: File,
    path: PathBuf,
    number: u32,
    direct_io: bool,
}

/// How long to wait for the kernel to finish detaching a device.
const DETACH_DEADLINE: Duration = Duration::from_secs(30);

impl LoopDevice {
    /// Attaches a free loop device to `backing` with logical blocks of
    /// `block_size` bytes, asking for direct I/O. If the kernel refuses direct
    /// I/O on this backing file, attaches without it and says so in the log.
    pub fn attach(backing: &File, block_size: u32) -> Result<LoopDevice, VolumeError> {
        let control = OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/loop-control")
            .map_err(|source| VolumeError::io("opening", "/dev/loop-control", source))?;
        // Another process may take the free device between GET_FREE and
        // CONFIGURE (EBUSY); try a few times.
        let mut last_error = None;
        for _ in 0..16 {
            // SAFETY: LOOP_CTL_GET_FREE takes no argument and returns a device
            // number; `control` is an open file descriptor for this call.
            let number = unsafe { libc::ioctl(control.as_raw_fd(), LOOP_CTL_GET_FREE) };
            let number = u32::try_from(number).map_err(|_| {
                VolumeError::Syscall("LOOP_CTL_GET_FREE", io::Error::last_os_error())
            })?;
            let path = PathBuf::from(format!("/dev/loop{number}"));
            let device = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .map_err(|source| VolumeError::io("opening", &path, source))?;
            match configure(&device, backing, block_size, true) {
                Ok(()) => {
                    let direct_io = sysfs_flag(number, "dio");
                    tracing::info!(device = %path.display(), direct_io, "loop device attached");
                    return Ok(LoopDevice {
                        device,
                        path,
                        number,
                        direct_io,
                    });
                }
                Err(error) if error.raw_os_error() == Some(libc::EBUSY) => {
                    last_error = Some(error);
                }
                Err(error) if error.raw_os_error() == Some(libc::EINVAL) => {
                    tracing::warn!(
                        device = %path.display(),
                        %error,
                        "the kernel refused direct I/O on the FUSE file; attaching with buffered I/O (a second page cache)"
                    );
                    configure(&device, backing, block_size, false)
                        .map_err(|error| VolumeError::Syscall("LOOP_CONFIGURE", error))?;
                    return Ok(LoopDevice {
                        device,
                        path,
                        number,
                        direct_io: false,
                    });
                }
                Err(error) => return Err(VolumeError::Syscall("LOOP_CONFIGURE", error)),
            }
        }
        Err(VolumeError::Syscall(
            "LOOP_CONFIGURE",
            last_error.unwrap_or_else(|| io::Error::from_raw_os_error(libc::EBUSY)),
        ))
    }

    /// The device node, e.g. `/dev/loop3`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the kernel runs this device with direct I/O on its backing file.
    pub fn direct_io(&self) -> bool {
        self.direct_io
    }

    /// Detaches the device (once nothing has it mounted) and waits until the
    /// kernel has released the backing file.
    pub fn detach(self) -> Result<(), VolumeError> {
        let number = self.number;
        self.detach_later();
        wait_detached(number, DETACH_DEADLINE)
    }

    /// Detaches the device now if nothing uses it, else once its last user
    /// lets go (autoclear), without waiting: for fencing, where a container
    /// may hold the filesystem on it for as long as it likes.
    pub fn detach_later(self) {
        // SAFETY: LOOP_CLR_FD takes no argument; `self.device` is open.
        let result = unsafe { libc::ioctl(self.device.as_raw_fd(), LOOP_CLR_FD) };
        if result != 0 {
            let error = io::Error::last_os_error();
            // ENXIO: already detached. Anything else: autoclear still detaches
            // it when the last opener closes.
            if error.raw_os_error() != Some(libc::ENXIO) {
                tracing::warn!(device = %self.path.display(), %error, "LOOP_CLR_FD refused; relying on autoclear");
            }
        }
    }
}

/// Waits until `/dev/loop<number>` has no backing file.
pub fn wait_detached(number: u32, deadline: Duration) -> Result<(), VolumeError> {
    let until = Instant::now() + deadline;
    let backing = PathBuf::from(format!("/sys/block/loop{number}/loop/backing_file"));
    while backing.exists() {
        if Instant::now() > until {
            return Err(VolumeError::Timeout("the loop device to detach"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// The loop device number in a path such as `/dev/loop3`.
pub fn device_number(path: &Path) -> Option<u32> {
    path.to_str()?.strip_prefix("/dev/loop")?.parse().ok()
}

/// Reads a 0/1 flag from `/sys/block/loop<number>/loop/<name>`.
fn sysfs_flag(number: u32, name: &str) -> bool {
    std::fs::read_to_string(format!("/sys/block/loop{number}/loop/{name}"))
        .is_ok_and(|value| value.trim() == "1")
}

/// Binds `device` to `backing` with LOOP_CONFIGURE, or with the older
/// LOOP_SET_FD + LOOP_SET_BLOCK_SIZE + LOOP_SET_DIRECT_IO on kernels before 5.8.
fn configure(device: &File, backing: &File, block_size: u32, direct_io: bool) -> io::Result<()> {
    let fd = u32::try_from(backing.as_raw_fd())
        .map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    let mut flags = LO_FLAGS_AUTOCLEAR;
    if direct_io {
        flags |= LO_FLAGS_DIRECT_IO;
    }
    let config = LoopConfig {
        fd,
        block_size,
        info: LoopInfo64 {
            lo_device: 0,
            lo_inode: 0,
            lo_rdevice: 0,
            lo_offset: 0,
            lo_sizelimit: 0,
            lo_number: 0,
            lo_encrypt_type: 0,
            lo_encrypt_key_size: 0,
            lo_flags: flags,
            lo_file_name: [0; 64],
            lo_crypt_name: [0; 64],
            lo_encrypt_key: [0; 32],
            lo_init: [0; 2],
        },
        reserved: [0; 8],
    };
    // SAFETY: LOOP_CONFIGURE reads a `struct loop_config`, which `LoopConfig`
    // reproduces with `repr(C)`; the pointer is valid for the whole call and
    // the kernel does not keep it.
    let result = unsafe { libc::ioctl(device.as_raw_fd(), LOOP_CONFIGURE, &raw const config) };
    if result == 0 {
        return Ok(());
    }
    let error = io::Error::last_os_error();
    if error.raw_os_error() != Some(libc::ENOTTY) {
        return Err(error);
    }
    // SAFETY: LOOP_SET_FD takes the backing file descriptor by value.
    if unsafe { libc::ioctl(device.as_raw_fd(), LOOP_SET_FD, backing.as_raw_fd()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: LOOP_SET_BLOCK_SIZE takes the block size by value.
    if unsafe {
        libc::ioctl(
            device.as_raw_fd(),
            LOOP_SET_BLOCK_SIZE,
            libc::c_ulong::from(block_size),
        )
    } != 0
    {
        return Err(io::Error::last_os_error());
    }
    if direct_io {
        // SAFETY: LOOP_SET_DIRECT_IO takes 0 or 1 by value.
        if unsafe {
            libc::ioctl(
                device.as_raw_fd(),
                LOOP_SET_DIRECT_IO,
                libc::c_ulong::from(1u8),
            )
        } != 0
        {
            let error = io::Error::last_os_error();
            tracing::warn!(%error, "the kernel refused direct I/O on the FUSE file; keeping buffered I/O");
        }
    }
    Ok(())
}
