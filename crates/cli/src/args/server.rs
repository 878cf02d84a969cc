//! `cryptainer server`: the flags of the server process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args};

use crate::duration::parse_duration;

/// `cryptainer server`.
#[derive(Debug, Args)]
#[command(
    group(ArgGroup::new("mode").required(true).args(["dev", "config"]))
)]
pub struct ServerArgs {
    /// Development mode: auto-initialize, auto-unseal, write <data-dir>/dev.env.
    /// Never in production.
    #[arg(long)]
    pub dev: bool,

    /// TOML configuration file of a production server.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address to listen on [default: 127.0.0.1:8200, or listen_addr of --config].
    /// Port 0 picks a free port; dev.env names the one chosen.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Data directory: database, TLS material, dev.env [default: ./cryptainer-dev
    /// with --dev, or data_dir of --config].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Lifetime of node certificates, e.g. 24h [default: 24h, or nodes.cert_lifetime_secs
    /// of --config]. Under 1h is for tests only; at least 10s.
    #[arg(
        long,
        env = "CRYPTAINER_NODE_CERT_LIFETIME",
        value_parser = parse_duration,
        value_name = "DURATION"
    )]
    pub node_cert_lifetime: Option<Duration>,
    /// After `ca rotate`, how many nodes are told to renew per batch [default:
    /// 100, or nodes.reissue_batch of --config].
    #[arg(long, value_name = "N")]
    pub reissue_batch: Option<u32>,
    /// How long one re-issue batch lasts, e.g. 10s [default: 10s, or
    /// nodes.reissue_interval_secs of --config].
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub reissue_interval: Option<Duration>,
    /// Address of the KMIP listener (mutual TLS) [default: 127.0.0.1:5696 with
    /// --dev, or kmip_listen of --config]. Port 0 picks a free port; dev.env
    /// names the one chosen.
    #[arg(long, value_name = "ADDR")]
    pub kmip_listen: Option<SocketAddr>,

    /// Where the key store and audit log live: `sqlite` (files in the data
    /// directory) or a PostgreSQL URL that several servers share, e.g.
    /// postgres://cryptainer@db1/cryptainer?sslmode=verify-full&sslrootcert=/etc/db-ca.pem
    /// [default: sqlite, or storage of --config]. From the environment, the
    /// URL (and its password) stays out of the process list.
    #[arg(
        long,
        env = "CRYPTAINER_STORAGE",
        value_name = "URL",
        hide_env_values = true
    )]
    pub storage: Option<String>,
}
