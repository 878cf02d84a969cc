//! A PostgreSQL cluster of its own, for tests and benchmarks: `initdb` in a
//! temporary directory, a free loopback port, PostgreSQL's binaries from the
//! system's packages (Debian's `postgresql`), stopped and removed when dropped.
//!
//! PostgreSQL refuses to run as root, and CI runs as root: then the cluster's
//! directory is handed to the `postgres` user (made by Debian's package), or to
//! `nobody`, and every PostgreSQL program runs as that user.
//!
//! [`Link`] is a TCP relay between a client and the cluster that a test can
//! cut: every connection through it is dropped at once and new ones are
//! closed as soon as they open, as when a network partition separates a
//! server from its database.
#![forbid(unsafe_code)]

mod link;

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub use link::Link;

/// The role every cluster is made with; it owns the cluster and needs no
/// password (connections are trusted, on loopback only).
pub const USER: &str = "cryptainer";

/// Why a cluster could not be made, started, stopped or queried.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No PostgreSQL server binaries were found.
    #[error(
        "no PostgreSQL server binaries (initdb, pg_ctl) found under /usr/lib/postgresql/*/bin \
         or in PATH; install Debian's `postgresql` package or set CRYPTAINER_PG_BIN"
    )]
    NoBinaries,
    /// Running as root, but no unprivileged user to run PostgreSQL as.
    #[error(
        "running as root, and neither a `postgres` nor a `nobody` user exists to run \
         PostgreSQL as (it refuses to run as root); create one"
    )]
    NoUser,
    /// A file or directory of the cluster could not be made.
    #[error("cannot prepare {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A PostgreSQL program could not be run.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// A PostgreSQL program failed.
    #[error("{program} failed ({status}): {output}")]
    Failed {
        /// The program.
        program: String,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// What it printed (and the server log, for `pg_ctl start`).
        output: String,
    },
}

/// A running (or stopped) throwaway cluster.
pub struct Cluster {
    /// Removed when the cluster is dropped.
    directory: tempfile::TempDir,
    binaries: PathBuf,
    port: u16,
    /// The user and group PostgreSQL runs as, when this process is root.
    run_as: Option<(u32, u32)>,
    running: bool,
}

impl Cluster {
    /// Makes a new cluster and starts it, with PostgreSQL's default settings
    /// but for the port, the socket directory and `max_connections` (200).
    pub fn start() -> Result<Cluster, Error> {
        Cluster::start_with(&[])
    }

