//! The `api` benchmark: starts two servers of the same binary, runs the phases
//! in order, and gathers the figures of the report.
//!
//! Phases: (1) idle memory; (2) the baseline server gets its 1,000 keys;
//! (3) durable creates on the second server; (4) its fill to the full size;
//! (5) memory after the fill; (6) gets, in rounds that alternate between the
//! baseline server and the full one. The machine's speed drifts by more than
//! the difference being measured over the minutes of a fill, so the two sizes
//! are measured in the same seconds, and their ratio compares like with like.

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

/// Unmeasured load before each get round after a server's first: its
/// threads and caches wake up after the other server's round.
const ROUND_WARMUP: Duration = Duration::from_millis(250);

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

    /// Rounds of the get phase: each server is measured `rounds` times for
    /// `duration / rounds`, the two alternating (baseline first in odd rounds,
    /// full first in even ones), so both sizes see the same machine.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub rounds: u32,

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

pub fn default_server_bin() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("cryptainer")))
        .filter(|candidate| candidate.is_file())
        .unwrap_or_else(|| PathBuf::from("target/release/cryptainer"))
}

/// Starts a server in `dir` and waits until it has written its `dev.env`.
fn start_server(
    server_bin: &std::path::Path,
    dir: &std::path::Path,
    role: &str,
) -> anyhow::Result<(ServerProcess, crate::server::DevEnv)> {
    eprintln!(
        "starting the {role} server {} in {}",
        server_bin.display(),
        dir.display()
    );
    let mut server = ServerProcess::start(server_bin, dir)?;
    let env = server.wait_for_dev_env()?;
    eprintln!("{role} server ready at {}", env.address);
    Ok((server, env))
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

    // Declared before the servers so it is removed after they are gone.
    let scratch = ScratchDir::create(args.keep_data)?;
    let baseline_dir = scratch.path().join("baseline");
    let full_dir = scratch.path().join("full");
    for dir in [&baseline_dir, &full_dir] {
        std::fs::create_dir(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }

    // (1) Idle memory, after one request proves the server serves.
    let (mut base_server, base_env) = start_server(&server_bin, &baseline_dir, "baseline")?;
    ApiClient::new(&base_env)?
        .health()
        .await
        .context("the server wrote dev.env but does not answer")?;
    tokio::time::sleep(IDLE_SETTLE).await;
    let memory_idle = base_server.memory()?;

    let base_pool = (0..clients)
        .map(|_| ApiClient::new(&base_env))
        .collect::<anyhow::Result<Vec<_>>>()?;

    // (2) The baseline server's keys.
    eprintln!(
        "phase 2: creating {} keys on the baseline server",
        args.baseline_keys
    );
    let baseline = load::fill(&base_pool, "base", args.baseline_keys, None).await?;
    if baseline.aborted || baseline.errors > 0 {
        bail!(
            "creating the baseline keys failed {} times: {}",
            baseline.errors,
            baseline.first_error.unwrap_or_default()
        );
    }
    let base_ids = Arc::new(Workload::GetMaterial {
        ids: Arc::new(baseline.created),
    });

    let (mut server, env) = start_server(&server_bin, &full_dir, "full")?;
    let pool = (0..clients.max(fill_clients))
        .map(|_| ApiClient::new(&env))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let measured_clients = pool.get(..clients).context("client pool too small")?;
    let fill_pool = pool.get(..fill_clients).context("client pool too small")?;

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
    let mut all_ids = std::mem::take(&mut create.created);
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
    let full_ids = Arc::new(Workload::GetMaterial {
        ids: Arc::new(all_ids),
    });

    // (6) Gets at both sizes, in alternating rounds.
    let rounds = args.rounds;
    let round_time = args.duration / rounds;
    eprintln!(
        "phase 6: GET material over {} and over {} keys, {rounds} rounds of {:.1} s each \
         with {clients} clients, alternating",
        load::group_digits(args.baseline_keys),
        load::group_digits(stored_keys),
        round_time.as_secs_f64()
    );
    let mut get_baseline: Option<load::Round> = None;
    let mut get_filled: Option<load::Round> = None;
    for index in 0..rounds {
        let warmup = if index == 0 {
            args.warmup
        } else {
            args.warmup.min(ROUND_WARMUP)
        };
        let base_first = index % 2 == 0;
        for base in [base_first, !base_first] {
            let (clients, workload, pid, merged) = if base {
                (
                    &base_pool[..],
                    &base_ids,
                    base_server.pid(),
                    &mut get_baseline,
                )
            } else {
                (measured_clients, &full_ids, server.pid(), &mut get_filled)
            };
            let round = load::round(clients, warmup, round_time, workload, pid).await?;
            match merged {
                Some(merged) => merged.merge(round),
                None => *merged = Some(round),
            }
        }
    }
    let get_baseline = get_baseline.context("no get round ran")?.finish();
    let get_filled = get_filled.context("no get round ran")?.finish();
    eprintln!(
        "  {} gets/s, p99 {:.2} ms at {} keys; {} gets/s, p99 {:.2} ms at {} keys",
        load::group_digits_f64(get_baseline.ops_per_sec),
        get_baseline.latency.p99_ms,
        load::group_digits(args.baseline_keys),
        load::group_digits_f64(get_filled.ops_per_sec),
        get_filled.latency.p99_ms,
        load::group_digits(stored_keys),
    );

    let memory_after_gets = server.memory()?;

    // Close our connections before the servers' graceful shutdown waits on them.
    drop(pool);
    drop(base_pool);
    let stop = server.stop()?;
    let base_stop = base_server.stop()?;
    if !base_stop.status.success() || base_stop.killed {
        eprintln!(
            "warning: the baseline server ended with {} (killed: {})",
            base_stop.status, base_stop.killed
        );
    }
    let (mut problem_count, mut problems) = server::log_problems(server.log_path(), 10);
    let (base_count, base_problems) = server::log_problems(base_server.log_path(), 10);
    problem_count += base_count;
    problems.extend(
        base_problems
            .into_iter()
            .map(|line| format!("(baseline server) {line}")),
    );
    problems.truncate(10);

    Ok(Report::new(Measurements {
        started_at,
        server_bin: server_bin.display().to_string(),
        cpus: std::thread::available_parallelism().map_or(0, usize::from),
        clients: args.clients,
        fill_clients: args.fill_clients,
        phase_secs: args.duration.as_secs_f64(),
        warmup_secs: args.warmup.as_secs_f64(),
        baseline_keys: args.baseline_keys,
        rounds: args.rounds,
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
