//! Secret volumes: `docker volume create -d cryptainer --opt type=secrets
//! --opt secrets=db-password,api-key --opt uid=999 NAME` defines a volume
//! whose files are secrets of the key manager (`crate::driver::AgentDriver`
//! sends such volumes here).
//!
//! * Create checks the options and keeps the definition (secret names,
//!   owner, mode; nothing secret) in `<data-dir>/secret-volumes/NAME.json`,
//!   so Docker finds the volume again after a restart.
//! * Mount asks the Docker engine which containers are starting with the
//!   volume, has the key manager deliver each secret for them (it refuses
//!   unless a policy grants every secret to every one), then mounts a fresh
//!   tmpfs (`nosuid,nodev,noexec`, as large as the values) under
//!   `<run-dir>/secrets/NAME` and writes each secret as a file owned by
//!   `uid`:`gid` with `mode`. Nothing is mounted unless every secret came.
//! * A second container joining a mounted volume is checked the same way.
//! * The last Unmount overwrites the files with zeros, unmounts the tmpfs and
//!   removes its directory; a tmpfs a previous run left is removed at start.
//! * Remove deletes the definition only.
//!
//! Secret values live in wiped buffers and in the tmpfs: never on disk.

use std::collections::BTreeMap;
use std::fs::DirBuilder;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use api::NodeApi;
use api::policies::WorkloadClaim;
use api::secrets::DeliverRequest;
use plugin::{DriverError, ErrorKind, Volume};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::AgentError;
use crate::shared::Shared;

/// Most secrets one volume may hold.
const MAX_SECRETS: usize = 64;

/// Longest secret name, as the key manager allows.
const MAX_NAME: usize = 128;

/// Largest secret value the key manager stores.
const MAX_VALUE_BYTES: usize = 64 * 1024;

/// The tmpfs's unit of size.
const PAGE: usize = 4096;

/// File mode of the secrets unless `--opt mode` says otherwise.
const DEFAULT_MODE: u32 = 0o400;

/// What `docker volume create --opt` accepts for a secret volume.
const OPTIONS_HELP: &str = "type=secrets, secrets=NAME[,NAME...], uid=N, gid=N and mode=0400";

/// A secret volume as created: which secrets, owned by whom, with what mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Definition {
    secrets: Vec<String>,
    uid: u32,
    gid: u32,
    mode: u32,
    created_at: String,
}

fn invalid(message: impl Into<String>) -> DriverError {
    DriverError::new(ErrorKind::InvalidArgument, message)
}

fn internal(message: impl std::fmt::Display) -> DriverError {
    DriverError::new(ErrorKind::Internal, message.to_string())
}

/// Whether `name` is a secret name the agent can also use as a file name.
pub(crate) fn check_secret_name(name: &str) -> Result<(), DriverError> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(invalid(format!(
            "'{name}' is not a secret name; names are 1 to {MAX_NAME} of A-Z, a-z, 0-9, '.', '_' and '-', not starting with '.'"
        )))
    }
}

fn parse_id(key: &str, value: &str) -> Result<u32, DriverError> {
    let valid = !value.is_empty() && value.len() <= 10 && value.bytes().all(|b| b.is_ascii_digit());
    valid
        .then(|| value.parse::<u32>().ok())
        .flatten()
        .filter(|id| *id != u32::MAX)
        .ok_or_else(|| {
            invalid(format!(
                "{key}='{value}' is not a numeric {key}; give the number the container's user has, for example {key}=999"
            ))
        })
}

fn parse_mode(value: &str) -> Result<u32, DriverError> {
    let digits = value.strip_prefix('0').unwrap_or(value);
    let mode = (!digits.is_empty() && digits.len() <= 3)
        .then(|| u32::from_str_radix(digits, 8).ok())
        .flatten();
    match mode {
        Some(mode) if mode & !0o444 == 0 && mode & 0o400 != 0 => Ok(mode),
        _ => Err(invalid(format!(
            "mode='{value}' is not allowed; secrets are read-only files readable by their owner: 0400 (the default), 0440 or 0444"
        ))),
    }
}

