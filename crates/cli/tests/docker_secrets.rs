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
use server_support::{TestServer, wait_until};

/// A server and an agent joined to it, for one test.
struct Node {
    docker: Docker,
    server: TestServer,
    agent: Agent,
    dir: tempfile::TempDir,
}

impl Node {
    /// Starts both; `label` makes the driver name unique to the test.
    fn start(label: &str) -> Node {
        let docker = Docker::connect();
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start_dev(&dir.path().join("server"));
        let agent = Agent::start(&server, dir.path(), label);
        Node {
            docker,
            server,
            agent,
            dir,
        }
    }
}

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
struct RemoveVolume {
    name: String,
    removed: bool,
}

impl RemoveVolume {
    /// `docker volume rm`, expected to succeed. (Removing a volume Docker no
    /// longer knows would make it ask every plugin on the host, and wait for
    /// the sockets of dead ones.)
    fn now(mut self, docker: &Docker) {
        docker.ok(&["volume", "rm", &self.name]);
        self.removed = true;
    }
}

impl Drop for RemoveVolume {
    fn drop(&mut self) {
        if !self.removed {
            let _ = Command::new("docker")
                .args(["volume", "rm", "--force", &self.name])
                .output();
        }
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

/// Stores `value` as `secret` and grants it, by a policy of the same name,
/// to containers of image digest `digest` (and whatever `more` selects).
fn grant_secret(server: &TestServer, secret: &str, value: &str, digest_and_more: &[&str]) {
    cli_input_ok(server, &["secret", "create", secret], value.as_bytes());
    let mut args = vec![
        "policy",
        "create",
        secret,
        "--secret",
        secret,
        "--image-digest",
    ];
    args.extend(digest_and_more);
    cli_ok(server, &args);
}

/// `docker volume create` of secret volume `volume` holding `secret`, with
/// more `--opt`s; removed when dropped.
fn secret_volume(
    docker: &Docker,
    agent: &Agent,
    volume: &str,
    secret: &str,
    options: &[&str],
) -> RemoveVolume {
    let remove = RemoveVolume {
        name: volume.to_owned(),
        removed: false,
    };
    let secrets = format!("secrets={secret}");
    let mut args = vec![
        "volume",
        "create",
        "-d",
        &agent.driver,
        "--opt",
        "type=secrets",
        "--opt",
        &secrets,
    ];
    for option in options {
        args.extend(["--opt", option]);
    }
    args.push(volume);
    docker.ok(&args);
    remove
}

/// What a container of [`IMAGE`] reads as `secret` from `volume` mounted on
/// `/run/secrets`.
fn read_secret(docker: &Docker, volume: &str, secret: &str) -> String {
    docker.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        &format!("{volume}:/run/secrets:ro"),
        IMAGE,
        "cat",
        &format!("/run/secrets/{secret}"),
    ])
}

/// `docker run MODE --name NAME --network none -v MOUNT IMAGE COMMAND...`.
fn run_args<'a>(
    mode: &'a str,
    name: &'a str,
    mount: &'a str,
    image: &'a str,
    command: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "run",
        mode,
        "--name",
        name,
        "--network",
        "none",
        "-v",
        mount,
        image,
    ];
    args.extend(command);
    args
}

/// `docker run --rm --name NAME -v MOUNT IMAGE true`, expected to fail to
/// start; Docker's message. The container is removed, so no stopped
/// container keeps using the volume.
fn refused_start(docker: &Docker, image: &str, mount: &str, name: &str) -> String {
    let _guard = RemoveContainer::new(docker, name);
    docker.fails(&run_args("--rm", name, mount, image, &["true"]))
}

