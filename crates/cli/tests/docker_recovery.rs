//! The agent's control process can die and come back without disturbing the
//! containers: the volume engines run on their own, and a restarted agent takes
//! its mounted volumes back (lease, unmount at the container's exit). An agent
//! cut off from the key manager fences its volumes before their leases can
//! lapse. With the real Docker engine, a real server and a real agent.
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

use std::process::Command;

use agent_support::{Agent, grant_volume_to_agents, loops_under, mounts_under, plugin_call};
use docker_support::{Docker, RemoveContainer};
use server_support::{TestServer, wait_until};

/// The highest N of the `synced N` lines the writer container printed: every
/// line up to N was on disk (after `sync`) when it printed it.
fn last_synced(docker: &Docker, container: &str) -> u64 {
    docker
        .ok(&["logs", container])
        .lines()
        .filter_map(|line| line.strip_prefix("synced "))
        .filter_map(|number| number.trim().parse().ok())
        .max()
        .unwrap_or(0)
}

fn volume_state(server: &TestServer, volume: &str) -> serde_json::Value {
    let shown = server.cli(&["volume", "show", volume, "--json"]);
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    serde_json::from_slice(&shown.stdout).unwrap()
}

/// Creates a volume of `agent` and starts a container running `command` with
/// it at `/data`; returns the volume's and the container's names.
fn volume_in_use(docker: &Docker, agent: &Agent, command: &[&str]) -> (String, String) {
    let volume = format!("{}-data", agent.driver);
    let container = format!("{}-user", agent.driver);
    agent.create_volume(&volume, "128M");
    docker.run_detached(&container, &volume, command);
    (volume, container)
}

/// Starts a container running `script`, which appends numbered lines to
/// `/data/log` of a new volume of `agent` and prints `synced N` for each one
/// on disk, and waits until 20 are; returns the volume, the container and the
/// guard that removes it.
fn writer<'a>(
    docker: &'a Docker,
    agent: &Agent,
    script: &str,
) -> (String, String, RemoveContainer<'a>) {
    let (volume, container) = volume_in_use(docker, agent, &["sh", "-c", script]);
    let guard = RemoveContainer::new(docker, &container);
    wait_until("the writer to sync some lines", || {
        last_synced(docker, &container) >= 20
    });
    (volume, container, guard)
}

#[test]
fn an_agent_killed_during_writes_loses_nothing_and_takes_its_volume_back() {
    let docker = Docker::connect();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let mut agent = Agent::start(&server, dir.path(), "recover");
    // Appends numbered lines, syncing after each, and says which are synced.
    let (volume, container, _guard) = writer(
        &docker,
        &agent,
        "i=0; while true; do i=$((i+1)); echo \"line $i\" >> /data/log; sync; echo \"synced $i\"; done",
    );

    agent.kill();
    let synced_at_kill = last_synced(&docker, &container);
    // The container goes on writing through the engine while no agent runs.
    wait_until("more synced lines with the agent dead", || {
        last_synced(&docker, &container) >= synced_at_kill + 20
    });
    assert_eq!(agent.engines_of(&volume).len(), 1);

    agent.restart();
    // The restarted agent holds the lease again, for this node.
    let shown = volume_state(&server, &volume);
    assert_eq!(shown["state"], "held", "{shown}");
    assert_eq!(
        shown["holder"],
        format!("node:{}", agent.node_id()),
        "{shown}"
    );

    // The container's exit unmounts through the restarted agent.
    docker.ok(&["stop", "-t", "1", &container]);
    let synced_at_stop = last_synced(&docker, &container);
    assert!(
        synced_at_stop > synced_at_kill,
        "{synced_at_stop} <= {synced_at_kill}"
    );
    wait_until("the volume to be released", || {
        volume_state(&server, &volume)["state"] == "free"
    });
    assert!(
        mounts_under(&agent.run_dir).is_empty(),
        "{:?}",
        mounts_under(&agent.run_dir)
    );
    assert!(agent.engines_of(&volume).is_empty());

    // Every synced line is there, in order, before and after the kill.
    let log = docker.run_with_volume(&volume, "cat /data/log");
    let lines: Vec<&str> = log.lines().collect();
    let synced = usize::try_from(synced_at_stop).unwrap();
    assert!(lines.len() >= synced, "{} < {synced}", lines.len());
    for (index, line) in lines.iter().take(synced).enumerate() {
        assert_eq!(*line, format!("line {}", index + 1));
    }
    docker.ok(&["rm", &container]);
    docker.ok(&["volume", "rm", &volume]);
}

