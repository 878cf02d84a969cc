//! Policies as the key manager keeps them: one per name and tenant, stored as
//! JSON (a policy holds names and digests, no secret), every change committed
//! with its audit record. Deciding is `policy::decide`'s work; this module
//! only stores and lists.

use policy::Policy;

use crate::caller::{Caller, event};
use crate::error::KeystoreError;
use crate::object::validate_name;
use crate::service::Keystore;
use crate::store::{StoreError, Write};

impl Keystore {
    /// Stores a new policy after checking it; refused when the tenant already
    /// has a policy of that name.
    pub fn create_policy(&self, caller: &Caller, policy: Policy) -> Result<Policy, KeystoreError> {
        self.put_policy(caller, policy, false)
    }

    /// Replaces the policy of the same name and tenant (or stores it if there
    /// is none), after checking it.
    pub fn replace_policy(&self, caller: &Caller, policy: Policy) -> Result<Policy, KeystoreError> {
        self.put_policy(caller, policy, true)
    }

    fn put_policy(
        &self,
        caller: &Caller,
        policy: Policy,
        replace: bool,
    ) -> Result<Policy, KeystoreError> {
        validate_name("policy name", &policy.name)?;
        validate_name("tenant", &policy.tenant)?;
        policy.validate()?;
        let exists = |policy: &Policy| KeystoreError::PolicyExists {
            tenant: policy.tenant.clone(),
            name: policy.name.clone(),
        };
        if !replace
            && self
                .store
                .get_policy(&policy.tenant, &policy.name)?
                .is_some()
        {
            return Err(exists(&policy));
        }
        let operation = if replace {
            "policy.update"
        } else {
            "policy.create"
        };
        self.store
            .commit(
                vec![Write::PutPolicy {
                    policy: policy.clone(),
                    replace,
                }],
                policy_event(caller, operation, &policy.tenant, &policy.name),
            )
            .map_err(|error| match error {
                StoreError::NameTaken { .. } => exists(&policy),
                other => other.into(),
            })?;
        Ok(policy)
    }

    /// The policy `name` of `tenant`.
    pub fn policy(&self, tenant: &str, name: &str) -> Result<Policy, KeystoreError> {
        self.store
            .get_policy(tenant, name)?
            .ok_or_else(|| KeystoreError::NotFound {
                what: "policy",
                reference: name.to_owned(),
            })
    }

    /// Policies of `tenants` (`None`: every tenant).
    pub fn list_policies(&self, tenants: Option<&[String]>) -> Result<Vec<Policy>, KeystoreError> {
        Ok(self.store.list_policies(tenants)?)
    }

    /// Removes the policy `name` of `tenant`; what it granted is refused from
    /// the next request on.
    pub fn remove_policy(
        &self,
        caller: &Caller,
        tenant: &str,
        name: &str,
    ) -> Result<Policy, KeystoreError> {
        let current = self.policy(tenant, name)?;
        self.store.commit(
            vec![Write::DeletePolicy {
                tenant: tenant.to_owned(),
                name: name.to_owned(),
            }],
            policy_event(caller, "policy.delete", tenant, name),
        )?;
        Ok(current)
    }
}

/// The audit event of a policy change. A policy's name is chosen by people,
/// so the record keeps it only as an HMAC (`sensitive`), like a key's name.
fn policy_event(caller: &Caller, operation: &str, tenant: &str, name: &str) -> audit::AuditEvent {
    let mut audit_event = event(caller, operation, Some(tenant), None);
    audit_event
        .sensitive
        .push(("policy".to_owned(), name.as_bytes().to_vec()));
    audit_event
}
