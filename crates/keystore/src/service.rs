//! The key manager's core: [`Keystore`], its seal state (initialize, unseal,
//! seal) and the root → tenant → object key hierarchy (tenant keys made,
//! rotated and re-wrapped; object material wrapped and unwrapped). The
//! operations on objects, volumes, secrets, nodes, tokens and policies are
//! `impl Keystore` blocks of their own modules; every one that reads material
//! or changes state is committed together with its audit record.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::caller::{Caller, event};
use crate::error::KeystoreError;
use crate::journal::AuditKeys;
use crate::model::TokenRow;
use crate::object::{ObjectMeta, validate_name};
use crate::seal::{
    PassphraseSeal, Seal, SealKind, SealedRoot, ShamirSeal, UnsealProgress, UnsealShare,
};
use crate::secret::{Key256, SecretBytes};
use crate::store::{Generations, Store, StoreError, TenantKeyRow, VersionRow, Write};
use crate::wrap::{self, WrapError};

/// System key under which the sealed root is stored.
pub(crate) const SEALED_ROOT: &str = "sealed_root";

/// System key of the audit master key, wrapped by the root. The audit keys derive
/// from it rather than from the root, so rotating the root keeps old checkpoints
/// verifiable.
const AUDIT_KEY: &str = "audit_key";

const AUDIT_KEY_AAD: &[u8] = b"cryptainer-audit-key-v1";

/// System key of the root's epoch (8 bytes, big-endian), one more at every
/// root rotation; absent until the first. Every write that wraps under the
/// root expects the epoch it read, so a server still holding the previous
/// root never stores a tenant key another server's rotation missed.
pub(crate) const ROOT_EPOCH: &str = "root_epoch";

/// How many versions are re-wrapped per transaction when a tenant key rotates.
const REWRAP_BATCH: u32 = 500;

/// The seal status, answered even while sealed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    /// Whether a root key exists.
    pub initialized: bool,
    /// Whether the root key is sealed (not in memory).
    pub sealed: bool,
    /// The seal kind, once initialized.
    pub seal: Option<&'static str>,
    /// Shares needed (Shamir seal).
    pub threshold: u8,
    /// Shares made (Shamir seal).
    pub shares: u8,
    /// Shares given so far toward unsealing.
    pub progress: u8,
    /// The seal's device and key, recovery shares, pending migration.
    #[serde(flatten)]
    pub details: crate::sealing::SealDetails,
}

/// What `initialize` returns, once: the unseal shares (empty for a passphrase seal).
pub struct Initialized {
    /// The unseal shares, to hand to different people.
    pub shares: Vec<UnsealShare>,
    /// The recovery shares of an automatic seal (empty otherwise).
    pub recovery_shares: Vec<UnsealShare>,
}

/// How the root is to be sealed at initialization.
pub enum SealChoice {
    /// Shamir shares.
    Shamir {
        /// Shares made.
        shares: u8,
        /// Shares needed.
        threshold: u8,
    },
    /// A passphrase through Argon2id.
    Passphrase(PassphraseSeal),
    /// A device (PKCS#11, TPM 2.0, remote KMIP), with recovery shares.
    Automatic {
        /// The configured device seal.
        seal: Box<dyn Seal>,
        /// Recovery shares made.
        recovery_shares: u8,
        /// Recovery shares needed.
        recovery_threshold: u8,
    },
}

/// A tenant's key versions, unwrapped, while unsealed.
struct TenantKeys {
    current: u32,
    keys: BTreeMap<u32, Key256>,
}

/// The unsealed state: the root key and the seal that protects it.
pub(crate) struct Unsealed {
    pub(crate) root: Key256,
    /// The stored form of `root`, kept so sealing and status need no store read.
    pub(crate) sealed: SealedRoot,
    /// The stored [`ROOT_EPOCH`] of `root` (`None`: never rotated).
    pub(crate) root_epoch: Option<Vec<u8>>,
    audit_master: Key256,
    pub(crate) seal: Box<dyn Seal>,
    tenants: HashMap<String, TenantKeys>,
}

pub(crate) enum SealState {
    Uninitialized,
    Sealed(SealedRoot),
    Unsealed(Box<Unsealed>),
}

/// The key manager core.
pub struct Keystore {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) state: RwLock<SealState>,
    progress: Mutex<Option<UnsealProgress>>,
    /// Serializes the creation and rotation of tenant keys so two requests never
    /// make two different keys for the same tenant version.
    tenant_lock: Mutex<()>,
    /// Serializes changes to existing objects (rotate, revoke, destroy): each
    /// re-reads the object under it, so two changes never both build on the
    /// same state and one silently undo the other. Other servers sharing the
    /// database are kept out by the `ExpectObject` write each change carries.
    mutation_lock: Mutex<()>,
    /// The store's change counters when the root and the tenant keys in
    /// memory were last read from it ([`Keystore::refresh`]).
    seen_root: AtomicU64,
    seen_tenant_keys: AtomicU64,
}

/// What a change to an existing object holds while it is built: the mutation
/// lock, and the object as stored, which the commit expects unchanged.
pub(crate) struct Unchanged<'a> {
    _guard: std::sync::MutexGuard<'a, ()>,
    stored: ObjectMeta,
}

