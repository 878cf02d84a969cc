//! Every route of the HTTPS API as its pattern (what the server routes, with
//! `{parameter}` placeholders), and [`path`], which fills a pattern with
//! percent-encoded parameters. The endpoints ([`crate::endpoint`]) give each
//! parameter its type; nothing else builds a path.

/// `GET`: liveness.
pub const HEALTH: &str = "/v1/sys/health";
/// `GET`: 200 once unsealed.
pub const READY: &str = "/v1/sys/ready";
/// `GET`: the seal status.
pub const STATUS: &str = "/v1/sys/status";
/// `POST`: initialize.
pub const INIT: &str = "/v1/sys/init";
/// `POST`: give an unseal share or the passphrase.
pub const UNSEAL: &str = "/v1/sys/unseal";
/// `POST`: seal.
pub const SEAL: &str = "/v1/sys/seal";
/// `POST`: rotate the root key.
pub const ROTATE_ROOT: &str = "/v1/sys/rotate-root";
/// `POST`: move the root key to another seal.
pub const SEAL_MIGRATE: &str = "/v1/sys/seal/migrate";
/// `POST`: finish a seal migration that waits for its new shares.
pub const SEAL_MIGRATE_COMPLETE: &str = "/v1/sys/seal/migrate/complete";
/// `POST`: forget a seal migration that waits for its new shares.
pub const SEAL_MIGRATE_CANCEL: &str = "/v1/sys/seal/migrate/cancel";
/// `POST`: rotate a tenant's key.
pub const TENANT_ROTATE_KEY: &str = "/v1/tenants/{tenant}/rotate-key";
/// `POST` create, `GET` list.
pub const KEYS: &str = "/v1/keys";
/// `GET` show, `DELETE` destroy.
pub const KEY: &str = "/v1/keys/{reference}";
/// `GET`: the key's material.
pub const KEY_MATERIAL: &str = "/v1/keys/{reference}/material";
/// `POST`: a new version.
pub const KEY_ROTATE: &str = "/v1/keys/{reference}/rotate";
/// `POST`: revoke.
pub const KEY_REVOKE: &str = "/v1/keys/{reference}/revoke";
/// `POST` create, `GET` list.
pub const TOKENS: &str = "/v1/auth/tokens";
/// `DELETE`: revoke.
pub const TOKEN: &str = "/v1/auth/tokens/{id}";
/// `GET`: the caller's own token.
pub const TOKEN_SELF: &str = "/v1/auth/self";
/// `GET`: audit records.
pub const AUDIT_RECORDS: &str = "/v1/audit/records";
/// `POST`: verify the audit log.
pub const AUDIT_VERIFY: &str = "/v1/audit/verify";
/// `POST` create, `GET` list.
pub const VOLUMES: &str = "/v1/volumes";
/// `GET` show, `DELETE` remove.
pub const VOLUME: &str = "/v1/volumes/{name}";
/// `POST`: take the lease and the secret.
pub const VOLUME_ACQUIRE: &str = "/v1/volumes/{name}/acquire";
/// `POST`: renew the lease.
pub const VOLUME_RENEW: &str = "/v1/volumes/{name}/renew";
/// `POST`: release the lease.
pub const VOLUME_RELEASE: &str = "/v1/volumes/{name}/release";
/// `POST` create, `GET` list.
pub const SECRETS: &str = "/v1/secrets";
/// `GET` show, `DELETE` destroy.
pub const SECRET: &str = "/v1/secrets/{reference}";
/// `GET`: the value.
pub const SECRET_VALUE: &str = "/v1/secrets/{reference}/value";
/// `POST`: a new version.
pub const SECRET_ROTATE: &str = "/v1/secrets/{reference}/rotate";
/// `POST`: the value, to a node, for its workloads.
pub const SECRET_DELIVER: &str = "/v1/secrets/{reference}/deliver";
/// `POST` create, `GET` list.
pub const POLICIES: &str = "/v1/policies";
/// `POST`: what the policies decide for a workload.
pub const POLICY_CHECK: &str = "/v1/policies/check";
/// `GET` show, `DELETE` remove.
pub const POLICY: &str = "/v1/policies/{name}";
/// `GET`: the OpenAPI document.
pub const OPENAPI: &str = "/v1/openapi.json";
/// `GET`: Prometheus metrics.
pub const METRICS: &str = "/metrics";
/// `GET`: the CA bundle (PEM), unauthenticated.
pub const CA: &str = "/v1/ca";
/// `POST`: rotate the built-in CA.
pub const CA_ROTATE: &str = "/v1/ca/rotate";
/// `GET`: the CA and the re-issue progress.
pub const CA_STATUS: &str = "/v1/ca/status";
/// `GET`: the node inventory.
pub const NODES: &str = "/v1/nodes";
/// `POST`: join with a join token.
pub const NODE_JOIN: &str = "/v1/nodes/join";
/// `POST`: renew the node certificate.
pub const NODE_RENEW: &str = "/v1/nodes/renew";
/// `POST`: liveness report.
pub const NODE_HEARTBEAT: &str = "/v1/nodes/heartbeat";
/// `POST` create, `GET` list join tokens.
pub const JOIN_TOKENS: &str = "/v1/nodes/tokens";
/// `DELETE`: revoke a join token.
pub const JOIN_TOKEN: &str = "/v1/nodes/tokens/{id}";
/// `POST`: replace a join token.
pub const JOIN_TOKEN_ROTATE: &str = "/v1/nodes/tokens/{id}/rotate";
/// `GET`: one node.
pub const NODE: &str = "/v1/nodes/{id}";
/// `POST`: decommission a node.
pub const NODE_DECOMMISSION: &str = "/v1/nodes/{id}/decommission";
/// `POST` or `PUT`: set and remove a node's labels.
pub const NODE_LABELS: &str = "/v1/nodes/{id}/labels";
/// `GET`: the fleet's overview (the console's first view).
pub const FLEET_OVERVIEW: &str = "/v1/fleet/overview";
/// `GET`: nodes with what they hold.
pub const FLEET_NODES: &str = "/v1/fleet/nodes";
/// `GET`: volumes with who holds them.
pub const FLEET_VOLUMES: &str = "/v1/fleet/volumes";
/// `GET`: keys and secrets with who received each version.
pub const FLEET_OBJECTS: &str = "/v1/fleet/objects";
/// `GET`: containers that received volumes or secrets.
pub const FLEET_WORKLOADS: &str = "/v1/fleet/workloads";
/// `GET`: policies with the containers they select.
pub const FLEET_POLICIES: &str = "/v1/fleet/policies";
/// `GET`: audit records, newest first, filtered.
pub const FLEET_AUDIT: &str = "/v1/fleet/audit";
/// `POST` sign in, `GET` who is signed in, `DELETE` sign out (the console).
pub const CONSOLE_SESSION: &str = "/v1/console/session";
/// `GET`: the console's server-sent events (which views changed).
pub const CONSOLE_EVENTS: &str = "/v1/console/events";
/// `POST`: KMIP over HTTPS, binary TTLV.
pub const KMIP_BINARY: &str = "/kmip";
/// `POST`: KMIP over HTTPS, the KMIP 2.1 JSON profile.
pub const KMIP_JSON: &str = "/kmip/2_1";
/// `POST`: sign a KMIP client's certificate request.
pub const KMIP_CLIENT_CERTS: &str = "/v1/kmip/client-certs";
/// `GET`: a backup of the whole store, streamed (not JSON: the backup
/// format of docs/backup-format.md).
pub const BACKUP: &str = "/v1/sys/backup";
/// `POST`: restore a backup (the body, as `BACKUP` answers it) into an
/// uninitialized server's empty store.
pub const RESTORE: &str = "/v1/sys/restore";

