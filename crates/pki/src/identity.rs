//! Client identities: what a client certificate says about who holds it, and how that is
//! written into and read back from the certificate.
//!
//! The common name goes into the subject; everything the server authorizes on goes into URI
//! subject alternative names under `urn:cryptainer:`, one per fact:
//!
//! | fact | URI |
//! |---|---|
//! | node id | `urn:cryptainer:node:<id>` |
//! | tenant | `urn:cryptainer:tenant:<tenant>` |
//! | role | `urn:cryptainer:role:<role>` |
//!
//! URIs are used rather than subject attributes such as OU because they are unambiguous to
//! parse, each fact has its own typed slot, and they survive re-encoding of the subject.

use serde::{Deserialize, Serialize};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;

use crate::PkiError;

/// The prefix of every URI subject alternative name that carries part of an identity.
pub const IDENTITY_URI_PREFIX: &str = "urn:cryptainer:";

/// Longest accepted node id, tenant or role, in bytes.
pub const MAX_IDENTITY_COMPONENT_LEN: usize = 128;

/// Longest accepted common name, in characters (X.520's upper bound for commonName).
pub const MAX_COMMON_NAME_LEN: usize = 64;

/// Who a client certificate was issued to.
///
/// The certificate authority writes this into every client certificate it issues (ignoring
/// whatever a CSR asked for), and [`identity_from_cert`] reads it back when a client presents
/// the certificate, so the server can map the TLS session to a principal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClientIdentity {
    /// The subject common name, for people reading the certificate; not used for authorization.
    pub common_name: String,
    /// The node this certificate belongs to, when issued to a node that joined the cluster.
    pub node_id: Option<String>,
    /// The tenant the holder acts for.
    pub tenant: Option<String>,
    /// The holder's role, for example `operator` or `node`.
    pub role: Option<String>,
}

impl ClientIdentity {
    /// An identity with only a common name; add facts with the `with_*` methods.
    pub fn new(common_name: impl Into<String>) -> Self {
        Self {
            common_name: common_name.into(),
            node_id: None,
            tenant: None,
            role: None,
        }
    }

    /// Sets the node id.
    #[must_use]
    pub fn with_node_id(mut self, node_id: impl Into<String>) -> Self {
        self.node_id = Some(node_id.into());
        self
    }

    /// Sets the tenant.
    #[must_use]
    pub fn with_tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// Sets the role.
    #[must_use]
    pub fn with_role(mut self, role: impl Into<String>) -> Self {
        self.role = Some(role.into());
        self
    }

    /// Checks every field, so that what is written can be read back unchanged.
    pub(crate) fn validate(&self) -> Result<(), PkiError> {
        validate_common_name(&self.common_name)?;
        for (kind, value) in self.facts() {
            validate_component(kind.field_name(), value)?;
        }
        Ok(())
    }

    /// The URI subject alternative names that encode this identity.
    pub(crate) fn uris(&self) -> Vec<String> {
        self.facts()
            .map(|(kind, value)| format!("{IDENTITY_URI_PREFIX}{}:{value}", kind.uri_kind()))
            .collect()
    }

    fn facts(&self) -> impl Iterator<Item = (Fact, &str)> {
        [
            (Fact::Node, self.node_id.as_deref()),
            (Fact::Tenant, self.tenant.as_deref()),
            (Fact::Role, self.role.as_deref()),
        ]
        .into_iter()
        .filter_map(|(kind, value)| value.map(|value| (kind, value)))
    }
}

#[derive(Clone, Copy)]
enum Fact {
    Node,
    Tenant,
    Role,
}

impl Fact {
    fn uri_kind(self) -> &'static str {
        match self {
            Self::Node => "node",
            Self::Tenant => "tenant",
            Self::Role => "role",
        }
    }

    fn field_name(self) -> &'static str {
        match self {
            Self::Node => "node id",
            Self::Tenant => "tenant",
            Self::Role => "role",
        }
    }

    fn from_uri_kind(kind: &str) -> Option<Self> {
        match kind {
            "node" => Some(Self::Node),
            "tenant" => Some(Self::Tenant),
            "role" => Some(Self::Role),
            _ => None,
        }
    }
}

