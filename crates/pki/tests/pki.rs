//! End-to-end tests of the `pki` crate: real certificates, real rustls handshakes over
//! loopback TCP, real files in a temporary directory.
//!
//! The CSRs in `tests/data/` were made with OpenSSL 3, for keys rcgen with ring cannot make:
//!
//! ```text
//! openssl req -new -newkey rsa:1024 -nodes -keyout /dev/null -subj "/CN=admin/O=evil" -out rsa1024.csr
//! openssl req -new -newkey rsa:2048 -nodes -keyout /dev/null -subj "/CN=admin/O=evil" -out rsa2048.csr
//! openssl req -new -newkey ed448 -nodes -keyout /dev/null -subj "/CN=admin" -out ed448.csr
//! openssl ecparam -name secp256k1 -genkey -noout -out k1.key
//! openssl req -new -key k1.key -subj "/CN=admin" -out secp256k1.csr
//! ```

// clippy.toml lets `#[test]` functions unwrap, but not the helpers they share; in a test a
// panic is the failure report we want.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use pki::{
    CertificateAuthority, ClientAuth, ClientIdentity, IssuedCert, MaterialOrigin, PkiError,
    ReissueReason, ServerTlsMaterial, client_config, identity_from_cert, server_config,
};
use rcgen::{CertificateParams, DnType, KeyPair, SanType};
use rustls::pki_types::ServerName;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

fn test_ca() -> CertificateAuthority {
    CertificateAuthority::generate("Test CA", 30 * DAY).unwrap()
}

fn server_names() -> Vec<String> {
    vec!["localhost".to_owned(), "127.0.0.1".to_owned()]
}

fn node_identity() -> ClientIdentity {
    ClientIdentity::new("node-7")
        .with_node_id("7f3c9a1e")
        .with_tenant("default")
        .with_role("node")
}

fn parse(der: &[u8]) -> X509Certificate<'_> {
    X509Certificate::from_der(der).unwrap().1
}

fn pem_to_der(pem_text: &str) -> Vec<u8> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem_text.as_bytes())
        .unwrap()
        .to_vec()
}

fn mode_of(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// What each side of a handshake saw.
struct Outcome {
    /// The server's view: the client's leaf certificate (if any), or the handshake error.
    server: Result<Option<Vec<u8>>, std::io::Error>,
    /// The client's view: the bytes the server sent after the handshake, or the error.
    client: Result<Vec<u8>, std::io::Error>,
}

/// Runs one TLS handshake over loopback TCP, then has the server send a greeting.
///
/// With TLS 1.3 the client finishes its side before the server has checked the client
/// certificate, so a refusal shows up on the client's first read, not in `connect`.
async fn handshake(
    server: rustls::ServerConfig,
    client: rustls::ClientConfig,
    server_name: &str,
) -> Outcome {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(server));
    let connector = TlsConnector::from(Arc::new(client));
    let server_name = ServerName::try_from(server_name.to_owned()).unwrap();

    let server_side = async move {
        let (tcp, _) = listener.accept().await?;
        let mut tls = acceptor.accept(tcp).await?;
        let peer = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|chain| chain.first())
            .map(|certificate| certificate.to_vec());
        tls.write_all(b"hello").await?;
        tls.shutdown().await?;
        Ok(peer)
    };
    let client_side = async move {
        let tcp = TcpStream::connect(address).await?;
        let mut tls = connector.connect(server_name, tcp).await?;
        let mut received = Vec::new();
        tls.read_to_end(&mut received).await?;
        Ok(received)
    };
    let (server, client) = tokio::join!(server_side, client_side);
    Outcome { server, client }
}

fn required(ca: &CertificateAuthority) -> ClientAuth {
    ClientAuth::Required(ca.cert_pem().to_owned())
}

/// A client configuration that trusts `ca_pem` and presents `cert` with its key.
fn client_presenting(ca_pem: &str, cert: &IssuedCert) -> rustls::ClientConfig {
    client_config(
        ca_pem,
        Some((&cert.cert_pem, cert.key_pem_secret().unwrap())),
    )
    .unwrap()
}

fn server_tls(ca: &CertificateAuthority, client_auth: ClientAuth) -> rustls::ServerConfig {
    let issued = ca.issue_server_cert(&server_names(), DAY).unwrap();
    server_config(
        &issued.cert_pem,
        issued.key_pem_secret().unwrap(),
        client_auth,
    )
    .unwrap()
}

// ---------------------------------------------------------------------------------------
// Handshakes

#[tokio::test]
async fn handshake_with_required_client_auth_succeeds_with_a_valid_client_cert() {
    let ca = test_ca();
    let client_cert = ca.issue_client_cert(&node_identity(), DAY).unwrap();
    let client = client_presenting(ca.cert_pem(), &client_cert);

    let outcome = handshake(server_tls(&ca, required(&ca)), client, "localhost").await;

    let presented = outcome
        .server
        .unwrap()
        .expect("client certificate presented");
    assert_eq!(presented, client_cert.cert_der);
    assert_eq!(identity_from_cert(&presented).unwrap(), node_identity());
    assert_eq!(outcome.client.unwrap(), b"hello");
}

