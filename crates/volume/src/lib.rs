//! The user-space encrypted block engine: sparse volume images in a storage
//! directory, a FUSE file that serves an image's decrypted data segment, a
//! loop device with direct I/O on that file, and the filesystem on top.
//!
//! The I/O path runs in a separate engine process per volume
//! (`cryptainer volume-engine`, whose one entry point is
//! [`engine::main`]); the control API in [`volume`] reads and writes the
//! images' LUKS2 headers, starts, finds and stops those processes, so the
//! control process can restart without disturbing mounted volumes.
//!
//! This crate is the one place in the workspace that makes raw system calls
//! (loop ioctls, signal masks); each `unsafe` block says why it is sound.
#![allow(unsafe_code)]

pub mod buffer;
pub mod cipher;
pub mod device;
pub mod dm;
pub mod engine;
mod error;
mod image;
pub mod kernel;
mod keyring;
pub mod loopdev;
pub mod mount;
mod mounted;
pub mod state;
pub mod volume;

pub use cipher::BlockCipher;
pub use error::VolumeError;
pub use image::{ImageState, KeyslotSecret};
pub use luks::{CryptainerToken, DataSegment, FormatOptions};
pub use mount::Filesystem;
pub use mounted::{Mounted, StillMounted};
pub use volume::{
    EngineChoice, EngineConfig, EngineDecision, EngineKind, Unlocked, Volume, VolumeStore,
};
