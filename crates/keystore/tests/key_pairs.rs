//! Key pairs through `Keystore` over the real SQLite store: both halves in one
//! audited transaction, linked by label, never rotated, the link unchangeable.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::collections::BTreeMap;

use keystore::object::{
    Algorithm, KEY_PAIR_LABEL, ObjectMeta, ObjectType, REPLACED_LABEL, REPLACEMENT_LABEL, State,
};
use keystore::secret::SecretBytes;
use keystore::{Caller, Keystore, KeystoreError, NewHalf};
use support::{audited_operations, unsealed};

fn half(name: &'static str, material: &[u8]) -> NewHalf<'static> {
    NewHalf {
        name: Some(name),
        labels: BTreeMap::new(),
        material: SecretBytes::from_slice(material),
    }
}

/// The P-256 pair `signer` and `signer-pub` of tenant `payments`.
fn signer_pair(keystore: &Keystore, caller: &Caller) -> (ObjectMeta, ObjectMeta) {
    keystore
        .register_key_pair(
            caller,
            "payments",
            Algorithm::EcP256,
            half("signer", b"private der"),
            half("signer-pub", b"public der"),
        )
        .unwrap()
}

#[test]
fn a_key_pair_is_two_linked_pre_active_objects_in_one_audit_record() {
    let (_dir, keystore) = unsealed();
    let caller = Caller::system();
    let before = keystore
        .audit_head()
        .unwrap()
        .map_or(0, |(sequence, _)| sequence);
    let (private, public) = signer_pair(&keystore, &caller);
    // The tenant's first key is recorded on its own; the pair is one record.
    let operations = audited_operations(&keystore, before);
    assert_eq!(operations, ["tenant.create_key", "key.create_pair"]);

    assert_eq!(private.object_type, ObjectType::PrivateKey);
    assert_eq!(public.object_type, ObjectType::PublicKey);
    assert_eq!((private.length, public.length), (256, 256));
    assert_eq!(private.state, State::PreActive);
    assert_eq!(private.labels.get(KEY_PAIR_LABEL), Some(&public.id));
    assert_eq!(public.labels.get(KEY_PAIR_LABEL), Some(&private.id));
    let stored = keystore.find("payments", &private.id).unwrap();
    assert_eq!(stored, private);
    let (_, material) = keystore.material(&caller, &public, None).unwrap();
    assert_eq!(material.expose_secret(), b"public der");

    // Only symmetric keys rotate; the link label cannot be changed.
    let active = keystore.activate(&caller, &private).unwrap();
    assert!(matches!(
        keystore.rotate(&caller, &active),
        Err(KeystoreError::InvalidArgument(_))
    ));
    let mut labels = active.labels.clone();
    labels.insert(KEY_PAIR_LABEL.to_owned(), "someone-else".to_owned());
    assert!(matches!(
        keystore.set_labels(&caller, &active, labels),
        Err(KeystoreError::InvalidArgument(_))
    ));
    let mut labels = active.labels.clone();
    labels.insert("team".to_owned(), "payments".to_owned());
    let updated = keystore.set_labels(&caller, &active, labels).unwrap();
    assert_eq!(
        updated.labels.get("team").map(String::as_str),
        Some("payments")
    );
    assert_eq!(keystore.find("payments", &active.id).unwrap(), updated);

    // A symmetric algorithm cannot make a pair.
    assert!(matches!(
        keystore.register_key_pair(
            &caller,
            "payments",
            Algorithm::Aes256,
            half("a", b"x"),
            half("b", b"y"),
        ),
        Err(KeystoreError::InvalidArgument(_))
    ));
}

#[test]
fn a_rekeyed_pair_takes_the_names_and_links_both_ways_in_one_audit_record() {
    let (_dir, keystore) = unsealed();
    let caller = Caller::system();
    let (old_private, old_public) = signer_pair(&keystore, &caller);
    let mut moved = BTreeMap::new();
    moved.insert("kmip-name".to_owned(), "Signer Key".to_owned());
    let old_private = keystore
        .set_labels(&caller, &old_private, {
            let mut labels = old_private.labels.clone();
            labels.extend(moved.clone());
            labels
        })
        .unwrap();
    let before = keystore.audit_head().unwrap().map(|(sequence, _)| sequence);
    let (private, public) = keystore
        .rekey_key_pair(
            &caller,
            &old_private,
            &["kmip-name"],
            NewHalf {
                name: None,
                labels: moved,
                material: SecretBytes::from_slice(b"new private der"),
            },
            NewHalf {
                name: None,
                labels: BTreeMap::new(),
                material: SecretBytes::from_slice(b"new public der"),
            },
        )
        .unwrap();
    assert_eq!(
        audited_operations(&keystore, before.unwrap()),
        ["key.rekey_pair"]
    );
    assert_eq!(
        (private.state, public.state),
        (State::PreActive, State::PreActive)
    );
    assert_eq!(private.algorithm, Algorithm::EcP256);
    assert_eq!(private.labels.get(KEY_PAIR_LABEL), Some(&public.id));
    assert_eq!(private.labels.get(REPLACED_LABEL), Some(&old_private.id));
    assert_eq!(public.labels.get(REPLACED_LABEL), Some(&old_public.id));
    // The names, and the moved label, now belong to the new halves.
    assert_eq!(keystore.find("payments", "signer").unwrap().id, private.id);
    assert_eq!(
        keystore.find("payments", "signer-pub").unwrap().id,
        public.id
    );
    let old_private = keystore.find("payments", &old_private.id).unwrap();
    assert_eq!(old_private.name, None);
    assert_eq!(old_private.labels.get("kmip-name"), None);
    assert_eq!(old_private.labels.get(REPLACEMENT_LABEL), Some(&private.id));
    let old_public = keystore.find("payments", &old_public.id).unwrap();
    assert_eq!(old_public.labels.get(REPLACEMENT_LABEL), Some(&public.id));

    // Once only, from the private half, and the links cannot be edited.
    for half_to_rekey in [&old_private, &old_public] {
        assert!(matches!(
            keystore.rekey_key_pair(
                &caller,
                half_to_rekey,
                &[],
                half("again", b"p"),
                half("again-pub", b"q"),
            ),
            Err(KeystoreError::InvalidArgument(_))
        ));
    }
    let mut labels = private.labels.clone();
    labels.remove(REPLACED_LABEL);
    assert!(matches!(
        keystore.set_labels(&caller, &private, labels),
        Err(KeystoreError::InvalidArgument(_))
    ));
}
