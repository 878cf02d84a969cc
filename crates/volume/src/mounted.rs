//! A mounted volume, whichever engine serves it: unmounting it, fencing it,
//! and finding the mounted volumes again after the control process
//! restarted ([`Mounted::recover`]).

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use rustix::process::{Pid, PidfdFlags, Signal};

use crate::VolumeError;
use crate::engine::FUSE_DIR;
use crate::kernel;
use crate::mount;
use crate::state::{EngineState, KernelState, UserState};
use crate::volume::{EngineConfig, EngineKind, Volume, VolumeStore};

/// How long an engine may take to stop once told to.
const STOP_DEADLINE: Duration = Duration::from_secs(60);
/// How long a fenced engine may take to stop before it is killed: fencing
/// waits for nobody, so only the teardown itself counts.
const FENCE_DEADLINE: Duration = Duration::from_secs(10);

/// A volume served by an engine and mounted at [`target`](Mounted::target).
/// Dropping it leaves the volume mounted: only [`unmount`](Mounted::unmount)
/// and [`fence`](Mounted::fence) stop it, and [`recover`](Mounted::recover)
/// finds it again.
pub struct Mounted {
    volume: Volume,
    state_dir: PathBuf,
    serving: Serving,
}

/// What serves the volume.
enum Serving {
    /// An engine process.
    User {
        state: UserState,
        pidfd: OwnedFd,
        /// Our child, when this process started it (reaped when it exits).
        child: Option<Child>,
    },
    /// dm-crypt; no process of ours.
    Kernel { state: KernelState },
}

impl std::fmt::Debug for Mounted {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.serving {
            Serving::User { state, .. } => EngineState::User(state.clone()),
            Serving::Kernel { state } => EngineState::Kernel(state.clone()),
        };
        formatter
            .debug_struct("Mounted")
            .field("volume", &self.volume)
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

/// [`Mounted::unmount`] failed; the volume is still mounted.
#[derive(Debug, thiserror::Error)]
#[error("the volume is still mounted")]
pub struct StillMounted {
    /// The volume, still mounted.
    pub mounted: Box<Mounted>,
    /// Why it could not be unmounted.
    #[source]
    pub error: VolumeError,
}

impl Mounted {
    /// A volume an engine process of ours serves.
    pub(crate) fn user(
        volume: Volume,
        state: UserState,
        state_dir: PathBuf,
        child: Option<Child>,
    ) -> Result<Mounted, VolumeError> {
        let pidfd = open_pidfd(state.pid)?;
        Ok(Mounted {
            volume,
            state_dir,
            serving: Serving::User {
                state,
                pidfd,
                child,
            },
        })
    }

    /// A volume dm-crypt serves.
    pub(crate) fn kernel(volume: Volume, state: KernelState, state_dir: PathBuf) -> Mounted {
        Mounted {
            volume,
            state_dir,
            serving: Serving::Kernel { state },
        }
    }

    /// The volume's name.
    pub fn name(&self) -> &str {
        self.volume.name()
    }

    /// Where the decrypted filesystem is mounted.
    pub fn target(&self) -> &Path {
        match &self.serving {
            Serving::User { state, .. } => &state.target,
            Serving::Kernel { state } => &state.target,
        }
    }

    /// Which engine serves it.
    pub fn engine(&self) -> EngineKind {
        match &self.serving {
            Serving::User { .. } => EngineKind::User,
            Serving::Kernel { .. } => EngineKind::Kernel,
        }
    }

    /// The block device the filesystem is mounted from: the loop device on
    /// the FUSE block file (user engine) or the dm-crypt device (kernel).
    pub fn device(&self) -> &Path {
        match &self.serving {
            Serving::User { state, .. } => &state.loop_device,
            Serving::Kernel { state } => &state.device,
        }
    }

    /// The loop device: on the FUSE block file (user engine), or on the
    /// image under dm-crypt (kernel engine).
    pub fn loop_device(&self) -> &Path {
        match &self.serving {
            Serving::User { state, .. } => &state.loop_device,
            Serving::Kernel { state } => &state.loop_device,
        }
    }

    /// The engine process's id (the user engine's; the kernel engine has
    /// none).
    pub fn engine_pid(&self) -> Option<u32> {
        match &self.serving {
            Serving::User { state, .. } => Some(state.pid),
            Serving::Kernel { .. } => None,
        }
    }

    /// The dm-crypt device's name (kernel engine).
    pub fn dm_name(&self) -> Option<&str> {
        match &self.serving {
            Serving::User { .. } => None,
            Serving::Kernel { state } => Some(&state.dm_name),
        }
    }

