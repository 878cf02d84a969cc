//! The state file in a mounted volume's state directory: enough for a
//! restarted control process to find what serves the volume, check it, and
//! unmount or fence it. The user engine's process writes it once its volume
//! is mounted; the kernel engine's control process writes it before it
//! creates anything in the kernel (`ready=0`) and again once the volume is
//! mounted (`ready=1`), so a restart after a crash in between finds what to
//! undo.
//!
//! Format: UTF-8 `key=value` lines, written to a temporary file and renamed
//! into place. `engine=user` (or no `engine` line, as engines before the
//! kernel engine wrote it): `pid`, `image`, `target`, `fuse`, `loop`,
//! `direct_io`. `engine=kernel`: `image`, `target`, `dm_name`, `dm_uuid`,
//! `device`, `loop`, `direct_io`, `ready`.

use std::path::{Path, PathBuf};

use crate::VolumeError;

/// The state file's name inside a volume's state directory.
pub const STATE_FILE: &str = "state";

/// What serves a mounted volume, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineState {
    /// An engine process (FUSE, loop device).
    User(UserState),
    /// dm-crypt in the kernel.
    Kernel(KernelState),
}

/// What a running user-space engine serves, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserState {
    /// The engine's process id.
    pub pid: u32,
    /// The encrypted image it serves.
    pub image: PathBuf,
    /// Where the decrypted filesystem is mounted.
    pub target: PathBuf,
    /// The FUSE mount holding the decrypted block file.
    pub fuse_dir: PathBuf,
    /// The loop device attached to the block file.
    pub loop_device: PathBuf,
    /// Whether the loop device runs with direct I/O.
    pub direct_io: bool,
}

/// A volume the kernel engine serves: a loop device on the image, a
/// dm-crypt device on the loop device, the filesystem on that.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelState {
    /// The encrypted image.
    pub image: PathBuf,
    /// Where the decrypted filesystem is mounted.
    pub target: PathBuf,
    /// The dm-crypt device's name.
    pub dm_name: String,
    /// Its UUID, which tells it from a later device of the same name.
    pub dm_uuid: String,
    /// Its block device node.
    pub device: PathBuf,
    /// The loop device on the image (empty before it is attached).
    pub loop_device: PathBuf,
    /// Whether that loop device runs with direct I/O.
    pub direct_io: bool,
    /// Whether the volume was mounted: otherwise the control process stopped
    /// while it set the volume up, and what it made must be undone.
    pub ready: bool,
}

impl EngineState {
    /// Where the decrypted filesystem is mounted.
    pub fn target(&self) -> &Path {
        match self {
            EngineState::User(state) => &state.target,
            EngineState::Kernel(state) => &state.target,
        }
    }

    /// Writes the state atomically into `state_dir`.
    pub fn write(&self, state_dir: &Path) -> Result<(), VolumeError> {
        let text = match self {
            EngineState::User(state) => format!(
                "engine=user\npid={}\nimage={}\ntarget={}\nfuse={}\nloop={}\ndirect_io={}\n",
                state.pid,
                path_text(&state.image)?,
                path_text(&state.target)?,
                path_text(&state.fuse_dir)?,
                path_text(&state.loop_device)?,
                u8::from(state.direct_io),
            ),
            EngineState::Kernel(state) => format!(
                "engine=kernel\nimage={}\ntarget={}\ndm_name={}\ndm_uuid={}\ndevice={}\nloop={}\ndirect_io={}\nready={}\n",
                path_text(&state.image)?,
                path_text(&state.target)?,
                line_text(&state.dm_name)?,
                line_text(&state.dm_uuid)?,
                path_text(&state.device)?,
                path_text(&state.loop_device)?,
                u8::from(state.direct_io),
                u8::from(state.ready),
            ),
        };
        let temporary = state_dir.join(".state.tmp");
        let path = state_dir.join(STATE_FILE);
        std::fs::write(&temporary, text)
            .map_err(|source| VolumeError::io("writing", &temporary, source))?;
        std::fs::rename(&temporary, &path)
            .map_err(|source| VolumeError::io("renaming into place", &path, source))
    }

