//! `cryptainer volume-engine`: serves one volume until it is unmounted or
//! fenced. The agent starts it; the secret arrives on standard input. `main`
//! hands it the arguments before clap or the async runtime run, so that the
//! engine's one entry point closes inherited descriptors before anything else.

use std::process::ExitCode;

use crate::args::LogFormat;
use crate::logging;

/// Runs the engine the arguments after `volume-engine` describe.
pub fn run(arguments: impl Iterator<Item = std::ffi::OsString>) -> ExitCode {
    volume::engine::main(arguments, || {
        // Standard error is the engine's log file.
        let _ = logging::init(LogFormat::Text);
    })
}
