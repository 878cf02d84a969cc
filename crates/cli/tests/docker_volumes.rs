//! Encrypted volumes end to end with the real Docker engine: a real server, a
//! real agent that joined it, Docker talking to the agent's plugin socket,
//! containers writing and reading through LUKS2 images served by the engine.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // In tests a panic is the failure report.

mod agent_support;
mod server_support;

#[path = "../../plugin/tests/support/mod.rs"]
mod docker_support;

use std::path::PathBuf;
use std::process::Command;

use agent_support::{Agent, grant_volume_to_agents, mounts_under, plugin_call};
use docker_support::Docker;
use server_support::TestServer;

#[test]
fn a_container_volume_is_encrypted_at_rest_and_gone_after_remove() {
    let docker = Docker::connect();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let agent = Agent::start(&server, dir.path(), "data");
    let volume = format!("{}-data", agent.driver);
    let marker = "plaintext-marker-5d1e7c";

    agent.create_volume(&volume, "256M");
    let image = agent.storage.join(format!("{volume}.img"));
    let images: Vec<PathBuf> = std::fs::read_dir(&agent.storage)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(images.len(), 1, "{images:?}");
    let image = if image.exists() {
        image
    } else {
        images[0].clone()
    };
    // Created, the image is only sparse zeros: no key came to the node yet.
    let mut start = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(std::fs::File::open(&image).unwrap(), 1 << 20),
        &mut start,
    )
    .unwrap();
    assert!(start.iter().all(|byte| *byte == 0));
    docker.run_with_volume(&volume, &format!("echo {marker} > /data/note && sync"));
    let read = docker.run_with_volume(&volume, "cat /data/note");
    assert_eq!(read.trim(), marker, "the next container sees the data");
    // The first mount wrote a LUKS2 header cryptsetup reads, pointing at the
    // key manager.
    let dump = Command::new("cryptsetup")
        .arg("luksDump")
        .arg(&image)
        .output()
        .unwrap();
    let dump = String::from_utf8_lossy(&dump.stdout).into_owned();
    assert!(
        dump.contains("aes-xts-plain64") && dump.contains("cryptainer"),
        "{dump}"
    );

    // Nothing left mounted or held once the containers are gone.
    assert!(
        mounts_under(&agent.run_dir).is_empty(),
        "{:?}",
        mounts_under(&agent.run_dir)
    );
    let shown = server.cli(&["volume", "show", &volume, "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["state"], "free", "{shown}");
    // The backing storage never holds the plaintext.
    let bytes = std::fs::read(&image).unwrap();
    assert!(
        !bytes
            .windows(marker.len())
            .any(|window| window == marker.as_bytes())
    );

    let message = docker.fails(&[
        "volume",
        "create",
        "-d",
        &agent.driver,
        "--opt",
        "size=lots",
        "bad",
    ]);
    assert!(message.contains("'lots' is not a size"), "{message}");

    docker.ok(&["volume", "rm", &volume]);
    assert!(!image.exists(), "remove deletes the image");
    let key = server.cli(&["key", "show", shown["key_id"].as_str().unwrap(), "--json"]);
    let key: serde_json::Value = serde_json::from_slice(&key.stdout).unwrap();
    assert_eq!(key["state"], "destroyed", "remove destroys the key: {key}");
}

#[test]
fn a_second_node_cannot_open_a_volume_another_node_holds() {
    let docker = Docker::connect();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    // Two hosts on shared storage.
    let shared = dir.path().join("shared");
    let first = Agent::start_named(&server, dir.path(), "one", &shared);
    let second = Agent::start_named(&server, dir.path(), "two", &shared);
    let volume = format!("{}-shared", first.driver);
    docker.ok(&["volume", "create", "-d", &first.driver, &volume]);
    // Both hosts may open it (else only its creator could): the lease alone
    // keeps them from opening it at the same time.
    grant_volume_to_agents(&server, &volume);
    let container = format!("{}-holder", first.driver);
    docker.ok(&[
        "run",
        "-d",
        "--name",
        &container,
        "--network",
        "none",
        "-v",
        &format!("{volume}:/data"),
        docker_support::IMAGE,
        "sleep",
        "600",
    ]);
    let guard = docker_support::RemoveContainer::new(&docker, &container);

    let mount = format!(r#"{{"Name":"{volume}","ID":"other-host-container"}}"#);
    let (status, body) = plugin_call(&second.socket, "/VolumeDriver.Mount", &mount);
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("is in use on node:"), "{body}");
    assert!(mounts_under(&second.run_dir).is_empty());
    // Nor may it remove the volume from under the first: the key manager
    // refuses, and the image on the shared storage stays.
    let image = shared.join(format!("{volume}.img"));
    assert!(image.exists());
    let (status, body) = plugin_call(
        &second.socket,
        "/VolumeDriver.Remove",
        &format!(r#"{{"Name":"{volume}"}}"#),
    );
    assert_eq!(status, 409, "{body}");
    assert!(image.exists(), "a refused Remove deleted the image");
    docker.ok(&[
        "exec",
        &container,
        "sh",
        "-c",
        "echo still-here > /data/after && sync",
    ]);

    // Once the first host's container is gone, the second host may open it.
    drop(guard);
    let (status, body) = plugin_call(&second.socket, "/VolumeDriver.Mount", &mount);
    assert_eq!(status, 200, "{body}");
    assert!(!mounts_under(&second.run_dir).is_empty());
    let (status, body) = plugin_call(&second.socket, "/VolumeDriver.Unmount", &mount);
    assert_eq!(status, 200, "{body}");
    assert!(mounts_under(&second.run_dir).is_empty());
    docker.ok(&["volume", "rm", &volume]);
}

#[test]
fn an_unreachable_key_manager_fails_the_mount_cleanly() {
    let docker = Docker::connect();
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_dev(&dir.path().join("server"));
    let agent = Agent::start(&server, dir.path(), "offline");
    let volume = format!("{}-offline", agent.driver);
    docker.ok(&["volume", "create", "-d", &agent.driver, &volume]);
    server.kill();
    let message = docker.fails(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        &format!("{volume}:/data"),
        docker_support::IMAGE,
        "true",
    ]);
    assert!(
        message.contains("check the server address and that it is running"),
        "{message}"
    );
    assert!(
        mounts_under(&agent.run_dir).is_empty(),
        "nothing is mounted"
    );
    assert!(
        std::fs::read_dir(agent.run_dir.join("engines"))
            .map_or(true, |mut entries| entries.next().is_none()),
        "no engine runs"
    );
    // Docker keeps its record of the volume unless told to forget it.
    let _ = Command::new("docker")
        .args(["volume", "rm", "--force", &volume])
        .output();
}

/// Unmounts a tmpfs made by the test, even if it failed.
struct Tmpfs(PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_storage_fails_the_first_mount_clearly_and_loses_nothing() {
    let docker = Docker::connect();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    // Storage with room for a sparse image, not for its LUKS2 header and
    // keyslot (about 300 KiB). (The filesystem's journal and inode tables
    // are holes: a 64 MiB volume mounted in 4 MiB of storage.)
    let storage = dir.path().join("small-storage");
    std::fs::create_dir_all(&storage).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=128k", "tmpfs"])
        .arg(&storage)
        .status()
        .unwrap();
    assert!(mounted.success());
    let _tmpfs = Tmpfs(storage.clone());
    let agent = Agent::start_named(&server, dir.path(), "full", &storage);
    let volume = format!("{}-data", agent.driver);
    agent.create_volume(&volume, "64M");

    let run = |script: &str| {
        Command::new("docker")
            .args(["run", "--rm", "--network", "none", "-v"])
            .arg(format!("{volume}:/data"))
            .args([docker_support::IMAGE, "sh", "-c", script])
            .output()
            .unwrap()
    };
    let refused = run("true");
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("the volume storage is full"), "{message}");
    assert!(message.contains("--storage-dir"), "{message}");
    // Nothing mounted, the lease released, the image still a fresh one.
    assert!(mounts_under(&agent.run_dir).is_empty());
    let shown = server.cli(&["volume", "show", &volume, "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["state"], "free", "{shown}");

    // With room made, the same volume mounts and keeps what is written.
    let grown = Command::new("mount")
        .args(["-o", "remount,size=256m"])
        .arg(&storage)
        .status()
        .unwrap();
    assert!(grown.success());
    let written = run("echo kept > /data/f && sync && cat /data/f");
    assert!(
        written.status.success(),
        "{}",
        String::from_utf8_lossy(&written.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&written.stdout).trim(), "kept");
    docker.ok(&["volume", "rm", &volume]);
}

/// The files `pid` holds open.
fn open_files(pid: u32) -> Vec<PathBuf> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.unwrap().path()).ok())
        .collect()
}

