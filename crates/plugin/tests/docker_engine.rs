//! The plugin protocol against the real Docker engine: `docker volume create`,
//! `docker run -v`, `docker cp` into a running container (which reuses the
//! container's mount id), `docker volume inspect | ls | rm`, and a bad option.
//!
//! The driver here keeps volumes as plain directories: these tests are about
//! what Docker sends and how mounts are counted, not about encryption (the
//! agent's tests cover that with the same engine).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use plugin::{DriverError, ErrorKind, Plugin, Volume, VolumeDriver};
use support::{Docker, PluginSocket};

/// Volumes as directories under `root`; mounted ones are remembered.
struct DirectoryDriver {
    root: PathBuf,
    mounted: Mutex<BTreeMap<String, String>>,
}

impl VolumeDriver for DirectoryDriver {
    async fn create(
        &self,
        name: String,
        options: BTreeMap<String, String>,
    ) -> Result<(), DriverError> {
        for (key, value) in &options {
            match key.as_str() {
                "size" => {
                    plugin::options::parse_size(value).map_err(|error| {
                        DriverError::new(ErrorKind::InvalidArgument, error.to_string())
                    })?;
                }
                other => {
                    return Err(DriverError::new(
                        ErrorKind::InvalidArgument,
                        format!("unknown option '{other}'; this driver accepts: size"),
                    ));
                }
            }
        }
        std::fs::create_dir_all(self.root.join(&name))
            .map_err(|error| DriverError::new(ErrorKind::Internal, error.to_string()))
    }

    async fn remove(&self, name: String) -> Result<(), DriverError> {
        std::fs::remove_dir_all(self.root.join(&name))
            .map_err(|error| DriverError::new(ErrorKind::Internal, error.to_string()))
    }

    async fn mount(&self, name: String, caller: String) -> Result<PathBuf, DriverError> {
        self.mounted.lock().unwrap().insert(name.clone(), caller);
        Ok(self.root.join(&name))
    }

    async fn unmount(&self, name: String) -> Result<(), DriverError> {
        self.mounted.lock().unwrap().remove(&name);
        Ok(())
    }

    async fn get(&self, name: String) -> Result<Volume, DriverError> {
        if !self.root.join(&name).is_dir() {
            return Err(DriverError::new(
                ErrorKind::NotFound,
                format!("no volume '{name}'"),
            ));
        }
        Ok(Volume {
            name,
            mountpoint: String::new(),
            created_at: String::new(),
            status: BTreeMap::from([("kind".to_owned(), "directory".to_owned())]),
        })
    }

    async fn list(&self) -> Result<Vec<Volume>, DriverError> {
        let mut volumes = Vec::new();
        for entry in std::fs::read_dir(&self.root).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            volumes.push(self.get(name).await?);
        }
        Ok(volumes)
    }
}

struct Setup {
    runtime: tokio::runtime::Runtime,
    plugin: Arc<Plugin<DirectoryDriver>>,
    socket: PluginSocket,
    _root: tempfile::TempDir,
    _state: tempfile::TempDir,
}

fn setup(label: &str) -> Setup {
    let root = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let plugin = Arc::new(
        Plugin::new(
            DirectoryDriver {
                root: root.path().to_path_buf(),
                mounted: Mutex::new(BTreeMap::new()),
            },
            Some(state.path().join("mounts.json")),
        )
        .unwrap(),
    );
    let socket = PluginSocket::start(&runtime, label, Arc::clone(&plugin));
    Setup {
        runtime,
        plugin,
        socket,
        _root: root,
        _state: state,
    }
}

impl Setup {
    fn users(&self, volume: &str) -> usize {
        self.runtime.block_on(self.plugin.users(volume))
    }
}

/// Docker, a served plugin, its driver name, and a volume name for the test.
fn start(label: &str) -> (Docker, Setup, String, String) {
    let docker = Docker::connect();
    let setup = setup(label);
    let driver = setup.socket.driver_name();
    let volume = format!("{driver}-v");
    (docker, setup, driver, volume)
}

#[test]
fn data_written_by_one_container_is_there_for_the_next() {
    let (docker, setup, driver, volume) = start("data");

    docker.ok(&[
        "volume", "create", "-d", &driver, "--opt", "size=1G", &volume,
    ]);
    docker.run_with_volume(&volume, "echo written-by-first > /data/note");
    let read = docker.run_with_volume(&volume, "cat /data/note");
    assert_eq!(read.trim(), "written-by-first");
    // Each container mounted and unmounted: nobody uses the volume now.
    assert_eq!(setup.users(&volume), 0);
    assert!(setup.plugin.driver().mounted.lock().unwrap().is_empty());

    let inspect = docker.ok(&[
        "volume",
        "inspect",
        "--format",
        "{{.Driver}} {{.Status.kind}}",
        &volume,
    ]);
    assert_eq!(inspect.trim(), format!("{driver} directory"));
    let listed = docker.ok(&[
        "volume",
        "ls",
        "--quiet",
        "--filter",
        &format!("driver={driver}"),
    ]);
    assert!(listed.lines().any(|line| line == volume), "{listed}");

    docker.ok(&["volume", "rm", &volume]);
    assert!(!setup._root.path().join(&volume).exists());
}

#[test]
fn docker_cp_into_a_running_container_keeps_the_volume_mounted() {
    let (docker, setup, driver, volume) = start("cp");
    let container = format!("{driver}-c");
    docker.ok(&["volume", "create", "-d", &driver, &volume]);
    docker.ok(&[
        "run",
        "-d",
        "--name",
        &container,
        "-v",
        &format!("{volume}:/data"),
        support::IMAGE,
        "sleep",
        "600",
    ]);
    let guard = support::RemoveContainer::new(&docker, &container);
    assert_eq!(setup.users(&volume), 1);

    let source = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(source.path(), b"copied in").unwrap();
    docker.ok(&[
        "cp",
        source.path().to_str().unwrap(),
        &format!("{container}:/data/copied"),
    ]);
    // docker cp mounted and unmounted with the container's own id: the
    // container still has its volume.
    assert_eq!(setup.users(&volume), 1);
    let read = docker.ok(&["exec", &container, "cat", "/data/copied"]);
    assert_eq!(read, "copied in");

    drop(guard);
    assert_eq!(setup.users(&volume), 0);
    docker.ok(&["volume", "rm", &volume]);
}

#[test]
fn a_bad_option_reaches_the_user_with_what_to_write() {
    let (docker, setup, driver, volume) = start("badopt");
    let message = docker.fails(&[
        "volume",
        "create",
        "-d",
        &driver,
        "--opt",
        "size=banana",
        &volume,
    ]);
    assert!(message.contains("'banana' is not a size"), "{message}");
    let message = docker.fails(&[
        "volume",
        "create",
        "-d",
        &driver,
        "--opt",
        "colour=red",
        &volume,
    ]);
    assert!(message.contains("unknown option 'colour'"), "{message}");
    let message = docker.fails(&["volume", "create", "-d", &driver, "../escape"]);
    assert!(!message.is_empty());
    // Nothing was created by the refused calls.
    assert_eq!(std::fs::read_dir(setup._root.path()).unwrap().count(), 0);
}
