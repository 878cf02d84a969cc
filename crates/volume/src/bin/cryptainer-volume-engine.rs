//! The per-volume engine process: serves one volume's decrypted block device
//! through FUSE and a loop device. Started by the control API
//! (`volume::Unlocked::mount`), never by hand: the key arrives on standard
//! input and the one-line report leaves on standard output.

use clap::Parser;

/// Serves one encrypted volume; reads its 64-byte key from standard input.
#[derive(Parser)]
#[command(name = "cryptainer-volume-engine", version)]
struct Cli {
    #[command(flatten)]
    engine: volume::engine::EngineArgs,
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    // Before anything is opened (the subscriber writes to standard error).
    volume::engine::close_inherited_descriptors();
    let cli = Cli::parse();
    let result = volume::engine::run(&cli.engine, |key_bytes| {
        let key = luks::VolumeKey::from_bytes(key_bytes)
            .map_err(|error| volume::VolumeError::Cipher(Box::new(error)))?;
        luks::SectorCipher::new(&key, volume::engine::SECTOR_SIZE as usize)
            .map_err(|error| volume::VolumeError::Cipher(Box::new(error)))
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %volume::engine::chain(&error), "engine stopped");
            std::process::ExitCode::FAILURE
        }
    }
}
