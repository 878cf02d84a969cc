//! Joining: fetch the CA bundle without trusting it, check it against the join
//! token, make a key locally, and trade a CSR and the token for a node certificate.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::AgentError;
use crate::files::{IdentityFiles, NodeState};
use crate::http::{MAX_BUNDLE_BYTES, base_url, pinned_client, send_json, unverified_client};

/// What `agent join` needs.
pub struct JoinOptions {
    /// The server, `HOST:PORT` or `https://HOST:PORT`.
    pub server: String,
    /// The join token, `CPTJ-1-...`; wiped on drop.
    pub token: Zeroizing<String>,
    /// Where the identity files go.
    pub data_dir: PathBuf,
    /// The node name to report; the host name when `None`.
    pub name: Option<String>,
}

/// A certificate the server issued (answer to join and renew).
#[derive(Deserialize)]
pub(crate) struct IssuedCertificate {
    pub(crate) node_id: String,
    pub(crate) name: String,
    pub(crate) role: String,
    pub(crate) tenant: String,
    pub(crate) cert_pem: String,
    pub(crate) ca_pem: String,
    pub(crate) serial: String,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) not_after: OffsetDateTime,
}

#[derive(Serialize)]
struct JoinBody<'a> {
    token: &'a str,
    csr_pem: &'a str,
    name: &'a str,
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
    let base = base_url(&options.server)?;

    let what = "fetch the CA bundle";
    let response = unverified_client()?
        .get(format!("{base}/v1/ca"))
        .send()
        .await
        .map_err(|source| AgentError::Http { what, source })?;
    let status = response.status();
    let bundle = response
        .bytes()
        .await
        .map_err(|source| AgentError::Http { what, source })?;
    if !status.is_success() || bundle.len() > MAX_BUNDLE_BYTES {
        return Err(AgentError::BadAnswer {
            what,
            detail: format!("status {status}, {} bytes", bundle.len()),
        });
    }
    if !token.matches_bundle(&bundle) {
        return Err(AgentError::CaMismatch {
            expected: hex::encode(token.ca_digest()),
            found: hex::encode(pki::bundle_digest(&bundle)),
        });
    }
    let bundle = String::from_utf8(bundle.to_vec()).map_err(|_| AgentError::BadAnswer {
        what,
        detail: "the bundle is not text".to_owned(),
    })?;
    tracing::info!(server = %base, "the server's CA matches the join token");

    let name = options.name.clone().unwrap_or_else(host_name);
    let request = pki::node_key_request(&name)?;
    let client = pinned_client(&bundle, None)?;
    let issued: IssuedCertificate = send_json(
        client
            .post(format!("{base}/v1/nodes/join"))
            .json(&JoinBody {
                token: &options.token,
                csr_pem: &request.csr_pem,
                name: &name,
            }),
        "join",
    )
    .await?;
    let state = NodeState {
        server: base,
        node_id: issued.node_id,
        name: issued.name,
        role: issued.role,
        tenant: issued.tenant,
        serial: issued.serial,
        issued_at: OffsetDateTime::now_utc(),
        not_after: issued.not_after,
    };
    files.create_dir()?;
    // The bundle checked against the token is the one pinned, whatever the answer says.
    files.store(&request.key_pem, &issued.cert_pem, &bundle, &state)?;
    drop(issued.ca_pem);
    tracing::info!(node_id = %state.node_id, tenant = %state.tenant, "joined");
    Ok(state)
}
