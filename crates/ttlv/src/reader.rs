//! A cursor over bytes that cannot read past the length it was given.

use crate::{Error, Location};

/// Reads big-endian fields from a byte slice, never past its end.
///
/// A structure's children are read through [`Reader::sub`], a reader over exactly
/// the structure's declared length: a child that claims more bytes than its parent
/// has fails there, with an error naming the structure, instead of reading into
/// whatever follows. Positions are absolute offsets into the original input.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    /// Absolute offset of `bytes[0]` in the original input.
    base: usize,
    /// Offset of the next unread byte, relative to `bytes`.
    cursor: usize,
    /// The enclosing structure, if this reader was made by [`Reader::sub`]:
    /// (absolute offset of its header, declared length).
    structure: Option<(usize, u32)>,
}

impl<'a> Reader<'a> {
    /// A reader over the whole input.
    #[must_use]
    pub const fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader {
            bytes,
            base: 0,
            cursor: 0,
            structure: None,
        }
    }

    /// Absolute offset of the next unread byte.
    #[must_use]
    pub fn position(&self) -> usize {
        self.base.saturating_add(self.cursor)
    }

    /// How many bytes are left.
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.cursor)
    }

    /// Whether every byte has been read.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The error for wanting `needed` bytes when fewer are left.
    fn short(&self, needed: usize) -> Error {
        let at = Location::Byte(self.position());
        let available = self.remaining();
        match self.structure {
            Some((structure_at, declared)) => Error::StructureLengthMismatch {
                at,
                structure_at,
                declared,
                needed,
                available,
            },
            None => Error::Truncated {
                at,
                needed,
                available,
            },
        }
    }

    /// Takes the next `count` bytes.
    pub fn take(&mut self, count: usize) -> Result<&'a [u8], Error> {
        let end = self
            .cursor
            .checked_add(count)
            .ok_or_else(|| self.short(count))?;
        let taken = self
            .bytes
            .get(self.cursor..end)
            .ok_or_else(|| self.short(count))?;
        self.cursor = end;
        Ok(taken)
    }

    /// Takes the next `N` bytes as an array.
    pub fn take_array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let taken = self.take(N)?;
        let mut array = [0; N];
        array.copy_from_slice(taken);
        Ok(array)
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, Error> {
        let [byte] = self.take_array::<1>()?;
        Ok(byte)
    }

    /// Reads a big-endian `u32`.
    pub fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(self.take_array()?))
    }

    /// Reads a big-endian `u64`.
    pub fn u64(&mut self) -> Result<u64, Error> {
        Ok(u64::from_be_bytes(self.take_array()?))
    }

    /// A reader over the next `length` bytes, which this reader skips.
    ///
    /// `structure_at` is where the structure's header starts; errors inside the
    /// new reader name it. Fails if fewer than `length` bytes are left.
    pub fn sub(&mut self, length: u32, structure_at: usize) -> Result<Reader<'a>, Error> {
        let count = usize::try_from(length).map_err(|_| self.short(usize::MAX))?;
        let base = self.position();
        let bytes = self.take(count)?;
        Ok(Reader {
            bytes,
            base,
            cursor: 0,
            structure: Some((structure_at, length)),
        })
    }
}
