//! The whole key manager to a backup file and back (`backup` is the file's
//! format): an online, consistent snapshot with its audit log, material
//! still wrapped; and a restore into an empty store, which then needs the
//! same unseal material as the one backed up.

use std::io::Write;
use std::path::Path;

use crate::backup::{self, BackupError, BackupSummary};
use crate::caller::{Caller, event};
use crate::error::KeystoreError;
use crate::service::Keystore;
use crate::store::StoreError;

impl Keystore {
    /// Writes a backup of everything the store holds to `out`: one
    /// consistent snapshot, taken while every server goes on serving, with
    /// the audit log (this backup's own `sys.backup` record included) and a
    /// checksum. Nothing in it is unwrapped; it needs no unsealed server.
    /// Call it from a blocking thread.
    pub fn backup(
        &self,
        caller: &Caller,
        out: &mut dyn Write,
    ) -> Result<BackupSummary, KeystoreError> {
        self.store
            .commit(Vec::new(), event(caller, "sys.backup", None, None))?;
        let taken_at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let mut writer =
            backup::Writer::new(out, self.store.backend(), &taken_at).map_err(StoreError::from)?;
        self.store
            .snapshot(&mut |item| writer.item(&item).map_err(StoreError::from))?;
        Ok(writer.finish().map_err(StoreError::from)?)
    }

    /// Restores the backup in the file `path` into this key manager's store,
    /// which must be new and empty (the key manager uninitialized, no audit
    /// record yet). The whole file is read and checked first (format, order,
    /// checksum): a damaged or truncated backup is refused before anything is
    /// written. Afterwards the key manager is sealed under the backup's root:
    /// unseal it with the unseal material of the server backed up. Call it
    /// from a blocking thread.
    pub fn restore(&self, caller: &Caller, path: &Path) -> Result<BackupSummary, KeystoreError> {
        let open = || std::fs::File::open(path).map_err(BackupError::Io);
        let summary = backup::verify(std::io::BufReader::new(open().map_err(StoreError::from)?))
            .map_err(StoreError::from)?;
        if self.status().initialized {
            return Err(KeystoreError::AlreadyInitialized);
        }
        let reader =
            backup::Reader::new(std::io::BufReader::new(open().map_err(StoreError::from)?))
                .map_err(StoreError::from)?;
        self.store
            .restore(&mut reader.map(|item| item.map_err(StoreError::from)))?;
        self.after_restore()?;
        self.store
            .commit(Vec::new(), event(caller, "sys.restore", None, None))?;
        tracing::info!(
            objects = summary.objects,
            audit_records = summary.audit_records,
            "backup restored; unseal with the material of the server backed up"
        );
        Ok(summary)
    }
}