/// Reads `docker volume create --opt` values into a definition; every
/// mistake is named.
fn parse_definition(
    options: &BTreeMap<String, String>,
    created_at: String,
) -> Result<Definition, DriverError> {
    let mut secrets = None;
    let mut uid = None;
    let mut gid = None;
    let mut mode = DEFAULT_MODE;
    for (key, value) in options {
        match key.as_str() {
            "type" if value == "secrets" => {}
            "type" => {
                return Err(invalid(format!(
                    "type='{value}' is not a volume type; use type=secrets, or leave type out for an encrypted volume"
                )));
            }
            "secrets" => {
                let mut names: Vec<String> = Vec::new();
                for name in value.split(',').map(str::trim) {
                    check_secret_name(name)?;
                    if names.iter().any(|seen| seen == name) {
                        return Err(invalid(format!(
                            "secret '{name}' is named twice in secrets="
                        )));
                    }
                    names.push(name.to_owned());
                }
                if names.len() > MAX_SECRETS {
                    return Err(invalid(format!(
                        "a secret volume holds at most {MAX_SECRETS} secrets; {} were named",
                        names.len()
                    )));
                }
                secrets = Some(names);
            }
            "uid" => uid = Some(parse_id("uid", value)?),
            "gid" => gid = Some(parse_id("gid", value)?),
            "mode" => mode = parse_mode(value)?,
            other => {
                return Err(invalid(format!(
                    "unknown option '{other}'; secret volumes accept {OPTIONS_HELP}"
                )));
            }
        }
    }
    let secrets = secrets.ok_or_else(|| {
        invalid("a secret volume needs secrets=NAME[,NAME...]: the key manager's secrets it holds")
    })?;
    let uid = uid.unwrap_or(0);
    Ok(Definition {
        secrets,
        uid,
        gid: gid.unwrap_or(uid),
        mode,
        created_at,
    })
}

/// Has the key manager deliver `secret` for `claims` through `api`; the
/// refusal names the secret and the reason. The value comes back in wiped
/// memory.
pub(crate) async fn deliver(
    api: &dyn NodeApi,
    secret: &str,
    claims: Vec<WorkloadClaim>,
) -> Result<Zeroizing<Vec<u8>>, DriverError> {
    let request = DeliverRequest {
        tenant: None,
        workloads: claims,
    };
    let delivered = api
        .deliver_secret(secret, &request)
        .await
        .map_err(|error| {
            let error = AgentError::from_api("deliver the secret", error);
            let kind = match &error {
                AgentError::Refused {
                    status: 401 | 403, ..
                } => ErrorKind::Refused,
                AgentError::Refused { status: 404, .. } => ErrorKind::NotFound,
                AgentError::Http { .. } => ErrorKind::Unavailable,
                _ => ErrorKind::Internal,
            };
            DriverError::new(kind, format!("secret '{secret}': {error}"))
        })?;
    let value = delivered.value.decode_base64().map_err(|_| {
        internal(format!(
            "the key manager's value of secret '{secret}' is not base64"
        ))
    })?;
    if value.len() > MAX_VALUE_BYTES {
        return Err(internal(format!(
            "the key manager's value of secret '{secret}' is larger than {MAX_VALUE_BYTES} bytes"
        )));
    }
    Ok(value)
}

/// The secret volumes of this node.
pub(crate) struct SecretVolumes {
    shared: Arc<Shared>,
    definitions: PathBuf,
    mount_root: PathBuf,
}

