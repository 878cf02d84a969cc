//! What other servers sharing the database changed, as counters: the key
//! manager keeps the root key, the tenant keys and the server keeps the deny
//! list and the CA in memory, and each compares a counter before it trusts
//! its copy.
//!
//! A backend bumps a counter when it learns of a change it did not make: the
//! PostgreSQL backend from the database's notifications (`LISTEN`), and from
//! its own writer when a commit finds the tenant keys changed. When it loses
//! the notifications (the listening connection dropped), it bumps them all,
//! since anything may have changed meanwhile, and again once it listens
//! again. The embedded SQLite backend has no other writer and never bumps.

use tokio::sync::watch;

/// The change counters, each bumped when what it names changed in the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Generations {
    /// The sealed root, its epoch or the audit key (a root rotation, an
    /// initialization).
    pub root: u64,
    /// The tenant keys (a tenant's first key, a rotation).
    pub tenant_keys: u64,
    /// The node inventory (joins, decommissions, labels).
    pub nodes: u64,
    /// The built-in CA (a rotation, the first server storing it).
    pub ca: u64,
    /// This server was unsealed or sealed (never announced to the others:
    /// each server is unsealed on its own).
    pub seal: u64,
}

/// One kind of change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// See [`Generations::root`].
    Root,
    /// See [`Generations::tenant_keys`].
    TenantKeys,
    /// See [`Generations::nodes`].
    Nodes,
    /// See [`Generations::ca`].
    Ca,
    /// See [`Generations::seal`].
    Seal,
}

impl Change {
    /// Every kind another server can make.
    pub(crate) const SHARED: [Change; 4] =
        [Change::Root, Change::TenantKeys, Change::Nodes, Change::Ca];

    /// The name carried in a notification.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Change::Root => "root",
            Change::TenantKeys => "tenant_keys",
            Change::Nodes => "nodes",
            Change::Ca => "ca",
            Change::Seal => "seal",
        }
    }

    /// The kind a notification names.
    pub(crate) fn parse(text: &str) -> Option<Change> {
        Change::SHARED
            .into_iter()
            .find(|change| change.as_str() == text)
    }
}

/// The counters, watched by whoever keeps a copy.
#[derive(Debug)]
pub(crate) struct Changes {
    generations: watch::Sender<Generations>,
}

impl Default for Changes {
    fn default() -> Changes {
        Changes {
            generations: watch::Sender::new(Generations::default()),
        }
    }
}

impl Changes {
    /// The counters now.
    pub(crate) fn current(&self) -> Generations {
        *self.generations.borrow()
    }

    /// Bumps the counters of `changes` and wakes the watchers.
    pub(crate) fn bump(&self, changes: &[Change]) {
        if changes.is_empty() {
            return;
        }
        self.generations.send_modify(|generations| {
            for change in changes {
                let counter = match change {
                    Change::Root => &mut generations.root,
                    Change::TenantKeys => &mut generations.tenant_keys,
                    Change::Nodes => &mut generations.nodes,
                    Change::Ca => &mut generations.ca,
                    Change::Seal => &mut generations.seal,
                };
                *counter = counter.wrapping_add(1);
            }
        });
    }

    /// A receiver woken at every bump.
    pub(crate) fn watch(&self) -> watch::Receiver<Generations> {
        self.generations.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bump_moves_only_its_counters_and_wakes_watchers() {
        let changes = Changes::default();
        let mut watcher = changes.watch();
        changes.bump(&[Change::Nodes, Change::Ca]);
        assert!(watcher.has_changed().unwrap());
        let now = *watcher.borrow_and_update();
        assert_eq!(
            now,
            Generations {
                root: 0,
                tenant_keys: 0,
                nodes: 1,
                ca: 1,
                seal: 0
            }
        );
        changes.bump(&[]);
        assert!(!watcher.has_changed().unwrap());
    }

    #[test]
    fn names_round_trip() {
        for change in Change::SHARED {
            assert_eq!(Change::parse(change.as_str()), Some(change));
        }
        assert_eq!(Change::parse("everything"), None);
    }
}
