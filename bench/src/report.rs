//! The report: every figure, the targets from the issue, and how it is printed
//! for people (a table) and for scripts (JSON).

use std::fmt::Write as _;

use serde::Serialize;

use crate::load::{PhaseResult, group_digits, group_digits_f64, mebibytes};
use crate::server::Memory;

/// The store size the issue's "after 1,000,000 keys" targets are about.
const ISSUE_KEYS: u64 = 1_000_000;

/// Targets from the issue, on a 2-core machine with the load generator on it.
mod target {
    /// Durable key creates per second with 16 clients.
    pub const CREATES_PER_SEC: f64 = 2_000.0;
    /// Key material gets per second with 16 clients.
    pub const GETS_PER_SEC: f64 = 10_000.0;
    /// 99th percentile latency of a get, in milliseconds.
    pub const GET_P99_MS: f64 = 5.0;
    /// Resident memory of an idle server, in MiB.
    pub const IDLE_RSS_MIB: f64 = 30.0;
    /// Get latency at the full size divided by get latency at the baseline.
    pub const LATENCY_RATIO: f64 = 1.20;
}

/// Figures of the fill phase.
#[derive(Serialize)]
pub struct FillFigures {
    /// Keys created.
    pub keys: u64,
    /// Failed creates.
    pub errors: u64,
    /// The first failure.
    pub first_error: Option<String>,
    /// Wall time.
    pub secs: f64,
    /// Keys created per second.
    pub keys_per_sec: f64,
}

/// What the server wrote to its log that looks like trouble.
#[derive(Serialize)]
pub struct LogFigures {
    /// Lines with WARN, ERROR or a panic.
    pub warnings_and_errors: usize,
    /// The first few of them.
    pub first: Vec<String>,
}

/// How the server stopped.
#[derive(Serialize)]
pub struct StopFigures {
    /// Its exit status, as text.
    pub exit: String,
    /// Seconds from SIGTERM to exit.
    pub secs: f64,
    /// Whether it had to be killed.
    pub killed: bool,
}

/// Everything measured in one run.
#[derive(Serialize)]
pub struct Measurements {
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// The server binary, as given.
    pub server_bin: String,
    /// CPUs available to this process.
    pub cpus: usize,
    /// Clients in the measured phases.
    pub clients: u16,
    /// Clients during the fill.
    pub fill_clients: u16,
    /// Length of each measured phase.
    pub phase_secs: f64,
    /// Unmeasured load before each measured phase.
    pub warmup_secs: f64,
    /// Keys stored in the baseline server.
    pub baseline_keys: u64,
    /// Rounds of the get phase, alternating between the two servers.
    pub rounds: u32,
    /// Keys asked for before the last get phase.
    pub target_keys: u64,
    /// Keys actually stored before the last get phase.
    pub stored_keys: u64,
    /// Server memory after startup.
    pub memory_idle: Memory,
    /// Server memory after the fill.
    pub memory_filled: Memory,
    /// Server memory after the gets over every key.
    pub memory_after_gets: Memory,
    /// Size of the server's data directory after the fill.
    pub disk_bytes_filled: u64,
    /// File system type of the data directory (`ext4`, `tmpfs`, ...).
    pub data_filesystem: Option<String>,
    /// Gets at the baseline size (the baseline server's rounds).
    pub get_baseline: PhaseResult,
    /// Durable creates.
    pub create: PhaseResult,
    /// The fill.
    pub fill: FillFigures,
    /// Gets at the full size (the full server's rounds).
    pub get_filled: PhaseResult,
    /// Trouble in the server's log.
    pub server_log: LogFigures,
    /// The server's shutdown.
    pub server_stop: StopFigures,
}

/// Get latency at the full size relative to the baseline, from the same run.
#[derive(Serialize)]
pub struct Ratios {
    /// Median latency ratio.
    pub get_p50: f64,
    /// Mean latency ratio.
    pub get_mean: f64,
    /// 99th percentile latency ratio.
    pub get_p99: f64,
    /// Throughput ratio.
    pub gets_per_sec: f64,
}

/// One figure compared with its target.
#[derive(Serialize)]
pub struct Check {
    /// What is measured.
    pub figure: String,
    /// The measurement, in `unit`.
    pub measured: f64,
    /// `>=`, `<` or `<=`.
    pub comparison: &'static str,
    /// The target, in `unit`.
    pub target: f64,
    /// `ops/s`, `ms`, `MiB` or `x` (a ratio).
    pub unit: &'static str,
    /// Whether the target is met.
    pub pass: bool,
}

impl Check {
    fn at_least(figure: String, measured: f64, target: f64, unit: &'static str) -> Check {
        Check {
            figure,
            measured,
            comparison: ">=",
            target,
            unit,
            pass: measured >= target,
        }
    }