/// Issue 19, bug 1: the engine the agent starts (`cryptainer
/// volume-engine`) never closed the descriptors it inherited, so it kept
/// whatever the agent had open without close-on-exec for as long as the
/// volume stayed mounted. Here the agent itself inherits one from its
/// parent, as from a careless service manager.
#[test]
fn the_engine_the_agent_starts_keeps_no_descriptor_the_agent_inherited() {
    let docker = Docker::connect();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let private_path = dir.path().join("agent-only");
    std::fs::write(&private_path, b"not for the engine").unwrap();
    let private = std::fs::File::open(&private_path).unwrap();
    // Without close-on-exec: the agent started next inherits it.
    let inherited = rustix::io::dup(&private).unwrap();
    let agent = Agent::start(&server, dir.path(), "inherit");
    drop(inherited);
    assert!(
        open_files(agent.pid()).contains(&private_path),
        "the agent did not inherit the descriptor, so the test proves nothing"
    );
    let volume = format!("{}-inherit", agent.driver);
    agent.create_volume(&volume, "64M");
    let container = format!("{}-user", agent.driver);
    docker.run_detached(&container, &volume, &["sleep", "600"]);
    let guard = docker_support::RemoveContainer::new(&docker, &container);
    let engines = agent.engines_of(&volume);
    assert_eq!(engines.len(), 1, "{engines:?}");
    let files = open_files(engines[0]);
    assert!(
        !files.contains(&private_path),
        "the agent's engine kept a descriptor the agent inherited: {files:?}"
    );
    assert!(
        files.iter().any(|file| file.starts_with(&agent.storage)),
        "the engine does not hold its image: {files:?}"
    );
    drop(guard);
    docker.ok(&["volume", "rm", &volume]);
}