/// Every route, for the checks that the server routes each one and the
/// OpenAPI document lists each one.
pub const ALL: &[&str] = &[
    HEALTH,
    READY,
    STATUS,
    INIT,
    UNSEAL,
    SEAL,
    ROTATE_ROOT,
    SEAL_MIGRATE,
    SEAL_MIGRATE_COMPLETE,
    SEAL_MIGRATE_CANCEL,
    TENANT_ROTATE_KEY,
    KEYS,
    KEY,
    KEY_MATERIAL,
    KEY_ROTATE,
    KEY_REVOKE,
    TOKENS,
    TOKEN,
    TOKEN_SELF,
    AUDIT_RECORDS,
    AUDIT_VERIFY,
    VOLUMES,
    VOLUME,
    VOLUME_ACQUIRE,
    VOLUME_RENEW,
    VOLUME_RELEASE,
    SECRETS,
    SECRET,
    SECRET_VALUE,
    SECRET_ROTATE,
    SECRET_DELIVER,
    POLICIES,
    POLICY_CHECK,
    POLICY,
    OPENAPI,
    METRICS,
    CA,
    CA_ROTATE,
    CA_STATUS,
    NODES,
    NODE_JOIN,
    NODE_RENEW,
    NODE_HEARTBEAT,
    JOIN_TOKENS,
    JOIN_TOKEN,
    JOIN_TOKEN_ROTATE,
    NODE,
    NODE_DECOMMISSION,
    NODE_LABELS,
    KMIP_BINARY,
    KMIP_JSON,
    KMIP_CLIENT_CERTS,
    FLEET_OVERVIEW,
    FLEET_NODES,
    FLEET_VOLUMES,
    FLEET_OBJECTS,
    FLEET_WORKLOADS,
    FLEET_POLICIES,
    FLEET_AUDIT,
    CONSOLE_SESSION,
    CONSOLE_EVENTS,
    BACKUP,
    RESTORE,
];

