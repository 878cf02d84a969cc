//! Access policies: which workloads may open which volumes and read which
//! secrets. Deny by default.
//!
//! A [`Policy`] grants a subject, described by a [`Selector`], access to named
//! volumes and secrets of its tenant. [`decide`] checks one [`Workload`] (what
//! runs: the node from its certificate, the container from the Docker engine)
//! against every policy for one [`Resource`] and returns a [`Decision`] that
//! says why, so `cryptainer policy check` can explain a refusal and the audit
//! log can record it.
//!
//! The rules, in order:
//! 1. A resource that some policy names is granted only to a workload that one
//!    of those policies' subject matches. Every selector a subject sets must
//!    match; a selector it leaves empty matches anything.
//! 2. A volume that no policy names keeps working for the node that created it
//!    (volumes made before any policy existed), and for nobody else.
//! 3. Everything else is refused: a secret no policy names, a workload no
//!    subject matches.
//!
//! This crate is pure: no I/O, no clock, no keys.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Longest list a selector or a policy may hold: policies are written by
/// people, and a bound keeps a decision's cost predictable.
pub const MAX_ITEMS: usize = 256;

/// What runs and asks: the node (from its certificate, verified by the key
/// manager) and the container (reported by the node's agent from the Docker
/// engine, so exactly as trustworthy as the node).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// The node's id.
    pub node_id: String,
    /// The node's role (`agent`).
    #[serde(default)]
    pub node_role: String,
    /// The node's labels.
    #[serde(default)]
    pub node_labels: BTreeMap<String, String>,
    /// The container image's content digest, `sha256:<64 hex>`.
    #[serde(default)]
    pub image_digest: Option<String>,
    /// The image's repository digests (`name@sha256:<64 hex>` or
    /// `sha256:<64 hex>`), as `docker image inspect` lists them: the digest a
    /// registry knows the image by, which is what people usually pin.
    #[serde(default)]
    pub repo_digests: Vec<String>,
    /// The container image's name as the container was started with it.
    #[serde(default)]
    pub image: Option<String>,
    /// The Swarm service or Compose service the container belongs to.
    #[serde(default)]
    pub service: Option<String>,
    /// The container's labels.
    #[serde(default)]
    pub container_labels: BTreeMap<String, String>,
}

/// Who a policy grants access to. Each field that is set must match; an empty
/// field matches anything. A selector with every field empty is refused by
/// [`Policy::validate`]: it would grant everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    /// The node id is one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_ids: Vec<String>,
    /// The node role is one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_roles: Vec<String>,
    /// The node has every one of these labels with these values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_labels: BTreeMap<String, String>,
    /// The image digest is one of these (`sha256:<64 hex>`): the strong
    /// binding, since a digest names exactly one image content.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_digests: Vec<String>,
    /// The image name is one of these (normalized: `postgres` is
    /// `docker.io/library/postgres:latest`). Names can be re-pointed at other
    /// content; prefer digests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    /// The service is one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    /// The container has every one of these labels with these values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub container_labels: BTreeMap<String, String>,
}

/// A grant of volumes and secrets of one tenant to a subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The policy's name, unique in its tenant.
    pub name: String,
    /// The tenant whose volumes and secrets it grants.
    pub tenant: String,
    /// Who.
    pub subject: Selector,
    /// Volumes granted, by name.
    #[serde(default)]
    pub volumes: Vec<String>,
    /// Secrets granted, by name.
    #[serde(default)]
    pub secrets: Vec<String>,
}

/// What is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    /// Open a volume.
    Volume {
        /// The volume's name.
        name: &'a str,
        /// The node that created it, if a node did (rule 2).
        creator_node: Option<&'a str>,
    },
    /// Read a secret.
    Secret {
        /// The secret's name.
        name: &'a str,
    },
}

impl Resource<'_> {
    fn describe(&self) -> String {
        match self {
            Resource::Volume { name, .. } => format!("volume '{name}'"),
            Resource::Secret { name } => format!("secret '{name}'"),
        }
    }
}

