//! Starting, observing and stopping the `cryptainer` server under test.
//!
//! The server runs in development mode in a fresh data directory, so every run
//! starts from an empty store and the admin token comes from `dev.env`.

use std::fs::File;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};

/// How long the server gets to write `dev.env` (Argon2id and certificate
/// generation happen before it).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// How often `dev.env` and the process are checked during startup.
const STARTUP_POLL: Duration = Duration::from_millis(50);

/// How long the server gets to exit after SIGTERM before it is killed; a bit
/// more than its own grace period for in-flight requests.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// What the server's `dev.env` says.
pub struct DevEnv {
    /// `https://127.0.0.1:PORT`, without a trailing slash.
    pub address: String,
    /// The admin bearer token.
    pub token: String,
    /// The server's CA certificate, PEM.
    pub ca_pem: Vec<u8>,
}

/// A temporary directory removed on drop unless asked to keep it.
pub struct ScratchDir {
    path: PathBuf,
    keep: bool,
}

impl ScratchDir {
    /// Creates a new, empty directory under the system temporary directory.
    pub fn create(keep: bool) -> anyhow::Result<ScratchDir> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "cryptainer-bench-{}-{nanos:09}",
            std::process::id()
        ));
        std::fs::create_dir(&path)
            .with_context(|| format!("cannot create scratch directory {}", path.display()))?;
        Ok(ScratchDir { path, keep })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("kept the server's data in {}", self.path.display());
        } else if let Err(error) = std::fs::remove_dir_all(&self.path) {
            eprintln!("cannot remove {}: {error}", self.path.display());
        }
    }
}

/// The running server. Dropping it without [`ServerProcess::stop`] kills it.
pub struct ServerProcess {
    child: Option<Child>,
    data_dir: PathBuf,
    log_path: PathBuf,
}

/// How the server ended.
pub struct StopOutcome {
    /// Its exit status.
    pub status: ExitStatus,
    /// Time from SIGTERM to exit.
    pub took: Duration,
    /// Whether it had to be killed with SIGKILL.
    pub killed: bool,
}

impl ServerProcess {
    /// Starts `binary` in development mode with its data in `scratch/data` and
    /// its output in `scratch/server.log`.
    pub fn start(binary: &Path, scratch: &Path) -> anyhow::Result<ServerProcess> {
        let data_dir = scratch.join("data");
        let log_path = scratch.join("server.log");
        let log = File::create(&log_path)
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let log_for_stderr = log
            .try_clone()
            .with_context(|| format!("cannot reopen {}", log_path.display()))?;
        let child = Command::new(binary)
            .arg("server")
            .arg("--dev")
            .arg("--data-dir")
            .arg(&data_dir)
            .arg("--listen")
            .arg("127.0.0.1:0")
            // A free KMIP port too; dev.env names it (CRYPTAINER_KMIP_ADDR).
            .arg("--kmip-listen")
            .arg("127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_for_stderr)
            .spawn()
            .with_context(|| {
                format!(
                    "cannot start the server {}; build it with `cargo build --release -p cli` or pass --server-bin",
                    binary.display()
                )
            })?;
        Ok(ServerProcess {
            child: Some(child),
            data_dir,
            log_path,
        })
    }

    /// The server's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The file holding the server's stdout and stderr.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Waits until the server has written `dev.env`, then reads it.
    pub fn wait_for_dev_env(&mut self) -> anyhow::Result<DevEnv> {
        let env_path = self.data_dir.join("dev.env");
        let started = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait().context("cannot poll the server")? {
                    bail!(
                        "the server exited during startup ({status}); its log ends with:\n{}",
                        log_tail(&self.log_path, 20)
                    );
                }
            }
            // The server renames dev.env into place, so a file that exists is complete.
            if env_path.is_file() {
                return read_dev_env(&env_path);
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                bail!(
                    "the server did not write {} within {} s; its log ends with:\n{}",
                    env_path.display(),
                    STARTUP_TIMEOUT.as_secs(),
                    log_tail(&self.log_path, 20)
                );
            }
            std::thread::sleep(STARTUP_POLL);
        }
    }

    /// Resident and peak resident memory of the server, from `/proc`.
    pub fn memory(&self) -> anyhow::Result<Memory> {
        memory_of(self.pid().context("the server is not running")?)
    }

    /// Sends SIGTERM and waits for the server to exit, killing it after
    /// [`STOP_TIMEOUT`].
    pub fn stop(&mut self) -> anyhow::Result<StopOutcome> {
        let child = self
            .child
            .take()
            .context("the server was already stopped")?;
        terminate(child)
    }
}

