//! The FUSE filesystem that serves one decrypted block device as a regular
//! file: reads decrypt, writes encrypt, every request runs on its own worker
//! thread with positioned I/O on the image.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use fuser::{
    Errno, FileAttr, FileHandle, FileType, FopenFlags, Generation, INodeNo, InitFlags,
    KernelConfig, LockOwner, OpenFlags, ReplyAttr, ReplyData, ReplyDirectory, ReplyEmpty,
    ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, WriteFlags,
};

use crate::VolumeError;
use crate::buffer::RequestBuffer;
use crate::cipher::BlockCipher;

/// The name of the one file in the FUSE mount.
pub const DISK_FILE_NAME: &str = "disk";
/// The largest request the kernel may send: 1 MiB, the most FUSE allows by
/// default (256 pages), so a loop device's large bios arrive whole.
pub const MAX_REQUEST: u32 = 1 << 20;

/// FUSE requests the kernel keeps in flight at once (`max_background`). The
/// loop device's reads and writes are all of that kind (asynchronous direct
/// I/O), so more workers than this could never all be busy.
pub const MAX_IN_FLIGHT: u16 = 64;

const ROOT_INODE: INodeNo = INodeNo(1);
const DISK_INODE: INodeNo = INodeNo(2);
/// Nothing in this filesystem ever changes shape, so the kernel may cache
/// names and attributes for as long as it likes.
const ATTR_TTL: Duration = Duration::from_secs(24 * 3600);

/// Alignment of the buffers, offsets and lengths of direct reads: the largest
/// logical block size of the devices an image lives on.
const DIRECT_ALIGN: usize = 4096;

thread_local! {
    /// One request buffer per worker thread, in huge pages where the kernel
    /// has them (see [`crate::buffer`]), mapped at the worker's first request
    /// and replaced only by a larger one, so the steady state allocates
    /// nothing.
    static BUFFER: RefCell<Option<RequestBuffer>> = const { RefCell::new(None) };
    /// The ranges of the image (position, length) this worker wrote last,
    /// oldest first, whose cached pages it drops a few writes later (see
    /// [`BlockFile::drop_cached`]).
    static WRITTEN: RefCell<VecDeque<(u64, u64)>> = const { RefCell::new(VecDeque::new()) };
}

/// How many of its latest writes a worker leaves in the image's page cache
/// before dropping the oldest: by then the writeback each write started has
/// usually finished, and only clean pages can be dropped.
const WRITES_LEFT_CACHED: usize = 4;

/// Writes at least this long go to the disk directly (`O_DIRECT`) from the
/// worker's buffer; shorter ones go through the image's page cache, where an
/// fsync sends many of them to the disk together (see [`BlockFile::store_sectors`]).
const DIRECT_WRITE_MIN: usize = 256 << 10;

/// Whether every byte of `bytes` is zero. Stops at the first 64 bytes that
/// are not: for a sector of ciphertext, at once.
fn is_zero(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(64);
    let head_zero = chunks
        .by_ref()
        .all(|chunk| chunk.iter().fold(0u8, |acc, &byte| acc | byte) == 0);
    head_zero && chunks.remainder().iter().all(|&byte| byte == 0)
}

/// The first `len` bytes of the worker's buffer (which starts on a huge-page
/// boundary, so on a [`DIRECT_ALIGN`] one too), mapping a buffer first when
/// the worker has none large enough. `None` when no memory could be mapped.
fn aligned_part(buffer: &mut Option<RequestBuffer>, len: usize) -> Option<&mut [u8]> {
    if buffer.as_ref().is_none_or(|buffer| buffer.len() < len) {
        // Every request fits in one: at most MAX_REQUEST and the two partial
        // sectors around it.
        *buffer = None;
        match RequestBuffer::new(len.max(MAX_REQUEST as usize)) {
            Ok(mapped) => *buffer = Some(mapped),
            Err(error) => {
                tracing::warn!(%error, len, "cannot map a request buffer");
                return None;
            }
        }
    }
    buffer.as_mut()?.part(len)
}

/// Opens the image again for direct I/O (`O_DIRECT`): reads and large writes
/// then go between the disk and the request buffer without a copy through the
/// host's page cache, which would only hold ciphertext twice (the filesystem
/// above keeps the plaintext cache). `None` where the image's filesystem
/// refuses direct I/O (tmpfs before Linux 6.6): everything stays buffered.
fn open_direct(image: &File) -> Option<File> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let path = format!("/proc/self/fd/{}", image.as_raw_fd());
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_DIRECT)
        .open(&path)
    {
        Ok(direct) => Some(direct),
        Err(error) => {
            tracing::info!(%error, "the image's filesystem refuses direct reads; reading through the page cache");
            None
        }
    }
}