    /// Whether the loop device runs with direct I/O on its backing file.
    pub fn direct_io(&self) -> bool {
        match &self.serving {
            Serving::User { state, .. } => state.direct_io,
            Serving::Kernel { state } => state.direct_io,
        }
    }

    /// The volume's state directory.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// Unmounts the filesystem (refusing if it is busy), then stops what
    /// serves it: the engine process detaches the loop device, ends the FUSE
    /// session, wipes the key and exits (waited for); the kernel engine's
    /// dm-crypt device is removed with its key, and its loop device clears
    /// itself.
    pub fn unmount(self) -> Result<Volume, StillMounted> {
        if let Err(error) = mount::unmount(self.target()) {
            return Err(StillMounted {
                mounted: Box::new(self),
                error,
            });
        }
        match &self.serving {
            Serving::User { pidfd, .. } => {
                if let Err(error) = rustix::process::pidfd_send_signal(pidfd, Signal::TERM) {
                    // ESRCH: the engine is gone already.
                    if error != rustix::io::Errno::SRCH {
                        return Err(StillMounted {
                            mounted: Box::new(self),
                            error: VolumeError::sys("pidfd_send_signal", error),
                        });
                    }
                }
                let stopped = self.engine_exited(STOP_DEADLINE)?;
                Ok(stopped.reap())
            }
            Serving::Kernel { state } => {
                if let Err(error) = kernel::deactivate(state) {
                    return Err(StillMounted {
                        mounted: Box::new(self),
                        error,
                    });
                }
                remove_state_dir(&self.state_dir);
                Ok(self.volume)
            }
        }
    }

    /// Stops serving the volume at once, even while containers use it (they
    /// get I/O errors from then on): for a node that can no longer keep the
    /// volume's lease, so that another node may take it without two
    /// writers. Detaches the filesystem here; then the user engine is told
    /// to fence (SIGUSR1: it aborts its FUSE connection, detaches the loop
    /// device and exits, wiping the key) and killed if it has not exited
    /// within `FENCE_DEADLINE` (10 s) (closing its FUSE device aborts the
    /// connection as well); the kernel engine's dm-crypt device is
    /// suspended, its key wiped in the kernel, its table replaced by an
    /// error target and the device removed once unused. Whatever the engine
    /// left is removed. Fails only if an engine process cannot be stopped.
    pub fn fence(self) -> Result<Volume, StillMounted> {
        let _ = mount::unmount_lazy(self.target());
        match &self.serving {
            Serving::User { pidfd, .. } => {
                // ESRCH: the engine is gone already; the wait returns at once.
                let _ = rustix::process::pidfd_send_signal(pidfd, Signal::USR1);
                let stopped = match self.engine_exited(FENCE_DEADLINE) {
                    Ok(stopped) => stopped,
                    Err(still) => {
                        let mounted = *still.mounted;
                        tracing::warn!(volume = %mounted.name(), "the engine did not stop when fenced; killing it");
                        if let Serving::User { pidfd, .. } = &mounted.serving {
                            let _ = rustix::process::pidfd_send_signal(pidfd, Signal::KILL);
                        }
                        mounted.engine_exited(FENCE_DEADLINE)?
                    }
                };
                if let Serving::User { state, .. } = &stopped.serving {
                    let _ = mount::abort_fuse(&state.fuse_dir);
                }
                remove_state_dir(&stopped.state_dir.clone());
                Ok(stopped.reap())
            }
            Serving::Kernel { state } => {
                kernel::fence(state);
                remove_state_dir(&self.state_dir);
                Ok(self.volume)
            }
        }
    }

    /// Finds the volumes still mounted under `engine.state_root` (after a
    /// restart of the control process), and cleans up after those whose
    /// engine is gone: an engine process that died (its mount, FUSE mount
    /// and state directory), a dm-crypt device that no longer exists, or a
    /// kernel-engine set-up the control process did not finish (fenced:
    /// key wiped, removed).
    pub fn recover(
        store: &VolumeStore,
        engine: &EngineConfig,
    ) -> Result<Vec<Mounted>, VolumeError> {
        let entries = match std::fs::read_dir(&engine.state_root) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(VolumeError::io("listing", &engine.state_root, source)),
        };
        let mut mounted = Vec::new();
        for entry in entries.filter_map(Result::ok) {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let Ok(volume) = store.get(&name) else {
                continue;
            };
            let state_dir = entry.path();
            match EngineState::read(&state_dir)? {
                Some(EngineState::User(state)) => match engine_pidfd(&state, &state_dir) {
                    Some(pidfd) => mounted.push(Mounted {
                        volume,
                        state_dir,
                        serving: Serving::User {
                            state,
                            pidfd,
                            child: None,
                        },
                    }),
                    None => {
                        tracing::warn!(volume = %name, "cleaning up after an engine that is gone");
                        clean_up_dead(Some(&state), &state_dir);
                    }
                },
                Some(EngineState::Kernel(state)) => {
                    if kernel::is_live(&state) {
                        mounted.push(Mounted::kernel(volume, state, state_dir));
                    } else {
                        tracing::warn!(volume = %name, device = %state.dm_name, ready = state.ready, "cleaning up a kernel-engine volume whose device is gone or whose set-up was interrupted");
                        kernel::clean_up(&state);
                        remove_state_dir(&state_dir);
                    }
                }
                None => {
                    tracing::warn!(volume = %name, "cleaning up a state directory without state");
                    clean_up_dead(None, &state_dir);
                }
            }
        }
        Ok(mounted)
    }

