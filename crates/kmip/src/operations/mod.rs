//! Operation dispatch: one function per KMIP operation, run against the
//! keystore on behalf of a [`Session`]. The operations are methods of one
//! batch item's [`Context`], grouped by family:
//!
//! * `discovery`: Discover Versions, Query;
//! * `lifecycle`: Create, Register, Re-key, Activate, Revoke, Destroy;
//! * `key_pairs`: Create Key Pair, Re-key Key Pair;
//! * `derivation`: Derive Key;
//! * `locate`: Locate;
//! * `get`: Get, with key wrapping;
//! * `attribute_reads` and `attribute_edits`: Get Attributes, Get Attribute
//!   List; Add, Modify, Set and Delete Attribute;
//! * `cryptography`: Encrypt, Decrypt, MAC (Verify), Sign, Signature Verify,
//!   RNG Retrieve.
//!
//! Key Blocks in their formats are in `formats`, the KMIP enumeration values
//! in `values`, and how attributes are kept in keystore labels in `labels`.

mod attribute_edits;
mod attribute_reads;
mod ciphers;
mod cryptography;
mod derivation;
mod discovery;
mod formats;
mod get;
mod interop;
mod kept;
mod key_pairs;
mod labels;
mod lifecycle;
mod locate;
mod register;
mod values;

use std::cell::RefCell;
use std::collections::BTreeMap;

use keystore::object::{Algorithm, ObjectMeta, ObjectType, State};
use keystore::secret::SecretBytes;
use keystore::{Awaiting, Caller, Durable, Found, Keystore, KeystoreError, TenantScope};
use ttlv::{Item, Tag, Value};

use crate::error::{KmipError, ResultReason};
use crate::message::ProtocolVersion;
use crate::operation as op;

use attribute_edits::Edit;

/// What the caller's role allows, decided by the server's RBAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rights {
    /// Read attributes, Locate, Query.
    pub read_metadata: bool,
    /// Get key material and use keys (Encrypt, Decrypt, MAC).
    pub read_material: bool,
    /// Create, Register, Activate, Revoke, Destroy, Re-key.
    pub manage_keys: bool,
    /// Get the material of Secret Data objects (secrets, volume secrets).
    /// False for nodes: they receive those only over HTTPS, where workload
    /// policies decide.
    pub read_secret_data: bool,
}

/// The family of keys an object belongs to for the cryptographic
/// operations (`aes`, `hmac-sha256`, `rsa`, `ec`): its keystore algorithm's,
/// or the one of the algorithm its client gave when the keystore's cannot
/// say (an AES-192 key, an RSA key of a size the server does not use).
fn key_family(meta: &ObjectMeta) -> &'static str {
    if meta.algorithm != Algorithm::None {
        return meta.algorithm.family();
    }
    match labels::reported_algorithm(meta) {
        Some(values::algorithm::AES) => "aes",
        Some(values::algorithm::HMAC_SHA256) => "hmac-sha256",
        Some(values::algorithm::RSA) => "rsa",
        Some(values::algorithm::ECDSA | values::algorithm::EC) => "ec",
        Some(values::algorithm::CHACHA20) => "chacha20",
        Some(values::algorithm::CHACHA20_POLY1305) => "chacha20-poly1305",
        _ => "none",
    }
}

/// Refuses a destroyed object to the operations that would change it or use
/// its material (Get, Activate, Revoke, Destroy, the cryptographic ones):
/// Object Destroyed, which is Item Not Found in 1.x and 2.0 answers (see
/// [`ResultReason::code_for`]). Its attributes stay readable, and Locate
/// finds it by State.
fn not_destroyed(meta: &ObjectMeta) -> Result<(), KmipError> {
    if meta.state.is_destroyed() {
        return Err(KmipError::new(
            ResultReason::ObjectDestroyed,
            format!(
                "object {} was destroyed; its material is gone (its attributes remain)",
                meta.id
            ),
        ));
    }
    Ok(())
}

/// Who is asking: the audit identity, the tenants they may see, where new
/// objects go, and what their role allows.
#[derive(Debug, Clone)]
pub struct Session {
    /// The identity recorded in the audit log.
    pub caller: Caller,
    /// Which tenants' objects the caller may see.
    pub scope: TenantScope,
    /// The tenant new objects are created in.
    pub tenant: String,
    /// What the caller's role allows.
    pub rights: Rights,
    /// Whether the Interop operation is answered (Begin, End and Reset of an
    /// OASIS interoperability test case, which change nothing). KMIP says a
    /// production server SHALL NOT offer it (2.1 section 6.1.26): the
    /// server's sessions never do, test harnesses' may.
    pub interop_tests: bool,
    /// The encryption streams open on this session.
    pub streams: std::sync::Arc<ciphers::Streams>,
}

