//! Request buffers backed by transparent huge pages where the kernel offers
//! them.
//!
//! A worker reads ciphertext with `O_DIRECT` straight into its buffer. A
//! direct read's bio gets one segment per physically contiguous run of the
//! buffer: with 4 KiB pages a 1 MiB read is 256 segments, more than a
//! virtio disk takes in one request (`max_segments` 254 on the benchmark
//! machine), so the block layer splits it, and the host handles each page
//! as a separate piece. In a 2 MiB huge page the same read is one segment.
//! Measured with a small reader of 1 MiB direct reads of a volume image on
//! the 2-core benchmark machine: 1.4 GB/s from 4 KiB pages, 3.5 GB/s from a
//! huge page (two and eight threads alike).
//!
//! The mapping is made inaccessible first, advised (`MADV_HUGEPAGE`), and
//! only then made readable and writable. The engine runs under
//! `mlockall(MCL_FUTURE | MCL_ONFAULT)`, which locks pages as they are
//! first touched; without `MCL_ONFAULT` (the engine's fallback for kernels
//! that lack it) `MCL_FUTURE` fills a new mapping as soon as it exists, and
//! an accessible mapping would get its 4 KiB pages before the advice. An
//! inaccessible one is not filled; `mprotect` fills the locked mapping after
//! the advice, with huge pages. Where the kernel has no huge page to give
//! (THP disabled, memory fragmented), the buffer has ordinary pages and
//! works the same, only slower.

use std::ffi::c_void;
use std::ptr::NonNull;

use rustix::mm::{Advice, MapFlags, MprotectFlags, ProtFlags};

/// The size and alignment of a transparent huge page on x86-64 and of the
/// usual arm64 configuration.
pub const HUGE_PAGE: usize = 2 << 20;

/// One worker's request buffer: `len` bytes, zero-filled at first, starting
/// on a [`HUGE_PAGE`] boundary.
pub struct RequestBuffer {
    start: NonNull<u8>,
    len: usize,
}

impl RequestBuffer {
    /// Maps a buffer of at least `len` bytes (rounded up to whole huge
    /// pages), aligned to [`HUGE_PAGE`].
    pub fn new(len: usize) -> std::io::Result<Self> {
        let len = len.max(1).div_ceil(HUGE_PAGE) * HUGE_PAGE;
        let reserve = len + HUGE_PAGE;
        // SAFETY: a new anonymous mapping at an address the kernel picks
        // touches no existing memory.
        let raw = unsafe {
            rustix::mm::mmap_anonymous(
                std::ptr::null_mut(),
                reserve,
                ProtFlags::empty(),
                MapFlags::PRIVATE,
            )
        }?;
        let skip = raw.cast::<u8>().align_offset(HUGE_PAGE);
        let start = raw.cast::<u8>().wrapping_add(skip);
        // Give back what lies before and after the aligned part.
        let tail = reserve - skip - len;
        // SAFETY: `[raw, raw + skip)` and `[start + len, start + len + tail)`
        // lie inside the mapping made above, are page-aligned (the mapping
        // and the huge-page boundary both are), and nothing refers to them.
        unsafe {
            if skip > 0 {
                rustix::mm::munmap(raw, skip)?;
            }
            if tail > 0 {
                rustix::mm::munmap(start.wrapping_add(len).cast::<c_void>(), tail)?;
            }
        }
        let buffer = Self {
            start: NonNull::new(start).ok_or(std::io::ErrorKind::OutOfMemory)?,
            len,
        };
        // SAFETY: `[start, start + len)` is this buffer's own mapping, not
        // yet accessible, so no reference into it exists.
        unsafe {
            let start = buffer.start.as_ptr().cast::<c_void>();
            // Advice is a hint: a kernel without THP refuses it (EINVAL) and
            // the buffer keeps ordinary pages.
            if let Err(error) = rustix::mm::madvise(start, len, Advice::LinuxHugepage) {
                tracing::debug!(%error, "no huge pages for the request buffer");
            }
            rustix::mm::mprotect(start, len, MprotectFlags::READ | MprotectFlags::WRITE)?;
        }
        Ok(buffer)
    }

    /// The buffer's length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer has no bytes (never: it has at least one huge page).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first `len` bytes, or `None` when the buffer is shorter.
    pub fn part(&mut self, len: usize) -> Option<&mut [u8]> {
        if len > self.len {
            return None;
        }
        // SAFETY: `[start, start + len)` lies in this buffer's readable and
        // writable mapping, initialised (anonymous memory reads as zeros), and
        // `&mut self` makes this the only reference into it while it lives.
        Some(unsafe { std::slice::from_raw_parts_mut(self.start.as_ptr(), len) })
    }
}

impl Drop for RequestBuffer {
    fn drop(&mut self) {
        // SAFETY: the mapping is this buffer's own, and no reference into it
        // outlives `&mut self`.
        let _ = unsafe { rustix::mm::munmap(self.start.as_ptr().cast::<c_void>(), self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `AnonHugePages` of the mapping that contains `address`, in KiB,
    /// from `/proc/self/smaps`.
    fn anon_huge_kib(address: usize) -> u64 {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        for line in smaps.lines() {
            // A mapping's first line starts with its address range, `low-high`.
            let range = line
                .split_once(' ')
                .and_then(|(range, _)| range.split_once('-'));
            let bounds = range.and_then(|(low, high)| {
                Some((
                    usize::from_str_radix(low, 16).ok()?,
                    usize::from_str_radix(high, 16).ok()?,
                ))
            });
            if let Some((low, high)) = bounds {
                inside = (low..high).contains(&address);
            } else if let Some(value) = line.strip_prefix("AnonHugePages:").filter(|_| inside) {
                return value.trim().trim_end_matches("kB").trim().parse().unwrap();
            }
        }
        panic!("no mapping holds {address:#x}");
    }

    #[test]
    fn buffers_are_aligned_whole_huge_pages_and_writable() {
        for wanted in [1, 4096, (1 << 20) + 8192, HUGE_PAGE + 1] {
            let mut buffer = RequestBuffer::new(wanted).unwrap();
            assert!(buffer.len() >= wanted && buffer.len() % HUGE_PAGE == 0);
            assert!(buffer.part(buffer.len() + 1).is_none());
            let len = buffer.len();
            let part = buffer.part(len).unwrap();
            assert_eq!(part.as_ptr().align_offset(HUGE_PAGE), 0);
            assert!(part.iter().all(|&byte| byte == 0));
            part.fill(0xa5);
            assert!(buffer.part(len).unwrap().iter().all(|&byte| byte == 0xa5));
        }
    }

    #[test]
    fn buffers_get_huge_pages_when_the_kernel_allows_them() {
        let mode = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
            .unwrap_or_default();
        let mut buffer = RequestBuffer::new(1 << 20).unwrap();
        let len = buffer.len();
        let part = buffer.part(len).unwrap();
        part.fill(1);
        let address = part.as_ptr() as usize;
        let huge = anon_huge_kib(address);
        if mode.contains("[never]") || mode.is_empty() {
            // Nothing to check beyond the buffer working (above).
            eprintln!("transparent huge pages are off here: {mode:?}");
            return;
        }
        // A fragmented machine may not have a free huge page at this moment;
        // with THP on, compaction for an advised mapping (the default `defrag`
        // is `madvise`) nearly always finds one.
        assert_eq!(
            huge,
            u64::try_from(len / 1024).unwrap(),
            "THP is {mode:?} but the buffer has {huge} KiB in huge pages"
        );
    }
}
