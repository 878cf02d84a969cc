//! Volumes: block devices encrypted with a secret this key manager holds, and
//! the leases that let exactly one holder (a node) open a volume at a time.
//!
//! A volume's secret is a Secret Data object labelled `cryptainer.volume`; it
//! is what opens the volume's LUKS2 keyslot. Creating a volume stores the
//! object and the volume record in one commit; taking a lease returns the
//! secret and records the holder in one commit; removing a volume destroys
//! the secret (crypto-shredding) and the record in one commit. Every write to
//! a volume is conditional on the revision that was read, so two requests
//! (or two servers sharing a database) can never both take a lease.

use std::collections::{BTreeMap, BTreeSet};

use time::{Duration, OffsetDateTime};

use crate::caller::{Caller, event, now};
use crate::durable::Durable;
use crate::error::KeystoreError;
use crate::model::{Lease, VolumeRow};
use crate::nodes::node_holder;
use crate::object::{Algorithm, ObjectType, State, validate_name};
use crate::release::{VolumeRelease, check_recipient};
use crate::secret::SecretBytes;
use crate::service::Keystore;
use crate::store::{StoreError, Write};

/// Smallest volume: the LUKS2 header takes 16 MiB and ext4 needs room after it.
pub const MIN_VOLUME_BYTES: u64 = 64 << 20;

/// Largest volume (images are sparse, so this bounds typos, not disk use).
pub const MAX_VOLUME_BYTES: u64 = 64 << 40;

/// Longest lease a holder may ask for; holders renew well before it lapses.
pub const MAX_LEASE_SECS: u32 = 3600;

/// Bytes of the secret that opens a volume's keyslot.
const VOLUME_SECRET_BYTES: usize = 32;

/// Label that ties a secret object to its volume.
const VOLUME_LABEL: &str = "cryptainer.volume";

/// Filesystems a volume may be formatted with.
const FILESYSTEMS: &[&str] = &["ext4"];

/// What a new volume is to be.
#[derive(Debug, Clone)]
pub struct NewVolume {
    /// Tenant.
    pub tenant: String,
    /// Name, unique within the tenant.
    pub name: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Filesystem (`ext4`).
    pub filesystem: String,
}

impl Keystore {
    /// Creates a volume and the secret that will open it.
    pub fn create_volume(
        &self,
        caller: &Caller,
        volume: NewVolume,
    ) -> Result<VolumeRow, KeystoreError> {
        validate_name("volume name", &volume.name)?;
        validate_name("tenant", &volume.tenant)?;
        if !(MIN_VOLUME_BYTES..=MAX_VOLUME_BYTES).contains(&volume.size_bytes) {
            return Err(KeystoreError::InvalidArgument(format!(
                "a volume must be between 64 MiB and 64 TiB; {} bytes was asked",
                volume.size_bytes
            )));
        }
        if !FILESYSTEMS.contains(&volume.filesystem.as_str()) {
            return Err(KeystoreError::InvalidArgument(format!(
                "filesystem '{}' is not supported; use ext4",
                volume.filesystem
            )));
        }
        if self
            .store
            .get_volume(&volume.tenant, &volume.name)?
            .is_some()
        {
            return Err(volume_exists(&volume.tenant, &volume.name));
        }
        let secret = SecretBytes::random(VOLUME_SECRET_BYTES);
        let (meta, version) = self.new_object(
            caller,
            &volume.tenant,
            None,
            ObjectType::SecretData,
            Algorithm::None,
            BTreeMap::from([(VOLUME_LABEL.to_owned(), volume.name.clone())]),
            &secret,
            true,
        )?;
        let row = VolumeRow {
            tenant: volume.tenant,
            name: volume.name,
            key_id: meta.id.clone(),
            size_bytes: volume.size_bytes,
            filesystem: volume.filesystem,
            created_at: now(),
            created_by: caller.principal.clone(),
            lease: None,
            holders: BTreeSet::new(),
            revision: 1,
        };
        self.store
            .commit(
                vec![
                    Write::InsertObject(meta.clone()),
                    Write::PutVersion(version),
                    Write::PutVolume {
                        row: row.clone(),
                        expected_revision: None,
                    },
                ],
                event(caller, "volume.create", Some(&row.tenant), Some(&meta.id)),
            )
            .map_err(|error| match error {
                StoreError::Stale { .. } => volume_exists(&row.tenant, &row.name),
                other => other.into(),
            })?;
        Ok(row)
    }

