//! The server's side of an automatic seal: the configured device seals, the
//! task that unseals at start (retrying with backoff while the device cannot
//! be reached, never retrying a refusal such as a wrong PIN), and the task that
//! checks, while unsealed, that the device still answers. The root stays in
//! locked memory when the device vanishes, so the server keeps serving; the
//! change is logged, counted in `/metrics`, shown in `status` and audited
//! (`sys.seal_device`).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use api::sys::{AutomaticUnseal, DeviceHealth, UnsealState};
use keystore::seal::{Seal, SealError, SealKind};
use keystore::{Caller, Keystore, KeystoreError};

use crate::config::ServerConfig;
use crate::error::Error;

/// The first wait after a failed attempt to reach the device.
const FIRST_RETRY: Duration = Duration::from_secs(1);

struct State {
    /// Where the automatic unseal stands.
    phase: UnsealState,
    /// The last failure to reach or use the device, for people.
    last_error: Option<String>,
    /// Whether the device answered the last check (`None`: not checked).
    device_up: Option<bool>,
    /// Attempts to unseal with the device since start.
    attempts: u64,
    /// Times the device was found gone while unsealed.
    device_losses: u64,
    /// Time from process start to unsealed by the device.
    ready_after: Option<Duration>,
}

/// The configured automatic seals and what they are doing.
pub struct SealRuntime {
    configured_kind: Option<SealKind>,
    seal: Option<Arc<dyn Seal>>,
    previous: Option<Arc<dyn Seal>>,
    retry_max: Duration,
    check_interval: Duration,
    started_at: Instant,
    /// Whether the device check runs (it starts once and runs for good).
    watching: AtomicBool,
    /// Whether an unseal task runs (one at a time).
    unsealing: AtomicBool,
    state: Mutex<State>,
}

fn open(config: &Option<seals::SealConfig>, table: &str) -> Result<Option<Arc<dyn Seal>>, Error> {
    match config {
        None => Ok(None),
        Some(seal) => seal.open().map_err(|error| {
            Error::InvalidConfig(format!("[{table}] ({} seal): {error}", seal.kind()))
        }),
    }
}

impl SealRuntime {
    /// Reads the seals `config` names (their PINs, client keys); reaches no
    /// device yet.
    pub fn new(config: &ServerConfig) -> Result<SealRuntime, Error> {
        Ok(SealRuntime {
            configured_kind: config.seal.as_ref().map(seals::SealConfig::kind),
            seal: open(&config.seal, "seal")?,
            previous: open(&config.previous_seal, "previous_seal")?,
            retry_max: Duration::from_secs(config.seal_retry_max_secs),
            check_interval: Duration::from_secs(config.seal_check_interval_secs),
            started_at: Instant::now(),
            watching: AtomicBool::new(false),
            unsealing: AtomicBool::new(false),
            state: Mutex::new(State {
                phase: UnsealState::Idle,
                last_error: None,
                device_up: None,
                attempts: 0,
                device_losses: 0,
                ready_after: None,
            }),
        })
    }

    /// The kind `[seal]` names.
    pub fn configured_kind(&self) -> Option<SealKind> {
        self.configured_kind
    }

    /// The automatic seal of `[seal]`, if it names one.
    pub fn configured(&self) -> Option<Arc<dyn Seal>> {
        self.seal.clone()
    }

    /// The configured automatic seal of `kind` (`[seal]` or `[previous_seal]`).
    pub fn automatic_for(&self, kind: SealKind) -> Option<Arc<dyn Seal>> {
        [&self.seal, &self.previous]
            .into_iter()
            .flatten()
            .find(|seal| seal.kind() == kind)
            .cloned()
    }