/// The verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// A policy grants it.
    Allowed {
        /// The first policy whose subject matched.
        policy: String,
    },
    /// A volume no policy names, asked for by the node that created it.
    AllowedUnbound,
    /// Refused.
    Denied,
}

/// A verdict and the reasons for it, one per policy considered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The verdict.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Sentences saying why, for `policy check` and the audit log.
    pub reasons: Vec<String>,
}

impl Decision {
    /// Whether the request may proceed.
    pub fn allowed(&self) -> bool {
        !matches!(self.outcome, Outcome::Denied)
    }
}

/// A policy that cannot be stored.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyError {
    /// The subject sets no selector.
    #[error(
        "policy '{policy}' selects every workload; give at least one of --image-digest, --image, --service, --node, --node-role, --node-label or --container-label"
    )]
    EmptySubject {
        /// The policy.
        policy: String,
    },
    /// It grants nothing.
    #[error("policy '{policy}' grants nothing; name at least one --volume or --secret")]
    NothingGranted {
        /// The policy.
        policy: String,
    },
    /// A digest is not `sha256:` and 64 lowercase hex digits.
    #[error(
        "'{digest}' is not an image digest; digests look like sha256: followed by 64 hex digits (docker image inspect --format '{{{{.Id}}}}')"
    )]
    BadDigest {
        /// What was given.
        digest: String,
    },
    /// A list is longer than [`MAX_ITEMS`].
    #[error("policy '{policy}' lists more than {MAX_ITEMS} {what}")]
    TooMany {
        /// The policy.
        policy: String,
        /// Which list.
        what: &'static str,
    },
    /// A name is empty or has characters outside `[A-Za-z0-9._-]`.
    #[error("'{name}' is not a valid {what} name; use letters, digits, '.', '_' or '-'")]
    BadName {
        /// The name.
        name: String,
        /// What it names.
        what: &'static str,
    },
}

fn check_name(name: &str, what: &'static str) -> Result<(), PolicyError> {
    let valid = !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(PolicyError::BadName {
            name: name.to_owned(),
            what,
        })
    }
}

/// The `sha256:...` part of a repository digest (`name@sha256:...`); a bare
/// digest is returned as it is.
pub fn digest_part(repo_digest: &str) -> &str {
    repo_digest
        .rsplit_once('@')
        .map_or(repo_digest, |(_, digest)| digest)
}

/// Whether `text` is `sha256:` followed by 64 lowercase hex digits.
pub fn is_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
    })
}

impl Selector {
    fn is_empty(&self) -> bool {
        self.node_ids.is_empty()
            && self.node_roles.is_empty()
            && self.node_labels.is_empty()
            && self.image_digests.is_empty()
            && self.images.is_empty()
            && self.services.is_empty()
            && self.container_labels.is_empty()
    }

    /// The first selector that does not match `workload`, as a sentence; `None`
    /// when every set selector matches.
    pub fn mismatch(&self, workload: &Workload) -> Option<String> {
        if !self.node_ids.is_empty() && !self.node_ids.contains(&workload.node_id) {
            return Some(format!(
                "node '{}' is not one of {}",
                workload.node_id,
                list(&self.node_ids)
            ));
        }
        if !self.node_roles.is_empty() && !self.node_roles.contains(&workload.node_role) {
            return Some(format!(
                "node role '{}' is not one of {}",
                workload.node_role,
                list(&self.node_roles)
            ));
        }
        if let Some(missing) = missing_label(&self.node_labels, &workload.node_labels) {
            return Some(format!("the node {missing}"));
        }
        if !self.image_digests.is_empty() {
            let known: Vec<&str> = workload
                .image_digest
                .iter()
                .map(String::as_str)
                .chain(
                    workload
                        .repo_digests
                        .iter()
                        .map(|digest| digest_part(digest)),
                )
                .collect();
            if known.is_empty() {
                return Some("the container's image digest is not known".to_owned());
            }
            if !known
                .iter()
                .any(|digest| self.image_digests.iter().any(|wanted| wanted == digest))
            {
                let shown = if known.len() == 1 {
                    format!("image digest {}", known.join(""))
                } else {
                    format!("none of the image digests {}", known.join(", "))
                };
                return Some(format!(
                    "{shown} is not one of {}",
                    list(&self.image_digests)
                ));
            }
        }
        if !self.images.is_empty() {
            let wanted: Vec<String> = self
                .images
                .iter()
                .map(|image| normalize_image(image))
                .collect();
            match &workload.image {
                Some(image) if wanted.contains(&normalize_image(image)) => {}
                Some(image) => {
                    return Some(format!(
                        "image '{image}' is not one of {}",
                        list(&self.images)
                    ));
                }
                None => return Some("the container's image is not known".to_owned()),
            }
        }
        if !self.services.is_empty() {
            match &workload.service {
                Some(service) if self.services.contains(service) => {}
                Some(service) => {
                    return Some(format!(
                        "service '{service}' is not one of {}",
                        list(&self.services)
                    ));
                }
                None => return Some("the container belongs to no service".to_owned()),
            }
        }
        if let Some(missing) = missing_label(&self.container_labels, &workload.container_labels) {
            return Some(format!("the container {missing}"));
        }
        None
    }
}

