//! Live updates: which views of the fleet changed, as server-sent events.
//!
//! Handlers say what a request changed ([`topics_of`] maps each operation to
//! the views it affects; the fleet model adds changes of what runs on the
//! nodes). The [`Hub`] gathers them and, at most twice a second, numbers
//! one change (`id: <epoch>.<seq>`, data `{"topics":[...]}`) and sends it to
//! every stream; it keeps the last [`HISTORY`] changes. A browser that
//! reconnects sends `Last-Event-ID`: the stream replays the topics missed
//! since, or sends `reset` (a full refresh) when it cannot (another server
//! process, an id older than the history). The events carry view names
//! only, never fleet data: the page reads the views again through the API,
//! authorized as always.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use tokio::sync::broadcast;

/// How many changes are kept for replay.
pub(crate) const HISTORY: usize = 1024;

/// How often pending changes are sent (they are gathered in between, so a
/// burst of requests is one event).
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(500);

/// How often the views whose content ages (liveness, expiries) are told to
/// refresh without any request.
pub const CLOCK_INTERVAL: Duration = Duration::from_secs(30);

/// How long a browser waits before reconnecting a dropped stream.
const RETRY: Duration = Duration::from_secs(2);

/// A set of views, one bit each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Topics(u8);

impl Topics {
    /// The overview.
    pub const OVERVIEW: Topics = Topics(1);
    /// Nodes.
    pub const NODES: Topics = Topics(1 << 1);
    /// Volumes.
    pub const VOLUMES: Topics = Topics(1 << 2);
    /// Keys and secrets.
    pub const OBJECTS: Topics = Topics(1 << 3);
    /// Workloads.
    pub const WORKLOADS: Topics = Topics(1 << 4);
    /// Policies.
    pub const POLICIES: Topics = Topics(1 << 5);
    /// The audit log.
    pub const AUDIT: Topics = Topics(1 << 6);
    /// No view.
    pub const NONE: Topics = Topics(0);

    const NAMES: [(Topics, &'static str); 7] = [
        (Topics::OVERVIEW, "overview"),
        (Topics::NODES, "nodes"),
        (Topics::VOLUMES, "volumes"),
        (Topics::OBJECTS, "objects"),
        (Topics::WORKLOADS, "workloads"),
        (Topics::POLICIES, "policies"),
        (Topics::AUDIT, "audit"),
    ];

    /// Both sets.
    #[must_use]
    pub const fn and(self, other: Topics) -> Topics {
        Topics(self.0 | other.0)
    }

    /// Whether no view is in the set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The views' names.
    pub fn names(self) -> Vec<String> {
        Topics::NAMES
            .iter()
            .filter(|(topic, _)| self.0 & topic.0 != 0)
            .map(|(_, name)| (*name).to_owned())
            .collect()
    }
}

/// The views a successful or refused `operation` may change. Reads change
/// nothing; liveness reports and lease renewals change what the fleet model
/// says they change (it publishes those itself).
pub fn topics_of(operation: &str) -> Topics {
    let fleet = Topics::OVERVIEW.and(Topics::AUDIT);
    let (group, verb) = operation.split_once('.').unwrap_or((operation, ""));
    let reads = [
        "list",
        "show",
        "check",
        "verify",
        "overview",
        "nodes",
        "volumes",
        "objects",
        "workloads",
        "policies",
        "audit",
        "events",
        "session",
        "self",
        "status",
    ];
    let unchanged = ["node.heartbeat", "volume.renew", "key.read_material"];
    if reads.contains(&verb) || unchanged.contains(&operation) {
        return Topics::NONE;
    }
    match group {
        "node" => fleet
            .and(Topics::NODES)
            .and(Topics::VOLUMES)
            .and(Topics::WORKLOADS),
        "volume" => fleet
            .and(Topics::VOLUMES)
            .and(Topics::NODES)
            .and(Topics::OBJECTS)
            .and(Topics::WORKLOADS),
        "secret" => fleet
            .and(Topics::OBJECTS)
            .and(Topics::NODES)
            .and(Topics::WORKLOADS),
        "policy" => fleet
            .and(Topics::POLICIES)
            .and(Topics::WORKLOADS)
            .and(Topics::NODES),
        "key" | "kmip" | "tenant" => fleet.and(Topics::OBJECTS),
        "sys" | "ca" => fleet.and(Topics::NODES),
        _ => Topics::AUDIT,
    }
}

/// One numbered change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Change {
    seq: u64,
    topics: Topics,
}

