//! The filesystem on the decrypted device: detect, create (mkfs), mount and
//! unmount it, and read the mount table.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rustix::mount::{MountFlags, UnmountFlags};

use crate::VolumeError;

/// The filesystem a new volume is formatted with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Filesystem {
    /// ext4 with a journal, 4096-byte blocks (the default).
    #[default]
    Ext4,
    /// XFS (needs `mkfs.xfs` from xfsprogs).
    Xfs,
}

impl Filesystem {
    /// The kernel's name for it, as `mount -t` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Filesystem::Ext4 => "ext4",
            Filesystem::Xfs => "xfs",
        }
    }
}

impl std::str::FromStr for Filesystem {
    type Err = VolumeError;
    fn from_str(name: &str) -> Result<Self, VolumeError> {
        match name {
            "ext4" => Ok(Filesystem::Ext4),
            "xfs" => Ok(Filesystem::Xfs),
            other => Err(VolumeError::UnsupportedFilesystem(other.to_owned())),
        }
    }
}

/// The filesystem type on `device`, or `None` for a blank device. An ext2/3/4
/// superblock is recognized here (every mount of an existing volume, without
/// the 50 ms of starting `blkid`; the ext4 driver mounts all three); anything
/// else is left to `blkid`.
pub fn probe(device: &Path) -> Result<Option<String>, VolumeError> {
    if has_ext_superblock(device) {
        return Ok(Some("ext4".to_owned()));
    }
    probe_with_blkid(device)
}

/// Whether `device` starts with a plausible ext2/3/4 superblock: the magic and
/// sane geometry, so that the random-looking plaintext of a never-written
/// volume is not taken for one (it then goes to `blkid`, which finds nothing,
/// and the volume gets its filesystem).
fn has_ext_superblock(device: &Path) -> bool {
    use std::os::unix::fs::FileExt;
    let Ok(file) = std::fs::File::open(device) else {
        return false;
    };
    let mut block = [0_u8; 1024];
    if file.read_exact_at(&mut block, 1024).is_err() {
        return false;
    }
    ext_superblock_is_plausible(&block)
}

/// The checks of [`has_ext_superblock`] on the superblock's 1024 bytes.
fn ext_superblock_is_plausible(block: &[u8; 1024]) -> bool {
    let le32 = |at: usize| {
        block
            .get(at..at + 4)
            .and_then(|bytes| <[u8; 4]>::try_from(bytes).ok())
            .map_or(0, u32::from_le_bytes)
    };
    let le16 = |at: usize| {
        block
            .get(at..at + 2)
            .and_then(|bytes| <[u8; 2]>::try_from(bytes).ok())
            .map_or(0, u16::from_le_bytes)
    };
    let magic = le16(56);
    let inodes = le32(0);
    let blocks = le32(4);
    let log_block_size = le32(24);
    let state = le16(58);
    let revision = le32(76);
    magic == 0xEF53
        && inodes > 0
        && blocks > 0
        && log_block_size <= 6
        && (1..=7).contains(&state)
        && revision <= 1
}

/// The filesystem type `blkid` finds on `device`, or `None` for a blank device.
fn probe_with_blkid(device: &Path) -> Result<Option<String>, VolumeError> {
    let output = Command::new("blkid")
        .args(["-p", "-o", "value", "-s", "TYPE"])
        .arg(device)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| VolumeError::io("running blkid on", device, source))?;
    match output.status.code() {
        Some(0) => {
            let found = String::from_utf8_lossy(&output.stdout).trim().to_owned();
            Ok((!found.is_empty()).then_some(found))
        }
        // blkid's exit status 2: no signature found.
        Some(2) => Ok(None),
        _ => Err(VolumeError::Program {
            program: "blkid",
            status: output.status,
            stderr: tail(&output.stderr),
        }),
    }
}