#[tokio::test]
async fn handshake_verifies_ip_address_names() {
    let ca = test_ca();
    let client = client_config(ca.cert_pem(), None).unwrap();
    let outcome = handshake(server_tls(&ca, ClientAuth::None), client, "127.0.0.1").await;
    assert_eq!(outcome.client.unwrap(), b"hello");
    assert_eq!(outcome.server.unwrap(), None);
}

#[tokio::test]
async fn handshake_with_required_client_auth_fails_without_a_client_cert() {
    let ca = test_ca();
    let client = client_config(ca.cert_pem(), None).unwrap();
    let outcome = handshake(server_tls(&ca, required(&ca)), client, "localhost").await;
    assert!(outcome.server.is_err());
    assert!(outcome.client.is_err());
}

#[tokio::test]
async fn handshake_with_required_client_auth_fails_with_a_cert_from_another_ca() {
    let ca = test_ca();
    let other_ca = test_ca();
    let foreign = other_ca.issue_client_cert(&node_identity(), DAY).unwrap();
    let client = client_presenting(ca.cert_pem(), &foreign);
    let outcome = handshake(server_tls(&ca, required(&ca)), client, "localhost").await;
    assert!(outcome.server.is_err());
    assert!(outcome.client.is_err());
}

#[tokio::test]
async fn handshake_fails_when_a_server_cert_is_presented_as_client_cert() {
    let ca = test_ca();
    let server_cert = ca.issue_server_cert(&server_names(), DAY).unwrap();
    let client = client_presenting(ca.cert_pem(), &server_cert);
    let outcome = handshake(server_tls(&ca, required(&ca)), client, "localhost").await;
    assert!(
        outcome.server.is_err(),
        "serverAuth-only certificate must not authenticate a client"
    );
}

#[tokio::test]
async fn handshake_with_optional_client_auth_admits_anonymous_clients() {
    let ca = test_ca();
    let anonymous = client_config(ca.cert_pem(), None).unwrap();
    let outcome = handshake(
        server_tls(&ca, ClientAuth::Optional(ca.cert_pem().to_owned())),
        anonymous,
        "localhost",
    )
    .await;
    assert_eq!(outcome.server.unwrap(), None);
    assert_eq!(outcome.client.unwrap(), b"hello");
}

#[tokio::test]
async fn client_refuses_a_server_from_another_ca() {
    let ca = test_ca();
    let other_ca = test_ca();
    let client = client_config(other_ca.cert_pem(), None).unwrap();
    let outcome = handshake(server_tls(&ca, ClientAuth::None), client, "localhost").await;
    assert!(outcome.client.is_err());
    assert!(outcome.server.is_err());
}

#[tokio::test]
async fn client_refuses_a_server_cert_for_another_name() {
    let ca = test_ca();
    let client = client_config(ca.cert_pem(), None).unwrap();
    let outcome = handshake(server_tls(&ca, ClientAuth::None), client, "kms.example.com").await;
    assert!(outcome.client.is_err());
}

#[tokio::test]
async fn certificates_from_a_reloaded_ca_chain_to_the_original() {
    let original = test_ca();
    let reloaded =
        CertificateAuthority::from_pem(original.cert_pem(), &original.key_pem_secret()).unwrap();
    assert_eq!(reloaded.cert_der(), original.cert_der());
    assert_eq!(reloaded.cert_pem(), original.cert_pem());
    assert_eq!(reloaded.fingerprint_sha256(), original.fingerprint_sha256());
    assert_eq!(reloaded.expires_at(), original.expires_at());

    // Server and client certificates issued after reloading, trusted through the original.
    let client_cert = reloaded.issue_client_cert(&node_identity(), DAY).unwrap();
    let client = client_presenting(original.cert_pem(), &client_cert);
    let outcome = handshake(
        server_tls(&reloaded, required(&original)),
        client,
        "localhost",
    )
    .await;
    assert!(outcome.server.unwrap().is_some());
    assert_eq!(outcome.client.unwrap(), b"hello");
}

// ---------------------------------------------------------------------------------------
// The CA certificate and issued certificates

#[test]
fn ca_certificate_is_a_constrained_p256_root() {
    let ca = test_ca();
    let certificate = parse(ca.cert_der());
    let constraints = certificate.basic_constraints().unwrap().unwrap();
    assert!(constraints.critical);
    assert!(constraints.value.ca);
    assert_eq!(constraints.value.path_len_constraint, Some(0));
    let usage = certificate.key_usage().unwrap().unwrap().value;
    assert!(usage.key_cert_sign() && usage.crl_sign());
    assert!(!usage.digital_signature());
    assert_eq!(
        certificate.public_key().algorithm.algorithm,
        x509_parser::oid_registry::OID_KEY_TYPE_EC_PUBLIC_KEY
    );
    assert_eq!(certificate.subject(), certificate.issuer());
    assert!(certificate.raw_serial().len() <= 16);
    assert_eq!(
        ca.fingerprint_sha256(),
        <[u8; 32]>::from(Sha256::digest(ca.cert_der()))
    );
    assert_eq!(pem_to_der(ca.cert_pem()), ca.cert_der());
    assert_eq!(
        certificate.validity().not_after.to_datetime(),
        ca.expires_at()
    );
}

