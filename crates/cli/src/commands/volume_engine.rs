//! `cryptainer volume-engine`: serves one volume's decrypted block device
//! until it is unmounted. The agent starts it; it reads the volume key from
//! standard input. Blocking, outside the async runtime.

use std::process::ExitCode;

/// Runs the engine `engine` describes.
pub fn run(engine: &volume::engine::EngineArgs) -> ExitCode {
    let result = volume::engine::run(engine, |key_bytes| {
        let key = luks::VolumeKey::from_bytes(key_bytes)
            .map_err(|error| volume::VolumeError::Cipher(Box::new(error)))?;
        luks::SectorCipher::new(&key, volume::engine::SECTOR_SIZE as usize)
            .map_err(|error| volume::VolumeError::Cipher(Box::new(error)))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!(
                "error: the volume engine stopped: {}",
                volume::engine::chain(&error)
            );
            ExitCode::FAILURE
        }
    }
}