    /// A volume's record.
    pub fn volume(&self, tenant: &str, name: &str) -> Result<VolumeRow, KeystoreError> {
        self.store
            .get_volume(tenant, name)?
            .ok_or_else(|| KeystoreError::NotFound {
                what: "volume",
                reference: name.to_owned(),
            })
    }

    /// Volumes of `tenants` (`None`: every tenant).
    pub fn list_volumes(
        &self,
        tenants: Option<&[String]>,
    ) -> Result<Vec<VolumeRow>, KeystoreError> {
        Ok(self.store.list_volumes(tenants)?)
    }

    /// Gives the caller `release` was decided for the volume for
    /// `lease_secs` and returns the secret that opens it, once the lease and
    /// the read are durably recorded. Refused while another holder's lease
    /// runs; the same holder renews its lease. The release is used up.
    pub fn acquire_volume(
        &self,
        caller: &Caller,
        release: VolumeRelease,
        lease_secs: u32,
    ) -> Result<Durable<(VolumeRow, SecretBytes)>, KeystoreError> {
        let (holder, tenant, name, key_id) = release.into_parts();
        check_recipient(caller, &holder)?;
        let (tenant, name, holder) = (tenant.as_str(), name.as_str(), holder.as_str());
        let current = self.volume(tenant, name)?;
        if current.key_id != key_id {
            // Removed and made again since the decision: another volume.
            return Err(KeystoreError::Store(StoreError::Stale {
                what: format!("volume '{name}' of tenant '{tenant}'"),
            }));
        }
        // The database's clock when servers share one: a server's own clock
        // never decides whether another node's lease has lapsed.
        let now = self.store.now()?;
        check_free(&current, holder, now)?;
        let meta =
            self.store
                .get_object(&current.key_id)?
                .ok_or_else(|| KeystoreError::NotFound {
                    what: "volume key",
                    reference: current.key_id.clone(),
                })?;
        if meta.state != State::Active {
            return Err(KeystoreError::WrongState {
                id: meta.id,
                operation: "open the volume of",
                state: meta.state,
                hint: "the volume's key is no longer active; its data cannot be opened",
            });
        }
        let (_, secret) = self.unwrap_version(&meta, None)?;
        let mut row = current.clone();
        row.lease = Some(Lease {
            holder: holder.to_owned(),
            acquired_at: match &current.lease {
                Some(lease) if lease.holder == holder && lease.expires_at > now => {
                    lease.acquired_at
                }
                _ => now,
            },
            expires_at: now + lease_duration(lease_secs)?,
        });
        row.holders.insert(holder.to_owned());
        row.revision = current.revision.saturating_add(1);
        let commit = self.store.submit(
            vec![Write::PutVolume {
                row: row.clone(),
                expected_revision: Some(current.revision),
            }],
            event(
                caller,
                "volume.acquire",
                Some(tenant),
                Some(&current.key_id),
            ),
        )?;
        Ok(Durable::new((row, secret), commit))
    }

    /// Extends `holder`'s lease without reading the secret again.
    pub fn renew_volume(
        &self,
        caller: &Caller,
        tenant: &str,
        name: &str,
        holder: &str,
        lease_secs: u32,
    ) -> Result<VolumeRow, KeystoreError> {
        let current = self.volume(tenant, name)?;
        let now = self.store.now()?;
        let lease = match &current.lease {
            Some(lease) if lease.holder == holder => lease,
            _ => {
                return Err(KeystoreError::InvalidArgument(format!(
                    "{holder} holds no lease on volume '{name}'; acquire it again"
                )));
            }
        };
        let mut row = current.clone();
        row.lease = Some(Lease {
            holder: holder.to_owned(),
            acquired_at: lease.acquired_at,
            expires_at: now + lease_duration(lease_secs)?,
        });
        row.revision = current.revision.saturating_add(1);
        self.commit_volume(caller, "volume.renew", &current, row)
    }

    /// Ends `holder`'s lease. Releasing a volume nobody holds changes nothing.
    pub fn release_volume(
        &self,
        caller: &Caller,
        tenant: &str,
        name: &str,
        holder: &str,
    ) -> Result<VolumeRow, KeystoreError> {
        let current = self.volume(tenant, name)?;
        match &current.lease {
            None => return Ok(current),
            Some(lease) if lease.holder != holder => {
                check_free(&current, holder, self.store.now()?)?;
                return Ok(current);
            }
            Some(_) => {}
        }
        let mut row = current.clone();
        row.lease = None;
        row.revision = current.revision.saturating_add(1);
        self.commit_volume(caller, "volume.release", &current, row)
    }