    /// [`Cluster::start`] with more `postgresql.conf` settings (name, value).
    pub fn start_with(settings: &[(&str, &str)]) -> Result<Cluster, Error> {
        let binaries = find_binaries()?;
        let run_as = if rustix::process::geteuid().is_root() {
            Some(unprivileged_user()?)
        } else {
            None
        };
        let directory = tempfile::Builder::new()
            .prefix("cryptainer-postgres-")
            .tempdir()
            .map_err(|source| Error::Io {
                path: std::env::temp_dir(),
                source,
            })?;
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(directory.path(), Some(uid), Some(gid)).map_err(|source| {
                Error::Io {
                    path: directory.path().to_path_buf(),
                    source,
                }
            })?;
        }
        let mut cluster = Cluster {
            directory,
            binaries,
            port: 0,
            run_as,
            running: false,
        };
        let data = cluster.data_dir();
        let data_text = data.display().to_string();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data_text,
                "-U",
                USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                // The files initdb writes need no fsync: the cluster is thrown
                // away. Commits later are durable as PostgreSQL makes them.
                "--no-sync",
            ],
        )?;
        cluster.port = free_port()?;
        let socket_dir = cluster.directory.path().display().to_string();
        let mut conf = format!(
            "\n# throwaway-postgres\nport = {}\nlisten_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{socket_dir}'\nmax_connections = 200\n",
            cluster.port
        );
        for (name, value) in settings {
            conf.push_str(&format!("{name} = {value}\n"));
        }
        let conf_path = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf_path).map_err(|source| Error::Io {
            path: conf_path.clone(),
            source,
        })?;
        text.push_str(&conf);
        std::fs::write(&conf_path, text).map_err(|source| Error::Io {
            path: conf_path.clone(),
            source,
        })?;
        cluster.start_again()?;
        Ok(cluster)
    }

    /// The cluster's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.directory.path().join("data")
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of `database` on this cluster (without TLS: loopback only).
    pub fn url(&self, database: &str) -> String {
        url_for(self.port, database)
    }

    /// Makes a new database.
    pub fn create_database(&self, name: &str) -> Result<(), Error> {
        self.sql("postgres", &format!("CREATE DATABASE \"{name}\""))
            .map(drop)
    }

    /// Runs `sql` in `database` with psql and returns what it printed
    /// (unaligned, tuples only).
    pub fn sql(&self, database: &str, sql: &str) -> Result<String, Error> {
        self.sql_through(self.port, database, sql)
    }

    /// [`Cluster::sql`] through `port` (a [`Link`] to this cluster, say).
    pub fn sql_through(&self, port: u16, database: &str, sql: &str) -> Result<String, Error> {
        let port = port.to_string();
        let output = self.run(
            "psql",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                USER,
                "-d",
                database,
                "-X",
                "-A",
                "-t",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ],
        )?;
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// Stops PostgreSQL at once, without a checkpoint (`pg_ctl stop -m
    /// immediate`): what a crash does. The next start recovers from the WAL.
    pub fn stop_immediate(&mut self) -> Result<(), Error> {
        let data = self.data_dir().display().to_string();
        self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"])?;
        self.running = false;
        Ok(())
    }

    /// Starts the cluster (again), and returns once it accepts connections.
    pub fn start_again(&mut self) -> Result<(), Error> {
        let data = self.data_dir().display().to_string();
        let log = self.directory.path().join("postgres.log");
        let log_text = log.display().to_string();
        match self.run(
            "pg_ctl",
            &["-D", &data, "-l", &log_text, "-w", "-t", "120", "start"],
        ) {
            Ok(_) => {
                self.running = true;
                Ok(())
            }
            Err(Error::Failed {
                program,
                status,
                output,
            }) => Err(Error::Failed {
                program,
                status,
                output: format!(
                    "{output}\n--- server log ---\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                ),
            }),
            Err(other) => Err(other),
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.directory.path().join("postgres.log")).unwrap_or_default()
    }

    /// Runs one of PostgreSQL's programs as the cluster's user.
    fn run(&self, program: &str, args: &[&str]) -> Result<Output, Error> {
        let path = program_path(&self.binaries, program);
        let mut command = Command::new(&path);
        command
            .args(args)
            .current_dir(self.directory.path())
            .stdin(Stdio::null());
        if let Some((uid, gid)) = self.run_as {
            command.uid(uid).gid(gid);
        }
        let output = if program == "pg_ctl" {
            // Whatever the server pg_ctl starts inherits must not be a pipe
            // this process stops reading: pg_ctl writes to a file instead.
            let out_path = self.directory.path().join(format!("{program}.out"));
            let file = std::fs::File::create(&out_path).map_err(|source| Error::Io {
                path: out_path.clone(),
                source,
            })?;
            let file_err = file.try_clone().map_err(|source| Error::Io {
                path: out_path.clone(),
                source,
            })?;
            let status = command
                .stdout(Stdio::from(file))
                .stderr(Stdio::from(file_err))
                .status()
                .map_err(|source| Error::Spawn {
                    program: program.to_owned(),
                    source,
                })?;
            Output {
                status,
                stdout: std::fs::read(&out_path).unwrap_or_default(),
                stderr: Vec::new(),
            }
        } else {
            command.output().map_err(|source| Error::Spawn {
                program: program.to_owned(),
                source,
            })?
        };
        if output.status.success() {
            Ok(output)
        } else {
            Err(Error::Failed {
                program: program.to_owned(),
                status: output.status,
                output: format!(
                    "{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                ),
            })
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.running {
            let _ = self.stop_immediate();
        }
    }
}

/// The URL of `database` on a cluster listening on 127.0.0.1:`port`.
pub fn url_for(port: u16, database: &str) -> String {
    format!("postgres://{USER}@127.0.0.1:{port}/{database}?sslmode=disable")
}

/// `CRYPTAINER_PG_BIN`, else the newest `/usr/lib/postgresql/<version>/bin`
/// with `initdb` in it, else the directory of `initdb` in `PATH`.
fn find_binaries() -> Result<PathBuf, Error> {
    if let Some(directory) = std::env::var_os("CRYPTAINER_PG_BIN") {
        return Ok(PathBuf::from(directory));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .find(|directory| directory.join("initdb").exists())
        .ok_or(Error::NoBinaries)
}

/// `program` in `binaries`, or as found in `PATH` (psql lives in /usr/bin on
/// Debian as well).
fn program_path(binaries: &Path, program: &str) -> PathBuf {
    let path = binaries.join(program);
    if path.exists() {
        path
    } else {
        PathBuf::from(program)
    }
}

/// The uid and gid of `postgres`, else of `nobody`, from /etc/passwd.
fn unprivileged_user() -> Result<(u32, u32), Error> {
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|source| Error::Io {
        path: PathBuf::from("/etc/passwd"),
        source,
    })?;
    let find = |wanted: &str| {
        passwd.lines().find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let _password = fields.next()?;
            let uid = fields.next()?.parse().ok()?;
            let gid = fields.next()?.parse().ok()?;
            (name == wanted).then_some((uid, gid))
        })
    };
    find("postgres")
        .or_else(|| find("nobody"))
        .ok_or(Error::NoUser)
}

/// A free loopback port (bound, then released for PostgreSQL to take).
fn free_port() -> Result<u16, Error> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|source| Error::Io {
        path: PathBuf::from("127.0.0.1:0"),
        source,
    })?;
    let port = listener
        .local_addr()
        .map_err(|source| Error::Io {
            path: PathBuf::from("127.0.0.1:0"),
            source,
        })?
        .port();
    Ok(port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_answers_and_survives_an_immediate_stop() {
        let mut cluster = Cluster::start().unwrap();
        cluster.create_database("probe").unwrap();
        cluster
            .sql("probe", "CREATE TABLE t (n int); INSERT INTO t VALUES (41)")
            .unwrap();
        cluster.stop_immediate().unwrap();
        assert!(cluster.sql("probe", "SELECT 1").is_err());
        cluster.start_again().unwrap();
        assert_eq!(cluster.sql("probe", "SELECT n + 1 FROM t").unwrap(), "42");
    }

    #[test]
    fn a_cut_link_drops_its_connections_and_refuses_new_ones() {
        let cluster = Cluster::start().unwrap();
        let link = Link::start(("127.0.0.1", cluster.port())).unwrap();
        let through = |cluster: &Cluster| cluster.sql_through(link.port(), "postgres", "SELECT 7");
        assert_eq!(through(&cluster).unwrap(), "7");
        link.cut();
        assert!(through(&cluster).is_err());
        link.restore();
        assert!(through(&cluster).is_ok());
    }
}