/// The FUSE filesystem: a root directory holding [`DISK_FILE_NAME`], whose
/// bytes are the decrypted data segment of an image.
pub struct BlockFile<C: BlockCipher> {
    image: File,
    /// The image opened with `O_DIRECT` for whole-sector reads and large
    /// writes, if its filesystem allows it. Small writes stay buffered on
    /// `image` (and reach the disk at fsync at the latest). The kernel keeps
    /// the two coherent: a direct read or write of a range with cached pages
    /// first writes back the dirty ones, and a direct write then drops the
    /// range from the cache, so every read sees the last write.
    direct: Option<File>,
    data_offset: u64,
    size: u64,
    sector_size: u64,
    cipher: Arc<C>,
    /// Requests that cover whole sectors share this lock; a request that covers
    /// part of a sector reads, modifies and writes the whole sector while holding
    /// it exclusively, so no other write to that sector can land in between.
    partial_sectors: RwLock<()>,
    started: SystemTime,
    /// Whether a request to zero a range (FUSE `fallocate` with
    /// `FALLOC_FL_ZERO_RANGE` or `FALLOC_FL_PUNCH_HOLE`) punches a hole in
    /// the image. On only while the engine creates the filesystem (see
    /// [`BlockFile::zeroing_switch`]); otherwise such a request is refused
    /// and the kernel writes zeros instead, which are encrypted like any
    /// data, so no one reading the image learns which ranges of a file the
    /// filesystem zeroed.
    punch_zeroes: Arc<AtomicBool>,
    /// Whether the image's filesystem punches holes (found at start).
    punches_holes: bool,
}

impl<C: BlockCipher> BlockFile<C> {
    /// Serves the part of `image` from `data_offset` through `cipher`: the
    /// next `data_size` bytes, or to the image's end when `None`, rounded
    /// down to whole sectors either way and never past the image's end.
    pub fn new(
        image: File,
        data_offset: u64,
        data_size: Option<u64>,
        cipher: Arc<C>,
    ) -> Result<Self, VolumeError> {
        let sector_size =
            u64::try_from(cipher.sector_size()).map_err(|_| VolumeError::InvalidSize(0))?;
        let image_len = image
            .metadata()
            .map_err(|source| VolumeError::io("reading the size of", "the image", source))?
            .len();
        let to_the_end = image_len.saturating_sub(data_offset);
        let segment = data_size.map_or(to_the_end, |size| size.min(to_the_end));
        let size = segment - segment % sector_size.max(1);
        if size == 0 {
            return Err(VolumeError::InvalidSize(image_len));
        }
        let direct =
            if data_offset % DIRECT_ALIGN as u64 == 0 && sector_size % DIRECT_ALIGN as u64 == 0 {
                open_direct(&image)
            } else {
                None
            };
        // Whether the image's filesystem punches holes, asked without
        // touching the image: a hole past its end changes nothing.
        let punches_holes = rustix::fs::fallocate(
            &image,
            rustix::fs::FallocateFlags::PUNCH_HOLE | rustix::fs::FallocateFlags::KEEP_SIZE,
            image_len,
            sector_size.max(1),
        )
        .is_ok();
        Ok(BlockFile {
            image,
            direct,
            data_offset,
            size,
            sector_size,
            cipher,
            partial_sectors: RwLock::new(()),
            started: SystemTime::now(),
            punch_zeroes: Arc::new(AtomicBool::new(false)),
            punches_holes,
        })
    }

