//! `cryptainer agent ...`: joining a server and running the node agent.

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;

use crate::duration::parse_duration;

/// Where the agent keeps its identity unless told otherwise.
const DEFAULT_DATA_DIR: &str = "/var/lib/cryptainer-agent";

/// `cryptainer agent ...`.
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Join a server with a join token, once per host.
    #[command(
        long_about = "Join a server with a join token, once per host. The agent fetches the \
        server's CA bundle, checks it against the SHA-256 in the token before it trusts or \
        sends anything, makes its key pair locally (the private key never leaves the host; \
        node.key, mode 0600), and trades a certificate request and the token for a node \
        certificate."
    )]
    Join {
        /// A server, HOST:PORT; repeat it for each server of a cluster (they
        /// are tried in order, and `agent run` moves to the next when one
        /// cannot answer).
        #[arg(long = "server", value_name = "HOST:PORT", required = true)]
        servers: Vec<String>,
        /// The join token, CPTJ-1-... Prefer the environment variable: a flag is
        /// visible to other users in the process list.
        #[arg(
            long,
            env = "CRYPTAINER_JOIN_TOKEN",
            hide_env_values = true,
            value_name = "TOKEN"
        )]
        token: String,
        /// Where the identity files go.
        #[arg(long, default_value = DEFAULT_DATA_DIR, value_name = "DIR")]
        data_dir: PathBuf,
        /// The node name the server shows [default: the host name].
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
    /// Run the agent until SIGINT or SIGTERM: renew the node certificate (new key
    /// each time, between 50% and 80% of its lifetime), report liveness, and
    /// serve Docker's volume plugin (`docker volume create -d cryptainer`:
    /// encrypted volumes, or secret volumes with `--opt type=secrets`) and
    /// Docker Swarm's secret provider (`docker secret create --driver cryptainer`).
    Run {
        /// The data directory `agent join` wrote.
        #[arg(long, default_value = DEFAULT_DATA_DIR, value_name = "DIR")]
        data_dir: PathBuf,
        /// How often to report liveness, e.g. 30s.
        #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "DURATION")]
        heartbeat_interval: Duration,
        /// Docker's plugin socket; its file name is the driver name.
        #[arg(
            long,
            default_value = "/run/docker/plugins/cryptainer.sock",
            value_name = "PATH"
        )]
        plugin_socket: PathBuf,
        /// Directory of the encrypted volume images (may be shared storage)
        /// [default: <data-dir>/volumes].
        #[arg(long, value_name = "DIR")]
        storage_dir: Option<PathBuf>,
        /// Directory of the engines' state and the mount points.
        #[arg(long, default_value = "/run/cryptainer", value_name = "DIR")]
        run_dir: PathBuf,
        /// Size of a volume created without --opt size, e.g. 10G.
        #[arg(long, default_value = "10G", value_parser = super::parse_size, value_name = "SIZE")]
        default_volume_size: u64,
        /// Do not serve Docker's volume plugin: identity only.
        #[arg(long)]
        no_volumes: bool,
        /// The Docker engine's socket. The agent asks the engine which
        /// containers are starting with a volume (their image digests,
        /// services and labels) and tells the key manager, whose policies
        /// decide; when the engine cannot be reached, mounts fail.
        #[arg(long, default_value = agent::DEFAULT_DOCKER_SOCKET, value_name = "PATH")]
        docker_socket: PathBuf,
        /// The lease on a mounted volume asked of the key manager, in
        /// seconds. It is renewed every third of its length; when no renewal
        /// succeeds for three quarters of it (the key manager unreachable),
        /// the volume is fenced before another node may take it: its mount
        /// stops and its containers get I/O errors. Shorter leases move
        /// volumes to another node sooner after a host dies, and fence
        /// sooner in a network partition.
        #[arg(
            long,
            default_value_t = agent::DEFAULT_LEASE_SECS,
            value_parser = clap::value_parser!(u32).range(i64::from(agent::MIN_LEASE_SECS)..=i64::from(agent::MAX_LEASE_SECS)),
            value_name = "SECONDS"
        )]
        lease_seconds: u32,
        /// Which engine serves the volumes mounted from now on: kernel
        /// (dm-crypt on the same LUKS2 image, where device-mapper works), user
        /// (an engine process per volume: FUSE, a loop device) or auto (kernel
        /// where a probe at start finds that it works, else user). The choice
        /// and why are in the log, status.json and `docker volume inspect`;
        /// volumes mounted before a restart keep their engine.
        #[arg(long, default_value = "auto", value_parser = parse_engine, value_name = "auto|kernel|user")]
        engine: volume::EngineChoice,
    },
}

/// An `--engine` value: auto, kernel or user.
fn parse_engine(text: &str) -> Result<volume::EngineChoice, String> {
    text.parse()
        .map_err(|error: volume::VolumeError| error.to_string())
}