pub(crate) fn validate_common_name(common_name: &str) -> Result<(), PkiError> {
    let reason = if common_name.is_empty() {
        Some("it is empty")
    } else if common_name.chars().count() > MAX_COMMON_NAME_LEN {
        Some("it is longer than 64 characters")
    } else if common_name.chars().any(char::is_control) {
        Some("it contains control characters")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(PkiError::InvalidIdentity {
            field: "common name",
            value: common_name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Node ids, tenants and roles are restricted to characters that need no escaping in a URI
/// and cannot contain the `:` separator, so decoding is exact.
fn validate_component(field: &'static str, value: &str) -> Result<(), PkiError> {
    let valid = !value.is_empty()
        && value.len() <= MAX_IDENTITY_COMPONENT_LEN
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(PkiError::InvalidIdentity {
            field,
            value: value.to_owned(),
            reason: "use 1 to 128 ASCII letters, digits, '-', '_' or '.'",
        })
    }
}

/// Reads the identity this crate encoded into a client certificate (DER).
///
/// Call this only on a certificate that the TLS layer has already verified against the CA;
/// this function checks the encoding, not the signature. It fails when the certificate does
/// not allow client authentication, has no single common name, repeats a fact, or carries an
/// `urn:cryptainer:` URI it does not understand: an identity that cannot be read exactly is
/// refused rather than guessed at. URIs outside `urn:cryptainer:` are ignored.
pub fn identity_from_cert(cert_der: &[u8]) -> Result<ClientIdentity, PkiError> {
    let (rest, certificate) =
        X509Certificate::from_der(cert_der).map_err(|source| PkiError::InvalidCertificate {
            what: "client certificate".to_owned(),
            source,
        })?;
    if !rest.is_empty() {
        return Err(no_identity("trailing bytes after the certificate"));
    }

    match certificate.extended_key_usage() {
        Ok(Some(usage)) if usage.value.client_auth => {}
        Ok(_) => return Err(no_identity("it does not allow client authentication")),
        Err(_) => return Err(no_identity("its extended key usage extension is malformed")),
    }

    let mut common_names = certificate.subject().iter_common_name();
    let common_name = common_names
        .next()
        .ok_or_else(|| no_identity("its subject has no common name"))?
        .as_str()
        .map_err(|_| no_identity("its common name is not a text string"))?;
    if common_names.next().is_some() {
        return Err(no_identity("its subject has more than one common name"));
    }
    validate_common_name(common_name)
        .map_err(|_| no_identity("its common name is empty, too long or has control characters"))?;
    let mut identity = ClientIdentity::new(common_name);

    let alternative_names = certificate
        .subject_alternative_name()
        .map_err(|_| no_identity("its subject alternative name extension is malformed"))?;
    let general_names = alternative_names
        .map(|extension| extension.value.general_names.as_slice())
        .unwrap_or_default();
    for name in general_names {
        let GeneralName::URI(uri) = name else {
            continue;
        };
        let Some(fact) = uri.strip_prefix(IDENTITY_URI_PREFIX) else {
            continue;
        };
        let (kind, value) = fact
            .split_once(':')
            .ok_or_else(|| no_identity("an urn:cryptainer: URI has no value"))?;
        let kind = Fact::from_uri_kind(kind)
            .ok_or_else(|| no_identity("an urn:cryptainer: URI has an unknown kind"))?;
        validate_component(kind.field_name(), value)
            .map_err(|_| no_identity("an urn:cryptainer: URI has a malformed value"))?;
        let slot = match kind {
            Fact::Node => &mut identity.node_id,
            Fact::Tenant => &mut identity.tenant,
            Fact::Role => &mut identity.role,
        };
        if slot.is_some() {
            return Err(no_identity(
                "an urn:cryptainer: URI kind appears more than once",
            ));
        }
        *slot = Some(value.to_owned());
    }
    Ok(identity)
}

fn no_identity(reason: &'static str) -> PkiError {
    PkiError::NoIdentity { reason }
}