fn list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

fn missing_label(
    wanted: &BTreeMap<String, String>,
    present: &BTreeMap<String, String>,
) -> Option<String> {
    wanted
        .iter()
        .find_map(|(key, value)| match present.get(key) {
            Some(found) if found == value => None,
            Some(found) => Some(format!("has label {key}={found}, not {key}={value}")),
            None => Some(format!("has no label {key}")),
        })
}

/// The full reference Docker means by an image name: registry, repository
/// and tag (`postgres` is `docker.io/library/postgres:latest`). A digest
/// reference (`name@sha256:...`) is kept as it is.
pub fn normalize_image(image: &str) -> String {
    if image.contains('@') {
        return image.to_owned();
    }
    let (registry, rest) = match image.split_once('/') {
        // A first component with a dot, a colon or `localhost` is a registry.
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_owned(), rest.to_owned())
        }
        Some(_) => ("docker.io".to_owned(), image.to_owned()),
        None => ("docker.io".to_owned(), format!("library/{image}")),
    };
    let last = rest.rsplit('/').next().unwrap_or_default();
    let tagged = if last.contains(':') {
        rest
    } else {
        format!("{rest}:latest")
    };
    format!("{registry}/{tagged}")
}

impl Policy {
    /// Checks a policy before it is stored.
    pub fn validate(&self) -> Result<(), PolicyError> {
        check_name(&self.name, "policy")?;
        check_name(&self.tenant, "tenant")?;
        if self.subject.is_empty() {
            return Err(PolicyError::EmptySubject {
                policy: self.name.clone(),
            });
        }
        if self.volumes.is_empty() && self.secrets.is_empty() {
            return Err(PolicyError::NothingGranted {
                policy: self.name.clone(),
            });
        }
        let subject = &self.subject;
        for (what, count) in [
            ("volumes", self.volumes.len()),
            ("secrets", self.secrets.len()),
            ("node ids", subject.node_ids.len()),
            ("node roles", subject.node_roles.len()),
            ("node labels", subject.node_labels.len()),
            ("image digests", subject.image_digests.len()),
            ("images", subject.images.len()),
            ("services", subject.services.len()),
            ("container labels", subject.container_labels.len()),
        ] {
            if count > MAX_ITEMS {
                return Err(PolicyError::TooMany {
                    policy: self.name.clone(),
                    what,
                });
            }
        }
        for volume in &self.volumes {
            check_name(volume, "volume")?;
        }
        for secret in &self.secrets {
            check_name(secret, "secret")?;
        }
        if let Some(digest) = subject
            .image_digests
            .iter()
            .find(|digest| !is_digest(digest))
        {
            return Err(PolicyError::BadDigest {
                digest: digest.clone(),
            });
        }
        Ok(())
    }

    fn names(&self, resource: &Resource<'_>) -> bool {
        match resource {
            Resource::Volume { name, .. } => self.volumes.iter().any(|volume| volume == name),
            Resource::Secret { name } => self.secrets.iter().any(|secret| secret == name),
        }
    }
}

