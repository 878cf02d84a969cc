//! The load itself: timed phases with closed-loop workers, and the bulk fill.
//!
//! A worker sends its next request as soon as the previous one is answered
//! (closed loop), so throughput is what the server sustains with that many
//! clients and latency includes the server's queueing under that load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use serde::Serialize;
use tokio::sync::Barrier;

use crate::client::ApiClient;
use crate::latency::{Latencies, Summary};
use crate::server;

/// A fill worker gives up after this many failed creates in a row, and stops
/// the others: the server is down or refusing, and the figures would mean
/// nothing.
const FILL_MAX_CONSECUTIVE_ERRORS: u32 = 20;

/// What the workers of a timed phase do.
pub enum Workload {
    /// `GET /v1/keys/{id}/material` with ids drawn uniformly from `ids`.
    GetMaterial {
        /// The ids to choose from.
        ids: Arc<Vec<Box<str>>>,
    },
    /// `POST /v1/keys` with unique names starting with `prefix`.
    Create {
        /// Start of every name; must not be used by another phase.
        prefix: String,
    },
}

/// The outcome of a timed phase.
#[derive(Serialize)]
pub struct PhaseResult {
    /// Successful requests.
    pub ops: u64,
    /// Failed requests (not counted in `ops` or `latency`).
    pub errors: u64,
    /// The first failure, to say what went wrong.
    pub first_error: Option<String>,
    /// From the common start of all workers to the end of the last one.
    pub elapsed_secs: f64,
    /// Successful requests per second.
    pub ops_per_sec: f64,
    /// Latency of successful requests.
    pub latency: Summary,
    /// CPU time the server used during the phase, in cores (CPU seconds per
    /// second).
    pub server_cpu_cores: Option<f64>,
    /// CPU time this load generator used during the phase, in cores: what it
    /// took from the server on a shared machine.
    pub generator_cpu_cores: Option<f64>,
    /// CPU time other processes and kernel threads used during the phase, in
    /// cores: work that competed with the measurement.
    pub other_cpu_cores: Option<f64>,
    /// CPU time the hypervisor took for other virtual machines during the
    /// phase, in cores.
    pub steal_cpu_cores: Option<f64>,
    /// Ids of the keys a create phase made.
    #[serde(skip)]
    pub created: Vec<Box<str>>,
}

/// What one worker brings back.
struct WorkerOutcome {
    latencies: Latencies,
    errors: u64,
    first_error: Option<String>,
    created: Vec<Box<str>>,
}

/// Runs `workload` on every client for `warmup` (not measured), then for
/// `duration`, all workers starting the measured part together. `server_pid`
/// is used to measure the server's CPU use during the phase.
pub async fn timed(
    clients: &[ApiClient],
    warmup: Duration,
    duration: Duration,
    workload: Workload,
    server_pid: Option<u32>,
) -> anyhow::Result<PhaseResult> {
    Ok(
        round(clients, warmup, duration, &Arc::new(workload), server_pid)
            .await?
            .finish(),
    )
}

/// The raw outcome of one timed run of a workload; rounds against the same
/// server [`Round::merge`] into one phase.
pub struct Round {
    latencies: Latencies,
    errors: u64,
    first_error: Option<String>,
    created: Vec<Box<str>>,
    elapsed: Duration,
    server_used: Option<Duration>,
    generator_used: Option<Duration>,
    other_used: Option<Duration>,
    steal_used: Option<Duration>,
}

impl Round {
    /// Adds `other`'s requests, time and CPU use to this one's.
    pub fn merge(&mut self, other: Round) {
        let add = |a: Option<Duration>, b: Option<Duration>| Some(a? + b?);
        self.latencies.merge(other.latencies);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.created.extend(other.created);
        self.elapsed += other.elapsed;
        self.server_used = add(self.server_used, other.server_used);
        self.generator_used = add(self.generator_used, other.generator_used);
        self.other_used = add(self.other_used, other.other_used);
        self.steal_used = add(self.steal_used, other.steal_used);
    }

