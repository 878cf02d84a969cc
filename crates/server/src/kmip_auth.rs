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
    /// The certificate expired while its connection was open.
    #[error(
        "the client certificate (serial {serial}) has expired; issue a new one with `cryptainer kmip client-cert` and reconnect"
    )]
    Expired {
        /// The certificate's serial number (hex).
        serial: String,
    },
}

/// The client certificate of one KMIP connection, read once after the TLS
/// handshake. What it stands for is asked again for every message
/// ([`ClientCertificate::principal`]), so a decommission, an expiry or a
/// change in the node inventory reaches a connection that is already open.
#[derive(Debug)]
pub struct ClientCertificate {
    facts: pki::PeerCertificateFacts,
}

impl ClientCertificate {
    /// Reads the identity, serial and expiry of a client certificate (DER)
    /// that TLS verified against the server's CA.
    pub fn read(cert_der: &[u8]) -> Result<ClientCertificate, CertificateRefused> {
        Ok(ClientCertificate {
            facts: pki::peer_certificate_facts(cert_der)?,
        })
    }

    /// The principal the certificate stands for now. A node certificate goes
    /// through the node inventory ([`crate::peer::principal_from_facts`], as
    /// on the HTTPS listener: a decommissioned node is refused here too); a
    /// KMIP client certificate stands for its role (operator when it names
    /// none) and the one tenant it names (`default` when it names none), until
    /// it expires. Blocking for node certificates: reads the store.
    pub fn principal(&self, keystore: &Keystore) -> Result<Principal, CertificateRefused> {
        let identity = &self.facts.identity;
        if identity.node_id.is_some() {
            return crate::peer::principal_from_facts(keystore, &self.facts)
                .map_err(|error| CertificateRefused::Node(error.message));
        }
        if self.facts.not_after <= time::OffsetDateTime::now_utc() {
            return Err(CertificateRefused::Expired {
                serial: self.facts.serial_hex.clone(),
            });
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
        Ok(Principal {
            token_id: format!("cert:{}", identity.common_name),
            role,
            scope: TenantScope::Only(vec![tenant]),
        })
    }
}

/// The KMIP session of a principal: its audit name, scope, the tenant new
/// objects go to, and what its role allows.
pub fn session_for(principal: &Principal, remote: Option<String>) -> kmip::Session {
    kmip::Session::new(
        Caller {
            principal: principal.audit_name(),
            remote,
        },
        principal.scope.clone(),
        principal.tenant_for(None),
        kmip::Rights {
            read_metadata: principal.authorize(Permission::ReadMetadata).is_ok(),
            read_material: principal.authorize(Permission::ReadMaterial).is_ok(),
            manage_keys: principal.authorize(Permission::ManageKeys).is_ok(),
            // Nodes get secret data only where policies decide (HTTPS).
            read_secret_data: principal.node_id().is_none()
                && principal.authorize(Permission::ReadMaterial).is_ok(),
        },
    )
}