/// Decides whether `workload` may have `resource`, given every policy of the
/// resource's tenant. Policies of other tenants must not be passed: the
/// caller filters by tenant.
pub fn decide(policies: &[Policy], workload: &Workload, resource: &Resource<'_>) -> Decision {
    let what = resource.describe();
    let naming: Vec<&Policy> = policies
        .iter()
        .filter(|policy| policy.names(resource))
        .collect();
    if naming.is_empty() {
        return match resource {
            Resource::Volume {
                creator_node: Some(creator),
                ..
            } if *creator == workload.node_id => Decision {
                outcome: Outcome::AllowedUnbound,
                reasons: vec![format!(
                    "no policy names {what}; it stays with node '{creator}', which created it, until a policy names it"
                )],
            },
            Resource::Volume { creator_node, .. } => Decision {
                outcome: Outcome::Denied,
                reasons: vec![match creator_node {
                    Some(creator) => format!(
                        "no policy names {what}; only node '{creator}', which created it, may open it until a policy names it"
                    ),
                    None => format!("no policy names {what}"),
                }],
            },
            Resource::Secret { .. } => Decision {
                outcome: Outcome::Denied,
                reasons: vec![format!(
                    "no policy names {what}; secrets are refused unless a policy grants them"
                )],
            },
        };
    }
    let mut reasons = Vec::with_capacity(naming.len());
    for policy in naming {
        match policy.subject.mismatch(workload) {
            None => {
                reasons.push(format!(
                    "policy '{}' grants {what} to this workload",
                    policy.name
                ));
                return Decision {
                    outcome: Outcome::Allowed {
                        policy: policy.name.clone(),
                    },
                    reasons,
                };
            }
            Some(mismatch) => reasons.push(format!(
                "policy '{}' names {what}, but {mismatch}",
                policy.name
            )),
        }
    }
    Decision {
        outcome: Outcome::Denied,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DIGEST_A: &str =
        "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const DIGEST_B: &str =
        "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    /// The secret `app_db` grants.
    const DB_PASSWORD: Resource<'static> = Resource::Secret {
        name: "db-password",
    };

    fn app_db() -> Policy {
        Policy {
            name: "app-db".to_owned(),
            tenant: "acme".to_owned(),
            subject: Selector {
                image_digests: vec![DIGEST_A.to_owned()],
                ..Selector::default()
            },
            volumes: vec!["pgdata".to_owned()],
            secrets: vec!["db-password".to_owned()],
        }
    }

    fn workload(digest: &str) -> Workload {
        Workload {
            node_id: "n1".to_owned(),
            node_role: "agent".to_owned(),
            image_digest: Some(digest.to_owned()),
            image: Some("postgres:16".to_owned()),
            ..Workload::default()
        }
    }

    fn check(
        policies: &[Policy],
        workload: &Workload,
        resource: Resource<'_>,
        allowed: bool,
        says: &str,
    ) {
        let decision = decide(policies, workload, &resource);
        assert_eq!(decision.allowed(), allowed, "{decision:?}");
        let text = decision.reasons.join("; ");
        assert!(text.contains(says), "'{text}' should say '{says}'");
    }

    #[test]
    fn the_named_image_digest_gets_the_secret_and_another_does_not() {
        let policies = [app_db()];
        check(
            &policies,
            &workload(DIGEST_A),
            DB_PASSWORD,
            true,
            "grants secret 'db-password'",
        );
        check(
            &policies,
            &workload(DIGEST_B),
            DB_PASSWORD,
            false,
            &format!("image digest {DIGEST_B} is not one of [{DIGEST_A}]"),
        );
    }

    #[test]
    fn a_repo_digest_matches_like_the_image_digest() {
        let policies = [app_db()];
        let mut runs = workload(DIGEST_B);
        runs.repo_digests = vec![format!("registry.local/app@{DIGEST_A}")];
        check(
            &policies,
            &runs,
            DB_PASSWORD,
            true,
            "grants secret 'db-password'",
        );
        runs.image_digest = None;
        runs.repo_digests = vec![DIGEST_A.to_owned()];
        check(&policies, &runs, DB_PASSWORD, true, "grants");
        runs.image_digest = Some(DIGEST_B.to_owned());
        runs.repo_digests = vec![format!("app@{DIGEST_B}")];
        check(
            &policies,
            &runs,
            DB_PASSWORD,
            false,
            "none of the image digests",
        );
        runs.image_digest = None;
        runs.repo_digests.clear();
        check(
            &policies,
            &runs,
            DB_PASSWORD,
            false,
            "image digest is not known",
        );
        assert_eq!(digest_part(&format!("a/b@{DIGEST_A}")), DIGEST_A);
        assert_eq!(digest_part(DIGEST_A), DIGEST_A);
    }

    #[test]
    fn secrets_no_policy_names_are_refused() {
        check(
            &[app_db()],
            &workload(DIGEST_A),
            Resource::Secret { name: "api-key" },
            false,
            "no policy names secret 'api-key'",
        );
        check(
            &[],
            &workload(DIGEST_A),
            Resource::Secret { name: "api-key" },
            false,
            "refused unless a policy grants",
        );
    }

    #[test]
    fn an_unnamed_volume_stays_with_its_creating_node() {
        let resource = |creator| Resource::Volume {
            name: "scratch",
            creator_node: creator,
        };
        check(
            &[app_db()],
            &workload(DIGEST_B),
            resource(Some("n1")),
            true,
            "stays with node 'n1'",
        );
        check(
            &[app_db()],
            &workload(DIGEST_B),
            resource(Some("n2")),
            false,
            "only node 'n2'",
        );
        check(
            &[],
            &workload(DIGEST_B),
            resource(None),
            false,
            "no policy names volume 'scratch'",
        );
    }

    #[test]
    fn once_named_a_volume_follows_the_policy_even_for_its_creator() {
        let resource = Resource::Volume {
            name: "pgdata",
            creator_node: Some("n1"),
        };
        check(
            &[app_db()],
            &workload(DIGEST_B),
            resource,
            false,
            "names volume 'pgdata', but image digest",
        );
        check(
            &[app_db()],
            &workload(DIGEST_A),
            resource,
            true,
            "grants volume 'pgdata'",
        );
    }

    #[test]
    fn every_set_selector_must_match() {
        let mut policy = app_db();
        policy.subject.services = vec!["db".to_owned()];
        policy.subject.node_labels = BTreeMap::from([("zone".to_owned(), "eu".to_owned())]);
        let mut runs = workload(DIGEST_A);
        check(
            &[policy.clone()],
            &runs,
            DB_PASSWORD,
            false,
            "the node has no label zone",
        );
        runs.node_labels.insert("zone".to_owned(), "us".to_owned());
        check(
            &[policy.clone()],
            &runs,
            DB_PASSWORD,
            false,
            "has label zone=us, not zone=eu",
        );
        runs.node_labels.insert("zone".to_owned(), "eu".to_owned());
        check(
            &[policy.clone()],
            &runs,
            DB_PASSWORD,
            false,
            "belongs to no service",
        );
        runs.service = Some("db".to_owned());
        check(&[policy], &runs, DB_PASSWORD, true, "grants");
    }

    #[test]
    fn any_of_several_policies_may_grant() {
        let mut other = app_db();
        other.name = "migrations".to_owned();
        other.subject = Selector {
            images: vec!["postgres:16".to_owned()],
            ..Selector::default()
        };
        let decision = decide(&[app_db(), other], &workload(DIGEST_B), &DB_PASSWORD);
        assert_eq!(
            decision.outcome,
            Outcome::Allowed {
                policy: "migrations".to_owned()
            }
        );
        assert_eq!(
            decision.reasons.len(),
            2,
            "the refusal by app-db is explained too"
        );
    }

    #[test]
    fn image_names_are_compared_as_docker_resolves_them() {
        assert_eq!(
            normalize_image("postgres"),
            "docker.io/library/postgres:latest"
        );
        assert_eq!(
            normalize_image("postgres:16"),
            "docker.io/library/postgres:16"
        );
        assert_eq!(
            normalize_image("bitnami/redis"),
            "docker.io/bitnami/redis:latest"
        );
        assert_eq!(
            normalize_image("registry.local:5000/team/app:1.2"),
            "registry.local:5000/team/app:1.2"
        );
        assert_eq!(normalize_image("localhost/app"), "localhost/app:latest");
        assert_eq!(normalize_image("app@sha256:abc"), "app@sha256:abc");
        let mut runs = workload(DIGEST_B);
        runs.image = Some("docker.io/library/postgres:16".to_owned());
        let policy = Policy {
            subject: Selector {
                images: vec!["postgres:16".to_owned()],
                ..Selector::default()
            },
            ..app_db()
        };
        check(&[policy], &runs, DB_PASSWORD, true, "grants");
    }

    #[test]
    fn rejects_policies_that_grant_everyone_or_nothing() {
        let mut everyone = app_db();
        everyone.subject = Selector::default();
        assert!(matches!(
            everyone.validate(),
            Err(PolicyError::EmptySubject { .. })
        ));
        let mut nothing = app_db();
        nothing.volumes.clear();
        nothing.secrets.clear();
        assert!(matches!(
            nothing.validate(),
            Err(PolicyError::NothingGranted { .. })
        ));
        let mut short = app_db();
        short.subject.image_digests = vec!["sha256:abc".to_owned()];
        let message = short.validate().unwrap_err().to_string();
        assert!(message.contains("64 hex digits"), "{message}");
        let mut upper = app_db();
        upper.subject.image_digests = vec![DIGEST_A.to_uppercase().replace("SHA256", "sha256")];
        assert!(upper.validate().is_err());
        let mut bad_name = app_db();
        bad_name.secrets = vec!["../x".to_owned()];
        assert!(matches!(
            bad_name.validate(),
            Err(PolicyError::BadName { .. })
        ));
        let mut many = app_db();
        many.volumes = (0..=MAX_ITEMS).map(|index| format!("v{index}")).collect();
        assert!(matches!(many.validate(), Err(PolicyError::TooMany { .. })));
        assert_eq!(app_db().validate(), Ok(()));
    }

    #[test]
    fn policies_round_trip_through_json_and_reject_unknown_fields() {
        let text = serde_json::to_string(&app_db()).unwrap();
        assert_eq!(serde_json::from_str::<Policy>(&text).unwrap(), app_db());
        let unknown = text.replace("\"volumes\"", "\"volumez\"");
        assert!(serde_json::from_str::<Policy>(&unknown).is_err());
    }

    fn arbitrary_selector() -> impl Strategy<Value = Selector> {
        let names = prop::collection::vec("[a-c]", 0..3);
        (names.clone(), names.clone(), names).prop_map(|(node_ids, services, images)| Selector {
            node_ids,
            services,
            images,
            ..Selector::default()
        })
    }

    proptest! {
        /// Deny by default: a secret is only ever allowed by a policy that
        /// names it and whose subject matches.
        #[test]
        fn a_secret_is_allowed_only_by_a_matching_policy_that_names_it(
            selectors in prop::collection::vec(arbitrary_selector(), 0..4),
            named in prop::collection::vec(any::<bool>(), 4),
            node in "[a-c]", service in "[a-c]", image in "[a-c]",
        ) {
            let policies: Vec<Policy> = selectors.into_iter().zip(named).enumerate().map(|(index, (subject, names))| Policy {
                name: format!("p{index}"),
                tenant: "t".to_owned(),
                subject,
                volumes: Vec::new(),
                secrets: if names { vec!["s".to_owned()] } else { vec!["other".to_owned()] },
            }).collect();
            let runs = Workload {
                node_id: node,
                service: Some(service),
                image: Some(image),
                ..Workload::default()
            };
            let decision = decide(&policies, &runs, &Resource::Secret { name: "s" });
            let expected = policies.iter().any(|policy| {
                policy.secrets.iter().any(|secret| secret == "s") && policy.subject.mismatch(&runs).is_none()
            });
            prop_assert_eq!(decision.allowed(), expected);
            prop_assert!(!decision.reasons.is_empty());
        }
    }
}
