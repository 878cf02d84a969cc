//! `cryptainer kmip client-cert`: makes a key pair here, has the server's CA sign
//! it for a KMIP client (MongoDB, vCenter, PyKMIP...), and writes the
//! certificate, key and CA files that client is configured with.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Subcommand;
use reqwest::Method;
use serde_json::json;

use crate::client::{Auth, Client, print_json};
use crate::failure::Failure;

/// `cryptainer kmip ...`.
#[derive(Debug, Subcommand)]
pub enum KmipCommand {
    /// Issue a certificate for a KMIP client (admin): writes cert.pem, key.pem
    /// (mode 0600) and ca.pem to --out.
    ///
    /// The private key is made on this machine and never sent: the server's CA
    /// signs a certificate request. The tenant and role are written into the
    /// certificate; the KMIP listener (port 5696) maps them to the same roles and
    /// tenants as API tokens.
    ClientCert {
        /// The client's name, written as the certificate's common name.
        name: String,
        /// The one tenant the client acts on [default: default].
        #[arg(long)]
        tenant: Option<String>,
        /// The client's role: operator (create and use keys), auditor (read
        /// metadata) or admin [default: operator].
        #[arg(long)]
        role: Option<String>,
        /// Directory to write cert.pem, key.pem and ca.pem to (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

/// Runs a `kmip` command.
pub async fn run(client: &Client, command: &KmipCommand, json: bool) -> anyhow::Result<()> {
    match command {
        KmipCommand::ClientCert {
            name,
            tenant,
            role,
            out,
        } => client_cert(client, name, tenant.as_deref(), role.as_deref(), out, json).await,
    }
}

fn write_file(path: &Path, contents: &str, mode: u32) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .with_context(|| {
            Failure::failed(
                format!("cannot write {}", path.display()),
                "choose a directory you can write to with --out",
            )
        })?;
    file.write_all(contents.as_bytes()).with_context(|| {
        Failure::failed(format!("cannot write {}", path.display()), "check the disk")
    })
}

async fn client_cert(
    client: &Client,
    name: &str,
    tenant: Option<&str>,
    role: Option<&str>,
    out: &Path,
    json: bool,
) -> anyhow::Result<()> {
    // ECDSA P-256: every KMIP client we know accepts it, and PyKMIP's server
    // offers only ECDSA suites in TLS 1.2.
    let key = rcgen::KeyPair::generate().context("cannot generate the client key")?;
    let csr = rcgen::CertificateParams::new(Vec::<String>::new())
        .and_then(|params| params.serialize_request(&key))
        .and_then(|csr| csr.pem())
        .context("cannot make the certificate request")?;
    let mut body = json!({ "name": name, "csr_pem": csr });
    if let Some(object) = body.as_object_mut() {
        if let Some(tenant) = tenant {
            object.insert("tenant".to_owned(), json!(tenant));
        }
        if let Some(role) = role {
            object.insert("role".to_owned(), json!(role));
        }
    }
    let issued = client
        .call(
            Method::POST,
            &["v1", "kmip", "client-certs"],
            &[],
            Some(&body),
            Auth::Token,
        )
        .await?;
    let text = |field: &str| -> anyhow::Result<String> {
        issued
            .get(field)
            .and_then(|value| value.as_str())
            .map(str::to_owned)
            .ok_or_else(|| {
                anyhow::Error::new(Failure::failed(
                    format!("the server's answer has no {field}"),
                    "check that the server is a Cryptainer server of the same version",
                ))
            })
    };
    std::fs::create_dir_all(out).with_context(|| {
        Failure::failed(
            format!("cannot create {}", out.display()),
            "choose a directory you can write to with --out",
        )
    })?;
    let key_pem = zeroize::Zeroizing::new(key.serialize_pem());
    write_file(&out.join("key.pem"), &key_pem, 0o600)?;
    write_file(&out.join("cert.pem"), &text("cert_pem")?, 0o644)?;
    write_file(&out.join("ca.pem"), &text("ca_pem")?, 0o644)?;
    if json {
        return print_json(&json!({
            "cert_file": out.join("cert.pem"),
            "key_file": out.join("key.pem"),
            "ca_file": out.join("ca.pem"),
            "serial": issued.get("serial"),
        }));
    }
    println!(
        "Wrote {}/cert.pem, key.pem (private) and ca.pem",
        out.display()
    );
    println!("Serial: {}", text("serial")?);
    Ok(())
}
