//! The state file an engine writes into its state directory once its volume
//! is mounted: enough for a restarted control process to find the engine,
//! check it, and unmount the volume.
//!
//! Format: UTF-8 `key=value` lines (`pid`, `image`, `target`, `fuse`, `loop`,
//! `direct_io`), written to a temporary file and renamed into place.

use std::path::{Path, PathBuf};

use crate::VolumeError;

/// The state file's name inside a volume's state directory.
pub const STATE_FILE: &str = "state";

/// What a running engine serves, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineState {
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

impl EngineState {
    /// Writes the state atomically into `state_dir`.
    pub fn write(&self, state_dir: &Path) -> Result<(), VolumeError> {
        let text = format!(
            "pid={}\nimage={}\ntarget={}\nfuse={}\nloop={}\ndirect_io={}\n",
            self.pid,
            path_text(&self.image)?,
            path_text(&self.target)?,
            path_text(&self.fuse_dir)?,
            path_text(&self.loop_device)?,
            u8::from(self.direct_io),
        );
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

fn parse(text: &str) -> Option<EngineState> {
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix('='))
    };
    Some(EngineState {
        pid: field("pid")?.parse().ok()?,
        image: field("image")?.into(),
        target: field("target")?.into(),
        fuse_dir: field("fuse")?.into(),
        loop_device: field("loop")?.into(),
        direct_io: field("direct_io")? == "1",
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn state_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let state = EngineState {
            pid: 42,
            image: "/srv/volumes/a.img".into(),
            target: "/mnt/with space".into(),
            fuse_dir: "/run/cryptainer/volumes/a/fuse".into(),
            loop_device: "/dev/loop7".into(),
            direct_io: true,
        };
        state.write(dir.path()).unwrap();
        assert_eq!(EngineState::read(dir.path()).unwrap(), Some(state));
    }

    #[test]
    fn rejects_truncated_state() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(STATE_FILE), "pid=1\nimage=/a\n").unwrap();
        assert!(matches!(
            EngineState::read(dir.path()),
            Err(VolumeError::BadState(_))
        ));
    }
}