#[derive(Debug, Default)]
struct HubState {
    seq: u64,
    pending: Topics,
    history: VecDeque<Change>,
}

/// Gathers changes and sends them to the event streams.
pub struct Hub {
    /// Random per process: an id of another process's stream cannot be
    /// replayed.
    epoch: String,
    state: Mutex<HubState>,
    sender: broadcast::Sender<Change>,
}

impl Default for Hub {
    fn default() -> Hub {
        let mut bytes = [0_u8; 6];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        let (sender, _) = broadcast::channel(256);
        Hub {
            epoch: hex::encode(bytes),
            state: Mutex::new(HubState::default()),
            sender,
        }
    }
}

/// What a reconnecting stream is sent first.
#[derive(Debug, PartialEq, Eq)]
enum Resume {
    /// Nothing missed: a `hello` with the current id.
    Current(u64),
    /// The topics missed, and the current id.
    Replay(u64, Topics),
    /// The missed changes are unknown: refresh everything.
    Reset(u64),
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks `topics` as changed; they go out at the next flush.
    pub fn publish(&self, topics: Topics) {
        if !topics.is_empty() {
            let mut state = self.lock();
            state.pending = state.pending.and(topics);
        }
    }

    /// Numbers and sends the pending changes, if any.
    pub fn flush(&self) {
        let change = {
            let mut state = self.lock();
            if state.pending.is_empty() {
                return;
            }
            state.seq = state.seq.saturating_add(1);
            let change = Change {
                seq: state.seq,
                topics: std::mem::take(&mut state.pending),
            };
            state.history.push_back(change);
            while state.history.len() > HISTORY {
                state.history.pop_front();
            }
            change
        };
        // No stream listening is no error.
        let _ = self.sender.send(change);
    }

    /// The id of change `seq` of this process.
    fn event_id(&self, seq: u64) -> String {
        format!("{}.{seq}", self.epoch)
    }

    /// What a stream that last saw `last_event_id` is sent first.
    fn resume(&self, last_event_id: Option<&str>) -> Resume {
        let state = self.lock();
        let current = state.seq;
        let Some(last) = last_event_id else {
            return Resume::Current(current);
        };
        let seq = last
            .split_once('.')
            .filter(|(epoch, _)| *epoch == self.epoch)
            .and_then(|(_, seq)| seq.parse::<u64>().ok());
        let Some(seq) = seq.filter(|seq| *seq <= current) else {
            return Resume::Reset(current);
        };
        if seq == current {
            return Resume::Current(current);
        }
        // The history must hold every change after `seq`.
        let oldest = state.history.front().map_or(current, |change| change.seq);
        if seq.saturating_add(1) < oldest {
            return Resume::Reset(current);
        }
        let missed = state
            .history
            .iter()
            .filter(|change| change.seq > seq)
            .fold(Topics::NONE, |topics, change| topics.and(change.topics));
        Resume::Replay(current, missed)
    }

    /// The event stream of one browser: first what it missed since
    /// `last_event_id`, then every change, for `lifetime` (then the browser
    /// reconnects, which re-authenticates it).
    pub(crate) fn stream(
        self: std::sync::Arc<Self>,
        last_event_id: Option<String>,
        lifetime: Duration,
    ) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
        // Subscribed before the history is read: a change between the two
        // is sent twice rather than lost.
        let receiver = self.sender.subscribe();
        // Every field of an event is set once (axum's `Event` refuses a
        // second `data`).
        let first = match self.resume(last_event_id.as_deref()) {
            Resume::Current(seq) => Event::default()
                .event("hello")
                .id(self.event_id(seq))
                .retry(RETRY)
                .data("{}"),
            Resume::Replay(seq, topics) => change_event(&self.event_id(seq), topics).retry(RETRY),
            Resume::Reset(seq) => Event::default()
                .event("reset")
                .id(self.event_id(seq))
                .retry(RETRY)
                .data("{}"),
        };
        let deadline = tokio::time::Instant::now() + lifetime;
        let state = (Some(first), receiver, self);
        let stream =
            futures_util::stream::unfold(state, move |(first, mut receiver, hub)| async move {
                if let Some(first) = first {
                    return Some((Ok(first), (None, receiver, hub)));
                }
                let event = match tokio::time::timeout_at(deadline, receiver.recv()).await {
                    Err(_) | Ok(Err(broadcast::error::RecvError::Closed)) => return None,
                    Ok(Ok(change)) => change_event(&hub.event_id(change.seq), change.topics),
                    Ok(Err(broadcast::error::RecvError::Lagged(_))) => {
                        let current = hub.lock().seq;
                        Event::default()
                            .event("reset")
                            .id(hub.event_id(current))
                            .data("{}")
                    }
                };
                Some((Ok(event), (None, receiver, hub)))
            });
        Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
    }
}

