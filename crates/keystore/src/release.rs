//! The decision to release secret material to a caller: a volume's secret
//! (`acquire`) or a secret's value (`deliver`, `value`).
//!
//! A node is governed by its tenant's policies: it names the workloads it acts
//! for, the key manager adds the node's id, role and labels from the inventory
//! (never from the request), decides each workload with `policy::decide`,
//! records each decision (`policy.decide`), and releases nothing unless every
//! one is allowed. A caller that is not a node (a person's API token) is
//! governed by its role, which the server checked before it called here.
//!
//! The decision is a type. [`VolumeRelease`] and [`SecretRelease`] can only be
//! made here, by [`Keystore::decide_volume_release`] and
//! [`Keystore::decide_secret_release`]; [`Keystore::acquire_volume`] and
//! [`Keystore::read_secret`] take one by value. A path that would hand out a
//! volume's secret or a secret's value without a decision does not compile,
//! and a release is used once, for the object and the caller it was decided
//! for:
//!
//! ```compile_fail,E0451
//! fn forge() -> keystore::VolumeRelease {
//!     keystore::VolumeRelease { recipient: String::new(), tenant: String::new(), name: String::new(), key_id: String::new(), grants: Vec::new() }
//! }
//! ```

use policy::{Decision, Outcome, Resource, Workload};

use crate::caller::{Caller, NODE_PRINCIPAL_PREFIX, event};
use crate::error::KeystoreError;
use crate::model::VolumeRow;
use crate::object::{ObjectMeta, ObjectType};
use crate::service::Keystore;

/// Most workloads one request may claim: a host runs many containers, but a
/// volume or secret is used by a handful at once.
pub const MAX_WORKLOADS: usize = 64;

/// How a workload with no container information is named (in a refusal, and
/// as an HMAC in its decision's audit record): what is decided when a node
/// names no workload.
pub const UNNAMED_WORKLOAD: &str = "a workload with no container information";

/// One workload a node says it acts for, as its agent read it from Docker.
/// Exactly as trustworthy as the node.
#[derive(Debug, Clone)]
pub struct ClaimedWorkload {
    /// What the node says of the container: image digest and name,
    /// repository digests, service, labels. Its node fields are ignored: the
    /// inventory's are decided.
    pub workload: Workload,
    /// The container as people name it, for a refusal and the audit record.
    pub description: String,
}

/// Why one workload of a release was allowed: what the console's ledger
/// records as "under which policy".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantBasis {
    /// The named policy granted it.
    Policy(String),
    /// A volume no policy names, asked for by the node that created it.
    Creator,
    /// The caller is not a node: its role decided.
    Role,
}

/// Proof that a volume's secret may be released to one caller: only
/// [`Keystore::decide_volume_release`] makes it, and
/// [`Keystore::acquire_volume`] consumes it.
#[must_use = "a release is decided to be used: pass it to Keystore::acquire_volume"]
pub struct VolumeRelease {
    /// The caller it was decided for (its audit name), the lease's holder.
    recipient: String,
    tenant: String,
    name: String,
    /// The key the volume had when it was decided: a volume removed and made
    /// again since is another volume.
    key_id: String,
    /// Why each workload was allowed, in the order they were claimed.
    grants: Vec<GrantBasis>,
}

impl VolumeRelease {
    /// Why each workload was allowed, in the order they were claimed (one
    /// for a caller that named none).
    pub fn grants(&self) -> &[GrantBasis] {
        &self.grants
    }

    /// The caller it was decided for, its tenant, name and key.
    pub(crate) fn into_parts(self) -> (String, String, String, String) {
        (self.recipient, self.tenant, self.name, self.key_id)
    }
}

/// Proof that a secret's value may be released to one caller: only
/// [`Keystore::decide_secret_release`] makes it, and
/// [`Keystore::read_secret`] consumes it.
#[must_use = "a release is decided to be used: pass it to Keystore::read_secret"]
pub struct SecretRelease {
    /// The caller it was decided for (its audit name).
    recipient: String,
    /// The secret, as it was when decided.
    secret: ObjectMeta,
    /// Why each workload was allowed, in the order they were claimed.
    grants: Vec<GrantBasis>,
}

impl SecretRelease {
    /// Why each workload was allowed, in the order they were claimed (one
    /// for a caller that named none).
    pub fn grants(&self) -> &[GrantBasis] {
        &self.grants
    }

    /// The caller it was decided for, and the secret.
    pub(crate) fn into_parts(self) -> (String, ObjectMeta) {
        (self.recipient, self.secret)
    }
}

/// What deciding a release came to.
#[must_use = "a denied release must be answered as a refusal"]
pub enum ReleaseDecision<R> {
    /// Every workload is allowed (or the caller is not a node): the release.
    Allowed(R),
    /// A workload was refused: nothing may be released.
    Denied(Denial),
}

/// The first workload a policy decision refused.
#[derive(Debug)]
pub struct Denial {
    /// The workload, as [`ClaimedWorkload::description`] names it.
    pub workload: String,
    /// The decision, with a sentence per policy considered.
    pub decision: Decision,
}