impl Session {
    /// A session for `caller`, seeing `scope`, creating in `tenant`, allowed
    /// `rights`; not a test session.
    #[must_use]
    pub fn new(caller: Caller, scope: TenantScope, tenant: String, rights: Rights) -> Session {
        Session {
            caller,
            scope,
            tenant,
            rights,
            interop_tests: false,
            streams: std::sync::Arc::default(),
        }
    }
}

type Outcome = Result<Vec<Item>, KmipError>;

/// Whether `operation` only reads (objects, attributes, key material for
/// Get and Encrypt) and does little enough work to run on an async worker:
/// its audit records are waited for with the answer, not on a thread.
#[must_use]
pub fn is_quick(operation: u32) -> bool {
    matches!(
        operation,
        op::GET
            | op::GET_ATTRIBUTES
            | op::GET_ATTRIBUTE_LIST
            | op::ENCRYPT
            | op::DISCOVER_VERSIONS
            | op::QUERY
    )
}

/// Runs one batch item's operation and returns its response payload's
/// children. `id_placeholder` is the identifier an earlier item of the same
/// request returned, used when the payload names no object.
pub fn dispatch(
    keystore: &Keystore,
    session: &Session,
    version: ProtocolVersion,
    operation: u32,
    payload: &Item,
    id_placeholder: Option<&str>,
    awaiting: Option<&RefCell<Awaiting>>,
) -> Outcome {
    let context = Context {
        keystore,
        session,
        version,
        payload,
        id_placeholder,
        awaiting,
    };
    match operation {
        op::DISCOVER_VERSIONS => context.discover_versions(),
        op::QUERY => context.query(),
        op::CREATE => context.create(),
        op::CREATE_KEY_PAIR => context.create_key_pair(),
        op::REGISTER => context.register(),
        op::REKEY => context.rekey(),
        op::REKEY_KEY_PAIR => context.rekey_key_pair(),
        op::DERIVE_KEY => context.derive_key(),
        op::LOCATE => context.locate(),
        op::GET => context.get(),
        op::GET_ATTRIBUTES => context.get_attributes(),
        op::GET_ATTRIBUTE_LIST => context.get_attribute_list(),
        op::ADD_ATTRIBUTE => context.edit_attribute(Edit::Add),
        op::MODIFY_ATTRIBUTE => context.edit_attribute(Edit::Modify),
        op::SET_ATTRIBUTE => context.edit_attribute(Edit::Set),
        op::DELETE_ATTRIBUTE => context.edit_attribute(Edit::Delete),
        op::ACTIVATE => context.activate(),
        op::REVOKE => context.revoke(),
        op::DESTROY => context.destroy(),
        op::ENCRYPT => context.encrypt(),
        op::DECRYPT => context.decrypt(),
        op::MAC => context.mac(false),
        op::MAC_VERIFY => context.mac(true),
        op::SIGN => context.sign(false),
        op::SIGNATURE_VERIFY => context.sign(true),
        op::RNG_RETRIEVE => context.rng_retrieve(),
        op::CHECK => context.check(),
        op::LOG => context.log(),
        op::INTEROP if session.interop_tests => context.interop(),
        other => Err(KmipError::new(
            ResultReason::OperationNotSupported,
            format!("operation 0x{other:02X} is not supported by this server"),
        )),
    }
}

fn store_error(error: &keystore::KeystoreError) -> KmipError {
    KmipError::from_keystore(error)
}

fn uid(id: &str) -> Item {
    Item::new(Tag::UNIQUE_IDENTIFIER, Value::TextString(id.to_owned()))
}

fn date(value: Option<time::OffsetDateTime>) -> Option<Value> {
    value.map(|at| Value::DateTime(at.unix_timestamp()))
}

/// Everything one batch item needs.
struct Context<'a> {
    keystore: &'a Keystore,
    session: &'a Session,
    version: ProtocolVersion,
    payload: &'a Item,
    /// The ID placeholder: what an earlier item of the request returned.
    id_placeholder: Option<&'a str>,
    /// Where audited reads leave their commits when the answer is released
    /// once they are durable ([`crate::answer_deferred`]); `None`: each read
    /// waits for its own record.
    awaiting: Option<&'a RefCell<Awaiting>>,
}

