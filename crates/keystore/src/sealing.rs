//! The key manager's operations on its seal beyond initialize, unseal with
//! people's material, and seal: unsealing with a device seal, migrating the
//! root to another seal (with the step that waits for new shares), checking
//! recovery shares, and describing the seal for `status`.
//!
//! A migration replaces the stored sealed root, and only it, in one
//! transaction: the root key stays, so no tenant key or object is re-encrypted,
//! and a process killed at any point leaves the old sealed root or the new one.
//! Before the commit the new seal must have opened what it sealed (a device
//! that seals but cannot unseal is found out while the old seal still works).
//! When a migration makes shares nobody holds yet (to Shamir from a passphrase,
//! or recovery shares for a device seal from a passphrase), the new sealed root
//! is only stored as pending; it replaces the old one once a quorum of the new
//! shares comes back ([`Keystore::complete_seal_migration`]), so shares lost with
//! an answer never leave the server under a seal nobody can open.

use std::sync::PoisonError;

use serde::Serialize;

use crate::caller::event;
use crate::seal::migrate::{self, Consent, Target};
use crate::seal::{Seal, SealError, SealKind, SealedRoot, ShamirSeal, UnsealShare};
use crate::service::{SEALED_ROOT, SealState};
use crate::store::{StoreError, Write};
use crate::{Caller, Keystore, KeystoreError, Status};

/// System key of a migration that waits for its new shares: the new sealed
/// root, JSON; an empty value means none waits (the store has no delete of
/// system values, and none is needed).
const SEAL_MIGRATION: &str = "seal_migration";

/// The environment variable that makes the process abort at a named step of a
/// migration, so tests can kill the server exactly there. Never set in
/// production; the names are in `docs/seals.md`.
pub const CRASH_AT_ENV: &str = "CRYPTAINER_CRASH_AT";

/// What `status` says of the seal beyond its kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SealDetails {
    /// The device: PKCS#11 token label, `tpm2`, or the remote KMIP server.
    pub seal_token: Option<String>,
    /// The key: PKCS#11 key label, the TPM's PCR selection, the remote key id.
    pub seal_key: Option<String>,
    /// How the device protects the unseal key.
    pub seal_mechanism: Option<String>,
    /// Recovery shares needed (automatic seals).
    pub recovery_threshold: u8,
    /// Recovery shares made (automatic seals).
    pub recovery_shares: u8,
    /// The kind a pending migration waits to switch to, if any.
    pub seal_migration_pending: Option<&'static str>,
}

/// What [`Keystore::migrate_seal`] did.
pub struct Migration {
    /// The kind migrated from.
    pub from: SealKind,
    /// The kind migrated to.
    pub to: SealKind,
    /// Shares made by the migration, to hand out now: unseal shares (to Shamir)
    /// or recovery shares (to a device seal). When not empty the migration is
    /// pending until a quorum of them is given back.
    pub new_shares: Vec<UnsealShare>,
    /// The status afterwards.
    pub status: Status,
}

/// The audit result code of a failed unseal.
pub(crate) fn refusal_code(error: &SealError) -> &'static str {
    match error {
        SealError::DeviceUnavailable { .. } => "seal_unavailable",
        SealError::DeviceRefused { .. } => "seal_refused",
        _ => "wrong_unseal_material",
    }
}

/// Aborts the process when [`CRASH_AT_ENV`] names `step` (tests only).
fn crash_point(step: &str) {
    if std::env::var_os(CRASH_AT_ENV).is_some_and(|value| value == step) {
        tracing::error!(step, "aborting at the requested crash point");
        std::process::abort();
    }
}

fn encode(sealed: &SealedRoot) -> Result<Vec<u8>, KeystoreError> {
    serde_json::to_vec(sealed).map_err(|error| {
        StoreError::Corrupt {
            what: "sealed root",
            detail: error.to_string(),
        }
        .into()
    })
}

impl Keystore {
    /// Unseals with the configured device seal, without a person. Already
    /// unsealed: nothing to do. A device that cannot be reached gives
    /// [`SealError::DeviceUnavailable`] and records nothing (the caller retries
    /// and records changes); every other failure is audited.
    pub fn unseal_automatic(
        &self,
        caller: &Caller,
        seal: Box<dyn Seal>,
    ) -> Result<Status, KeystoreError> {
        let Some(sealed) = self.sealed_root()? else {
            return Ok(self.status());
        };
        let root = match seal.unseal_root(&sealed) {
            Ok(root) => root,
            Err(error @ SealError::DeviceUnavailable { .. }) => return Err(error.into()),
            Err(error) => {
                self.audit_refusal(
                    caller,
                    "sys.unseal",
                    None,
                    Some(&sealed.audit_id()),
                    refusal_code(&error),
                );
                return Err(error.into());
            }
        };
        self.install_root(caller, seal, &sealed, root)?;
        Ok(self.status())
    }