/// Sends SIGTERM to a child process and waits for it to exit, killing it
/// after [`STOP_TIMEOUT`]. SIGTERM lets a server stop what it started (the
/// policy monitor process of pykmip-server outlives a SIGKILL).
pub fn terminate(mut child: Child) -> anyhow::Result<StopOutcome> {
    let started = Instant::now();
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&child),
        rustix::process::Signal::TERM,
    )
    .context("cannot send SIGTERM to the server")?;
    loop {
        if let Some(status) = child.try_wait().context("cannot wait for the server")? {
            return Ok(StopOutcome {
                status,
                took: started.elapsed(),
                killed: false,
            });
        }
        if started.elapsed() > STOP_TIMEOUT {
            child.kill().context("cannot kill the server")?;
            let status = child.wait().context("cannot wait for the server")?;
            return Ok(StopOutcome {
                status,
                took: started.elapsed(),
                killed: true,
            });
        }
        std::thread::sleep(STARTUP_POLL);
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Memory figures of a process, in bytes.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Memory {
    /// `VmRSS`: resident now.
    pub rss_bytes: u64,
    /// `VmHWM`: the most that was ever resident.
    pub peak_rss_bytes: u64,
    /// `RssAnon`: the resident part of the process's own memory (heap, stacks).
    pub anon_bytes: u64,
    /// `RssFile`: resident pages of mapped files (the binary, the database's
    /// memory map), which are page cache shared with the kernel.
    pub file_bytes: u64,
}

/// Resident and peak resident memory of process `pid`, from
/// `/proc/PID/status`.
pub fn memory_of(pid: u32) -> anyhow::Result<Memory> {
    let status_path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&status_path)
        .with_context(|| format!("cannot read {status_path}"))?;
    let field = |name: &str| -> anyhow::Result<u64> {
        let line = status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .with_context(|| format!("no {name} in {status_path}"))?;
        let kib = line
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse::<u64>()
            .with_context(|| format!("cannot parse {name}{line} in {status_path}"))?;
        Ok(kib * 1024)
    };
    Ok(Memory {
        rss_bytes: field("VmRSS:")?,
        peak_rss_bytes: field("VmHWM:")?,
        anon_bytes: field("RssAnon:")?,
        file_bytes: field("RssFile:")?,
    })
}

/// Kernel clock ticks per second in `/proc/PID/stat` (`USER_HZ`): 100 on
/// every Linux architecture, fixed by the kernel ABI whatever the kernel's
/// internal tick rate.
const USER_HZ: u64 = 100;

/// CPU time (user and system, all threads) process `pid` has used so far,
/// from `/proc/PID/stat`.
pub fn cpu_time_of(pid: u32) -> anyhow::Result<Duration> {
    let stat_path = format!("/proc/{pid}/stat");
    let stat =
        std::fs::read_to_string(&stat_path).with_context(|| format!("cannot read {stat_path}"))?;
    // The command name (field 2) is in parentheses and may contain spaces, so
    // fields are counted from the last ')': state is field 3, utime field 14,
    // stime field 15.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .with_context(|| format!("unexpected format of {stat_path}"))?;
    let mut fields = after_name.split_whitespace().skip(11);
    let mut ticks = |name: &str| -> anyhow::Result<u64> {
        fields
            .next()
            .and_then(|field| field.parse::<u64>().ok())
            .with_context(|| format!("no {name} in {stat_path}"))
    };
    let user = ticks("utime")?;
    let system = ticks("stime")?;
    Ok(ticks_to_duration(user.saturating_add(system)))
}

/// CPU time of the whole machine so far, from the first line of `/proc/stat`.
#[derive(Debug, Clone, Copy)]
pub struct MachineCpu {
    /// Time in processes and kernel threads (user, nice, system). Interrupt
    /// handling is left out: most of it is the loopback traffic of the
    /// benchmark itself.
    pub tasks: Duration,
    /// Time the hypervisor gave to other virtual machines while this one
    /// wanted to run.
    pub steal: Duration,
}