    /// The phase's figures: throughput and CPU use over the measured time.
    pub fn finish(self) -> PhaseResult {
        let elapsed = self.elapsed;
        let cores = |time: Option<Duration>| {
            Some(time?.as_secs_f64() / elapsed.as_secs_f64().max(f64::MIN_POSITIVE))
        };
        let ops = u64::try_from(self.latencies.len()).unwrap_or(u64::MAX);
        PhaseResult {
            server_cpu_cores: cores(self.server_used),
            generator_cpu_cores: cores(self.generator_used),
            other_cpu_cores: cores(self.other_used),
            steal_cpu_cores: cores(self.steal_used),
            ops,
            errors: self.errors,
            first_error: self.first_error,
            elapsed_secs: elapsed.as_secs_f64(),
            ops_per_sec: per_second(ops, elapsed),
            latency: self.latencies.summarize(),
            created: self.created,
        }
    }
}

/// One timed run: [`timed`] without summarizing, so that several can be merged.
pub async fn round(
    clients: &[ApiClient],
    warmup: Duration,
    duration: Duration,
    workload: &Arc<Workload>,
    server_pid: Option<u32>,
) -> anyhow::Result<Round> {
    let barrier = Arc::new(Barrier::new(clients.len() + 1));
    let mut handles = Vec::with_capacity(clients.len());
    for (worker, client) in clients.iter().enumerate() {
        let client = client.clone();
        let workload = Arc::clone(workload);
        let barrier = Arc::clone(&barrier);
        handles.push(tokio::spawn(async move {
            // Opens the connection, then lets the server reach a steady state
            // (thread pools, connection pools, caches) before measuring. Every
            // worker reaches the barrier even if this failed, or the others
            // would wait forever.
            let connected = client.health().await;
            let warm = match (&connected, warmup.is_zero()) {
                (Ok(()), false) => Some(run_worker(&client, worker, 'w', warmup, &workload).await),
                _ => None,
            };
            barrier.wait().await;
            connected?;
            let mut outcome = run_worker(&client, worker, 'm', duration, &workload).await;
            if let Some(warm) = warm {
                // Keys made while warming up are stored too; their timings are not kept.
                outcome.created.extend(warm.created);
            }
            Ok::<_, anyhow::Error>(outcome)
        }));
    }
    barrier.wait().await;
    let started = Instant::now();
    let cpu_before = CpuSnapshot::take(server_pid);

    let mut latencies = Latencies::default();
    let mut errors = 0;
    let mut first_error = None;
    let mut created = Vec::new();
    for handle in handles {
        let outcome = handle.await.context("a load worker panicked")??;
        latencies.merge(outcome.latencies);
        errors += outcome.errors;
        if first_error.is_none() {
            first_error = outcome.first_error;
        }
        created.extend(outcome.created);
    }
    let elapsed = started.elapsed();
    let cpu_after = CpuSnapshot::take(server_pid);
    let used = |before: Option<Duration>, after: Option<Duration>| after?.checked_sub(before?);
    let server_used = used(cpu_before.server, cpu_after.server);
    let generator_used = used(cpu_before.generator, cpu_after.generator);
    let machine_used = used(
        cpu_before.machine.map(|machine| machine.tasks),
        cpu_after.machine.map(|machine| machine.tasks),
    );
    let steal_used = used(
        cpu_before.machine.map(|machine| machine.steal),
        cpu_after.machine.map(|machine| machine.steal),
    );
    let other_used = machine_used
        .zip(server_used)
        .zip(generator_used)
        .map(|((machine, server), generator)| machine.saturating_sub(server + generator));
    Ok(Round {
        latencies,
        errors,
        first_error,
        created,
        elapsed,
        server_used,
        generator_used,
        other_used,
        steal_used,
    })
}

/// CPU time used so far by the server, by this process and by the whole
/// machine.
struct CpuSnapshot {
    server: Option<Duration>,
    generator: Option<Duration>,
    machine: Option<server::MachineCpu>,
}

impl CpuSnapshot {
    fn take(server_pid: Option<u32>) -> CpuSnapshot {
        CpuSnapshot {
            server: server_pid.and_then(|pid| server::cpu_time_of(pid).ok()),
            generator: server::cpu_time_of(std::process::id()).ok(),
            machine: server::machine_cpu_time().ok(),
        }
    }
}