    fn below(figure: String, measured: f64, target: f64, unit: &'static str) -> Check {
        Check {
            figure,
            measured,
            comparison: "<",
            target,
            unit,
            pass: measured < target,
        }
    }

    fn at_most(figure: String, measured: f64, target: f64, unit: &'static str) -> Check {
        Check {
            figure,
            measured,
            comparison: "<=",
            target,
            unit,
            pass: measured <= target,
        }
    }
}

/// The full report.
#[derive(Serialize)]
pub struct Report {
    /// The figures.
    #[serde(flatten)]
    pub measurements: Measurements,
    /// Full size against baseline.
    pub ratios: Ratios,
    /// Figures against the issue's targets.
    pub checks: Vec<Check>,
    /// Whether every check passed.
    pub all_pass: bool,
}

fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator > 0.0 {
        numerator / denominator
    } else {
        f64::NAN
    }
}

impl Report {
    /// Computes the ratios and checks the targets.
    pub fn new(measurements: Measurements) -> Report {
        let baseline = &measurements.get_baseline;
        let filled = &measurements.get_filled;
        let ratios = Ratios {
            get_p50: ratio(filled.latency.p50_ms, baseline.latency.p50_ms),
            get_mean: ratio(filled.latency.mean_ms, baseline.latency.mean_ms),
            get_p99: ratio(filled.latency.p99_ms, baseline.latency.p99_ms),
            gets_per_sec: ratio(filled.ops_per_sec, baseline.ops_per_sec),
        };
        let small = group_digits(measurements.baseline_keys);
        let large = group_digits(measurements.stored_keys);
        let clients = measurements.clients;
        let checks = vec![
            Check::at_least(
                format!("durable creates/s, {clients} clients"),
                measurements.create.ops_per_sec,
                target::CREATES_PER_SEC,
                "ops/s",
            ),
            Check::at_least(
                format!("gets/s at {small} keys, {clients} clients"),
                baseline.ops_per_sec,
                target::GETS_PER_SEC,
                "ops/s",
            ),
            Check::below(
                format!("get p99 at {small} keys"),
                baseline.latency.p99_ms,
                target::GET_P99_MS,
                "ms",
            ),
            Check::at_least(
                format!("gets/s at {large} keys, {clients} clients"),
                filled.ops_per_sec,
                target::GETS_PER_SEC,
                "ops/s",
            ),
            Check::below(
                format!("get p99 at {large} keys"),
                filled.latency.p99_ms,
                target::GET_P99_MS,
                "ms",
            ),
            Check::at_most(
                format!("get p50 at {large} / at {small} keys"),
                ratios.get_p50,
                target::LATENCY_RATIO,
                "x",
            ),
            Check::at_most(
                format!("get mean at {large} / at {small} keys"),
                ratios.get_mean,
                target::LATENCY_RATIO,
                "x",
            ),
            Check::below(
                "server RSS idle".to_owned(),
                mebibytes(measurements.memory_idle.rss_bytes),
                target::IDLE_RSS_MIB,
                "MiB",
            ),
        ];
        let all_pass = checks.iter().all(|check| check.pass);
        Report {
            measurements,
            ratios,
            checks,
            all_pass,
        }
    }

    /// The report as a table for people.
    pub fn to_table(&self) -> String {
        let figures = &self.measurements;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Cryptainer HTTPS API benchmark, {}\nserver {}, data on {}, {} CPUs (load generator on the same machine), \
             {} clients, {:.0} s per phase after {:.0} s of warm-up; gets over {} and over {} keys \
             on two servers in {} alternating rounds\n",
            figures.started_at,
            figures.server_bin,
            figures
                .data_filesystem
                .as_deref()
                .unwrap_or("an unknown file system"),
            figures.cpus,
            figures.clients,
            figures.phase_secs,
            figures.warmup_secs,
            group_digits(figures.baseline_keys),
            group_digits(figures.stored_keys),
            figures.rounds,
        );
        let _ = writeln!(
            out,
            "{:<44} {:>14} {:>14}  result",
            "figure", "measured", "target"
        );
        for check in &self.checks {
            let _ = writeln!(
                out,
                "{:<44} {:>14} {:>14}  {}",
                check.figure,
                format_value(check.measured, check.unit),
                format!(
                    "{} {}",
                    check.comparison,
                    format_value(check.target, check.unit)
                ),
                if check.pass { "PASS" } else { "MISS" }
            );
        }
        let large = group_digits(figures.stored_keys);
        let info = [
            (
                format!(
                    "get p99 at {large} / at {}",
                    group_digits(figures.baseline_keys)
                ),
                format_value(self.ratios.get_p99, "x"),
            ),
            (
                format!(
                    "gets/s at {large} / at {}",
                    group_digits(figures.baseline_keys)
                ),
                format_value(self.ratios.gets_per_sec, "x"),
            ),
            (
                format!("server RSS after {large} keys"),
                format_value(mebibytes(figures.memory_filled.rss_bytes), "MiB"),
            ),
            (
                format!("server RSS after gets over {large} keys"),
                format_value(mebibytes(figures.memory_after_gets.rss_bytes), "MiB"),
            ),
            (
                "  of which own memory (RssAnon)".to_owned(),
                format_value(mebibytes(figures.memory_after_gets.anon_bytes), "MiB"),
            ),
            (
                "  of which mapped database and binary (RssFile)".to_owned(),
                format_value(mebibytes(figures.memory_after_gets.file_bytes), "MiB"),
            ),
            (
                "server peak RSS (VmHWM) at startup".to_owned(),
                format_value(mebibytes(figures.memory_idle.peak_rss_bytes), "MiB"),
            ),
            (
                "server peak RSS (VmHWM) after fill".to_owned(),
                format_value(mebibytes(figures.memory_filled.peak_rss_bytes), "MiB"),
            ),
            (
                format!("data directory after {large} keys"),
                format_value(mebibytes(figures.disk_bytes_filled), "MiB"),
            ),
            (
                format!("fill rate, {} clients", figures.fill_clients),
                format_value(figures.fill.keys_per_sec, "ops/s"),
            ),
        ];
        for (figure, value) in info {
            let _ = writeln!(out, "{figure:<44} {value:>14} {:>14}  -", "-");
        }

