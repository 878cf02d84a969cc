//! Log output on standard error, filtered by `CRYPTAINER_LOG` (default `info`).

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

use crate::args::LogFormat;
use crate::failure::Failure;

/// The environment variable with the log filter.
const FILTER_VARIABLE: &str = "CRYPTAINER_LOG";

/// Installs the global subscriber.
pub fn init(format: LogFormat) -> anyhow::Result<()> {
    let filter = match std::env::var(FILTER_VARIABLE) {
        Ok(text) if !text.trim().is_empty() => EnvFilter::try_new(&text).map_err(|error| {
            anyhow::Error::new(error).context(Failure::usage(
                format!("{FILTER_VARIABLE}='{text}' is not a valid log filter"),
                format!(
                    "use a level (error, warn, info, debug, trace) or per-crate levels such as \
                     server=debug,info; unset {FILTER_VARIABLE} for the default, info"
                ),
            ))
        })?,
        // The TPM library logs every context it opens and closes at info
        // level; the seal opens one per health check.
        _ => EnvFilter::new("info,tss_esapi=warn"),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    installed.map_err(|error| anyhow::anyhow!("cannot set up logging: {error}"))
}