impl Unchanged<'_> {
    /// The write that refuses the commit if another server changed the
    /// object since it was read.
    pub(crate) fn expect(&self) -> Write {
        Write::ExpectObject(Box::new(self.stored.clone()))
    }

    /// The object as stored.
    pub(crate) fn stored(&self) -> &ObjectMeta {
        &self.stored
    }
}

fn object_aad(object_id: &str, version: u32) -> Vec<u8> {
    format!("cryptainer-object-v1:{object_id}:{version}").into_bytes()
}

fn tenant_aad(tenant: &str, version: u32) -> Vec<u8> {
    format!("cryptainer-tenant-v1:{tenant}:{version}").into_bytes()
}

/// Wraps `data`; names what failed when it cannot (data over the AES-GCM limit).
fn wrap_with(
    key: &Key256,
    data: &[u8],
    aad: &[u8],
    what: impl FnOnce() -> String,
) -> Result<Vec<u8>, KeystoreError> {
    wrap::wrap(key, data, aad).map_err(|source| KeystoreError::Unwrap {
        what: what(),
        source,
    })
}

impl Keystore {
    /// Opens the key manager over `store`. It starts sealed (or uninitialized).
    pub(crate) fn open_store(store: Arc<dyn Store>) -> Result<Keystore, KeystoreError> {
        let state = match store.get_system(SEALED_ROOT)? {
            None => SealState::Uninitialized,
            Some(bytes) => SealState::Sealed(serde_json::from_slice(&bytes).map_err(|error| {
                StoreError::Corrupt {
                    what: "sealed root",
                    detail: error.to_string(),
                }
            })?),
        };
        let seen = store.changes().current();
        Ok(Keystore {
            store,
            state: RwLock::new(state),
            progress: Mutex::new(None),
            tenant_lock: Mutex::new(()),
            mutation_lock: Mutex::new(()),
            seen_root: AtomicU64::new(seen.root),
            seen_tenant_keys: AtomicU64::new(seen.tenant_keys),
        })
    }

    /// Opens the key manager over the SQLite store at `path`, made if it does
    /// not exist, with its audit log beside it (`cryptainer.db` →
    /// `cryptainer.audit.db`). It starts sealed (or uninitialized).
    pub fn open_sqlite(path: &std::path::Path) -> Result<Keystore, KeystoreError> {
        let store = crate::store::sqlite::SqliteStore::open(path)?;
        Keystore::open_store(Arc::new(store))
    }

    /// Opens the key manager over the PostgreSQL database at `url`
    /// (`postgres://user@host/database?sslmode=verify-full&sslrootcert=...`;
    /// plaintext only to a loopback address or a Unix socket), applying the
    /// schema migrations it lacks. Several servers may open the same
    /// database: it orders what they do. It starts sealed (or uninitialized).
    pub fn open_postgres(url: &str) -> Result<Keystore, KeystoreError> {
        let store = crate::store::postgres::PostgresStore::open(url)?;
        Keystore::open_store(Arc::new(store))
    }

    /// Seal status, after catching up with what other servers of the
    /// cluster changed (another may have initialized the database): may read
    /// the store, so call it from a blocking thread.
    pub fn status(&self) -> Status {
        self.refresh_quietly();
        let uninitialized = matches!(
            *self.state.read().unwrap_or_else(PoisonError::into_inner),
            SealState::Uninitialized
        );
        if uninitialized {
            match read_sealed_root(&*self.store) {
                Ok(Some(stored)) => {
                    let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
                    if matches!(*state, SealState::Uninitialized) {
                        *state = SealState::Sealed(stored);
                    }
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "could not read the sealed root"),
            }
        }
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        let progress = self
            .progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map_or(0, |progress| progress.have());
        let (initialized, sealed, sealed_root) = match &*state {
            SealState::Uninitialized => (false, true, None),
            SealState::Sealed(root) => (true, true, Some(root)),
            SealState::Unsealed(unsealed) => (true, false, Some(&unsealed.sealed)),
        };
        let (seal, threshold, shares) = sealed_root.map_or((None, 0, 0), describe);
        let details = self.seal_details(sealed_root);
        Status {
            initialized,
            sealed,
            seal,
            threshold,
            shares,
            progress,
            details,
        }
    }

    /// Whether the root key is in memory (reads nothing from the store).
    pub fn is_unsealed(&self) -> bool {
        matches!(
            *self.state.read().unwrap_or_else(PoisonError::into_inner),
            SealState::Unsealed(_)
        )
    }