/// Reads [`MachineCpu`] from `/proc/stat`.
pub fn machine_cpu_time() -> anyhow::Result<MachineCpu> {
    let stat = std::fs::read_to_string("/proc/stat").context("cannot read /proc/stat")?;
    let ticks: Vec<u64> = stat
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("cpu "))
        .context("no cpu line in /proc/stat")?
        .split_whitespace()
        .map(|field| field.parse::<u64>().unwrap_or(0))
        .collect();
    // Fields: user nice system idle iowait irq softirq steal guest guest_nice
    // (guest time is already counted in user and nice).
    let field = |index: usize| ticks.get(index).copied().unwrap_or(0);
    Ok(MachineCpu {
        tasks: ticks_to_duration(field(0) + field(1) + field(2)),
        steal: ticks_to_duration(field(7)),
    })
}

fn ticks_to_duration(ticks: u64) -> Duration {
    Duration::from_secs(ticks / USER_HZ) + Duration::from_millis(ticks % USER_HZ * (1000 / USER_HZ))
}

/// The type of the file system holding `path` (`ext4`, `tmpfs`, ...), from
/// `/proc/self/mounts`: durable writes cost nothing on `tmpfs`, so the figure
/// says what the create rate means.
pub fn filesystem_of(path: &Path) -> Option<String> {
    let path = std::fs::canonicalize(path).ok()?;
    let mounts = std::fs::read_to_string("/proc/self/mounts").ok()?;
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let _device = fields.next()?;
            // Spaces in mount points are written as \040.
            let mount_point = fields.next()?.replace("\\040", " ");
            let filesystem = fields.next()?;
            path.starts_with(&mount_point)
                .then(|| (mount_point.len(), filesystem.to_owned()))
        })
        .max_by_key(|(length, _)| *length)
        .map(|(_, filesystem)| filesystem)
}

fn read_dev_env(path: &Path) -> anyhow::Result<DevEnv> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut address = None;
    let mut token = None;
    let mut ca_path = None;
    for line in text.lines() {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"').trim_matches('\'').to_owned();
        match name.trim() {
            "CRYPTAINER_ADDR" => address = Some(value.trim_end_matches('/').to_owned()),
            "CRYPTAINER_TOKEN" => token = Some(value),
            "CRYPTAINER_CACERT" => ca_path = Some(PathBuf::from(value)),
            _ => {}
        }
    }
    let address = address.with_context(|| format!("no CRYPTAINER_ADDR in {}", path.display()))?;
    let token = token.with_context(|| format!("no CRYPTAINER_TOKEN in {}", path.display()))?;
    let ca_path = ca_path.with_context(|| {
        format!(
            "no CRYPTAINER_CACERT in {}; the benchmark needs the server's CA",
            path.display()
        )
    })?;
    let ca_pem = std::fs::read(&ca_path)
        .with_context(|| format!("cannot read the server's CA {}", ca_path.display()))?;
    Ok(DevEnv {
        address,
        token,
        ca_pem,
    })
}

/// The last `lines` lines of the server's log, for error messages.
pub fn log_tail(path: &Path, lines: usize) -> String {
    match File::open(path) {
        Ok(file) => {
            let all: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
            let skip = all.len().saturating_sub(lines);
            all.into_iter().skip(skip).collect::<Vec<_>>().join("\n")
        }
        Err(error) => format!("(cannot read {}: {error})", path.display()),
    }
}

/// Warnings and errors the server logged, with how many there were in all.
pub fn log_problems(path: &Path, keep: usize) -> (usize, Vec<String>) {
    let Ok(file) = File::open(path) else {
        return (0, Vec::new());
    };
    let mut count = 0;
    let mut kept = Vec::new();
    for line in BufReader::new(file).lines().map_while(Result::ok) {
        // Level names are upper case in both the text and the JSON log formats.
        if line.contains("WARN") || line.contains("ERROR") || line.contains("panicked") {
            count += 1;
            if kept.len() < keep {
                kept.push(line);
            }
        }
    }
    (count, kept)
}

/// Total size of the files under `path`, in bytes.
pub fn disk_usage(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .map_while(Result::ok)
        .map(|entry| match entry.metadata() {
            Ok(metadata) if metadata.is_dir() => disk_usage(&entry.path()),
            Ok(metadata) => metadata.len(),
            Err(_) => 0,
        })
        .sum()
}