/// One worker's closed loop for `duration`. `tag` keeps the names of keys
/// created in the warm-up and the measured part apart.
async fn run_worker(
    client: &ApiClient,
    worker: usize,
    tag: char,
    duration: Duration,
    workload: &Workload,
) -> WorkerOutcome {
    let mut random = SplitMix64::seeded(worker);
    let mut outcome = WorkerOutcome {
        latencies: Latencies::with_capacity(65_536),
        errors: 0,
        first_error: None,
        created: Vec::new(),
    };
    let deadline = Instant::now() + duration;
    let mut sequence: u64 = 0;
    while Instant::now() < deadline {
        // Choose the request before the clock starts: only the request is timed.
        let request_started;
        let result = match workload {
            Workload::GetMaterial { ids } => {
                let id = random.pick(ids).unwrap_or_default();
                request_started = Instant::now();
                client.get_material(id, sequence == 0).await
            }
            Workload::Create { prefix } => {
                let name = format!("{prefix}-{tag}{worker}-{sequence}");
                request_started = Instant::now();
                client
                    .create_key(&name)
                    .await
                    .map(|id| outcome.created.push(id.into_boxed_str()))
            }
        };
        let latency = request_started.elapsed();
        match result {
            Ok(()) => outcome.latencies.record(latency),
            Err(error) => {
                outcome.errors += 1;
                if outcome.first_error.is_none() {
                    outcome.first_error = Some(format!("{error:#}"));
                }
            }
        }
        sequence += 1;
    }
    outcome
}

/// The outcome of a fill.
pub struct FillResult {
    /// Ids of the keys made.
    pub created: Vec<Box<str>>,
    /// Failed creates.
    pub errors: u64,
    /// The first failure.
    pub first_error: Option<String>,
    /// Wall time of the fill.
    pub elapsed: Duration,
    /// Whether the fill stopped early because creates kept failing.
    pub aborted: bool,
}

/// Progress reports during a long fill.
pub struct Progress {
    /// What is being filled, for the messages.
    pub label: &'static str,
    /// Time between two reports.
    pub every: Duration,
    /// The server's process id, to show its memory as the store grows.
    pub server_pid: Option<u32>,
}

/// Creates `count` keys named `{prefix}-{n}` using all `clients` at once.
pub async fn fill(
    clients: &[ApiClient],
    prefix: &str,
    count: u64,
    progress: Option<Progress>,
) -> anyhow::Result<FillResult> {
    let next_slot = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let abort = Arc::new(AtomicBool::new(false));
    let started = Instant::now();

    let reporter = progress.map(|progress| {
        let done = Arc::clone(&done);
        tokio::spawn(report_progress(progress, done, count, started))
    });

    let mut handles = Vec::with_capacity(clients.len());
    for client in clients {
        let client = client.clone();
        let prefix = prefix.to_owned();
        let next_slot = Arc::clone(&next_slot);
        let done = Arc::clone(&done);
        let abort = Arc::clone(&abort);
        handles.push(tokio::spawn(async move {
            let mut created = Vec::new();
            let mut errors = 0_u64;
            let mut consecutive_errors = 0_u32;
            let mut first_error = None;
            while !abort.load(Ordering::Relaxed) {
                let slot = next_slot.fetch_add(1, Ordering::Relaxed);
                if slot >= count {
                    break;
                }
                match client.create_key(&format!("{prefix}-{slot}")).await {
                    Ok(id) => {
                        created.push(id.into_boxed_str());
                        done.fetch_add(1, Ordering::Relaxed);
                        consecutive_errors = 0;
                    }
                    Err(error) => {
                        errors += 1;
                        consecutive_errors += 1;
                        if first_error.is_none() {
                            first_error = Some(format!("{error:#}"));
                        }
                        if consecutive_errors >= FILL_MAX_CONSECUTIVE_ERRORS {
                            abort.store(true, Ordering::Relaxed);
                        }
                    }
                }
            }
            (created, errors, first_error)
        }));
    }

    let mut created = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    let mut errors = 0;
    let mut first_error = None;
    for handle in handles {
        let (worker_created, worker_errors, worker_first_error) =
            handle.await.context("a fill worker panicked")?;
        created.extend(worker_created);
        errors += worker_errors;
        if first_error.is_none() {
            first_error = worker_first_error;
        }
    }
    if let Some(reporter) = reporter {
        reporter.abort();
    }
    Ok(FillResult {
        created,
        errors,
        first_error,
        elapsed: started.elapsed(),
        aborted: abort.load(Ordering::Relaxed),
    })
}

