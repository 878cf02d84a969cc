//! The `api` benchmark: starts a server, runs the phases in order, and gathers
//! the figures of the report.
//!
//! Phases: (1) idle memory; (2) gets at the baseline size; (3) durable creates;
//! (4) fill to the full size; (5) memory after the fill; (6) gets at the full
//! size. Both get phases run in the same process against the same server, so
//! their ratio compares like with like.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::client::ApiClient;
use crate::load::{self, Progress, Workload};
use crate::report::{FillFigures, LogFigures, Measurements, Report, StopFigures};
use crate::server::{self, ScratchDir, ServerProcess};

/// How long the server is left alone after startup before its idle memory is
/// read, so that startup work (Argon2id, certificates) has settled.
const IDLE_SETTLE: Duration = Duration::from_secs(1);

/// Time between two progress lines during the fill.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Options of the `api` benchmark.
#[derive(clap::Args, Debug)]
pub struct ApiArgs {
    /// The `cryptainer` binary to start. Default: the `cryptainer` next to this
    /// binary (target/release/cryptainer after `cargo build --release -p cli
    /// -p cryptainer-bench`), else ./target/release/cryptainer.
    #[arg(long, value_name = "PATH")]
    pub server_bin: Option<PathBuf>,

    /// Concurrent clients in the measured phases, each with its own HTTP/1.1
    /// keep-alive connection.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub clients: u16,

    /// Length of each measured phase (e.g. 10s, 500ms, 2m).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,

    /// Load before each measured phase that is not measured, so the server
    /// is in a steady state (0s to skip).
    #[arg(long, default_value = "1s", value_parser = parse_duration_or_zero)]
    pub warmup: Duration,

    /// Keys stored before the last get phase.
    #[arg(long, default_value_t = 1_000_000)]
    pub keys: u64,

    /// Keys stored during the first get phase: the baseline the last get phase
    /// is compared with.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub baseline_keys: u64,

    /// Concurrent clients while filling the store (not measured).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub fill_clients: u16,

    /// Print the report as JSON on stdout instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Keep the server's data directory and log instead of deleting them.
    #[arg(long)]
    pub keep_data: bool,
}

/// Parses `10s`, `500ms`, `2m` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|character: char| !character.is_ascii_digit()) {
        Some(split) => text.split_at(split),
        None => (text, "s"),
    };
    let value: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration; write e.g. 10s, 500ms or 2m"))?;
    let duration = match unit {
        "ms" => Duration::from_millis(value),
        "s" => Duration::from_secs(value),
        "m" => Duration::from_secs(value.saturating_mul(60)),
        _ => return Err(format!("unknown unit in '{text}'; use ms, s or m")),
    };
    if duration.is_zero() {
        return Err("the duration must be more than zero".to_owned());
    }
    Ok(duration)
}

/// Like [`parse_duration`], but zero is allowed.
pub fn parse_duration_or_zero(text: &str) -> Result<Duration, String> {
    if text
        .trim()
        .trim_end_matches(|character: char| character.is_ascii_alphabetic())
        == "0"
    {
        return Ok(Duration::ZERO);
    }
    parse_duration(text)
}

fn default_server_bin() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("cryptainer")))
        .filter(|candidate| candidate.is_file())
        .unwrap_or_else(|| PathBuf::from("target/release/cryptainer"))
}