impl SecretVolumes {
    /// Secret volumes defined in the data directory, mounted under
    /// `run_dir/secrets`; removes the tmpfs a previous run left there.
    pub(crate) fn new(shared: Arc<Shared>, run_dir: &Path) -> Result<SecretVolumes, AgentError> {
        let definitions = shared.data_dir().join("secret-volumes");
        let mount_root = run_dir.join("secrets");
        for dir in [&definitions, &mount_root] {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|source| AgentError::Io {
                    action: "create directory",
                    path: dir.clone(),
                    source,
                })?;
        }
        let volumes = SecretVolumes {
            shared,
            definitions,
            mount_root,
        };
        volumes.remove_leftovers();
        Ok(volumes)
    }

    fn definition_path(&self, name: &str) -> PathBuf {
        self.definitions.join(format!("{name}.json"))
    }

    /// Whether `name` is a secret volume of this node.
    pub(crate) fn defines(&self, name: &str) -> bool {
        self.definition_path(name).is_file()
    }

    fn load(&self, name: &str) -> Result<Definition, DriverError> {
        let path = self.definition_path(name);
        let bytes = std::fs::read(&path).map_err(|error| {
            DriverError::new(
                ErrorKind::NotFound,
                format!("no secret volume '{name}' ({}: {error})", path.display()),
            )
        })?;
        serde_json::from_slice(&bytes).map_err(|error| {
            internal(format!(
                "the definition of secret volume '{name}' ({}) is damaged: {error}; remove the volume and create it again",
                path.display()
            ))
        })
    }

    fn to_volume(name: String, definition: Definition) -> Volume {
        Volume {
            name,
            mountpoint: String::new(),
            created_at: definition.created_at,
            status: BTreeMap::from([
                ("type".to_owned(), "secrets".to_owned()),
                ("secrets".to_owned(), definition.secrets.join(",")),
                ("uid".to_owned(), definition.uid.to_string()),
                ("gid".to_owned(), definition.gid.to_string()),
                ("mode".to_owned(), format!("{:04o}", definition.mode)),
            ]),
        }
    }

    pub(crate) async fn create(
        &self,
        name: String,
        options: BTreeMap<String, String>,
    ) -> Result<(), DriverError> {
        let created_at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(internal)?;
        let definition = parse_definition(&options, created_at)?;
        if self.defines(&name) {
            return Err(DriverError::new(
                ErrorKind::Conflict,
                format!(
                    "secret volume '{name}' exists already; remove it first to define it again"
                ),
            ));
        }
        let text = serde_json::to_vec_pretty(&definition).map_err(internal)?;
        crate::files::write_atomically(&self.definition_path(&name), &text, 0o600).map_err(internal)
    }

    pub(crate) async fn remove(&self, name: String) -> Result<(), DriverError> {
        std::fs::remove_file(self.definition_path(&name)).map_err(internal)
    }

    /// Every secret of the volume, delivered for the containers starting
    /// with it now.
    async fn fetch(
        &self,
        name: &str,
        definition: &Definition,
    ) -> Result<Vec<(String, Zeroizing<Vec<u8>>)>, DriverError> {
        let claims = self
            .shared
            .docker()
            .claims_for_volume(name)
            .await
            .map_err(crate::docker::unavailable)?;
        let api = self.shared.api();
        let mut values = Vec::with_capacity(definition.secrets.len());
        for secret in &definition.secrets {
            let value = deliver(api.as_ref(), secret, claims.clone())
                .await
                .map_err(|error| {
                    DriverError::new(
                        error.kind,
                        format!("secret volume '{name}' is not mounted: {}", error.message),
                    )
                })?;
            values.push((secret.clone(), value));
        }
        Ok(values)
    }

    pub(crate) async fn mount(&self, name: String) -> Result<PathBuf, DriverError> {
        let definition = self.load(&name)?;
        let values = self.fetch(&name, &definition).await?;
        let target = self.mount_root.join(&name);
        let populated = tokio::task::spawn_blocking({
            let target = target.clone();
            move || {
                let result = populate(&target, &definition, &values);
                if result.is_err() {
                    take_down(&target, Wipe::Yes);
                }
                result
            }
        })
        .await
        .map_err(internal)?;
        populated.map(|()| target)
    }

    pub(crate) async fn admit(&self, name: String) -> Result<(), DriverError> {
        let definition = self.load(&name)?;
        let target = self.mount_root.join(&name);
        if !volume::mount::is_mounted(&target).unwrap_or(false) {
            return Err(DriverError::new(
                ErrorKind::Internal,
                format!(
                    "secret volume '{name}' lost its files when the agent restarted; stop the containers using it and start them again"
                ),
            ));
        }
        // The values are not needed: the files are there. Delivery is how
        // the key manager decides (and audits) for the joining container.
        self.fetch(&name, &definition).await.map(drop)
    }

    pub(crate) async fn unmount(&self, name: String) -> Result<(), DriverError> {
        let target = self.mount_root.join(&name);
        tokio::task::spawn_blocking(move || take_down(&target, Wipe::Yes))
            .await
            .map_err(internal)
    }

    pub(crate) async fn get(&self, name: String) -> Result<Volume, DriverError> {
        let definition = self.load(&name)?;
        Ok(SecretVolumes::to_volume(name, definition))
    }

    pub(crate) fn list(&self) -> Result<Vec<Volume>, DriverError> {
        let mut volumes = Vec::new();
        for entry in std::fs::read_dir(&self.definitions).map_err(internal)? {
            let path = entry.map_err(internal)?.path();
            let Some(name) = path
                .file_name()
                .and_then(|file| file.to_str())
                .and_then(|file| file.strip_suffix(".json"))
            else {
                continue;
            };
            match self.load(name) {
                Ok(definition) => {
                    volumes.push(SecretVolumes::to_volume(name.to_owned(), definition))
                }
                Err(error) => tracing::warn!(volume = name, %error, "skipping a secret volume"),
            }
        }
        Ok(volumes)
    }

    /// Takes down every secret tmpfs under the mount root: at start, none is
    /// in use by this run. They are not zeroed: a container still running
    /// keeps its own mount of the same tmpfs (and its files), which the
    /// kernel frees when that container ends.
    fn remove_leftovers(&self) {
        let Ok(entries) = std::fs::read_dir(&self.mount_root) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            tracing::info!(path = %path.display(), "removing a secret volume left by a previous run");
            take_down(&path, Wipe::No);
        }
    }
}

