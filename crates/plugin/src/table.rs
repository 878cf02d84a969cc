//! Which callers use which volume, kept in memory and in a state file.
//!
//! Each volume has its own async lock, so mounting one volume never waits for
//! another, while two mounts of the same volume are serialized: the second sees
//! the first's mount point instead of mounting again.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::PluginError;

/// One volume's users and where it is mounted.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Set while the volume is mounted.
    pub(crate) mountpoint: Option<PathBuf>,
    /// The caller ids (container ids) using it, each with how many mounts it
    /// holds: Docker mounts again under an id already in use (`docker cp`
    /// into a running container) and unmounts once per mount.
    pub(crate) callers: BTreeMap<String, u32>,
}

/// The state file's contents.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    volumes: BTreeMap<String, Entry>,
}

pub(crate) struct MountTable {
    state_file: Option<PathBuf>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Entry>>>>,
    /// What was last saved, updated under each volume's lock.
    saved: Mutex<BTreeMap<String, Entry>>,
}

impl MountTable {
    /// Loads the table from `state_file` (empty when it does not exist yet).
    pub(crate) fn open(state_file: Option<PathBuf>) -> Result<MountTable, PluginError> {
        let mut volumes = BTreeMap::new();
        if let Some(path) = &state_file {
            match std::fs::read(path) {
                Ok(bytes) => {
                    let saved: Saved = serde_json::from_slice(&bytes).map_err(|source| {
                        PluginError::StateCorrupt {
                            path: path.clone(),
                            source,
                        }
                    })?;
                    volumes = saved.volumes;
                }
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(PluginError::StateFile {
                        action: "read",
                        path: path.clone(),
                        source,
                    });
                }
            }
        }
        let locks = volumes
            .iter()
            .map(|(name, entry)| {
                (
                    name.clone(),
                    Arc::new(tokio::sync::Mutex::new(entry.clone())),
                )
            })
            .collect();
        Ok(MountTable {
            state_file,
            locks: Mutex::new(locks),
            saved: Mutex::new(volumes),
        })
    }

    /// The lock of volume `name`, created on first use.
    pub(crate) fn entry(&self, name: &str) -> Arc<tokio::sync::Mutex<Entry>> {
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(locks.entry(name.to_owned()).or_default())
    }

    /// Volumes mounted when the table was loaded or since: what a restarted
    /// agent must take back.
    pub(crate) fn mounted(&self) -> BTreeMap<String, Entry> {
        self.saved
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(_, entry)| entry.mountpoint.is_some())
            .map(|(name, entry)| (name.clone(), entry.clone()))
            .collect()
    }

    /// The mount point of `name` as last saved, if mounted.
    pub(crate) fn mountpoint(&self, name: &str) -> Option<PathBuf> {
        self.saved
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .and_then(|entry| entry.mountpoint.clone())
    }

    /// Records `entry` as volume `name`'s state (call with its lock held) and
    /// writes the state file.
    pub(crate) fn save(&self, name: &str, entry: &Entry) -> Result<(), PluginError> {
        let snapshot = {
            let mut saved = self.saved.lock().unwrap_or_else(PoisonError::into_inner);
            if entry.mountpoint.is_none() && entry.callers.is_empty() {
                saved.remove(name);
            } else {
                saved.insert(name.to_owned(), entry.clone());
            }
            Saved {
                volumes: saved.clone(),
            }
        };
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        write_atomically(path, &snapshot).map_err(|source| PluginError::StateFile {
            action: "write",
            path: path.clone(),
            source,
        })
    }

    /// Forgets a removed volume.
    pub(crate) fn forget(&self, name: &str) {
        self.locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
    }
}

/// Writes the table to a temporary file, syncs it, and renames it over the old
/// one, so a crash leaves either the old table or the new one.
fn write_atomically(path: &Path, saved: &Saved) -> std::io::Result<()> {
    use std::io::Write;
    let bytes = serde_json::to_vec_pretty(saved).map_err(std::io::Error::other)?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temporary = path.with_extension("tmp");
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(&bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mounts.json");
        let table = MountTable::open(Some(path.clone())).unwrap();
        let entry = Entry {
            mountpoint: Some(PathBuf::from("/mnt/v")),
            callers: BTreeMap::from([("c1".to_owned(), 1)]),
        };
        table.save("v", &entry).unwrap();
        table.save("idle", &Entry::default()).unwrap();
        let reopened = MountTable::open(Some(path)).unwrap();
        assert_eq!(
            reopened.mounted(),
            BTreeMap::from([("v".to_owned(), entry)])
        );
        assert_eq!(reopened.mountpoint("v"), Some(PathBuf::from("/mnt/v")));
        assert_eq!(reopened.mountpoint("idle"), None);
    }

    #[test]
    fn rejects_a_damaged_state_file_with_a_way_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mounts.json");
        std::fs::write(&path, b"{not json").unwrap();
        let message = MountTable::open(Some(path)).err().unwrap().to_string();
        assert!(message.contains("move it aside"), "{message}");
    }
}