    /// Makes the root key and seals it. The key manager stays sealed afterwards.
    /// `tokens` (the first admin token) are stored in the same transaction.
    pub fn initialize(
        &self,
        caller: &Caller,
        choice: SealChoice,
        tokens: Vec<TokenRow>,
    ) -> Result<Initialized, KeystoreError> {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if !matches!(*state, SealState::Uninitialized) {
            return Err(KeystoreError::AlreadyInitialized);
        }
        let choice_recovery = match &choice {
            SealChoice::Automatic {
                recovery_shares,
                recovery_threshold,
                ..
            } => Some((*recovery_shares, *recovery_threshold)),
            SealChoice::Shamir { .. } | SealChoice::Passphrase(_) => None,
        };
        let root = Key256::generate();
        let (seal, shares): (Box<dyn Seal>, Vec<UnsealShare>) = match choice {
            SealChoice::Shamir { shares, threshold } => {
                let (seal, shares) = ShamirSeal::initialize(shares, threshold)?;
                (Box::new(seal), shares)
            }
            SealChoice::Passphrase(seal) => (Box::new(seal), Vec::new()),
            SealChoice::Automatic { seal, .. } => (seal, Vec::new()),
        };
        let (recovery, recovery_shares) = match choice_recovery {
            Some((count, threshold)) => {
                let (key, shares) = crate::seal::RecoveryParams::generate(count, threshold)?;
                (Some(key.params()), shares)
            }
            None => (None, Vec::new()),
        };
        let mut sealed = seal.seal_root(&root)?;
        sealed.recovery = recovery;
        let bytes = serde_json::to_vec(&sealed).map_err(|error| StoreError::Corrupt {
            what: "sealed root",
            detail: error.to_string(),
        })?;
        let audit_master = Key256::generate();
        let mut writes = vec![
            // Another server of the cluster may have initialized the shared
            // database since this one read it: then this one is refused.
            Write::ExpectSystem {
                name: SEALED_ROOT.to_owned(),
                value: None,
            },
            Write::PutSystem {
                name: SEALED_ROOT.to_owned(),
                value: bytes,
            },
            Write::PutSystem {
                name: AUDIT_KEY.to_owned(),
                value: wrap_with(&root, audit_master.expose_secret(), AUDIT_KEY_AAD, || {
                    "the audit key".to_owned()
                })?,
            },
        ];
        writes.extend(tokens.into_iter().map(Write::PutToken));
        match self.store.commit(
            writes,
            event(caller, "sys.init", None, Some(&sealed.audit_id())),
        ) {
            Ok(_) => {}
            Err(StoreError::Stale { .. }) => {
                if let Some(stored) = read_sealed_root(&*self.store)? {
                    *state = SealState::Sealed(stored);
                }
                return Err(KeystoreError::AlreadyInitialized);
            }
            Err(error) => return Err(error.into()),
        }
        *state = SealState::Sealed(sealed);
        Ok(Initialized {
            shares,
            recovery_shares,
        })
    }

    /// Gives one unseal share. Returns the status; unsealed once the threshold is
    /// reached.
    pub fn unseal_with_share(&self, caller: &Caller, share: &str) -> Result<Status, KeystoreError> {
        let sealed = self.sealed_root()?;
        let Some(sealed) = sealed else {
            return Ok(self.status());
        };
        let outcome = (|| {
            let share = UnsealShare::parse(share)?;
            let mut progress = self.progress.lock().unwrap_or_else(PoisonError::into_inner);
            let collector = match progress.as_mut() {
                Some(collector) => collector,
                None => progress.insert(UnsealProgress::for_sealed_root(&sealed)?),
            };
            collector.add(share)?;
            match collector.complete() {
                None => Ok(None),
                Some(seal) => {
                    *progress = None;
                    Ok(Some(seal))
                }
            }
        })();
        let seal = match outcome {
            Ok(seal) => seal,
            Err(error) => {
                self.audit_refusal(caller, "sys.unseal", None, None, "wrong_unseal_material");
                return Err(KeystoreError::Seal(error));
            }
        };
        if let Some(seal) = seal {
            self.unseal_with(caller, Box::new(seal), &sealed)?;
        }
        Ok(self.status())
    }

    /// Unseals with a passphrase.
    pub fn unseal_with_passphrase(
        &self,
        caller: &Caller,
        passphrase: SecretBytes,
    ) -> Result<Status, KeystoreError> {
        let Some(sealed) = self.sealed_root()? else {
            return Ok(self.status());
        };
        if sealed.kind != SealKind::Passphrase {
            return Err(KeystoreError::InvalidArgument(
                "this server is sealed with unseal shares, not a passphrase; give a share"
                    .to_owned(),
            ));
        }
        let seal = PassphraseSeal::from_sealed(passphrase, &sealed)?;
        self.unseal_with(caller, Box::new(seal), &sealed)?;
        Ok(self.status())
    }