#[test]
fn an_engine_that_died_while_the_agent_was_down_is_cleaned_up_at_start() {
    let docker = Docker::connect();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let mut agent = Agent::start(&server, dir.path(), "deadengine");
    let (volume, container) = volume_in_use(&docker, &agent, &["sleep", "600"]);
    let _guard = RemoveContainer::new(&docker, &container);
    assert_eq!(volume_state(&server, &volume)["state"], "held");

    agent.kill();
    for pid in agent.engines_of(&volume) {
        Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
    }
    wait_until("the engine to die", || agent.engines_of(&volume).is_empty());

    agent.restart();
    // Nothing of the dead engine is left mounted, and the lease is released.
    assert!(
        mounts_under(&agent.run_dir.join("mounts")).is_empty(),
        "{:?}",
        mounts_under(&agent.run_dir)
    );
    assert_eq!(volume_state(&server, &volume)["state"], "free");
    // Docker's unmount at the container's exit is answered, and the volume
    // mounts afresh for the next container.
    docker.ok(&["rm", "-f", &container]);
    let written = docker.run_with_volume(&volume, "echo fresh > /data/f && cat /data/f");
    assert_eq!(written.trim(), "fresh");
    docker.ok(&["volume", "rm", &volume]);
}

#[test]
fn a_volume_whose_container_exited_while_the_agent_was_down_is_unmounted_at_start() {
    let docker = Docker::connect();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let mut agent = Agent::start(&server, dir.path(), "exited");
    let (volume, container) = volume_in_use(&docker, &agent, &["sleep", "600"]);
    let _guard = RemoveContainer::new(&docker, &container);
    assert_eq!(volume_state(&server, &volume)["state"], "held");

    agent.kill();
    // Docker's unmount at the exit finds no agent to answer it.
    docker.ok(&["stop", "-t", "1", &container]);
    agent.restart();
    assert!(agent.engines_of(&volume).is_empty());
    assert!(
        mounts_under(&agent.run_dir.join("mounts")).is_empty(),
        "{:?}",
        mounts_under(&agent.run_dir)
    );
    assert_eq!(volume_state(&server, &volume)["state"], "free");
    let read = docker.run_with_volume(&volume, "echo again > /data/f && cat /data/f");
    assert_eq!(read.trim(), "again");
    docker.ok(&["rm", &container]);
    docker.ok(&["volume", "rm", &volume]);
}

/// A writer script that appends numbered lines to `/data/log`, fsyncing the
/// file after each, and says which are synced and which failed.
const FSYNC_WRITER: &str = "i=0; while true; do i=$((i+1)); if echo \"line $i\" >> /data/log && sync /data/log; then echo \"synced $i\"; else echo \"failed $i\"; sleep 1; fi; done";

/// The highest N of the `synced N` lines an [`FSYNC_WRITER`] printed before
/// its first failure: every line up to N was on disk when it printed it.
fn synced_before_failure(docker: &Docker, container: &str) -> usize {
    let synced = docker
        .ok(&["logs", container])
        .lines()
        .take_while(|line| !line.starts_with("failed "))
        .filter_map(|line| line.strip_prefix("synced "))
        .filter_map(|number| number.trim().parse::<usize>().ok())
        .max()
        .unwrap();
    assert!(synced >= 20, "{synced}");
    synced
}

/// Checks that `log` (an [`FSYNC_WRITER`]'s file) starts with lines 1 to
/// `synced`, in order.
fn assert_lines_kept(log: &str, synced: usize) {
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines.len() >= synced, "{} < {synced}", lines.len());
    for (index, line) in lines.iter().take(synced).enumerate() {
        assert_eq!(*line, format!("line {}", index + 1));
    }
}

/// The volumes the agent reports fenced in its `status.json`.
fn fenced_volumes(agent: &Agent) -> serde_json::Value {
    let status: serde_json::Value =
        serde_json::from_slice(&std::fs::read(agent.data_dir.join("status.json")).unwrap())
            .unwrap();
    status["fenced_volumes"].clone()
}

