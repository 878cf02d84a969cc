//! Values released only once the commit that produced them is durable: the
//! type that makes "answer only after the audit record" a rule the compiler
//! keeps.

use crate::error::KeystoreError;
use crate::store::{PendingCommit, StoreError};

/// A result whose change and audit record are with the store's writer but may
/// not be durable yet. The value is released only once they are, so a caller
/// cannot answer a request before its audit record is on disk: either block on
/// [`Durable::wait`] or, from an async task, `.await` [`Durable::finish`].
#[must_use = "the value is released only once the commit is durable"]
pub struct Durable<T> {
    value: T,
    /// The commit of one change or read (no allocation on the hot paths).
    commit: Option<PendingCommit>,
    /// Further commits, when an answer was built from several ([`Awaiting`]).
    more: Vec<PendingCommit>,
    map_error: fn(StoreError) -> KeystoreError,
}

impl<T> Durable<T> {
    /// `value`, released once `commit` is durable.
    pub(crate) fn new(value: T, commit: PendingCommit) -> Durable<T> {
        Durable::new_mapped(value, commit, KeystoreError::from)
    }

    /// [`Durable::new`] whose commit's failure is answered as `map_error`
    /// says (a name clash found by the writer, say).
    pub(crate) fn new_mapped(
        value: T,
        commit: PendingCommit,
        map_error: fn(StoreError) -> KeystoreError,
    ) -> Durable<T> {
        Durable {
            value,
            commit: Some(commit),
            more: Vec::new(),
            map_error,
        }
    }

    fn commits(&mut self) -> impl Iterator<Item = PendingCommit> + use<T> {
        self.commit
            .take()
            .into_iter()
            .chain(std::mem::take(&mut self.more))
    }

    /// Transforms the value that will be released.
    pub fn map<U>(self, transform: impl FnOnce(T) -> U) -> Durable<U> {
        Durable {
            value: transform(self.value),
            commit: self.commit,
            more: self.more,
            map_error: self.map_error,
        }
    }

    /// Blocks this thread until the commit is durable, then releases the value.
    pub fn wait(mut self) -> Result<T, KeystoreError> {
        for commit in self.commits() {
            commit.wait().map_err(self.map_error)?;
        }
        Ok(self.value)
    }

    /// Waits without holding a thread until the commit is durable, then releases
    /// the value.
    pub async fn finish(mut self) -> Result<T, KeystoreError> {
        for commit in self.commits() {
            commit.await.map_err(self.map_error)?;
        }
        Ok(self.value)
    }
}

/// The commits one request's answer waits for, when the answer is built from
/// several audited reads (a KMIP message of several batch items) and sent from
/// an async task. [`Awaiting::take`] hands a read's value over before its
/// record is durable, so that the answer can be built; the answer itself then
/// goes out only through [`Awaiting::release`], a [`Durable`] that waits for
/// every commit taken. Whoever takes a value must send nothing built from it
/// any other way.
#[derive(Default)]
#[must_use = "an answer built from taken values is released only through `release`"]
pub struct Awaiting {
    commits: Vec<PendingCommit>,
}

impl Awaiting {
    /// The value of `durable` now; its commit joins those the answer waits for.
    pub fn take<T>(&mut self, mut durable: Durable<T>) -> T {
        self.commits.extend(durable.commits());
        durable.value
    }

    /// The answer, released once every commit taken is durable.
    pub fn release<T>(self, answer: T) -> Durable<T> {
        Durable {
            value: answer,
            commit: None,
            more: self.commits,
            map_error: KeystoreError::from,
        }
    }
}