    /// Forgets the shares given so far.
    pub fn reset_unseal(&self) {
        *self.progress.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// The sealed root when sealed, `None` when already unsealed. Read from
    /// the store, not memory: another server may have rotated the root.
    pub(crate) fn sealed_root(&self) -> Result<Option<SealedRoot>, KeystoreError> {
        self.refresh()?;
        if let Some(stored) = read_sealed_root(&*self.store)? {
            let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
            if !matches!(*state, SealState::Unsealed(_)) {
                *state = SealState::Sealed(stored);
            }
        }
        match &*self.state.read().unwrap_or_else(PoisonError::into_inner) {
            SealState::Uninitialized => Err(KeystoreError::NotInitialized),
            SealState::Sealed(sealed) => Ok(Some(sealed.clone())),
            SealState::Unsealed(_) => Ok(None),
        }
    }

    fn unseal_with(
        &self,
        caller: &Caller,
        seal: Box<dyn Seal>,
        sealed: &SealedRoot,
    ) -> Result<(), KeystoreError> {
        let root = match seal.unseal_root(sealed) {
            Ok(root) => root,
            Err(error) => {
                self.audit_refusal(
                    caller,
                    "sys.unseal",
                    None,
                    Some(&sealed.audit_id()),
                    crate::sealing::refusal_code(&error),
                );
                return Err(error.into());
            }
        };
        self.install_root(caller, seal, sealed, root)
    }

    /// Makes `root`, opened by `seal` from `sealed`, the root in memory: loads
    /// the tenant and audit keys under it and records the unseal.
    pub(crate) fn install_root(
        &self,
        caller: &Caller,
        seal: Box<dyn Seal>,
        sealed: &SealedRoot,
        root: Key256,
    ) -> Result<(), KeystoreError> {
        // What is read below is at least as new as these counters.
        let seen = self.store.changes().current();
        let tenants = load_tenant_keys(&self.store, &root)?;
        let wrapped_audit =
            self.store
                .get_system(AUDIT_KEY)?
                .ok_or_else(|| StoreError::Corrupt {
                    what: "audit key",
                    detail: "missing".to_owned(),
                })?;
        let audit_master = wrap::unwrap(&root, &wrapped_audit, AUDIT_KEY_AAD)
            .map_err(|source| KeystoreError::Unwrap {
                what: "the audit key".to_owned(),
                source,
            })
            .and_then(|bytes| {
                Key256::from_slice(bytes.expose_secret()).map_err(|_| KeystoreError::Unwrap {
                    what: "the audit key".to_owned(),
                    source: WrapError::UnknownKey,
                })
            })?;
        let audit_keys = AuditKeys::derive(&audit_master);
        let root_epoch = self.store.get_system(ROOT_EPOCH)?;
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if let SealState::Unsealed(_) = *state {
            return Ok(());
        }
        self.store
            .journal()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .set_keys(Some(audit_keys));
        *state = SealState::Unsealed(Box::new(Unsealed {
            root,
            sealed: sealed.clone(),
            root_epoch,
            audit_master,
            seal,
            tenants,
        }));
        self.seen_root.store(seen.root, Ordering::Release);
        self.seen_tenant_keys
            .store(seen.tenant_keys, Ordering::Release);
        drop(state);
        self.store.changes().bump(&[crate::store::Change::Seal]);
        self.store.commit(
            Vec::new(),
            event(caller, "sys.unseal", None, Some(&sealed.audit_id())),
        )?;
        tracing::info!(seal = %sealed.audit_id(), "key manager unsealed");
        Ok(())
    }

    /// Drops the root key and every tenant key from memory.
    pub fn seal(&self, caller: &Caller) -> Result<Status, KeystoreError> {
        // Sign the head while the signing key is still here.
        self.store
            .journal()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .request_checkpoint();
        let seal_id = self.sealed_audit_id();
        self.store.commit(
            Vec::new(),
            event(caller, "sys.seal", None, seal_id.as_deref()),
        )?;
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if let SealState::Unsealed(unsealed) = &*state {
            let sealed = unsealed.sealed.clone();
            // Replacing the state drops `Unsealed`, whose keys zeroize on drop.
            *state = SealState::Sealed(sealed);
            self.store
                .journal()
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .set_keys(None);
            tracing::info!("key manager sealed");
        }
        drop(state);
        self.store.changes().bump(&[crate::store::Change::Seal]);
        Ok(self.status())
    }

    /// Runs `body` with the unsealed state, or fails with `Sealed`.
    fn with_unsealed<T>(
        &self,
        body: impl FnOnce(&Unsealed) -> Result<T, KeystoreError>,
    ) -> Result<T, KeystoreError> {
        self.refresh()?;
        match &*self.state.read().unwrap_or_else(PoisonError::into_inner) {
            SealState::Uninitialized => Err(KeystoreError::NotInitialized),
            SealState::Sealed(_) => Err(KeystoreError::Sealed),
            SealState::Unsealed(unsealed) => body(unsealed),
        }
    }

    fn with_unsealed_mut<T>(
        &self,
        body: impl FnOnce(&mut Unsealed) -> Result<T, KeystoreError>,
    ) -> Result<T, KeystoreError> {
        self.refresh()?;
        match &mut *self.state.write().unwrap_or_else(PoisonError::into_inner) {
            SealState::Uninitialized => Err(KeystoreError::NotInitialized),
            SealState::Sealed(_) => Err(KeystoreError::Sealed),
            SealState::Unsealed(unsealed) => body(unsealed),
        }
    }

    /// Fails with `Sealed` unless unsealed.
    pub fn require_unsealed(&self) -> Result<(), KeystoreError> {
        self.with_unsealed(|_| Ok(()))
    }

    /// Runs `body` with the root key and its stored epoch (what a write that
    /// wraps under the root expects), or fails with `Sealed`.
    pub(crate) fn with_root_epoch<T>(
        &self,
        body: impl FnOnce(&Key256, Option<&[u8]>) -> Result<T, KeystoreError>,
    ) -> Result<T, KeystoreError> {
        self.with_unsealed(|unsealed| body(&unsealed.root, unsealed.root_epoch.as_deref()))
    }

    /// Runs `body` with the root key, or fails with `Sealed`.
    pub(crate) fn with_root<T>(
        &self,
        body: impl FnOnce(&Key256) -> Result<T, KeystoreError>,
    ) -> Result<T, KeystoreError> {
        self.with_unsealed(|unsealed| body(&unsealed.root))
    }

    /// The store's change counters now: what other servers of the cluster
    /// changed (see [`Generations`]).
    pub fn generations(&self) -> Generations {
        self.store.changes().current()
    }

    /// A receiver woken whenever a change counter moves: the server reloads
    /// its deny list and CA when `nodes` and `ca` do.
    pub fn watch_changes(&self) -> tokio::sync::watch::Receiver<Generations> {
        self.store.changes().watch()
    }

    /// Whether the store's reads wait on a database server, so a caller on an
    /// async worker should move its work to a blocking thread.
    pub fn reads_wait(&self) -> bool {
        self.store.reads_wait()
    }

    /// The storage backend's name (`sqlite`, `postgresql`).
    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    /// Brings the root and tenant keys in memory up to date when the store's
    /// counters say another server changed them since they were read; a
    /// failure is logged, and the next use tries again.
    fn refresh_quietly(&self) {
        if let Err(error) = self.refresh() {
            tracing::warn!(%error, "could not reload what another server changed");
        }
    }

    /// Reloads the sealed root (and, when unsealed, the root and every
    /// tenant key) when another server changed them, then the tenant keys
    /// alone when only they changed. Cheap when nothing changed: two counters
    /// compared.
    pub(crate) fn refresh(&self) -> Result<(), KeystoreError> {
        let now = self.store.changes().current();
        if now.root != self.seen_root.load(Ordering::Acquire) {
            self.reload_root()?;
            self.seen_root.store(now.root, Ordering::Release);
            self.seen_tenant_keys
                .store(now.tenant_keys, Ordering::Release);
        } else if now.tenant_keys != self.seen_tenant_keys.load(Ordering::Acquire) {
            self.reload_tenant_keys()?;
            self.seen_tenant_keys
                .store(now.tenant_keys, Ordering::Release);
        }
        Ok(())
    }

    /// Reads the sealed root again. While sealed it replaces the one in
    /// memory (the next unseal opens the current one); while unsealed, when
    /// it differs, the seal in memory opens it (a rotation keeps the seal),
    /// and the tenant keys are read again under the new root.
    fn reload_root(&self) -> Result<(), KeystoreError> {
        let Some(stored) = read_sealed_root(&*self.store)? else {
            return Ok(());
        };
        let root_epoch = self.store.get_system(ROOT_EPOCH)?;
        let rows = self.store.tenant_keys()?;
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        match &mut *state {
            SealState::Uninitialized | SealState::Sealed(_) => {
                *state = SealState::Sealed(stored);
            }
            SealState::Unsealed(unsealed) => {
                if unsealed.sealed == stored {
                    unsealed.tenants = tenant_keys_from(rows, &unsealed.root)?;
                    return Ok(());
                }
                match unsealed.seal.unseal_root(&stored) {
                    Ok(root) => {
                        unsealed.tenants = tenant_keys_from(rows, &root)?;
                        unsealed.root = root;
                        unsealed.sealed = stored;
                        unsealed.root_epoch = root_epoch;
                        tracing::info!("the root key was rotated by another server; now using it");
                    }
                    Err(error) => {
                        // The root was sealed with other material than this
                        // server holds: it cannot follow, and must not go on
                        // wrapping under a root the others no longer use.
                        tracing::error!(
                            %error,
                            "another server re-sealed the root with other unseal material; \
                             sealing this server: unseal it again"
                        );
                        *state = SealState::Sealed(stored);
                        drop(state);
                        self.store
                            .journal()
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .set_keys(None);
                        self.store.changes().bump(&[crate::store::Change::Seal]);
                    }
                }
            }
        }
        Ok(())
    }

    /// Takes the sealed root a restore wrote: the key manager is sealed
    /// under it from now on.
    pub(crate) fn after_restore(&self) -> Result<(), KeystoreError> {
        if let Some(stored) = read_sealed_root(&*self.store)? {
            *self.state.write().unwrap_or_else(PoisonError::into_inner) = SealState::Sealed(stored);
        }
        Ok(())
    }

    /// Reads every tenant key again (another server made or rotated one).
    /// When they no longer open under this server's root, another server
    /// rotated the root: the root is read again first.
    pub(crate) fn reload_tenant_keys(&self) -> Result<(), KeystoreError> {
        let rows = self.store.tenant_keys()?;
        let reloaded = {
            let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
            match &mut *state {
                SealState::Unsealed(unsealed) => {
                    tenant_keys_from(rows, &unsealed.root).map(|tenants| unsealed.tenants = tenants)
                }
                _ => Ok(()),
            }
        };
        match reloaded {
            Err(KeystoreError::Unwrap { .. }) => self.reload_root(),
            other => other,
        }
    }

    /// Replaces the root key: every tenant key is re-wrapped under the new root and
    /// the new root is sealed with the same seal. Object material is not touched.
    ///
    /// The commit expects the root's epoch and the number of tenant keys it
    /// read: a tenant key another server added meanwhile (wrapped under the
    /// old root) refuses the rotation rather than being left behind.
    pub fn rotate_root(&self, caller: &Caller) -> Result<(), KeystoreError> {
        let _tenant_guard = self
            .tenant_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.reload_tenant_keys()?;
        let key_count = u64::try_from(self.store.tenant_keys()?.len()).unwrap_or(u64::MAX);
        let ca_key = self.store.get_system(crate::ca::CA_KEY)?;
        let ca_public = self.store.get_system(crate::ca::CA_PUBLIC)?;
        self.with_unsealed_mut(|unsealed| {
            let new_root = Key256::generate();
            let next_epoch = epoch_after(unsealed.root_epoch.as_deref());
            let mut writes = vec![
                Write::ExpectSystem {
                    name: ROOT_EPOCH.to_owned(),
                    value: unsealed.root_epoch.clone(),
                },
                Write::ExpectTenantKeyCount(key_count),
                Write::ExpectSystem {
                    name: crate::ca::CA_KEY.to_owned(),
                    value: ca_key.clone(),
                },
            ];
            let stored_keys: usize = unsealed.tenants.values().map(|keys| keys.keys.len()).sum();
            if u64::try_from(stored_keys).ok() != Some(key_count) {
                return Err(KeystoreError::Store(StoreError::Stale {
                    what: "the set of tenant keys".to_owned(),
                }));
            }
            for (tenant, keys) in &unsealed.tenants {
                for (version, key) in &keys.keys {
                    writes.push(Write::RewrapTenantKey(TenantKeyRow {
                        tenant: tenant.clone(),
                        version: *version,
                        wrapped: wrap_with(
                            &new_root,
                            key.expose_secret(),
                            &tenant_aad(tenant, *version),
                            || format!("tenant key {tenant} version {version}"),
                        )?,
                    }));
                }
            }
            if let (Some(wrapped), Some(public)) = (&ca_key, &ca_public) {
                let rewrapped =
                    crate::ca::rewrap_ca_key(&unsealed.root, &new_root, wrapped, public)?;
                writes.push(Write::PutSystem {
                    name: crate::ca::CA_KEY.to_owned(),
                    value: rewrapped,
                });
            }
            let mut sealed = unsealed.seal.seal_root(&new_root)?;
            // The recovery shares belong to the people, not to the root.
            sealed.recovery.clone_from(&unsealed.sealed.recovery);
            let bytes = serde_json::to_vec(&sealed).map_err(|error| StoreError::Corrupt {
                what: "sealed root",
                detail: error.to_string(),
            })?;
            writes.push(Write::PutSystem {
                name: SEALED_ROOT.to_owned(),
                value: bytes,
            });
            writes.push(Write::PutSystem {
                name: ROOT_EPOCH.to_owned(),
                value: next_epoch.clone(),
            });
            writes.push(Write::PutSystem {
                name: AUDIT_KEY.to_owned(),
                value: wrap_with(
                    &new_root,
                    unsealed.audit_master.expose_secret(),
                    AUDIT_KEY_AAD,
                    || "the audit key".to_owned(),
                )?,
            });
            self.store.commit(
                writes,
                event(caller, "sys.rotate_root", None, Some(&sealed.audit_id())),
            )?;
            unsealed.root = new_root;
            unsealed.sealed = sealed;
            unsealed.root_epoch = Some(next_epoch);
            Ok(())
        })
    }

    /// Makes a new version of the tenant's key and re-wraps every object version of
    /// the tenant under it, in batches. Object material does not change.
    pub fn rotate_tenant_key(&self, caller: &Caller, tenant: &str) -> Result<u32, KeystoreError> {
        validate_name("tenant", tenant)?;
        let new_version = {
            let _tenant_guard = self
                .tenant_lock
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            // The newest version may have been made by another server.
            self.reload_tenant_keys()?;
            self.with_unsealed_mut(|unsealed| {
                let current = unsealed
                    .tenants
                    .get(tenant)
                    .map(|keys| keys.current)
                    .ok_or_else(|| KeystoreError::NotFound {
                        what: "tenant",
                        reference: tenant.to_owned(),
                    })?;
                let version = current.saturating_add(1);
                let key = Key256::generate();
                let row = TenantKeyRow {
                    tenant: tenant.to_owned(),
                    version,
                    wrapped: wrap_with(
                        &unsealed.root,
                        key.expose_secret(),
                        &tenant_aad(tenant, version),
                        || format!("tenant key {tenant} version {version}"),
                    )?,
                };
                self.store.commit(
                    vec![
                        Write::ExpectSystem {
                            name: ROOT_EPOCH.to_owned(),
                            value: unsealed.root_epoch.clone(),
                        },
                        Write::InsertTenantKey(row),
                    ],
                    event(caller, "tenant.rotate_key", Some(tenant), None),
                )?;
                if let Some(keys) = unsealed.tenants.get_mut(tenant) {
                    keys.keys.insert(version, key);
                    keys.current = version;
                }
                Ok(version)
            })?
        };
        loop {
            // Under the mutation lock, so a destroy on this server cannot
            // erase a version between this read and the write that re-wraps
            // it; on another server's, the re-wrap only replaces a version
            // still wrapped as read (`RewrapVersion`), never brings one back.
            let _unchanged = self
                .mutation_lock
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let batch = self
                .store
                .versions_below_kek(tenant, new_version, REWRAP_BATCH)?;
            if batch.is_empty() {
                break;
            }
            let writes = self.with_unsealed(|unsealed| {
                let keys = unsealed
                    .tenants
                    .get(tenant)
                    .ok_or_else(|| KeystoreError::NotFound {
                        what: "tenant",
                        reference: tenant.to_owned(),
                    })?;
                let new_key = keys.keys.get(&new_version).ok_or(KeystoreError::Sealed)?;
                let mut writes = Vec::with_capacity(batch.len());
                for row in &batch {
                    let old_key =
                        keys.keys
                            .get(&row.kek_version)
                            .ok_or_else(|| KeystoreError::Unwrap {
                                what: format!("object {} version {}", row.object_id, row.version),
                                source: WrapError::UnknownKey,
                            })?;
                    let aad = object_aad(&row.object_id, row.version);
                    let material = wrap::unwrap(old_key, &row.wrapped, &aad).map_err(|source| {
                        KeystoreError::Unwrap {
                            what: format!("object {} version {}", row.object_id, row.version),
                            source,
                        }
                    })?;
                    writes.push(Write::RewrapVersion {
                        row: VersionRow {
                            kek_version: new_version,
                            wrapped: wrap_with(new_key, material.expose_secret(), &aad, || {
                                format!("object {} version {}", row.object_id, row.version)
                            })?,
                            ..row.clone()
                        },
                        from_kek: row.kek_version,
                    });
                }
                Ok(writes)
            })?;
            self.store
                .commit(writes, event(caller, "tenant.rewrap", Some(tenant), None))?;
        }
        Ok(new_version)
    }

    /// The tenant's current key, making the tenant's first key if it has none
    /// (unless another server made it meanwhile: then that one).
    pub(crate) fn tenant_key_version(
        &self,
        caller: &Caller,
        tenant: &str,
    ) -> Result<u32, KeystoreError> {
        let cached = || {
            self.with_unsealed(|unsealed| Ok(unsealed.tenants.get(tenant).map(|keys| keys.current)))
        };
        if let Some(version) = cached()? {
            return Ok(version);
        }
        let _tenant_guard = self
            .tenant_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Another server may have made it since this one last read them.
        self.reload_tenant_keys()?;
        if let Some(version) = cached()? {
            return Ok(version);
        }
        let made = self.with_unsealed_mut(|unsealed| {
            if let Some(keys) = unsealed.tenants.get(tenant) {
                return Ok(keys.current);
            }
            let key = Key256::generate();
            let row = TenantKeyRow {
                tenant: tenant.to_owned(),
                version: 1,
                wrapped: wrap_with(
                    &unsealed.root,
                    key.expose_secret(),
                    &tenant_aad(tenant, 1),
                    || format!("tenant key {tenant} version 1"),
                )?,
            };
            self.store.commit(
                vec![
                    Write::ExpectSystem {
                        name: ROOT_EPOCH.to_owned(),
                        value: unsealed.root_epoch.clone(),
                    },
                    Write::InsertTenantKey(row),
                ],
                event(caller, "tenant.create_key", Some(tenant), None),
            )?;
            let mut keys = BTreeMap::new();
            keys.insert(1, key);
            unsealed
                .tenants
                .insert(tenant.to_owned(), TenantKeys { current: 1, keys });
            Ok(1)
        });
        match made {
            // Another server made it (or rotated the root) first: use what
            // the store holds now.
            Err(KeystoreError::Store(StoreError::Stale { .. })) => {
                self.reload_root()?;
                self.reload_tenant_keys()?;
                cached()?.ok_or_else(|| {
                    KeystoreError::Store(StoreError::Stale {
                        what: format!("the key of tenant '{tenant}'"),
                    })
                })
            }
            other => other,
        }
    }

    pub(crate) fn wrap_material(
        &self,
        tenant: &str,
        kek_version: u32,
        object_id: &str,
        version: u32,
        material: &[u8],
    ) -> Result<VersionRow, KeystoreError> {
        self.with_unsealed(|unsealed| {
            let key = unsealed
                .tenants
                .get(tenant)
                .and_then(|keys| keys.keys.get(&kek_version))
                .ok_or(KeystoreError::Sealed)?;
            Ok(VersionRow {
                object_id: object_id.to_owned(),
                version,
                tenant: tenant.to_owned(),
                kek_version,
                wrapped: wrap_with(key, material, &object_aad(object_id, version), || {
                    format!("object {object_id} version {version}")
                })?,
            })
        })
    }

    /// Unwraps one version of an object's material (the current one when
    /// `version` is `None`). The caller audits the read.
    pub(crate) fn unwrap_version(
        &self,
        meta: &ObjectMeta,
        version: Option<u32>,
    ) -> Result<(u32, SecretBytes), KeystoreError> {
        self.unwrap_version_from(meta, version, None)
    }

    /// [`Keystore::unwrap_version`], taking the version's row from `read` when
    /// it is that version (read with the metadata) instead of from the store.
    pub(crate) fn unwrap_version_from(
        &self,
        meta: &ObjectMeta,
        version: Option<u32>,
        read: Option<&VersionRow>,
    ) -> Result<(u32, SecretBytes), KeystoreError> {
        if meta.state.is_destroyed() {
            return Err(KeystoreError::WrongState {
                id: meta.id.clone(),
                operation: "read the material of",
                state: meta.state,
                hint: "its material was destroyed",
            });
        }
        let version = version.unwrap_or(meta.version);
        let stored;
        let row = match read {
            Some(row) if row.object_id == meta.id && row.version == version => row,
            _ => {
                stored = self.store.get_version(&meta.id, version)?.ok_or_else(|| {
                    KeystoreError::NotFound {
                        what: "key version",
                        reference: format!("{} version {version}", meta.id),
                    }
                })?;
                &stored
            }
        };
        let unwrap = || {
            self.with_unsealed(|unsealed| {
                let key = unsealed
                    .tenants
                    .get(&row.tenant)
                    .and_then(|keys| keys.keys.get(&row.kek_version))
                    .ok_or_else(|| KeystoreError::Unwrap {
                        what: format!("object {} version {version}", meta.id),
                        source: WrapError::UnknownKey,
                    })?;
                wrap::unwrap(key, &row.wrapped, &object_aad(&meta.id, version)).map_err(|source| {
                    KeystoreError::Unwrap {
                        what: format!("object {} version {version}", meta.id),
                        source,
                    }
                })
            })
        };
        let material = match unwrap() {
            // A tenant key another server made or rotated since this one
            // read them (its notification not here yet): read them again.
            Err(KeystoreError::Unwrap {
                source: WrapError::UnknownKey,
                ..
            }) => {
                self.reload_tenant_keys()?;
                unwrap()?
            }
            other => other?,
        };
        Ok((version, material))
    }

    /// Takes the mutation lock and checks that `meta` is still what is stored:
    /// a change built on an older state is refused as stale, to be retried.
    /// The commit of the change carries [`Unchanged::expect`], which refuses
    /// it if another server changed the object in between.
    pub(crate) fn lock_unchanged(&self, meta: &ObjectMeta) -> Result<Unchanged<'_>, KeystoreError> {
        let guard = self
            .mutation_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let stored = self
            .store
            .get_object(&meta.id)?
            .ok_or_else(|| KeystoreError::NotFound {
                what: "key",
                reference: meta.id.clone(),
            })?;
        if stored.version != meta.version || stored.state != meta.state {
            return Err(KeystoreError::Store(StoreError::Stale {
                what: format!("object {}", meta.id),
            }));
        }
        Ok(Unchanged {
            _guard: guard,
            stored,
        })
    }
}

