//! The key manager's core: seal state, the root → tenant → object hierarchy, and
//! the life cycle of managed objects. Every operation here that reads material or
//! changes state is committed together with its audit record.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use time::OffsetDateTime;

use crate::journal::AuditKeys;
use crate::object::{
    Algorithm, InvalidName, KEY_PAIR_LABEL, ObjectMeta, ObjectType, REPLACED_LABEL,
    REPLACEMENT_LABEL, RevocationReason, State, validate_labels, validate_name,
};
use crate::seal::{
    PassphraseSeal, Seal, SealError, SealKind, SealedRoot, ShamirSeal, UnsealProgress, UnsealShare,
};
use crate::secret::{Key256, SecretBytes};
use crate::store::{
    ListFilter, ObjectRef, PendingCommit, Store, StoreError, TenantKeyRow, TokenRow, VersionRow,
    Write,
};
use crate::wrap::{self, WrapError};

/// System key under which the sealed root is stored.
const SEALED_ROOT: &str = "sealed_root";

/// System key of the audit master key, wrapped by the root. The audit keys derive
/// from it rather than from the root, so rotating the root keeps old checkpoints
/// verifiable.
const AUDIT_KEY: &str = "audit_key";

const AUDIT_KEY_AAD: &[u8] = b"cryptainer-audit-key-v1";

/// How many versions are re-wrapped per transaction when a tenant key rotates.
const REWRAP_BATCH: u32 = 500;

/// One half of a key pair for [`Keystore::register_key_pair`].
pub struct NewHalf<'a> {
    /// The half's unique name in its tenant, if any.
    pub name: Option<&'a str>,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its DER encoding (PKCS#8 for the private half, SubjectPublicKeyInfo for
    /// the public one); wrapped before it reaches the store.
    pub material: SecretBytes,
}

/// Who is asking, for the audit record.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `token:<id>`, `node:<id>`, `anonymous`, `system`.
    pub principal: String,
    /// The peer address, when known.
    pub remote: Option<String>,
}

impl Caller {
    /// The server itself (start-up, dev-mode initialization).
    pub fn system() -> Caller {
        Caller {
            principal: "system".to_owned(),
            remote: None,
        }
    }
}

/// What the key manager can refuse or fail with.
#[derive(Debug, thiserror::Error)]
// Not `#[non_exhaustive]`: the server and kmip map every variant by name, so a
// new one is a compile error there instead of a silent 500 or General Failure.
pub enum KeystoreError {
    /// The server has never been initialized.
    #[error("the key manager is not initialized; run `cryptainer operator init`")]
    NotInitialized,
    /// Initialization was already done.
    #[error("the key manager is already initialized")]
    AlreadyInitialized,
    /// The root key is sealed.
    #[error("the key manager is sealed; unseal it with `cryptainer operator unseal`")]
    Sealed,
    /// No such object (or not visible to the caller).
    #[error("no {what} '{reference}'")]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// The id or name given.
        reference: String,
    },
    /// A name is already used by a live object.
    #[error(
        "an object named '{name}' already exists in tenant '{tenant}'; choose another name or destroy the old one"
    )]
    NameTaken {
        /// Tenant.
        tenant: String,
        /// Name.
        name: String,
    },
    /// The operation is not allowed in the object's state.
    #[error("cannot {operation} object {id}: it is {state}; {hint}")]
    WrongState {
        /// The object.
        id: String,
        /// What was attempted.
        operation: &'static str,
        /// Its state.
        state: State,
        /// What to do instead.
        hint: &'static str,
    },
    /// Another holder has the volume and its lease has not lapsed.
    #[error(
        "volume '{name}' is in use on {holder} until {until}; stop its containers there, or wait for the lease to lapse if that host is gone"
    )]
    VolumeHeld {
        /// The volume.
        name: String,
        /// Who holds it.
        holder: String,
        /// When the lease lapses unless renewed (RFC 3339).
        until: String,
    },
    /// A name, tenant or label was refused.
    #[error(transparent)]
    InvalidName(#[from] InvalidName),
    /// A policy was refused (it grants everyone, or nothing, or holds a bad
    /// digest or name).
    #[error(transparent)]
    InvalidPolicy(#[from] policy::PolicyError),
    /// A policy of this name already exists in the tenant.
    #[error(
        "a policy named '{name}' already exists in tenant '{tenant}'; remove it first or choose another name"
    )]
    PolicyExists {
        /// Tenant.
        tenant: String,
        /// Name.
        name: String,
    },
    /// Another argument was refused.
    #[error("{0}")]
    InvalidArgument(String),
    /// Unseal material was refused, or the seal failed.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// Stored wrapped material did not open (the database was altered or belongs to
    /// another root key), or material could not be wrapped.
    #[error("key material of {what} cannot be wrapped or unwrapped: {source}")]
    Unwrap {
        /// Which object or tenant key.
        what: String,
        /// Why.
        source: WrapError,
    },
    /// The store failed; the operation did not take effect.
    #[error(transparent)]
    Store(#[from] StoreError),
}

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
}

/// What `initialize` returns, once: the unseal shares (empty for a passphrase seal).
pub struct Initialized {
    /// The unseal shares, to hand to different people.
    pub shares: Vec<UnsealShare>,
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
}

/// Which tenants a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantScope {
    /// Every tenant.
    All,
    /// Only these.
    Only(Vec<String>),
}

impl TenantScope {
    /// Whether `tenant` is visible.
    pub fn allows(&self, tenant: &str) -> bool {
        match self {
            TenantScope::All => true,
            TenantScope::Only(tenants) => tenants.iter().any(|allowed| allowed == tenant),
        }
    }
}

/// A tenant's key versions, unwrapped, while unsealed.
struct TenantKeys {
    current: u32,
    keys: BTreeMap<u32, Key256>,
}

