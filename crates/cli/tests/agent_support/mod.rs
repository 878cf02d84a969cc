//! A joined agent for tests that drive the real Docker engine: a real
//! `cryptainer agent run` serving the volume plugin (and the secret provider)
//! under a driver name unique to the test, and the kernel's mount table.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::server_support::{TestServer, binary};

/// A joined agent serving the volume plugin under a driver name of its own.
pub struct Agent {
    child: Child,
    /// The driver name to give `docker volume create -d`.
    pub driver: String,
    /// The plugin socket.
    pub socket: PathBuf,
    /// The directory of encrypted images.
    pub storage: PathBuf,
    /// The engines' state, mount points and secret volumes.
    pub run_dir: PathBuf,
    /// The identity files.
    pub data_dir: PathBuf,
    /// More `agent run` arguments.
    extra_args: Vec<String>,
}

impl Agent {
    /// An agent whose driver name is unique to `label`: tests run side by side
    /// and each plugin socket must be its own.
    pub fn start(server: &TestServer, dir: &Path, label: &str) -> Agent {
        Agent::start_named(server, dir, label, &dir.join("storage"))
    }

    /// An agent with its own data and run directories under `dir/<label>`,
    /// keeping images in `storage` (which two agents may share).
    pub fn start_named(server: &TestServer, dir: &Path, label: &str, storage: &Path) -> Agent {
        Agent::start_with(server, dir, label, storage, &[])
    }

    /// [`Agent::start_named`] with more `agent run` arguments.
    pub fn start_with(
        server: &TestServer,
        dir: &Path,
        label: &str,
        storage: &Path,
        extra_args: &[&str],
    ) -> Agent {
        let dir = &dir.join(label);
        let token = server.cli(&["node", "token", "create", "--json"]);
        assert!(
            token.status.success(),
            "{}",
            String::from_utf8_lossy(&token.stderr)
        );
        let token: serde_json::Value = serde_json::from_slice(&token.stdout).unwrap();
        let data_dir = dir.join("agent");
        let joined = Command::new(binary())
            .args(["agent", "join", "--server", &server.addr, "--token"])
            .arg(token["token"].as_str().unwrap())
            .arg("--data-dir")
            .arg(&data_dir)
            .output()
            .unwrap();
        assert!(
            joined.status.success(),
            "{}",
            String::from_utf8_lossy(&joined.stderr)
        );
        let driver = format!("cptv{}{label}", std::process::id());
        let socket = PathBuf::from(format!("/run/docker/plugins/{driver}.sock"));
        let storage = storage.to_path_buf();
        let run_dir = dir.join("run");
        let extra_args: Vec<String> = extra_args.iter().map(|arg| (*arg).to_owned()).collect();
        let child = spawn(&data_dir, &socket, &storage, &run_dir, &extra_args);
        Agent {
            child,
            driver,
            socket,
            storage,
            run_dir,
            data_dir,
            extra_args,
        }
    }

    /// Kills the agent's control process with SIGKILL (the volume engines it
    /// started are processes of their own and keep running).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts `agent run` again on the same directories, after [`Self::kill`].
    pub fn restart(&mut self) {
        self.child = spawn(
            &self.data_dir,
            &self.socket,
            &self.storage,
            &self.run_dir,
            &self.extra_args,
        );
    }

    /// Kills the agent without letting it clean up (as a crash would), then
    /// starts it again on the same directories.
    pub fn crash_and_restart(&mut self) {
        self.kill();
        self.restart();
    }
}

impl Agent {
    /// `docker volume create -d <this driver> --opt size=SIZE NAME`, expected
    /// to succeed.
    pub fn create_volume(&self, name: &str, size: &str) {
        let output = Command::new("docker")
            .args(["volume", "create", "-d", &self.driver, "--opt"])
            .arg(format!("size={size}"))
            .arg(name)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "docker volume create {name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The process id of `agent run`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The engine processes serving `volume` for this agent.
    pub fn engines_of(&self, volume: &str) -> Vec<u32> {
        let pattern = format!("{}/engines/{volume} ", self.run_dir.display());
        let output = Command::new("pgrep")
            .args(["-f", &pattern])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| line.trim().parse().ok())
            .collect()
    }

    /// The agent's `status.json`.
    pub fn status(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.data_dir.join("status.json")).unwrap()).unwrap()
    }

    /// The node id the server gave this agent at join.
    pub fn node_id(&self) -> String {
        let state: serde_json::Value =
            serde_json::from_slice(&std::fs::read(self.data_dir.join("node.json")).unwrap())
                .unwrap();
        state["node_id"].as_str().unwrap().to_owned()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// Runs `agent run` and waits until its plugin socket accepts connections (a
/// killed agent leaves its socket file behind). The user-space engine unless
/// `extra_args` name an engine: these tests look at its processes and loop
/// devices, on hosts with device-mapper too (the kernel engine is tested in
/// a VM, `tests/vm/run`).
fn spawn(
    data_dir: &Path,
    socket: &Path,
    storage: &Path,
    run_dir: &Path,
    extra_args: &[String],
) -> Child {
    let child = Command::new(binary())
        .args(["agent", "run", "--data-dir"])
        .arg(data_dir)
        .arg("--plugin-socket")
        .arg(socket)
        .arg("--storage-dir")
        .arg(storage)
        .arg("--run-dir")
        .arg(run_dir)
        .args(
            (!extra_args.iter().any(|arg| arg == "--engine"))
                .then_some(["--engine", "user"])
                .into_iter()
                .flatten(),
        )
        .args(extra_args)
        .env("CRYPTAINER_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::os::unix::net::UnixStream::connect(socket).is_err() {
        assert!(
            Instant::now() < deadline,
            "the agent never opened its plugin socket"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// Mount points of the kernel's mount table under `dir`.
pub fn mounts_under(dir: &Path) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|line| line.split(' ').nth(4).map(str::to_owned))
        .filter(|mount_point| mount_point.starts_with(&*dir.to_string_lossy()))
        .collect()
}

/// Sends one plugin call to an agent's socket; returns status and body.
pub fn plugin_call(socket: &Path, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read as _, Write as _};
    let mut stream = std::os::unix::net::UnixStream::connect(socket).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: plugin\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer.get(9..12).unwrap().parse().unwrap();
    (
        status,
        answer
            .split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .to_owned(),
    )
}

/// The backing files of the loop devices attached to a file under `dir`.
pub fn loops_under(dir: &Path) -> Vec<String> {
    let prefix = dir.to_string_lossy().into_owned();
    std::fs::read_dir("/sys/block")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("loop"))
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("loop/backing_file")).ok())
        .map(|backing| backing.trim_end().to_owned())
        .filter(|backing| backing.starts_with(&prefix))
        .collect()
}

/// Lets every agent node open `volume` (else only its creator could): on
/// shared storage the lease alone keeps two hosts from opening it at once.
pub fn grant_volume_to_agents(server: &TestServer, volume: &str) {
    let granted = server.cli(&[
        "policy",
        "create",
        &format!("{volume}-hosts"),
        "--volume",
        volume,
        "--node-role",
        "agent",
    ]);
    assert!(
        granted.status.success(),
        "{}",
        String::from_utf8_lossy(&granted.stderr)
    );
}