    /// The kind of the stored seal, once initialized.
    pub fn seal_kind(&self) -> Option<SealKind> {
        match &*self.state.read().unwrap_or_else(PoisonError::into_inner) {
            SealState::Uninitialized => None,
            SealState::Sealed(sealed) => Some(sealed.kind),
            SealState::Unsealed(unsealed) => Some(unsealed.sealed.kind),
        }
    }

    /// What the audit log names the stored seal by, once initialized: its kind
    /// and the device and key it names.
    pub fn sealed_audit_id(&self) -> Option<String> {
        match &*self.state.read().unwrap_or_else(PoisonError::into_inner) {
            SealState::Uninitialized => None,
            SealState::Sealed(sealed) => Some(sealed.audit_id()),
            SealState::Unsealed(unsealed) => Some(unsealed.sealed.audit_id()),
        }
    }

    /// The seal's description for [`Keystore::status`].
    pub(crate) fn seal_details(&self, sealed: Option<&SealedRoot>) -> SealDetails {
        let Some(sealed) = sealed else {
            return SealDetails::default();
        };
        let identity = sealed.params.identity();
        let (recovery_threshold, recovery_shares) = sealed
            .recovery
            .as_ref()
            .map_or((0, 0), |recovery| (recovery.threshold, recovery.shares));
        SealDetails {
            seal_token: identity.token,
            seal_key: identity.key,
            seal_mechanism: identity.mechanism,
            recovery_threshold,
            recovery_shares,
            seal_migration_pending: self
                .pending_migration()
                .ok()
                .flatten()
                .map(|pending| pending.kind.as_str()),
        }
    }

    fn pending_migration(&self) -> Result<Option<SealedRoot>, KeystoreError> {
        match self.store.get_system(SEAL_MIGRATION)? {
            Some(bytes) if !bytes.is_empty() => {
                serde_json::from_slice(&bytes).map(Some).map_err(|error| {
                    StoreError::Corrupt {
                        what: "pending seal migration",
                        detail: error.to_string(),
                    }
                    .into()
                })
            }
            _ => Ok(None),
        }
    }

    /// Checks a quorum of recovery shares against the stored seal (a root
    /// rotation under an automatic seal needs them). A seal without recovery
    /// shares refuses them.
    pub fn check_recovery_shares(&self, shares: &[UnsealShare]) -> Result<(), KeystoreError> {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        let sealed = match &*state {
            SealState::Uninitialized => return Err(KeystoreError::NotInitialized),
            SealState::Sealed(sealed) => sealed,
            SealState::Unsealed(unsealed) => &unsealed.sealed,
        };
        let recovery = sealed
            .recovery
            .as_ref()
            .ok_or(SealError::NoRecoveryShares { kind: sealed.kind })?;
        recovery.open(shares)?;
        Ok(())
    }

    /// The recovery shares needed by operations that need the people's consent
    /// under an automatic seal: `Some(threshold)` with an automatic seal.
    pub fn recovery_threshold(&self) -> Option<u8> {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        let sealed = match &*state {
            SealState::Uninitialized => return None,
            SealState::Sealed(sealed) => sealed,
            SealState::Unsealed(unsealed) => &unsealed.sealed,
        };
        sealed.recovery.as_ref().map(|recovery| recovery.threshold)
    }

    /// Moves the root key to another seal. Needs the server unsealed and the
    /// consent of the current seal's people ([`Consent`]). See the module
    /// documentation for what is crash-safe and when the migration waits.
    pub fn migrate_seal(
        &self,
        caller: &Caller,
        consent: Consent,
        target: Target,
    ) -> Result<Migration, KeystoreError> {
        if let Some(pending) = self.pending_migration()? {
            return Err(SealError::MigrationPending { kind: pending.kind }.into());
        }
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        let unsealed = match &mut *state {
            SealState::Uninitialized => return Err(KeystoreError::NotInitialized),
            SealState::Sealed(_) => return Err(KeystoreError::Sealed),
            SealState::Unsealed(unsealed) => unsealed,
        };
        let from = unsealed.sealed.kind;
        let to = target.kind();
        let outcome = (|| {
            let people = migrate::check_consent(&unsealed.sealed, &unsealed.root, consent)?;
            let plan = migrate::plan(from, people, target)?;
            let mut sealed = plan.seal.seal_root(&unsealed.root)?;
            sealed.recovery = plan.recovery;
            // The new seal must open what it sealed before it replaces the old.
            if !plan.seal.unseal_root(&sealed)?.ct_eq(&unsealed.root) {
                return Err(SealError::WrongUnsealMaterial);
            }
            Ok((plan.seal, sealed, plan.new_shares))
        })();
        let (seal, sealed, new_shares) = match outcome {
            Ok(outcome) => outcome,
            Err(error) => {
                let code = match &error {
                    SealError::DeviceUnavailable { .. } | SealError::DeviceRefused { .. } => {
                        refusal_code(&error)
                    }
                    _ => "bad_request",
                };
                self.audit_refusal(
                    caller,
                    "sys.seal_migrate",
                    None,
                    Some(&unsealed.sealed.audit_id()),
                    code,
                );
                return Err(error.into());
            }
        };
        crash_point("seal-migrate-sealed");
        let description = format!("{} -> {}", unsealed.sealed.audit_id(), sealed.audit_id());
        if new_shares.is_empty() {
            self.store.commit(
                vec![
                    // Another server of the cluster may have rotated the root
                    // since: this seal of the old root must not replace it.
                    Write::ExpectSystem {
                        name: crate::service::ROOT_EPOCH.to_owned(),
                        value: unsealed.root_epoch.clone(),
                    },
                    Write::PutSystem {
                        name: SEALED_ROOT.to_owned(),
                        value: encode(&sealed)?,
                    },
                ],
                event(caller, "sys.seal_migrate", None, Some(&description)),
            )?;
            crash_point("seal-migrate-committed");
            tracing::info!(from = %from, to = %to, "root key migrated to another seal");
            unsealed.sealed = sealed;
            unsealed.seal = seal;
        } else {
            self.store.commit(
                vec![Write::PutSystem {
                    name: SEAL_MIGRATION.to_owned(),
                    value: encode(&sealed)?,
                }],
                event(caller, "sys.seal_migrate_start", None, Some(&description)),
            )?;
            crash_point("seal-migrate-pending");
            tracing::info!(from = %from, to = %to, "seal migration waits for its new shares");
        }
        drop(state);
        Ok(Migration {
            from,
            to,
            new_shares,
            status: self.status(),
        })
    }