#[test]
fn serial_numbers_are_random_and_reported_in_hex() {
    let ca = test_ca();
    let first = ca.issue_client_cert(&node_identity(), DAY).unwrap();
    let second = ca.issue_client_cert(&node_identity(), DAY).unwrap();
    assert_ne!(first.serial_hex, second.serial_hex);
    for issued in [&first, &second] {
        let certificate = parse(&issued.cert_der);
        assert_eq!(hex::encode(certificate.raw_serial()), issued.serial_hex);
        assert_eq!(
            certificate.validity().not_after.to_datetime(),
            issued.not_after
        );
    }
}

#[test]
fn server_cert_names_ip_addresses_and_dns_names_apart() {
    let ca = test_ca();
    let sans = vec![
        "kms.example.com".to_owned(),
        "10.0.0.5".to_owned(),
        "::1".to_owned(),
    ];
    let issued = ca.issue_server_cert(&sans, DAY).unwrap();
    let certificate = parse(&issued.cert_der);
    let names = &certificate
        .subject_alternative_name()
        .unwrap()
        .unwrap()
        .value
        .general_names;
    assert!(names.contains(&GeneralName::DNSName("kms.example.com")));
    assert!(names.contains(&GeneralName::IPAddress(&[10, 0, 0, 5])));
    let mut loopback = [0_u8; 16];
    loopback[15] = 1;
    assert!(names.contains(&GeneralName::IPAddress(&loopback)));
    assert_eq!(names.len(), 3);

    let usage = certificate.extended_key_usage().unwrap().unwrap().value;
    assert!(usage.server_auth && !usage.client_auth);
    // A leaf carries no basicConstraints (DER forbids encoding the default cA FALSE).
    assert!(certificate.basic_constraints().unwrap().is_none());
    assert!(issued.key_pem_secret().unwrap().contains("PRIVATE KEY"));
}

#[test]
fn rejects_invalid_server_names() {
    let ca = test_ca();
    for bad in ["not a name", "", "exa mple.com", "-bad-.example.com"] {
        let error = ca.issue_server_cert(&[bad.to_owned()], DAY).unwrap_err();
        assert!(
            matches!(error, PkiError::InvalidSubjectAltName { .. }),
            "{bad:?}: {error}"
        );
    }
    assert!(matches!(
        ca.issue_server_cert(&[], DAY).unwrap_err(),
        PkiError::NoSubjectAltNames
    ));
}

#[test]
fn issued_certificates_do_not_outlive_the_ca() {
    let ca = CertificateAuthority::generate("Short CA", DAY).unwrap();
    let issued = ca.issue_server_cert(&server_names(), 365 * DAY).unwrap();
    assert_eq!(issued.not_after, ca.expires_at());
}

#[test]
fn rejects_zero_validity() {
    assert!(matches!(
        CertificateAuthority::generate("CA", Duration::ZERO).unwrap_err(),
        PkiError::InvalidValidity { .. }
    ));
}

#[test]
fn ca_from_pem_rejects_a_key_that_is_not_its_own() {
    let ca = test_ca();
    let other = test_ca();
    let error = CertificateAuthority::from_pem(ca.cert_pem(), &other.key_pem_secret()).unwrap_err();
    assert!(matches!(error, PkiError::KeyMismatch { .. }), "{error}");
}

#[test]
fn ca_from_pem_rejects_a_leaf_certificate() {
    let ca = test_ca();
    let leaf = ca.issue_server_cert(&server_names(), DAY).unwrap();
    let error =
        CertificateAuthority::from_pem(&leaf.cert_pem, leaf.key_pem_secret().unwrap()).unwrap_err();
    assert!(
        matches!(error, PkiError::UnsuitableCertificate { .. }),
        "{error}"
    );
}

#[test]
fn ca_from_pem_explains_input_that_is_not_pem() {
    let ca = test_ca();
    let error = CertificateAuthority::from_pem("hello", &ca.key_pem_secret()).unwrap_err();
    assert!(matches!(error, PkiError::MissingPem { .. }), "{error}");
    assert!(error.to_string().contains("-----BEGIN CERTIFICATE-----"));

    let broken = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
    let error = CertificateAuthority::from_pem(broken, &ca.key_pem_secret()).unwrap_err();
    assert!(matches!(error, PkiError::NotPem { .. }), "{error}");
    assert!(error.to_string().contains("pass a PEM-encoded certificate"));
}

#[test]
fn secrets_do_not_appear_in_debug_output() {
    let ca = test_ca();
    let issued = ca.issue_client_cert(&node_identity(), DAY).unwrap();
    let key_body: String = issued
        .key_pem_secret()
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_owned();
    assert!(!format!("{issued:?}").contains(&key_body));
    let ca_key_body = ca.key_pem_secret().lines().nth(1).unwrap().to_owned();
    assert!(!format!("{ca:?}").contains(&ca_key_body));
}

// ---------------------------------------------------------------------------------------
// Identities

#[test]
fn identity_round_trips_through_a_client_certificate() {
    let ca = test_ca();
    for identity in [
        node_identity(),
        ClientIdentity::new("alice")
            .with_tenant("acme")
            .with_role("operator"),
        ClientIdentity::new("plain name with spaces"),
    ] {
        let issued = ca.issue_client_cert(&identity, DAY).unwrap();
        assert_eq!(identity_from_cert(&issued.cert_der).unwrap(), identity);
        let certificate = parse(&issued.cert_der);
        let usage = certificate.extended_key_usage().unwrap().unwrap().value;
        assert!(usage.client_auth && !usage.server_auth);
    }
}

