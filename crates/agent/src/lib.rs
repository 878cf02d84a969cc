//! The Cryptainer agent: the node side of node identity. It joins the cluster with
//! a join token ([`join`]), keeps its identity files in a data directory
//! ([`IdentityFiles`]), and while it runs ([`run`]) renews its short-lived node
//! certificate with a new key each time and reports liveness to the server.
//!
//! The agent knows the server only through its HTTPS API, whose shapes and
//! client are the `api` crate's; it knows nothing of SQL.
//! The protocol and file layout are in docs/identity.md.
#![forbid(unsafe_code)]

mod docker;
mod driver;
mod error;
mod files;
mod join;
mod run;
mod secret_volumes;
mod shared;
mod swarm;
#[cfg(test)]
mod testing;
mod volumes;

pub use docker::{DEFAULT_DOCKER_SOCKET, DockerError};
pub use error::AgentError;
pub use files::{AgentStatus, IdentityFiles, NodeState};
pub use join::{JoinOptions, join};
pub use run::{DEFAULT_HEARTBEAT_INTERVAL, RunOptions, run};
pub use volumes::{DEFAULT_LEASE_SECS, MAX_LEASE_SECS, MIN_LEASE_SECS, VolumeOptions};