    /// Reads the state file in `state_dir`; `Ok(None)` if there is none.
    pub fn read(state_dir: &Path) -> Result<Option<EngineState>, VolumeError> {
        let path = state_dir.join(STATE_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(VolumeError::io("reading", &path, source)),
        };
        parse(&text).map(Some).ok_or(VolumeError::BadState(path))
    }
}

fn path_text(path: &Path) -> Result<&str, VolumeError> {
    path.to_str()
        .filter(|text| !text.contains('\n'))
        .ok_or_else(|| VolumeError::BadState(path.to_owned()))
}

fn line_text(text: &str) -> Result<&str, VolumeError> {
    if text.contains('\n') {
        Err(VolumeError::BadState(text.into()))
    } else {
        Ok(text)
    }
}

fn parse(text: &str) -> Option<EngineState> {
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix('='))
    };
    match field("engine").unwrap_or("user") {
        "user" => Some(EngineState::User(UserState {
            pid: field("pid")?.parse().ok()?,
            image: field("image")?.into(),
            target: field("target")?.into(),
            fuse_dir: field("fuse")?.into(),
            loop_device: field("loop")?.into(),
            direct_io: field("direct_io")? == "1",
        })),
        "kernel" => Some(EngineState::Kernel(KernelState {
            image: field("image")?.into(),
            target: field("target")?.into(),
            dm_name: field("dm_name")?.to_owned(),
            dm_uuid: field("dm_uuid")?.to_owned(),
            device: field("device")?.into(),
            loop_device: field("loop")?.into(),
            direct_io: field("direct_io")? == "1",
            ready: field("ready")? == "1",
        })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn both_kinds_of_state_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let user = EngineState::User(UserState {
            pid: 42,
            image: "/srv/volumes/a.img".into(),
            target: "/mnt/with space".into(),
            fuse_dir: "/run/cryptainer/volumes/a/fuse".into(),
            loop_device: "/dev/loop7".into(),
            direct_io: true,
        });
        user.write(dir.path()).unwrap();
        assert_eq!(EngineState::read(dir.path()).unwrap(), Some(user));
        let kernel = EngineState::Kernel(KernelState {
            image: "/srv/volumes/a.img".into(),
            target: "/mnt/a".into(),
            dm_name: "cryptainer-0a1b2c3d-a".into(),
            dm_uuid: "CRYPT-LUKS2-00112233445566778899aabbccddeeff-cryptainer".into(),
            device: "/dev/dm-3".into(),
            loop_device: "/dev/loop2".into(),
            direct_io: true,
            ready: false,
        });
        kernel.write(dir.path()).unwrap();
        assert_eq!(EngineState::read(dir.path()).unwrap(), Some(kernel));
    }

    #[test]
    fn a_state_file_from_before_the_kernel_engine_is_a_user_engine_s() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(STATE_FILE),
            "pid=7\nimage=/a.img\ntarget=/mnt\nfuse=/f\nloop=/dev/loop1\ndirect_io=1\n",
        )
        .unwrap();
        assert!(matches!(
            EngineState::read(dir.path()).unwrap(),
            Some(EngineState::User(UserState { pid: 7, .. }))
        ));
    }

    #[test]
    fn rejects_truncated_state_and_unknown_engines() {
        let dir = tempfile::tempdir().unwrap();
        for text in [
            "pid=1\nimage=/a\n",
            "engine=kernel\nimage=/a\ntarget=/b\n",
            "engine=warp\npid=1\nimage=/a\ntarget=/mnt\nfuse=/f\nloop=/l\ndirect_io=1\n",
        ] {
            std::fs::write(dir.path().join(STATE_FILE), text).unwrap();
            assert!(
                matches!(EngineState::read(dir.path()), Err(VolumeError::BadState(_))),
                "{text}"
            );
        }
    }
}
