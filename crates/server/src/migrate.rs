//! What only a stopped server's data directory allows: the lock a running
//! server holds on it, and `cryptainer operator migrate`, which moves its
//! SQLite store into PostgreSQL.

use std::path::{Path, PathBuf};

use keystore::{Caller, Keystore};

use crate::error::Error;

/// The lock file in a data directory.
const LOCK_FILE: &str = "cryptainer.lock";

/// Held while a server (or a migration) uses a data directory: a second one
/// is refused instead of sharing the files. The lock is the kernel's
/// (`flock`), so it ends with the process, SIGKILL included.
pub struct DataDirLock {
    _file: std::fs::File,
}

impl DataDirLock {
    /// Takes the lock of `data_dir`, or says who holds it.
    pub fn acquire(data_dir: &Path) -> Result<DataDirLock, Error> {
        use std::os::unix::fs::OpenOptionsExt as _;
        let path = data_dir.join(LOCK_FILE);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(DataDirLock { _file: file }),
            Err(rustix::io::Errno::WOULDBLOCK) => Err(Error::DataDirInUse {
                path: data_dir.to_path_buf(),
            }),
            Err(error) => Err(Error::Io {
                path,
                source: error.into(),
            }),
        }
    }
}

/// Moves the SQLite store of the stopped server of `data_dir` into the empty
/// PostgreSQL database at `to`: a backup of it (which records the move in
/// its audit log) restored there, everything kept, material still wrapped.
/// The SQLite files stay as they were. Blocking.
pub fn migrate(data_dir: &Path, to: &str) -> Result<keystore::backup::BackupSummary, Error> {
    let _lock = DataDirLock::acquire(data_dir)?;
    let database = data_dir.join(crate::config::DATABASE_FILE);
    if !database.exists() {
        return Err(Error::InvalidConfig(format!(
            "{} holds no key store to migrate",
            data_dir.display()
        )));
    }
    let source = Keystore::open_sqlite(&database)?;
    if !source.status().initialized {
        return Err(Error::InvalidConfig(format!(
            "the key store in {} was never initialized: there is nothing to migrate",
            data_dir.display()
        )));
    }
    let target = Keystore::open_postgres(to)?;
    let scratch = Scratch(data_dir.join("migrate.backup"));
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&scratch.0)
            .map_err(|source| Error::Io {
                path: scratch.0.clone(),
                source,
            })?;
        let caller = Caller::system();
        source.backup(&caller, &mut file)?;
        file.sync_all().map_err(|source| Error::Io {
            path: scratch.0.clone(),
            source,
        })?;
    }
    let summary = target.restore(&Caller::system(), &scratch.0)?;
    tracing::info!(
        objects = summary.objects,
        audit_records = summary.audit_records,
        "migrated into PostgreSQL"
    );
    Ok(summary)
}

/// A file removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
