//! What the key manager does for node identity: commits to the node inventory and
//! join tokens with their audit records, the seam where a decommissioned node's
//! leases end, and the shredding of keys only that node used.

use crate::object::RevocationReason;
use crate::service::event;
use crate::store::{ListFilter, MAX_LIST, Write};
use crate::{Caller, Keystore, KeystoreError};

/// The label that names the node owning an object (`cryptainer.node=<node id>`).
/// `cryptainer node decommission --shred` destroys the live objects carrying it
/// with the decommissioned node's id: volume keys that only that node used.
pub const NODE_OWNER_LABEL: &str = "cryptainer.node";

impl Keystore {
    /// Applies `writes` (join tokens, nodes) atomically with the audit record of
    /// `operation`; returns once both are durable.
    pub fn commit_identity(
        &self,
        caller: &Caller,
        operation: &str,
        tenant: Option<&str>,
        object_id: Option<&str>,
        writes: Vec<Write>,
    ) -> Result<(), KeystoreError> {
        self.store()
            .commit(writes, event(caller, operation, tenant, object_id))?;
        Ok(())
    }

    /// Ends the volume leases a node holds, in the call that decommissions it,
    /// so another node can take its volumes at once. Returns how many ended.
    pub fn end_node_leases(&self, caller: &Caller, node_id: &str) -> Result<usize, KeystoreError> {
        Ok(self
            .release_all_volumes(caller, &crate::volumes::node_holder(node_id))?
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
            let (page, _total) = self.store().list_objects(&filter)?;
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