/// Mounts the tmpfs at `target` and writes each secret into it.
fn populate(
    target: &Path,
    definition: &Definition,
    values: &[(String, Zeroizing<Vec<u8>>)],
) -> Result<(), DriverError> {
    let io = |action: &str, path: &Path, error: std::io::Error| {
        internal(format!("could not {action} {}: {error}", path.display()))
    };
    // A directory of an earlier mount that failed half-way goes first.
    take_down(target, Wipe::Yes);
    DirBuilder::new()
        .mode(0o700)
        .create(target)
        .map_err(|error| io("create", target, error))?;
    // Exactly as large as the values: nothing else fits.
    let pages: usize = values
        .iter()
        .map(|(_, value)| value.len().div_ceil(PAGE).max(1))
        .sum::<usize>()
        .saturating_add(1);
    // Directory readable (and searchable) by whoever may read the files.
    let dir_mode = definition.mode | ((definition.mode & 0o444) >> 2);
    let data = format!(
        "size={},nr_inodes={},mode={:04o},uid={},gid={}",
        pages.saturating_mul(PAGE),
        values.len().saturating_add(8),
        dir_mode,
        definition.uid,
        definition.gid
    );
    let data = std::ffi::CString::new(data).map_err(internal)?;
    rustix::mount::mount(
        "cryptainer-secrets",
        target,
        "tmpfs",
        rustix::mount::MountFlags::NOSUID
            | rustix::mount::MountFlags::NODEV
            | rustix::mount::MountFlags::NOEXEC,
        data.as_c_str(),
    )
    .map_err(|errno| {
        internal(format!(
            "could not mount a tmpfs on {}: {errno}",
            target.display()
        ))
    })?;
    for (secret, value) in values {
        let path = target.join(secret);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(definition.mode)
            .open(&path)
            .map_err(|error| io("create", &path, error))?;
        file.write_all(value)
            .map_err(|error| io("write", &path, error))?;
        std::os::unix::fs::fchown(&file, Some(definition.uid), Some(definition.gid))
            .map_err(|error| io("give to its owner", &path, error))?;
        file.set_permissions(std::fs::Permissions::from_mode(definition.mode))
            .map_err(|error| io("set the mode of", &path, error))?;
    }
    Ok(())
}

/// Whether [`take_down`] overwrites the files first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wipe {
    /// No container uses the tmpfs any more (Docker's last Unmount).
    Yes,
    /// A container may still use it.
    No,
}

/// Overwrites the secret files with zeros (if `zero_first` says so), unmounts the
/// tmpfs at `target` and removes the directory; what is not there is
/// skipped.
fn take_down(target: &Path, zero_first: Wipe) {
    if volume::mount::is_mounted(target).unwrap_or(false) {
        if let (Wipe::Yes, Ok(entries)) = (zero_first, std::fs::read_dir(target)) {
            for entry in entries.flatten() {
                wipe(&entry.path());
            }
        }
        if let Err(error) = volume::mount::unmount(target) {
            tracing::warn!(path = %target.display(), %error, "the secret tmpfs is busy; detaching it");
            if let Err(error) = volume::mount::unmount_lazy(target) {
                tracing::error!(path = %target.display(), %error, "could not unmount a secret tmpfs");
                return;
            }
        }
    }
    match std::fs::remove_dir(target) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            tracing::warn!(path = %target.display(), %error, "could not remove a secret volume's directory");
        }
    }
}

