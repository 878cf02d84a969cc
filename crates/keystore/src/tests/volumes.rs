//! What removing a volume leaves in the store: a tombstone of its key, and no
//! version of the secret that opened it.
#![allow(clippy::unwrap_used)] // In tests a panic is the failure report.

use crate::object::State;
use crate::store::Store as _;
use crate::{Caller, NewVolume};

#[test]
fn removing_a_volume_erases_every_version_of_its_secret() {
    let (_dir, store, keystore) = super::unsealed();
    let caller = Caller::system();
    let created = keystore
        .create_volume(
            &caller,
            NewVolume {
                tenant: "acme".to_owned(),
                name: "scratch".to_owned(),
                size_bytes: 1 << 30,
                filesystem: "ext4".to_owned(),
            },
        )
        .unwrap();
    assert!(store.get_version(&created.key_id, 1).unwrap().is_some());
    keystore.remove_volume(&caller, "acme", "scratch").unwrap();
    let key = store.get_object(&created.key_id).unwrap().unwrap();
    assert_eq!(key.state, State::Destroyed);
    assert!(store.get_version(&created.key_id, 1).unwrap().is_none());
}
