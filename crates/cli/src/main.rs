//! The `cryptainer` binary: parses the command line and dispatches to
//! `commands`, which runs the server (`cryptainer server`), the agent, a
//! volume's engine, or talks to a server over its HTTPS API. Libraries do the
//! work; this crate only parses, calls and prints.
#![forbid(unsafe_code)]

mod args;
mod client;
mod commands;
mod duration;
mod failure;
mod labels;
mod logging;
mod prompt;
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
        return commands::volume_engine::run(engine);
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