/// What zeroing a range of the device to be formatted costs, which decides
/// what mkfs zeroes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zeroing {
    /// Nothing: the user engine punches a hole in the image (see
    /// [`crate::device::BlockFile::zeroing_switch`]), so mkfs zeroes the
    /// inode tables now rather than the kernel in the background after the
    /// mount, which would write them in full (for 20 GiB, 320 MiB of
    /// encrypted zeros).
    Free,
    /// Writing encrypted zeros, on a fresh (sparse) image: mkfs zeroes
    /// neither the inode tables nor the journal, which ext4 does not need
    /// (it tracks the inodes never used, and replays only journal blocks of
    /// its own sequence), so the image stays sparse. The kernel engine.
    Skipped,
    /// Writing zeros, and mkfs decides (its defaults).
    Written,
}

/// Creates `filesystem` on `device`. No discard first: the image of a new
/// volume is sparse already.
pub fn mkfs(device: &Path, filesystem: Filesystem, zeroing: Zeroing) -> Result<(), VolumeError> {
    let mut command = match filesystem {
        Filesystem::Ext4 => {
            let mut command = Command::new("mkfs.ext4");
            let extended = match zeroing {
                Zeroing::Free => "nodiscard,lazy_itable_init=0",
                Zeroing::Skipped => "nodiscard,lazy_itable_init=1,lazy_journal_init=1",
                Zeroing::Written => "nodiscard",
            };
            command.args(["-q", "-F", "-b", "4096", "-E", extended]);
            command
        }
        Filesystem::Xfs => {
            let mut command = Command::new("mkfs.xfs");
            command.args(["-q", "-f", "-K"]);
            command
        }
    };
    let output = command
        .arg(device)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| VolumeError::io("running mkfs on", device, source))?;
    if !output.status.success() {
        return Err(VolumeError::Program {
            program: "mkfs",
            status: output.status,
            stderr: tail(&output.stderr),
        });
    }
    Ok(())
}

/// Mounts `device` (holding `filesystem`) on `target`, creating `target` if needed.
pub fn mount(device: &Path, target: &Path, filesystem: &str) -> Result<(), VolumeError> {
    mount_with(device, target, filesystem, None)
}

/// [`mount`] with filesystem options (`noinit_itable`).
pub fn mount_with(
    device: &Path,
    target: &Path,
    filesystem: &str,
    options: Option<&std::ffi::CStr>,
) -> Result<(), VolumeError> {
    std::fs::create_dir_all(target)
        .map_err(|source| VolumeError::io("creating the mount point", target, source))?;
    rustix::mount::mount(
        device,
        target,
        filesystem,
        MountFlags::NODEV | MountFlags::NOSUID,
        options,
    )
    .map_err(|errno| VolumeError::sys("mount", errno))
}

/// Unmounts `target`; `EBUSY` becomes [`VolumeError::Busy`], and a target
/// that is not mounted is not an error.
pub fn unmount(target: &Path) -> Result<(), VolumeError> {
    match rustix::mount::unmount(target, UnmountFlags::empty()) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::BUSY) => Err(VolumeError::Busy(target.to_owned())),
        Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOENT) => Ok(()),
        Err(errno) => Err(VolumeError::sys("umount", errno)),
    }
}

/// Detaches `target` from the namespace now, whatever still uses it
/// (`umount -l`): for cleaning up after an engine that died.
pub fn unmount_lazy(target: &Path) -> Result<(), VolumeError> {
    match rustix::mount::unmount(target, UnmountFlags::DETACH) {
        Ok(()) | Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOENT) => Ok(()),
        Err(errno) => Err(VolumeError::sys("umount -l", errno)),
    }
}

/// Aborts the FUSE connection mounted at `target` and detaches it (`umount -f
/// -l`): the kernel's FUSE `umount_begin` aborts the connection even when the
/// mount is busy, so every request in flight and every later one fails, and
/// the serving process reads `ENODEV` and stops. For fencing, where no write
/// may reach the image any more, whoever still uses the mount.
pub fn abort_fuse(target: &Path) -> Result<(), VolumeError> {
    match rustix::mount::unmount(target, UnmountFlags::FORCE | UnmountFlags::DETACH) {
        Ok(()) | Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOENT) => Ok(()),
        Err(errno) => Err(VolumeError::sys("umount -f -l", errno)),
    }
}