/// A `change` event naming `topics`.
fn change_event(id: &str, topics: Topics) -> Event {
    let body = api::fleet::FleetChange {
        topics: topics.names(),
    };
    Event::default()
        .event("change")
        .id(id)
        .data(serde_json::to_string(&body).unwrap_or_else(|_| "{}".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_between_flushes_go_out_as_one() {
        let hub = Hub::default();
        hub.publish(Topics::NODES);
        hub.publish(Topics::VOLUMES);
        hub.flush();
        hub.flush();
        let state = hub.lock();
        assert_eq!(state.seq, 1);
        assert_eq!(
            state.history.back().map(|change| change.topics.names()),
            Some(vec!["nodes".to_owned(), "volumes".to_owned()])
        );
    }

    #[test]
    fn a_reconnecting_stream_gets_what_it_missed_or_a_reset() {
        let hub = Hub::default();
        assert_eq!(hub.resume(None), Resume::Current(0));
        hub.publish(Topics::NODES);
        hub.flush();
        let seen = hub.event_id(1);
        hub.publish(Topics::VOLUMES);
        hub.flush();
        hub.publish(Topics::AUDIT);
        hub.flush();
        assert_eq!(
            hub.resume(Some(&seen)),
            Resume::Replay(3, Topics::VOLUMES.and(Topics::AUDIT))
        );
        assert_eq!(hub.resume(Some(&hub.event_id(3))), Resume::Current(3));
        // Another process, an id from the future, garbage: refresh all.
        assert_eq!(hub.resume(Some("ffff.1")), Resume::Reset(3));
        assert_eq!(hub.resume(Some(&hub.event_id(9))), Resume::Reset(3));
        assert_eq!(hub.resume(Some("nonsense")), Resume::Reset(3));
    }

    #[test]
    fn a_stream_too_far_behind_the_history_is_reset() {
        let hub = Hub::default();
        hub.publish(Topics::NODES);
        hub.flush();
        let seen = hub.event_id(1);
        for _ in 0..HISTORY + 1 {
            hub.publish(Topics::VOLUMES);
            hub.flush();
        }
        let current = u64::try_from(HISTORY).unwrap() + 2;
        assert_eq!(hub.resume(Some(&seen)), Resume::Reset(current));
        let recent = hub.event_id(current - 1);
        assert_eq!(
            hub.resume(Some(&recent)),
            Resume::Replay(current, Topics::VOLUMES)
        );
    }

    /// Regression: a reconnecting stream that had missed changes made the
    /// handler panic (its first event's data was set twice).
    #[test]
    fn a_stream_starts_whatever_its_last_event_id_says() {
        // The stream's keep-alive timer needs a runtime with a clock.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let _inside = runtime.enter();
        let hub = std::sync::Arc::new(Hub::default());
        hub.publish(Topics::NODES);
        hub.flush();
        let seen = hub.event_id(1);
        hub.publish(Topics::VOLUMES);
        hub.flush();
        for last in [
            None,
            Some(seen),
            Some(hub.event_id(2)),
            Some("x".to_owned()),
        ] {
            let _stream = std::sync::Arc::clone(&hub).stream(last, Duration::from_secs(1));
        }
    }

    #[test]
    fn reads_change_no_view_and_changes_name_theirs() {
        for read in [
            "key.list",
            "volume.show",
            "policy.check",
            "audit.verify",
            "fleet.nodes",
            "node.heartbeat",
            "volume.renew",
            "key.read_material",
        ] {
            assert_eq!(topics_of(read), Topics::NONE, "{read}");
        }
        assert!(
            topics_of("node.decommission")
                .names()
                .contains(&"nodes".to_owned())
        );
        assert!(
            topics_of("volume.acquire")
                .names()
                .contains(&"volumes".to_owned())
        );
        assert!(
            topics_of("secret.rotate")
                .names()
                .contains(&"objects".to_owned())
        );
        assert!(
            topics_of("policy.create")
                .names()
                .contains(&"policies".to_owned())
        );
    }
}
