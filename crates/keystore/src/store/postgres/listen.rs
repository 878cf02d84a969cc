//! Listens for what other servers changed (`LISTEN cryptainer_changes`) and
//! bumps the matching counters, so each server reloads its copy of the root,
//! the tenant keys, the deny list or the CA.
//!
//! A notification is only a hint that arrives after the change is durable;
//! every decision that must not use a stale copy checks the store as well
//! (see `store::changes`). When the listening connection is lost, every
//! counter is bumped (a notification may have been missed), and again once
//! it listens again.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use tokio_postgres::AsyncMessage;

use super::pool::Connector;
use super::writer::CHANNEL;
use crate::store::{Change, Changes};

/// How long to wait before listening again after the connection was lost.
const RECONNECT_DELAY: Duration = Duration::from_millis(500);

/// Listens until the runtime stops.
pub(super) async fn listen_loop(
    connector: Arc<Connector>,
    changes: Arc<Changes>,
    instance: String,
) {
    loop {
        match connector.connect_raw().await {
            Ok((client, mut connection)) => {
                let (sender, mut payloads) = tokio::sync::mpsc::unbounded_channel::<String>();
                let driver = tokio::spawn(async move {
                    let mut messages = futures_util::stream::poll_fn(move |context| {
                        connection.poll_message(context)
                    });
                    while let Some(message) = messages.next().await {
                        match message {
                            Ok(AsyncMessage::Notification(notification)) => {
                                if sender.send(notification.payload().to_owned()).is_err() {
                                    break;
                                }
                            }
                            Ok(_) => {}
                            Err(error) => {
                                tracing::warn!(%error, "lost the database notifications");
                                break;
                            }
                        }
                    }
                });
                match client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
                    Ok(()) => {
                        // Anything may have changed while nobody listened.
                        changes.bump(&Change::SHARED);
                        while let Some(payload) = payloads.recv().await {
                            handle(&changes, &instance, &payload);
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot listen for database notifications")
                    }
                }
                driver.abort();
                changes.bump(&Change::SHARED);
            }
            Err(error) => tracing::debug!(%error, "cannot reach the database to listen"),
        }
        tokio::time::sleep(RECONNECT_DELAY).await;
    }
}

/// Bumps the counters a notification names, unless this server sent it.
fn handle(changes: &Changes, instance: &str, payload: &str) {
    let (sender, kinds) = payload.split_once(' ').unwrap_or((payload, ""));
    if sender == instance {
        return;
    }
    let kinds: Vec<Change> = kinds.split(',').filter_map(Change::parse).collect();
    changes.bump(&kinds);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_bumps_what_it_names_unless_it_is_our_own() {
        let changes = Changes::default();
        handle(&changes, "me", "me nodes");
        assert_eq!(changes.current().nodes, 0);
        handle(&changes, "me", "other nodes,ca,unknown");
        let now = changes.current();
        assert_eq!((now.nodes, now.ca, now.root), (1, 1, 0));
        handle(&changes, "me", "garbage");
        assert_eq!(changes.current(), now);
    }
}
