//! [`WipedBuffer`]: where a client reads an answer, which may carry a secret.
//! It is wiped when dropped, and it never grows in place, so no partial copy
//! of an answer stays behind in memory the allocator took back.

use zeroize::Zeroizing;

/// Bytes wiped when dropped, and when moved to a larger buffer.
pub struct WipedBuffer {
    bytes: Zeroizing<Vec<u8>>,
}

impl WipedBuffer {
    /// An empty buffer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> WipedBuffer {
        WipedBuffer {
            bytes: Zeroizing::new(Vec::with_capacity(capacity)),
        }
    }

    /// Appends `data`. When it does not fit, the contents move to a new
    /// buffer twice as large (or as large as needed) and the old one is wiped.
    pub fn extend_from_slice(&mut self, data: &[u8]) {
        let needed = self.bytes.len().saturating_add(data.len());
        if needed > self.bytes.capacity() {
            let capacity = needed.max(self.bytes.capacity().saturating_mul(2));
            let mut grown = Zeroizing::new(Vec::with_capacity(capacity));
            grown.extend_from_slice(&self.bytes);
            // The old buffer is wiped as it is dropped here.
            self.bytes = grown;
        }
        self.bytes.extend_from_slice(data);
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes
    }

    /// How many bytes it holds.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

#[cfg(feature = "client")]
/// Wipes a chunk the HTTP stack handed over, when nothing else shares its
/// memory any more; memory the stack still shares is its own to reuse.
pub(crate) fn wipe_if_unshared(chunk: bytes::Bytes) {
    use zeroize::Zeroize as _;
    if let Ok(mut owned) = chunk.try_into_mut() {
        owned.as_mut().zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{Marker, Probe};

    #[test]
    fn growing_keeps_the_bytes_in_order() {
        let mut buffer = WipedBuffer::with_capacity(2);
        for piece in [&b"ab"[..], b"cde", b"", b"fghijklmnop"] {
            buffer.extend_from_slice(piece);
        }
        assert_eq!(buffer.as_slice(), b"abcdefghijklmnop");
        assert_eq!(buffer.len(), 16);
        assert!(!buffer.is_empty());
    }

    #[test]
    fn a_growth_leaves_no_copy_of_what_it_held() {
        let marker = Marker::new(b'G');
        let probe = Probe::open();
        let mut buffer = WipedBuffer::with_capacity(marker.bytes().len());
        buffer.extend_from_slice(marker.bytes());
        let old = buffer.as_slice().as_ptr().addr();
        buffer.extend_from_slice(b"more");
        assert_ne!(buffer.as_slice().as_ptr().addr(), old, "the buffer moved");
        assert!(
            !probe.holds(old, marker.bytes()),
            "the old buffer was not wiped"
        );
        let new = buffer.as_slice().as_ptr().addr();
        drop(buffer);
        assert!(
            !probe.holds(new, marker.bytes()),
            "the buffer was not wiped"
        );
    }

    /// The check above means something only if memory freed without wiping
    /// still shows what it held: on an allocator that clears freed memory
    /// itself, the wipe tests would pass without any wipe.
    #[test]
    fn the_probe_sees_what_an_unwiped_buffer_left_behind() {
        let marker = Marker::new(b'U');
        let probe = Probe::open();
        let unwiped = marker.bytes().to_vec();
        let address = unwiped.as_ptr().addr();
        drop(unwiped);
        assert!(probe.holds(address, marker.bytes()));
    }
}