    /// The switch that lets requests to zero a range punch holes in the
    /// image ([`BlockFile::zero_range`]). The engine turns it on while it
    /// creates the filesystem on a new volume, whose image is empty: its
    /// holes then reveal nothing that the image's sparseness did not, and
    /// `mkfs` zeroes the journal and the inode tables in moments without
    /// writing them.
    pub fn zeroing_switch(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.punch_zeroes)
    }

    /// Whether zeroing a range is cheap here: the image's filesystem
    /// punches holes (ext4, XFS, Btrfs and tmpfs do).
    pub fn punches_holes(&self) -> bool {
        self.punches_holes
    }

    /// The size of the decrypted device in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    fn attr(&self, inode: INodeNo) -> FileAttr {
        let (kind, perm, nlink, size) = if inode == ROOT_INODE {
            (FileType::Directory, 0o700, 2, 0)
        } else {
            (FileType::RegularFile, 0o600, 1, self.size)
        };
        FileAttr {
            ino: inode,
            size,
            blocks: size / 512,
            atime: self.started,
            mtime: self.started,
            ctime: self.started,
            crtime: self.started,
            kind,
            perm,
            nlink,
            uid: rustix::process::getuid().as_raw(),
            gid: rustix::process::getgid().as_raw(),
            rdev: 0,
            blksize: 4096,
            flags: 0,
        }
    }

    /// The sector-aligned range `[start, end)` that covers `[offset, offset + len)`.
    fn aligned(&self, offset: u64, len: u64) -> (u64, u64) {
        let start = offset - offset % self.sector_size;
        let end = offset + len;
        let end = end.div_ceil(self.sector_size) * self.sector_size;
        (start, end)
    }

    /// Reads and decrypts `[start, end)` of the device (sector-aligned) into `buffer`.
    fn read_sectors(&self, start: u64, buffer: &mut [u8]) -> Result<(), Errno> {
        let position = self.data_offset + start;
        let direct = self.direct_for(buffer);
        let read = match direct {
            Some(direct) => direct.read_exact_at(buffer, position).or_else(|error| {
                // A filesystem may refuse one request (EINVAL): read it
                // through the page cache instead.
                if error.raw_os_error() == Some(libc::EINVAL) {
                    self.image.read_exact_at(buffer, position)
                } else {
                    Err(error)
                }
            }),
            None => self.image.read_exact_at(buffer, position),
        };
        read.map_err(Errno::from)?;
        self.decrypt_written(start / self.sector_size, buffer)
    }

    /// Decrypts the sectors of `buffer` (ciphertext read from the image,
    /// the first at `first_sector`), except those whose ciphertext is all
    /// zeros: a hole in the image, never written or zeroed when the
    /// filesystem was created, which reads as zeros. Runs of written sectors
    /// are decrypted in one call each. (The encryption of a sector is all
    /// zeros with a probability of 2^-32768 for 4 KiB sectors.)
    fn decrypt_written(&self, first_sector: u64, buffer: &mut [u8]) -> Result<(), Errno> {
        let sector = usize::try_from(self.sector_size).map_err(|_| Errno::EINVAL)?;
        let count = buffer.len() / sector.max(1);
        let written = |buffer: &[u8], index: usize| {
            !is_zero(
                buffer
                    .get(index * sector..(index + 1) * sector)
                    .unwrap_or(&[]),
            )
        };
        let mut index = 0;
        while index < count {
            // A run of written sectors (perhaps none), then one hole or the end.
            let run = index;
            while index < count && written(buffer, index) {
                index += 1;
            }
            if run < index {
                let sectors = buffer
                    .get_mut(run * sector..index * sector)
                    .ok_or(Errno::EIO)?;
                let first = first_sector + u64::try_from(run).map_err(|_| Errno::EINVAL)?;
                self.cipher
                    .decrypt(first, sectors)
                    .map_err(|_| Errno::EIO)?;
            }
            index += 1;
        }
        Ok(())
    }

    /// The direct handle, if there is one and `buffer` suits it (aligned start
    /// and length).
    fn direct_for(&self, buffer: &[u8]) -> Option<&File> {
        self.direct.as_ref().filter(|_| {
            buffer.as_ptr().align_offset(DIRECT_ALIGN) == 0 && buffer.len() % DIRECT_ALIGN == 0
        })
    }

    /// Encrypts `buffer` (sector-aligned, starting at `start`) in place and
    /// writes it ([`store_sectors`](Self::store_sectors)).
    fn write_sectors(&self, start: u64, buffer: &mut [u8]) -> Result<(), Errno> {
        self.cipher
            .encrypt(start / self.sector_size, buffer)
            .map_err(|_| Errno::EIO)?;
        self.store_sectors(start, buffer)
    }

    /// Writes `buffer` (ciphertext, sector-aligned, starting at `start`) to the image.
    /// A large write goes to the disk directly from the buffer: no
    /// copy into the image's page cache, and no fresh page for that copy, which
    /// on a virtual machine that hands free memory back to its host costs a
    /// fault in the host for every page; one huge page is one segment on the
    /// disk. A small one (a 4 KiB random write, a journal block) goes through
    /// the page cache, so that the next fsync sends it with the others instead
    /// of the worker waiting for the disk on each: its writeback starts at once,
    /// and its pages leave the cache a few writes later.
    fn store_sectors(&self, start: u64, buffer: &[u8]) -> Result<(), Errno> {
        let position = self.data_offset + start;
        let direct = self
            .direct_for(buffer)
            .filter(|_| buffer.len() >= DIRECT_WRITE_MIN);
        if let Some(direct) = direct {
            match direct.write_all_at(buffer, position) {
                Ok(()) => return Ok(()),
                // A filesystem may refuse one request: write it through the
                // page cache instead.
                Err(error) if error.raw_os_error() == Some(libc::EINVAL) => {}
                Err(error) => return Err(Errno::from(error)),
            }
        }
        self.image
            .write_all_at(buffer, position)
            .map_err(Errno::from)?;
        self.start_writeback(position, buffer.len());
        if self.direct.is_some() {
            let len = u64::try_from(buffer.len()).map_err(|_| Errno::EINVAL)?;
            let oldest = WRITTEN.with_borrow_mut(|written| {
                written.push_back((position, len));
                if written.len() > WRITES_LEFT_CACHED {
                    written.pop_front()
                } else {
                    None
                }
            });
            if let Some((oldest, oldest_len)) = oldest {
                self.drop_cached(oldest, oldest_len);
            }
        }
        Ok(())
    }

    /// Drops the image's cached pages in `[position, position + len)` that
    /// are clean (written back); dirty pages and pages under writeback stay.
    /// Reads bypass the image's page cache (direct reads), so the ciphertext
    /// pages are of no use once on the disk; freed at once, they are reused
    /// by the next writes instead of fresh pages. A failure is ignored.
    fn drop_cached(&self, position: u64, len: u64) {
        let _ = rustix::fs::fadvise(
            &self.image,
            position,
            std::num::NonZeroU64::new(len),
            rustix::fs::Advice::DontNeed,
        );
    }

    /// Asks the kernel to start writing `[position, position + len)` of the
    /// image back to its disk now, without waiting for it. Left to itself the
    /// kernel would keep the ciphertext dirty until the background dirty
    /// limit (a tenth of memory by default) or the next fsync, and a large write that ends in
    /// fsync would then encrypt everything first and only then start to
    /// write: this way the disk writes while the engine encrypts. Durability
    /// still comes from fsync alone ([`sync`](Self::sync)); this is only a
    /// hint, and a failure is ignored.
    fn start_writeback(&self, position: u64, len: usize) {
        use std::os::fd::AsRawFd;
        let (Ok(offset), Ok(nbytes)) = (
            libc::off64_t::try_from(position),
            libc::off64_t::try_from(len),
        ) else {
            return;
        };
        // SAFETY: sync_file_range only reads its integer arguments; the file
        // descriptor is open for as long as `self.image` lives.
        let result = unsafe {
            libc::sync_file_range(
                self.image.as_raw_fd(),
                offset,
                nbytes,
                libc::SYNC_FILE_RANGE_WRITE,
            )
        };
        if result != 0 {
            tracing::debug!(error = %std::io::Error::last_os_error(), "sync_file_range");
        }
    }

    /// Serves a read: the decrypted bytes `[offset, offset + len)`, cut at the
    /// end of the device, handed to `reply` without another copy.
    fn read(&self, offset: u64, len: u32, reply: ReplyData) {
        let end = offset.saturating_add(u64::from(len)).min(self.size);
        if offset >= end {
            reply.data(&[]);
            return;
        }
        let (start, aligned_end) = self.aligned(offset, end - offset);
        let Ok(buffer_len) = usize::try_from(aligned_end - start) else {
            reply.error(Errno::EINVAL);
            return;
        };
        let Ok(skip) = usize::try_from(offset - start) else {
            reply.error(Errno::EINVAL);
            return;
        };
        let Ok(wanted) = usize::try_from(end - offset) else {
            reply.error(Errno::EINVAL);
            return;
        };
        BUFFER.with_borrow_mut(|buffer| {
            let Some(sectors) = aligned_part(buffer, buffer_len) else {
                reply.error(Errno::ENOMEM);
                return;
            };
            let shared = self.partial_sectors.read();
            let result = self.read_sectors(start, sectors);
            drop(shared);
            match (result, sectors.get(skip..skip + wanted)) {
                (Ok(()), Some(bytes)) => reply.data(bytes),
                (Err(errno), _) => reply.error(errno),
                (Ok(()), None) => reply.error(Errno::EIO),
            }
        });
    }

    /// Serves a write of `data` at `offset`; whole sectors are encrypted from a
    /// copy, partial ones go through read-modify-write.
    fn write(&self, offset: u64, data: &[u8]) -> Result<u32, Errno> {
        let len = u64::try_from(data.len()).map_err(|_| Errno::EINVAL)?;
        let written = u32::try_from(data.len()).map_err(|_| Errno::EINVAL)?;
        if len == 0 {
            return Ok(0);
        }
        if offset.checked_add(len).is_none_or(|end| end > self.size) {
            return Err(Errno::EFBIG);
        }
        let (start, end) = self.aligned(offset, len);
        let buffer_len = usize::try_from(end - start).map_err(|_| Errno::EINVAL)?;
        let skip = usize::try_from(offset - start).map_err(|_| Errno::EINVAL)?;
        let whole_sectors = start == offset && end == offset + len;
        BUFFER.with_borrow_mut(|buffer| {
            let sectors = aligned_part(buffer, buffer_len).ok_or(Errno::ENOMEM)?;
            if whole_sectors {
                let _shared = self.partial_sectors.read();
                // Encrypted from the request straight into the aligned buffer.
                self.cipher
                    .encrypt_to(start / self.sector_size, data, sectors)
                    .map_err(|_| Errno::EIO)?;
                self.store_sectors(start, sectors)?;
            } else {
                let _exclusive = self.partial_sectors.write();
                self.read_sectors(start, sectors)?;
                sectors
                    .get_mut(skip..skip + data.len())
                    .ok_or(Errno::EIO)?
                    .copy_from_slice(data);
                self.write_sectors(start, sectors)?;
            }
            Ok(written)
        })
    }

    /// Serves a request to zero `[offset, offset + length)` (FUSE
    /// `fallocate`; the loop device sends one for `BLKZEROOUT` and
    /// discards). Only while [`zeroing_switch`](Self::zeroing_switch) is on
    /// and only for zeroing that keeps the size; anything else is
    /// `EOPNOTSUPP`, and for zeroing the kernel then writes zeros. Whole
    /// sectors become a hole in the image (they read as zeros, see
    /// [`decrypt_written`](Self::decrypt_written)); the parts of sectors at
    /// either end are written as zeros.
    pub(crate) fn zero_range(&self, offset: u64, length: u64, mode: i32) -> Result<(), Errno> {
        /// `FALLOC_FL_WRITE_ZEROES` (Linux 6.17), which a loop device may send
        /// for zeroing that keeps the range allocated. Like `ZERO_RANGE` it
        /// becomes a hole too: on a new volume's sparse image nothing was
        /// allocated there to keep.
        const WRITE_ZEROES: i32 = 0x80;
        let zeroing = [
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            libc::FALLOC_FL_ZERO_RANGE | libc::FALLOC_FL_KEEP_SIZE,
            libc::FALLOC_FL_ZERO_RANGE,
            WRITE_ZEROES | libc::FALLOC_FL_KEEP_SIZE,
            WRITE_ZEROES,
        ];
        if !self.punch_zeroes.load(Ordering::Acquire) || !zeroing.contains(&mode) {
            return Err(Errno::from_i32(libc::EOPNOTSUPP));
        }
        let end = offset.checked_add(length).ok_or(Errno::EINVAL)?;
        if end > self.size {
            // The device never grows, and nothing lies past its end.
            return Err(Errno::from_i32(libc::EOPNOTSUPP));
        }
        let whole_start = offset.div_ceil(self.sector_size) * self.sector_size;
        let whole_end = end - end % self.sector_size;
        // Parts of sectors (none from a loop device, whose blocks are whole
        // sectors) are written as zeros.
        let write_zeros = |start: u64, stop: u64| -> Result<(), Errno> {
            if start < stop {
                let zeros = vec![0u8; usize::try_from(stop - start).map_err(|_| Errno::EINVAL)?];
                self.write(start, &zeros)?;
            }
            Ok(())
        };
        if whole_start >= whole_end {
            return write_zeros(offset, end);
        }
        {
            let _exclusive = self.partial_sectors.write();
            rustix::fs::fallocate(
                &self.image,
                rustix::fs::FallocateFlags::PUNCH_HOLE | rustix::fs::FallocateFlags::KEEP_SIZE,
                self.data_offset + whole_start,
                whole_end - whole_start,
            )
            .map_err(|errno| Errno::from_i32(errno.raw_os_error()))?;
        }
        write_zeros(offset, whole_start)?;
        write_zeros(whole_end, end)
    }

    /// Makes every completed write durable on the image's storage.
    fn sync(&self) -> Result<(), Errno> {
        self.image.sync_data().map_err(Errno::from)
    }
}

