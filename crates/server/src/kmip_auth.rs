//! Maps a KMIP client certificate to a [`Principal`] under the same roles and
//! tenant scoping as bearer tokens, and a principal to a KMIP session.

use keystore::model::Role;
use keystore::{Caller, Keystore, TenantScope};

use crate::auth::{Permission, Principal};

/// Role of a client certificate that names none: KMIP clients (databases,
/// hypervisors) create and use keys, which is the operator role.
const DEFAULT_CERT_ROLE: Role = Role::Operator;

/// Why a client certificate was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateRefused {
    /// The certificate could not be read or carries no Cryptainer identity.
    #[error("the client certificate carries no readable Cryptainer identity: {0}")]
    Identity(#[from] pki::PkiError),
    /// The certificate names a role this server does not know.
    #[error(
        "the client certificate names role '{0}'; issue one with role admin, operator or auditor"
    )]
    UnknownRole(String),
    /// A node certificate the node inventory refuses (decommissioned, unknown,
    /// or disagreeing with the inventory).
    #[error("{0}")]
    Node(String),
    /// The certificate names a tenant that is not a valid tenant name.
    #[error("the client certificate names an invalid tenant: {0}")]
    InvalidTenant(#[from] keystore::object::InvalidName),
}

/// The principal a client certificate (DER, already verified against the
/// server's CA by TLS) stands for. A node certificate goes through the node
/// inventory ([`crate::peer::principal_from_certificate`]); a KMIP client
/// certificate stands for its role (operator when it names none) and the one
/// tenant it names (`default` when it names none).
pub fn principal_from_certificate(
    keystore: &Keystore,
    cert_der: &[u8],
) -> Result<Principal, CertificateRefused> {
    let identity = pki::identity_from_cert(cert_der)?;
    // A node's certificate is checked against the inventory and the deny list,
    // exactly as on the HTTPS listener: a decommissioned node is refused here too.
    if identity.node_id.is_some() {
        return crate::peer::principal_from_certificate(keystore, cert_der)
            .map_err(|error| CertificateRefused::Node(error.message));
    }
    let role = match identity.role.as_deref() {
        None => DEFAULT_CERT_ROLE,
        Some(text) => {
            Role::parse(text).ok_or_else(|| CertificateRefused::UnknownRole(text.to_owned()))?
        }
    };
    let tenant = identity
        .tenant
        .clone()
        .unwrap_or_else(|| keystore::object::DEFAULT_TENANT.to_owned());
    keystore::object::validate_name("tenant", &tenant)?;
    let holder = identity.node_id.as_deref().unwrap_or(&identity.common_name);
    Ok(Principal {
        token_id: format!("cert:{holder}"),
        role,
        scope: TenantScope::Only(vec![tenant]),
    })
}

/// The KMIP session of a principal: its audit name, scope, the tenant new
/// objects go to, and what its role allows.
pub fn session_for(principal: &Principal, remote: Option<String>) -> kmip::Session {
    kmip::Session {
        caller: Caller {
            principal: principal.audit_name(),
            remote,
        },
        scope: principal.scope.clone(),
        tenant: principal.tenant_for(None),
        rights: kmip::Rights {
            read_metadata: principal.authorize(Permission::ReadMetadata).is_ok(),
            read_material: principal.authorize(Permission::ReadMaterial).is_ok(),
            manage_keys: principal.authorize(Permission::ManageKeys).is_ok(),
            // Nodes get secret data only where policies decide (HTTPS).
            read_secret_data: principal.node_id().is_none()
                && principal.authorize(Permission::ReadMaterial).is_ok(),
        },
    }
}