#[test]
fn identity_uris_are_written_as_documented() {
    let ca = test_ca();
    let issued = ca.issue_client_cert(&node_identity(), DAY).unwrap();
    let certificate = parse(&issued.cert_der);
    let names = &certificate
        .subject_alternative_name()
        .unwrap()
        .unwrap()
        .value
        .general_names;
    assert_eq!(
        names,
        &vec![
            GeneralName::URI("urn:cryptainer:node:7f3c9a1e"),
            GeneralName::URI("urn:cryptainer:tenant:default"),
            GeneralName::URI("urn:cryptainer:role:node"),
        ]
    );
}

#[test]
fn rejects_identity_components_that_would_not_read_back() {
    let ca = test_ca();
    for identity in [
        ClientIdentity::new(""),
        ClientIdentity::new("x".repeat(65)),
        ClientIdentity::new("node").with_tenant("a:b"),
        ClientIdentity::new("node").with_node_id(""),
        ClientIdentity::new("node").with_role("admin+root"),
        ClientIdentity::new("node").with_tenant("t".repeat(129)),
    ] {
        let error = ca.issue_client_cert(&identity, DAY).unwrap_err();
        assert!(
            matches!(error, PkiError::InvalidIdentity { .. }),
            "{identity:?}: {error}"
        );
    }
}

#[test]
fn identity_from_cert_rejects_a_server_certificate() {
    let ca = test_ca();
    let issued = ca.issue_server_cert(&server_names(), DAY).unwrap();
    let error = identity_from_cert(&issued.cert_der).unwrap_err();
    assert!(matches!(error, PkiError::NoIdentity { .. }), "{error}");
}

/// Certificates crafted with rcgen directly, as another issuer might make them.
fn crafted_client_cert(uris: &[&str]) -> Vec<u8> {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "crafted");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    params.subject_alt_names = uris
        .iter()
        .map(|uri| SanType::URI((*uri).try_into().unwrap()))
        .collect();
    let key = KeyPair::generate().unwrap();
    params.self_signed(&key).unwrap().der().to_vec()
}

#[test]
fn identity_from_cert_refuses_ambiguous_or_unknown_facts() {
    for uris in [
        &["urn:cryptainer:tenant:a", "urn:cryptainer:tenant:b"][..],
        &["urn:cryptainer:group:admins"][..],
        &["urn:cryptainer:role"][..],
        &["urn:cryptainer:role:"][..],
    ] {
        let error = identity_from_cert(&crafted_client_cert(uris)).unwrap_err();
        assert!(
            matches!(error, PkiError::NoIdentity { .. }),
            "{uris:?}: {error}"
        );
    }
    // URIs outside our namespace are none of our business.
    let identity = identity_from_cert(&crafted_client_cert(&[
        "https://example.com/",
        "urn:cryptainer:role:node",
    ]))
    .unwrap();
    assert_eq!(identity, ClientIdentity::new("crafted").with_role("node"));
}

#[test]
fn identity_from_cert_rejects_garbage() {
    let error = identity_from_cert(b"\x30\x03\x02\x01\x01").unwrap_err();
    assert!(
        matches!(error, PkiError::InvalidCertificate { .. }),
        "{error}"
    );
}

// ---------------------------------------------------------------------------------------
// CSR signing

/// A CSR asking for everything it should not get: another subject, an admin role URI, a DNS
/// name and serverAuth. (rcgen cannot put CA:true into a request.)
fn greedy_csr(key: &KeyPair) -> String {
    let mut params = CertificateParams::new(vec!["evil.example.com".to_owned()]).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, "admin");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Evil Corp");
    params.subject_alt_names.push(SanType::URI(
        "urn:cryptainer:role:admin".try_into().unwrap(),
    ));
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.serialize_request(key).unwrap().pem().unwrap()
}

#[tokio::test]
async fn sign_csr_ignores_the_requested_subject_and_the_key_works_for_tls() {
    let ca = test_ca();
    let key = KeyPair::generate().unwrap();
    let identity = ClientIdentity::new("agent-3")
        .with_node_id("n3")
        .with_role("node");
    let issued = ca.sign_csr(&greedy_csr(&key), &identity, DAY).unwrap();
    assert!(issued.key_pem_secret().is_none());

    let certificate = parse(&issued.cert_der);
    assert_eq!(certificate.subject().to_string(), "CN=agent-3");
    assert_eq!(identity_from_cert(&issued.cert_der).unwrap(), identity);
    let names = &certificate
        .subject_alternative_name()
        .unwrap()
        .unwrap()
        .value
        .general_names;
    assert!(!names.contains(&GeneralName::DNSName("evil.example.com")));
    assert!(!names.contains(&GeneralName::URI("urn:cryptainer:role:admin")));
    let usage = certificate.extended_key_usage().unwrap().unwrap().value;
    assert!(usage.client_auth && !usage.server_auth);
    // A leaf carries no basicConstraints (DER forbids encoding the default cA FALSE).
    assert!(certificate.basic_constraints().unwrap().is_none());
    assert_eq!(
        certificate.public_key().subject_public_key.data.as_ref(),
        key.public_key_raw()
    );

    // The requester's own key and the issued certificate authenticate a real handshake.
    let client = client_config(
        ca.cert_pem(),
        Some((&issued.cert_pem, &key.serialize_pem())),
    )
    .unwrap();
    let outcome = handshake(server_tls(&ca, required(&ca)), client, "localhost").await;
    assert_eq!(outcome.server.unwrap().unwrap(), issued.cert_der);
    assert_eq!(outcome.client.unwrap(), b"hello");
}

