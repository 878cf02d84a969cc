//! Reading this process's own memory through `/proc/self/mem`, for the tests
//! that check that a buffer which held a secret was wiped before it was freed
//! (here and in the server). Linux only; nothing else uses it.
//!
//! The allocator writes its own bookkeeping over the first bytes of a freed
//! block and may hand the block out again, so a check looks for any run of
//! [`RUN`] bytes still equal to what the buffer held, not for zeros.

use std::fs::File;
use std::os::unix::fs::FileExt as _;

/// Bytes in a row that must still match for memory to count as holding a
/// secret: longer than the allocator's bookkeeping in a freed block, much
/// shorter than the markers.
pub const RUN: usize = 16;

/// Length of a [`Marker`]: small enough for the allocator's heap (a large
/// block would be unmapped when freed, which hides nothing to look for).
pub const MARKER_LEN: usize = 200;

/// A recognisable secret text: printable, no zero byte, no run repeating
/// within [`RUN`] bytes.
pub struct Marker {
    text: String,
}

impl Marker {
    /// A marker whose bytes start with `tag`.
    pub fn new(tag: u8) -> Marker {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let text = std::iter::once(char::from(tag))
            .chain(
                ALPHABET
                    .iter()
                    .cycle()
                    .skip(usize::from(tag) % ALPHABET.len())
                    .take(MARKER_LEN - 1)
                    .map(|byte| char::from(*byte)),
            )
            .collect();
        Marker { text }
    }

    /// The marker as text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The marker's bytes.
    pub fn bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }
}

/// An open `/proc/self/mem` and a buffer to read into, both made before the
/// buffer under test is freed, so that reading allocates nothing that could
/// take the freed block's place.
pub struct Probe {
    file: File,
    buffer: std::cell::RefCell<Vec<u8>>,
}

impl Probe {
    /// Opens this process's memory.
    ///
    /// # Panics
    ///
    /// When `/proc/self/mem` cannot be opened: a test without it cannot check
    /// anything, and must fail rather than pass.
    #[allow(clippy::expect_used)] // Test support: a failure to open fails the test.
    pub fn open() -> Probe {
        Probe {
            file: File::open("/proc/self/mem").expect("open /proc/self/mem"),
            buffer: std::cell::RefCell::new(vec![0; 4096]),
        }
    }

    /// Whether the memory at `address` still holds a run of [`RUN`] bytes of
    /// `expected` at their places. Memory that cannot be read any more (given
    /// back to the system) holds nothing.
    pub fn holds(&self, address: usize, expected: &[u8]) -> bool {
        let mut buffer = self.buffer.borrow_mut();
        let length = expected.len().min(buffer.len());
        let Some(window) = buffer.get_mut(..length) else {
            return false;
        };
        let Ok(offset) = u64::try_from(address) else {
            return false;
        };
        if self.file.read_exact_at(window, offset).is_err() {
            return false;
        }
        let mut run = 0;
        for (found, wanted) in window.iter().zip(expected) {
            run = if found == wanted { run + 1 } else { 0 };
            if run >= RUN {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_finds_what_live_memory_holds_and_not_what_it_does_not() {
        let marker = Marker::new(b'P');
        let probe = Probe::open();
        let live = marker.text().to_owned();
        let address = live.as_ptr().addr();
        assert!(probe.holds(address, marker.bytes()));
        let other = Marker::new(b'Q');
        assert!(!probe.holds(address, other.bytes()));
        drop(live);
    }

    #[test]
    fn markers_are_long_printable_and_distinct() {
        let marker = Marker::new(b'A');
        assert_eq!(marker.bytes().len(), MARKER_LEN);
        assert!(
            marker
                .bytes()
                .iter()
                .all(|byte| byte.is_ascii_alphanumeric())
        );
        assert_ne!(marker.text(), Marker::new(b'B').text());
    }
}