/// `agent run --engine auto` (the default) says which engine it chose and
/// why in `status.json` and `docker volume inspect`, for a volume not yet
/// mounted (the engine its next mount uses) and one in use alike. On a host
/// without device-mapper that is the user engine, with the kernel engine's
/// probe failure as the reason; with it, the kernel engine.
#[test]
fn the_engine_choice_and_its_reason_are_in_status_json_and_docker_volume_inspect() {
    let docker = Docker::connect();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let agent = Agent::start_with(
        &server,
        dir.path(),
        "choice",
        &dir.path().join("storage"),
        &["--engine", "auto"],
    );
    let status = agent.status();
    let engine = status["volume_engine"]["engine"]
        .as_str()
        .unwrap()
        .to_owned();
    let reason = status["volume_engine"]["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(engine == "user" || engine == "kernel", "{status}");
    assert!(reason.starts_with("--engine auto: "), "{reason}");
    if engine == "user" {
        assert!(
            reason.contains("the kernel engine does not work here"),
            "{reason}"
        );
    } else {
        assert!(reason.contains("dm-crypt"), "{reason}");
    }

    let volume = format!("{}-choice", agent.driver);
    agent.create_volume(&volume, "64M");
    let inspect = |volume: &str| -> serde_json::Value {
        let shown = docker.ok(&["volume", "inspect", volume]);
        serde_json::from_str::<serde_json::Value>(&shown).unwrap()[0]["Status"].clone()
    };
    let shown = inspect(&volume);
    assert_eq!(shown["engine"], engine.as_str(), "{shown}");
    assert_eq!(shown["engine_reason"], reason.as_str(), "{shown}");
    let container = format!("{}-user", agent.driver);
    docker.run_detached(&container, &volume, &["sleep", "600"]);
    let guard = docker_support::RemoveContainer::new(&docker, &container);
    let shown = inspect(&volume);
    assert_eq!(shown["engine"], engine.as_str(), "{shown}");
    drop(guard);
    docker.ok(&["volume", "rm", &volume]);
}