/// `docker run -d --name NAME -v MOUNT IMAGE sleep 600`: a container that
/// holds the volume until the guard drops.
fn hold<'a>(docker: &'a Docker, name: &str, mount: &str) -> RemoveContainer<'a> {
    let guard = RemoveContainer::new(docker, name);
    docker.ok(&run_args("-d", name, mount, IMAGE, &["sleep", "600"]));
    guard
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
    // Bound in this order so that they drop agent first, directory last.
    let Node {
        dir: _dir,
        server,
        agent,
        docker,
    } = Node::start("sec");
    let other = OtherImage::build(&docker, "sec");
    let allowed_digest = image_id(&docker, IMAGE);
    assert_ne!(allowed_digest, image_id(&docker, &other.name));

    let secret = format!("{}-db-password", agent.driver);
    let value = format!("first-value-{}", std::process::id());
    grant_secret(&server, &secret, &value, &[&allowed_digest]);
    let volume = format!("{}-secrets", agent.driver);
    let remove = secret_volume(&docker, &agent, &volume, &secret, &["uid=999"]);
    let status = docker.ok(&["volume", "inspect", "--format", "{{json .Status}}", &volume]);
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["type"], "secrets", "{status}");
    assert_eq!(status["secrets"], secret.as_str(), "{status}");
    assert_eq!(status["mode"], "0400", "{status}");

    // The allowed image reads its secret: a file owned by uid 999, mode
    // 0400, on a tmpfs of the node that allows no device, setuid or program.
    let reader = format!("{}-reader", agent.driver);
    let reader_guard = hold(&docker, &reader, &format!("{volume}:/run/secrets:ro"));
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
    let message = refused_start(
        &docker,
        &other.name,
        &format!("{volume}:/run/secrets:ro"),
        &format!("{}-intruder", agent.driver),
    );
    assert!(message.contains(&format!("secret '{secret}'")), "{message}");
    assert!(message.contains("is refused to"), "{message}");
    assert!(message.contains("image digest"), "{message}");
    assert_nothing_left(&agent, &value);

    // A rotated secret is what the next container sees.
    let rotated = format!("second-value-{}", std::process::id());
    cli_input_ok(&server, &["secret", "rotate", &secret], rotated.as_bytes());
    let read = read_secret(&docker, &volume, &secret);
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
        eprintln!("TIMING {:?} {options:?}", std::time::SystemTime::now());
        let message = docker.fails(&args);
        assert!(message.contains(expected), "{options:?}: {message}");
    }

    // Remove forgets the definition only.
    remove.now(&docker);
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
    // Bound in this order so that they drop agent first, directory last.
    let Node {
        dir: _dir,
        server,
        agent,
        docker,
    } = Node::start("bound");
    let other = OtherImage::build(&docker, "bound");
    let volume = format!("{}-data", agent.driver);
    let _remove = RemoveVolume {
        name: volume.clone(),
        removed: false,
    };
    // The policy first: creating the volume needs no key, so it works with
    // only an image allowed.
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
    agent.create_volume(&volume, "128M");

    docker.run_with_volume(&volume, "echo kept > /data/note && sync");
    let intruder = format!("{}-intruder", agent.driver);
    let mount = format!("{volume}:/data");
    let message = refused_start(&docker, &other.name, &mount, &intruder);
    assert!(message.contains(&format!("volume '{volume}'")), "{message}");
    assert!(message.contains("is refused to"), "{message}");
    assert!(mounts_under(&agent.run_dir).is_empty());

    // While the allowed container holds the volume, the other image cannot
    // join it either.
    let holder = format!("{}-holder", agent.driver);
    let holder_guard = hold(&docker, &holder, &mount);
    let message = refused_start(&docker, &other.name, &mount, &intruder);
    assert!(message.contains("is refused to"), "{message}");
    assert_eq!(
        docker.ok(&["exec", &holder, "cat", "/data/note"]).trim(),
        "kept"
    );
    drop(holder_guard);
    assert!(mounts_under(&agent.run_dir).is_empty());
}

#[test]
fn a_decommissioned_node_gets_no_secret() {
    // Bound in this order so that they drop agent first, directory last.
    let Node {
        dir: _dir,
        server,
        agent,
        docker,
    } = Node::start("gone");
    let secret = format!("{}-token", agent.driver);
    let value = format!("decommission-value-{}", std::process::id());
    grant_secret(&server, &secret, &value, &[&image_id(&docker, IMAGE)]);
    let volume = format!("{}-secrets", agent.driver);
    let _remove = secret_volume(&docker, &agent, &volume, &secret, &[]);
    let read = read_secret(&docker, &volume, &secret);
    assert_eq!(read, value);

    cli_ok(&server, &["node", "decommission", &agent.node_id()]);
    let message = refused_start(
        &docker,
        IMAGE,
        &format!("{volume}:/run/secrets:ro"),
        &format!("{}-after", agent.driver),
    );
    assert!(!message.contains(&value), "{message}");
    assert_nothing_left(&agent, &value);
}

#[test]
fn without_the_docker_engine_a_secret_volume_is_not_mounted() {
    let docker = Docker::connect();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let missing = dir.path().join("no-docker.sock");
    let agent = Agent::start_with(
        &server,
        dir.path(),
        "nodocker",
        &dir.path().join("storage"),
        &["--docker-socket", &missing.to_string_lossy()],
    );
    let secret = format!("{}-pw", agent.driver);
    let value = format!("no-docker-value-{}", std::process::id());
    grant_secret(&server, &secret, &value, &[&image_id(&docker, IMAGE)]);
    let volume = format!("{}-secrets", agent.driver);
    let _remove = secret_volume(&docker, &agent, &volume, &secret, &[]);
    let message = refused_start(
        &docker,
        IMAGE,
        &format!("{volume}:/run/secrets:ro"),
        &format!("{}-c", agent.driver),
    );
    assert!(
        message.contains("cannot reach the Docker engine"),
        "{message}"
    );
    assert!(message.contains("--docker-socket"), "{message}");
    assert_nothing_left(&agent, &value);
}

