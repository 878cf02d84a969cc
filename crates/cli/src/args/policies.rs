//! `cryptainer policy ...`: workload policies and `policy check`.

use clap::{ArgGroup, Subcommand};

use crate::labels::parse_label;

/// `cryptainer policy ...`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Grant volumes and secrets to the workloads a subject selects (admin,
    /// operator).
    #[command(
        long_about = "Grant volumes and secrets of a tenant to the workloads a subject selects \
        (admin, operator). Every selector given must match; a selector left out matches anything; \
        at least one is required, since a policy that selects everyone is refused. The strong \
        binding is --image-digest (sha256:<64 hex>, `docker image inspect --format '{{.Id}}'` \
        or a repository digest): a digest names exactly one image content, an image name can \
        be re-pointed. A volume no policy names stays with the node that created it; a secret \
        no policy names is refused to every node."
    )]
    Create {
        /// The policy's name, unique in its tenant.
        name: String,
        /// Tenant [default: the token's only tenant, or `default`].
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,
        /// A volume granted (repeatable).
        #[arg(long = "volume", value_name = "VOLUME")]
        volumes: Vec<String>,
        /// A secret granted (repeatable).
        #[arg(long = "secret", value_name = "SECRET")]
        secrets: Vec<String>,
        /// The image digest is one of these, sha256:<64 hex> (repeatable).
        #[arg(long = "image-digest", value_name = "DIGEST")]
        image_digests: Vec<String>,
        /// The image name is one of these, e.g. postgres:16 (repeatable).
        #[arg(long = "image", value_name = "IMAGE")]
        images: Vec<String>,
        /// The container's Swarm or Compose service is one of these (repeatable).
        #[arg(long = "service", value_name = "SERVICE")]
        services: Vec<String>,
        /// The node id is one of these, node-... (repeatable).
        #[arg(long = "node", value_name = "NODE")]
        nodes: Vec<String>,
        /// The node role is one of these, e.g. agent (repeatable).
        #[arg(long = "node-role", value_name = "ROLE")]
        node_roles: Vec<String>,
        /// The node has this label, KEY=VALUE (repeatable; all must match).
        #[arg(long = "node-label", value_name = "KEY=VALUE", value_parser = parse_label)]
        node_labels: Vec<(String, String)>,
        /// The container has this label, KEY=VALUE (repeatable; all must match).
        #[arg(long = "container-label", value_name = "KEY=VALUE", value_parser = parse_label)]
        container_labels: Vec<(String, String)>,
    },
    /// List policies (admin, operator, auditor).
    List {
        /// Only policies of this tenant [default: every tenant of the token].
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,
    },
    /// Show one policy.
    Show {
        /// The policy's name.
        name: String,
        /// Its tenant [default: the token's only tenant, or `default`].
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,
    },
    /// Remove a policy: what it granted is refused from the next request on.
    Rm {
        /// The policy's name.
        name: String,
        /// Its tenant [default: the token's only tenant, or `default`].
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,
    },
    /// Say whether a workload would get a volume or a secret, and why.
    #[command(
        long_about = "Say whether a workload would get a volume or a secret, and why, without \
        releasing anything (admin, operator, auditor). Prints ALLOWED or REFUSED and the reason \
        in plain words. Exit code 0 when allowed, 4 when refused. With --node naming a node of \
        the tenant, its role and labels come from the inventory.",
        group(ArgGroup::new("resource").required(true).args(["volume", "secret"]))
    )]
    Check {
        /// The volume asked for.
        #[arg(long, value_name = "VOLUME")]
        volume: Option<String>,
        /// The secret asked for.
        #[arg(long, value_name = "SECRET")]
        secret: Option<String>,
        /// The node the workload runs on (node-...).
        #[arg(long, value_name = "NODE")]
        node: Option<String>,
        /// The image's digest, sha256:<64 hex>.
        #[arg(long = "image-digest", value_name = "DIGEST")]
        image_digest: Option<String>,
        /// A repository digest of the image, NAME@sha256:<64 hex> (repeatable).
        #[arg(long = "repo-digest", value_name = "DIGEST")]
        repo_digests: Vec<String>,
        /// The image name the container runs.
        #[arg(long, value_name = "IMAGE")]
        image: Option<String>,
        /// The container's service.
        #[arg(long, value_name = "SERVICE")]
        service: Option<String>,
        /// A container label, KEY=VALUE (repeatable).
        #[arg(long = "container-label", value_name = "KEY=VALUE", value_parser = parse_label)]
        container_labels: Vec<(String, String)>,
        /// Tenant [default: the token's only tenant, or `default`].
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,
    },
}