    /// Ends every lease `holder` has (a decommissioned node), in every tenant.
    /// Returns the volumes released.
    pub fn release_all_volumes(
        &self,
        caller: &Caller,
        holder: &str,
    ) -> Result<Vec<String>, KeystoreError> {
        let mut released = Vec::new();
        for volume in self.store.list_volumes(None)? {
            if volume
                .lease
                .as_ref()
                .is_some_and(|lease| lease.holder == holder)
            {
                let mut row = volume.clone();
                row.lease = None;
                row.revision = volume.revision.saturating_add(1);
                self.commit_volume(caller, "volume.release", &volume, row)?;
                released.push(format!("{}/{}", volume.tenant, volume.name));
            }
        }
        Ok(released)
    }

    /// Removes every volume that only `node_id` ever held (or created and
    /// nobody held), destroying their secrets: what `node decommission
    /// --shred` promises. Returns the key ids destroyed.
    pub fn shred_node_volumes(
        &self,
        caller: &Caller,
        node_id: &str,
    ) -> Result<Vec<String>, KeystoreError> {
        let holder = node_holder(node_id);
        let mut destroyed = Vec::new();
        for volume in self.store.list_volumes(None)? {
            let only_this_node = if volume.holders.is_empty() {
                volume.created_by == holder
            } else {
                volume.holders.iter().all(|held_by| *held_by == holder)
            };
            if only_this_node {
                let removed = self.remove_volume(caller, &volume.tenant, &volume.name)?;
                destroyed.push(removed.key_id);
            }
        }
        Ok(destroyed)
    }

    /// Removes a volume: destroys its secret for good (crypto-shredding: the
    /// data can never be opened again) and deletes its record. Refused while a
    /// holder's lease runs.
    pub fn remove_volume(
        &self,
        caller: &Caller,
        tenant: &str,
        name: &str,
    ) -> Result<VolumeRow, KeystoreError> {
        let current = self.volume(tenant, name)?;
        if let Some(lease) = &current.lease {
            if lease.expires_at > self.store.now()? {
                return Err(held(&current, lease));
            }
        }
        let mut writes = vec![Write::DeleteVolume {
            tenant: current.tenant.clone(),
            name: current.name.clone(),
            expected_revision: current.revision,
        }];
        let mut _unchanged = None;
        if let Some(meta) = self.store.get_object(&current.key_id)? {
            let unchanged = self.lock_unchanged(&meta)?;
            writes.insert(0, unchanged.expect());
            _unchanged = Some(unchanged);
            if !meta.state.is_destroyed() {
                let mut destroyed = meta.clone();
                destroyed.state = State::Destroyed;
                destroyed.destroy_date = Some(now());
                writes.push(Write::EraseVersions {
                    object_id: meta.id.clone(),
                });
                writes.push(Write::UpdateObject(destroyed));
            }
        }
        self.store.commit(
            writes,
            event(caller, "volume.remove", Some(tenant), Some(&current.key_id)),
        )?;
        Ok(current)
    }

    fn commit_volume(
        &self,
        caller: &Caller,
        operation: &str,
        current: &VolumeRow,
        row: VolumeRow,
    ) -> Result<VolumeRow, KeystoreError> {
        self.store.commit(
            vec![Write::PutVolume {
                row: row.clone(),
                expected_revision: Some(current.revision),
            }],
            event(caller, operation, Some(&row.tenant), Some(&row.key_id)),
        )?;
        Ok(row)
    }
}

fn volume_exists(tenant: &str, name: &str) -> KeystoreError {
    KeystoreError::NameTaken {
        tenant: tenant.to_owned(),
        name: name.to_owned(),
    }
}

fn held(volume: &VolumeRow, lease: &Lease) -> KeystoreError {
    KeystoreError::VolumeHeld {
        name: volume.name.clone(),
        holder: lease.holder.clone(),
        until: lease
            .expires_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    }
}

/// Refuses when a holder other than `holder` has a lease that has not lapsed.
fn check_free(volume: &VolumeRow, holder: &str, now: OffsetDateTime) -> Result<(), KeystoreError> {
    match &volume.lease {
        Some(lease) if lease.holder != holder && lease.expires_at > now => Err(held(volume, lease)),
        _ => Ok(()),
    }
}

fn lease_duration(lease_secs: u32) -> Result<Duration, KeystoreError> {
    if lease_secs == 0 || lease_secs > MAX_LEASE_SECS {
        return Err(KeystoreError::InvalidArgument(format!(
            "a lease lasts 1 to {MAX_LEASE_SECS} seconds; {lease_secs} was asked"
        )));
    }
    Ok(Duration::seconds(i64::from(lease_secs)))
}