    /// Completes a migration that waits for its new shares: a quorum of them
    /// must open the pending sealed root (to Shamir) or match its recovery
    /// verifier (to a device seal, which `automatic` must then be and which
    /// must open it); then it replaces the old sealed root in one transaction.
    pub fn complete_seal_migration(
        &self,
        caller: &Caller,
        shares: &[UnsealShare],
        automatic: Option<Box<dyn Seal>>,
    ) -> Result<Status, KeystoreError> {
        let pending = self
            .pending_migration()?
            .ok_or(SealError::NoPendingMigration)?;
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        let unsealed = match &mut *state {
            SealState::Uninitialized => return Err(KeystoreError::NotInitialized),
            SealState::Sealed(_) => return Err(KeystoreError::Sealed),
            SealState::Unsealed(unsealed) => unsealed,
        };
        let outcome = (|| -> Result<Box<dyn Seal>, SealError> {
            let seal: Box<dyn Seal> = match (pending.shamir_params(), automatic) {
                (Some(params), _) => Box::new(ShamirSeal::from_shares(shares, params)?),
                (None, Some(seal)) => {
                    pending
                        .recovery
                        .as_ref()
                        .ok_or(SealError::InconsistentSealedRoot { kind: pending.kind })?
                        .open(shares)?;
                    seal
                }
                (None, None) => {
                    return Err(SealError::KindMismatch {
                        expected: pending.kind,
                        found: unsealed.sealed.kind,
                    });
                }
            };
            if seal.kind() != pending.kind {
                return Err(SealError::KindMismatch {
                    expected: pending.kind,
                    found: seal.kind(),
                });
            }
            if !seal.unseal_root(&pending)?.ct_eq(&unsealed.root) {
                return Err(SealError::WrongUnsealMaterial);
            }
            Ok(seal)
        })();
        let seal = match outcome {
            Ok(seal) => seal,
            Err(error) => {
                self.audit_refusal(
                    caller,
                    "sys.seal_migrate_complete",
                    None,
                    Some(&pending.audit_id()),
                    refusal_code(&error),
                );
                return Err(error.into());
            }
        };
        let description = format!("{} -> {}", unsealed.sealed.audit_id(), pending.audit_id());
        self.store.commit(
            vec![
                // As above: never over a root another server rotated since.
                Write::ExpectSystem {
                    name: crate::service::ROOT_EPOCH.to_owned(),
                    value: unsealed.root_epoch.clone(),
                },
                Write::PutSystem {
                    name: SEALED_ROOT.to_owned(),
                    value: encode(&pending)?,
                },
                Write::PutSystem {
                    name: SEAL_MIGRATION.to_owned(),
                    value: Vec::new(),
                },
            ],
            event(caller, "sys.seal_migrate", None, Some(&description)),
        )?;
        crash_point("seal-migrate-completed");
        tracing::info!(to = %pending.kind, "root key migrated to another seal");
        unsealed.sealed = pending;
        unsealed.seal = seal;
        drop(state);
        Ok(self.status())
    }

    /// Forgets a migration that waits for its new shares; the seal in use stays.
    pub fn cancel_seal_migration(&self, caller: &Caller) -> Result<Status, KeystoreError> {
        let pending = self
            .pending_migration()?
            .ok_or(SealError::NoPendingMigration)?;
        self.store.commit(
            vec![Write::PutSystem {
                name: SEAL_MIGRATION.to_owned(),
                value: Vec::new(),
            }],
            event(
                caller,
                "sys.seal_migrate_cancel",
                None,
                Some(&pending.audit_id()),
            ),
        )?;
        Ok(self.status())
    }
}