impl Keystore {
    /// Decides whether the secret of volume `name` of `tenant` may be
    /// released to `caller` for `workloads` (see the module documentation).
    /// A volume no policy names stays with the node that created it.
    pub fn decide_volume_release(
        &self,
        caller: &Caller,
        tenant: &str,
        name: &str,
        workloads: &[ClaimedWorkload],
    ) -> Result<ReleaseDecision<VolumeRelease>, KeystoreError> {
        let volume: VolumeRow = self.volume(tenant, name)?;
        let creator = volume.created_by.strip_prefix(NODE_PRINCIPAL_PREFIX);
        let resource = Resource::Volume {
            name,
            creator_node: creator,
        };
        let allowed = self.decide(caller, tenant, &resource, &volume.key_id, workloads)?;
        Ok(allowed.map_or_else(ReleaseDecision::Denied, |grants| {
            ReleaseDecision::Allowed(VolumeRelease {
                recipient: caller.principal.clone(),
                tenant: tenant.to_owned(),
                name: name.to_owned(),
                key_id: volume.key_id.clone(),
                grants,
            })
        }))
    }

    /// Decides whether the value of `secret` (a Secret Data object) may be
    /// released to `caller` for `workloads` (see the module documentation).
    pub fn decide_secret_release(
        &self,
        caller: &Caller,
        secret: &ObjectMeta,
        workloads: &[ClaimedWorkload],
    ) -> Result<ReleaseDecision<SecretRelease>, KeystoreError> {
        if secret.object_type != ObjectType::SecretData {
            return Err(KeystoreError::NotFound {
                what: "secret",
                reference: secret.name.clone().unwrap_or_else(|| secret.id.clone()),
            });
        }
        let name = secret.name.as_deref().unwrap_or(&secret.id);
        let resource = Resource::Secret { name };
        let allowed = self.decide(caller, &secret.tenant, &resource, &secret.id, workloads)?;
        Ok(allowed.map_or_else(ReleaseDecision::Denied, |grants| {
            ReleaseDecision::Allowed(SecretRelease {
                recipient: caller.principal.clone(),
                secret: secret.clone(),
                grants,
            })
        }))
    }

    /// Decides `resource` (whose key is `object_id`) of `tenant` for each
    /// workload the calling node claims, and records each decision. `Ok`
    /// of the inner result says why each workload was allowed; `Err` is the
    /// first refusal.
    fn decide(
        &self,
        caller: &Caller,
        tenant: &str,
        resource: &Resource<'_>,
        object_id: &str,
        workloads: &[ClaimedWorkload],
    ) -> Result<Result<Vec<GrantBasis>, Denial>, KeystoreError> {
        let Some(node_id) = caller.node_id() else {
            // Not a node: its role decided, in the server's authorization.
            return Ok(Ok(vec![GrantBasis::Role]));
        };
        if workloads.len() > MAX_WORKLOADS {
            return Err(KeystoreError::InvalidArgument(format!(
                "a request claims at most {MAX_WORKLOADS} workloads; {} were given",
                workloads.len()
            )));
        }
        let node = self.node(node_id)?.ok_or_else(|| KeystoreError::NotFound {
            what: "node",
            reference: node_id.to_owned(),
        })?;
        let policies = self.list_policies(Some(&[tenant.to_owned()]))?;
        let unnamed;
        let workloads = if workloads.is_empty() {
            unnamed = [ClaimedWorkload {
                workload: Workload::default(),
                description: UNNAMED_WORKLOAD.to_owned(),
            }];
            &unnamed[..]
        } else {
            workloads
        };
        let mut denial = None;
        let mut grants = Vec::with_capacity(workloads.len());
        for claimed in workloads {
            let workload = Workload {
                node_id: node.id.clone(),
                node_role: node.role.as_str().to_owned(),
                node_labels: node.labels.clone(),
                ..claimed.workload.clone()
            };
            let decision = policy::decide(&policies, &workload, resource);
            let allowed = decision.allowed();
            let mut details = vec![(
                "container".to_owned(),
                claimed.description.clone().into_bytes(),
            )];
            if let Some(digest) = &workload.image_digest {
                details.push(("image_digest".to_owned(), digest.clone().into_bytes()));
            }
            self.record_decision(
                caller,
                tenant,
                object_id,
                if allowed { "ok" } else { "policy_denied" },
                details,
            )?;
            match &decision.outcome {
                Outcome::Allowed { policy } => grants.push(GrantBasis::Policy(policy.clone())),
                Outcome::AllowedUnbound => grants.push(GrantBasis::Creator),
                Outcome::Denied => {}
            }
            if !allowed && denial.is_none() {
                denial = Some(Denial {
                    workload: claimed.description.clone(),
                    decision,
                });
            }
        }
        Ok(denial.map_or(Ok(grants), Err))
    }

    /// Records one policy decision (`policy.decide`) on `object_id` of
    /// `tenant`: `result` is `ok` or the refusal's code, `details` (the
    /// container, its image digest) are kept as HMACs. Returns once durable.
    fn record_decision(
        &self,
        caller: &Caller,
        tenant: &str,
        object_id: &str,
        result: &str,
        details: Vec<(String, Vec<u8>)>,
    ) -> Result<(), KeystoreError> {
        let mut audit_event = event(caller, "policy.decide", Some(tenant), Some(object_id));
        audit_event.result = result.to_owned();
        audit_event.sensitive = details;
        self.store.commit(Vec::new(), audit_event)?;
        Ok(())
    }
}

/// Refuses a release used by another caller than the one it was decided for.
pub(crate) fn check_recipient(caller: &Caller, recipient: &str) -> Result<(), KeystoreError> {
    if caller.principal == recipient {
        Ok(())
    } else {
        Err(KeystoreError::InvalidArgument(format!(
            "a release decided for {recipient} was used by {}; decide again for this caller",
            caller.principal
        )))
    }
}
