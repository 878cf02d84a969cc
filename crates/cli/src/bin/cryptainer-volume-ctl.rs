//! `cryptainer-volume-ctl`: drives encrypted volumes directly through the
//! `volume` API, without the key manager, for tests, benchmarks and
//! debugging: create, mount (the keyslot secret on standard input),
//! unmount, recover, remove. Its engines are `cryptainer volume-engine`, run from the
//! `cryptainer` binary installed beside it.
#![forbid(unsafe_code)]

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use volume::{EngineConfig, Filesystem, KeyslotSecret, Mounted, VolumeStore};

/// Drives encrypted volumes directly, without the key manager.
#[derive(Parser)]
#[command(name = "cryptainer-volume-ctl", version)]
struct Cli {
    /// The storage directory holding the images.
    #[arg(long)]
    store: PathBuf,
    /// The directory holding the engines' state directories.
    #[arg(long, default_value = volume::volume::DEFAULT_STATE_ROOT)]
    state_root: PathBuf,
    /// The engine a mount uses: kernel (dm-crypt), user (an engine process:
    /// FUSE, a loop device) or auto (kernel where its probe works).
    #[arg(long, default_value = "auto", value_parser = parse_engine, value_name = "auto|kernel|user")]
    engine: volume::EngineChoice,
    #[command(subcommand)]
    command: Action,
}

#[derive(Subcommand)]
enum Action {
    /// Creates a sparse volume of SIZE bytes.
    Create {
        /// The volume's name.
        name: String,
        /// Usable size in bytes (a multiple of 4096).
        size: u64,
    },
    /// Mounts a volume at TARGET; reads the keyslot secret (the LUKS2
    /// passphrase, 1 to 512 bytes) from standard input. A fresh volume gets
    /// its LUKS2 header, opened by that secret, and its filesystem.
    Mount {
        /// The volume's name.
        name: String,
        /// The mount point.
        target: PathBuf,
        /// The filesystem to create on first use.
        #[arg(long, default_value = "ext4")]
        fs: Filesystem,
        /// FUSE worker threads, 1 to 64 (default: four per core, at least
        /// eight, at most 64).
        #[arg(long, value_parser = volume::engine::parse_threads)]
        threads: Option<usize>,
    },
    /// Unmounts a volume and stops its engine.
    Unmount {
        /// The volume's name.
        name: String,
    },
    /// Stops a mounted volume at once, even while it is in use (what the
    /// agent does when it cannot keep a volume's lease): its users get I/O
    /// errors, its key is wiped.
    Fence {
        /// The volume's name.
        name: String,
    },
    /// Lists the mounted volumes whose engines run, cleaning up dead ones.
    Recover,
    /// Deletes a volume's image.
    Remove {
        /// The volume's name.
        name: String,
    },
}

fn parse_engine(text: &str) -> Result<volume::EngineChoice, String> {
    text.parse()
        .map_err(|error: volume::VolumeError| error.to_string())
}

/// The longest keyslot secret read from standard input.
const MAX_SECRET: u64 = 512;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let store = VolumeStore::open(&cli.store)?;
    let engine = EngineConfig::new(&cli.state_root);
    match cli.command {
        Action::Create { name, size } => {
            store.create(&name, size)?;
        }
        Action::Mount {
            name,
            target,
            fs,
            threads,
        } => {
            let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(512));
            std::io::stdin()
                .take(MAX_SECRET + 1)
                .read_to_end(&mut bytes)
                .context("reading the keyslot secret from standard input")?;
            anyhow::ensure!(
                (1..=MAX_SECRET).contains(&u64::try_from(bytes.len())?),
                "give the keyslot secret, 1 to {MAX_SECRET} bytes, on standard input"
            );
            let secret = KeyslotSecret::new(bytes);
            // No key manager here: the token says which tool made the volume.
            let format = volume::FormatOptions {
                label: name.clone(),
                token: volume::CryptainerToken {
                    key_id: "none".to_owned(),
                    server: "cryptainer-volume-ctl".to_owned(),
                },
            };
            let decision = cli.engine.decide(&cli.state_root)?;
            eprintln!("engine: {} ({})", decision.kind, decision.reason);
            let engine = EngineConfig {
                threads,
                kind: decision.kind,
                ..engine
            };
            let mounted = store
                .get(&name)?
                .open_or_format(&secret, &format)?
                .mount(&target, fs, &engine)?;
            println!(
                "{} mounted at {} from {} by the {} engine{} (direct I/O {})",
                mounted.name(),
                mounted.target().display(),
                mounted.device().display(),
                mounted.engine(),
                mounted
                    .engine_pid()
                    .map_or_else(String::new, |pid| format!(" (pid {pid})")),
                mounted.direct_io()
            );
        }
        Action::Unmount { name } => {
            let mounted = Mounted::recover(&store, &engine)?
                .into_iter()
                .find(|mounted| mounted.name() == name)
                .ok_or_else(|| anyhow::anyhow!("volume {name:?} is not mounted"))?;
            mounted.unmount().map_err(|still| still.error)?;
        }
        Action::Fence { name } => {
            let mounted = Mounted::recover(&store, &engine)?
                .into_iter()
                .find(|mounted| mounted.name() == name)
                .ok_or_else(|| anyhow::anyhow!("volume {name:?} is not mounted"))?;
            mounted.fence().map_err(|still| still.error)?;
        }
        Action::Recover => {
            for mounted in Mounted::recover(&store, &engine)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    mounted.name(),
                    mounted.target().display(),
                    mounted.device().display(),
                    mounted.engine(),
                    mounted
                        .engine_pid()
                        .map_or_else(|| "-".to_owned(), |pid| pid.to_string())
                );
            }
        }
        Action::Remove { name } => {
            store.remove(store.get(&name)?)?;
        }
    }
    Ok(())
}
