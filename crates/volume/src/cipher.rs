//! The sector cipher the block engine encrypts with, as a small trait so the
//! engine's I/O code does not depend on how the cipher is built.

use crate::VolumeError;

/// Encrypts and decrypts whole sectors, in place or (encryption) from one
/// buffer into another.
///
/// `first_sector` counts sectors of [`sector_size`](BlockCipher::sector_size)
/// bytes from the start of the data segment, and the buffer length is a
/// multiple of the sector size. Implementations are shared by every worker
/// thread, so they hold no per-call state.
pub trait BlockCipher: Send + Sync + 'static {
    /// The sector size in bytes.
    fn sector_size(&self) -> usize;
    /// Encrypts `data`, whose first sector is `first_sector`.
    fn encrypt(&self, first_sector: u64, data: &mut [u8]) -> Result<(), VolumeError>;
    /// Decrypts `data`, whose first sector is `first_sector`.
    fn decrypt(&self, first_sector: u64, data: &mut [u8]) -> Result<(), VolumeError>;
    /// Encrypts `plaintext`, whose first sector is `first_sector`, into
    /// `ciphertext` of the same length, without a copy first.
    fn encrypt_to(
        &self,
        first_sector: u64,
        plaintext: &[u8],
        ciphertext: &mut [u8],
    ) -> Result<(), VolumeError>;
}

impl BlockCipher for luks::SectorCipher {
    fn sector_size(&self) -> usize {
        luks::SectorCipher::sector_size(self)
    }

    fn encrypt(&self, first_sector: u64, data: &mut [u8]) -> Result<(), VolumeError> {
        self.encrypt_sectors(first_sector, data)
            .map_err(|error| VolumeError::Cipher(Box::new(error)))
    }

    fn decrypt(&self, first_sector: u64, data: &mut [u8]) -> Result<(), VolumeError> {
        self.decrypt_sectors(first_sector, data)
            .map_err(|error| VolumeError::Cipher(Box::new(error)))
    }

    fn encrypt_to(
        &self,
        first_sector: u64,
        plaintext: &[u8],
        ciphertext: &mut [u8],
    ) -> Result<(), VolumeError> {
        self.encrypt_sectors_to(first_sector, plaintext, ciphertext)
            .map_err(|error| VolumeError::Cipher(Box::new(error)))
    }
}
