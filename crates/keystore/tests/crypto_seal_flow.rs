//! End-to-end checks of the crypto modules through their public API only: an
//! operator initializes a seal, the server stores the sealed root as JSON, restarts,
//! and unseals from share text submitted one request at a time (or a passphrase).

use keystore::seal::{
    Argon2Params, PassphraseSeal, Seal, SealError, SealKind, SealedRoot, ShamirSeal,
    UnsealProgress, UnsealShare,
};
use keystore::secret::{Key256, SecretBytes};
use keystore::wrap;

const PASSPHRASE: &str = "correct horse battery staple";

/// What a server keeps on disk: the sealed root as JSON, and a tenant key wrapped
/// under the root key.
struct Disk {
    sealed_root_json: String,
    wrapped_tenant_key: Vec<u8>,
}

fn tenant_aad() -> &'static [u8] {
    b"tenant:acme/v1"
}

#[test]
fn shamir_init_restart_and_unseal_share_by_share() {
    // Initialization: the operator receives five share texts.
    let root = Key256::generate();
    let tenant_key = Key256::generate();
    let (seal, shares) = ShamirSeal::initialize(5, 3).unwrap();
    let share_texts: Vec<String> = shares
        .iter()
        .map(|share| share.to_string_secret().as_str().to_owned())
        .collect();
    let disk = Disk {
        sealed_root_json: serde_json::to_string(&seal.seal_root(&root).unwrap()).unwrap(),
        wrapped_tenant_key: wrap::wrap(&root, tenant_key.expose_secret(), tenant_aad()).unwrap(),
    };
    let audit_key_before = root.derive("cryptainer-audit-hmac-v1");
    drop((seal, shares, root));

    // Restart: only the disk is left. Three holders submit their shares.
    let sealed: SealedRoot = serde_json::from_str(&disk.sealed_root_json).unwrap();
    assert_eq!(sealed.kind, SealKind::Shamir);
    assert_eq!(sealed.params.shamir_counts(), Some((3, 5)));
    let mut progress = UnsealProgress::for_sealed_root(&sealed).unwrap();
    for (submitted, text) in share_texts.iter().rev().take(3).enumerate() {
        let step = progress.add(UnsealShare::parse(text).unwrap()).unwrap();
        assert_eq!(usize::from(step.have), submitted + 1);
        assert_eq!(step.need, 3);
    }
    let rebuilt = progress.complete().unwrap();
    let root = rebuilt.unseal_root(&sealed).unwrap();

    // The key hierarchy opens again and sub-keys are stable across restarts.
    let unwrapped = wrap::unwrap(&root, &disk.wrapped_tenant_key, tenant_aad()).unwrap();
    assert!(tenant_key.ct_eq(&Key256::from_slice(unwrapped.expose_secret()).unwrap()));
    assert!(
        root.derive("cryptainer-audit-hmac-v1")
            .ct_eq(&audit_key_before)
    );
}

#[test]
fn share_of_another_server_is_refused_when_submitted() {
    let (seal, _) = ShamirSeal::initialize(3, 2).unwrap();
    let sealed = seal.seal_root(&Key256::generate()).unwrap();
    let (_, foreign_shares) = ShamirSeal::initialize(3, 2).unwrap();

    let mut progress = UnsealProgress::for_sealed_root(&sealed).unwrap();
    let foreign = UnsealShare::parse(&foreign_shares[0].to_string_secret()).unwrap();
    let error = progress.add(foreign).unwrap_err();
    assert!(matches!(error, SealError::ShareFromDifferentServer { .. }));
    assert!(
        error
            .to_string()
            .starts_with("share belongs to a different server (set id ")
    );
    assert_eq!(progress.have(), 0);
}

#[test]
fn mistyped_share_text_is_reported_as_mistyped() {
    let (_, shares) = ShamirSeal::initialize(3, 2).unwrap();
    let text = shares[1].to_string_secret();
    let mistyped: String = text
        .chars()
        .enumerate()
        .map(|(position, c)| match (position, c) {
            (30, 'x') => 'y',
            (30, _) => 'x',
            (_, c) => c,
        })
        .collect();
    let error = UnsealShare::parse(&mistyped).unwrap_err();
    assert_eq!(
        error.to_string(),
        "share is mistyped (checksum mismatch); check it character by character"
    );
}

#[test]
fn dev_mode_single_share_unseals() {
    let root = Key256::generate();
    let (seal, shares) = ShamirSeal::initialize(1, 1).unwrap();
    let sealed = seal.seal_root(&root).unwrap();
    let mut progress = UnsealProgress::for_sealed_root(&sealed).unwrap();
    let step = progress
        .add(UnsealShare::parse(&shares[0].to_string_secret()).unwrap())
        .unwrap();
    assert!(step.is_complete());
    let unsealed = progress.complete().unwrap().unseal_root(&sealed).unwrap();
    assert!(unsealed.ct_eq(&root));
}

#[test]
fn passphrase_init_restart_and_unseal() {
    let root = Key256::generate();
    let seal = PassphraseSeal::new(
        SecretBytes::from_slice(PASSPHRASE.as_bytes()),
        Argon2Params::insecure_for_tests(),
    )
    .unwrap();
    let json = serde_json::to_string(&seal.seal_root(&root).unwrap()).unwrap();
    drop(seal);

    let sealed: SealedRoot = serde_json::from_str(&json).unwrap();
    assert!(UnsealProgress::for_sealed_root(&sealed).is_err());

    let wrong =
        PassphraseSeal::from_sealed(SecretBytes::from_slice(b"not the passphrase"), &sealed)
            .unwrap();
    assert!(matches!(
        wrong.unseal_root(&sealed),
        Err(SealError::WrongUnsealMaterial)
    ));

    let seal = PassphraseSeal::from_sealed(SecretBytes::from_slice(PASSPHRASE.as_bytes()), &sealed)
        .unwrap();
    assert!(seal.unseal_root(&sealed).unwrap().ct_eq(&root));
    // Sealing again keeps the stored salt and costs.
    let resealed = seal.seal_root(&root).unwrap();
    assert_eq!(resealed.params, sealed.params);
    assert_ne!(resealed.wrapped_root, sealed.wrapped_root);
}
