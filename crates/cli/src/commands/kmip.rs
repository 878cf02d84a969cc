//! `cryptainer kmip client-cert`: makes a key pair here, has the server's CA sign
//! it for a KMIP client (MongoDB, vCenter, PyKMIP...), and writes the
//! certificate, key and CA files that client is configured with.

use std::path::Path;

use anyhow::Context as _;
use api::kmip::{ClientCertRequest, IssueClientCert};
use serde_json::json;

use crate::args::KmipCommand;
use crate::client::{Client, print_json};
use crate::failure::Failure;

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
    let request = ClientCertRequest {
        name: name.to_owned(),
        tenant: tenant.map(str::to_owned),
        role: role.map(str::to_owned),
        csr_pem: csr,
    };
    let issued = client.send(&IssueClientCert(&request)).await?;
    std::fs::create_dir_all(out).with_context(|| {
        Failure::failed(
            format!("cannot create {}", out.display()),
            "choose a directory you can write to with --out",
        )
    })?;
    let key_pem = zeroize::Zeroizing::new(key.serialize_pem());
    write_file(&out.join("key.pem"), &key_pem, 0o600)?;
    write_file(&out.join("cert.pem"), &issued.cert_pem, 0o644)?;
    write_file(&out.join("ca.pem"), &issued.ca_pem, 0o644)?;
    if json {
        // What this command did, not the server's answer: the files it wrote.
        return print_json(&json!({
            "cert_file": out.join("cert.pem"),
            "key_file": out.join("key.pem"),
            "ca_file": out.join("ca.pem"),
            "serial": issued.serial,
        }));
    }
    println!(
        "Wrote {}/cert.pem, key.pem (private) and ca.pem",
        out.display()
    );
    println!("Serial: {}", issued.serial);
    Ok(())
}