#[test]
fn sign_csr_accepts_p384_ed25519_and_rsa_2048() {
    let ca = test_ca();
    let identity = ClientIdentity::new("agent").with_role("node");
    for algorithm in [&rcgen::PKCS_ECDSA_P384_SHA384, &rcgen::PKCS_ED25519] {
        let key = KeyPair::generate_for(algorithm).unwrap();
        let issued = ca.sign_csr(&greedy_csr(&key), &identity, DAY).unwrap();
        assert_eq!(
            parse(&issued.cert_der)
                .public_key()
                .subject_public_key
                .data
                .as_ref(),
            key.public_key_raw()
        );
    }
    let issued = ca
        .sign_csr(include_str!("data/rsa2048.csr"), &identity, DAY)
        .unwrap();
    let certificate = parse(&issued.cert_der);
    assert_eq!(certificate.subject().to_string(), "CN=agent");
    assert_eq!(
        certificate.public_key().algorithm.algorithm,
        x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION
    );
}

#[test]
fn sign_csr_rejects_weak_or_unsupported_keys() {
    let ca = test_ca();
    let identity = ClientIdentity::new("agent");
    for (csr, expected) in [
        (include_str!("data/rsa1024.csr"), "RSA 1024 bits"),
        (
            include_str!("data/secp256k1.csr"),
            "EC key on curve 1.3.132.0.10",
        ),
        (
            include_str!("data/ed448.csr"),
            "unsupported algorithm 1.3.101.113",
        ),
    ] {
        let error = ca.sign_csr(csr, &identity, DAY).unwrap_err();
        assert!(matches!(error, PkiError::WeakCsrKey { .. }), "{error}");
        let message = error.to_string();
        assert!(message.contains(expected), "{message}");
        assert!(message.contains("generate a new key"), "{message}");
    }
}

#[test]
fn sign_csr_rejects_a_broken_signature() {
    use rustls::pki_types::CertificateSigningRequestDer;
    use rustls::pki_types::pem::PemObject;

    let ca = test_ca();
    let key = KeyPair::generate().unwrap();
    let mut der = CertificateSigningRequestDer::from_pem_slice(greedy_csr(&key).as_bytes())
        .unwrap()
        .as_ref()
        .to_vec();
    // The signature's last byte is the CSR's last byte.
    *der.last_mut().unwrap() ^= 0x01;
    let tampered = pem_text("CERTIFICATE REQUEST", &der);

    let error = ca
        .sign_csr(&tampered, &ClientIdentity::new("agent"), DAY)
        .unwrap_err();
    assert!(matches!(error, PkiError::CsrSignature { .. }), "{error}");
}

#[test]
fn sign_csr_rejects_input_that_is_not_a_csr() {
    let ca = test_ca();
    let identity = ClientIdentity::new("agent");
    let error = ca.sign_csr(ca.cert_pem(), &identity, DAY).unwrap_err();
    assert!(matches!(error, PkiError::MissingPem { .. }), "{error}");
    let not_a_request = pem_text("CERTIFICATE REQUEST", b"\x30\x03\x02\x01\x01");
    let error = ca.sign_csr(&not_a_request, &identity, DAY).unwrap_err();
    assert!(matches!(error, PkiError::InvalidCsr { .. }), "{error}");
}

fn pem_text(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n")
}

// ---------------------------------------------------------------------------------------
// Server material on disk

#[test]
fn load_or_create_creates_files_with_the_right_modes() {
    let dir = tempfile::tempdir().unwrap();
    let tls_dir = dir.path().join("tls");
    let material = ServerTlsMaterial::load_or_create(&tls_dir, &server_names()).unwrap();
    assert_eq!(material.origin(), MaterialOrigin::Created);

    assert_eq!(mode_of(&tls_dir) & 0o077, 0);
    assert_eq!(mode_of(&tls_dir.join("ca.pem")), 0o644);
    assert_eq!(mode_of(&tls_dir.join("ca-key.pem")), 0o600);
    assert_eq!(mode_of(&tls_dir.join("server.pem")), 0o644);
    assert_eq!(mode_of(&tls_dir.join("server-key.pem")), 0o600);
    let mut names: Vec<_> = fs::read_dir(&tls_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["ca-key.pem", "ca.pem", "server-key.pem", "server.pem"]
    );

    let ca = material.certificate_authority().unwrap();
    assert_eq!(
        fs::read_to_string(tls_dir.join("ca.pem")).unwrap(),
        ca.cert_pem()
    );
    assert_eq!(material.ca_pem(), Some(ca.cert_pem()));
    assert_eq!(
        material.ca_fingerprint_sha256(),
        Some(ca.fingerprint_sha256())
    );
    assert_eq!(
        fs::read_to_string(tls_dir.join("server-key.pem")).unwrap(),
        material.key_pem_secret()
    );
}

