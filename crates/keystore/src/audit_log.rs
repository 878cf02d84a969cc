//! The audit log as the key manager's callers use it: records of requests that
//! change nothing (metadata reads, refusals), the signed stop, reading the
//! records back, and verifying the chain against its checkpoints.

use std::sync::{Arc, PoisonError};

use crate::caller::{Caller, event};
use crate::durable::Durable;
use crate::error::KeystoreError;
use crate::service::Keystore;
use crate::store::{Store, StoreError};

impl Keystore {
    /// How often the audit chain head is signed (a checkpoint), besides at
    /// every seal and stop.
    pub fn set_checkpoint_policy(&self, policy: audit::CheckpointPolicy) {
        self.store
            .journal()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .set_policy(policy);
    }

    /// Records the server's stop and signs the chain head, so a truncation of the
    /// log while the server is down is detected at the next verify.
    pub fn record_shutdown(&self) -> Result<(), KeystoreError> {
        self.store
            .journal()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .request_checkpoint();
        self.record(&Caller::system(), "sys.stop", None, None, "ok")
    }

    /// Records a request in the audit log without changing anything (metadata
    /// reads, refusals). Returns once the record is durable.
    pub fn record(
        &self,
        caller: &Caller,
        operation: &str,
        tenant: Option<&str>,
        object_id: Option<&str>,
        result: &str,
    ) -> Result<(), KeystoreError> {
        self.record_deferred(caller, operation, tenant, object_id, result)?
            .wait()
    }

    /// [`Keystore::record`] without waiting.
    pub fn record_deferred(
        &self,
        caller: &Caller,
        operation: &str,
        tenant: Option<&str>,
        object_id: Option<&str>,
        result: &str,
    ) -> Result<Durable<()>, KeystoreError> {
        let mut audit_event = event(caller, operation, tenant, object_id);
        audit_event.result = result.to_owned();
        let commit = self.store.submit(Vec::new(), audit_event)?;
        Ok(Durable::new((), commit))
    }

    /// Like [`Keystore::record`] for a refusal: a failure to write it is logged,
    /// since the request fails anyway.
    pub fn audit_refusal(
        &self,
        caller: &Caller,
        operation: &str,
        tenant: Option<&str>,
        object_id: Option<&str>,
        code: &str,
    ) {
        if let Err(error) = self.record(caller, operation, tenant, object_id, code) {
            tracing::error!(%error, operation, "could not audit a refused request");
        }
    }

    /// Up to `limit` audit records with a sequence number above `after`, in
    /// order; a record that no longer decodes is returned as such, for the
    /// verifier to name.
    pub fn audit_records(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<audit::StoredRecord>, KeystoreError> {
        Ok(self.store.audit_records(after, limit)?)
    }

    /// The sequence number and hash of the last durable audit record (`None`
    /// while the log is empty).
    pub fn audit_head(&self) -> Result<Option<(u64, [u8; 32])>, KeystoreError> {
        Ok(self.store.audit_head()?)
    }

    /// Verifies the audit chain against the stored checkpoints and the head this
    /// process last wrote.
    pub fn verify_audit(&self) -> Result<audit::VerifyReport, KeystoreError> {
        let checkpoints = self.store.audit_checkpoints()?;
        let (verifying_key, expected_head) = {
            let journal = self
                .store
                .journal()
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            (journal.verifying_key(), journal.head())
        };
        let verifying_key = verifying_key.ok_or(KeystoreError::Sealed)?;
        let store = Arc::clone(&self.store);
        let records = AuditPages::new(store);
        Ok(crate::journal::verify(
            records,
            &checkpoints,
            &verifying_key,
            expected_head,
        )?)
    }
}

/// Streams audit records from the store page by page.
struct AuditPages {
    store: Arc<dyn Store>,
    after: u64,
    page: std::vec::IntoIter<audit::StoredRecord>,
    done: bool,
}

impl AuditPages {
    fn new(store: Arc<dyn Store>) -> AuditPages {
        AuditPages {
            store,
            after: 0,
            page: Vec::new().into_iter(),
            done: false,
        }
    }
}

impl Iterator for AuditPages {
    type Item = Result<audit::StoredRecord, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(record) = self.page.next() {
                self.after = match &record {
                    audit::StoredRecord::Decoded(decoded) => decoded.seq,
                    audit::StoredRecord::Undecodable { seq } => *seq,
                    #[allow(unreachable_patterns)] // Other kinds may follow.
                    _ => self.after,
                };
                return Some(Ok(record));
            }
            if self.done {
                return None;
            }
            match self.store.audit_records(self.after, 5000) {
                Ok(page) => {
                    if page.is_empty() {
                        self.done = true;
                    }
                    self.page = page.into_iter();
                }
                Err(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
            }
        }
    }
}