/// The root epoch after `current` (`None`: the first rotation).
fn epoch_after(current: Option<&[u8]>) -> Vec<u8> {
    let current = current
        .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
        .map_or(0, u64::from_be_bytes);
    current.saturating_add(1).to_be_bytes().to_vec()
}

/// The sealed root the store holds, if initialized.
fn read_sealed_root(store: &dyn Store) -> Result<Option<SealedRoot>, KeystoreError> {
    store
        .get_system(SEALED_ROOT)?
        .map(|bytes| {
            serde_json::from_slice(&bytes).map_err(|error| {
                KeystoreError::Store(StoreError::Corrupt {
                    what: "sealed root",
                    detail: error.to_string(),
                })
            })
        })
        .transpose()
}

fn describe(root: &SealedRoot) -> (Option<&'static str>, u8, u8) {
    let (threshold, shares) = root.params.shamir_counts().unwrap_or((0, 0));
    (Some(root.kind.as_str()), threshold, shares)
}

fn load_tenant_keys(
    store: &Arc<dyn Store>,
    root: &Key256,
) -> Result<HashMap<String, TenantKeys>, KeystoreError> {
    tenant_keys_from(store.tenant_keys()?, root)
}

/// Unwraps tenant key rows under `root`.
fn tenant_keys_from(
    rows: Vec<TenantKeyRow>,
    root: &Key256,
) -> Result<HashMap<String, TenantKeys>, KeystoreError> {
    let mut tenants: HashMap<String, TenantKeys> = HashMap::new();
    for row in rows {
        let material = wrap::unwrap(root, &row.wrapped, &tenant_aad(&row.tenant, row.version))
            .map_err(|source| KeystoreError::Unwrap {
                what: format!("tenant key {} version {}", row.tenant, row.version),
                source,
            })?;
        let key =
            Key256::from_slice(material.expose_secret()).map_err(|_| KeystoreError::Unwrap {
                what: format!("tenant key {} version {}", row.tenant, row.version),
                source: WrapError::UnknownKey,
            })?;
        let entry = tenants
            .entry(row.tenant.clone())
            .or_insert_with(|| TenantKeys {
                current: row.version,
                keys: BTreeMap::new(),
            });
        entry.current = entry.current.max(row.version);
        entry.keys.insert(row.version, key);
    }
    Ok(tenants)
}
