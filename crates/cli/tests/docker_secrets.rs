//! Secrets for containers, and volumes bound to images, end to end with the
//! real Docker engine: a real server, a real joined agent, Docker calling the
//! agent's plugin socket, policies deciding per image digest, and Docker
//! Swarm fetching a secret from the agent's secret provider.
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

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use agent_support::{Agent, mounts_under};
use docker_support::{Docker, IMAGE, RemoveContainer};
use server_support::TestServer;

/// The content id of `image`, `sha256:...`.
fn image_id(docker: &Docker, image: &str) -> String {
    docker
        .ok(&["image", "inspect", "--format", "{{.Id}}", image])
        .trim()
        .to_owned()
}

/// A second image, with other content than [`IMAGE`] (so another digest),
/// removed when dropped.
struct OtherImage {
    name: String,
}

impl OtherImage {
    fn build(docker: &Docker, label: &str) -> OtherImage {
        let name = format!(
            "cryptainer-test/other-{label}-{}:latest",
            std::process::id()
        );
        let builder = format!("cpt-build-{label}-{}", std::process::id());
        let _guard = RemoveContainer::new(docker, &builder);
        docker.ok(&[
            "run",
            "--name",
            &builder,
            "--network",
            "none",
            IMAGE,
            "sh",
            "-c",
            &format!("echo {label} > /etc/variant"),
        ]);
        docker.ok(&["commit", &builder, &name]);
        OtherImage { name }
    }
}

impl Drop for OtherImage {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["image", "rm", "--force", &self.name])
            .output();
    }
}

/// Removes a Docker volume when dropped, even if the test failed.
struct RemoveVolume(String);

impl Drop for RemoveVolume {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["volume", "rm", "--force", &self.0])
            .output();
    }
}

fn cli_ok(server: &TestServer, args: &[&str]) -> String {
    let output = server.cli(args);
    assert!(
        output.status.success(),
        "cryptainer {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn cli_input_ok(server: &TestServer, args: &[&str], input: &[u8]) {
    let output = server.cli_with_input(args, input);
    assert!(
        output.status.success(),
        "cryptainer {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `docker run --rm` of `image` with `volume` on `/run/secrets`, running
/// `script`; stdout.
fn run_with_secrets(docker: &Docker, image: &str, volume: &str, script: &str) -> String {
    docker.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        &format!("{volume}:/run/secrets:ro"),
        image,
        "sh",
        "-c",
        script,
    ])
}

/// The same, expected to fail to start; Docker's message. The container is
/// named and removed, so no stopped container keeps using the volume.
fn refused_with_secrets(docker: &Docker, image: &str, volume: &str, name: &str) -> String {
    let _guard = RemoveContainer::new(docker, name);
    docker.fails(&[
        "run",
        "--rm",
        "--name",
        name,
        "--network",
        "none",
        "-v",
        &format!("{volume}:/run/secrets:ro"),
        image,
        "true",
    ])
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(metadata) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if metadata.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if metadata.is_file()
            && std::fs::read(&path)
                .unwrap_or_default()
                .windows(needle.len())
                .any(|window| window == needle)
        {
            found.push(path.display().to_string());
        }
    }
    found
}