/// Runs the whole benchmark and returns its report.
pub async fn run(args: &ApiArgs) -> anyhow::Result<Report> {
    if args.keys < args.baseline_keys {
        bail!(
            "--keys ({}) must be at least --baseline-keys ({})",
            args.keys,
            args.baseline_keys
        );
    }
    let server_bin = args.server_bin.clone().unwrap_or_else(default_server_bin);
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let clients = usize::from(args.clients);
    let fill_clients = usize::from(args.fill_clients);

    // Declared before the server so it is removed after the server is gone.
    let scratch = ScratchDir::create(args.keep_data)?;
    eprintln!(
        "starting {} in {}",
        server_bin.display(),
        scratch.path().display()
    );
    let mut server = ServerProcess::start(&server_bin, scratch.path())?;
    let env = server.wait_for_dev_env()?;
    eprintln!("server ready at {}", env.address);

    // (1) Idle memory, after one request proves the server serves.
    ApiClient::new(&env)?
        .health()
        .await
        .context("the server wrote dev.env but does not answer")?;
    tokio::time::sleep(IDLE_SETTLE).await;
    let memory_idle = server.memory()?;

    let pool = (0..clients.max(fill_clients))
        .map(|_| ApiClient::new(&env))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let measured_clients = pool.get(..clients).context("client pool too small")?;
    let fill_pool = pool.get(..fill_clients).context("client pool too small")?;

    // (2) Gets at the baseline size.
    eprintln!(
        "phase 2: creating {} keys, then GET material for {} s with {clients} clients",
        args.baseline_keys,
        args.duration.as_secs_f64()
    );
    let baseline = load::fill(measured_clients, "base", args.baseline_keys, None).await?;
    if baseline.aborted || baseline.errors > 0 {
        bail!(
            "creating the baseline keys failed {} times: {}",
            baseline.errors,
            baseline.first_error.unwrap_or_default()
        );
    }
    let mut all_ids = baseline.created;
    let get_baseline = load::timed(
        measured_clients,
        args.warmup,
        args.duration,
        Workload::GetMaterial {
            ids: Arc::new(all_ids.clone()),
        },
        server.pid(),
    )
    .await?;
    eprintln!(
        "  {} gets/s, p99 {:.2} ms",
        load::group_digits_f64(get_baseline.ops_per_sec),
        get_baseline.latency.p99_ms
    );

    // (3) Durable creates.
    eprintln!(
        "phase 3: POST /v1/keys for {} s with {clients} clients",
        args.duration.as_secs_f64()
    );
    let mut create = load::timed(
        measured_clients,
        args.warmup,
        args.duration,
        Workload::Create {
            prefix: "create".to_owned(),
        },
        server.pid(),
    )
    .await?;
    all_ids.append(&mut create.created);
    eprintln!(
        "  {} creates/s, p99 {:.2} ms",
        load::group_digits_f64(create.ops_per_sec),
        create.latency.p99_ms
    );

    // (4) Fill to the full size.
    let stored = u64::try_from(all_ids.len()).unwrap_or(u64::MAX);
    let to_fill = args.keys.saturating_sub(stored);
    eprintln!(
        "phase 4: filling to {} keys ({} more) with {fill_clients} clients",
        load::group_digits(args.keys),
        load::group_digits(to_fill)
    );
    let fill = load::fill(
        fill_pool,
        "fill",
        to_fill,
        Some(Progress {
            label: "fill",
            every: PROGRESS_EVERY,
            server_pid: server.pid(),
        }),
    )
    .await?;
    let fill_figures = FillFigures {
        keys: u64::try_from(fill.created.len()).unwrap_or(u64::MAX),
        errors: fill.errors,
        first_error: fill.first_error.clone(),
        secs: fill.elapsed.as_secs_f64(),
        keys_per_sec: load::per_second(
            u64::try_from(fill.created.len()).unwrap_or(u64::MAX),
            fill.elapsed,
        ),
    };
    if fill.aborted {
        bail!(
            "the fill stopped after {} keys because creates kept failing: {}",
            fill.created.len(),
            fill.first_error.unwrap_or_default()
        );
    }
    all_ids.extend(fill.created);
    eprintln!(
        "  {} keys in {}, {} keys/s",
        load::group_digits(fill_figures.keys),
        load::format_duration(fill.elapsed),
        load::group_digits_f64(fill_figures.keys_per_sec)
    );

    // The fill left up to gigabytes of dirty pages; flush them now, so that the
    // kernel's writeback of the fill does not compete with the measured gets.
    eprintln!("flushing the fill's writes to disk (sync)");
    let synced = std::process::Command::new("sync").status();
    if !synced.as_ref().is_ok_and(std::process::ExitStatus::success) {
        eprintln!("warning: sync failed ({synced:?}); the next phase may compete with writeback");
    }

    // (5) Memory and disk after the fill.
    let memory_filled = server.memory()?;
    let data_filesystem = server::filesystem_of(server.data_dir());
    let disk_bytes = server::disk_usage(server.data_dir());
    let stored_keys = u64::try_from(all_ids.len()).unwrap_or(u64::MAX);

    // (6) Gets at the full size, over all ids.
    eprintln!(
        "phase 6: GET material over {} keys for {} s with {clients} clients",
        load::group_digits(stored_keys),
        args.duration.as_secs_f64()
    );
    let get_filled = load::timed(
        measured_clients,
        args.warmup,
        args.duration,
        Workload::GetMaterial {
            ids: Arc::new(all_ids),
        },
        server.pid(),
    )
    .await?;
    eprintln!(
        "  {} gets/s, p99 {:.2} ms",
        load::group_digits_f64(get_filled.ops_per_sec),
        get_filled.latency.p99_ms
    );

    let memory_after_gets = server.memory()?;

    // Close our connections before the server's graceful shutdown waits on them.
    drop(pool);
    let stop = server.stop()?;
    let (problem_count, problems) = server::log_problems(server.log_path(), 10);

    Ok(Report::new(Measurements {
        started_at,
        server_bin: server_bin.display().to_string(),
        cpus: std::thread::available_parallelism().map_or(0, usize::from),
        clients: args.clients,
        fill_clients: args.fill_clients,
        phase_secs: args.duration.as_secs_f64(),
        warmup_secs: args.warmup.as_secs_f64(),
        baseline_keys: args.baseline_keys,
        target_keys: args.keys,
        stored_keys,
        memory_idle,
        memory_filled,
        memory_after_gets,
        disk_bytes_filled: disk_bytes,
        data_filesystem,
        get_baseline,
        create,
        fill: fill_figures,
        get_filled,
        server_log: LogFigures {
            warnings_and_errors: problem_count,
            first: problems,
        },
        server_stop: StopFigures {
            exit: stop.status.to_string(),
            secs: stop.took.as_secs_f64(),
            killed: stop.killed,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5h").is_err());
        assert_eq!(parse_duration_or_zero("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration_or_zero("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration_or_zero("1s"), Ok(Duration::from_secs(1)));
    }
}