/// Sends `signal` (`STOP`, `CONT`) to the server process.
/// Waits until the agent reports `volume` fenced, checks that nothing of it
/// is left on the host (no mount, no engine) and that its still running
/// writer `container` only gets I/O errors now; the reason given, and how
/// many lines were synced before the fence.
fn wait_fenced(docker: &Docker, agent: &Agent, volume: &str, container: &str) -> (String, usize) {
    wait_until("the agent to fence the volume", || {
        fenced_volumes(agent).get(volume).is_some()
    });
    let why = fenced_volumes(agent)[volume]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        mounts_under(&agent.run_dir).is_empty(),
        "{:?}",
        mounts_under(&agent.run_dir)
    );
    assert!(agent.engines_of(volume).is_empty());
    wait_until("the writer to see I/O errors", || {
        docker.ok(&["logs", container]).contains("failed ")
    });
    (why, synced_before_failure(docker, container))
}

fn signal_server(server: &TestServer, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(server.child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn an_agent_cut_off_from_the_key_manager_fences_its_volume_before_the_lease_lapses() {
    let docker = Docker::connect();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    // A short lease, so the test is quick, but long enough that a loaded
    // machine's slow answers do not fence before the partition.
    let agent = Agent::start_with(
        &server,
        dir.path(),
        "fence",
        &dir.path().join("storage"),
        &["--lease-seconds", "20"],
    );
    let (volume, container, _guard) = writer(&docker, &agent, FSYNC_WRITER);

    // The key manager stops answering: renewals hang, then time out.
    signal_server(&server, "STOP");
    let synced = wait_fenced(&docker, &agent, &volume, &container).1;

    // The key manager is back; Docker still shows the volume fenced until
    // the container stops, and its unmount finds nothing left to clean up.
    signal_server(&server, "CONT");
    let status = docker.ok(&["volume", "inspect", "-f", "{{json .Status}}", &volume]);
    assert!(status.contains("fenced"), "{status}");
    docker.ok(&["stop", "-t", "1", &container]);
    docker.ok(&["rm", &container]);
    wait_until("the fence to be forgotten at Docker's unmount", || {
        fenced_volumes(&agent).get(&volume).is_none()
    });

    // A new container mounts the volume again (the lease taken afresh), and
    // every line synced before the fence is there, in order.
    assert_lines_kept(&docker.run_with_volume(&volume, "cat /data/log"), synced);
    wait_until("the volume to be released", || {
        volume_state(&server, &volume)["state"] == "free"
    });
    docker.ok(&["volume", "rm", &volume]);
}

/// A node decommissioned while a container writes its volume: the key
/// manager ends the node's leases at once, so another node may take the
/// volume at once, and refuses the node from then on. The agent must fence
/// the volume at that refusal, long before its lease could have lapsed (the
/// lease asked for is far longer than the test may take), and the other node
/// then finds every line synced before the fence.
fn a_decommission_fences_the_volume_at_once(label: &str, agent_args: &[&str], reason: &str) {
    let docker = Docker::connect();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    // Two hosts on shared storage.
    let storage = dir.path().join("shared");
    let agent = Agent::start_with(&server, dir.path(), label, &storage, agent_args);
    let (volume, container, guard) = writer(&docker, &agent, FSYNC_WRITER);
    // Either host may open the volume: the lease alone keeps them apart.
    grant_volume_to_agents(&server, &volume);

    let decommissioned = server.cli(&["node", "decommission", &agent.node_id()]);
    assert!(
        decommissioned.status.success(),
        "{}",
        String::from_utf8_lossy(&decommissioned.stderr)
    );
    let (why, synced) = wait_fenced(&docker, &agent, &volume, &container);
    assert!(why.contains(reason), "{why}");
    assert!(why.contains("decommissioned"), "{why}");

    // Another host takes the volume while the fenced container still runs,
    // and finds every line synced before the fence, in order.
    let second = Agent::start_named(&server, dir.path(), &format!("{label}next"), &storage);
    let mount = format!(r#"{{"Name":"{volume}","ID":"next-host-container"}}"#);
    let (status, body) = plugin_call(&second.socket, "/VolumeDriver.Mount", &mount);
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mount_point = std::path::PathBuf::from(answer["Mountpoint"].as_str().unwrap());
    assert_lines_kept(
        &std::fs::read_to_string(mount_point.join("log")).unwrap(),
        synced,
    );
    let (status, body) = plugin_call(&second.socket, "/VolumeDriver.Unmount", &mount);
    assert_eq!(status, 200, "{body}");

    // Once the fenced container is gone, nothing of the first host's mount
    // is left: no loop device on its engine's file.
    drop(guard);
    assert!(
        loops_under(&agent.run_dir).is_empty(),
        "{:?}",
        loops_under(&agent.run_dir)
    );
    // Docker's record of the volume is removed by
    // a_decommissioned_node_s_volumes_can_be_removed_from_docker.
    let _ = Command::new("docker")
        .args(["volume", "rm", "--force", &volume])
        .output();
}

#[test]
fn a_decommissioned_node_fences_its_volume_when_its_liveness_report_is_refused() {
    // Frequent liveness reports and a lease of ten minutes: the refused
    // report fences, long before any renewal is due.
    a_decommission_fences_the_volume_at_once(
        "gone",
        &["--lease-seconds", "600", "--heartbeat-interval", "1s"],
        "the key manager refuses this node",
    );
}

#[test]
fn a_decommissioned_node_fences_its_volume_when_its_lease_renewal_is_refused() {
    // Renewals every 10 s and no liveness report after the first: the
    // refused renewal fences, not the lease's deadline (22.5 s after the
    // last renewal), which would say the lease "was not renewed".
    a_decommission_fences_the_volume_at_once(
        "renewal",
        &["--lease-seconds", "30", "--heartbeat-interval", "1h"],
        "the key manager refused the lease",
    );
}

/// Issue 21, item 6: Docker could not forget a volume whose plugin refused
/// its `Get` (the key manager refusing a decommissioned node), nor one whose
/// agent had stopped: `docker volume rm --force` failed after its retries
/// and the record stayed. The agent of a refused node now fences its
/// volumes, keeps serving the plugin, answers `Get` from its own state and
/// lets `Remove` forget the volume; the images stay and no key is asked for
/// or destroyed, since the key manager agreed to nothing.
#[test]
fn a_decommissioned_node_s_volumes_can_be_removed_from_docker() {
    let docker = Docker::connect();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let agent = Agent::start_with(
        &server,
        dir.path(),
        "forget",
        &dir.path().join("storage"),
        &["--heartbeat-interval", "1s"],
    );
    // One volume in use (fenced at the decommission), one never mounted.
    let (volume, container, guard) = writer(&docker, &agent, FSYNC_WRITER);
    let idle = format!("{}-idle", agent.driver);
    agent.create_volume(&idle, "64M");
    let decommissioned = server.cli(&["node", "decommission", &agent.node_id()]);
    assert!(
        decommissioned.status.success(),
        "{}",
        String::from_utf8_lossy(&decommissioned.stderr)
    );
    wait_fenced(&docker, &agent, &volume, &container);
    drop(guard);

    for name in [&volume, &idle] {
        let started = std::time::Instant::now();
        docker.ok(&["volume", "rm", name]);
        eprintln!("docker volume rm {name}: {:?}", started.elapsed());
        let listed = docker.ok(&["volume", "ls", "-q"]);
        assert!(
            !listed.lines().any(|line| line == name.as_str()),
            "Docker still lists {name}: {listed}"
        );
        // The key manager agreed to nothing: the image stays on the storage,
        // the volume and its key in the key manager.
        assert!(agent.storage.join(format!("{name}.img")).exists(), "{name}");
        let shown = volume_state(&server, name);
        let key = server.cli(&["key", "show", shown["key_id"].as_str().unwrap(), "--json"]);
        let key: serde_json::Value = serde_json::from_slice(&key.stdout).unwrap();
        assert_ne!(key["state"], "destroyed", "{key}");
    }
    assert!(
        fenced_volumes(&agent).get(&volume).is_none(),
        "the fenced mark stays"
    );
    // The plugin answers for neither any more.
    let (status, body) = plugin_call(
        &agent.socket,
        "/VolumeDriver.Get",
        &format!(r#"{{"Name":"{idle}"}}"#),
    );
    assert_ne!(status, 200, "{body}");
}
