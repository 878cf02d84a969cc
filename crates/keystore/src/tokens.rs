//! API tokens as the key manager keeps them: only the SHA-256 digest of each
//! secret, with its role, tenants and life span; every change committed with
//! its audit record. Making the secret and checking a presented one are the
//! server's work (it knows the bearer scheme); this module stores and looks up.

use crate::caller::{Caller, event};
use crate::error::KeystoreError;
use crate::model::TokenRow;
use crate::service::Keystore;
use crate::store::Write;

impl Keystore {
    /// Stores a token (new, or changed as by a revocation) together with the
    /// audit record of `operation`.
    pub fn put_token(
        &self,
        caller: &Caller,
        operation: &str,
        token: TokenRow,
    ) -> Result<(), KeystoreError> {
        let audit_event = event(caller, operation, None, Some(&token.id));
        self.store
            .commit(vec![Write::PutToken(token)], audit_event)?;
        Ok(())
    }

    /// The token whose secret has the SHA-256 digest `digest` (hex). The
    /// caller compares the digests again in constant time.
    pub fn token_by_digest(&self, digest: &str) -> Result<Option<TokenRow>, KeystoreError> {
        Ok(self.store.get_token_by_digest(digest)?)
    }

    /// The token with the public id `id`.
    pub fn token_by_id(&self, id: &str) -> Result<Option<TokenRow>, KeystoreError> {
        Ok(self.store.get_token_by_id(id)?)
    }

    /// Every token, by id.
    pub fn tokens(&self) -> Result<Vec<TokenRow>, KeystoreError> {
        Ok(self.store.list_tokens()?)
    }
}
