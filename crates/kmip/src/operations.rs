//! Operation dispatch: one function per KMIP operation, run against the keystore
//! on behalf of a [`Session`].

use std::cell::RefCell;
use std::collections::BTreeMap;

use keystore::model::{ListFilter, MAX_LIST};
use keystore::object::{Algorithm, ObjectMeta, ObjectType, RevocationReason, State};
use keystore::secret::SecretBytes;
use keystore::{Awaiting, Caller, Durable, Found, Keystore, KeystoreError, TenantScope};
use rand::RngCore;
use ttlv::{Item, Tag, Value};

use crate::asymmetric::{self, Hash, Scheme};
use crate::attributes;
use crate::crypto;
use crate::custom;
use crate::derive;
use crate::error::{KmipError, ResultReason};
use crate::message::{ProtocolVersion, SUPPORTED_VERSIONS};
use crate::operation as op;

/// Label holding the KMIP Name (KMIP names may hold characters keystore names do not).
const LABEL_NAME: &str = "kmip-name";
/// Prefix of the labels holding a Name's further instances: `kmip-name.INDEX`
/// (index 1 and up; index 0 is [`LABEL_NAME`] or the keystore name).
const LABEL_NAME_MORE: &str = "kmip-name.";
/// Label holding the KMIP Object Group.
const LABEL_GROUP: &str = "kmip-object-group";
/// Label holding the KMIP Cryptographic Usage Mask.
const LABEL_USAGE: &str = "kmip-usage-mask";

/// Labels holding a split key's parameters, in the order of the Split Key
/// object: Split Key Parts, Key Part Identifier, Split Key Threshold, Split
/// Key Method (decimal), Prime Field Size (hexadecimal, when sent).
const SPLIT_KEY_LABELS: [(Tag, &str); 5] = [
    (Tag::SPLIT_KEY_PARTS, "kmip-split-key-parts"),
    (Tag::KEY_PART_IDENTIFIER, "kmip-key-part-identifier"),
    (Tag::SPLIT_KEY_THRESHOLD, "kmip-split-key-threshold"),
    (Tag::SPLIT_KEY_METHOD, "kmip-split-key-method"),
    (Tag::PRIME_FIELD_SIZE, "kmip-prime-field-size"),
];

/// Label holding the KMIP Contact Information.
const LABEL_CONTACT: &str = "kmip-contact-information";

/// The attributes a client may add, modify and set: each kept in one label and
/// single-valued here, with the value type KMIP gives it and whether a client
/// may delete it (KMIP says not for the Cryptographic Usage Mask). Every other
/// attribute the server reports is read-only (set by the server: identifier,
/// type, algorithm, length, state, dates, links).
const EDITABLE: &[(Tag, &str, ttlv::ItemType, bool)] = &[
    (
        Tag::OBJECT_GROUP,
        LABEL_GROUP,
        ttlv::ItemType::TextString,
        true,
    ),
    (
        Tag::CRYPTOGRAPHIC_USAGE_MASK,
        LABEL_USAGE,
        ttlv::ItemType::Integer,
        false,
    ),
    (
        Tag::CONTACT_INFORMATION,
        LABEL_CONTACT,
        ttlv::ItemType::TextString,
        true,
    ),
];

/// Largest RNG Retrieve answered, in bytes.
const MAX_RANDOM_BYTES: usize = 1024 * 1024;

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
}

/// KMIP Object Type values.
mod object_type {
    pub const CERTIFICATE: u32 = 0x01;
    pub const SYMMETRIC_KEY: u32 = 0x02;
    pub const PUBLIC_KEY: u32 = 0x03;
    pub const PRIVATE_KEY: u32 = 0x04;
    pub const SPLIT_KEY: u32 = 0x05;
    pub const SECRET_DATA: u32 = 0x07;
    pub const OPAQUE_OBJECT: u32 = 0x08;
}

/// KMIP Cryptographic Algorithm values.
mod algorithm {
    pub const AES: u32 = 0x03;
    pub const RSA: u32 = 0x04;
    pub const ECDSA: u32 = 0x06;
    pub const HMAC_SHA256: u32 = 0x09;
    pub const EC: u32 = 0x1A;
}

/// KMIP Certificate Type values.
mod certificate_type {
    pub const X509: u32 = 0x01;
}

/// KMIP Link Type values.
mod link_type {
    pub const PUBLIC_KEY_LINK: u32 = 0x0102;
    pub const PRIVATE_KEY_LINK: u32 = 0x0103;
    pub const REPLACEMENT_OBJECT_LINK: u32 = 0x0106;
    pub const REPLACED_OBJECT_LINK: u32 = 0x0107;
}

/// KMIP Recommended Curve values.
mod curve {
    pub const P_256: u32 = 0x07;
    pub const P_384: u32 = 0x0A;
}

/// KMIP Key Format Type values.
mod key_format {
    pub const RAW: u32 = 0x01;
    pub const OPAQUE: u32 = 0x02;
    pub const TRANSPARENT_SYMMETRIC: u32 = 0x07;
    pub const TRANSPARENT_RSA_PRIVATE: u32 = 0x0A;
    pub const TRANSPARENT_RSA_PUBLIC: u32 = 0x0B;
    /// KMIP 1.0 to 1.2's names for what 1.3 calls Transparent EC keys.
    pub const TRANSPARENT_ECDSA_PRIVATE: u32 = 0x0E;
    pub const TRANSPARENT_ECDSA_PUBLIC: u32 = 0x0F;
    pub const TRANSPARENT_EC_PRIVATE: u32 = 0x14;
    pub const TRANSPARENT_EC_PUBLIC: u32 = 0x15;
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

fn kmip_state(state: State) -> u32 {
    match state {
        State::PreActive => 1,
        State::Active => 2,
        State::Deactivated => 3,
        State::Compromised => 4,
        State::Destroyed => 5,
        State::DestroyedCompromised => 6,
    }
}

fn state_from_kmip(value: u32) -> Option<State> {
    Some(match value {
        1 => State::PreActive,
        2 => State::Active,
        3 => State::Deactivated,
        4 => State::Compromised,
        5 => State::Destroyed,
        6 => State::DestroyedCompromised,
        _ => return None,
    })
}

fn kmip_object_type(object: ObjectType) -> u32 {
    match object {
        ObjectType::SymmetricKey => object_type::SYMMETRIC_KEY,
        ObjectType::SecretData => object_type::SECRET_DATA,
        ObjectType::OpaqueObject => object_type::OPAQUE_OBJECT,
        ObjectType::PublicKey => object_type::PUBLIC_KEY,
        ObjectType::PrivateKey => object_type::PRIVATE_KEY,
        ObjectType::Certificate => object_type::CERTIFICATE,
        ObjectType::SplitKey => object_type::SPLIT_KEY,
        // Object types added to the keystore later are reported as opaque until
        // this crate learns them.
        _ => object_type::OPAQUE_OBJECT,
    }
}

fn object_type_from_kmip(value: u32) -> Option<ObjectType> {
    match value {
        object_type::SYMMETRIC_KEY => Some(ObjectType::SymmetricKey),
        object_type::SECRET_DATA => Some(ObjectType::SecretData),
        object_type::OPAQUE_OBJECT => Some(ObjectType::OpaqueObject),
        object_type::PUBLIC_KEY => Some(ObjectType::PublicKey),
        object_type::PRIVATE_KEY => Some(ObjectType::PrivateKey),
        object_type::CERTIFICATE => Some(ObjectType::Certificate),
        object_type::SPLIT_KEY => Some(ObjectType::SplitKey),
        _ => None,
    }
}

fn kmip_algorithm(algorithm: Algorithm) -> Option<u32> {
    match algorithm {
        Algorithm::Aes128 | Algorithm::Aes256 => Some(algorithm::AES),
        Algorithm::HmacSha256 => Some(algorithm::HMAC_SHA256),
        Algorithm::Rsa2048 | Algorithm::Rsa3072 | Algorithm::Rsa4096 => Some(algorithm::RSA),
        Algorithm::EcP256 | Algorithm::EcP384 => Some(algorithm::ECDSA),
        _ => None,
    }
}

/// Whether a Locate for KMIP algorithm `wanted` matches `stored`; EC keys
/// answer to both ECDSA and EC.
fn algorithm_matches(stored: Algorithm, wanted: u32) -> bool {
    kmip_algorithm(stored) == Some(wanted) || (wanted == algorithm::EC && stored.family() == "ec")
}

/// The keystore algorithm of a key pair: RSA by modulus length, EC by
/// Recommended Curve or, when none is named, by length.
fn key_pair_algorithm(
    kmip: u32,
    bits: Option<i32>,
    curve: Option<u32>,
) -> Result<Algorithm, KmipError> {
    match (kmip, bits, curve) {
        (algorithm::RSA, Some(2048), _) => Ok(Algorithm::Rsa2048),
        (algorithm::RSA, Some(3072), _) => Ok(Algorithm::Rsa3072),
        (algorithm::RSA, Some(4096), _) => Ok(Algorithm::Rsa4096),
        (algorithm::RSA, Some(other), _) => Err(KmipError::invalid(format!(
            "RSA keys of {other} bits are not supported; use 2048, 3072 or 4096"
        ))),
        (algorithm::RSA, None, _) => Err(KmipError::missing("Cryptographic Length attribute")),
        (algorithm::ECDSA | algorithm::EC, _, Some(curve::P_256))
        | (algorithm::ECDSA | algorithm::EC, Some(256), None) => Ok(Algorithm::EcP256),
        (algorithm::ECDSA | algorithm::EC, _, Some(curve::P_384))
        | (algorithm::ECDSA | algorithm::EC, Some(384), None) => Ok(Algorithm::EcP384),
        (algorithm::ECDSA | algorithm::EC, _, _) => Err(KmipError::new(
            ResultReason::FeatureNotSupported,
            "EC keys are supported on the curves P-256 and P-384 (Recommended Curve, or Cryptographic Length 256 or 384)",
        )),
        (other, _, _) => Err(KmipError::new(
            ResultReason::FeatureNotSupported,
            format!(
                "cryptographic algorithm 0x{other:02X} is not supported for key pairs; use RSA, ECDSA or EC"
            ),
        )),
    }
}

/// The keystore algorithm for a KMIP algorithm and length in bits.
fn keystore_algorithm(kmip: u32, bits: i32) -> Result<Algorithm, KmipError> {
    match (kmip, bits) {
        (algorithm::AES, 128) => Ok(Algorithm::Aes128),
        (algorithm::AES, 256) => Ok(Algorithm::Aes256),
        (algorithm::HMAC_SHA256, 256) => Ok(Algorithm::HmacSha256),
        (algorithm::AES, other) => Err(KmipError::invalid(format!(
            "AES keys of {other} bits are not supported; use 128 or 256"
        ))),
        (algorithm::HMAC_SHA256, other) => Err(KmipError::invalid(format!(
            "HMAC-SHA256 keys of {other} bits are not supported; use 256"
        ))),
        (other, _) => Err(KmipError::invalid(format!(
            "cryptographic algorithm 0x{other:02X} is not supported for symmetric keys; use AES or HMAC-SHA256"
        ))),
    }
}

/// The response payload of Create Key Pair and Re-key Key Pair.
fn pair_identifiers(private: ObjectMeta, public: ObjectMeta) -> Vec<Item> {
    vec![
        Item::new(
            Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER,
            Value::TextString(private.id),
        ),
        Item::new(
            Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER,
            Value::TextString(public.id),
        ),
    ]
}

fn date(value: Option<time::OffsetDateTime>) -> Option<Value> {
    value.map(|at| Value::DateTime(at.unix_timestamp()))
}

/// Which attribute change a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    /// Add Attribute: the attribute must not be present yet.
    Add,
    /// Modify Attribute: the attribute must be present.
    Modify,
    /// Set Attribute (2.x): present or not.
    Set,
    /// Delete Attribute: the attribute must be present.
    Delete,
}

/// The attribute a request names: a standard one by its tag, or a custom
/// one by vendor and name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// A standard attribute.
    Standard(Tag),
    /// A custom (1.x `x-`/`y-`) or vendor (2.x) attribute.
    Custom {
        /// Vendor Identification (`x` or `y` for 1.x names).
        vendor: String,
        /// Attribute Name.
        name: String,
    },
}

impl Target {
    /// The attribute a 1.x Attribute Name names, if this server knows it.
    fn from_v1_name(name: &str) -> Option<Target> {
        match custom::split_v1_name(name) {
            Some((vendor, name)) => Some(Target::Custom {
                vendor: vendor.to_owned(),
                name: name.to_owned(),
            }),
            None => attributes::tag_of_name(name).map(Target::Standard),
        }
    }

    /// The attribute a 2.x Attribute Reference names: a tag enumeration or a
    /// vendor reference (Vendor Identification and Attribute Name); `None`
    /// for a tag this server does not know.
    fn from_reference(reference: &Item) -> Result<Option<Target>, KmipError> {
        match &reference.value {
            Value::Enumeration(value) => Ok(Tag::new(*value).map(Target::Standard)),
            Value::Structure(_) => match (
                reference.child_text(Tag::VENDOR_IDENTIFICATION),
                reference.child_text(Tag::ATTRIBUTE_NAME),
            ) {
                (Some(vendor), Some(name)) => Ok(Some(Target::Custom {
                    vendor: vendor.to_owned(),
                    name: name.to_owned(),
                })),
                _ => Err(KmipError::invalid(
                    "a vendor Attribute Reference needs a Vendor Identification and an Attribute Name",
                )),
            },
            _ => Err(KmipError::invalid(
                "Attribute Reference must be an enumeration or a structure",
            )),
        }
    }

    /// The attribute and value of a 2.x attribute item (tagged by the
    /// attribute, or a vendor `Attribute` structure).
    fn from_2x(attribute: Item) -> Result<(Target, Value), KmipError> {
        if attribute.tag != Tag::ATTRIBUTE {
            return Ok((Target::Standard(attribute.tag), attribute.value));
        }
        match custom::parts(&attribute) {
            Some((vendor, name, _, value)) => Ok((
                Target::Custom {
                    vendor: vendor.to_owned(),
                    name: name.to_owned(),
                },
                value.clone(),
            )),
            None => Err(KmipError::invalid(
                "a vendor attribute needs a Vendor Identification, an Attribute Name and an Attribute Value",
            )),
        }
    }