#[test]
fn load_or_create_is_idempotent_and_keeps_the_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let first = ServerTlsMaterial::load_or_create(dir.path(), &server_names()).unwrap();
    let files_before: Vec<Vec<u8>> = ["ca.pem", "ca-key.pem", "server.pem", "server-key.pem"]
        .iter()
        .map(|name| fs::read(dir.path().join(name)).unwrap())
        .collect();

    // Same names in another order, case and with a duplicate: nothing to re-issue.
    let reordered = vec![
        "127.0.0.1".to_owned(),
        "LOCALHOST".to_owned(),
        "localhost".to_owned(),
    ];
    let second = ServerTlsMaterial::load_or_create(dir.path(), &reordered).unwrap();
    assert_eq!(second.origin(), MaterialOrigin::Loaded);
    assert_eq!(
        second.ca_fingerprint_sha256(),
        first.ca_fingerprint_sha256()
    );
    assert_eq!(second.cert_chain_pem(), first.cert_chain_pem());
    assert_eq!(second.server_not_after(), first.server_not_after());
    let files_after: Vec<Vec<u8>> = ["ca.pem", "ca-key.pem", "server.pem", "server-key.pem"]
        .iter()
        .map(|name| fs::read(dir.path().join(name)).unwrap())
        .collect();
    assert_eq!(files_after, files_before);
}

#[tokio::test]
async fn load_or_create_reissues_when_the_names_change_and_keeps_the_ca() {
    let dir = tempfile::tempdir().unwrap();
    let first = ServerTlsMaterial::load_or_create(dir.path(), &server_names()).unwrap();
    let ca_key_before = fs::read(dir.path().join("ca-key.pem")).unwrap();

    let new_names = vec!["kms.internal".to_owned(), "127.0.0.1".to_owned()];
    let second = ServerTlsMaterial::load_or_create(dir.path(), &new_names).unwrap();
    assert_eq!(
        second.origin(),
        MaterialOrigin::Reissued(ReissueReason::NamesChanged)
    );
    assert_eq!(
        second.ca_fingerprint_sha256(),
        first.ca_fingerprint_sha256()
    );
    assert_eq!(
        fs::read(dir.path().join("ca-key.pem")).unwrap(),
        ca_key_before
    );
    assert_ne!(second.cert_chain_pem(), first.cert_chain_pem());
    assert_eq!(
        fs::read_to_string(dir.path().join("server.pem")).unwrap(),
        second.cert_chain_pem()
    );
    assert_eq!(mode_of(&dir.path().join("server-key.pem")), 0o600);

    // A client that pinned the CA at first start accepts the re-issued certificate.
    let client = client_config(first.ca_pem().unwrap(), None).unwrap();
    let server = second.server_config(ClientAuth::None).unwrap();
    let outcome = handshake(server, client, "kms.internal").await;
    assert_eq!(outcome.client.unwrap(), b"hello");

    let third = ServerTlsMaterial::load_or_create(dir.path(), &new_names).unwrap();
    assert_eq!(third.origin(), MaterialOrigin::Loaded);
}

#[test]
fn load_or_create_reissues_a_certificate_that_expires_soon() {
    let dir = tempfile::tempdir().unwrap();
    let first = ServerTlsMaterial::load_or_create(dir.path(), &server_names()).unwrap();
    let ca = first.certificate_authority().unwrap();
    let short = ca.issue_server_cert(&server_names(), 3 * DAY).unwrap();
    write_server_cert(dir.path(), &short);

    let second = ServerTlsMaterial::load_or_create(dir.path(), &server_names()).unwrap();
    assert_eq!(
        second.origin(),
        MaterialOrigin::Reissued(ReissueReason::ExpiresSoon)
    );
    assert!(second.server_not_after() > short.not_after);
}

#[test]
fn load_or_create_reissues_a_certificate_from_another_ca_or_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    ServerTlsMaterial::load_or_create(dir.path(), &server_names()).unwrap();
    let foreign = test_ca()
        .issue_server_cert(&server_names(), 30 * DAY)
        .unwrap();
    write_server_cert(dir.path(), &foreign);
    let second = ServerTlsMaterial::load_or_create(dir.path(), &server_names()).unwrap();
    assert_eq!(
        second.origin(),
        MaterialOrigin::Reissued(ReissueReason::NotIssuedByCa)
    );

    fs::remove_file(dir.path().join("server.pem")).unwrap();
    let third = ServerTlsMaterial::load_or_create(dir.path(), &server_names()).unwrap();
    assert_eq!(
        third.origin(),
        MaterialOrigin::Reissued(ReissueReason::Missing)
    );
}