impl Context<'_> {
    pub(super) fn require(&self, allowed: bool, what: &str) -> Result<(), KmipError> {
        if allowed {
            Ok(())
        } else {
            Err(KmipError::new(
                ResultReason::PermissionDenied,
                format!(
                    "this client's role may not {what}; ask an admin for a certificate with the right role"
                ),
            ))
        }
    }

    pub(super) fn bytes_field(&self, tag: Tag) -> Result<Option<&[u8]>, KmipError> {
        match self.payload.child(tag).map(|item| &item.value) {
            None => Ok(None),
            Some(Value::ByteString(bytes)) => Ok(Some(bytes)),
            Some(_) => Err(KmipError::invalid(format!("{tag} must be a byte string"))),
        }
    }

    /// Stores a new object of `kind` in the caller's tenant (Create,
    /// Register, Derive Key): Pre-Active, or Active when the attributes
    /// `attrs` give an Activation Date that has come (KMIP 2.1 section 4.1).
    fn store_new(
        &self,
        name: Option<&str>,
        kind: ObjectType,
        algorithm: Algorithm,
        labels: BTreeMap<String, String>,
        material: SecretBytes,
        attrs: &[Item],
    ) -> Result<ObjectMeta, KmipError> {
        let caller = &self.session.caller;
        let tenant = &self.session.tenant;
        match crate::attributes::date(attrs, Tag::ACTIVATION_DATE)? {
            Some(date) => self.keystore.register_with_activation_date(
                caller, tenant, name, kind, algorithm, labels, material, date,
            ),
            None => self
                .keystore
                .register_pre_active(caller, tenant, name, kind, algorithm, labels, material),
        }
        .map_err(|error| store_error(&error))
    }

    /// The object the payload's Unique Identifier names, if the caller may see it.
    /// An object of another tenant is reported exactly like a missing one.
    pub(super) fn object(&self) -> Result<ObjectMeta, KmipError> {
        let id = self.identifier(Tag::UNIQUE_IDENTIFIER)?;
        self.object_by_id(&id)
    }

    /// [`Self::object`] for a read of its material: the lookup also brings the
    /// current version ([`Keystore::find_for_read`]). A destroyed object is
    /// Object Destroyed ([`not_destroyed`]).
    pub(super) fn object_for_read(&self) -> Result<Found, KmipError> {
        let id = self.identifier(Tag::UNIQUE_IDENTIFIER)?;
        let found = self.lookup(&id, Keystore::find_for_read, |found| &found.meta)?;
        not_destroyed(&found.meta)?;
        Ok(found)
    }

    /// [`Self::object`] for an operation that changes it or uses its
    /// material: a destroyed object is Object Destroyed ([`not_destroyed`]).
    pub(super) fn live_object(&self) -> Result<ObjectMeta, KmipError> {
        let meta = self.object()?;
        not_destroyed(&meta)?;
        Ok(meta)
    }

    /// The identifier in the payload's `tag` field, or the ID placeholder when
    /// the field is absent or is the 2.x ID Placeholder enumeration.
    pub(super) fn identifier(&self, tag: Tag) -> Result<String, KmipError> {
        let named = match self.payload.child(tag).map(|item| &item.value) {
            Some(Value::TextString(id)) => return Ok(id.clone()),
            // 2.x Unique Identifier enumeration 1: ID Placeholder.
            None | Some(Value::Enumeration(1)) => None,
            Some(Value::Enumeration(other)) => Some(*other),
            Some(_) => return Err(KmipError::invalid(format!("{tag} must be a text string"))),
        };
        if let Some(other) = named {
            return Err(KmipError::new(
                ResultReason::FeatureNotSupported,
                format!(
                    "the Unique Identifier enumeration 0x{other:02X} is not supported; name the object or use the ID placeholder (0x01)"
                ),
            ));
        }
        self.id_placeholder.map(str::to_owned).ok_or_else(|| {
            KmipError::new(
                ResultReason::MissingData,
                format!(
                    "the request has no {tag} and no earlier item of this batch returned an identifier to use as the ID placeholder"
                ),
            )
        })
    }

    /// The object `id` names, if the caller may see it.
    pub(super) fn object_by_id(&self, id: &str) -> Result<ObjectMeta, KmipError> {
        self.lookup(id, Keystore::find, |meta| meta)
    }

    /// Looks the object `id` names up with `find`; one of a tenant the caller
    /// may not see is reported exactly like a missing one.
    pub(super) fn lookup<T>(
        &self,
        id: &str,
        find: impl FnOnce(&Keystore, &str, &str) -> Result<T, KeystoreError>,
        meta_of: impl FnOnce(&T) -> &ObjectMeta,
    ) -> Result<T, KmipError> {
        let not_found = || KmipError::new(ResultReason::ItemNotFound, format!("no object '{id}'"));
        if !keystore::object::looks_like_id(id) {
            return Err(not_found());
        }
        let found =
            find(self.keystore, &self.session.tenant, id).map_err(|error| store_error(&error))?;
        if !self.session.scope.allows(&meta_of(&found).tenant) {
            return Err(not_found());
        }
        Ok(found)
    }

    pub(super) fn material(&self, found: &Found) -> Result<SecretBytes, KmipError> {
        let read = self
            .keystore
            .found_material_deferred(&self.session.caller, found, None);
        let read = match self.awaiting {
            Some(awaiting) => read.map(|durable| awaiting.borrow_mut().take(durable)),
            None => read.and_then(Durable::wait),
        };
        read.map(|(_, material)| material)
            .map_err(|error| store_error(&error))
    }

    /// The object a cryptographic operation names, once the caller's role is
    /// known to allow using keys.
    pub(super) fn key_object(&self) -> Result<Found, KmipError> {
        self.require(self.session.rights.read_material, "use keys")?;
        self.object_for_read()
    }

    /// The key for a cryptographic operation: an object of `kind` and the right
    /// family in a state that allows the use (only Active to protect data:
    /// encrypt, sign, MAC; Active, Deactivated or Compromised to process it).
    pub(super) fn usable_key(
        &self,
        found: impl Into<Found>,
        kind: ObjectType,
        protects: bool,
        family: &str,
    ) -> Result<(ObjectMeta, SecretBytes), KmipError> {
        let found = found.into();
        let meta = &found.meta;
        let allowed = if protects {
            meta.state == State::Active
        } else {
            matches!(
                meta.state,
                State::Active | State::Deactivated | State::Compromised
            )
        };
        if !allowed {
            return Err(KmipError::new(
                ResultReason::WrongKeyLifecycleState,
                format!(
                    "object {} is {}; {}",
                    meta.id,
                    meta.state,
                    if protects {
                        "only an active key may protect data"
                    } else {
                        "only an active, deactivated or compromised key may process data"
                    }
                ),
            ));
        }
        // A Protect Stop Date that has come ends protecting (encrypt, sign,
        // MAC); a Process Start Date still ahead holds off processing.
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let date = |tag: Tag| match kept::kept_value(meta, tag) {
            Some(Value::DateTime(seconds)) => Some(seconds),
            _ => None,
        };
        let (tag, blocked) = if protects {
            let stop = date(Tag::PROTECT_STOP_DATE);
            (Tag::PROTECT_STOP_DATE, stop.is_some_and(|stop| stop <= now))
        } else {
            let start = date(Tag::PROCESS_START_DATE);
            (
                Tag::PROCESS_START_DATE,
                start.is_some_and(|start| start > now),
            )
        };
        if blocked {
            return Err(KmipError::new(
                ResultReason::WrongKeyLifecycleState,
                format!(
                    "object {} may not {} now: see its {tag}",
                    meta.id,
                    if protects {
                        "protect data"
                    } else {
                        "process data"
                    }
                ),
            ));
        }
        if matches!(
            meta.object_type,
            ObjectType::PublicKey | ObjectType::PrivateKey
        ) && meta.algorithm == Algorithm::None
        {
            return Err(KmipError::invalid(format!(
                "object {} is an {} key of {} bits, which the server keeps but cannot use; it uses RSA keys of 2048, 3072 and 4096 bits and EC keys on P-256 and P-384",
                meta.id,
                key_family(meta).to_uppercase(),
                labels::reported_length(meta).unwrap_or_default()
            )));
        }
        if meta.object_type != kind || key_family(meta) != family {
            return Err(KmipError::new(
                ResultReason::InvalidField,
                format!(
                    "object {} is not a {} for {}",
                    meta.id,
                    kind.as_str().replace('_', " "),
                    family.to_uppercase()
                ),
            ));
        }
        let (meta, material) = self.read_material(found)?;
        // A key registered in another format is used in the server's own.
        let material = formats::usable_form(&meta, material)?;
        Ok((meta, material))
    }

    /// An object's material for the server to use: refused, saying why, for
    /// a wrapped Key Block a client registered (the server holds no key to
    /// unwrap it).
    pub(super) fn read_material(
        &self,
        found: impl Into<Found>,
    ) -> Result<(ObjectMeta, SecretBytes), KmipError> {
        let found = found.into();
        match found
            .meta
            .labels
            .get(labels::LABEL_KEY_BLOCK)
            .map(String::as_str)
        {
            Some(labels::KEY_BLOCK_WRAPPED) => {
                return Err(KmipError::invalid(format!(
                    "object {} holds a Key Block its client registered wrapped; the server cannot use it (Get returns it as registered)",
                    found.meta.id
                )));
            }
            Some(_) => {
                return Err(KmipError::invalid(format!(
                    "object {} is a key of an algorithm or size the server keeps but does not use (Get returns it as registered)",
                    found.meta.id
                )));
            }
            None => {}
        }
        let material = self.material(&found)?;
        Ok((found.meta, material))
    }
}