/// One line of `/proc/self/mountinfo`: what is mounted where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountEntry {
    /// The mount point.
    pub target: PathBuf,
    /// The filesystem type (`ext4`, `fuse.cryptainer`).
    pub filesystem: String,
    /// The mount source (`/dev/loop3`).
    pub source: String,
}

/// The mounts visible to this process.
pub fn mounts() -> Result<Vec<MountEntry>, VolumeError> {
    let table = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|source| VolumeError::io("reading", "/proc/self/mountinfo", source))?;
    Ok(table.lines().filter_map(parse_mountinfo_line).collect())
}

/// Whether something is mounted exactly at `target`.
pub fn is_mounted(target: &Path) -> Result<bool, VolumeError> {
    Ok(mounts()?.iter().any(|entry| entry.target == target))
}

/// Parses `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw`.
fn parse_mountinfo_line(line: &str) -> Option<MountEntry> {
    let (before, after) = line.split_once(" - ")?;
    let target = before.split(' ').nth(4)?;
    let mut after = after.split(' ');
    let filesystem = after.next()?.to_owned();
    let source = unescape(after.next()?);
    Some(MountEntry {
        target: PathBuf::from(unescape(target)),
        filesystem,
        source,
    })
}

/// Undoes mountinfo's octal escapes (`\040` for a space).
fn unescape(field: &str) -> String {
    let mut out = Vec::with_capacity(field.len());
    let bytes = field.as_bytes();
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'\\' {
            if let Some(Ok(value)) = bytes
                .get(index + 1..index + 4)
                .and_then(|digits| std::str::from_utf8(digits).ok())
                .map(|digits| u8::from_str_radix(digits, 8))
            {
                out.push(value);
                index += 4;
                continue;
            }
        }
        out.push(byte);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The last few lines of a program's standard error, for an error message.
fn tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().rev().take(5).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mountinfo_with_escaped_spaces() {
        let entry = parse_mountinfo_line(
            "36 35 98:0 / /mnt/with\\040space rw,noatime master:1 - ext4 /dev/loop3 rw",
        );
        assert_eq!(
            entry,
            Some(MountEntry {
                target: PathBuf::from("/mnt/with space"),
                filesystem: "ext4".to_owned(),
                source: "/dev/loop3".to_owned(),
            })
        );
    }

    #[test]
    fn recognizes_an_ext4_superblock_made_by_mkfs_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("fs.img");
        std::fs::File::create(&image)
            .unwrap()
            .set_len(16 << 20)
            .unwrap();
        assert!(!has_ext_superblock(&image), "zeros are no filesystem");
        let made = Command::new("mkfs.ext4")
            .args(["-q", "-F"])
            .arg(&image)
            .status()
            .unwrap();
        assert!(made.success());
        assert!(has_ext_superblock(&image));
        assert_eq!(probe(&image).unwrap().as_deref(), Some("ext4"));

        // Random bytes (a never-written volume's plaintext) are not taken for one,
        // even with the magic in place.
        let mut block = [0_u8; 1024];
        getrandom(&mut block);
        block[56..58].copy_from_slice(&0xEF53_u16.to_le_bytes());
        assert!(!ext_superblock_is_plausible(&block));
        // A superblock with its magic damaged is not one either.
        let mut superblock = [0_u8; 1024];
        std::os::unix::fs::FileExt::read_exact_at(
            &std::fs::File::open(&image).unwrap(),
            &mut superblock,
            1024,
        )
        .unwrap();
        assert!(ext_superblock_is_plausible(&superblock));
        superblock[56] ^= 0xff;
        assert!(!ext_superblock_is_plausible(&superblock));
    }

    /// Fills `buffer` from the kernel's random source.
    fn getrandom(buffer: &mut [u8]) {
        use std::io::Read as _;
        std::fs::File::open("/dev/urandom")
            .unwrap()
            .read_exact(buffer)
            .unwrap();
    }

    #[test]
    fn rejects_unknown_filesystems() {
        assert!("btrfs".parse::<Filesystem>().is_err());
        assert_eq!("ext4".parse::<Filesystem>().ok(), Some(Filesystem::Ext4));
    }
}