/// After a CA rotation `ca.pem` holds the new root then the old one, and the CA key is the
/// new root's: the server certificate the old root issued is kept (nodes that have not
/// renewed yet trust only the old root), and `issuing_root` says which root issued it.
#[test]
fn load_or_create_keeps_a_certificate_from_the_previous_root_of_the_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let first = ServerTlsMaterial::load_or_create(dir.path(), &server_names()).unwrap();
    let old_root = first.ca_pem().unwrap().to_owned();
    let new_root = CertificateAuthority::generate("Cryptainer CA 2", 30 * DAY).unwrap();
    let bundle = format!("{}{}", new_root.cert_pem(), old_root);
    pki::write_secret_pem(&dir.path().join("ca-key.pem"), &new_root.key_pem_secret()).unwrap();
    pki::write_public_pem(&dir.path().join("ca.pem"), &bundle).unwrap();

    let second = ServerTlsMaterial::load_or_create(dir.path(), &server_names()).unwrap();
    assert_eq!(second.origin(), MaterialOrigin::Loaded);
    assert_eq!(second.cert_chain_pem(), first.cert_chain_pem());
    let old_fingerprint: [u8; 32] = Sha256::digest(pem_der(&old_root)).into();
    let (issuer, not_after) = pki::issuing_root(second.cert_chain_pem(), &bundle).unwrap();
    assert_eq!(issuer, old_fingerprint);
    assert_eq!(not_after, second.server_not_after());
    assert!(pki::issuing_root(second.cert_chain_pem(), new_root.cert_pem()).is_none());

    // Re-issued by the current root, it is the new root's, and the next start keeps it.
    let (issued, _key) = pki::reissue_server_cert(dir.path(), &new_root, &server_names()).unwrap();
    let (issuer, _) = pki::issuing_root(&issued.cert_pem, &bundle).unwrap();
    assert_eq!(issuer, new_root.fingerprint_sha256());
    let third = ServerTlsMaterial::load_or_create(dir.path(), &server_names()).unwrap();
    assert_eq!(third.origin(), MaterialOrigin::Loaded);
    assert_eq!(third.cert_chain_pem(), issued.cert_pem);

    // Once the old root leaves the bundle, a certificate it issued is replaced at start.
    let old_issued = CertificateAuthority::from_pem(&old_root, &first_ca_key(&first))
        .unwrap()
        .issue_server_cert(&server_names(), 30 * DAY)
        .unwrap();
    write_server_cert(dir.path(), &old_issued);
    pki::write_public_pem(&dir.path().join("ca.pem"), new_root.cert_pem()).unwrap();
    let fourth = ServerTlsMaterial::load_or_create(dir.path(), &server_names()).unwrap();
    assert_eq!(
        fourth.origin(),
        MaterialOrigin::Reissued(ReissueReason::NotIssuedByCa)
    );
}

/// Puts `cert` and its key where `ServerTlsMaterial::load_or_create` reads the
/// server's certificate, as a previous start would have left them.
fn write_server_cert(dir: &Path, cert: &IssuedCert) {
    pki::write_public_pem(&dir.join("server.pem"), &cert.cert_pem).unwrap();
    pki::write_secret_pem(&dir.join("server-key.pem"), cert.key_pem_secret().unwrap()).unwrap();
}

/// The DER of the first certificate of `pem_text`.
fn pem_der(pem_text: &str) -> Vec<u8> {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem_text.as_bytes()).unwrap();
    block.contents
}

/// The CA key of freshly created material, read back through its CA.
fn first_ca_key(material: &ServerTlsMaterial) -> String {
    material
        .certificate_authority()
        .unwrap()
        .key_pem_secret()
        .to_string()
}

