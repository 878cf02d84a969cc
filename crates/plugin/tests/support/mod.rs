//! Test support for tests that drive the real Docker engine: the `docker` CLI,
//! a small image made with `docker import` from Debian's busybox-static, and a
//! plugin served on Docker's plugin socket directory.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use plugin::{Plugin, VolumeDriver};

/// The image every test container runs: busybox, imported (no registry here).
pub const IMAGE: &str = "cryptainer-test/busybox:latest";

/// Where Docker looks for plugin sockets.
const PLUGIN_DIR: &str = "/run/docker/plugins";

/// The `docker` command line, checked to reach a running engine.
pub struct Docker;

static IMAGE_READY: Mutex<bool> = Mutex::new(false);

impl Docker {
    /// Checks that the engine answers and that the test image exists (building
    /// it once if not). Fails with what to do when Docker is not running.
    pub fn connect() -> Docker {
        let version = Command::new("docker")
            .args(["version", "--format", "{{.Server.Version}}"])
            .output()
            .expect("the docker CLI is installed (apt-get install docker.io)");
        assert!(
            version.status.success(),
            "these tests need a running Docker engine (start dockerd as root): {}",
            String::from_utf8_lossy(&version.stderr)
        );
        let docker = Docker;
        let mut ready = IMAGE_READY
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if !*ready {
            docker.ensure_image();
            *ready = true;
        }
        docker
    }

    fn ensure_image(&self) {
        let present = Command::new("docker")
            .args(["image", "inspect", IMAGE])
            .output()
            .unwrap()
            .status
            .success();
        if present {
            return;
        }
        let busybox = ["/bin/busybox", "/usr/bin/busybox"]
            .into_iter()
            .map(PathBuf::from)
            .find(|path| path.exists())
            .expect("busybox is installed (apt-get install busybox-static)");
        let rootfs = tempfile::tempdir().unwrap();
        let bin = rootfs.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::copy(&busybox, bin.join("busybox")).unwrap();
        for applet in [
            "sh", "cat", "echo", "sleep", "ls", "sync", "dd", "grep", "mount", "stat", "rm", "true",
        ] {
            std::os::unix::fs::symlink("busybox", bin.join(applet)).unwrap();
        }
        for dir in ["tmp", "data", "proc", "sys", "dev", "etc"] {
            std::fs::create_dir_all(rootfs.path().join(dir)).unwrap();
        }
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "tar -C '{}' -c . | docker import - {IMAGE} >/dev/null",
                rootfs.path().display()
            ))
            .status()
            .unwrap();
        assert!(
            status.success(),
            "docker import of the busybox test image failed"
        );
    }

    /// Runs `docker ARGS`, expects success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = Command::new("docker").args(args).output().unwrap();
        assert!(
            output.status.success(),
            "docker {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs `docker ARGS`, expects failure, returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let output = Command::new("docker").args(args).output().unwrap();
        assert!(
            !output.status.success(),
            "docker {} succeeded but should have failed",
            args.join(" ")
        );
        String::from_utf8(output.stderr).unwrap()
    }

    /// `docker run -d --name NAME -v VOLUME:/data IMAGE COMMAND...`, without
    /// network; returns the container id.
    pub fn run_detached(&self, name: &str, volume: &str, command: &[&str]) -> String {
        let mount = format!("{volume}:/data");
        let mut args = vec![
            "run",
            "-d",
            "--name",
            name,
            "--network",
            "none",
            "-v",
            &mount,
            IMAGE,
        ];
        args.extend_from_slice(command);
        self.ok(&args)
    }

    /// `docker run --rm -v VOLUME:/data IMAGE sh -c SCRIPT`, returns stdout.
    pub fn run_with_volume(&self, volume: &str, script: &str) -> String {
        self.ok(&[
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            &format!("{volume}:/data"),
            IMAGE,
            "sh",
            "-c",
            script,
        ])
    }
}

/// Removes a container when dropped, even if the test failed.
pub struct RemoveContainer<'a> {
    docker: &'a Docker,
    name: String,
}

impl<'a> RemoveContainer<'a> {
    /// Guards container `name`.
    pub fn new(docker: &'a Docker, name: &str) -> RemoveContainer<'a> {
        RemoveContainer {
            docker,
            name: name.to_owned(),
        }
    }
}

impl Drop for RemoveContainer<'_> {
    fn drop(&mut self) {
        let _ = self.docker;
        let _ = Command::new("docker")
            .args(["rm", "-f", &self.name])
            .output();
    }
}

/// A plugin served on `/run/docker/plugins/<name>.sock` for the life of this
/// value; the name is unique per test so Docker never confuses two tests.
pub struct PluginSocket {
    name: String,
    path: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

impl PluginSocket {
    /// Starts serving `plugin` on `runtime`, and returns once the socket exists.
    pub fn start<D: VolumeDriver>(
        runtime: &tokio::runtime::Runtime,
        label: &str,
        plugin: Arc<Plugin<D>>,
    ) -> PluginSocket {
        let name = format!(
            "cpt{}-{label}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let path = PathBuf::from(PLUGIN_DIR).join(format!("{name}.sock"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        // Bound before serving starts: once bind returns, Docker can connect.
        let bound = {
            let _runtime = runtime.enter();
            plugin::bind(&path).expect("bind the plugin socket")
        };
        runtime.spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            if let Err(error) = plugin::serve_bound(bound, plugin, shutdown).await {
                panic!("plugin server failed: {error}");
            }
        });
        PluginSocket {
            name,
            path,
            stop: Some(stop),
        }
    }

    /// The driver name to give `docker volume create -d`.
    pub fn driver_name(&self) -> String {
        self.name.clone()
    }
}

impl Drop for PluginSocket {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = std::fs::remove_file(&self.path);
    }
}
