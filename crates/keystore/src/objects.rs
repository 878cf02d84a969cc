//! The life cycle of managed objects (keys, key pairs, certificates, secret
//! data): create and register, find and list, read material (audited before it
//! is released), rotate, revoke, destroy, labels and activation, following the
//! KMIP state machine.

use std::collections::BTreeMap;

use crate::caller::{Caller, event, now};
use crate::durable::Durable;
use crate::error::{KeystoreError, name_taken_or_store};
use crate::model::ListFilter;
use crate::object::{
    Algorithm, KEY_PAIR_LABEL, ObjectMeta, ObjectType, REPLACED_LABEL, REPLACEMENT_LABEL,
    RevocationReason, State, validate_labels, validate_name,
};
use crate::secret::SecretBytes;
use crate::service::Keystore;
use crate::store::{ObjectRef, VersionRow, Write};

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

/// What a new object is, but for its material and state.
struct NewObject<'a> {
    tenant: &'a str,
    name: Option<&'a str>,
    object_type: ObjectType,
    algorithm: Algorithm,
    labels: BTreeMap<String, String>,
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

impl Keystore {
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
        let new = NewObject {
            tenant,
            name,
            object_type,
            algorithm,
            labels,
        };
        self.insert_object(caller, new, &material, true)
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
        let new = NewObject {
            tenant,
            name,
            object_type,
            algorithm,
            labels,
        };
        self.insert_object(caller, new, &material, false)?.wait()
    }

    /// Stores a new object, Active or Pre-Active, with its first version of
    /// `material`, audited as `key.create` (its name kept as an HMAC); the
    /// metadata is released once both are durable. A name a live object of
    /// the tenant has is refused (`NameTaken`), and audited as refused.
    fn insert_object(
        &self,
        caller: &Caller,
        new: NewObject<'_>,
        material: &SecretBytes,
        active: bool,
    ) -> Result<Durable<ObjectMeta>, KeystoreError> {
        let (meta, row) = self.new_object(
            caller,
            new.tenant,
            new.name,
            new.object_type,
            new.algorithm,
            new.labels,
            material,
            active,
        )?;
        let mut audit_event = event(caller, "key.create", Some(new.tenant), Some(&meta.id));
        if let Some(name) = new.name {
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
        Ok(Durable::new_mapped(meta, commit, name_taken_or_store))
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
        let unchanged = self.lock_unchanged(old_private)?;
        // Read again under the lock: labels are not part of what
        // `lock_unchanged` compares, and two re-keys of one pair must not
        // both succeed (on other servers neither: the commit expects both
        // halves as read here).
        let old_private = &unchanged.stored().clone();
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
        let mut updates = vec![
            unchanged.expect(),
            Write::ExpectObject(Box::new(old_public.clone())),
        ];
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
        let unchanged = self.lock_unchanged(meta)?;
        let mut updated = meta.clone();
        updated.labels = labels;
        self.store.commit(
            vec![unchanged.expect(), Write::UpdateObject(updated.clone())],
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
        let unchanged = self.lock_unchanged(meta)?;
        let mut updated = meta.clone();
        updated.state = State::Active;
        updated.activation_date = Some(now());
        self.store.commit(
            vec![unchanged.expect(), Write::UpdateObject(updated.clone())],
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
        let unchanged = self.lock_unchanged(meta)?;
        let bytes = usize::try_from(meta.length / 8).unwrap_or(32);
        let material = SecretBytes::random(bytes);
        let version = meta.version.saturating_add(1);
        let row = self.wrap_current(caller, meta, version, &material)?;
        let mut updated = meta.clone();
        updated.version = version;
        updated.rotated_at = now();
        self.store.commit(
            vec![
                unchanged.expect(),
                Write::PutVersion(row),
                Write::UpdateObject(updated.clone()),
            ],
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
        let unchanged = self.lock_unchanged(meta)?;
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
            vec![unchanged.expect(), Write::UpdateObject(updated.clone())],
            event(caller, "key.revoke", Some(&meta.tenant), Some(&meta.id)),
        )?;
        Ok(updated)
    }

    /// Erases the material of every version for good; the metadata stays as a
    /// tombstone. An Active key must be revoked first (KMIP Destroy).
    pub fn destroy(&self, caller: &Caller, meta: &ObjectMeta) -> Result<ObjectMeta, KeystoreError> {
        self.require_unsealed()?;
        let unchanged = self.lock_unchanged(meta)?;
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
                unchanged.expect(),
                Write::EraseVersions {
                    object_id: meta.id.clone(),
                },
                Write::UpdateObject(updated.clone()),
            ],
            event(caller, "key.destroy", Some(&meta.tenant), Some(&meta.id)),
        )?;
        Ok(updated)
    }
}
