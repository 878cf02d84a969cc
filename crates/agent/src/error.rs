//! The agent's error type.

use std::path::PathBuf;

/// Everything the agent can fail with; each message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// A file or directory of the data directory could not be read or written.
    #[error("could not {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A key, certificate, CSR or token could not be made or read.
    #[error(transparent)]
    Pki(#[from] pki::PkiError),
    /// The server could not be reached or did not answer.
    #[error("could not {what}: {source}; check the server address and that it is running")]
    Http {
        /// What was being done.
        what: &'static str,
        /// The client's error ([`api::ClientError::Unreachable`]).
        source: api::ClientError,
    },
    /// The server refused the request.
    #[error("the server refused to {what} ({status}): {message}")]
    Refused {
        /// What was asked.
        what: &'static str,
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The CA bundle the server sent is not the one the join token pins: the
    /// server is not the one that made the token, or someone is in between.
    #[error(
        "the server's CA (SHA-256 {found}) does not match the join token (SHA-256 {expected}); nothing was sent to it. Check the address, or ask for a new token if the CA was rotated"
    )]
    CaMismatch {
        /// The digest in the token, hex.
        expected: String,
        /// The digest of the bundle received, hex.
        found: String,
    },
    /// The server's answer could not be understood.
    #[error("the server's answer to {what} is not what the agent expects: {detail}")]
    BadAnswer {
        /// The request.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// A state file of the data directory is damaged.
    #[error("{path} is damaged: {source}; remove the data directory and join again")]
    State {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// The data directory holds no identity.
    #[error("{dir} holds no node identity; run `cryptainer agent join` first")]
    NotJoined {
        /// The data directory.
        dir: PathBuf,
    },
    /// The data directory already holds an identity.
    #[error(
        "{dir} already holds the identity of node {node_id}; use another --data-dir or remove it"
    )]
    AlreadyJoined {
        /// The data directory.
        dir: PathBuf,
        /// The node it belongs to.
        node_id: String,
    },
    /// The server address is not HOST:PORT.
    #[error("'{address}' is not a server address; write HOST:PORT or https://HOST:PORT")]
    BadAddress {
        /// What was given.
        address: String,
    },
    /// The volume lease asked for is outside what the agent and the key
    /// manager allow.
    #[error(
        "a volume lease of {seconds} s is not allowed; give --lease-seconds from {} to {}",
        crate::MIN_LEASE_SECS,
        crate::MAX_LEASE_SECS
    )]
    LeaseLength {
        /// The length asked for.
        seconds: u32,
    },
    /// The HTTPS client could not be set up, or the request not made.
    #[error("could not {what}: {source}")]
    Client {
        /// What was being done.
        what: &'static str,
        /// The client's error.
        source: api::ClientError,
    },
}

/// Reported instead of a transport failure when the server refuses the node's
/// certificate as revoked in the TLS handshake.
const REVOKED_IN_HANDSHAKE: &str = "the server refused this node's certificate as revoked during \
     the TLS handshake (the node was decommissioned); join it again with a new join token";

impl AgentError {
    /// The agent's error for a failed call of the API made to `what`. A server
    /// that refuses this node's certificate in the TLS handshake as revoked
    /// (the node was decommissioned: what a new connection meets instead of
    /// the 401 a kept one gets) refuses the node as surely as a 401 does, and
    /// is reported as one.
    pub(crate) fn from_api(what: &'static str, error: api::ClientError) -> AgentError {
        match error {
            api::ClientError::Unreachable(unreachable)
                if unreachable.transport() == api::Transport::CertificateRevoked =>
            {
                AgentError::Refused {
                    what,
                    status: 401,
                    message: REVOKED_IN_HANDSHAKE.to_owned(),
                }
            }
            source @ api::ClientError::Unreachable(_) => AgentError::Http { what, source },
            api::ClientError::Refused {
                status, message, ..
            } => AgentError::Refused {
                what,
                status,
                message,
            },
            api::ClientError::BadAnswer { detail } => AgentError::BadAnswer { what, detail },
            error @ api::ClientError::AnswerTooLarge { .. } => AgentError::BadAnswer {
                what,
                detail: error.to_string(),
            },
            source => AgentError::Client { what, source },
        }
    }
}