/// Overwrites a file of the tmpfs with zeros, so its pages hold no secret
/// when the tmpfs gives them back.
fn wipe(path: &Path) {
    let Ok(metadata) = std::fs::symlink_metadata(path) else {
        return;
    };
    if !metadata.is_file() {
        return;
    }
    let length = usize::try_from(metadata.len()).unwrap_or(MAX_VALUE_BYTES);
    let wiped = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|mut file| file.write_all(&vec![0; length.min(MAX_VALUE_BYTES)]));
    if let Err(error) = wiped {
        tracing::warn!(path = %path.display(), %error, "could not overwrite a secret file");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::InProcessServer;

    #[tokio::test]
    async fn a_secret_is_delivered_only_for_workloads_a_policy_grants_it_to() {
        let server = InProcessServer::new();
        server.add_secret("db-password", b"hunter2", &["sha256:db"]);
        let claim = |digest: &str| WorkloadClaim {
            container_name: Some("app".to_owned()),
            image_digest: Some(digest.to_owned()),
            ..WorkloadClaim::default()
        };
        let refused = deliver(server.as_ref(), "db-password", vec![claim("sha256:other")])
            .await
            .map(drop)
            .unwrap_err();
        assert_eq!(refused.kind, ErrorKind::Refused);
        assert!(
            refused.message.starts_with("secret 'db-password': "),
            "{}",
            refused.message
        );
        assert!(
            refused.message.contains("is refused to"),
            "{}",
            refused.message
        );
        let missing = deliver(server.as_ref(), "nope", vec![claim("sha256:db")])
            .await
            .map(drop)
            .unwrap_err();
        assert_eq!(missing.kind, ErrorKind::NotFound);
        let value = deliver(server.as_ref(), "db-password", vec![claim("sha256:db")])
            .await
            .unwrap();
        assert_eq!(value.as_slice(), b"hunter2");
    }

    fn options(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    /// The definition `pairs` make, or the error's message.
    fn check(pairs: &[(&str, &str)]) -> Result<(String, u32, u32, u32), String> {
        parse_definition(&options(pairs), String::new())
            .map(|definition| {
                let secrets = definition.secrets.join(",");
                (secrets, definition.uid, definition.gid, definition.mode)
            })
            .map_err(|error| error.message)
    }

    #[test]
    fn reads_the_options_people_write() {
        assert_eq!(
            check(&[
                ("type", "secrets"),
                ("secrets", "db-password,api-key"),
                ("uid", "999")
            ]),
            Ok(("db-password,api-key".to_owned(), 999, 999, 0o400))
        );
        assert_eq!(
            check(&[
                ("type", "secrets"),
                ("secrets", " a , b.c "),
                ("uid", "1000"),
                ("gid", "50"),
                ("mode", "0440"),
            ]),
            Ok(("a,b.c".to_owned(), 1000, 50, 0o440))
        );
        assert_eq!(
            check(&[("type", "secrets"), ("secrets", "a"), ("mode", "444")]),
            Ok(("a".to_owned(), 0, 0, 0o444))
        );
    }

    #[test]
    fn rejects_options_with_a_message_naming_the_mistake() {
        let refused = |pairs: &[(&str, &str)], expected: &str| {
            let message = check(pairs).unwrap_err();
            assert!(message.contains(expected), "{pairs:?}: {message}");
        };
        refused(&[("type", "secrets")], "needs secrets=");
        refused(&[("type", "secret"), ("secrets", "a")], "type='secret'");
        refused(
            &[("type", "secrets"), ("secrets", "")],
            "'' is not a secret name",
        );
        refused(
            &[("type", "secrets"), ("secrets", "a,,b")],
            "'' is not a secret name",
        );
        refused(
            &[("type", "secrets"), ("secrets", "../x")],
            "'../x' is not a secret name",
        );
        refused(&[("type", "secrets"), ("secrets", "a,a")], "named twice");
        refused(
            &[("type", "secrets"), ("secrets", "a"), ("uid", "-1")],
            "uid='-1'",
        );
        refused(
            &[("type", "secrets"), ("secrets", "a"), ("uid", "root")],
            "uid='root'",
        );
        refused(
            &[
                ("type", "secrets"),
                ("secrets", "a"),
                ("gid", "99999999999"),
            ],
            "gid='99999999999'",
        );
        refused(
            &[("type", "secrets"), ("secrets", "a"), ("mode", "0600")],
            "mode='0600'",
        );
        refused(
            &[("type", "secrets"), ("secrets", "a"), ("mode", "0040")],
            "mode='0040'",
        );
        refused(
            &[("type", "secrets"), ("secrets", "a"), ("mode", "rw")],
            "mode='rw'",
        );
        refused(
            &[("type", "secrets"), ("secrets", "a"), ("mode", "4400")],
            "mode='4400'",
        );
        refused(
            &[("type", "secrets"), ("secrets", "a"), ("size", "1M")],
            "unknown option 'size'",
        );
        let many: Vec<String> = (0..=MAX_SECRETS).map(|index| format!("s{index}")).collect();
        refused(
            &[("type", "secrets"), ("secrets", &many.join(","))],
            "at most 64",
        );
    }
}
