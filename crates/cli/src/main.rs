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
    // `cryptainer volume-engine ...`, the per-volume engine process the agent
    // starts (not for people: the key arrives on standard input), goes to its
    // one entry point before anything else runs, so that the first thing it
    // does is close the descriptors it inherited.
    let mut arguments = std::env::args_os();
    if arguments.nth(1).as_deref() == Some(std::ffi::OsStr::new(volume::engine::SUBCOMMAND)) {
        return commands::volume_engine::run(arguments);
    }
    // clap exits with code 2 on a usage error and 0 for --help and --version.
    let cli = args::Cli::parse();
    if let Err(error) = logging::init(cli.global.log_format) {
        return failure::report(&error);
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