/// A path that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// An empty parameter, or `.` or `..`, which URLs take as a step in the
    /// path rather than as a name.
    #[error("'{parameter}' cannot name anything in a request path; give a real name or id")]
    Unnameable {
        /// The parameter.
        parameter: String,
    },
    /// The pattern takes another number of parameters (a bug of the caller).
    #[error("the route {pattern} takes {expected} parameter(s), not {given}")]
    Parameters {
        /// The route.
        pattern: &'static str,
        /// How many it takes.
        expected: usize,
        /// How many were given.
        given: usize,
    },
}

/// `pattern` with its `{placeholders}` replaced, in order, by `parameters`,
/// each percent-encoded: everything but ASCII letters, digits and `-._~`
/// (RFC 3986's unreserved characters), so a `/`, `?` or `%` in a name stays
/// part of the name.
pub fn path(pattern: &'static str, parameters: &[&str]) -> Result<String, PathError> {
    let expected = pattern.matches('{').count();
    if expected != parameters.len() {
        return Err(PathError::Parameters {
            pattern,
            expected,
            given: parameters.len(),
        });
    }
    let mut filled = String::with_capacity(
        pattern.len() + parameters.iter().map(|p| p.len() * 3).sum::<usize>(),
    );
    let mut rest = pattern;
    for parameter in parameters {
        if parameter.is_empty() || *parameter == "." || *parameter == ".." {
            return Err(PathError::Unnameable {
                parameter: (*parameter).to_owned(),
            });
        }
        let (before, after) = match (rest.split_once('{'), rest.split_once('}')) {
            (Some((before, _)), Some((_, after))) => (before, after),
            _ => {
                return Err(PathError::Parameters {
                    pattern,
                    expected,
                    given: parameters.len(),
                });
            }
        };
        filled.push_str(before);
        encode_into(parameter, &mut filled);
        rest = after;
    }
    filled.push_str(rest);
    Ok(filled)
}

/// Appends `parameter` percent-encoded to `out`.
fn encode_into(parameter: &str, out: &mut String) {
    use std::fmt::Write as _;
    for byte in parameter.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &'static str, parameters: &[&str], expected: &str) {
        assert_eq!(path(pattern, parameters).as_deref(), Ok(expected));
    }

    #[test]
    fn parameters_are_percent_encoded_in_place() {
        check(VOLUMES, &[], "/v1/volumes");
        check(VOLUME_ACQUIRE, &["pgdata"], "/v1/volumes/pgdata/acquire");
        check(KEY, &["a/b?c#d%e f"], "/v1/keys/a%2Fb%3Fc%23d%25e%20f");
        check(KEY, &["db.v2_x-y~z"], "/v1/keys/db.v2_x-y~z");
        check(KEY, &["é"], "/v1/keys/%C3%A9");
        check(TENANT_ROTATE_KEY, &["acme"], "/v1/tenants/acme/rotate-key");
        check(
            JOIN_TOKEN_ROTATE,
            &["jtk_1"],
            "/v1/nodes/tokens/jtk_1/rotate",
        );
        check(KEY, &["..."], "/v1/keys/...");
    }

    #[test]
    fn rejects_parameters_a_url_would_not_keep() {
        for parameter in ["", ".", ".."] {
            assert_eq!(
                path(KEY, &[parameter]),
                Err(PathError::Unnameable {
                    parameter: parameter.to_owned()
                })
            );
        }
    }

    #[test]
    fn rejects_the_wrong_number_of_parameters() {
        assert!(matches!(
            path(KEY, &[]),
            Err(PathError::Parameters {
                expected: 1,
                given: 0,
                ..
            })
        ));
        assert!(matches!(
            path(VOLUMES, &["x"]),
            Err(PathError::Parameters {
                expected: 0,
                given: 1,
                ..
            })
        ));
    }

    #[test]
    fn every_route_is_listed_once_and_well_formed() {
        let mut seen = std::collections::BTreeSet::new();
        for route in ALL {
            assert!(seen.insert(route), "{route} is listed twice");
            assert!(route.starts_with('/'), "{route}");
            assert_eq!(
                route.matches('{').count(),
                route.matches('}').count(),
                "{route}"
            );
        }
    }
}