/// Nothing of a secret volume is left on the node: no tmpfs in the mount
/// table, no directory, and no file of the agent holds `value`.
fn assert_nothing_left(agent: &Agent, value: &str) {
    assert!(
        mounts_under(&agent.run_dir).is_empty(),
        "{:?}",
        mounts_under(&agent.run_dir)
    );
    let left: Vec<_> = std::fs::read_dir(agent.run_dir.join("secrets"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    for dir in [&agent.run_dir, &agent.data_dir, &agent.storage] {
        let found = files_containing(dir, value.as_bytes());
        assert!(found.is_empty(), "the secret is on disk in {found:?}");
    }
}

#[test]
fn a_secret_volume_gives_the_allowed_image_its_secret_and_nothing_to_another() {
    let docker = Docker::connect();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let agent = Agent::start(&server, dir.path(), "sec");
    let other = OtherImage::build(&docker, "sec");
    let allowed_digest = image_id(&docker, IMAGE);
    assert_ne!(allowed_digest, image_id(&docker, &other.name));

    let secret = format!("{}-db-password", agent.driver);
    let value = format!("first-value-{}", std::process::id());
    cli_input_ok(&server, &["secret", "create", &secret], value.as_bytes());
    cli_ok(
        &server,
        &[
            "policy",
            "create",
            &format!("{}-app", agent.driver),
            "--secret",
            &secret,
            "--image-digest",
            &allowed_digest,
        ],
    );

    let volume = format!("{}-secrets", agent.driver);
    let _remove = RemoveVolume(volume.clone());
    docker.ok(&[
        "volume",
        "create",
        "-d",
        &agent.driver,
        "--opt",
        "type=secrets",
        "--opt",
        &format!("secrets={secret}"),
        "--opt",
        "uid=999",
        &volume,
    ]);
    let status = docker.ok(&["volume", "inspect", "--format", "{{json .Status}}", &volume]);
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["type"], "secrets", "{status}");
    assert_eq!(status["secrets"], secret.as_str(), "{status}");
    assert_eq!(status["mode"], "0400", "{status}");

    // The allowed image reads its secret: a file owned by uid 999, mode
    // 0400, on a tmpfs of the node that allows no device, setuid or program.
    let reader = format!("{}-reader", agent.driver);
    let reader_guard = RemoveContainer::new(&docker, &reader);
    docker.ok(&[
        "run",
        "-d",
        "--name",
        &reader,
        "--network",
        "none",
        "-v",
        &format!("{volume}:/run/secrets:ro"),
        IMAGE,
        "sleep",
        "600",
    ]);
    let file = format!("/run/secrets/{secret}");
    assert_eq!(docker.ok(&["exec", &reader, "cat", &file]), value);
    assert_eq!(
        docker
            .ok(&["exec", &reader, "stat", "-c", "%u %g %a", &file])
            .trim(),
        "999 999 400"
    );
    let target = agent.run_dir.join("secrets").join(&volume);
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let line = mountinfo
        .lines()
        .find(|line| line.split(' ').nth(4) == Some(&*target.to_string_lossy()))
        .unwrap_or_else(|| panic!("no mount on {}", target.display()));
    assert!(line.contains(" - tmpfs "), "{line}");
    let flags: Vec<&str> = line.split(' ').nth(5).unwrap().split(',').collect();
    for flag in ["nosuid", "nodev", "noexec"] {
        assert!(flags.contains(&flag), "{flag} missing: {line}");
    }
    drop(reader_guard);
    assert_nothing_left(&agent, &value);

    // Another image on the same node: Docker refuses to start it, naming the
    // secret and why.
    let message = refused_with_secrets(
        &docker,
        &other.name,
        &volume,
        &format!("{}-intruder", agent.driver),
    );
    assert!(message.contains(&format!("secret '{secret}'")), "{message}");
    assert!(message.contains("is refused to"), "{message}");
    assert!(message.contains("image digest"), "{message}");
    assert_nothing_left(&agent, &value);

    // A rotated secret is what the next container sees.
    let rotated = format!("second-value-{}", std::process::id());
    cli_input_ok(&server, &["secret", "rotate", &secret], rotated.as_bytes());
    let read = run_with_secrets(
        &docker,
        IMAGE,
        &volume,
        &format!("cat /run/secrets/{secret}"),
    );
    assert_eq!(read, rotated);
    assert_nothing_left(&agent, &rotated);
    assert_nothing_left(&agent, &value);

    // Options are checked when the volume is made.
    for (options, expected) in [
        (vec!["type=secrets"], "needs secrets="),
        (
            vec!["type=secrets", "secrets=a", "mode=0600"],
            "mode='0600'",
        ),
        (
            vec!["type=secrets", "secrets=a", "uid=nobody"],
            "uid='nobody'",
        ),
        (
            vec!["type=secrets", "secrets=../etc", "uid=1"],
            "'../etc' is not a secret name",
        ),
        (vec!["type=vault", "secrets=a"], "type='vault'"),
        (
            vec!["type=secrets", "secrets=a", "size=1G"],
            "unknown option 'size'",
        ),
    ] {
        let mut args = vec!["volume", "create", "-d", &agent.driver];
        for option in &options {
            args.extend(["--opt", option]);
        }
        let bad = format!("{}-bad", agent.driver);
        args.push(&bad);
        let message = docker.fails(&args);
        assert!(message.contains(expected), "{options:?}: {message}");
    }

    // Remove forgets the definition only.
    docker.ok(&["volume", "rm", &volume]);
    assert!(
        !agent
            .data_dir
            .join("secret-volumes")
            .join(format!("{volume}.json"))
            .exists()
    );
    let shown = cli_ok(&server, &["secret", "show", &secret, "--json"]);
    assert!(shown.contains("\"active\""), "{shown}");
}

#[test]
fn an_encrypted_volume_bound_to_an_image_refuses_a_container_of_another() {
    let docker = Docker::connect();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let agent = Agent::start(&server, dir.path(), "bound");
    let other = OtherImage::build(&docker, "bound");
    let volume = format!("{}-data", agent.driver);
    let _remove = RemoveVolume(volume.clone());
    docker.ok(&[
        "volume",
        "create",
        "-d",
        &agent.driver,
        "--opt",
        "size=128M",
        &volume,
    ]);
    cli_ok(
        &server,
        &[
            "policy",
            "create",
            &format!("{}-db", agent.driver),
            "--volume",
            &volume,
            "--image-digest",
            &image_id(&docker, IMAGE),
        ],
    );

    docker.run_with_volume(&volume, "echo kept > /data/note && sync");
    let intruder = format!("{}-intruder", agent.driver);
    let _guard = RemoveContainer::new(&docker, &intruder);
    let message = docker.fails(&[
        "run",
        "--rm",
        "--name",
        &intruder,
        "--network",
        "none",
        "-v",
        &format!("{volume}:/data"),
        &other.name,
        "cat",
        "/data/note",
    ]);
    assert!(message.contains(&format!("volume '{volume}'")), "{message}");
    assert!(message.contains("is refused to"), "{message}");
    assert!(mounts_under(&agent.run_dir).is_empty());
    docker.ok(&["rm", "--force", &intruder]);

    // While the allowed container holds the volume, the other image cannot
    // join it either.
    let holder = format!("{}-holder", agent.driver);
    let _holder = RemoveContainer::new(&docker, &holder);
    docker.ok(&[
        "run",
        "-d",
        "--name",
        &holder,
        "--network",
        "none",
        "-v",
        &format!("{volume}:/data"),
        IMAGE,
        "sleep",
        "600",
    ]);
    let message = docker.fails(&[
        "run",
        "--rm",
        "--name",
        &intruder,
        "--network",
        "none",
        "-v",
        &format!("{volume}:/data"),
        &other.name,
        "cat",
        "/data/note",
    ]);
    assert!(message.contains("is refused to"), "{message}");
    docker.ok(&["rm", "--force", &intruder]);
    assert_eq!(
        docker.ok(&["exec", &holder, "cat", "/data/note"]).trim(),
        "kept"
    );
    docker.ok(&["rm", "--force", &holder]);
    assert!(mounts_under(&agent.run_dir).is_empty());
}

#[test]
fn a_decommissioned_node_gets_no_secret() {
    let docker = Docker::connect();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let agent = Agent::start(&server, dir.path(), "gone");
    let secret = format!("{}-token", agent.driver);
    let value = format!("decommission-value-{}", std::process::id());
    cli_input_ok(&server, &["secret", "create", &secret], value.as_bytes());
    cli_ok(
        &server,
        &[
            "policy",
            "create",
            &format!("{}-p", agent.driver),
            "--secret",
            &secret,
            "--image-digest",
            &image_id(&docker, IMAGE),
        ],
    );
    let volume = format!("{}-secrets", agent.driver);
    let _remove = RemoveVolume(volume.clone());
    docker.ok(&[
        "volume",
        "create",
        "-d",
        &agent.driver,
        "--opt",
        "type=secrets",
        "--opt",
        &format!("secrets={secret}"),
        &volume,
    ]);
    let read = run_with_secrets(
        &docker,
        IMAGE,
        &volume,
        &format!("cat /run/secrets/{secret}"),
    );
    assert_eq!(read, value);

    cli_ok(&server, &["node", "decommission", &agent.node_id()]);
    let container = format!("{}-after", agent.driver);
    let _guard = RemoveContainer::new(&docker, &container);
    let message = docker.fails(&[
        "run",
        "--rm",
        "--name",
        &container,
        "--network",
        "none",
        "-v",
        &format!("{volume}:/run/secrets:ro"),
        IMAGE,
        "cat",
        &format!("/run/secrets/{secret}"),
    ]);
    assert!(!message.contains(&value), "{message}");
    assert_nothing_left(&agent, &value);
}

/// Leaves the swarm this test joined, even if the test failed.
struct LeaveSwarm(bool);

impl Drop for LeaveSwarm {
    fn drop(&mut self) {
        if self.0 {
            let _ = Command::new("docker")
                .args(["swarm", "leave", "--force"])
                .output();
        }
    }
}

/// Removes a swarm object (`service`, `secret`) when dropped.
struct RemoveSwarmObject(&'static str, String);

impl Drop for RemoveSwarmObject {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args([self.0, "rm", &self.1])
            .output();
    }
}

/// Polls `docker service logs` of `service` until it prints something.
fn service_output(docker: &Docker, service: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let logs = docker.ok(&["service", "logs", "--raw", service]);
        if !logs.trim().is_empty() {
            return logs;
        }
        let tasks = docker.ok(&[
            "service",
            "ps",
            "--no-trunc",
            "--format",
            "{{.CurrentState}} {{.Error}}",
            service,
        ]);
        assert!(
            Instant::now() < deadline,
            "service {service} printed nothing; its tasks: {tasks}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn a_swarm_service_reads_a_secret_from_the_secret_provider() {
    let docker = Docker::connect();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let agent = Agent::start(&server, dir.path(), "swarm");

    let state = docker.ok(&["info", "--format", "{{.Swarm.LocalNodeState}}"]);
    let joined_here = state.trim() == "inactive";
    if joined_here {
        docker.ok(&["swarm", "init", "--advertise-addr", "127.0.0.1"]);
    }
    let _leave = LeaveSwarm(joined_here);

    let secret = format!("{}-api-key", agent.driver);
    let value = format!("swarm-value-{}", std::process::id());
    cli_input_ok(&server, &["secret", "create", &secret], value.as_bytes());
    let service = format!("{}-web", agent.driver);
    cli_ok(
        &server,
        &[
            "policy",
            "create",
            &format!("{}-web", agent.driver),
            "--secret",
            &secret,
            "--image-digest",
            &image_id(&docker, IMAGE),
            "--service",
            &service,
        ],
    );

    docker.ok(&["secret", "create", "--driver", &agent.driver, &secret]);
    let _secret = RemoveSwarmObject("secret", secret.clone());
    docker.ok(&[
        "service",
        "create",
        "--detach",
        "--quiet",
        "--name",
        &service,
        "--no-resolve-image",
        "--restart-condition",
        "none",
        "--secret",
        &secret,
        IMAGE,
        "sh",
        "-c",
        &format!("cat /run/secrets/{secret}; echo; sleep 600"),
    ]);
    let service_guard = RemoveSwarmObject("service", service.clone());
    assert_eq!(service_output(&docker, &service).trim(), value);
    drop(service_guard);
}