    /// Whether `item` (in the 2.x shape) is this attribute.
    fn matches(&self, item: &Item) -> bool {
        match (self, custom::parts(item)) {
            (Target::Custom { vendor, name }, Some((item_vendor, item_name, ..))) => {
                vendor == item_vendor && name == item_name
            }
            (Target::Standard(tag), None) => attributes::unindexed(item).0.tag == *tag,
            _ => false,
        }
    }
}

/// What an Add, Modify, Set or Delete Attribute request asks for.
struct Edited {
    /// The attribute.
    target: Target,
    /// The 1.x Attribute Index, when sent.
    index: Option<u32>,
    /// The new value (none for Delete).
    value: Option<Value>,
    /// The 2.x Current Attribute's value, naming the instance to change.
    current: Option<Value>,
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
    fn require(&self, allowed: bool, what: &str) -> Result<(), KmipError> {
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

    fn bytes_field(&self, tag: Tag) -> Result<Option<&[u8]>, KmipError> {
        match self.payload.child(tag).map(|item| &item.value) {
            None => Ok(None),
            Some(Value::ByteString(bytes)) => Ok(Some(bytes)),
            Some(_) => Err(KmipError::invalid(format!("{tag} must be a byte string"))),
        }
    }

    /// The object the payload's Unique Identifier names, if the caller may see it.
    /// An object of another tenant is reported exactly like a missing one.
    fn object(&self) -> Result<ObjectMeta, KmipError> {
        let id = self.identifier(Tag::UNIQUE_IDENTIFIER)?;
        self.object_by_id(&id)
    }

    /// [`Self::object`] for a read of its material: the lookup also brings the
    /// current version ([`Keystore::find_for_read`]).
    fn object_for_read(&self) -> Result<Found, KmipError> {
        let id = self.identifier(Tag::UNIQUE_IDENTIFIER)?;
        self.lookup(&id, Keystore::find_for_read, |found| &found.meta)
    }

    /// The identifier in the payload's `tag` field, or the ID placeholder when
    /// the field is absent or is the 2.x ID Placeholder enumeration.
    fn identifier(&self, tag: Tag) -> Result<String, KmipError> {
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
    fn object_by_id(&self, id: &str) -> Result<ObjectMeta, KmipError> {
        self.lookup(id, Keystore::find, |meta| meta)
    }

    /// Looks the object `id` names up with `find`; one of a tenant the caller
    /// may not see is reported exactly like a missing one.
    fn lookup<T>(
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

    fn material(&self, found: &Found) -> Result<SecretBytes, KmipError> {
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

    fn discover_versions(&self) -> Outcome {
        let offered: Vec<ProtocolVersion> = self
            .payload
            .children()
            .iter()
            .filter(|item| item.tag == Tag::PROTOCOL_VERSION)
            .filter_map(ProtocolVersion::from_item)
            .collect();
        let answer: Vec<Item> = if offered.is_empty() {
            SUPPORTED_VERSIONS.iter().map(|v| v.to_item()).collect()
        } else {
            offered
                .into_iter()
                .filter(|version| SUPPORTED_VERSIONS.contains(version))
                .map(ProtocolVersion::to_item)
                .collect()
        };
        Ok(answer)
    }

    fn query(&self) -> Outcome {
        let mut out = Vec::new();
        for function in self
            .payload
            .children()
            .iter()
            .filter(|item| item.tag == Tag::QUERY_FUNCTION)
        {
            match function.value {
                // Query Operations.
                Value::Enumeration(1) => out.extend(
                    op::SUPPORTED
                        .iter()
                        .map(|code| Item::new(Tag::OPERATION, Value::Enumeration(*code))),
                ),
                // Query Objects.
                Value::Enumeration(2) => out.extend(
                    [
                        object_type::CERTIFICATE,
                        object_type::SYMMETRIC_KEY,
                        object_type::PUBLIC_KEY,
                        object_type::PRIVATE_KEY,
                        object_type::SPLIT_KEY,
                        object_type::SECRET_DATA,
                        object_type::OPAQUE_OBJECT,
                    ]
                    .iter()
                    .map(|code| Item::new(Tag::OBJECT_TYPE, Value::Enumeration(*code))),
                ),
                // Query Server Information.
                Value::Enumeration(3) => {
                    out.push(Item::new(
                        Tag::VENDOR_IDENTIFICATION,
                        Value::TextString("Cryptainer".to_owned()),
                    ));
                    out.push(Item::structure(
                        Tag::SERVER_INFORMATION,
                        vec![Item::new(
                            Tag::SERVER_VERSION,
                            Value::TextString(env!("CARGO_PKG_VERSION").to_owned()),
                        )],
                    ));
                }
                // Other query functions (application namespaces, extensions,
                // profiles, ...) have nothing to list.
                Value::Enumeration(_) => {}
                _ => return Err(KmipError::invalid("Query Function must be an enumeration")),
            }
        }
        Ok(out)
    }

    fn labels(
        &self,
        attrs: &[Item],
    ) -> Result<(Option<String>, BTreeMap<String, String>), KmipError> {
        let mut labels = BTreeMap::new();
        let name = attributes::name(attrs)?;
        if let Some(name) = &name {
            labels.insert(LABEL_NAME.to_owned(), name.clone());
        }
        // Further Names, at index 1 and up.
        for (index, more) in
            (1_u32..).zip(attrs.iter().filter(|item| item.tag == Tag::NAME).skip(1))
        {
            let text = attributes::name(std::slice::from_ref(more))?.unwrap_or_default();
            labels.insert(format!("{LABEL_NAME_MORE}{index}"), text);
        }
        if let Some(group) = attributes::text(attrs, Tag::OBJECT_GROUP)? {
            labels.insert(LABEL_GROUP.to_owned(), group);
        }
        if let Some(mask) = attributes::integer(attrs, Tag::CRYPTOGRAPHIC_USAGE_MASK)? {
            labels.insert(LABEL_USAGE.to_owned(), mask.to_string());
        }
        // Custom attributes, each instance of a name at the next index.
        let mut instances: BTreeMap<(&str, &str), u32> = BTreeMap::new();
        for (vendor, custom_name, _, value) in attrs.iter().filter_map(custom::parts) {
            let index = instances.entry((vendor, custom_name)).or_insert(0);
            labels.insert(
                custom::label_key(vendor, custom_name, *index)?,
                custom::label_value(custom_name, value)?,
            );
            *index = index.saturating_add(1);
        }
        // The keystore name is the KMIP name when it fits the keystore's rules, so
        // the HTTPS API finds the object by it too; other names live in a label.
        let store_name = name.filter(|name| keystore::object::validate_name("name", name).is_ok());
        Ok((store_name, labels))
    }

    fn create(&self) -> Outcome {
        self.require(self.session.rights.manage_keys, "create objects")?;
        let object = match self.payload.child(Tag::OBJECT_TYPE).map(|i| &i.value) {
            Some(Value::Enumeration(value)) => *value,
            _ => return Err(KmipError::missing("Object Type")),
        };
        if object != object_type::SYMMETRIC_KEY {
            return Err(KmipError::invalid(
                "Create makes symmetric keys only; use Register for other objects",
            ));
        }
        let attrs = attributes::read(self.payload)?;
        let kmip_alg = attributes::enumeration(&attrs, Tag::CRYPTOGRAPHIC_ALGORITHM)?
            .ok_or_else(|| KmipError::missing("Cryptographic Algorithm attribute"))?;
        let bits = attributes::integer(&attrs, Tag::CRYPTOGRAPHIC_LENGTH)?
            .ok_or_else(|| KmipError::missing("Cryptographic Length attribute"))?;
        let algorithm = keystore_algorithm(kmip_alg, bits)?;
        let (name, labels) = self.labels(&attrs)?;
        let bytes = usize::try_from(algorithm.key_bits() / 8).unwrap_or(32);
        let meta = self
            .keystore
            .register_pre_active(
                &self.session.caller,
                &self.session.tenant,
                name.as_deref(),
                ObjectType::SymmetricKey,
                algorithm,
                labels,
                SecretBytes::random(bytes),
            )
            .map_err(|error| store_error(&error))?;
        Ok(vec![
            Item::new(Tag::OBJECT_TYPE, Value::Enumeration(object)),
            uid(&meta.id),
        ])
    }

    fn create_key_pair(&self) -> Outcome {
        self.require(self.session.rights.manage_keys, "create key pairs")?;
        let common = attributes::read_child(
            self.payload,
            &[Tag::COMMON_TEMPLATE_ATTRIBUTE, Tag::COMMON_ATTRIBUTES],
        )?;
        // Each half's own attributes come first, so they win over common ones.
        let mut private = attributes::read_child(
            self.payload,
            &[
                Tag::PRIVATE_KEY_TEMPLATE_ATTRIBUTE,
                Tag::PRIVATE_KEY_ATTRIBUTES,
            ],
        )?;
        let mut public = attributes::read_child(
            self.payload,
            &[
                Tag::PUBLIC_KEY_TEMPLATE_ATTRIBUTE,
                Tag::PUBLIC_KEY_ATTRIBUTES,
            ],
        )?;
        private.extend(common.iter().cloned());
        public.extend(common.iter().cloned());
        let kmip_alg = attributes::enumeration(&private, Tag::CRYPTOGRAPHIC_ALGORITHM)?
            .ok_or_else(|| KmipError::missing("Cryptographic Algorithm attribute"))?;
        let bits = attributes::integer(&private, Tag::CRYPTOGRAPHIC_LENGTH)?;
        let curve = match attributes::enumeration(&private, Tag::RECOMMENDED_CURVE)? {
            Some(curve) => Some(curve),
            None => match attributes::find(&private, Tag::CRYPTOGRAPHIC_DOMAIN_PARAMETERS) {
                Some(Value::Structure(children)) => match children
                    .iter()
                    .find(|item| item.tag == Tag::RECOMMENDED_CURVE)
                    .map(|item| &item.value)
                {
                    Some(Value::Enumeration(curve)) => Some(*curve),
                    _ => None,
                },
                _ => None,
            },
        };
        let algorithm = key_pair_algorithm(kmip_alg, bits, curve)?;
        let (private_name, private_labels) = self.labels(&private)?;
        let (public_name, public_labels) = self.labels(&public)?;
        let pair = asymmetric::generate(algorithm)?;
        let (private_meta, public_meta) = self
            .keystore
            .register_key_pair(
                &self.session.caller,
                &self.session.tenant,
                algorithm,
                keystore::NewHalf {
                    name: private_name.as_deref(),
                    labels: private_labels,
                    material: pair.private_pkcs8,
                },
                keystore::NewHalf {
                    name: public_name.as_deref(),
                    labels: public_labels,
                    material: SecretBytes::new(pair.public_spki),
                },
            )
            .map_err(|error| store_error(&error))?;
        Ok(pair_identifiers(private_meta, public_meta))
    }

    fn register(&self) -> Outcome {
        self.require(self.session.rights.manage_keys, "register objects")?;
        let object = match self.payload.child(Tag::OBJECT_TYPE).map(|i| &i.value) {
            Some(Value::Enumeration(value)) => *value,
            _ => return Err(KmipError::missing("Object Type")),
        };
        let object_kind = object_type_from_kmip(object).ok_or_else(|| {
            KmipError::new(
                ResultReason::FeatureNotSupported,
                format!("registering objects of type 0x{object:02X} is not supported; certificates, symmetric, public, private and split keys, secret data and opaque objects are"),
            )
        })?;
        let attrs = attributes::read(self.payload)?;
        let mut split_labels = BTreeMap::new();
        let (material, algorithm) = match object_kind {
            ObjectType::SplitKey => {
                let split = self
                    .payload
                    .child(Tag::SPLIT_KEY)
                    .ok_or_else(|| KmipError::missing("Split Key"))?;
                split_labels = split_key_labels(split)?;
                let block = split
                    .child(Tag::KEY_BLOCK)
                    .ok_or_else(|| KmipError::missing("Key Block in the Split Key"))?;
                let material = key_block_material(block)?;
                let bits = i32::try_from(material.len().saturating_mul(8)).unwrap_or(i32::MAX);
                // The part is stored, not used: an algorithm this server does
                // not use is kept out of the attributes rather than refused.
                let algorithm = match block.child(Tag::CRYPTOGRAPHIC_ALGORITHM).map(|i| &i.value) {
                    Some(Value::Enumeration(kmip_alg)) => {
                        keystore_algorithm(*kmip_alg, bits).unwrap_or(Algorithm::None)
                    }
                    _ => Algorithm::None,
                };
                (material, algorithm)
            }
            ObjectType::SymmetricKey => {
                let block = self
                    .payload
                    .child(Tag::SYMMETRIC_KEY)
                    .and_then(|key| key.child(Tag::KEY_BLOCK))
                    .ok_or_else(|| KmipError::missing("Symmetric Key with a Key Block"))?;
                let material = key_block_material(block)?;
                let kmip_alg = match block.child(Tag::CRYPTOGRAPHIC_ALGORITHM).map(|i| &i.value) {
                    Some(Value::Enumeration(value)) => Some(*value),
                    _ => attributes::enumeration(&attrs, Tag::CRYPTOGRAPHIC_ALGORITHM)?,
                }
                .unwrap_or(algorithm::AES);
                let bits = i32::try_from(material.len().saturating_mul(8)).unwrap_or(i32::MAX);
                (material, keystore_algorithm(kmip_alg, bits)?)
            }
            ObjectType::SecretData => {
                let block = self
                    .payload
                    .child(Tag::SECRET_DATA)
                    .and_then(|data| data.child(Tag::KEY_BLOCK))
                    .ok_or_else(|| KmipError::missing("Secret Data with a Key Block"))?;
                (key_block_material(block)?, Algorithm::None)
            }
            ObjectType::PublicKey | ObjectType::PrivateKey => {
                self.asymmetric_material(object_kind == ObjectType::PrivateKey, &attrs)?
            }
            ObjectType::Certificate => {
                let certificate = self
                    .payload
                    .child(Tag::CERTIFICATE)
                    .ok_or_else(|| KmipError::missing("Certificate"))?;
                match certificate.child(Tag::CERTIFICATE_TYPE).map(|i| &i.value) {
                    Some(Value::Enumeration(certificate_type::X509)) => {}
                    Some(Value::Enumeration(other)) => {
                        return Err(KmipError::new(
                            ResultReason::FeatureNotSupported,
                            format!(
                                "certificate type 0x{other:02X} is not supported; register X.509 certificates"
                            ),
                        ));
                    }
                    _ => return Err(KmipError::missing("Certificate Type")),
                }
                let der = match certificate.child(Tag::CERTIFICATE_VALUE).map(|i| &i.value) {
                    Some(Value::ByteString(bytes)) => bytes,
                    _ => return Err(KmipError::missing("Certificate Value")),
                };
                let algorithm = asymmetric::import_certificate(der)?;
                (SecretBytes::from_slice(der), algorithm)
            }
            _ => {
                let value = match self
                    .payload
                    .child(Tag::OPAQUE_OBJECT)
                    .and_then(|opaque| opaque.child(Tag::OPAQUE_DATA_VALUE))
                    .map(|item| &item.value)
                {
                    Some(Value::ByteString(bytes)) => SecretBytes::from_slice(bytes),
                    _ => {
                        return Err(KmipError::missing(
                            "Opaque Object with an Opaque Data Value",
                        ));
                    }
                };
                (value, Algorithm::None)
            }
        };
        if material.is_empty() {
            return Err(KmipError::invalid("the object's material is empty"));
        }
        let (name, mut labels) = self.labels(&attrs)?;
        labels.extend(split_labels);
        let meta = self
            .keystore
            .register_pre_active(
                &self.session.caller,
                &self.session.tenant,
                name.as_deref(),
                object_kind,
                algorithm,
                labels,
                material,
            )
            .map_err(|error| store_error(&error))?;
        Ok(vec![uid(&meta.id)])
    }

    /// The material and algorithm of a public or private key being registered:
    /// its Key Block's material in the format the block names, read and
    /// checked by `asymmetric`, and stored as SubjectPublicKeyInfo or PKCS#8.
    /// A Cryptographic Algorithm or Length in the block or the attributes must
    /// agree with the key.
    fn asymmetric_material(
        &self,
        private: bool,
        attrs: &[Item],
    ) -> Result<(SecretBytes, Algorithm), KmipError> {
        let (tag, what) = if private {
            (Tag::PRIVATE_KEY, "Private Key with a Key Block")
        } else {
            (Tag::PUBLIC_KEY, "Public Key with a Key Block")
        };
        let block = self
            .payload
            .child(tag)
            .and_then(|key| key.child(Tag::KEY_BLOCK))
            .ok_or_else(|| KmipError::missing(what))?;
        let format = match block.child(Tag::KEY_FORMAT_TYPE).map(|i| &i.value) {
            Some(Value::Enumeration(value)) => *value,
            _ => return Err(KmipError::missing("Key Format Type in the Key Block")),
        };
        let material = unwrapped_key_material(block)?;
        let (algorithm, stored) = match &material.value {
            Value::ByteString(bytes) if private => asymmetric::import_private(format, bytes)?,
            Value::ByteString(bytes) => {
                let (algorithm, spki) = asymmetric::import_public(format, bytes)?;
                (algorithm, SecretBytes::new(spki))
            }
            Value::Structure(_) => transparent_import(format, private, material)?,
            _ => {
                return Err(KmipError::invalid(
                    "Key Material must be a byte string or a transparent key structure",
                ));
            }
        };
        let enumeration = |tag: Tag| -> Result<Option<u32>, KmipError> {
            match block.child(tag).map(|i| &i.value) {
                Some(Value::Enumeration(value)) => Ok(Some(*value)),
                Some(_) => Err(KmipError::invalid(format!("{tag} must be an enumeration"))),
                None => attributes::enumeration(attrs, tag),
            }
        };
        if let Some(named) = enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM)? {
            if !algorithm_matches(algorithm, named) {
                return Err(KmipError::invalid(format!(
                    "the key is an {} key but its Cryptographic Algorithm is 0x{named:02X}",
                    algorithm.family().to_uppercase()
                )));
            }
        }
        let length = match block.child(Tag::CRYPTOGRAPHIC_LENGTH).map(|i| &i.value) {
            Some(Value::Integer(bits)) => Some(*bits),
            Some(_) => {
                return Err(KmipError::invalid(
                    "Cryptographic Length must be an integer",
                ));
            }
            None => attributes::integer(attrs, Tag::CRYPTOGRAPHIC_LENGTH)?,
        };
        if let Some(bits) = length {
            if i64::from(bits) != i64::from(algorithm.key_bits()) {
                return Err(KmipError::invalid(format!(
                    "the key is {} bits long but its Cryptographic Length is {bits}",
                    algorithm.key_bits()
                )));
            }
        }
        Ok((stored, algorithm))
    }

    /// Derive Key: a new Pre-Active symmetric key or secret data from one
    /// Active symmetric key or secret data, by PBKDF2, HMAC (HKDF), NIST SP
    /// 800-108 counter mode or AES encryption of the Derivation Data.
    fn derive_key(&self) -> Outcome {
        self.require(self.session.rights.manage_keys, "derive keys")?;
        self.require(self.session.rights.read_material, "use keys")?;
        let object = match self.payload.child(Tag::OBJECT_TYPE).map(|i| &i.value) {
            Some(Value::Enumeration(value)) => *value,
            _ => return Err(KmipError::missing("Object Type")),
        };
        let bases = self
            .payload
            .children()
            .iter()
            .filter(|item| item.tag == Tag::UNIQUE_IDENTIFIER)
            .count();
        // No identifier: the ID placeholder is the one base object.
        if bases > 1 {
            return Err(KmipError::new(
                ResultReason::FeatureNotSupported,
                format!("Derive Key takes exactly one base object here, not {bases}"),
            ));
        }
        let attrs = attributes::read(self.payload)?;
        let bits = attributes::integer(&attrs, Tag::CRYPTOGRAPHIC_LENGTH)?
            .ok_or_else(|| KmipError::missing("Cryptographic Length attribute"))?;
        let (kind, algorithm) = match object {
            object_type::SYMMETRIC_KEY => {
                let kmip_alg = attributes::enumeration(&attrs, Tag::CRYPTOGRAPHIC_ALGORITHM)?
                    .ok_or_else(|| KmipError::missing("Cryptographic Algorithm attribute"))?;
                (
                    ObjectType::SymmetricKey,
                    keystore_algorithm(kmip_alg, bits)?,
                )
            }
            object_type::SECRET_DATA => (ObjectType::SecretData, Algorithm::None),
            other => {
                return Err(KmipError::invalid(format!(
                    "Derive Key makes symmetric keys or secret data, not object type 0x{other:02X}"
                )));
            }
        };
        let length = usize::try_from(bits)
            .ok()
            .filter(|bits| bits % 8 == 0)
            .map(|bits| bits / 8)
            .filter(|bytes| (1..=derive::MAX_DERIVED_BYTES).contains(bytes))
            .ok_or_else(|| {
                KmipError::invalid(format!(
                    "Cryptographic Length must be a multiple of 8 from 8 to {} bits",
                    derive::MAX_DERIVED_BYTES.saturating_mul(8)
                ))
            })?;
        let method = match self.payload.child(Tag::DERIVATION_METHOD).map(|i| &i.value) {
            Some(Value::Enumeration(value)) => *value,
            _ => return Err(KmipError::missing("Derivation Method")),
        };
        let parameters = self.payload.child(Tag::DERIVATION_PARAMETERS);
        let field = |tag: Tag| -> Result<Option<&[u8]>, KmipError> {
            match parameters.and_then(|p| p.child(tag)).map(|i| &i.value) {
                None => Ok(None),
                Some(Value::ByteString(bytes)) => Ok(Some(bytes)),
                Some(_) => Err(KmipError::invalid(format!("{tag} must be a byte string"))),
            }
        };
        let crypto_parameters = parameters.and_then(|p| p.child(Tag::CRYPTOGRAPHIC_PARAMETERS));
        let hash = match crypto_parameters
            .and_then(|p| p.child(Tag::HASHING_ALGORITHM))
            .map(|i| &i.value)
        {
            None => Hash::Sha256,
            Some(Value::Enumeration(value)) => Hash::from_kmip(*value)?,
            Some(_) => {
                return Err(KmipError::invalid(
                    "Hashing Algorithm must be an enumeration",
                ));
            }
        };
        let data = field(Tag::DERIVATION_DATA)?;
        let meta = self.object()?;
        if !matches!(
            meta.object_type,
            ObjectType::SymmetricKey | ObjectType::SecretData
        ) {
            return Err(KmipError::invalid(format!(
                "object {} is a {}; derive from a symmetric key or secret data",
                meta.id,
                meta.object_type.as_str().replace('_', " ")
            )));
        }
        if meta.object_type == ObjectType::SecretData && !self.session.rights.read_secret_data {
            // What is derived from a secret is as good as the secret: a node
            // reaches secrets only where workload policies decide.
            return Err(KmipError::new(
                ResultReason::PermissionDenied,
                "a node may not derive from secret data; it receives secrets only over HTTPS, where workload policies decide",
            ));
        }
        let family = meta.algorithm.family();
        let base_kind = meta.object_type;
        let (meta, base) = self.usable_key(meta, base_kind, true, family)?;
        let derived = match method {
            // PBKDF2.
            0x01 => {
                let salt = field(Tag::SALT)?.ok_or_else(|| KmipError::missing("Salt"))?;
                let iterations = match parameters
                    .and_then(|p| p.child(Tag::ITERATION_COUNT))
                    .map(|i| &i.value)
                {
                    Some(Value::Integer(count)) => u32::try_from(*count)
                        .ok()
                        .filter(|count| (1..=derive::MAX_ITERATIONS).contains(count))
                        .ok_or_else(|| {
                            KmipError::invalid(format!(
                                "Iteration Count must be 1 to {}",
                                derive::MAX_ITERATIONS
                            ))
                        })?,
                    _ => return Err(KmipError::missing("Iteration Count")),
                };
                derive::pbkdf2(hash, base.expose_secret(), salt, iterations, length)
            }
            // HMAC.
            0x03 => derive::hkdf(
                hash,
                base.expose_secret(),
                field(Tag::SALT)?.unwrap_or_default(),
                data.unwrap_or_default(),
                length,
            )?,
            // Encrypt.
            0x04 => {
                if family != "aes" {
                    return Err(KmipError::invalid(format!(
                        "object {} is not an AES key; derivation by encryption needs one",
                        meta.id
                    )));
                }
                let data = data.ok_or_else(|| KmipError::missing("Derivation Data"))?;
                let iv = field(Tag::INITIALIZATION_VECTOR)?.unwrap_or_default();
                let ciphertext = match Self::cipher_mode(crypto_parameters)? {
                    None => crypto::gcm_encrypt(base.expose_secret(), iv, &[], data)?.0,
                    Some(mode) => crypto::aes_encrypt(base.expose_secret(), mode, iv, data)?,
                };
                let ciphertext = SecretBytes::new(ciphertext);
                let taken = ciphertext.expose_secret().get(..length).ok_or_else(|| {
                    KmipError::invalid(format!(
                        "the encrypted Derivation Data gives {} bytes; {length} are needed",
                        ciphertext.len()
                    ))
                })?;
                SecretBytes::from_slice(taken)
            }
            // NIST SP 800-108 counter mode.
            0x05 => derive::sp800_108_counter(
                hash,
                base.expose_secret(),
                data.ok_or_else(|| KmipError::missing("Derivation Data"))?,
                length,
            )?,
            other => {
                return Err(KmipError::new(
                    ResultReason::FeatureNotSupported,
                    format!(
                        "derivation method 0x{other:02X} is not supported; use PBKDF2, HMAC, Encrypt or NIST800-108-C"
                    ),
                ));
            }
        };
        let (name, labels) = self.labels(&attrs)?;
        let created = self
            .keystore
            .register_pre_active(
                &self.session.caller,
                &self.session.tenant,
                name.as_deref(),
                kind,
                algorithm,
                labels,
                derived,
            )
            .map_err(|error| store_error(&error))?;
        Ok(vec![uid(&created.id)])
    }

    fn rekey(&self) -> Outcome {
        self.require(self.session.rights.manage_keys, "re-key objects")?;
        let meta = self.object()?;
        let updated = self
            .keystore
            .rotate(&self.session.caller, &meta)
            .map_err(|error| store_error(&error))?;
        Ok(vec![uid(&updated.id)])
    }

    /// Re-key Key Pair: a new key pair of the old pair's algorithm, which
    /// takes over its names and its Object Group, Usage Mask and Contact
    /// Information (attributes in the request override the last three), linked
    /// to the old halves by Replaced and Replacement Object Links. The new
    /// pair is Pre-Active; an Offset is not supported.
    fn rekey_key_pair(&self) -> Outcome {
        self.require(self.session.rights.manage_keys, "re-key key pairs")?;
        let id = self.identifier(Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER)?;
        if self.payload.child(Tag::OFFSET).is_some() {
            return Err(KmipError::new(
                ResultReason::FeatureNotSupported,
                "Re-key Key Pair with an Offset is not supported; the new pair is Pre-Active until activated",
            ));
        }
        let old_private = self.object_by_id(&id)?;
        if old_private.object_type != ObjectType::PrivateKey
            || !old_private
                .labels
                .contains_key(keystore::object::KEY_PAIR_LABEL)
        {
            return Err(KmipError::invalid(format!(
                "object {id} is not the private key of a key pair; Re-key Key Pair needs one"
            )));
        }
        let common = attributes::read_child(
            self.payload,
            &[Tag::COMMON_TEMPLATE_ATTRIBUTE, Tag::COMMON_ATTRIBUTES],
        )?;
        let mut half_labels = Vec::with_capacity(2);
        for (tags, old_id) in [
            (
                [
                    Tag::PRIVATE_KEY_TEMPLATE_ATTRIBUTE,
                    Tag::PRIVATE_KEY_ATTRIBUTES,
                ],
                Some(&old_private.id),
            ),
            (
                [
                    Tag::PUBLIC_KEY_TEMPLATE_ATTRIBUTE,
                    Tag::PUBLIC_KEY_ATTRIBUTES,
                ],
                old_private.labels.get(keystore::object::KEY_PAIR_LABEL),
            ),
        ] {
            let mut attrs = attributes::read_child(self.payload, &tags)?;
            attrs.extend(common.iter().cloned());
            if attributes::name(&attrs)?.is_some() {
                return Err(KmipError::invalid(
                    "Re-key Key Pair gives the new pair the old pair's names; send no Name",
                ));
            }
            let old = match old_id {
                Some(old_id) => self.object_by_id(old_id)?,
                None => old_private.clone(),
            };
            let mut labels: BTreeMap<String, String> =
                [LABEL_NAME, LABEL_GROUP, LABEL_USAGE, LABEL_CONTACT]
                    .into_iter()
                    .filter_map(|label| Some((label.to_owned(), old.labels.get(label)?.clone())))
                    .collect();
            labels.extend(self.labels(&attrs)?.1);
            half_labels.push(labels);
        }
        let public_labels = half_labels.pop().unwrap_or_default();
        let private_labels = half_labels.pop().unwrap_or_default();
        let pair = asymmetric::generate(old_private.algorithm)?;
        let (private_meta, public_meta) = self
            .keystore
            .rekey_key_pair(
                &self.session.caller,
                &old_private,
                &[LABEL_NAME],
                keystore::NewHalf {
                    name: None,
                    labels: private_labels,
                    material: pair.private_pkcs8,
                },
                keystore::NewHalf {
                    name: None,
                    labels: public_labels,
                    material: SecretBytes::new(pair.public_spki),
                },
            )
            .map_err(|error| store_error(&error))?;
        Ok(pair_identifiers(private_meta, public_meta))
    }

    fn locate(&self) -> Outcome {
        self.require(self.session.rights.read_metadata, "locate objects")?;
        let attrs = attributes::read(self.payload)?;
        let name = attributes::name(&attrs)?;
        let object = attributes::enumeration(&attrs, Tag::OBJECT_TYPE)?;
        let state = attributes::enumeration(&attrs, Tag::STATE)?;
        let algorithm_filter = attributes::enumeration(&attrs, Tag::CRYPTOGRAPHIC_ALGORITHM)?;
        let length = attributes::integer(&attrs, Tag::CRYPTOGRAPHIC_LENGTH)?;
        let group = attributes::text(&attrs, Tag::OBJECT_GROUP)?;
        let custom_wanted: Vec<&Item> = attrs
            .iter()
            .filter(|item| custom::parts(item).is_some())
            .collect();
        let maximum = match self.payload.child(Tag::MAXIMUM_ITEMS).map(|i| &i.value) {
            None => usize::MAX,
            Some(Value::Integer(value)) => usize::try_from(*value)
                .map_err(|_| KmipError::invalid("Maximum Items must not be negative"))?,
            Some(_) => return Err(KmipError::invalid("Maximum Items must be an integer")),
        };
        let offset = match self.payload.child(Tag::OFFSET_ITEMS).map(|i| &i.value) {
            None => 0,
            Some(Value::Integer(value)) => usize::try_from(*value)
                .map_err(|_| KmipError::invalid("Offset Items must not be negative"))?,
            Some(_) => return Err(KmipError::invalid("Offset Items must be an integer")),
        };
        let object_filter = match object {
            None => None,
            Some(value) => match object_type_from_kmip(value) {
                Some(kind) => Some(kind),
                // No object of a type we do not store can match.
                None => return Ok(self.located(Vec::new())),
            },
        };
        let state_filter = match state {
            None => None,
            Some(value) => Some(
                state_from_kmip(value)
                    .ok_or_else(|| KmipError::invalid(format!("State 0x{value:02X} is unknown")))?,
            ),
        };
        let tenants = match &self.session.scope {
            TenantScope::All => None,
            TenantScope::Only(tenants) => Some(tenants.clone()),
        };
        let filter = ListFilter {
            tenants,
            name: None,
            state: state_filter,
            object_type: object_filter,
            limit: MAX_LIST,
            offset: 0,
        };
        let (objects, _) = self
            .keystore
            .list(&filter)
            .map_err(|error| store_error(&error))?;
        let matching: Vec<String> = objects
            .into_iter()
            .filter(|meta| self.session.scope.allows(&meta.tenant))
            .filter(|meta| {
                name.as_ref().is_none_or(|wanted| {
                    meta.name.as_ref() == Some(wanted)
                        || names(meta).iter().any(|(_, name)| name == wanted)
                })
            })
            .filter(|meta| {
                algorithm_filter.is_none_or(|wanted| algorithm_matches(meta.algorithm, wanted))
            })
            .filter(|meta| length.is_none_or(|wanted| i64::from(meta.length) == i64::from(wanted)))
            .filter(|meta| {
                group
                    .as_ref()
                    .is_none_or(|wanted| meta.labels.get(LABEL_GROUP) == Some(wanted))
            })
            .filter(|meta| custom_attributes_match(meta, &custom_wanted))
            .skip(offset)
            .take(maximum)
            .map(|meta| meta.id)
            .collect();
        Ok(self.located(matching))
    }

    fn located(&self, ids: Vec<String>) -> Vec<Item> {
        let mut out = Vec::with_capacity(ids.len().saturating_add(1));
        if self.version >= (ProtocolVersion { major: 1, minor: 3 }) {
            out.push(Item::new(
                Tag::LOCATED_ITEMS,
                Value::Integer(i32::try_from(ids.len()).unwrap_or(i32::MAX)),
            ));
        }
        out.extend(ids.iter().map(|id| uid(id)));
        out
    }

    fn get(&self) -> Outcome {
        self.require(self.session.rights.read_material, "get key material")?;
        let found = self.object_for_read()?;
        let meta = &found.meta;
        if meta.object_type == ObjectType::SecretData && !self.session.rights.read_secret_data {
            return Err(KmipError::new(
                ResultReason::PermissionDenied,
                "a node receives secret data only over HTTPS (POST /v1/secrets/{ref}/deliver, POST /v1/volumes/{name}/acquire), where workload policies decide",
            ));
        }
        let wrapping = self
            .payload
            .child(Tag::KEY_WRAPPING_SPECIFICATION)
            .map(|specification| self.wrapping_key(specification, meta))
            .transpose()?;
        let format = match self.payload.child(Tag::KEY_FORMAT_TYPE).map(|i| &i.value) {
            None => None,
            Some(Value::Enumeration(value)) => Some(*value),
            Some(_) => return Err(KmipError::invalid("Key Format Type must be an enumeration")),
        };
        if meta.state.is_destroyed() {
            return Err(KmipError::new(
                ResultReason::WrongKeyLifecycleState,
                format!("object {} is destroyed; its material is gone", meta.id),
            ));
        }
        let material = self.material(&found)?;
        let object = match meta.object_type {
            ObjectType::SymmetricKey => {
                let (format_code, key_material) = match format {
                    None | Some(key_format::RAW) => (
                        key_format::RAW,
                        Item::new(
                            Tag::KEY_MATERIAL,
                            Value::ByteString(material.expose_secret().to_vec()),
                        ),
                    ),
                    Some(key_format::TRANSPARENT_SYMMETRIC) => (
                        key_format::TRANSPARENT_SYMMETRIC,
                        Item::structure(
                            Tag::KEY_MATERIAL,
                            vec![Item::new(
                                Tag::KEY,
                                Value::ByteString(material.expose_secret().to_vec()),
                            )],
                        ),
                    ),
                    Some(other) => {
                        return Err(KmipError::new(
                            ResultReason::KeyFormatTypeNotSupported,
                            format!(
                                "key format 0x{other:02X} is not supported for symmetric keys; ask for Raw or Transparent Symmetric Key"
                            ),
                        ));
                    }
                };
                Item::structure(
                    Tag::SYMMETRIC_KEY,
                    vec![key_block(meta, format_code, key_material)],
                )
            }
            ObjectType::PublicKey | ObjectType::PrivateKey => {
                let private = meta.object_type == ObjectType::PrivateKey;
                let wanted =
                    format.unwrap_or_else(|| asymmetric::default_format(meta.algorithm, private));
                let transparent = transparent_export(meta, &material, wanted)?;
                let key_material = if let Some(structure) = transparent {
                    structure
                } else {
                    let bytes = if private {
                        asymmetric::export_private(meta.algorithm, &material, wanted)?
                    } else {
                        SecretBytes::new(asymmetric::export_public(
                            meta.algorithm,
                            material.expose_secret(),
                            wanted,
                        )?)
                    };
                    Item::new(
                        Tag::KEY_MATERIAL,
                        Value::ByteString(bytes.expose_secret().to_vec()),
                    )
                };
                Item::structure(
                    if private {
                        Tag::PRIVATE_KEY
                    } else {
                        Tag::PUBLIC_KEY
                    },
                    vec![key_block(meta, wanted, key_material)],
                )
            }
            ObjectType::SplitKey => {
                let mut children = split_key_items(meta);
                children.push(key_block(
                    meta,
                    key_format::RAW,
                    Item::new(
                        Tag::KEY_MATERIAL,
                        Value::ByteString(material.expose_secret().to_vec()),
                    ),
                ));
                Item::structure(Tag::SPLIT_KEY, children)
            }
            ObjectType::Certificate => Item::structure(
                Tag::CERTIFICATE,
                vec![
                    Item::new(
                        Tag::CERTIFICATE_TYPE,
                        Value::Enumeration(certificate_type::X509),
                    ),
                    Item::new(
                        Tag::CERTIFICATE_VALUE,
                        Value::ByteString(material.expose_secret().to_vec()),
                    ),
                ],
            ),
            ObjectType::SecretData => Item::structure(
                Tag::SECRET_DATA,
                vec![
                    // Secret Data Type 1: Password.
                    Item::new(Tag::SECRET_DATA_TYPE, Value::Enumeration(1)),
                    Item::structure(
                        Tag::KEY_BLOCK,
                        vec![
                            Item::new(Tag::KEY_FORMAT_TYPE, Value::Enumeration(key_format::OPAQUE)),
                            Item::structure(
                                Tag::KEY_VALUE,
                                vec![Item::new(
                                    Tag::KEY_MATERIAL,
                                    Value::ByteString(material.expose_secret().to_vec()),
                                )],
                            ),
                        ],
                    ),
                ],
            ),
            _ => Item::structure(
                Tag::OPAQUE_OBJECT,
                vec![
                    // Opaque Data Type: the vendor-neutral "unknown" value.
                    Item::new(Tag::OPAQUE_DATA_TYPE, Value::Enumeration(0x8000_0000)),
                    Item::new(
                        Tag::OPAQUE_DATA_VALUE,
                        Value::ByteString(material.expose_secret().to_vec()),
                    ),
                ],
            ),
        };
        let object = match wrapping {
            None => object,
            Some(wrapping) => wrap_key_block(object, &wrapping)?,
        };
        Ok(vec![
            Item::new(
                Tag::OBJECT_TYPE,
                Value::Enumeration(kmip_object_type(meta.object_type)),
            ),
            uid(&meta.id),
            object,
        ])
    }

    /// The wrapping key and mode a Key Wrapping Specification asks for: an
    /// Active AES key the caller may use, other than the object itself, with
    /// NIST Key Wrap (RFC 3394, the default) or AES Key Wrap with Padding
    /// (RFC 5649), and no encoding of the key value.
    fn wrapping_key(
        &self,
        specification: &Item,
        wrapped: &ObjectMeta,
    ) -> Result<Wrapping, KmipError> {
        let unsupported =
            |message: &str| KmipError::new(ResultReason::FeatureNotSupported, message.to_owned());
        match specification.child(Tag::WRAPPING_METHOD).map(|i| &i.value) {
            Some(Value::Enumeration(1)) => {}
            Some(_) => return Err(unsupported("only the Encrypt wrapping method is supported")),
            None => return Err(KmipError::missing("Wrapping Method")),
        }
        if specification
            .child(Tag::MAC_SIGNATURE_KEY_INFORMATION)
            .is_some()
            || specification.child(Tag::ATTRIBUTE_NAME).is_some()
        {
            return Err(unsupported(
                "MAC/signature key information and wrapped attributes are not supported; wrap with an encryption key only",
            ));
        }
        match specification.child(Tag::ENCODING_OPTION).map(|i| &i.value) {
            // No Encoding (and, leniently, none named).
            None | Some(Value::Enumeration(1)) => {}
            Some(_) => {
                return Err(KmipError::new(
                    ResultReason::EncodingOptionError,
                    "only the No Encoding option is supported for wrapped keys",
                ));
            }
        }
        let information = specification
            .child(Tag::ENCRYPTION_KEY_INFORMATION)
            .ok_or_else(|| KmipError::missing("Encryption Key Information"))?;
        let id = match information.child(Tag::UNIQUE_IDENTIFIER).map(|i| &i.value) {
            Some(Value::TextString(id)) => id.clone(),
            _ => return Err(KmipError::missing("wrapping key Unique Identifier")),
        };
        let mode = match information
            .child(Tag::CRYPTOGRAPHIC_PARAMETERS)
            .and_then(|parameters| parameters.child(Tag::BLOCK_CIPHER_MODE))
            .map(|i| &i.value)
        {
            None | Some(Value::Enumeration(block_mode::NIST_KEY_WRAP)) => block_mode::NIST_KEY_WRAP,
            Some(Value::Enumeration(block_mode::AES_KEY_WRAP_PADDING)) => {
                block_mode::AES_KEY_WRAP_PADDING
            }
            Some(_) => {
                return Err(unsupported(
                    "wrapping supports the NIST Key Wrap (RFC 3394) and AES Key Wrap Padding (RFC 5649) modes",
                ));
            }
        };
        if id == wrapped.id {
            return Err(KmipError::invalid(
                "an object cannot be wrapped with itself",
            ));
        }
        let meta = self.object_by_id(&id).map_err(|error| {
            if error.reason == ResultReason::ItemNotFound {
                KmipError::new(
                    ResultReason::WrappingObjectNotFound,
                    format!("no wrapping key '{id}'"),
                )
            } else {
                error
            }
        })?;
        let (meta, key) = self.usable_key(meta, ObjectType::SymmetricKey, true, "aes")?;
        Ok(Wrapping {
            id: meta.id,
            key,
            mode,
        })
    }

    /// Every attribute of an object, in the 2.x shape.
    fn all_attributes(meta: &ObjectMeta) -> Vec<Item> {
        let mut out = vec![
            uid(&meta.id),
            Item::new(
                Tag::OBJECT_TYPE,
                Value::Enumeration(kmip_object_type(meta.object_type)),
            ),
        ];
        if meta.object_type == ObjectType::Certificate {
            out.push(Item::new(
                Tag::CERTIFICATE_TYPE,
                Value::Enumeration(certificate_type::X509),
            ));
        }
        out.extend(split_key_items(meta));
        if let Some(alg) = kmip_algorithm(meta.algorithm) {
            out.push(Item::new(
                Tag::CRYPTOGRAPHIC_ALGORITHM,
                Value::Enumeration(alg),
            ));
            out.push(Item::new(
                Tag::CRYPTOGRAPHIC_LENGTH,
                Value::Integer(i32::try_from(meta.length).unwrap_or(i32::MAX)),
            ));
        }
        if let Some(mask) = meta
            .labels
            .get(LABEL_USAGE)
            .and_then(|m| m.parse::<i32>().ok())
        {
            out.push(Item::new(
                Tag::CRYPTOGRAPHIC_USAGE_MASK,
                Value::Integer(mask),
            ));
        }
        for (index, name) in names(meta) {
            let item = attributes::name_item(&name);
            out.push(if index == 0 {
                item
            } else {
                attributes::indexed(index, item)
            });
        }
        if let Some(group) = meta.labels.get(LABEL_GROUP) {
            out.push(Item::new(
                Tag::OBJECT_GROUP,
                Value::TextString(group.clone()),
            ));
        }
        if let Some(contact) = meta.labels.get(LABEL_CONTACT) {
            out.push(Item::new(
                Tag::CONTACT_INFORMATION,
                Value::TextString(contact.clone()),
            ));
        }
        let pair_link = if meta.object_type == ObjectType::PrivateKey {
            link_type::PUBLIC_KEY_LINK
        } else {
            link_type::PRIVATE_KEY_LINK
        };
        for (label, link) in [
            (keystore::object::KEY_PAIR_LABEL, pair_link),
            (
                keystore::object::REPLACEMENT_LABEL,
                link_type::REPLACEMENT_OBJECT_LINK,
            ),
            (
                keystore::object::REPLACED_LABEL,
                link_type::REPLACED_OBJECT_LINK,
            ),
        ] {
            if let Some(other) = meta.labels.get(label) {
                out.push(Item::structure(
                    Tag::LINK,
                    vec![
                        Item::new(Tag::LINK_TYPE, Value::Enumeration(link)),
                        Item::new(
                            Tag::LINKED_OBJECT_IDENTIFIER,
                            Value::TextString(other.clone()),
                        ),
                    ],
                ));
            }
        }
        out.extend(custom_attributes(meta));
        out.push(Item::new(
            Tag::STATE,
            Value::Enumeration(kmip_state(meta.state)),
        ));
        out.push(Item::new(
            Tag::INITIAL_DATE,
            Value::DateTime(meta.created_at.unix_timestamp()),
        ));
        for (tag, value) in [
            (Tag::ACTIVATION_DATE, date(meta.activation_date)),
            (Tag::DEACTIVATION_DATE, date(meta.deactivation_date)),
            (Tag::COMPROMISE_DATE, date(meta.compromise_date)),
            (Tag::DESTROY_DATE, date(meta.destroy_date)),
        ] {
            if let Some(value) = value {
                out.push(Item::new(tag, value));
            }
        }
        out
    }

    /// The attributes the request asks for (1.x names or 2.x references);
    /// empty means all.
    fn requested(&self) -> Result<Vec<Target>, KmipError> {
        let mut wanted = Vec::new();
        for child in self.payload.children() {
            if child.tag == Tag::ATTRIBUTE_NAME {
                if let Value::TextString(name) = &child.value {
                    // A name we do not know cannot match any attribute we hold.
                    wanted.extend(Target::from_v1_name(name));
                }
            } else if child.tag == Tag::ATTRIBUTE_REFERENCE {
                wanted.extend(Target::from_reference(child)?);
            }
        }
        Ok(wanted)
    }

    fn get_attributes(&self) -> Outcome {
        self.require(self.session.rights.read_metadata, "read attributes")?;
        let meta = self.object()?;
        let wanted = self.requested()?;
        let asked_for_some = self
            .payload
            .children()
            .iter()
            .any(|c| c.tag == Tag::ATTRIBUTE_NAME || c.tag == Tag::ATTRIBUTE_REFERENCE);
        let selected: Vec<Item> = Self::all_attributes(&meta)
            .into_iter()
            .filter(|item| !asked_for_some || wanted.iter().any(|target| target.matches(item)))
            .collect();
        let mut out = vec![uid(&meta.id)];
        out.extend(attributes::write(self.version, selected));
        Ok(out)
    }

    fn get_attribute_list(&self) -> Outcome {
        self.require(self.session.rights.read_metadata, "read attributes")?;
        let meta = self.object()?;
        let mut out = vec![uid(&meta.id)];
        for attribute in Self::all_attributes(&meta) {
            let attribute = attributes::unindexed(&attribute).0.clone();
            let listed = if let Some((vendor, name, ..)) = custom::parts(&attribute) {
                if self.version.uses_attributes_structure() {
                    Some(Item::structure(
                        Tag::ATTRIBUTE_REFERENCE,
                        vec![
                            Item::new(
                                Tag::VENDOR_IDENTIFICATION,
                                Value::TextString(vendor.to_owned()),
                            ),
                            Item::new(Tag::ATTRIBUTE_NAME, Value::TextString(name.to_owned())),
                        ],
                    ))
                } else {
                    custom::v1_name(vendor, name)
                        .map(|name| Item::new(Tag::ATTRIBUTE_NAME, Value::TextString(name)))
                }
            } else if self.version.uses_attributes_structure() {
                Some(Item::new(
                    Tag::ATTRIBUTE_REFERENCE,
                    Value::Enumeration(attribute.tag.value()),
                ))
            } else {
                attributes::spaced_name(attribute.tag)
                    .map(|name| Item::new(Tag::ATTRIBUTE_NAME, Value::TextString(name)))
            };
            // A multi-valued custom attribute is listed once.
            if let Some(listed) = listed.filter(|listed| !out.contains(listed)) {
                out.push(listed);
            }
        }
        Ok(out)
    }

    /// The attribute an Add, Modify, Set or Delete Attribute request names,
    /// the instance it names and the new value (none for Delete).
    fn edited_attribute(&self, edit: Edit) -> Result<Edited, KmipError> {
        let single_child = |item: &Item| -> Result<Item, KmipError> {
            match item.children() {
                [attribute] => Ok(attribute.clone()),
                _ => Err(KmipError::invalid(format!(
                    "{} must hold exactly one attribute",
                    item.tag
                ))),
            }
        };
        let unsupported = |name: &str| {
            KmipError::new(
                ResultReason::UnsupportedAttribute,
                format!("attribute '{name}' is not one this server knows"),
            )
        };
        let index_in = |item: &Item| match item.child(Tag::ATTRIBUTE_INDEX).map(|i| &i.value) {
            None => Ok(None),
            Some(Value::Integer(index)) => u32::try_from(*index)
                .map(Some)
                .map_err(|_| KmipError::invalid("Attribute Index must not be negative")),
            Some(_) => Err(KmipError::invalid("Attribute Index must be an integer")),
        };
        // 1.x: an Attribute structure (Add, Modify) or an Attribute Name (Delete).
        if let Some(attribute) = self.payload.child(Tag::ATTRIBUTE) {
            let name = match attribute.child(Tag::ATTRIBUTE_NAME).map(|i| &i.value) {
                Some(Value::TextString(name)) => name.clone(),
                _ => return Err(KmipError::missing("Attribute Name")),
            };
            return Ok(Edited {
                target: Target::from_v1_name(&name).ok_or_else(|| unsupported(&name))?,
                index: index_in(attribute)?,
                value: attribute
                    .child(Tag::ATTRIBUTE_VALUE)
                    .map(|i| i.value.clone()),
                current: None,
            });
        }
        if let Some(Value::TextString(name)) =
            self.payload.child(Tag::ATTRIBUTE_NAME).map(|i| &i.value)
        {
            return Ok(Edited {
                target: Target::from_v1_name(name).ok_or_else(|| unsupported(name))?,
                index: index_in(self.payload)?,
                value: None,
                current: None,
            });
        }
        // 2.x: New Attribute (Add, Modify, Set), Current Attribute or Attribute
        // Reference (Delete, and Modify's optional current value).
        let current = self
            .payload
            .child(Tag::CURRENT_ATTRIBUTE)
            .map(single_child)
            .transpose()?;
        if edit != Edit::Delete {
            let new = self
                .payload
                .child(Tag::NEW_ATTRIBUTE)
                .ok_or_else(|| KmipError::missing("New Attribute"))?;
            let (target, value) = Target::from_2x(single_child(new)?)?;
            return Ok(Edited {
                target,
                index: None,
                value: Some(value),
                current: current.map(Target::from_2x).transpose()?.map(|(_, v)| v),
            });
        }
        if let Some(current) = current {
            let (target, value) = Target::from_2x(current)?;
            return Ok(Edited {
                target,
                index: None,
                value: None,
                current: Some(value),
            });
        }
        let reference = self
            .payload
            .child(Tag::ATTRIBUTE_REFERENCE)
            .ok_or_else(|| KmipError::missing("Current Attribute or Attribute Reference"))?;
        Ok(Edited {
            target: Target::from_reference(reference)?.ok_or_else(|| {
                unsupported(&format!(
                    "0x{:06X}",
                    reference.value.as_enumeration().unwrap_or(0)
                ))
            })?,
            index: None,
            value: None,
            current: None,
        })
    }

    /// Add, Modify, Set (2.x) and Delete Attribute on the attributes in
    /// [`EDITABLE`] and on custom attributes; the others are read-only or
    /// unknown.
    fn edit_attribute(&self, edit: Edit) -> Outcome {
        self.require(self.session.rights.manage_keys, "change attributes")?;
        let meta = self.object()?;
        let edited = self.edited_attribute(edit)?;
        let tag = match &edited.target {
            Target::Custom { vendor, name } => {
                return self.edit_custom(edit, &meta, vendor, name, &edited);
            }
            Target::Standard(Tag::NAME) => return self.edit_name(edit, &meta, &edited),
            Target::Standard(tag) => *tag,
        };
        if edited.index.is_some_and(|index| index != 0) && edit != Edit::Add {
            return Err(KmipError::new(
                ResultReason::AttributeNotFound,
                format!("attribute {tag} has one value here, at index 0"),
            ));
        }
        let value = edited.value;
        let Some(&(_, label, value_type, deletable)) =
            EDITABLE.iter().find(|(known, ..)| *known == tag)
        else {
            let shown = Self::all_attributes(&meta)
                .iter()
                .any(|attribute| attribute.tag == tag);
            return Err(if shown {
                KmipError::new(
                    ResultReason::AttributeReadOnly,
                    format!(
                        "{tag} is set by the server and cannot be changed by a client; Name, Object Group, Cryptographic Usage Mask, Contact Information and custom (x-) or vendor attributes can"
                    ),
                )
            } else {
                KmipError::new(
                    ResultReason::UnsupportedAttribute,
                    format!(
                        "{tag} cannot be set on this server; Name, Object Group, Cryptographic Usage Mask, Contact Information and custom (x-) or vendor attributes can"
                    ),
                )
            });
        };
        let present = meta.labels.contains_key(label);
        match edit {
            Edit::Delete if !deletable => {
                return Err(KmipError::new(
                    ResultReason::AttributeReadOnly,
                    format!("{tag} cannot be deleted by a client; modify it instead"),
                ));
            }
            Edit::Add if present => {
                return Err(KmipError::new(
                    ResultReason::AttributeSingleValued,
                    format!("{tag} already has a value; use Modify Attribute to change it"),
                ));
            }
            Edit::Modify | Edit::Delete if !present => {
                return Err(KmipError::new(
                    ResultReason::AttributeNotFound,
                    format!("object {} has no {tag}; use Add Attribute", meta.id),
                ));
            }
            _ => {}
        }
        let mut labels = meta.labels.clone();
        let old = labels.get(label).cloned();
        let new_text = match &value {
            None if edit == Edit::Delete => None,
            None => return Err(KmipError::missing("Attribute Value")),
            Some(value) if value.item_type() != value_type => {
                return Err(KmipError::invalid(format!(
                    "{tag} must be {value_type:?}, not {:?}",
                    value.item_type()
                )));
            }
            Some(Value::TextString(text)) => Some(text.clone()),
            Some(Value::Integer(number)) => Some(number.to_string()),
            Some(_) => return Err(KmipError::invalid(format!("{tag} has an unexpected type"))),
        };
        match &new_text {
            Some(text) => labels.insert(label.to_owned(), text.clone()),
            None => labels.remove(label),
        };
        let updated = self
            .keystore
            .set_labels(&self.session.caller, &meta, labels)
            .map_err(|error| store_error(&error))?;
        let mut out = vec![uid(&updated.id)];
        // 1.x answers Add and Modify with the attribute as it now is, and
        // Delete with the attribute as it was; 2.x with the identifier only.
        if !self.version.uses_attributes_structure() {
            let shown = if edit == Edit::Delete { old } else { new_text };
            if let Some(text) = shown {
                let value = if value_type == ttlv::ItemType::Integer {
                    Value::Integer(text.parse().unwrap_or_default())
                } else {
                    Value::TextString(text)
                };
                out.extend(attributes::write(self.version, vec![Item::new(tag, value)]));
            }
        }
        Ok(out)
    }

    /// Add, Modify, Set and Delete Attribute on a custom attribute, which may
    /// have several instances. Add makes the next index; Modify and Delete
    /// take the instance a 2.x Current Attribute's value or a 1.x Attribute
    /// Index names (index 0 when neither is sent); Set replaces every
    /// instance with one; a 2.x Delete by Attribute Reference deletes every
    /// instance. Indexes of the other instances do not change.
    fn edit_custom(
        &self,
        edit: Edit,
        meta: &ObjectMeta,
        vendor: &str,
        name: &str,
        edited: &Edited,
    ) -> Outcome {
        let shown_name =
            custom::v1_name(vendor, name).unwrap_or_else(|| format!("{vendor} {name}"));
        let instances: Vec<(u32, Value)> = custom_attributes(meta)
            .iter()
            .filter_map(|item| {
                let (item_vendor, item_name, index, value) = custom::parts(item)?;
                (item_vendor == vendor && item_name == name)
                    .then(|| (index.unwrap_or(0), value.clone()))
            })
            .collect();
        let chosen = || -> Result<u32, KmipError> {
            let found = match (&edited.current, edited.index) {
                (Some(current), _) => instances.iter().find(|(_, value)| value == current),
                (None, index) => instances.iter().find(|(at, _)| *at == index.unwrap_or(0)),
            };
            found.map(|(index, _)| *index).ok_or_else(|| {
                KmipError::new(
                    ResultReason::AttributeNotFound,
                    format!(
                        "object {} has no such instance of {shown_name}; Get Attributes lists them",
                        meta.id
                    ),
                )
            })
        };
        let new_value = || {
            edited
                .value
                .clone()
                .ok_or_else(|| KmipError::missing("Attribute Value"))
        };
        let mut labels = meta.labels.clone();
        // The instance the response shows (1.x) and the labels to write.
        let (index, shown) = match edit {
            Edit::Add => {
                let index = instances
                    .iter()
                    .map(|(index, _)| index.saturating_add(1))
                    .max()
                    .unwrap_or(0);
                (index, new_value()?)
            }
            Edit::Set => {
                for (index, _) in &instances {
                    labels.remove(&custom::label_key(vendor, name, *index)?);
                }
                (0, new_value()?)
            }
            Edit::Modify => (chosen()?, new_value()?),
            Edit::Delete => {
                let every = edited.current.is_none()
                    && edited.index.is_none()
                    && self.version.uses_attributes_structure();
                let doomed: Vec<(u32, Value)> = if every {
                    instances.clone()
                } else {
                    let index = chosen()?;
                    instances
                        .iter()
                        .filter(|(at, _)| *at == index)
                        .cloned()
                        .collect()
                };
                let Some(first) = doomed.first().cloned() else {
                    return Err(KmipError::new(
                        ResultReason::AttributeNotFound,
                        format!("object {} has no {shown_name}", meta.id),
                    ));
                };
                for (index, _) in &doomed {
                    labels.remove(&custom::label_key(vendor, name, *index)?);
                }
                first
            }
        };
        if edit != Edit::Delete {
            labels.insert(
                custom::label_key(vendor, name, index)?,
                custom::label_value(&shown_name, &shown)?,
            );
        }
        let updated = self
            .keystore
            .set_labels(&self.session.caller, meta, labels)
            .map_err(|error| store_error(&error))?;
        let mut out = vec![uid(&updated.id)];
        // 1.x answers with the instance as it now is (Delete: as it was).
        if !self.version.uses_attributes_structure() {
            out.extend(attributes::write(
                self.version,
                vec![custom::item(vendor, name, Some(index), shown)],
            ));
        }
        Ok(out)
    }

    /// Add, Modify and Delete Attribute on Name, which may have several
    /// instances: Add makes the next index; Modify and Delete take the
    /// instance a 2.x Current Attribute or a 1.x Attribute Index names (index
    /// 0 when neither is sent). The first Name of an object whose name is its
    /// keystore name (the one the HTTPS API finds it by) cannot be changed.
    fn edit_name(&self, edit: Edit, meta: &ObjectMeta, edited: &Edited) -> Outcome {
        let text_of = |value: &Value| -> Result<String, KmipError> {
            attributes::name(&[Item::new(Tag::NAME, value.clone())])?
                .ok_or_else(|| KmipError::missing("Name Value"))
        };
        let held = names(meta);
        let resolve = || -> Result<u32, KmipError> {
            let found = match &edited.current {
                Some(current) => {
                    let wanted = text_of(current)?;
                    held.iter().find(|(_, name)| *name == wanted)
                }
                None => held
                    .iter()
                    .find(|(index, _)| *index == edited.index.unwrap_or(0)),
            };
            let (index, _) = found.ok_or_else(|| {
                KmipError::new(
                    ResultReason::AttributeNotFound,
                    format!(
                        "object {} has no such Name; Get Attributes lists its names",
                        meta.id
                    ),
                )
            })?;
            if *index == 0 && meta.name.is_some() {
                return Err(KmipError::new(
                    ResultReason::AttributeReadOnly,
                    format!(
                        "the first Name of object {} is its name in the key store and cannot be changed; add another Name",
                        meta.id
                    ),
                ));
            }
            Ok(*index)
        };
        let new_text = || {
            edited
                .value
                .as_ref()
                .ok_or_else(|| KmipError::missing("Attribute Value"))
                .and_then(text_of)
        };
        let (index, text) = match edit {
            Edit::Set => {
                return Err(KmipError::invalid(
                    "Name may have several values; use Add, Modify or Delete Attribute",
                ));
            }
            Edit::Add => (
                held.iter()
                    .map(|(index, _)| index.saturating_add(1))
                    .max()
                    .unwrap_or(0),
                new_text()?,
            ),
            Edit::Modify => (resolve()?, new_text()?),
            Edit::Delete => {
                let index = resolve()?;
                let old = held
                    .iter()
                    .find(|(at, _)| *at == index)
                    .map(|(_, name)| name.clone())
                    .unwrap_or_default();
                (index, old)
            }
        };
        let label = if index == 0 {
            LABEL_NAME.to_owned()
        } else {
            format!("{LABEL_NAME_MORE}{index}")
        };
        let mut labels = meta.labels.clone();
        if edit == Edit::Delete {
            labels.remove(&label);
        } else {
            labels.insert(label, text.clone());
        }
        let updated = self
            .keystore
            .set_labels(&self.session.caller, meta, labels)
            .map_err(|error| store_error(&error))?;
        let mut out = vec![uid(&updated.id)];
        // 1.x answers with the instance as it now is (Delete: as it was).
        if !self.version.uses_attributes_structure() {
            let item = attributes::name_item(&text);
            out.extend(attributes::write(
                self.version,
                vec![if index == 0 {
                    item
                } else {
                    attributes::indexed(index, item)
                }],
            ));
        }
        Ok(out)
    }

    fn activate(&self) -> Outcome {
        self.require(self.session.rights.manage_keys, "activate objects")?;
        let meta = self.object()?;
        let updated = self
            .keystore
            .activate(&self.session.caller, &meta)
            .map_err(|error| store_error(&error))?;
        Ok(vec![uid(&updated.id)])
    }

    fn revoke(&self) -> Outcome {
        self.require(self.session.rights.manage_keys, "revoke objects")?;
        let meta = self.object()?;
        let code = match self
            .payload
            .child(Tag::REVOCATION_REASON)
            .and_then(|reason| reason.child(Tag::REVOCATION_REASON_CODE))
            .map(|item| &item.value)
        {
            Some(Value::Enumeration(code)) => *code,
            _ => return Err(KmipError::missing("Revocation Reason with a code")),
        };
        let reason = match code {
            // Key Compromise, CA Compromise.
            2 | 3 => RevocationReason::Compromised,
            // Superseded.
            5 => RevocationReason::Superseded,
            // Cessation of Operation.
            6 => RevocationReason::CessationOfOperation,
            _ => RevocationReason::Unspecified,
        };
        let updated = self
            .keystore
            .revoke(&self.session.caller, &meta, reason)
            .map_err(|error| store_error(&error))?;
        Ok(vec![uid(&updated.id)])
    }

    fn destroy(&self) -> Outcome {
        self.require(self.session.rights.manage_keys, "destroy objects")?;
        let meta = self.object()?;
        let updated = self
            .keystore
            .destroy(&self.session.caller, &meta)
            .map_err(|error| store_error(&error))?;
        Ok(vec![uid(&updated.id)])
    }

    /// The object a cryptographic operation names, once the caller's role is
    /// known to allow using keys.
    fn key_object(&self) -> Result<Found, KmipError> {
        self.require(self.session.rights.read_material, "use keys")?;
        self.object_for_read()
    }

    /// The key for a cryptographic operation: an object of `kind` and the right
    /// family in a state that allows the use (only Active to protect data:
    /// encrypt, sign, MAC; Active, Deactivated or Compromised to process it).
    fn usable_key(
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
        if meta.object_type != kind || meta.algorithm.family() != family {
            return Err(KmipError::new(
                ResultReason::InvalidField,
                format!(
                    "object {} is not a {family} {}",
                    meta.id,
                    kind.as_str().replace('_', " ")
                ),
            ));
        }
        let material = self.material(&found)?;
        Ok((found.meta, material))
    }

    /// The block cipher mode the Cryptographic Parameters ask for: GCM when none.
    fn cipher_mode(parameters: Option<&Item>) -> Result<Option<crypto::BlockMode>, KmipError> {
        let Some(parameters) = parameters else {
            return Ok(None);
        };
        let padded = match parameters.child(Tag::PADDING_METHOD).map(|i| &i.value) {
            // PKCS5 (3), or unspecified: PKCS5 is what clients mean by default.
            None | Some(Value::Enumeration(3)) => true,
            // None (1).
            Some(Value::Enumeration(1)) => false,
            Some(_) => {
                return Err(KmipError::new(
                    ResultReason::FeatureNotSupported,
                    "only the PKCS5 padding method (or none) is supported for AES",
                ));
            }
        };
        match parameters.child(Tag::BLOCK_CIPHER_MODE).map(|i| &i.value) {
            None | Some(Value::Enumeration(9)) => Ok(None),
            Some(Value::Enumeration(1)) => Ok(Some(crypto::BlockMode::Cbc { padded })),
            Some(Value::Enumeration(2)) => Ok(Some(crypto::BlockMode::Ecb { padded })),
            Some(Value::Enumeration(6)) => Ok(Some(crypto::BlockMode::Ctr)),
            Some(_) => Err(KmipError::new(
                ResultReason::FeatureNotSupported,
                "supported AES modes are GCM, CBC, ECB and CTR",
            )),
        }
    }

    fn encrypt(&self) -> Outcome {
        let found = self.key_object()?;
        if found.meta.object_type == ObjectType::PublicKey {
            return self.rsa_encrypt(found);
        }
        let mode = Self::cipher_mode(self.payload.child(Tag::CRYPTOGRAPHIC_PARAMETERS))?;
        let (meta, key) = self.usable_key(found, ObjectType::SymmetricKey, true, "aes")?;
        let data = self
            .bytes_field(Tag::DATA)?
            .ok_or_else(|| KmipError::missing("Data"))?;
        let iv_length = match mode {
            None => crypto::GCM_IV_LEN,
            Some(crypto::BlockMode::Ecb { .. }) => 0,
            Some(_) => crypto::AES_BLOCK,
        };
        let (iv, generated) = match self.bytes_field(Tag::IV_COUNTER_NONCE)? {
            Some(iv) => (iv.to_vec(), false),
            None if iv_length == 0 => (Vec::new(), false),
            None => {
                let mut iv = vec![0_u8; iv_length];
                rand::rngs::OsRng.fill_bytes(&mut iv);
                (iv, true)
            }
        };
        let mut out = vec![uid(&meta.id)];
        let tag = match mode {
            None => {
                let aad = self
                    .bytes_field(Tag::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA)?
                    .unwrap_or_default();
                let (ciphertext, tag) = crypto::gcm_encrypt(key.expose_secret(), &iv, aad, data)?;
                out.push(Item::new(Tag::DATA, Value::ByteString(ciphertext)));
                Some(tag)
            }
            Some(block_mode) => {
                let ciphertext = crypto::aes_encrypt(key.expose_secret(), block_mode, &iv, data)?;
                out.push(Item::new(Tag::DATA, Value::ByteString(ciphertext)));
                None
            }
        };
        if generated {
            out.push(Item::new(Tag::IV_COUNTER_NONCE, Value::ByteString(iv)));
        }
        if let Some(tag) = tag {
            out.push(Item::new(
                Tag::AUTHENTICATED_ENCRYPTION_TAG,
                Value::ByteString(tag),
            ));
        }
        Ok(out)
    }

    fn decrypt(&self) -> Outcome {
        let found = self.key_object()?;
        if found.meta.object_type == ObjectType::PrivateKey {
            return self.rsa_decrypt(found);
        }
        let mode = Self::cipher_mode(self.payload.child(Tag::CRYPTOGRAPHIC_PARAMETERS))?;
        let (meta, key) = self.usable_key(found, ObjectType::SymmetricKey, false, "aes")?;
        let data = self
            .bytes_field(Tag::DATA)?
            .ok_or_else(|| KmipError::missing("Data"))?;
        let iv = self.bytes_field(Tag::IV_COUNTER_NONCE)?;
        let plaintext = match mode {
            None => {
                let iv = iv.ok_or_else(|| KmipError::missing("IV/Counter/Nonce"))?;
                let tag = self
                    .bytes_field(Tag::AUTHENTICATED_ENCRYPTION_TAG)?
                    .ok_or_else(|| KmipError::missing("Authenticated Encryption Tag"))?;
                let aad = self
                    .bytes_field(Tag::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA)?
                    .unwrap_or_default();
                crypto::gcm_decrypt(key.expose_secret(), iv, aad, data, tag)?
            }
            Some(block_mode @ crypto::BlockMode::Ecb { .. }) => {
                crypto::aes_decrypt(key.expose_secret(), block_mode, &[], data)?
            }
            Some(block_mode) => {
                let iv = iv.ok_or_else(|| KmipError::missing("IV/Counter/Nonce"))?;
                crypto::aes_decrypt(key.expose_secret(), block_mode, iv, data)?
            }
        };
        Ok(vec![
            uid(&meta.id),
            Item::new(Tag::DATA, Value::ByteString(plaintext)),
        ])
    }

    fn mac(&self, verify: bool) -> Outcome {
        let found = self.key_object()?;
        let (meta, key) =
            self.usable_key(found, ObjectType::SymmetricKey, !verify, "hmac-sha256")?;
        let data = self
            .bytes_field(Tag::DATA)?
            .ok_or_else(|| KmipError::missing("Data"))?;
        if verify {
            let expected = self
                .bytes_field(Tag::MAC_DATA)?
                .ok_or_else(|| KmipError::missing("MAC Data"))?;
            let valid = crypto::hmac_sha256_verify(key.expose_secret(), data, expected)?;
            // Validity Indicator: 1 Valid, 2 Invalid.
            let indicator = if valid { 1 } else { 2 };
            Ok(vec![
                uid(&meta.id),
                Item::new(Tag::VALIDITY_INDICATOR, Value::Enumeration(indicator)),
            ])
        } else {
            let mac = crypto::hmac_sha256(key.expose_secret(), data)?;
            Ok(vec![
                uid(&meta.id),
                Item::new(Tag::MAC_DATA, Value::ByteString(mac)),
            ])
        }
    }

    /// An enumeration field of the request's Cryptographic Parameters.
    fn parameter(&self, tag: Tag) -> Result<Option<u32>, KmipError> {
        match self
            .payload
            .child(Tag::CRYPTOGRAPHIC_PARAMETERS)
            .and_then(|parameters| parameters.child(tag))
            .map(|item| &item.value)
        {
            None => Ok(None),
            Some(Value::Enumeration(value)) => Ok(Some(*value)),
            Some(_) => Err(KmipError::invalid(format!("{tag} must be an enumeration"))),
        }
    }

    /// The OAEP hash and mask generation hash the request asks for. The hash
    /// defaults to SHA-1 (RFC 8017's default); MGF1 uses the Mask Generator
    /// Hashing Algorithm when given, else the OAEP hash, as PyKMIP and most
    /// servers do.
    fn oaep_hashes(&self) -> Result<(Hash, Hash), KmipError> {
        match self.parameter(Tag::PADDING_METHOD)? {
            // OAEP.
            None | Some(0x02) => {}
            // PKCS1 v1.5.
            Some(0x08) => {
                return Err(KmipError::new(
                    ResultReason::FeatureNotSupported,
                    "RSA PKCS#1 v1.5 encryption is not supported (it invites padding oracles); use the OAEP padding method",
                ));
            }
            Some(other) => {
                return Err(KmipError::new(
                    ResultReason::FeatureNotSupported,
                    format!(
                        "padding method 0x{other:02X} is not supported for RSA encryption; use OAEP"
                    ),
                ));
            }
        }
        match self.parameter(Tag::MASK_GENERATOR)? {
            None | Some(0x01) => {}
            Some(other) => {
                return Err(KmipError::new(
                    ResultReason::FeatureNotSupported,
                    format!("mask generator 0x{other:02X} is not supported; use MGF1"),
                ));
            }
        }
        let hash = match self.parameter(Tag::HASHING_ALGORITHM)? {
            Some(value) => Hash::from_kmip(value)?,
            None => Hash::Sha1,
        };
        let mask_hash = match self.parameter(Tag::MASK_GENERATOR_HASHING_ALGORITHM)? {
            Some(value) => Hash::from_kmip(value)?,
            None => hash,
        };
        Ok((hash, mask_hash))
    }

    fn rsa_encrypt(&self, found: Found) -> Outcome {
        let (hash, mask_hash) = self.oaep_hashes()?;
        let (meta, key) = self.usable_key(found, ObjectType::PublicKey, true, "rsa")?;
        let data = self
            .bytes_field(Tag::DATA)?
            .ok_or_else(|| KmipError::missing("Data"))?;
        let ciphertext = asymmetric::oaep_encrypt(key.expose_secret(), hash, mask_hash, data)?;
        Ok(vec![
            uid(&meta.id),
            Item::new(Tag::DATA, Value::ByteString(ciphertext)),
        ])
    }

    fn rsa_decrypt(&self, found: Found) -> Outcome {
        let (hash, mask_hash) = self.oaep_hashes()?;
        let (meta, key) = self.usable_key(found, ObjectType::PrivateKey, false, "rsa")?;
        let data = self
            .bytes_field(Tag::DATA)?
            .ok_or_else(|| KmipError::missing("Data"))?;
        let plaintext = asymmetric::oaep_decrypt(&key, hash, mask_hash, data)?;
        Ok(vec![
            uid(&meta.id),
            Item::new(
                Tag::DATA,
                Value::ByteString(plaintext.expose_secret().to_vec()),
            ),
        ])
    }

    /// The signature scheme the Cryptographic Parameters ask for on a key of
    /// `algorithm`: Digital Signature Algorithm first, else Padding Method and
    /// Hashing Algorithm; PKCS#1 v1.5 with SHA-256 for RSA and the curve's hash
    /// for ECDSA when nothing is named.
    fn signature_scheme(&self, algorithm: Algorithm) -> Result<Scheme, KmipError> {
        let hash = self
            .parameter(Tag::HASHING_ALGORITHM)?
            .map(Hash::from_kmip)
            .transpose()?;
        let unsupported = |what: String| KmipError::new(ResultReason::FeatureNotSupported, what);
        let digital = self.parameter(Tag::DIGITAL_SIGNATURE_ALGORITHM)?;
        if algorithm.family() == "rsa" {
            return match digital {
                Some(0x05) => Ok(Scheme::RsaPkcs1(Hash::Sha256)),
                Some(0x06) => Ok(Scheme::RsaPkcs1(Hash::Sha384)),
                Some(0x07) => Ok(Scheme::RsaPkcs1(Hash::Sha512)),
                Some(0x08) => Ok(Scheme::RsaPss(hash.unwrap_or(Hash::Sha256))),
                Some(other) => Err(unsupported(format!(
                    "digital signature algorithm 0x{other:02X} is not supported with RSA keys; use SHA-256/384/512 with RSA or RSASSA-PSS"
                ))),
                None => match self.parameter(Tag::PADDING_METHOD)? {
                    None | Some(0x08) => Ok(Scheme::RsaPkcs1(hash.unwrap_or(Hash::Sha256))),
                    Some(0x0A) => Ok(Scheme::RsaPss(hash.unwrap_or(Hash::Sha256))),
                    Some(other) => Err(unsupported(format!(
                        "padding method 0x{other:02X} is not supported for RSA signatures; use PKCS1 v1.5 or PSS"
                    ))),
                },
            };
        }
        let curve_hash = if algorithm == Algorithm::EcP384 {
            Hash::Sha384
        } else {
            Hash::Sha256
        };
        match digital {
            Some(0x0E) => Ok(Scheme::Ecdsa(Hash::Sha256)),
            Some(0x0F) => Ok(Scheme::Ecdsa(Hash::Sha384)),
            Some(other) => Err(unsupported(format!(
                "digital signature algorithm 0x{other:02X} is not supported with EC keys; use ECDSA with SHA-256 (P-256) or SHA-384 (P-384)"
            ))),
            None => Ok(Scheme::Ecdsa(hash.unwrap_or(curve_hash))),
        }
    }

    /// Sign (with an Active private key) or Signature Verify (with a public key
    /// that is Active, Deactivated or Compromised).
    fn sign(&self, verify: bool) -> Outcome {
        let found = self.key_object()?;
        let meta = &found.meta;
        if self.payload.child(Tag::DIGESTED_DATA).is_some() {
            return Err(KmipError::new(
                ResultReason::FeatureNotSupported,
                "signing pre-hashed data (Digested Data) is not supported; send the Data itself",
            ));
        }
        let (kind, what) = if verify {
            (
                ObjectType::PublicKey,
                "Signature Verify needs the public key of a pair",
            )
        } else {
            (
                ObjectType::PrivateKey,
                "Sign needs the private key of a pair",
            )
        };
        if meta.object_type != kind {
            return Err(KmipError::invalid(format!(
                "object {} is a {}; {what}",
                meta.id,
                meta.object_type.as_str().replace('_', " ")
            )));
        }
        let family = meta.algorithm.family();
        let algorithm = meta.algorithm;
        let scheme = self.signature_scheme(algorithm)?;
        let data = self
            .bytes_field(Tag::DATA)?
            .ok_or_else(|| KmipError::missing("Data"))?;
        let (meta, key) = self.usable_key(found, kind, !verify, family)?;
        if verify {
            let signature = self
                .bytes_field(Tag::SIGNATURE_DATA)?
                .ok_or_else(|| KmipError::missing("Signature Data"))?;
            let valid =
                asymmetric::verify(algorithm, scheme, key.expose_secret(), data, signature)?;
            // Validity Indicator: 1 Valid, 2 Invalid.
            Ok(vec![
                uid(&meta.id),
                Item::new(
                    Tag::VALIDITY_INDICATOR,
                    Value::Enumeration(if valid { 1 } else { 2 }),
                ),
            ])
        } else {
            let signature = asymmetric::sign(algorithm, scheme, &key, data)?;
            Ok(vec![
                uid(&meta.id),
                Item::new(Tag::SIGNATURE_DATA, Value::ByteString(signature)),
            ])
        }
    }

    fn rng_retrieve(&self) -> Outcome {
        let length = match self.payload.child(Tag::DATA_LENGTH).map(|i| &i.value) {
            Some(Value::Integer(value)) => usize::try_from(*value)
                .ok()
                .filter(|len| (1..=MAX_RANDOM_BYTES).contains(len))
                .ok_or_else(|| {
                    KmipError::invalid(format!("Data Length must be 1 to {MAX_RANDOM_BYTES}"))
                })?,
            _ => return Err(KmipError::missing("Data Length")),
        };
        let mut bytes = vec![0_u8; length];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Ok(vec![Item::new(Tag::DATA, Value::ByteString(bytes))])
    }
}

/// KMIP Block Cipher Mode values for key wrapping.
mod block_mode {
    pub const AES_KEY_WRAP_PADDING: u32 = 0x0C;
    pub const NIST_KEY_WRAP: u32 = 0x0D;
}

/// The key a Get wraps the object's key material with.
struct Wrapping {
    id: String,
    key: SecretBytes,
    mode: u32,
}

/// Replaces the Key Value of `object`'s Key Block with the wrapped key
/// material and adds the Key Wrapping Data that names the wrapping key.
fn wrap_key_block(object: Item, wrapping: &Wrapping) -> Result<Item, KmipError> {
    let not_wrappable = || KmipError::invalid("only objects with a key block can be wrapped");
    let Value::Structure(children) = object.value else {
        return Err(not_wrappable());
    };
    let mut found = false;
    let mut wrapped_children = Vec::with_capacity(children.len());
    for child in children {
        if child.tag != Tag::KEY_BLOCK {
            wrapped_children.push(child);
            continue;
        }
        let Value::Structure(block) = child.value else {
            return Err(not_wrappable());
        };
        let mut new_block = Vec::with_capacity(block.len().saturating_add(1));
        for item in block {
            if item.tag != Tag::KEY_VALUE {
                new_block.push(item);
                continue;
            }
            let material = match item.child(Tag::KEY_MATERIAL).map(|m| &m.value) {
                Some(Value::ByteString(bytes)) => SecretBytes::from_slice(bytes),
                _ => {
                    return Err(KmipError::new(
                        ResultReason::FeatureNotSupported,
                        "only byte-string key material can be wrapped; ask for a Raw, PKCS#1, PKCS#8 or X.509 format",
                    ));
                }
            };
            let wrapped = crypto::aes_key_wrap(
                wrapping.key.expose_secret(),
                material.expose_secret(),
                wrapping.mode == block_mode::AES_KEY_WRAP_PADDING,
            )?;
            new_block.push(Item::new(Tag::KEY_VALUE, Value::ByteString(wrapped)));
            found = true;
        }
        new_block.push(Item::structure(
            Tag::KEY_WRAPPING_DATA,
            vec![
                // Wrapping Method: Encrypt.
                Item::new(Tag::WRAPPING_METHOD, Value::Enumeration(1)),
                Item::structure(
                    Tag::ENCRYPTION_KEY_INFORMATION,
                    vec![
                        uid(&wrapping.id),
                        Item::structure(
                            Tag::CRYPTOGRAPHIC_PARAMETERS,
                            vec![Item::new(
                                Tag::BLOCK_CIPHER_MODE,
                                Value::Enumeration(wrapping.mode),
                            )],
                        ),
                    ],
                ),
                // Encoding Option: No Encoding.
                Item::new(Tag::ENCODING_OPTION, Value::Enumeration(1)),
            ],
        ));
        wrapped_children.push(Item::structure(Tag::KEY_BLOCK, new_block));
    }
    if !found {
        return Err(not_wrappable());
    }
    Ok(Item::structure(object.tag, wrapped_children))
}

/// A Key Block: format, the Key Value holding `key_material`, the algorithm
/// and length of `meta`.
fn key_block(meta: &ObjectMeta, format_code: u32, key_material: Item) -> Item {
    let mut block = vec![
        Item::new(Tag::KEY_FORMAT_TYPE, Value::Enumeration(format_code)),
        Item::structure(Tag::KEY_VALUE, vec![key_material]),
    ];
    if let Some(alg) = kmip_algorithm(meta.algorithm) {
        block.push(Item::new(
            Tag::CRYPTOGRAPHIC_ALGORITHM,
            Value::Enumeration(alg),
        ));
    }
    block.push(Item::new(
        Tag::CRYPTOGRAPHIC_LENGTH,
        Value::Integer(i32::try_from(meta.length).unwrap_or(i32::MAX)),
    ));
    Item::structure(Tag::KEY_BLOCK, block)
}

/// The Key Material item of a Key Block that is not wrapped.
fn unwrapped_key_material(block: &Item) -> Result<&Item, KmipError> {
    if block.child(Tag::KEY_WRAPPING_DATA).is_some() {
        return Err(KmipError::new(
            ResultReason::FeatureNotSupported,
            "registering wrapped keys is not supported yet",
        ));
    }
    block
        .child(Tag::KEY_VALUE)
        .and_then(|value| value.child(Tag::KEY_MATERIAL))
        .ok_or_else(|| KmipError::missing("Key Value with Key Material"))
}

/// The bytes of a Key Block's Key Material (a byte string, or a Transparent
/// Symmetric Key structure holding Key).
fn key_block_material(block: &Item) -> Result<SecretBytes, KmipError> {
    let material = unwrapped_key_material(block)?;
    match &material.value {
        Value::ByteString(bytes) => Ok(SecretBytes::from_slice(bytes)),
        Value::Structure(_) => match material.child(Tag::KEY).map(|key| &key.value) {
            Some(Value::ByteString(bytes)) => Ok(SecretBytes::from_slice(bytes)),
            _ => Err(KmipError::invalid(
                "the transparent key material has no Key",
            )),
        },
        _ => Err(KmipError::invalid(
            "Key Material must be a byte string or a structure",
        )),
    }
}

/// The keystore algorithm of a KMIP Recommended Curve.
fn curve_algorithm(value: u32) -> Result<Algorithm, KmipError> {
    match value {
        curve::P_256 => Ok(Algorithm::EcP256),
        curve::P_384 => Ok(Algorithm::EcP384),
        other => Err(KmipError::invalid(format!(
            "Recommended Curve 0x{other:02X} is not supported; use P-256 or P-384"
        ))),
    }
}

/// A non-negative Big Integer's magnitude, big-endian.
fn magnitude(value: &ttlv::BigInteger) -> Result<SecretBytes, KmipError> {
    let bytes = value.as_bytes();
    if bytes.first().is_some_and(|first| first & 0x80 != 0) {
        return Err(KmipError::invalid(
            "a key's Big Integer must not be negative",
        ));
    }
    let start = bytes
        .iter()
        .position(|byte| *byte != 0)
        .unwrap_or(bytes.len());
    Ok(SecretBytes::from_slice(
        bytes.get(start..).unwrap_or_default(),
    ))
}

/// A Big Integer holding `magnitude` (big-endian, unsigned).
fn big_integer(magnitude: &SecretBytes) -> Value {
    let mut signed = Vec::with_capacity(magnitude.len().saturating_add(1));
    signed.push(0);
    signed.extend_from_slice(magnitude.expose_secret());
    let value = Value::BigInteger(ttlv::BigInteger::from_signed_bytes(&signed));
    zeroize::Zeroize::zeroize(&mut signed);
    value
}

/// The Key Material structure of a Transparent RSA or EC key (KMIP 1.x and
/// 2.x), or none when `format` is not a transparent asymmetric format.
fn transparent_export(
    meta: &ObjectMeta,
    material: &SecretBytes,
    format: u32,
) -> Result<Option<Item>, KmipError> {
    let private = meta.object_type == ObjectType::PrivateKey;
    let rsa = meta.algorithm.family() == "rsa";
    let children = match format {
        key_format::TRANSPARENT_RSA_PRIVATE if rsa && private => {
            let numbers = asymmetric::rsa_private_numbers(material)?;
            [
                Tag::MODULUS,
                Tag::PRIVATE_EXPONENT,
                Tag::PUBLIC_EXPONENT,
                Tag::P,
                Tag::Q,
                Tag::PRIME_EXPONENT_P,
                Tag::PRIME_EXPONENT_Q,
                Tag::CRT_COEFFICIENT,
            ]
            .into_iter()
            .zip(&numbers)
            .map(|(tag, number)| Item::new(tag, big_integer(number)))
            .collect()
        }
        key_format::TRANSPARENT_RSA_PUBLIC if rsa && !private => {
            let (modulus, exponent) = asymmetric::rsa_public_numbers(material.expose_secret())?;
            vec![
                Item::new(Tag::MODULUS, big_integer(&SecretBytes::new(modulus))),
                Item::new(
                    Tag::PUBLIC_EXPONENT,
                    big_integer(&SecretBytes::new(exponent)),
                ),
            ]
        }
        key_format::TRANSPARENT_EC_PRIVATE | key_format::TRANSPARENT_ECDSA_PRIVATE
            if !rsa && private =>
        {
            vec![
                Item::new(
                    Tag::RECOMMENDED_CURVE,
                    Value::Enumeration(kmip_curve(meta.algorithm)),
                ),
                Item::new(
                    Tag::D,
                    big_integer(&asymmetric::ec_private_scalar(material)?),
                ),
            ]
        }
        key_format::TRANSPARENT_EC_PUBLIC | key_format::TRANSPARENT_ECDSA_PUBLIC
            if !rsa && !private =>
        {
            let point = asymmetric::export_public(
                meta.algorithm,
                material.expose_secret(),
                asymmetric::format::RAW,
            )?;
            vec![
                Item::new(
                    Tag::RECOMMENDED_CURVE,
                    Value::Enumeration(kmip_curve(meta.algorithm)),
                ),
                Item::new(Tag::Q_STRING, Value::ByteString(point)),
            ]
        }
        key_format::TRANSPARENT_RSA_PRIVATE
        | key_format::TRANSPARENT_RSA_PUBLIC
        | key_format::TRANSPARENT_EC_PRIVATE
        | key_format::TRANSPARENT_ECDSA_PRIVATE
        | key_format::TRANSPARENT_EC_PUBLIC
        | key_format::TRANSPARENT_ECDSA_PUBLIC => {
            return Err(KmipError::new(
                ResultReason::KeyFormatTypeNotSupported,
                format!(
                    "key format 0x{format:02X} is for another kind of key than object {}, an {} {}",
                    meta.id,
                    meta.algorithm.family().to_uppercase(),
                    meta.object_type.as_str().replace('_', " ")
                ),
            ));
        }
        _ => return Ok(None),
    };
    Ok(Some(Item::structure(Tag::KEY_MATERIAL, children)))
}

/// The KMIP Recommended Curve of an EC algorithm.
fn kmip_curve(algorithm: Algorithm) -> u32 {
    if algorithm == Algorithm::EcP384 {
        curve::P_384
    } else {
        curve::P_256
    }
}

/// The algorithm and stored form (SubjectPublicKeyInfo or PKCS#8) of a key
/// registered in a Transparent RSA or EC format. Transparent EC private keys
/// are refused: the public key, which the stored PKCS#8 must hold, cannot be
/// computed here from the scalar alone.
fn transparent_import(
    format: u32,
    private: bool,
    material: &Item,
) -> Result<(Algorithm, SecretBytes), KmipError> {
    let number = |tag: Tag| -> Result<Option<SecretBytes>, KmipError> {
        match material.child(tag).map(|i| &i.value) {
            None => Ok(None),
            Some(Value::BigInteger(value)) => magnitude(value).map(Some),
            Some(_) => Err(KmipError::invalid(format!("{tag} must be a Big Integer"))),
        }
    };
    let required = |tag: Tag| -> Result<SecretBytes, KmipError> {
        number(tag)?.ok_or_else(|| KmipError::missing(&format!("{tag} in the transparent key")))
    };
    match format {
        key_format::TRANSPARENT_RSA_PUBLIC if !private => {
            let (algorithm, spki) = asymmetric::rsa_public_from_numbers(
                required(Tag::MODULUS)?.expose_secret(),
                required(Tag::PUBLIC_EXPONENT)?.expose_secret(),
            )?;
            Ok((algorithm, SecretBytes::new(spki)))
        }
        key_format::TRANSPARENT_RSA_PRIVATE if private => {
            let (p, q) = (number(Tag::P)?, number(Tag::Q)?);
            asymmetric::rsa_private_from_numbers(
                required(Tag::MODULUS)?.expose_secret(),
                required(Tag::PUBLIC_EXPONENT)?.expose_secret(),
                &required(Tag::PRIVATE_EXPONENT)?,
                p.as_ref().zip(q.as_ref()),
            )
        }
        key_format::TRANSPARENT_EC_PUBLIC | key_format::TRANSPARENT_ECDSA_PUBLIC if !private => {
            let algorithm = match material.child(Tag::RECOMMENDED_CURVE).map(|i| &i.value) {
                Some(Value::Enumeration(value)) => curve_algorithm(*value)?,
                _ => {
                    return Err(KmipError::missing(
                        "Recommended Curve in the transparent key",
                    ));
                }
            };
            let point = match material.child(Tag::Q_STRING).map(|i| &i.value) {
                Some(Value::ByteString(point)) => point,
                _ => return Err(KmipError::missing("Q String in the transparent key")),
            };
            let spki = asymmetric::ec_public_from_point(algorithm, point)?;
            Ok((algorithm, SecretBytes::new(spki)))
        }
        key_format::TRANSPARENT_EC_PRIVATE | key_format::TRANSPARENT_ECDSA_PRIVATE if private => {
            Err(KmipError::new(
                ResultReason::KeyFormatTypeNotSupported,
                "registering Transparent EC private keys is not supported; send PKCS#8",
            ))
        }
        other => Err(KmipError::new(
            ResultReason::KeyFormatTypeNotSupported,
            format!(
                "key format 0x{other:02X} with structured Key Material is not supported for {} keys; send Transparent RSA {} Key{}",
                if private { "private" } else { "public" },
                if private { "Private" } else { "Public" },
                if private {
                    ""
                } else {
                    " or Transparent EC Public Key"
                }
            ),
        )),
    }
}

/// The labels that keep a Split Key's parameters: Split Key Parts, Key Part
/// Identifier, Split Key Threshold and Split Key Method are required (KMIP
/// 1.x and 2.x), the threshold at most the number of parts and the
/// identifier one of the parts; Prime Field Size is required by Polynomial
/// Sharing over a prime field.
fn split_key_labels(split: &Item) -> Result<BTreeMap<String, String>, KmipError> {
    let integer = |tag: Tag| -> Result<i32, KmipError> {
        match split.child(tag).map(|i| &i.value) {
            Some(Value::Integer(value)) if *value >= 1 => Ok(*value),
            Some(Value::Integer(_)) => Err(KmipError::invalid(format!("{tag} must be at least 1"))),
            Some(_) => Err(KmipError::invalid(format!("{tag} must be an integer"))),
            None => Err(KmipError::missing(&format!("{tag} in the Split Key"))),
        }
    };
    let parts = integer(Tag::SPLIT_KEY_PARTS)?;
    let identifier = integer(Tag::KEY_PART_IDENTIFIER)?;
    let threshold = integer(Tag::SPLIT_KEY_THRESHOLD)?;
    if threshold > parts || identifier > parts {
        return Err(KmipError::invalid(format!(
            "a split into {parts} parts cannot have threshold {threshold} or part {identifier}"
        )));
    }
    let method = match split.child(Tag::SPLIT_KEY_METHOD).map(|i| &i.value) {
        Some(Value::Enumeration(value)) => *value,
        _ => return Err(KmipError::missing("Split Key Method in the Split Key")),
    };
    let prime = match split.child(Tag::PRIME_FIELD_SIZE).map(|i| &i.value) {
        Some(Value::BigInteger(value)) => Some(hex::encode(magnitude(value)?.expose_secret())),
        Some(_) => return Err(KmipError::invalid("Prime Field Size must be a Big Integer")),
        // Polynomial Sharing over a prime field (0x03) needs the prime; XOR
        // and the GF(2^16) and GF(2^8) sharings do not.
        None if method == 0x03 => {
            return Err(KmipError::missing(
                "Prime Field Size for a polynomial sharing method",
            ));
        }
        None => None,
    };
    let values = [
        Some(parts.to_string()),
        Some(identifier.to_string()),
        Some(threshold.to_string()),
        Some(method.to_string()),
        prime,
    ];
    Ok(SPLIT_KEY_LABELS
        .iter()
        .zip(values)
        .filter_map(|((_, label), value)| value.map(|value| ((*label).to_owned(), value)))
        .collect())
}

/// The Split Key fields a split key's labels keep, in the Split Key object's
/// order (none for other objects).
fn split_key_items(meta: &ObjectMeta) -> Vec<Item> {
    if meta.object_type != ObjectType::SplitKey {
        return Vec::new();
    }
    SPLIT_KEY_LABELS
        .iter()
        .filter_map(|(tag, label)| {
            let text = meta.labels.get(*label)?;
            let value = match *tag {
                Tag::SPLIT_KEY_METHOD => Value::Enumeration(text.parse().ok()?),
                Tag::PRIME_FIELD_SIZE => big_integer(&SecretBytes::new(hex::decode(text).ok()?)),
                _ => Value::Integer(text.parse().ok()?),
            };
            Some(Item::new(*tag, value))
        })
        .collect()
}

/// The custom attributes an object's labels keep, by vendor, name and index.
fn custom_attributes(meta: &ObjectMeta) -> Vec<Item> {
    let mut found: Vec<(String, String, u32, Item)> = meta
        .labels
        .iter()
        .filter_map(|(key, value)| {
            let (vendor, name, index) = custom::parse_key(key)?;
            let item = custom::from_label(key, value)?;
            Some((vendor, name, index, item))
        })
        .collect();
    found.sort_by(|a, b| (&a.0, &a.1, a.2).cmp(&(&b.0, &b.1, b.2)));
    found.into_iter().map(|(.., item)| item).collect()
}

/// Whether an object has every custom attribute in `wanted` (any instance,
/// same vendor, name and value).
fn custom_attributes_match(meta: &ObjectMeta, wanted: &[&Item]) -> bool {
    if wanted.is_empty() {
        return true;
    }
    let held: Vec<(String, String, Value)> = custom_attributes(meta)
        .iter()
        .filter_map(|item| {
            let (vendor, name, _, value) = custom::parts(item)?;
            Some((vendor.to_owned(), name.to_owned(), value.clone()))
        })
        .collect();
    wanted.iter().all(|item| {
        custom::parts(item).is_some_and(|(vendor, name, _, value)| {
            held.iter()
                .any(|(v, n, held_value)| v == vendor && n == name && held_value == value)
        })
    })
}

/// An object's Names by index: index 0 is the KMIP name label or else the
/// keystore name, further ones are `kmip-name.INDEX` labels.
fn names(meta: &ObjectMeta) -> Vec<(u32, String)> {
    let mut out: Vec<(u32, String)> = meta
        .labels
        .get(LABEL_NAME)
        .or(meta.name.as_ref())
        .map(|name| (0, name.clone()))
        .into_iter()
        .collect();
    let mut more: Vec<(u32, String)> = meta
        .labels
        .iter()
        .filter_map(|(key, value)| {
            let index: u32 = key.strip_prefix(LABEL_NAME_MORE)?.parse().ok()?;
            (index > 0).then(|| (index, value.clone()))
        })
        .collect();
    more.sort();
    out.extend(more);
    out
}