#[test]
fn a_restarted_agent_removes_the_secret_tmpfs_a_crashed_one_left() {
    let Node {
        dir: _dir,
        server,
        mut agent,
        docker,
    } = Node::start("crash");
    let secret = format!("{}-pw", agent.driver);
    let value = format!("crash-value-{}", std::process::id());
    grant_secret(&server, &secret, &value, &[&image_id(&docker, IMAGE)]);
    let volume = format!("{}-secrets", agent.driver);
    let _remove = secret_volume(&docker, &agent, &volume, &secret, &[]);
    let holder = format!("{}-holder", agent.driver);
    let holder_guard = hold(&docker, &holder, &format!("{volume}:/run/secrets:ro"));
    assert_eq!(mounts_under(&agent.run_dir).len(), 1);

    agent.crash_and_restart();
    assert_nothing_left(&agent, &value);
    // The running container keeps the files it was given.
    let file = format!("/run/secrets/{secret}");
    assert_eq!(docker.ok(&["exec", &holder, "cat", &file]), value);
    drop(holder_guard);
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

/// `docker service create` of `service` running `image`, whose one task
/// prints `secret` and waits; removed when the guard drops.
fn create_service(docker: &Docker, service: &str, secret: &str, image: &str) -> RemoveSwarmObject {
    let command = format!("cat /run/secrets/{secret}; echo; sleep 600");
    docker.ok(&[
        "service",
        "create",
        "--detach",
        "--quiet",
        "--name",
        service,
        "--no-resolve-image",
        "--restart-condition",
        "none",
        "--secret",
        secret,
        image,
        "sh",
        "-c",
        &command,
    ]);
    RemoveSwarmObject("service", service.to_owned())
}

/// Polls until no container of (removed) `service` is left.
fn wait_until_gone(docker: &Docker, service: &str) {
    let filter = format!("label=com.docker.swarm.service.name={service}");
    wait_until(&format!("service {service} to go away"), || {
        docker
            .ok(&["ps", "--all", "--quiet", "--filter", &filter])
            .trim()
            .is_empty()
    });
}

/// Polls `docker service ps` of `service` until its task failed; the error.
fn task_failure(docker: &Docker, service: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let tasks = docker.ok(&[
            "service",
            "ps",
            "--no-trunc",
            "--format",
            "{{.CurrentState}}|{{.Error}}",
            service,
        ]);
        if tasks.starts_with("Failed") || tasks.starts_with("Rejected") {
            return tasks;
        }
        assert!(
            Instant::now() < deadline && !tasks.starts_with("Running"),
            "the task of {service} did not fail: {tasks}"
        );
        std::thread::sleep(Duration::from_millis(500));
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
fn a_swarm_service_reads_a_secret_from_the_secret_provider_and_another_image_none() {
    // Bound in this order so that they drop agent first, directory last.
    let Node {
        dir: _dir,
        server,
        agent,
        docker,
    } = Node::start("swarm");

    let state = docker.ok(&["info", "--format", "{{.Swarm.LocalNodeState}}"]);
    let joined_here = state.trim() == "inactive";
    if joined_here {
        docker.ok(&["swarm", "init", "--advertise-addr", "127.0.0.1"]);
    }
    let _leave = LeaveSwarm(joined_here);

    let secret = format!("{}-api-key", agent.driver);
    let value = format!("swarm-value-{}", std::process::id());
    let service = format!("{}-web", agent.driver);
    let digest = image_id(&docker, IMAGE);
    grant_secret(&server, &secret, &value, &[&digest, "--service", &service]);

    docker.ok(&["secret", "create", "--driver", &agent.driver, &secret]);
    let _secret = RemoveSwarmObject("secret", secret.clone());
    let service_guard = create_service(&docker, &service, &secret, IMAGE);
    assert_eq!(service_output(&docker, &service).trim(), value);
    drop(service_guard);

    // A service of another image gets nothing. (Docker 20.10 keeps a
    // provider's secret on a node while a task there uses it and hands it to
    // any other task of the node asking for the same swarm secret; newer
    // engines honour the provider's DoNotReuse. So the allowed task goes
    // first.)
    wait_until_gone(&docker, &service);
    let other = OtherImage::build(&docker, "swarm");
    let denied = format!("{}-other", agent.driver);
    let _denied_guard = create_service(&docker, &denied, &secret, &other.name);
    let failure = task_failure(&docker, &denied);
    assert!(failure.contains("secret"), "{failure}");
    let logs = docker.ok(&["service", "logs", "--raw", &denied]);
    assert!(!logs.contains(&value), "{logs}");
}
