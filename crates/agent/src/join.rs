//! Joining: fetch the CA bundle without trusting it, check it against the join
//! token, make a key locally, and trade a CSR and the token for a node certificate.

use std::path::PathBuf;

use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::AgentError;
use crate::files::{IdentityFiles, NodeState};
use crate::shared::{CLIENT_SETTINGS, connect, server_urls};

/// What `agent join` needs.
pub struct JoinOptions {
    /// The servers of the cluster, `HOST:PORT` or `https://HOST:PORT` each,
    /// tried in order; at least one.
    pub servers: Vec<String>,
    /// The join token, `CPTJ-1-...`; wiped on drop.
    pub token: Zeroizing<String>,
    /// Where the identity files go.
    pub data_dir: PathBuf,
    /// The node name to report; the host name when `None`.
    pub name: Option<String>,
}

/// `https://HOST:PORT` from `HOST:PORT` or `https://HOST:PORT`.
pub(crate) fn base_url(address: &str) -> Result<String, AgentError> {
    let address = address.trim().trim_end_matches('/');
    let host_port = address.strip_prefix("https://").unwrap_or(address);
    let valid = !host_port.is_empty()
        && !host_port.contains('/')
        && !host_port.contains("://")
        && host_port
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if valid {
        Ok(format!("https://{host_port}"))
    } else {
        Err(AgentError::BadAddress {
            address: address.to_owned(),
        })
    }
}

/// The host name, reduced to the characters a node name may hold.
fn host_name() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let name: String = raw
        .trim()
        .chars()
        .filter(|character| {
            character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.')
        })
        .take(64)
        .collect();
    if name.is_empty() {
        "node".to_owned()
    } else {
        name
    }
}

/// Joins the server and writes the identity files; returns the new node's state.
///
/// Nothing but `GET /v1/ca` is sent before the bundle's SHA-256 matches the token;
/// the token and CSR then travel over TLS verified against that bundle.
pub async fn join(options: &JoinOptions) -> Result<NodeState, AgentError> {
    let files = IdentityFiles::new(&options.data_dir);
    if let Some(state) = files.load_state()? {
        return Err(AgentError::AlreadyJoined {
            dir: options.data_dir.clone(),
            node_id: state.node_id,
        });
    }
    let token = pki::JoinToken::parse(&options.token)?;
    let servers = options
        .servers
        .iter()
        .map(|server| base_url(server))
        .collect::<Result<Vec<_>, _>>()?;
    let base = servers
        .first()
        .cloned()
        .ok_or_else(|| AgentError::BadAddress {
            address: String::new(),
        })?;

    // From the first server that answers; whichever answers, the bundle
    // must match the token before anything else is sent.
    let what = "fetch the CA bundle";
    let mut fetched = None;
    for address in server_urls(&servers)?.iter() {
        match api::client::fetch_ca_bundle_unverified(address, &CLIENT_SETTINGS).await {
            Ok(bundle) => {
                fetched = Some(Ok(bundle));
                break;
            }
            Err(error) => {
                tracing::warn!(server = %address, %error, "cannot fetch the CA bundle; trying the next server");
                fetched = Some(Err(error));
            }
        }
    }
    let bundle = match fetched {
        Some(Ok(bundle)) => bundle,
        Some(Err(error)) => return Err(AgentError::from_api(what, error)),
        None => {
            return Err(AgentError::BadAddress {
                address: String::new(),
            });
        }
    };
    if !token.matches_bundle(&bundle) {
        return Err(AgentError::CaMismatch {
            expected: hex::encode(token.ca_digest()),
            found: hex::encode(pki::bundle_digest(&bundle)),
        });
    }
    let bundle = String::from_utf8(bundle).map_err(|_| AgentError::BadAnswer {
        what,
        detail: "the bundle is not text".to_owned(),
    })?;
    tracing::info!(server = %base, "the server's CA matches the join token");

    let name = options.name.clone().unwrap_or_else(host_name);
    let request = pki::node_key_request(&name)?;
    let client = connect(&servers, &bundle, None)?;
    let issued = client
        .send(&api::nodes::Join(&api::nodes::JoinRequest {
            token: api::SecretString::from_str_copy(&options.token),
            csr_pem: request.csr_pem.clone(),
            name: Some(name),
        }))
        .await
        .map_err(|error| AgentError::from_api("join", error))?;
    let state = NodeState {
        server: base,
        servers: if servers.len() > 1 {
            servers
        } else {
            Vec::new()
        },
        node_id: issued.node_id,
        name: issued.name,
        role: issued.role.as_str().to_owned(),
        tenant: issued.tenant,
        serial: issued.serial,
        issued_at: OffsetDateTime::now_utc(),
        not_after: issued.not_after,
    };
    files.create_dir()?;
    // The bundle checked against the token is the one pinned, whatever the answer says.
    files.store(&request.key_pem, &issued.cert_pem, &bundle, &state)?;
    tracing::info!(node_id = %state.node_id, tenant = %state.tenant, "joined");
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            base_url("127.0.0.1:8200").ok().as_deref(),
            Some("https://127.0.0.1:8200")
        );
        assert_eq!(
            base_url("https://h:1/").ok().as_deref(),
            Some("https://h:1")
        );
        for bad in ["", "h", "http://h:1", "h:x", "https://h:1/path", ":1"] {
            assert!(base_url(bad).is_err(), "{bad}");
        }
    }
}