async fn report_progress(progress: Progress, done: Arc<AtomicU64>, count: u64, started: Instant) {
    let mut ticker = tokio::time::interval(progress.every);
    // The first tick is immediate.
    ticker.tick().await;
    let mut last_done = 0;
    let mut last_time = started;
    loop {
        ticker.tick().await;
        let now = Instant::now();
        let finished = done.load(Ordering::Relaxed);
        let recent_rate = per_second(finished.saturating_sub(last_done), now - last_time);
        let average_rate = per_second(finished, now - started);
        let remaining = count.saturating_sub(finished);
        let eta = if average_rate > 0.0 {
            format_duration(Duration::from_secs_f64(
                (remaining as f64 / average_rate).min(1e9),
            ))
        } else {
            "unknown".to_owned()
        };
        let memory = progress
            .server_pid
            .and_then(|pid| server::memory_of(pid).ok())
            .map(|memory| format!(", server RSS {:.1} MiB", mebibytes(memory.rss_bytes)))
            .unwrap_or_default();
        eprintln!(
            "  {}: {} / {} keys, {} keys/s now, {} keys/s average, ETA {eta}{memory}",
            progress.label,
            group_digits(finished),
            group_digits(count),
            group_digits_f64(recent_rate),
            group_digits_f64(average_rate),
        );
        last_done = finished;
        last_time = now;
    }
}

/// `count / elapsed`, or 0 when no time passed.
pub fn per_second(count: u64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        count as f64 / seconds
    } else {
        0.0
    }
}

/// Bytes in MiB.
pub fn mebibytes(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// `1234567` as `1,234,567`.
pub fn group_digits(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// A non-negative rate, rounded to an integer and grouped.
pub fn group_digits_f64(value: f64) -> String {
    // Saturating float-to-integer conversion: rates are far below u64::MAX.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let rounded = value.max(0.0).round() as u64;
    group_digits(rounded)
}

/// `754 s` as `12m34s`.
pub fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds >= 3600 {
        format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60)
    } else if seconds >= 60 {
        format!("{}m{:02}s", seconds / 60, seconds % 60)
    } else {
        format!("{seconds}s")
    }
}

/// A small, fast pseudo-random generator (SplitMix64). Key choice needs
/// uniformity, not unpredictability.
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// Seeded from the worker number and the clock, so workers and runs draw
    /// different sequences.
    fn seeded(worker: usize) -> SplitMix64 {
        let clock = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.subsec_nanos())
            .unwrap_or(0);
        let worker = u64::try_from(worker).unwrap_or(0);
        SplitMix64 {
            state: u64::from(clock) ^ worker.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.state;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    /// A uniformly chosen element of `items` (Lemire's multiply-shift, whose
    /// bias is below 2^-40 for our sizes).
    fn pick<'a>(&mut self, items: &'a [Box<str>]) -> Option<&'a str> {
        let length = u128::try_from(items.len()).ok()?;
        let index = usize::try_from((u128::from(self.next()) * length) >> 64).ok()?;
        items.get(index).map(AsRef::as_ref)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_digits_inserts_commas() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1000), "1,000");
        assert_eq!(group_digits(1_000_000), "1,000,000");
        assert_eq!(group_digits(12_345_678), "12,345,678");
    }

    #[test]
    fn pick_stays_in_range_and_reaches_every_item() {
        let items: Vec<Box<str>> = ["a", "b", "c"].iter().map(|&item| item.into()).collect();
        let mut random = SplitMix64::seeded(1);
        let mut seen = [false; 3];
        for _ in 0..1000 {
            let picked = random.pick(&items).unwrap();
            let index = items.iter().position(|item| &**item == picked).unwrap();
            seen[index] = true;
        }
        assert_eq!(seen, [true; 3]);
        assert_eq!(random.pick(&[]), None);
    }
}