        let _ = writeln!(
            out,
            "\n{:<28} {:>9} {:>7} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}  {:>27}",
            "latency in ms",
            "ops",
            "errors",
            "ops/s",
            "mean",
            "p50",
            "p90",
            "p99",
            "p99.9",
            "max",
            "CPU srv / gen / other / steal"
        );
        let phases = [
            (
                format!("get at {} keys", group_digits(figures.baseline_keys)),
                &figures.get_baseline,
            ),
            ("durable create".to_owned(), &figures.create),
            (format!("get at {large} keys"), &figures.get_filled),
        ];
        for (name, phase) in phases {
            let latency = &phase.latency;
            let _ = writeln!(
                out,
                "{name:<28} {:>9} {:>7} {:>9} {:>7.2} {:>7.2} {:>7.2} {:>7.2} {:>7.2} {:>7.2}  {:>27}",
                group_digits(phase.ops),
                group_digits(phase.errors),
                group_digits_f64(phase.ops_per_sec),
                latency.mean_ms,
                latency.p50_ms,
                latency.p90_ms,
                latency.p99_ms,
                latency.p999_ms,
                latency.max_ms,
                format!(
                    "{} / {} / {} / {}",
                    format_cores(phase.server_cpu_cores),
                    format_cores(phase.generator_cpu_cores),
                    format_cores(phase.other_cpu_cores),
                    format_cores(phase.steal_cpu_cores)
                ),
            );
        }
        let _ = writeln!(
            out,
            "(CPU: cores used during the phase by the server, by this load generator, by other \
             processes and kernel threads, and taken by the hypervisor; other or steal above \
             0.2 means something else competed for the CPUs and the figures are low)"
        );
        for (name, error) in [
            ("get (baseline)", &figures.get_baseline.first_error),
            ("create", &figures.create.first_error),
            ("fill", &figures.fill.first_error),
            ("get (full)", &figures.get_filled.first_error),
        ] {
            if let Some(error) = error {
                let _ = writeln!(out, "first {name} error: {error}");
            }
        }

        let stop = &figures.server_stop;
        let _ = writeln!(
            out,
            "\nserver stopped ({}) {:.1} s after SIGTERM{}; {} warning or error lines in its log",
            stop.exit,
            stop.secs,
            if stop.killed { " (killed)" } else { "" },
            figures.server_log.warnings_and_errors
        );
        for line in &figures.server_log.first {
            let _ = writeln!(out, "  {line}");
        }
        if figures.stored_keys < ISSUE_KEYS {
            let _ = writeln!(
                out,
                "\nnote: {} keys stored, not {}: the ratio and memory figures are a smoke test, not the issue's measurement",
                large,
                group_digits(ISSUE_KEYS)
            );
        }
        let misses = self.checks.iter().filter(|check| !check.pass).count();
        let _ = writeln!(
            out,
            "\n{} of {} targets met",
            self.checks.len() - misses,
            self.checks.len()
        );
        out
    }
}

fn format_cores(cores: Option<f64>) -> String {
    cores.map_or_else(|| "?".to_owned(), |cores| format!("{cores:.2}"))
}

fn format_value(value: f64, unit: &str) -> String {
    match unit {
        "ops/s" => format!("{} /s", group_digits_f64(value)),
        "ms" => format!("{value:.2} ms"),
        "MiB" => format!("{value:.1} MiB"),
        "x" => format!("{value:.2}x"),
        _ => format!("{value} {unit}"),
    }
}
