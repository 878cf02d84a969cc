//! A commit that was handed to the store's writer and has not been answered yet.
//!
//! The writer thread answers each commit once its transaction is durable. The
//! caller may wait for that answer on its own thread ([`PendingCommit::wait`]) or
//! await it from an async task without holding a thread ([`PendingCommit`] is a
//! `Future`). The second form is what lets the server answer a key read with two
//! thread wake-ups instead of four: the request runs on its async worker, and
//! only the writer thread is woken per group of commits.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use super::StoreError;

type Outcome = Result<audit::AuditRecord, StoreError>;

#[derive(Default)]
struct Slot {
    state: Mutex<SlotState>,
    filled: Condvar,
}

#[derive(Default)]
struct SlotState {
    outcome: Option<Outcome>,
    /// The answer side was dropped without answering (the writer stopped).
    abandoned: bool,
    waker: Option<Waker>,
}

/// The writer's side: answers one commit exactly once.
pub struct CommitReply {
    slot: Arc<Slot>,
    answered: bool,
}

/// The caller's side of a commit handed to the writer. Resolves to the audit
/// record once the commit is durable, or to the error that stopped it.
#[must_use = "a commit is durable only once its answer has been received"]
pub struct PendingCommit {
    slot: Arc<Slot>,
}

/// A linked reply and pending commit.
pub fn channel() -> (CommitReply, PendingCommit) {
    let slot = Arc::new(Slot::default());
    (
        CommitReply {
            slot: Arc::clone(&slot),
            answered: false,
        },
        PendingCommit { slot },
    )
}

impl CommitReply {
    /// Delivers the outcome and wakes whoever waits for it.
    pub fn send(mut self, outcome: Outcome) {
        self.answered = true;
        self.slot.deliver(Some(outcome));
    }
}

impl Drop for CommitReply {
    fn drop(&mut self) {
        if !self.answered {
            self.slot.deliver(None);
        }
    }
}

impl Slot {
    fn deliver(&self, outcome: Option<Outcome>) {
        let waker = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            match outcome {
                Some(outcome) => state.outcome = Some(outcome),
                None => state.abandoned = true,
            }
            state.waker.take()
        };
        self.filled.notify_all();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl PendingCommit {
    /// Blocks this thread until the commit is answered.
    pub fn wait(self) -> Outcome {
        let mut state = self
            .slot
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(outcome) = state.outcome.take() {
                return outcome;
            }
            if state.abandoned {
                return Err(StoreError::WriterStopped);
            }
            state = self
                .slot
                .filled
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Future for PendingCommit {
    type Output = Outcome;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Outcome> {
        let mut state = self
            .slot
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(outcome) = state.outcome.take() {
            return Poll::Ready(outcome);
        }
        if state.abandoned {
            return Poll::Ready(Err(StoreError::WriterStopped));
        }
        match &mut state.waker {
            Some(waker) => waker.clone_from(context.waker()),
            None => state.waker = Some(context.waker().clone()),
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_returns_what_another_thread_sends() {
        let (reply, pending) = channel();
        let sender = std::thread::spawn(move || reply.send(Err(StoreError::WriterStopped)));
        assert!(matches!(pending.wait(), Err(StoreError::WriterStopped)));
        sender.join().unwrap();
    }

    #[test]
    fn a_dropped_reply_answers_writer_stopped() {
        let (reply, pending) = channel();
        drop(reply);
        assert!(matches!(pending.wait(), Err(StoreError::WriterStopped)));
    }

    #[test]
    fn the_future_wakes_when_the_reply_arrives() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (reply, pending) = channel();
        let sender = std::thread::spawn(move || {
            std::thread::yield_now();
            reply.send(Err(StoreError::WriterStopped));
        });
        let outcome = runtime.block_on(pending);
        assert!(matches!(outcome, Err(StoreError::WriterStopped)));
        sender.join().unwrap();
    }
}