/// The unsealed state: the root key and the seal that protects it.
struct Unsealed {
    root: Key256,
    /// The stored form of `root`, kept so sealing and status need no store read.
    sealed: SealedRoot,
    audit_master: Key256,
    seal: Box<dyn Seal>,
    tenants: HashMap<String, TenantKeys>,
}

enum SealState {
    Uninitialized,
    Sealed(SealedRoot),
    Unsealed(Box<Unsealed>),
}

/// An object found for a read of its material ([`Keystore::find_for_read`]):
/// its metadata and its current version's wrapped material, read together.
#[derive(Debug, Clone)]
pub struct Found {
    /// The object's metadata.
    pub meta: ObjectMeta,
    /// The current version's wrapped material (`None` when it has none).
    current: Option<VersionRow>,
}

impl From<ObjectMeta> for Found {
    /// An object whose material was not read with it: a read of the material
    /// looks its version up.
    fn from(meta: ObjectMeta) -> Found {
        Found {
            meta,
            current: None,
        }
    }
}

/// A result whose change and audit record are with the store's writer but may
/// not be durable yet. The value is released only once they are, so a caller
/// cannot answer a request before its audit record is on disk: either block on
/// [`Durable::wait`] or, from an async task, `.await` [`Durable::finish`].
#[must_use = "the value is released only once the commit is durable"]
pub struct Durable<T> {
    value: T,
    /// The commit of one change or read (no allocation on the hot paths).
    commit: Option<PendingCommit>,
    /// Further commits, when an answer was built from several ([`Awaiting`]).
    more: Vec<PendingCommit>,
    map_error: fn(StoreError) -> KeystoreError,
}

impl<T> Durable<T> {
    pub(crate) fn new(value: T, commit: PendingCommit) -> Durable<T> {
        Durable {
            value,
            commit: Some(commit),
            more: Vec::new(),
            map_error: KeystoreError::from,
        }
    }

    fn commits(&mut self) -> impl Iterator<Item = PendingCommit> + use<T> {
        self.commit
            .take()
            .into_iter()
            .chain(std::mem::take(&mut self.more))
    }

    /// Transforms the value that will be released.
    pub fn map<U>(self, transform: impl FnOnce(T) -> U) -> Durable<U> {
        Durable {
            value: transform(self.value),
            commit: self.commit,
            more: self.more,
            map_error: self.map_error,
        }
    }

    /// Blocks this thread until the commit is durable, then releases the value.
    pub fn wait(mut self) -> Result<T, KeystoreError> {
        for commit in self.commits() {
            commit.wait().map_err(self.map_error)?;
        }
        Ok(self.value)
    }

    /// Waits without holding a thread until the commit is durable, then releases
    /// the value.
    pub async fn finish(mut self) -> Result<T, KeystoreError> {
        for commit in self.commits() {
            commit.await.map_err(self.map_error)?;
        }
        Ok(self.value)
    }
}

/// The commits one request's answer waits for, when the answer is built from
/// several audited reads (a KMIP message of several batch items) and sent from
/// an async task. [`Awaiting::take`] hands a read's value over before its
/// record is durable, so that the answer can be built; the answer itself then
/// goes out only through [`Awaiting::release`], a [`Durable`] that waits for
/// every commit taken. Whoever takes a value must send nothing built from it
/// any other way.
#[derive(Default)]
#[must_use = "an answer built from taken values is released only through `release`"]
pub struct Awaiting {
    commits: Vec<PendingCommit>,
}

impl Awaiting {
    /// The value of `durable` now; its commit joins those the answer waits for.
    pub fn take<T>(&mut self, mut durable: Durable<T>) -> T {
        self.commits.extend(durable.commits());
        durable.value
    }

    /// The answer, released once every commit taken is durable.
    pub fn release<T>(self, answer: T) -> Durable<T> {
        Durable {
            value: answer,
            commit: None,
            more: self.commits,
            map_error: KeystoreError::from,
        }
    }
}

pub(crate) fn name_taken_or_store(error: StoreError) -> KeystoreError {
    match error {
        StoreError::NameTaken { tenant, name } => KeystoreError::NameTaken { tenant, name },
        other => other.into(),
    }
}

/// The key manager core.
pub struct Keystore {
    pub(crate) store: Arc<dyn Store>,
    state: RwLock<SealState>,
    progress: Mutex<Option<UnsealProgress>>,
    /// Serializes the creation and rotation of tenant keys so two requests never
    /// make two different keys for the same tenant version.
    tenant_lock: Mutex<()>,
    /// Serializes changes to existing objects (rotate, revoke, destroy): each
    /// re-reads the object under it, so two changes never both build on the
    /// same state and one silently undo the other.
    mutation_lock: Mutex<()>,
}

