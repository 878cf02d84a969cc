//! The `cryptainer` binary: parses the command line, then runs the server
//! (`cryptainer server`) or talks to one over its HTTPS API. Libraries do the work;
//! this crate only parses, calls and prints.
#![forbid(unsafe_code)]

mod args;
mod client;
mod commands;
mod duration;
mod failure;
mod kmip;
mod labels;
mod logging;
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
