//! The `cryptainer` binary: parses the command line, then runs the server
//! (`cryptainer server`) or talks to one over its HTTPS API. Libraries do the work;
//! this crate only parses, calls and prints.
#![forbid(unsafe_code)]

mod agent;
mod args;
mod ca;
mod client;
mod commands;
mod duration;
mod failure;
mod kmip;
mod labels;
mod logging;
mod node;
mod policy_cmd;
mod prompt;
mod server_cmd;
mod table;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    // clap exits with code 2 on a usage error and 0 for --help and --version.
    let cli = args::Cli::parse();
    if let Err(error) = logging::init(cli.global.log_format) {
        return failure::report(&error);
    }
    if let args::Command::VolumeEngine(engine) = &cli.command {
        return volume_engine(engine);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            return failure::report(
                &anyhow::Error::new(error).context("cannot start the async runtime"),
            );
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => failure::report(&error),
    }
}

/// `cryptainer volume-engine`: serves one volume's decrypted block device until
/// it is unmounted. Blocking, outside the async runtime.
fn volume_engine(engine: &volume::engine::EngineArgs) -> ExitCode {
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