    /// Waits until the engine process has exited, at most `deadline`;
    /// gives the mount back if it has not. (A kernel-engine volume has no
    /// process and returns at once.)
    fn engine_exited(self, deadline: Duration) -> Result<Mounted, StillMounted> {
        let waited = match &self.serving {
            Serving::User { pidfd, .. } => wait_exit(pidfd, deadline),
            Serving::Kernel { .. } => Ok(()),
        };
        match waited {
            Ok(()) => Ok(self),
            Err(error) => Err(StillMounted {
                mounted: Box::new(self),
                error,
            }),
        }
    }

    /// Reaps the engine if it is our child, and gives the volume back.
    fn reap(self) -> Volume {
        if let Serving::User {
            child: Some(mut child),
            ..
        } = self.serving
        {
            let _ = child.wait();
        }
        self.volume
    }
}

/// A pidfd for the engine in `state`, if that process still runs and is the
/// engine for `state_dir` (not a new process that reused the pid).
fn engine_pidfd(state: &UserState, state_dir: &Path) -> Option<OwnedFd> {
    let pidfd = open_pidfd(state.pid).ok()?;
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", state.pid)).ok()?;
    let wanted = state_dir.as_os_str().as_encoded_bytes();
    let ours = cmdline
        .split(|byte| *byte == 0)
        .any(|argument| argument == wanted);
    ours.then_some(pidfd)
}

/// Removes what a dead engine left: the mount (lazily: nothing can be
/// written through a dead FUSE connection anyway), the FUSE mount, the state
/// directory. The loop device detaches itself (autoclear) once the
/// filesystem above it is released.
fn clean_up_dead(state: Option<&UserState>, state_dir: &Path) {
    if let Some(state) = state {
        let _ = mount::unmount_lazy(&state.target);
        let _ = mount::unmount_lazy(&state.fuse_dir);
        if let Some(number) = crate::loopdev::device_number(&state.loop_device) {
            if let Err(error) = crate::loopdev::wait_detached(number, Duration::from_secs(10)) {
                tracing::warn!(error = %crate::engine::chain(&error), "the loop device of a dead engine is still attached");
            }
        }
    } else {
        let _ = mount::unmount_lazy(&state_dir.join(FUSE_DIR));
    }
    remove_state_dir(state_dir);
}

/// Removes a state directory nothing serves from any more.
pub(crate) fn remove_state_dir(state_dir: &Path) {
    let _ = std::fs::remove_file(state_dir.join(crate::state::STATE_FILE));
    let _ = std::fs::remove_file(state_dir.join("engine.log"));
    let _ = std::fs::remove_dir(state_dir.join(FUSE_DIR));
    let _ = std::fs::remove_dir(state_dir);
}

fn open_pidfd(pid: u32) -> Result<OwnedFd, VolumeError> {
    let pid = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or(VolumeError::Engine("invalid engine pid".to_owned()))?;
    rustix::process::pidfd_open(pid, PidfdFlags::empty())
        .map_err(|errno| VolumeError::sys("pidfd_open", errno))
}

/// Waits until the process behind `pidfd` has exited.
fn wait_exit(pidfd: &OwnedFd, deadline: Duration) -> Result<(), VolumeError> {
    use rustix::event::{PollFd, PollFlags, poll};
    let until = Instant::now() + deadline;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(VolumeError::Timeout("the volume engine to exit"));
        }
        let timeout = rustix::event::Timespec::try_from(left)
            .map_err(|_| VolumeError::Timeout("the volume engine to exit"))?;
        let mut fds = [PollFd::new(pidfd, PollFlags::IN)];
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) | Err(rustix::io::Errno::INTR) => continue,
            Ok(_) => return Ok(()),
            Err(errno) => return Err(VolumeError::sys("poll", errno)),
        }
    }
}