/// What `reference` names in `tenant`: an object id when it looks like one,
/// otherwise a live name.
fn object_ref<'a>(tenant: &'a str, reference: &'a str) -> ObjectRef<'a> {
    if crate::object::looks_like_id(reference) {
        ObjectRef::Id(reference)
    } else {
        ObjectRef::Name {
            tenant,
            name: reference,
        }
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

pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// The audit event of an operation.
pub(crate) fn event(
    caller: &Caller,
    operation: &str,
    tenant: Option<&str>,
    object_id: Option<&str>,
) -> audit::AuditEvent {
    audit::AuditEvent {
        time: now(),
        principal: caller.principal.clone(),
        tenant: tenant.map(str::to_owned),
        operation: operation.to_owned(),
        object_id: object_id.map(str::to_owned),
        result: "ok".to_owned(),
        remote: caller.remote.clone(),
        sensitive: Vec::new(),
    }
}

impl Keystore {
    /// Opens the key manager over `store`. It starts sealed (or uninitialized).
    pub fn open(store: Arc<dyn Store>) -> Result<Keystore, KeystoreError> {
        let state = match store.get_system(SEALED_ROOT)? {
            None => SealState::Uninitialized,
            Some(bytes) => SealState::Sealed(serde_json::from_slice(&bytes).map_err(|error| {
                StoreError::Corrupt {
                    what: "sealed root",
                    detail: error.to_string(),
                }
            })?),
        };
        Ok(Keystore {
            store,
            state: RwLock::new(state),
            progress: Mutex::new(None),
            tenant_lock: Mutex::new(()),
            mutation_lock: Mutex::new(()),
        })
    }

    /// The storage backend.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Seal status.
    pub fn status(&self) -> Status {
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
        Status {
            initialized,
            sealed,
            seal,
            threshold,
            shares,
            progress,
        }
    }

    /// Whether the root key is in memory.
    pub fn is_unsealed(&self) -> bool {
        matches!(
            *self.state.read().unwrap_or_else(PoisonError::into_inner),
            SealState::Unsealed(_)
        )
    }

    /// Makes the root key and seals it. The key manager stays sealed afterwards.
    /// `extra` writes (the first admin token) are committed in the same transaction.
    pub fn initialize(
        &self,
        caller: &Caller,
        choice: SealChoice,
        extra: Vec<Write>,
    ) -> Result<Initialized, KeystoreError> {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if !matches!(*state, SealState::Uninitialized) {
            return Err(KeystoreError::AlreadyInitialized);
        }
        let root = Key256::generate();
        let (seal, shares): (Box<dyn Seal>, Vec<UnsealShare>) = match choice {
            SealChoice::Shamir { shares, threshold } => {
                let (seal, shares) = ShamirSeal::initialize(shares, threshold)?;
                (Box::new(seal), shares)
            }
            SealChoice::Passphrase(seal) => (Box::new(seal), Vec::new()),
        };
        let sealed = seal.seal_root(&root)?;
        let bytes = serde_json::to_vec(&sealed).map_err(|error| StoreError::Corrupt {
            what: "sealed root",
            detail: error.to_string(),
        })?;
        let audit_master = Key256::generate();
        let mut writes = vec![
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
        writes.extend(extra);
        self.store
            .commit(writes, event(caller, "sys.init", None, None))?;
        *state = SealState::Sealed(sealed);
        Ok(Initialized { shares })
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

    /// The sealed root when sealed, `None` when already unsealed.
    fn sealed_root(&self) -> Result<Option<SealedRoot>, KeystoreError> {
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
                self.audit_refusal(caller, "sys.unseal", None, None, "wrong_unseal_material");
                return Err(error.into());
            }
        };
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
            audit_master,
            seal,
            tenants,
        }));
        drop(state);
        self.store
            .commit(Vec::new(), event(caller, "sys.unseal", None, None))?;
        tracing::info!("key manager unsealed");
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
        self.store
            .commit(Vec::new(), event(caller, "sys.seal", None, None))?;
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
        Ok(self.status())
    }

    /// Runs `body` with the unsealed state, or fails with `Sealed`.
    fn with_unsealed<T>(
        &self,
        body: impl FnOnce(&Unsealed) -> Result<T, KeystoreError>,
    ) -> Result<T, KeystoreError> {
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

    /// Replaces the root key: every tenant key is re-wrapped under the new root and
    /// the new root is sealed with the same seal. Object material is not touched.
    pub fn rotate_root(&self, caller: &Caller) -> Result<(), KeystoreError> {
        let _tenant_guard = self
            .tenant_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.with_unsealed_mut(|unsealed| {
            let new_root = Key256::generate();
            let mut writes = Vec::new();
            for (tenant, keys) in &unsealed.tenants {
                for (version, key) in &keys.keys {
                    writes.push(Write::PutTenantKey(TenantKeyRow {
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
            let sealed = unsealed.seal.seal_root(&new_root)?;
            let bytes = serde_json::to_vec(&sealed).map_err(|error| StoreError::Corrupt {
                what: "sealed root",
                detail: error.to_string(),
            })?;
            writes.push(Write::PutSystem {
                name: SEALED_ROOT.to_owned(),
                value: bytes,
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
            self.store
                .commit(writes, event(caller, "sys.rotate_root", None, None))?;
            unsealed.root = new_root;
            unsealed.sealed = sealed;
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
                    vec![Write::PutTenantKey(row)],
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
            // Under the mutation lock, so a destroy cannot erase a version
            // between this read and the write that puts it back re-wrapped.
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
                    writes.push(Write::PutVersion(VersionRow {
                        kek_version: new_version,
                        wrapped: wrap_with(new_key, material.expose_secret(), &aad, || {
                            format!("object {} version {}", row.object_id, row.version)
                        })?,
                        ..row.clone()
                    }));
                }
                Ok(writes)
            })?;
            self.store
                .commit(writes, event(caller, "tenant.rewrap", Some(tenant), None))?;
        }
        Ok(new_version)
    }

    /// The tenant's current key, making the tenant's first key if it has none.
    fn tenant_key_version(&self, caller: &Caller, tenant: &str) -> Result<u32, KeystoreError> {
        if let Some(version) = self
            .with_unsealed(|unsealed| Ok(unsealed.tenants.get(tenant).map(|keys| keys.current)))?
        {
            return Ok(version);
        }
        let _tenant_guard = self
            .tenant_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.with_unsealed_mut(|unsealed| {
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
                vec![Write::PutTenantKey(row)],
                event(caller, "tenant.create_key", Some(tenant), None),
            )?;
            let mut keys = BTreeMap::new();
            keys.insert(1, key);
            unsealed
                .tenants
                .insert(tenant.to_owned(), TenantKeys { current: 1, keys });
            Ok(1)
        })
    }

    fn wrap_material(
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

    /// Creates a key (or, with [`Keystore::register`], stores given material).
    pub fn create_key(
        &self,
        caller: &Caller,
        tenant: &str,
        name: &str,
        algorithm: Algorithm,
        labels: BTreeMap<String, String>,
    ) -> Result<ObjectMeta, KeystoreError> {
        self.create_key_deferred(caller, tenant, name, algorithm, labels)?
            .wait()
    }

    /// [`Keystore::create_key`] without waiting: the metadata is released once
    /// the key and its audit record are durable.
    pub fn create_key_deferred(
        &self,
        caller: &Caller,
        tenant: &str,
        name: &str,
        algorithm: Algorithm,
        labels: BTreeMap<String, String>,
    ) -> Result<Durable<ObjectMeta>, KeystoreError> {
        let length = algorithm.key_bits();
        if length == 0 || !matches!(algorithm.family(), "aes" | "hmac-sha256") {
            return Err(KeystoreError::InvalidArgument(
                "a key needs an algorithm: aes-256, aes-128 or hmac-sha256".to_owned(),
            ));
        }
        let bytes = usize::try_from(length / 8).unwrap_or(32);
        let material = SecretBytes::random(bytes);
        self.register_deferred(
            caller,
            tenant,
            Some(name),
            ObjectType::SymmetricKey,
            algorithm,
            labels,
            material,
        )
    }

    /// Stores an object with the given material, Active from now.
    #[allow(clippy::too_many_arguments)] // Each argument is a distinct KMIP attribute.
    pub fn register(
        &self,
        caller: &Caller,
        tenant: &str,
        name: Option<&str>,
        object_type: ObjectType,
        algorithm: Algorithm,
        labels: BTreeMap<String, String>,
        material: SecretBytes,
    ) -> Result<ObjectMeta, KeystoreError> {
        self.register_deferred(
            caller,
            tenant,
            name,
            object_type,
            algorithm,
            labels,
            material,
        )?
        .wait()
    }

    /// [`Keystore::register`] without waiting: the metadata is released once the
    /// object and its audit record are durable.
    #[allow(clippy::too_many_arguments)] // Each argument is a distinct KMIP attribute.
    pub fn register_deferred(
        &self,
        caller: &Caller,
        tenant: &str,
        name: Option<&str>,
        object_type: ObjectType,
        algorithm: Algorithm,
        labels: BTreeMap<String, String>,
        material: SecretBytes,
    ) -> Result<Durable<ObjectMeta>, KeystoreError> {
        let (meta, row) = self.new_object(
            caller,
            tenant,
            name,
            object_type,
            algorithm,
            labels,
            &material,
            true,
        )?;
        let id = meta.id.clone();
        let mut audit_event = event(caller, "key.create", Some(tenant), Some(&id));
        if let Some(name) = name {
            audit_event
                .sensitive
                .push(("name".to_owned(), name.as_bytes().to_vec()));
        }
        let commit = self
            .store
            .submit(
                vec![Write::InsertObject(meta.clone()), Write::PutVersion(row)],
                audit_event,
            )
            .map_err(name_taken_or_store)?;
        Ok(Durable {
            value: meta,
            commit: Some(commit),
            more: Vec::new(),
            map_error: name_taken_or_store,
        })
    }

    /// Stores an object with the given material in the Pre-Active state, as KMIP
    /// Create and Register do when no activation date is given;
    /// [`Keystore::activate`] makes it usable.
    #[allow(clippy::too_many_arguments)] // Each argument is a distinct KMIP attribute.
    pub fn register_pre_active(
        &self,
        caller: &Caller,
        tenant: &str,
        name: Option<&str>,
        object_type: ObjectType,
        algorithm: Algorithm,
        labels: BTreeMap<String, String>,
        material: SecretBytes,
    ) -> Result<ObjectMeta, KeystoreError> {
        let (meta, row) = self.new_object(
            caller,
            tenant,
            name,
            object_type,
            algorithm,
            labels,
            &material,
            false,
        )?;
        let mut audit_event = event(caller, "key.create", Some(tenant), Some(&meta.id));
        if let Some(name) = name {
            audit_event
                .sensitive
                .push(("name".to_owned(), name.as_bytes().to_vec()));
        }
        self.store
            .commit(
                vec![Write::InsertObject(meta.clone()), Write::PutVersion(row)],
                audit_event,
            )
            .map_err(name_taken_or_store)?;
        Ok(meta)
    }

    /// Stores a key pair generated by the caller, both halves Pre-Active, in one
    /// transaction with one audit record (`key.create_pair`, naming the private
    /// key). Each half carries the other's id in the label [`KEY_PAIR_LABEL`],
    /// which KMIP answers as its Link attribute. Returns (private, public).
    pub fn register_key_pair(
        &self,
        caller: &Caller,
        tenant: &str,
        algorithm: Algorithm,
        private: NewHalf<'_>,
        public: NewHalf<'_>,
    ) -> Result<(ObjectMeta, ObjectMeta), KeystoreError> {
        let names: Vec<String> = [private.name, public.name]
            .into_iter()
            .flatten()
            .map(str::to_owned)
            .collect();
        let (private_meta, public_meta, writes) =
            self.new_key_pair(caller, tenant, algorithm, private, public)?;
        let mut audit_event = event(
            caller,
            "key.create_pair",
            Some(tenant),
            Some(&private_meta.id),
        );
        for name in names {
            audit_event
                .sensitive
                .push(("name".to_owned(), name.into_bytes()));
        }
        self.store
            .commit(writes, audit_event)
            .map_err(name_taken_or_store)?;
        Ok((private_meta, public_meta))
    }

    /// Replaces a key pair with a new one generated by the caller (KMIP Re-key
    /// Key Pair), in one transaction with one audit record (`key.rekey_pair`,
    /// naming the old private key). The new halves are stored as
    /// [`Keystore::register_key_pair`] stores them, Pre-Active, in the old
    /// pair's tenant and with its algorithm; each new half carries the id of
    /// the half it replaces in [`REPLACED_LABEL`], and each old half the id of
    /// its replacement in [`REPLACEMENT_LABEL`]. The old halves give their
    /// names to the new ones, and lose the labels named in `moved_labels`
    /// (which the caller puts on the new halves). Returns (private, public).
    pub fn rekey_key_pair(
        &self,
        caller: &Caller,
        old_private: &ObjectMeta,
        moved_labels: &[&str],
        private: NewHalf<'_>,
        public: NewHalf<'_>,
    ) -> Result<(ObjectMeta, ObjectMeta), KeystoreError> {
        self.require_unsealed()?;
        let public_id = match (
            old_private.object_type,
            old_private.labels.get(KEY_PAIR_LABEL),
        ) {
            (ObjectType::PrivateKey, Some(public_id)) => public_id.clone(),
            _ => {
                return Err(KeystoreError::InvalidArgument(format!(
                    "object {} is not the private key of a key pair",
                    old_private.id
                )));
            }
        };
        if old_private.state.is_destroyed() {
            return Err(KeystoreError::WrongState {
                id: old_private.id.clone(),
                operation: "re-key",
                state: old_private.state,
                hint: "a destroyed key pair cannot be re-keyed",
            });
        }
        let _unchanged = self.lock_unchanged(old_private)?;
        // Read again under the lock: labels are not part of what
        // `lock_unchanged` compares, and two re-keys of one pair must not
        // both succeed.
        let old_private = &self.find(&old_private.tenant, &old_private.id)?;
        let old_public = self.find(&old_private.tenant, &public_id)?;
        for half in [old_private, &old_public] {
            if half.labels.contains_key(REPLACEMENT_LABEL) {
                return Err(KeystoreError::InvalidArgument(format!(
                    "key pair {} was already re-keyed; re-key its replacement",
                    old_private.id
                )));
            }
        }
        let (mut private_meta, mut public_meta, mut writes) = self.new_key_pair(
            caller,
            &old_private.tenant,
            old_private.algorithm,
            NewHalf {
                name: old_private.name.as_deref(),
                ..private
            },
            NewHalf {
                name: old_public.name.as_deref(),
                ..public
            },
        )?;
        let mut updates = Vec::with_capacity(2);
        for (old, new) in [
            (old_private, &mut private_meta),
            (&old_public, &mut public_meta),
        ] {
            new.labels.insert(REPLACED_LABEL.to_owned(), old.id.clone());
            validate_labels(&new.labels)?;
            let mut replaced = old.clone();
            // The name moves to the replacement, as KMIP says.
            replaced.name = None;
            for label in moved_labels {
                replaced.labels.remove(*label);
            }
            replaced
                .labels
                .insert(REPLACEMENT_LABEL.to_owned(), new.id.clone());
            validate_labels(&replaced.labels)?;
            updates.push(Write::UpdateObject(replaced));
        }
        // The new halves' metadata gained a label after `new_key_pair` made
        // their inserts; the inserts carry it, and follow the updates that
        // free the names.
        for write in &mut writes {
            if let Write::InsertObject(meta) = write {
                if meta.id == private_meta.id {
                    *meta = private_meta.clone();
                } else if meta.id == public_meta.id {
                    *meta = public_meta.clone();
                }
            }
        }
        updates.append(&mut writes);
        self.store
            .commit(
                updates,
                event(
                    caller,
                    "key.rekey_pair",
                    Some(&old_private.tenant),
                    Some(&old_private.id),
                ),
            )
            .map_err(name_taken_or_store)?;
        Ok((private_meta, public_meta))
    }

    /// The metadata of a new key pair, each half labelled with the other's
    /// id, and the writes that store it.
    fn new_key_pair(
        &self,
        caller: &Caller,
        tenant: &str,
        algorithm: Algorithm,
        private: NewHalf<'_>,
        public: NewHalf<'_>,
    ) -> Result<(ObjectMeta, ObjectMeta, Vec<Write>), KeystoreError> {
        if !matches!(algorithm.family(), "rsa" | "ec") {
            return Err(KeystoreError::InvalidArgument(format!(
                "a key pair needs an asymmetric algorithm, not {}",
                algorithm.as_str()
            )));
        }
        let (mut private_meta, private_row) = self.new_object(
            caller,
            tenant,
            private.name,
            ObjectType::PrivateKey,
            algorithm,
            private.labels,
            &private.material,
            false,
        )?;
        let (mut public_meta, public_row) = self.new_object(
            caller,
            tenant,
            public.name,
            ObjectType::PublicKey,
            algorithm,
            public.labels,
            &public.material,
            false,
        )?;
        private_meta
            .labels
            .insert(KEY_PAIR_LABEL.to_owned(), public_meta.id.clone());
        public_meta
            .labels
            .insert(KEY_PAIR_LABEL.to_owned(), private_meta.id.clone());
        validate_labels(&private_meta.labels)?;
        validate_labels(&public_meta.labels)?;
        let writes = vec![
            Write::InsertObject(private_meta.clone()),
            Write::PutVersion(private_row),
            Write::InsertObject(public_meta.clone()),
            Write::PutVersion(public_row),
        ];
        Ok((private_meta, public_meta, writes))
    }

    /// Replaces an object's labels (KMIP Add, Modify, Delete and Set Attribute),
    /// audited as `key.set_labels`. The key pair link cannot be changed.
    pub fn set_labels(
        &self,
        caller: &Caller,
        meta: &ObjectMeta,
        labels: BTreeMap<String, String>,
    ) -> Result<ObjectMeta, KeystoreError> {
        self.require_unsealed()?;
        validate_labels(&labels)?;
        for link in [KEY_PAIR_LABEL, REPLACED_LABEL, REPLACEMENT_LABEL] {
            if labels.get(link) != meta.labels.get(link) {
                return Err(KeystoreError::InvalidArgument(format!(
                    "the label {link} links objects and cannot be changed"
                )));
            }
        }
        let _unchanged = self.lock_unchanged(meta)?;
        let mut updated = meta.clone();
        updated.labels = labels;
        self.store.commit(
            vec![Write::UpdateObject(updated.clone())],
            event(caller, "key.set_labels", Some(&meta.tenant), Some(&meta.id)),
        )?;
        Ok(updated)
    }

    /// Moves a Pre-Active object to Active (KMIP Activate); any other state is
    /// refused, as the KMIP state machine says.
    pub fn activate(
        &self,
        caller: &Caller,
        meta: &ObjectMeta,
    ) -> Result<ObjectMeta, KeystoreError> {
        self.require_unsealed()?;
        if meta.state != State::PreActive {
            return Err(KeystoreError::WrongState {
                id: meta.id.clone(),
                operation: "activate",
                state: meta.state,
                hint: "only a pre-active object can be activated",
            });
        }
        let _unchanged = self.lock_unchanged(meta)?;
        let mut updated = meta.clone();
        updated.state = State::Active;
        updated.activation_date = Some(now());
        self.store.commit(
            vec![Write::UpdateObject(updated.clone())],
            event(caller, "key.activate", Some(&meta.tenant), Some(&meta.id)),
        )?;
        Ok(updated)
    }

    /// The metadata and wrapped first version of a new object, Active or
    /// Pre-Active, made ready for a commit (the tenant key is created on first
    /// use).
    #[allow(clippy::too_many_arguments)] // Each argument is a distinct KMIP attribute.
    pub(crate) fn new_object(
        &self,
        caller: &Caller,
        tenant: &str,
        name: Option<&str>,
        object_type: ObjectType,
        algorithm: Algorithm,
        labels: BTreeMap<String, String>,
        material: &SecretBytes,
        active: bool,
    ) -> Result<(ObjectMeta, VersionRow), KeystoreError> {
        validate_name("tenant", tenant)?;
        if let Some(name) = name {
            validate_name("name", name)?;
        }
        validate_labels(&labels)?;
        self.require_unsealed()?;
        // Time-ordered ids (UUID version 7: milliseconds since the epoch, then
        // 74 random bits): new objects land at the end of the store's tables
        // instead of on a random page of each, which keeps creates cheap at
        // millions of objects. An id tells when it was made, as
        // `created_at` does; it was never meant as a secret.
        let id = uuid::Uuid::now_v7().to_string();
        let created = now();
        let meta = ObjectMeta {
            id: id.clone(),
            name: name.map(str::to_owned),
            tenant: tenant.to_owned(),
            object_type,
            algorithm,
            // An asymmetric key's length is its modulus or curve size, not the
            // length of its DER encoding; a certificate's is its public key's.
            length: match object_type {
                ObjectType::PublicKey | ObjectType::PrivateKey | ObjectType::Certificate => {
                    algorithm.key_bits()
                }
                _ => u32::try_from(material.len().saturating_mul(8)).unwrap_or(u32::MAX),
            },
            state: if active {
                State::Active
            } else {
                State::PreActive
            },
            version: 1,
            labels,
            created_at: created,
            activation_date: active.then_some(created),
            deactivation_date: None,
            compromise_date: None,
            destroy_date: None,
            revocation_reason: None,
            rotated_at: created,
        };
        let kek_version = self.tenant_key_version(caller, tenant)?;
        let row = self.wrap_material(tenant, kek_version, &id, 1, material.expose_secret())?;
        Ok((meta, row))
    }

    /// An object found for a read of its material: [`Keystore::find`] that also
    /// takes its current version's wrapped material from the same lookup, for
    /// [`Keystore::found_material_deferred`]. Unwraps nothing.
    pub fn find_for_read(&self, tenant: &str, reference: &str) -> Result<Found, KeystoreError> {
        let (meta, current) = self
            .store
            .get_object_current(object_ref(tenant, reference))?
            .ok_or_else(|| KeystoreError::NotFound {
                what: "key",
                reference: reference.to_owned(),
            })?;
        Ok(Found { meta, current })
    }

    /// [`Keystore::material_deferred`] for an object found with
    /// [`Keystore::find_for_read`]: the current version needs no second lookup.
    pub fn found_material_deferred(
        &self,
        caller: &Caller,
        found: &Found,
        version: Option<u32>,
    ) -> Result<Durable<(u32, SecretBytes)>, KeystoreError> {
        let (version, material) =
            self.unwrap_version_from(&found.meta, version, found.current.as_ref())?;
        self.audit_read(
            caller,
            &found.meta,
            "key.read_material",
            (version, material),
        )
    }

    /// An object's metadata by id or by name in `tenant`. Reading metadata reads no
    /// key material; the caller audits the request.
    pub fn find(&self, tenant: &str, reference: &str) -> Result<ObjectMeta, KeystoreError> {
        let found = match object_ref(tenant, reference) {
            ObjectRef::Id(id) => self.store.get_object(id)?,
            ObjectRef::Name { tenant, name } => self.store.find_object_by_name(tenant, name)?,
        };
        found.ok_or_else(|| KeystoreError::NotFound {
            what: "key",
            reference: reference.to_owned(),
        })
    }

    /// Lists objects.
    pub fn list(&self, filter: &ListFilter) -> Result<(Vec<ObjectMeta>, u64), KeystoreError> {
        Ok(self.store.list_objects(filter)?)
    }

    /// Returns one version's material (the current one when `version` is `None`),
    /// after the read is durably audited.
    pub fn material(
        &self,
        caller: &Caller,
        meta: &ObjectMeta,
        version: Option<u32>,
    ) -> Result<(u32, SecretBytes), KeystoreError> {
        self.material_deferred(caller, meta, version)?.wait()
    }

    /// [`Keystore::material`] without waiting: the material is released once the
    /// read's audit record is durable.
    pub fn material_deferred(
        &self,
        caller: &Caller,
        meta: &ObjectMeta,
        version: Option<u32>,
    ) -> Result<Durable<(u32, SecretBytes)>, KeystoreError> {
        self.read_deferred(caller, meta, version, "key.read_material")
    }

    /// Unwraps one version and audits the read as `operation`; the material is
    /// released once the record is durable.
    pub(crate) fn read_deferred(
        &self,
        caller: &Caller,
        meta: &ObjectMeta,
        version: Option<u32>,
        operation: &str,
    ) -> Result<Durable<(u32, SecretBytes)>, KeystoreError> {
        let read = self.unwrap_version(meta, version)?;
        self.audit_read(caller, meta, operation, read)
    }

    /// Holds `read` until the audit record of its reading (as `operation`) is durable.
    fn audit_read<T>(
        &self,
        caller: &Caller,
        meta: &ObjectMeta,
        operation: &str,
        read: T,
    ) -> Result<Durable<T>, KeystoreError> {
        let commit = self.store.submit(
            Vec::new(),
            event(caller, operation, Some(&meta.tenant), Some(&meta.id)),
        )?;
        Ok(Durable::new(read, commit))
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
    fn unwrap_version_from(
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
        let material = self.with_unsealed(|unsealed| {
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
        })?;
        Ok((version, material))
    }

    /// Wraps `material` as version `version` of `meta` under its tenant's
    /// current key.
    pub(crate) fn wrap_current(
        &self,
        caller: &Caller,
        meta: &ObjectMeta,
        version: u32,
        material: &SecretBytes,
    ) -> Result<VersionRow, KeystoreError> {
        let kek_version = self.tenant_key_version(caller, &meta.tenant)?;
        self.wrap_material(
            &meta.tenant,
            kek_version,
            &meta.id,
            version,
            material.expose_secret(),
        )
    }

    /// Takes the mutation lock and checks that `meta` is still what is stored:
    /// a change built on an older state is refused as stale, to be retried.
    pub(crate) fn lock_unchanged(
        &self,
        meta: &ObjectMeta,
    ) -> Result<std::sync::MutexGuard<'_, ()>, KeystoreError> {
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
        Ok(guard)
    }

    /// Adds a new version of an Active key's material; older versions stay readable
    /// for data they protect.
    pub fn rotate(&self, caller: &Caller, meta: &ObjectMeta) -> Result<ObjectMeta, KeystoreError> {
        if meta.state != State::Active {
            return Err(KeystoreError::WrongState {
                id: meta.id.clone(),
                operation: "rotate",
                state: meta.state,
                hint: "only an active key can be rotated; create a new key instead",
            });
        }
        if !matches!(meta.object_type, ObjectType::SymmetricKey) {
            return Err(KeystoreError::InvalidArgument(format!(
                "object {} is a {}; only symmetric keys can be rotated, create a new key pair instead",
                meta.id,
                meta.object_type.as_str()
            )));
        }
        let _unchanged = self.lock_unchanged(meta)?;
        let bytes = usize::try_from(meta.length / 8).unwrap_or(32);
        let material = SecretBytes::random(bytes);
        let version = meta.version.saturating_add(1);
        let row = self.wrap_current(caller, meta, version, &material)?;
        let mut updated = meta.clone();
        updated.version = version;
        updated.rotated_at = now();
        self.store.commit(
            vec![Write::PutVersion(row), Write::UpdateObject(updated.clone())],
            event(caller, "key.rotate", Some(&meta.tenant), Some(&meta.id)),
        )?;
        Ok(updated)
    }

    /// Revokes: Compromised for `RevocationReason::Compromised`, Deactivated
    /// otherwise (KMIP Revoke).
    pub fn revoke(
        &self,
        caller: &Caller,
        meta: &ObjectMeta,
        reason: RevocationReason,
    ) -> Result<ObjectMeta, KeystoreError> {
        self.require_unsealed()?;
        let _unchanged = self.lock_unchanged(meta)?;
        if meta.state.is_destroyed() {
            return Err(KeystoreError::WrongState {
                id: meta.id.clone(),
                operation: "revoke",
                state: meta.state,
                hint: "it is already destroyed",
            });
        }
        let mut updated = meta.clone();
        let at = now();
        updated.revocation_reason = Some(reason);
        if reason == RevocationReason::Compromised {
            updated.state = State::Compromised;
            updated.compromise_date = Some(at);
        } else {
            if meta.state == State::Compromised {
                return Err(KeystoreError::WrongState {
                    id: meta.id.clone(),
                    operation: "deactivate",
                    state: meta.state,
                    hint: "a compromised key stays compromised; destroy it",
                });
            }
            updated.state = State::Deactivated;
            updated.deactivation_date = Some(at);
        }
        self.store.commit(
            vec![Write::UpdateObject(updated.clone())],
            event(caller, "key.revoke", Some(&meta.tenant), Some(&meta.id)),
        )?;
        Ok(updated)
    }

    /// Erases the material of every version for good; the metadata stays as a
    /// tombstone. An Active key must be revoked first (KMIP Destroy).
    pub fn destroy(&self, caller: &Caller, meta: &ObjectMeta) -> Result<ObjectMeta, KeystoreError> {
        self.require_unsealed()?;
        let _unchanged = self.lock_unchanged(meta)?;
        let state = match meta.state {
            State::Active => {
                return Err(KeystoreError::WrongState {
                    id: meta.id.clone(),
                    operation: "destroy",
                    state: meta.state,
                    hint: "revoke it first with `cryptainer key revoke`",
                });
            }
            State::Destroyed | State::DestroyedCompromised => {
                return Err(KeystoreError::WrongState {
                    id: meta.id.clone(),
                    operation: "destroy",
                    state: meta.state,
                    hint: "it is already destroyed",
                });
            }
            State::Compromised => State::DestroyedCompromised,
            State::PreActive | State::Deactivated => State::Destroyed,
        };
        let mut updated = meta.clone();
        updated.state = state;
        updated.destroy_date = Some(now());
        self.store.commit(
            vec![
                Write::EraseVersions {
                    object_id: meta.id.clone(),
                },
                Write::UpdateObject(updated.clone()),
            ],
            event(caller, "key.destroy", Some(&meta.tenant), Some(&meta.id)),
        )?;
        Ok(updated)
    }

    /// Records the server's stop and signs the chain head, so a truncation of the
    /// log while the server is down is detected at the next verify.
    pub fn record_shutdown(&self) -> Result<(), KeystoreError> {
        self.store
            .journal()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .request_checkpoint();
        self.record(&Caller::system(), "sys.stop", None, None, "ok")
    }

    /// Records a request in the audit log without changing anything (metadata
    /// reads, refusals). Returns once the record is durable.
    pub fn record(
        &self,
        caller: &Caller,
        operation: &str,
        tenant: Option<&str>,
        object_id: Option<&str>,
        result: &str,
    ) -> Result<(), KeystoreError> {
        self.record_deferred(caller, operation, tenant, object_id, result)?
            .wait()
    }

    /// [`Keystore::record`] without waiting.
    pub fn record_deferred(
        &self,
        caller: &Caller,
        operation: &str,
        tenant: Option<&str>,
        object_id: Option<&str>,
        result: &str,
    ) -> Result<Durable<()>, KeystoreError> {
        let mut audit_event = event(caller, operation, tenant, object_id);
        audit_event.result = result.to_owned();
        let commit = self.store.submit(Vec::new(), audit_event)?;
        Ok(Durable::new((), commit))
    }

    /// Like [`Keystore::record`] for a refusal: a failure to write it is logged,
    /// since the request fails anyway.
    pub fn audit_refusal(
        &self,
        caller: &Caller,
        operation: &str,
        tenant: Option<&str>,
        object_id: Option<&str>,
        code: &str,
    ) {
        if let Err(error) = self.record(caller, operation, tenant, object_id, code) {
            tracing::error!(%error, operation, "could not audit a refused request");
        }
    }

    /// Stores a token together with its audit record.
    pub fn put_token(
        &self,
        caller: &Caller,
        operation: &str,
        token: TokenRow,
    ) -> Result<(), KeystoreError> {
        let audit_event = event(caller, operation, None, Some(&token.id));
        self.store
            .commit(vec![Write::PutToken(token)], audit_event)?;
        Ok(())
    }

    /// Verifies the audit chain against the stored checkpoints and the head this
    /// process last wrote.
    pub fn verify_audit(&self) -> Result<audit::VerifyReport, KeystoreError> {
        let checkpoints = self.store.audit_checkpoints()?;
        let (verifying_key, expected_head) = {
            let journal = self
                .store
                .journal()
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            (journal.verifying_key(), journal.head())
        };
        let verifying_key = verifying_key.ok_or(KeystoreError::Sealed)?;
        let store = Arc::clone(&self.store);
        let records = AuditPages::new(store);
        Ok(crate::journal::verify(
            records,
            &checkpoints,
            &verifying_key,
            expected_head,
        )?)
    }
}

fn seal_kind_name(kind: SealKind) -> &'static str {
    match kind {
        SealKind::Shamir => "shamir",
        SealKind::Passphrase => "passphrase",
        #[allow(unreachable_patterns)] // SealKind is non_exhaustive: an HSM seal follows.
        _ => "other",
    }
}

fn describe(root: &SealedRoot) -> (Option<&'static str>, u8, u8) {
    let (threshold, shares) = root.params.shamir_counts().unwrap_or((0, 0));
    (Some(seal_kind_name(root.kind)), threshold, shares)
}

fn load_tenant_keys(
    store: &Arc<dyn Store>,
    root: &Key256,
) -> Result<HashMap<String, TenantKeys>, KeystoreError> {
    let mut tenants: HashMap<String, TenantKeys> = HashMap::new();
    for row in store.tenant_keys()? {
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

/// Streams audit records from the store page by page.
struct AuditPages {
    store: Arc<dyn Store>,
    after: u64,
    page: std::vec::IntoIter<audit::StoredRecord>,
    done: bool,
}

impl AuditPages {
    fn new(store: Arc<dyn Store>) -> AuditPages {
        AuditPages {
            store,
            after: 0,
            page: Vec::new().into_iter(),
            done: false,
        }
    }
}

impl Iterator for AuditPages {
    type Item = Result<audit::StoredRecord, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(record) = self.page.next() {
                self.after = match &record {
                    audit::StoredRecord::Decoded(decoded) => decoded.seq,
                    audit::StoredRecord::Undecodable { seq } => *seq,
                    #[allow(unreachable_patterns)] // Other kinds may follow.
                    _ => self.after,
                };
                return Some(Ok(record));
            }
            if self.done {
                return None;
            }
            match self.store.audit_records(self.after, 5000) {
                Ok(page) => {
                    if page.is_empty() {
                        self.done = true;
                    }
                    self.page = page.into_iter();
                }
                Err(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
            }
        }
    }
}
