//! `cryptainer server`: builds the server's configuration from the flags and runs
//! the `server` library until SIGINT or SIGTERM.

use std::path::PathBuf;

use ::server::ServerConfig;

use crate::args::ServerArgs;
use crate::failure::{Exit, Failure};

/// Data directory of `--dev` without `--data-dir`, relative to the working
/// directory.
const DEFAULT_DEV_DATA_DIR: &str = "cryptainer-dev";

/// The configuration the flags describe: `--dev` defaults or the `--config` file,
/// then `--listen` and `--data-dir` on top.
pub fn config(args: &ServerArgs) -> anyhow::Result<ServerConfig> {
    let mut config = match &args.config {
        Some(path) => ServerConfig::from_file(path).map_err(|error| {
            let hint = format!(
                "fix {} (keys: listen_addr, data_dir, dev, max_body_bytes, mlock, \
                 require_mlock, kmip_listen, storage, seal_retry_max_secs, \
                 seal_check_interval_secs, [tls] cert_file key_file ca_file extra_names, [audit] \
                 checkpoint_every_records checkpoint_every_secs, [nodes] cert_lifetime_secs \
                 reissue_batch reissue_interval_secs, [seal] and [previous_seal] as in \
                 docs/seals.md)",
                path.display()
            );
            anyhow::Error::new(error)
                .context(Failure::usage("the server configuration was refused", hint))
        })?,
        None => ServerConfig::dev(
            args.data_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DEV_DATA_DIR)),
        ),
    };
    if args.dev {
        config.dev = true;
    }
    if let Some(listen) = args.listen {
        config.listen_addr = listen;
    }
    if let Some(data_dir) = &args.data_dir {
        config.data_dir.clone_from(data_dir);
    }
    if let Some(lifetime) = args.node_cert_lifetime {
        config.nodes.cert_lifetime_secs = lifetime.as_secs();
    }
    if let Some(batch) = args.reissue_batch {
        config.nodes.reissue_batch = batch;
    }
    if let Some(interval) = args.reissue_interval {
        config.nodes.reissue_interval_secs = interval.as_secs();
    }
    if let Some(kmip_listen) = args.kmip_listen {
        config.kmip_listen = Some(kmip_listen);
    }
    if let Some(storage) = &args.storage {
        config.storage = server::config::Storage::parse(storage).map_err(|message| {
            anyhow::Error::msg(message.clone()).context(Failure::usage(
                "the storage setting was refused",
                "give --storage sqlite, or a postgres:// URL",
            ))
        })?;
    }
    Ok(config)
}

/// Runs the server.
pub async fn run(args: &ServerArgs) -> anyhow::Result<()> {
    let config = config(args)?;
    let listen = config.listen_addr;
    let data_dir = config.data_dir.clone();
    ::server::run(config).await.map_err(|error| {
        let failure = match &error {
            ::server::Error::Config { .. } | ::server::Error::InvalidConfig(_) => Failure::usage(
                "the server configuration was refused",
                "fix the value the message names (see `cryptainer server --help`)",
            ),
            ::server::Error::Bind { .. } => Failure::new(
                Exit::Failed,
                format!("the server cannot listen on {listen}"),
                "another process listens there (another server?); stop it, or choose another \
                 address with --listen (port 0 picks a free one)",
            ),
            _ => Failure::new(
                Exit::Failed,
                "the server stopped",
                format!(
                    "check that {} is writable by this user and not used by another server, and \
                     the log above",
                    data_dir.display()
                ),
            ),
        };
        anyhow::Error::new(error).context(failure)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(
        dev: bool,
        config: Option<&str>,
        listen: Option<&str>,
        data_dir: Option<&str>,
    ) -> ServerArgs {
        ServerArgs {
            dev,
            config: config.map(PathBuf::from),
            listen: listen.and_then(|text| text.parse().ok()),
            data_dir: data_dir.map(PathBuf::from),
            node_cert_lifetime: None,
            reissue_batch: None,
            reissue_interval: None,
            kmip_listen: None,
            storage: None,
        }
    }

    #[test]
    fn dev_defaults_to_a_directory_in_the_working_directory() {
        let config = config(&args(true, None, None, None));
        assert!(matches!(&config, Ok(config) if config.dev
            && config.data_dir == std::path::Path::new("cryptainer-dev")
            && config.listen_addr.to_string() == "127.0.0.1:8200"));
    }

    #[test]
    fn flags_override_the_defaults() {
        let config = config(&args(true, None, Some("127.0.0.1:0"), Some("elsewhere")));
        assert!(matches!(&config, Ok(config)
            if config.data_dir == std::path::Path::new("elsewhere")
            && config.listen_addr.port() == 0));
    }

    #[test]
    fn flags_override_the_config_file() {
        let dir = tempfile::tempdir().ok();
        let Some(dir) = dir else { return };
        let file = dir.path().join("server.toml");
        let written = std::fs::write(
            &file,
            "listen_addr = \"127.0.0.1:9000\"\ndata_dir = \"from-file\"\n",
        );
        assert!(written.is_ok());
        let path = file.to_string_lossy().into_owned();
        let config = config(&args(false, Some(&path), Some("127.0.0.1:9100"), None));
        assert!(matches!(&config, Ok(config)
            if !config.dev
            && config.data_dir == std::path::Path::new("from-file")
            && config.listen_addr.port() == 9100));
    }

    #[test]
    fn a_bad_config_file_is_a_usage_error() {
        let config = config(&args(false, Some("no-such-file.toml"), None, None));
        let exit = config
            .err()
            .and_then(|error| error.downcast_ref::<Failure>().map(|failure| failure.exit));
        assert_eq!(exit, Some(Exit::Usage));
    }
}