    fn update(&self, change: impl FnOnce(&mut State)) {
        change(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// What `GET /v1/sys/status` adds about the automatic seal, beside a
    /// key manager status that said `unsealed`. The unseal task records its
    /// success only once the key manager has made the root current and made
    /// the unseal's audit record durable, so a status read in between would
    /// say "unsealed" and "retrying" at once: an unseal while the task still
    /// retries was the device's doing, and is shown as such.
    pub fn status(&self, unsealed: bool) -> AutomaticUnseal {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let opened_by_device = unsealed && state.phase == UnsealState::Retrying;
        let (seal_state, device_up, seal_error) = if opened_by_device {
            (UnsealState::Unsealed, Some(true), None)
        } else {
            (state.phase, state.device_up, state.last_error.clone())
        };
        AutomaticUnseal {
            seal_configured: self.configured_kind.map(|kind| kind.as_str().to_owned()),
            seal_state,
            seal_device: device_up.map(|up| {
                if up {
                    DeviceHealth::Reachable
                } else {
                    DeviceHealth::Unreachable
                }
            }),
            seal_error,
            seal_attempts: state.attempts,
        }
    }

    /// Appends the seal's Prometheus metrics to `out`.
    pub fn render_metrics(&self, out: &mut String) {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = writeln!(
            out,
            "# HELP cryptainer_seal_device_up Whether the automatic seal's device answered its last check (1), did not (0), or was not checked (-1)."
        );
        let _ = writeln!(out, "# TYPE cryptainer_seal_device_up gauge");
        let up = match state.device_up {
            Some(true) => 1,
            Some(false) => 0,
            None => -1,
        };
        let _ = writeln!(out, "cryptainer_seal_device_up {up}");
        let _ = writeln!(
            out,
            "# HELP cryptainer_seal_unseal_attempts_total Attempts to unseal with the automatic seal's device."
        );
        let _ = writeln!(out, "# TYPE cryptainer_seal_unseal_attempts_total counter");
        let _ = writeln!(
            out,
            "cryptainer_seal_unseal_attempts_total {}",
            state.attempts
        );
        let _ = writeln!(
            out,
            "# HELP cryptainer_seal_device_losses_total Times the device was found gone while unsealed."
        );
        let _ = writeln!(out, "# TYPE cryptainer_seal_device_losses_total counter");
        let _ = writeln!(
            out,
            "cryptainer_seal_device_losses_total {}",
            state.device_losses
        );
        if let Some(ready) = state.ready_after {
            let _ = writeln!(
                out,
                "# HELP cryptainer_seal_ready_seconds Time from process start to unsealed by the automatic seal."
            );
            let _ = writeln!(out, "# TYPE cryptainer_seal_ready_seconds gauge");
            let _ = writeln!(out, "cryptainer_seal_ready_seconds {}", ready.as_secs_f64());
        }
    }

    /// Starts the device check (once) and an unseal task (unless one runs):
    /// called at start, after `operator init` and after a migration.
    pub fn start(self: &Arc<Self>, keystore: &Arc<Keystore>) {
        if !self.watching.swap(true, Ordering::SeqCst) {
            let runtime = Arc::clone(self);
            let keystore = Arc::clone(keystore);
            tokio::spawn(async move { runtime.watch(&keystore).await });
        }
        if !self.unsealing.swap(true, Ordering::SeqCst) {
            let runtime = Arc::clone(self);
            let keystore = Arc::clone(keystore);
            tokio::spawn(async move {
                runtime.unseal_until_done(&keystore).await;
                runtime.unsealing.store(false, Ordering::SeqCst);
            });
        }
    }

    /// Unseals with the device the stored seal names; retries with backoff
    /// while it cannot be reached; gives up on a refusal.
    async fn unseal_until_done(&self, keystore: &Arc<Keystore>) {
        let Some(kind) = keystore.seal_kind() else {
            return;
        };
        if !kind.is_automatic() {
            // Sealed with people's material (or migrated to it): no device.
            self.update(|state| {
                state.phase = UnsealState::Idle;
                state.device_up = None;
                state.last_error = None;
            });
        }
        if keystore.is_unsealed() || !kind.is_automatic() {
            if self
                .configured_kind
                .is_some_and(|configured| configured != kind)
            {
                tracing::warn!(
                    stored = %kind,
                    configured = ?self.configured_kind.map(SealKind::as_str),
                    "the root is sealed with another kind than [seal] names; once unsealed, run `cryptainer operator seal migrate`"
                );
            }
            return;
        }
        let Some(seal) = self.automatic_for(kind) else {
            let message = format!(
                "the root is sealed with a {kind} seal but neither [seal] nor [previous_seal] configures one; add its settings and restart"
            );
            tracing::error!("{message}");
            self.update(|state| {
                state.phase = UnsealState::Refused;
                state.last_error = Some(message);
            });
            return;
        };
        let mut wait = FIRST_RETRY;
        let mut audited_unreachable = false;
        loop {
            self.update(|state| {
                state.phase = UnsealState::Retrying;
                state.attempts = state.attempts.saturating_add(1);
            });
            let attempt_keystore = Arc::clone(keystore);
            let attempt_seal: Box<dyn Seal> = Box::new(Arc::clone(&seal));
            let outcome = tokio::task::spawn_blocking(move || {
                attempt_keystore.unseal_automatic(&Caller::system(), attempt_seal)
            })
            .await;
            match outcome {
                Ok(Ok(_)) => {
                    let ready = self.started_at.elapsed();
                    tracing::info!(
                        seal = %kind,
                        ready_ms = ready.as_millis(),
                        "unsealed by the automatic seal"
                    );
                    self.update(|state| {
                        state.phase = UnsealState::Unsealed;
                        state.device_up = Some(true);
                        state.last_error = None;
                        state.ready_after = Some(ready);
                    });
                    return;
                }
                Ok(Err(KeystoreError::Seal(error @ SealError::DeviceUnavailable { .. }))) => {
                    let message = error.to_string();
                    tracing::warn!(
                        seal = %kind,
                        error = %message,
                        retry_in_secs = wait.as_secs(),
                        "the seal's device cannot be reached; staying sealed"
                    );
                    if !audited_unreachable {
                        // Once per outage, not once per attempt.
                        audited_unreachable = true;
                        self.record(keystore, "sys.unseal", "seal_unavailable")
                            .await;
                    }
                    self.update(|state| {
                        state.device_up = Some(false);
                        state.last_error = Some(message);
                    });
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(self.retry_max);
                }
                Ok(Err(error)) => {
                    tracing::error!(seal = %kind, %error, "the automatic unseal was refused; not retrying");
                    self.update(|state| {
                        state.phase = UnsealState::Refused;
                        state.last_error = Some(error.to_string());
                    });
                    return;
                }
                Err(join_error) => {
                    tracing::error!(%join_error, "the automatic unseal task failed");
                    self.update(|state| {
                        state.phase = UnsealState::Refused;
                        state.last_error =
                            Some("the automatic unseal task failed; see the log".to_owned());
                    });
                    return;
                }
            }
        }
    }

    /// Records a seal event without holding an async worker on the commit.
    async fn record(&self, keystore: &Keystore, operation: &str, result: &str) {
        let audit_id = keystore.sealed_audit_id();
        let recorded = match keystore.record_deferred(
            &Caller::system(),
            operation,
            None,
            audit_id.as_deref(),
            result,
        ) {
            Ok(durable) => durable.finish().await,
            Err(error) => Err(error),
        };
        if let Err(error) = recorded {
            tracing::error!(%error, operation, "could not audit a seal event");
        }
    }

    /// While unsealed with an automatic seal, asks its device whether it still
    /// answers; records each change.
    async fn watch(&self, keystore: &Arc<Keystore>) {
        loop {
            tokio::time::sleep(self.check_interval).await;
            self.check_once(keystore).await;
        }
    }

    /// One health check of the device of the stored seal (when unsealed).
    pub async fn check_once(&self, keystore: &Arc<Keystore>) {
        if !keystore.is_unsealed() {
            return;
        }
        let Some(seal) = keystore
            .seal_kind()
            .filter(|kind| kind.is_automatic())
            .and_then(|kind| self.automatic_for(kind))
        else {
            return;
        };
        let answered = tokio::task::spawn_blocking(move || seal.check()).await;
        let now_up = matches!(answered, Ok(Ok(())));
        let error = match &answered {
            Ok(Err(error)) => Some(error.to_string()),
            Err(join_error) => Some(join_error.to_string()),
            Ok(Ok(())) => None,
        };
        let was_up = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            let was_up = state.device_up;
            state.device_up = Some(now_up);
            if !now_up {
                state.last_error.clone_from(&error);
                if was_up != Some(false) {
                    state.device_losses = state.device_losses.saturating_add(1);
                }
            }
            was_up
        };
        if was_up == Some(now_up) {
            return;
        }
        if now_up {
            tracing::info!("the seal's device answers again");
        } else {
            tracing::error!(
                error = error.as_deref().unwrap_or(""),
                "the seal's device stopped answering; still serving (the root is in memory), but a restart would stay sealed until it is back"
            );
        }
        let result = if now_up { "ok" } else { "seal_unavailable" };
        self.record(keystore, "sys.seal_device", result).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A runtime of a server without `[seal]`, its unseal task in `phase`.
    fn runtime_in(phase: UnsealState, device_up: Option<bool>) -> SealRuntime {
        let config = ServerConfig::dev(std::path::PathBuf::from("unused"));
        let runtime = SealRuntime::new(&config).unwrap_or_else(|error| panic!("{error}"));
        runtime.update(|state| {
            state.phase = phase;
            state.device_up = device_up;
            state.last_error = Some("the token is gone".to_owned());
        });
        runtime
    }

    #[test]
    fn a_status_read_between_the_unseal_and_its_record_says_unsealed_by_the_device() {
        let runtime = runtime_in(UnsealState::Retrying, Some(false));
        let retrying = runtime.status(false);
        assert_eq!(retrying.seal_state, UnsealState::Retrying);
        assert_eq!(retrying.seal_device, Some(DeviceHealth::Unreachable));
        assert_eq!(retrying.seal_error.as_deref(), Some("the token is gone"));
        let unsealed = runtime.status(true);
        assert_eq!(unsealed.seal_state, UnsealState::Unsealed);
        assert_eq!(unsealed.seal_device, Some(DeviceHealth::Reachable));
        assert_eq!(unsealed.seal_error, None);
        // A refusal stays a refusal, whatever unsealed the server since.
        let refused = runtime_in(UnsealState::Refused, None).status(true);
        assert_eq!(refused.seal_state, UnsealState::Refused);
        assert_eq!(refused.seal_device, None);
    }
}