/// The FUSE transport the engine uses and why, given whether the kernel
/// offered FUSE over io_uring in `INIT` (Linux 6.14 and later do, once the
/// `fuse` module's `enable_uring` is on). Always `/dev/fuse` for now: fuser,
/// the FUSE library the engine is built on, has no io_uring transport, and
/// docs/volume-engine.md says what one would take and what a prototype of
/// it measured (no gain on the loop-device path).
fn fuse_transport(uring_offered: bool) -> (&'static str, &'static str) {
    let reason = if uring_offered {
        "the kernel offers FUSE over io_uring, but the engine has no io_uring transport yet (see docs/volume-engine.md)"
    } else {
        "the kernel does not offer FUSE over io_uring (it needs Linux 6.14 or later with the fuse module's enable_uring on)"
    };
    ("/dev/fuse", reason)
}

impl<C: BlockCipher> fuser::Filesystem for BlockFile<C> {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        // Large requests, many in flight, and asynchronous direct I/O so the
        // loop device's concurrent bios reach the worker threads in parallel.
        let _ = config.set_max_write(MAX_REQUEST);
        let _ = config.set_max_readahead(MAX_REQUEST);
        let _ = config.set_max_background(MAX_IN_FLIGHT);
        let wanted = InitFlags::FUSE_ASYNC_DIO | InitFlags::FUSE_PARALLEL_DIROPS;
        if let Err(missing) = config.add_capabilities(wanted) {
            tracing::warn!(
                ?missing,
                "kernel lacks FUSE capabilities; requests may serialise"
            );
        }
        let (transport, reason) = fuse_transport(
            config
                .capabilities()
                .contains(InitFlags::FUSE_OVER_IO_URING),
        );
        tracing::info!(transport, reason, "FUSE transport");
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        if parent == ROOT_INODE && name == DISK_FILE_NAME {
            reply.entry(&ATTR_TTL, &self.attr(DISK_INODE), Generation(0));
        } else {
            reply.error(Errno::ENOENT);
        }
    }

    fn getattr(&self, _req: &Request, inode: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        if inode == ROOT_INODE || inode == DISK_INODE {
            reply.attr(&ATTR_TTL, &self.attr(inode));
        } else {
            reply.error(Errno::ENOENT);
        }
    }

    fn open(&self, _req: &Request, inode: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        if inode != DISK_INODE {
            reply.error(Errno::EISDIR);
            return;
        }
        // Direct I/O: the kernel keeps no page cache for this file, so the
        // filesystem above the loop device holds the only plaintext cache.
        // Parallel direct writes: without it FUSE serialises writes per inode.
        reply.opened(
            FileHandle(0),
            FopenFlags::FOPEN_DIRECT_IO | FopenFlags::FOPEN_PARALLEL_DIRECT_WRITES,
        );
    }

    fn read(
        &self,
        _req: &Request,
        _inode: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        BlockFile::read(self, offset, size, reply);
    }

    fn write(
        &self,
        _req: &Request,
        _inode: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        match BlockFile::write(self, offset, data) {
            Ok(written) => reply.written(written),
            Err(errno) => reply.error(errno),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _inode: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        match self.sync() {
            Ok(()) => reply.ok(),
            Err(errno) => reply.error(errno),
        }
    }

    fn fsync(
        &self,
        _req: &Request,
        _inode: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        match self.sync() {
            Ok(()) => reply.ok(),
            Err(errno) => reply.error(errno),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        inode: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        if inode != ROOT_INODE {
            reply.error(Errno::ENOTDIR);
            return;
        }
        let entries = [
            (ROOT_INODE, FileType::Directory, "."),
            (ROOT_INODE, FileType::Directory, ".."),
            (DISK_INODE, FileType::RegularFile, DISK_FILE_NAME),
        ];
        for (index, (entry_inode, kind, name)) in (1u64..).zip(entries) {
            if index <= offset {
                continue;
            }
            if reply.add(entry_inode, index, kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn getxattr(
        &self,
        _req: &Request,
        _inode: INodeNo,
        _name: &OsStr,
        _size: u32,
        reply: fuser::ReplyXattr,
    ) {
        reply.error(Errno::from_i32(libc::ENODATA));
    }

    fn fallocate(
        &self,
        _req: &Request,
        _inode: INodeNo,
        _fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        match self.zero_range(offset, length, mode) {
            Ok(()) => reply.ok(),
            Err(errno) => reply.error(errno),
        }
    }

    fn statfs(&self, _req: &Request, _inode: INodeNo, reply: ReplyStatfs) {
        let blocks = self.size / 4096;
        reply.statfs(blocks, 0, 0, 2, 0, 4096, 255, 4096);
    }
}

#[cfg(test)]
mod tests {
    // In tests a panic is the failure report; offsets and patterns of a
    // few sectors are small numbers, so casts truncate nothing.
    #![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

    use super::*;

    const SECTOR: usize = 4096;

    fn block_file(dir: &std::path::Path) -> BlockFile<luks::SectorCipher> {
        let path = dir.join("image");
        let image = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        image.set_len(128 << 20).unwrap();
        let cipher = luks::SectorCipher::new(&luks::VolumeKey::generate(), SECTOR).unwrap();
        BlockFile::new(image, 1 << 20, None, Arc::new(cipher)).unwrap()
    }

    /// Reads `len` bytes at `offset` of the device as the kernel would.
    fn read(device: &BlockFile<luks::SectorCipher>, offset: u64, len: u32) -> Vec<u8> {
        let (start, end) = device.aligned(offset, u64::from(len));
        let mut buffer = None;
        let sectors = aligned_part(&mut buffer, (end - start) as usize).unwrap();
        device.read_sectors(start, sectors).unwrap();
        let skip = (offset - start) as usize;
        sectors[skip..skip + len as usize].to_vec()
    }

    #[test]
    fn sectors_never_written_read_as_zeros_and_written_ones_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let device = block_file(dir.path());
        // Sector 1 written, sectors 0 and 2 to 4 never: one read covers both
        // kinds, so runs of written sectors are found inside a request.
        let data: Vec<u8> = (0..SECTOR).map(|index| (index % 253) as u8 | 1).collect();
        device.write(SECTOR as u64, &data).unwrap();
        device.write(3 * SECTOR as u64 + 10, b"x").unwrap();
        let read = read(&device, 0, 5 * SECTOR as u32);
        assert!(
            read[..SECTOR].iter().all(|&byte| byte == 0),
            "an empty sector is not zeros"
        );
        assert_eq!(&read[SECTOR..2 * SECTOR], &data[..]);
        assert!(read[2 * SECTOR..3 * SECTOR].iter().all(|&byte| byte == 0));
        let mut partial = vec![0u8; SECTOR];
        partial[10] = b'x';
        assert_eq!(&read[3 * SECTOR..4 * SECTOR], &partial[..]);
        assert!(read[4 * SECTOR..].iter().all(|&byte| byte == 0));
    }

    #[test]
    fn is_zero_finds_a_set_byte_anywhere() {
        let mut bytes = vec![0u8; SECTOR + 7];
        assert!(is_zero(&bytes));
        assert!(is_zero(&[]));
        for at in [0, 1, 63, 64, 4095, SECTOR + 6] {
            bytes[at] = 0x80;
            assert!(!is_zero(&bytes), "byte {at} not seen");
            bytes[at] = 0;
        }
    }

    /// Where the first hole at or after `position` of the image starts.
    fn next_hole(device: &BlockFile<luks::SectorCipher>, position: u64) -> u64 {
        rustix::fs::seek(&device.image, rustix::fs::SeekFrom::Hole(position)).unwrap()
    }

    #[test]
    fn zeroing_punches_holes_only_while_the_switch_is_on() {
        let dir = tempfile::tempdir().unwrap();
        let device = block_file(dir.path());
        let punch = libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE;
        let zero = libc::FALLOC_FL_ZERO_RANGE | libc::FALLOC_FL_KEEP_SIZE;
        let data: Vec<u8> = (0..8 * SECTOR)
            .map(|index| (index % 251) as u8 | 1)
            .collect();
        device.write(0, &data).unwrap();
        let base = device.data_offset;
        assert!(next_hole(&device, base) >= base + 8 * SECTOR as u64);

        // Off (the engine serving a mounted filesystem): refused, nothing changes.
        assert!(device.punches_holes());
        let refused = device.zero_range(SECTOR as u64, 2 * SECTOR as u64, punch);
        assert_eq!(refused, Err(Errno::from_i32(libc::EOPNOTSUPP)));
        assert_eq!(read(&device, 0, 8 * SECTOR as u32), data);

        // On (the engine making the filesystem): whole sectors become a hole,
        // parts of sectors at the ends are written as zeros.
        device.zeroing_switch().store(true, Ordering::Release);
        let (start, end) = (SECTOR as u64 - 512, 3 * SECTOR as u64 + 512);
        device.zero_range(start, end - start, punch).unwrap();
        let mut expected = data.clone();
        expected[start as usize..end as usize].fill(0);
        assert_eq!(read(&device, 0, 8 * SECTOR as u32), expected);
        assert_eq!(next_hole(&device, base), base + SECTOR as u64);
        assert!(next_hole(&device, base + 3 * SECTOR as u64) >= base + 8 * SECTOR as u64);

        // Zeroing inside one sector, and by the other mode.
        device.zero_range(5 * SECTOR as u64 + 1, 100, zero).unwrap();
        device
            .zero_range(6 * SECTOR as u64, SECTOR as u64, zero)
            .unwrap();
        expected[5 * SECTOR + 1..5 * SECTOR + 101].fill(0);
        expected[6 * SECTOR..7 * SECTOR].fill(0);
        assert_eq!(read(&device, 0, 8 * SECTOR as u32), expected);

        // Other modes, and ranges past the end, stay refused.
        let collapse = libc::FALLOC_FL_COLLAPSE_RANGE;
        assert!(device.zero_range(0, SECTOR as u64, collapse).is_err());
        assert!(device.zero_range(0, SECTOR as u64, 0).is_err());
        assert!(
            device
                .zero_range(device.size() - 512, SECTOR as u64, punch)
                .is_err()
        );
        assert!(device.zero_range(u64::MAX - 10, 100, punch).is_err());
        assert_eq!(read(&device, 0, 8 * SECTOR as u32), expected);
        device.zeroing_switch().store(false, Ordering::Release);
        assert!(
            device
                .zero_range(7 * SECTOR as u64, SECTOR as u64, zero)
                .is_err()
        );
        assert_eq!(read(&device, 0, 8 * SECTOR as u32), expected);
    }

    #[test]
    fn aligned_parts_start_on_the_direct_io_boundary() {
        let mut buffer = None;
        for len in [
            SECTOR,
            3 * SECTOR,
            1 << 20,
            (1 << 20) + 2 * SECTOR,
            5 << 20,
            SECTOR,
        ] {
            let part = aligned_part(&mut buffer, len).unwrap();
            assert_eq!(part.len(), len);
            assert_eq!(part.as_ptr().align_offset(DIRECT_ALIGN), 0);
        }
    }

    #[test]
    fn a_direct_read_sees_the_buffered_write_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let device = block_file(dir.path());
        // Every kernel this runs on allows O_DIRECT on a disk filesystem (and
        // tmpfs since 6.6): the test must exercise the direct path.
        assert!(device.direct.is_some(), "no direct read handle");
        for round in 0..3u8 {
            let data: Vec<u8> = (0..2 * SECTOR)
                .map(|index| u8::try_from(index % 251).unwrap() ^ round)
                .collect();
            // Whole sectors, then part of one (read-modify-write).
            device.write(SECTOR as u64, &data).unwrap();
            device.write(SECTOR as u64 + 100, b"partial").unwrap();
            let mut expected = data.clone();
            expected[100..107].copy_from_slice(b"partial");

            let mut buffer = None;
            let sectors = aligned_part(&mut buffer, 2 * SECTOR).unwrap();
            device.read_sectors(SECTOR as u64, sectors).unwrap();
            assert!(
                sectors == expected.as_slice(),
                "round {round}: read back differs"
            );
        }
    }

    /// Whether the image's page cache holds the byte at `position`: a read
    /// that may not wait for the disk (`RWF_NOWAIT`) finds it.
    fn cached(image: &File, position: u64) -> bool {
        let mut byte = [0u8; 1];
        let read = rustix::io::preadv2(
            image,
            &mut [std::io::IoSliceMut::new(&mut byte)],
            position,
            rustix::io::ReadWriteFlags::NOWAIT,
        );
        matches!(read, Ok(1))
    }

    #[test]
    fn written_ciphertext_leaves_the_image_page_cache_a_few_writes_later() {
        // On a disk filesystem: tmpfs pages are the storage and never drop.
        let dir = tempfile::tempdir_in("/var/tmp").unwrap();
        let device = block_file(dir.path());
        assert!(device.direct.is_some(), "no direct read handle");
        let chunk = 16 * SECTOR;
        let data = vec![0x5a; chunk];
        // The writes lie 2 MiB apart, the largest folio the host's page
        // cache uses: with large folios (ext4 since Linux 6.16) adjacent
        // writes could share one with the first, which cannot be dropped
        // while a part of it is dirty.
        let stride = 2 << 20;
        let writes = WRITES_LEFT_CACHED + 1;
        // The kernel may refuse to drop a clean range for a moment (on
        // Linux 6.18 ext4 kept a range just written and fdatasync'ed in
        // 1 to 25 of 30 tries, in a plain loop of write, fdatasync and
        // fadvise), and the engine asks only once, so the drop counts if
        // it happens in any of several rounds; an engine that never asks
        // fails every round.
        let rounds = 10;
        let dropped = (0..rounds).any(|round| {
            WRITTEN.with_borrow_mut(VecDeque::clear);
            let first = round * writes;
            let position = |index: usize| device.data_offset + (index * stride) as u64;
            device.write((first * stride) as u64, &data).unwrap();
            device.sync().unwrap();
            assert!(
                cached(&device.image, position(first)),
                "the first write is not cached"
            );
            for index in first + 1..first + writes {
                device.write((index * stride) as u64, &data).unwrap();
            }
            assert!(
                cached(&device.image, position(first + writes - 1)),
                "the latest write is not cached"
            );
            let sectors = read(&device, (first * stride) as u64, chunk as u32);
            assert!(sectors == data, "the dropped range reads back differently");
            // The read above was direct: it brought nothing into the cache.
            !cached(&device.image, position(first))
        });
        assert!(
            dropped,
            "the first write, clean, was still cached {WRITES_LEFT_CACHED} writes later in each of {rounds} rounds"
        );
    }

    #[test]
    fn large_writes_go_around_the_image_page_cache_and_stay_coherent_with_small_ones() {
        // On a disk filesystem: tmpfs pages are the storage and never drop.
        let dir = tempfile::tempdir_in("/var/tmp").unwrap();
        let device = block_file(dir.path());
        assert!(device.direct.is_some(), "no direct handle");
        let len = DIRECT_WRITE_MIN;
        let position = |offset: usize| device.data_offset + offset as u64;
        let first: Vec<u8> = (0..len).map(|i| u8::try_from(i % 241).unwrap()).collect();
        // The kernel may turn one direct write into a buffered one (ext4
        // on Linux 6.18 did so now and then on this machine, under load),
        // so the write counts as direct if any of several, each to a range
        // of its own, left nothing in the cache; an engine that never
        // writes directly fails every round.
        let rounds = 10;
        let bypassed = (1..=rounds).any(|round| {
            let start = round * (2 << 20);
            device.write(start as u64, &first).unwrap();
            [0, len / 2, len - 1]
                .iter()
                .all(|offset| !cached(&device.image, position(start + offset)))
        });
        assert!(
            bypassed,
            "each of {rounds} writes of {len} bytes left a part in the image's page cache"
        );
        device.write(0, &first).unwrap();

        // A small write goes through the page cache and stays dirty there...
        let small = vec![0xa5; SECTOR];
        device.write(3 * SECTOR as u64, &small).unwrap();
        assert!(
            cached(&device.image, position(3 * SECTOR)),
            "a small write bypassed the page cache"
        );
        // ...until a large write over it: the disk and the cache then agree on
        // the large one.
        let second: Vec<u8> = (0..len)
            .map(|i| u8::try_from(i % 239).unwrap() ^ 0xff)
            .collect();
        device.write(0, &second).unwrap();
        let sectors = read(&device, 0, len as u32);
        assert!(
            sectors == second,
            "a direct read differs from the last write"
        );
        let mut through_cache = vec![0u8; len];
        device
            .image
            .read_exact_at(&mut through_cache, position(0))
            .unwrap();
        device.cipher.decrypt(0, &mut through_cache).unwrap();
        assert!(
            through_cache == second,
            "the image's page cache kept a stale sector"
        );

        // A small write over the large one, then the whole range read back.
        device.write(5 * SECTOR as u64, &small).unwrap();
        let mut expected = second.clone();
        expected[5 * SECTOR..6 * SECTOR].copy_from_slice(&small);
        device.sync().unwrap();
        assert!(
            read(&device, 0, len as u32) == expected,
            "read back after a small write differs"
        );
    }

    #[test]
    fn writes_over_sectors_under_writeback_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let device = block_file(dir.path());
        let len = 64 * SECTOR;
        let mut model: Vec<u8> = (0..len)
            .map(|index| u8::try_from(index % 249).unwrap())
            .collect();
        // Each write starts its writeback at once; the next ones land on
        // pages that may still be on their way to the disk.
        device.write(0, &model).unwrap();
        device.write(8 * SECTOR as u64 + 5, b"partial").unwrap();
        model[8 * SECTOR + 5..8 * SECTOR + 12].copy_from_slice(b"partial");
        device
            .write(16 * SECTOR as u64, &[0x7e; 4 * SECTOR])
            .unwrap();
        model[16 * SECTOR..20 * SECTOR].fill(0x7e);
        let mut buffer = None;
        let sectors = aligned_part(&mut buffer, len).unwrap();
        device.read_sectors(0, sectors).unwrap();
        assert!(sectors == model.as_slice(), "read back differs");
        device.sync().unwrap();
        device.read_sectors(0, sectors).unwrap();
        assert!(sectors == model.as_slice(), "read back after sync differs");
    }
}
