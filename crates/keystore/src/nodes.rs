//! What the key manager does for node identity: the node inventory and join
//! tokens, read and changed with their audit records, the seam where a
//! decommissioned node's leases end, and the shredding of keys only that node
//! used.

use crate::caller::{Caller, NODE_PRINCIPAL_PREFIX, event};
use crate::error::KeystoreError;
use crate::model::{JoinTokenRow, ListFilter, MAX_LIST, NodeRow};
use crate::object::RevocationReason;
use crate::service::Keystore;
use crate::store::Write;

/// The label that names the node owning an object (`cryptainer.node=<node id>`).
/// `cryptainer node decommission --shred` destroys the live objects carrying it
/// with the decommissioned node's id: volume keys that only that node used.
pub const NODE_OWNER_LABEL: &str = "cryptainer.node";

impl Keystore {
    /// The node `id` of the inventory.
    pub fn node(&self, id: &str) -> Result<Option<NodeRow>, KeystoreError> {
        Ok(self.store.get_node(id)?)
    }

    /// Every node of the inventory, by id.
    pub fn nodes(&self) -> Result<Vec<NodeRow>, KeystoreError> {
        Ok(self.store.list_nodes()?)
    }

    /// Stores `node` (renewed, seen, labelled, decommissioned) with the audit
    /// record of `operation` on it, if the stored node is still `read` (what
    /// the change was made from; `None`: a new node, which must not exist);
    /// returns once both are durable. Refused as stale when it changed
    /// meanwhile, on this server or another: a liveness report never undoes
    /// a decommission.
    pub fn put_node(
        &self,
        caller: &Caller,
        operation: &str,
        node: &NodeRow,
        read: Option<&NodeRow>,
    ) -> Result<(), KeystoreError> {
        self.store.commit(
            vec![Write::PutNode {
                row: node.clone(),
                expected: read.map(|read| Box::new(read.clone())),
            }],
            event(caller, operation, Some(&node.tenant), Some(&node.id)),
        )?;
        Ok(())
    }

    /// Adds `node` to the inventory and counts one more use of `token`, the
    /// join token it used (as read), in one commit audited as `node.join`.
    /// Refused as stale when the token's use count changed since it was read:
    /// two joins, on one server or two, never take the same last use.
    pub fn join_node(
        &self,
        caller: &Caller,
        token: &JoinTokenRow,
        node: &NodeRow,
    ) -> Result<(), KeystoreError> {
        let mut used = token.clone();
        used.uses = used.uses.saturating_add(1);
        self.store.commit(
            vec![
                Write::PutJoinToken {
                    row: used,
                    expected_uses: Some(token.uses),
                },
                Write::PutNode {
                    row: node.clone(),
                    expected: None,
                },
            ],
            event(caller, "node.join", Some(&node.tenant), Some(&node.id)),
        )?;
        Ok(())
    }

    /// The join token `id`.
    pub fn join_token_by_id(&self, id: &str) -> Result<Option<JoinTokenRow>, KeystoreError> {
        Ok(self.store.get_join_token_by_id(id)?)
    }

    /// The join token whose secret has the SHA-256 digest `digest` (hex). The
    /// caller compares the digests again in constant time.
    pub fn join_token_by_digest(
        &self,
        digest: &str,
    ) -> Result<Option<JoinTokenRow>, KeystoreError> {
        Ok(self.store.get_join_token_by_digest(digest)?)
    }

    /// Every join token, by id.
    pub fn join_tokens(&self) -> Result<Vec<JoinTokenRow>, KeystoreError> {
        Ok(self.store.list_join_tokens()?)
    }

    /// Stores join tokens in one commit with the audit record of `operation`
    /// on `object_id` of `tenant`: `changed` are stored tokens changed (as
    /// revoked), each refused as stale if its use count moved since it was
    /// read; `new` are new tokens. Returns once both are durable.
    pub fn put_join_tokens(
        &self,
        caller: &Caller,
        operation: &str,
        tenant: Option<&str>,
        object_id: Option<&str>,
        changed: Vec<JoinTokenRow>,
        new: Vec<JoinTokenRow>,
    ) -> Result<(), KeystoreError> {
        let writes = changed
            .into_iter()
            .map(|row| Write::PutJoinToken {
                expected_uses: Some(row.uses),
                row,
            })
            .chain(new.into_iter().map(|row| Write::PutJoinToken {
                row,
                expected_uses: None,
            }))
            .collect();
        self.store
            .commit(writes, event(caller, operation, tenant, object_id))?;
        Ok(())
    }

    /// Ends the volume leases a node holds, in the call that decommissions it,
    /// so another node can take its volumes at once. Returns how many ended.
    pub fn end_node_leases(&self, caller: &Caller, node_id: &str) -> Result<usize, KeystoreError> {
        Ok(self
            .release_all_volumes(caller, &node_holder(node_id))?
            .len())
    }

    /// Destroys, for good, every live object labelled as owned by `node_id`
    /// ([`NODE_OWNER_LABEL`]): an active one is deactivated first, then its
    /// material is erased; and removes every volume only that node used,
    /// destroying its key. Returns the ids destroyed.
    pub fn shred_node_objects(
        &self,
        caller: &Caller,
        node_id: &str,
    ) -> Result<Vec<String>, KeystoreError> {
        self.require_unsealed()?;
        let mut owned = Vec::new();
        let mut offset = 0_u64;
        loop {
            let filter = ListFilter {
                tenants: None,
                name: None,
                state: None,
                object_type: None,
                limit: MAX_LIST,
                offset,
            };
            let (page, _total) = self.store.list_objects(&filter)?;
            let count = page.len();
            owned.extend(page.into_iter().filter(|meta| {
                !meta.state.is_destroyed()
                    && meta.labels.get(NODE_OWNER_LABEL).map(String::as_str) == Some(node_id)
            }));
            if count < usize::try_from(MAX_LIST).unwrap_or(usize::MAX) {
                break;
            }
            offset = offset.saturating_add(u64::try_from(count).unwrap_or(u64::MAX));
        }
        let mut destroyed = Vec::new();
        for meta in owned {
            let meta = if meta.state == crate::object::State::Active
                || meta.state == crate::object::State::PreActive
            {
                self.revoke(caller, &meta, RevocationReason::CessationOfOperation)?
            } else {
                meta
            };
            let meta = self.destroy(caller, &meta)?;
            destroyed.push(meta.id);
        }
        // And the volumes only this node used: their keys die with them.
        destroyed.extend(self.shred_node_volumes(caller, node_id)?);
        Ok(destroyed)
    }
}

/// How a node appears as a caller and a volume holder (its audit name).
pub(crate) fn node_holder(node_id: &str) -> String {
    format!("{NODE_PRINCIPAL_PREFIX}{node_id}")
}