/// A slot hands each new handshake the certificate current at that moment.
#[tokio::test]
async fn a_server_cert_slot_serves_the_replacement_to_new_handshakes() {
    let old_ca = test_ca();
    let new_ca = CertificateAuthority::generate("Test CA 2", 30 * DAY).unwrap();
    let first = old_ca.issue_server_cert(&server_names(), DAY).unwrap();
    let slot = Arc::new(
        pki::ServerCertSlot::new(&first.cert_pem, first.key_pem_secret().unwrap()).unwrap(),
    );
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(pki::root_store_from_pem(old_ca.cert_pem()).unwrap()),
        Arc::new(rustls::crypto::ring::default_provider()),
    )
    .allow_unauthenticated()
    .build()
    .unwrap();
    let config = Arc::new(pki::server_config_with_verifier(Arc::clone(&slot), verifier).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let acceptor = TlsAcceptor::from(config);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(stream).await {
                    let _ = tls.write_all(b"ok").await;
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    let handshake = |ca_pem: String| async move {
        let connector = TlsConnector::from(Arc::new(client_config(&ca_pem, None).unwrap()));
        let stream = TcpStream::connect(address).await.unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, stream).await?;
        let mut answer = Vec::new();
        tls.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    assert_eq!(
        handshake(old_ca.cert_pem().to_owned()).await.unwrap(),
        b"ok"
    );
    assert!(handshake(new_ca.cert_pem().to_owned()).await.is_err());

    // A key that does not belong to the certificate is refused and changes nothing.
    let second = new_ca.issue_server_cert(&server_names(), DAY).unwrap();
    let error = slot
        .replace(&second.cert_pem, first.key_pem_secret().unwrap())
        .unwrap_err();
    assert!(error.to_string().contains("server certificate"), "{error}");
    assert_eq!(
        handshake(old_ca.cert_pem().to_owned()).await.unwrap(),
        b"ok"
    );

    slot.replace(&second.cert_pem, second.key_pem_secret().unwrap())
        .unwrap();
    assert_eq!(
        handshake(new_ca.cert_pem().to_owned()).await.unwrap(),
        b"ok"
    );
    assert!(handshake(old_ca.cert_pem().to_owned()).await.is_err());
}

#[test]
fn load_or_create_refuses_a_key_file_readable_by_others() {
    let dir = tempfile::tempdir().unwrap();
    ServerTlsMaterial::load_or_create(dir.path(), &server_names()).unwrap();
    let ca_key = dir.path().join("ca-key.pem");
    fs::set_permissions(&ca_key, fs::Permissions::from_mode(0o644)).unwrap();
    let error = ServerTlsMaterial::load_or_create(dir.path(), &server_names()).unwrap_err();
    assert!(matches!(error, PkiError::InsecureKeyFile { .. }), "{error}");
    assert!(error.to_string().contains("chmod 600"));
}

#[test]
fn load_or_create_refuses_to_replace_a_half_present_ca() {
    let dir = tempfile::tempdir().unwrap();
    ServerTlsMaterial::load_or_create(dir.path(), &server_names()).unwrap();
    fs::remove_file(dir.path().join("ca-key.pem")).unwrap();
    let error = ServerTlsMaterial::load_or_create(dir.path(), &server_names()).unwrap_err();
    assert!(matches!(error, PkiError::IncompleteCa { .. }), "{error}");
    assert!(dir.path().join("ca.pem").exists());
}

#[test]
fn load_or_create_names_the_file_that_is_not_pem() {
    let dir = tempfile::tempdir().unwrap();
    ServerTlsMaterial::load_or_create(dir.path(), &server_names()).unwrap();
    fs::write(
        dir.path().join("ca.pem"),
        "-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let error = ServerTlsMaterial::load_or_create(dir.path(), &server_names()).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, PkiError::NotPem { .. }), "{message}");
    assert!(message.starts_with("certificate file "), "{message}");
    assert!(message.contains("ca.pem is not PEM"), "{message}");
}

#[tokio::test]
async fn from_files_serves_operator_supplied_material() {
    let dir = tempfile::tempdir().unwrap();
    let ca = test_ca();
    let issued = ca.issue_server_cert(&server_names(), DAY).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    let ca_path = dir.path().join("ca.pem");
    pki::write_public_pem(&cert_path, &issued.cert_pem).unwrap();
    pki::write_secret_pem(&key_path, issued.key_pem_secret().unwrap()).unwrap();
    pki::write_public_pem(&ca_path, ca.cert_pem()).unwrap();

    let material = ServerTlsMaterial::from_files(&cert_path, &key_path, Some(&ca_path)).unwrap();
    assert_eq!(material.origin(), MaterialOrigin::OperatorSupplied);
    assert!(material.certificate_authority().is_none());
    assert_eq!(
        material.ca_fingerprint_sha256(),
        Some(ca.fingerprint_sha256())
    );
    assert_eq!(material.server_not_after(), issued.not_after);

    let client_cert = ca.issue_client_cert(&node_identity(), DAY).unwrap();
    let client = client_presenting(material.ca_pem().unwrap(), &client_cert);
    let server = material
        .server_config(ClientAuth::Required(ca.cert_pem().to_owned()))
        .unwrap();
    let outcome = handshake(server, client, "localhost").await;
    assert_eq!(
        identity_from_cert(&outcome.server.unwrap().unwrap()).unwrap(),
        node_identity()
    );
}

#[test]
fn from_files_rejects_a_key_that_does_not_match() {
    let dir = tempfile::tempdir().unwrap();
    let ca = test_ca();
    let issued = ca.issue_server_cert(&server_names(), DAY).unwrap();
    let other = ca.issue_server_cert(&server_names(), DAY).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    pki::write_public_pem(&cert_path, &issued.cert_pem).unwrap();
    pki::write_secret_pem(&key_path, other.key_pem_secret().unwrap()).unwrap();
    let error = ServerTlsMaterial::from_files(&cert_path, &key_path, None).unwrap_err();
    assert!(matches!(error, PkiError::Tls { .. }), "{error}");

    let missing = dir.path().join("missing.pem");
    let error = ServerTlsMaterial::from_files(&missing, &key_path, None).unwrap_err();
    assert!(matches!(error, PkiError::Io { .. }), "{error}");
}

/// OpenSSL, when installed, independently agrees that the server certificate chains to the
/// CA. Skipped with a note when it is not, so the suite does not depend on it.
#[test]
fn openssl_verifies_the_created_server_certificate() {
    let dir = tempfile::tempdir().unwrap();
    ServerTlsMaterial::load_or_create(dir.path(), &server_names()).unwrap();
    let output = std::process::Command::new("openssl")
        .arg("verify")
        .arg("-purpose")
        .arg("sslserver")
        .arg("-CAfile")
        .arg(dir.path().join("ca.pem"))
        .arg(dir.path().join("server.pem"))
        .output();
    match output {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            println!("note: openssl is not installed; skipping the `openssl verify` cross-check");
        }
        Err(error) => panic!("running openssl failed: {error}"),
        Ok(output) => {
            assert!(
                output.status.success(),
                "openssl verify failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}
