//! `cryptainer key ...`: the key life cycle.

use std::collections::BTreeMap;

use api::keys::{
    CreateKey, CreateKeyRequest, DestroyKey, KeyInfo, KeyList, KeyListQuery, KeyRef, ListKeys,
    ReadMaterial, RevokeKey, RevokeRequest, RotateKey, ShowKey,
};

use super::{collect_labels, pairs, text, time};
use crate::args::{self, Algorithm, KeyCommand, KeyState};
use crate::client::{Client, print_answer, stdout_is_terminal};
use crate::table::Table;

/// Runs a key command.
pub async fn run(client: &Client, command: &KeyCommand, json: bool) -> anyhow::Result<()> {
    match command {
        KeyCommand::Create {
            name,
            algorithm,
            tenant,
            labels,
        } => create(client, name, *algorithm, tenant.as_deref(), labels, json).await,
        KeyCommand::List {
            tenant,
            state,
            limit,
            offset,
        } => list(client, tenant.as_deref(), *state, *limit, *offset, json).await,
        KeyCommand::Show(key) => show(client, key, json).await,
        KeyCommand::Rotate(key) => rotate(client, key, json).await,
        KeyCommand::Revoke { key, reason } => revoke(client, key, *reason, json).await,
        KeyCommand::Destroy { key, yes } => destroy(client, key, *yes, json).await,
        KeyCommand::Material { key, version } => material(client, key, *version, json).await,
    }
}

/// The key the arguments name.
fn key_ref(key: &args::KeyRef) -> KeyRef<'_> {
    KeyRef {
        reference: &key.reference,
        tenant: key.tenant.as_deref(),
    }
}

/// `cryptainer key create`.
async fn create(
    client: &Client,
    name: &str,
    algorithm: Algorithm,
    tenant: Option<&str>,
    labels: &[(String, String)],
    json: bool,
) -> anyhow::Result<()> {
    let request = CreateKeyRequest {
        name: name.to_owned(),
        algorithm: Some(algorithm.as_str().to_owned()),
        tenant: tenant.map(str::to_owned),
        labels: collect_labels(labels)?,
    };
    client
        .show(&CreateKey(&request), json, |key| {
            print_key(&key, "Created");
            Ok(())
        })
        .await
}

/// `cryptainer key list`.
async fn list(
    client: &Client,
    tenant: Option<&str>,
    state: Option<KeyState>,
    limit: u32,
    offset: u64,
    json: bool,
) -> anyhow::Result<()> {
    let query = KeyListQuery {
        tenant: tenant.map(str::to_owned),
        name: None,
        state: state.map(|state| state.as_str().to_owned()),
        limit: Some(limit),
        offset: Some(offset),
    };
    client
        .show(&ListKeys(&query), json, |list| {
            print!("{}", key_table(&list, offset));
            Ok(())
        })
        .await
}

/// `cryptainer key show`.
async fn show(client: &Client, key: &args::KeyRef, json: bool) -> anyhow::Result<()> {
    client
        .show(&ShowKey(key_ref(key)), json, |key| {
            print_key(&key, "");
            Ok(())
        })
        .await
}

/// `cryptainer key rotate`.
async fn rotate(client: &Client, key: &args::KeyRef, json: bool) -> anyhow::Result<()> {
    client
        .show(&RotateKey(key_ref(key)), json, |key| {
            print_key(&key, "Rotated");
            Ok(())
        })
        .await
}

/// `cryptainer key revoke`.
async fn revoke(
    client: &Client,
    key: &args::KeyRef,
    reason: args::RevocationReason,
    json: bool,
) -> anyhow::Result<()> {
    let body = RevokeRequest {
        reason: Some(reason.wire()),
    };
    let endpoint = RevokeKey {
        key: key_ref(key),
        body: &body,
    };
    client
        .show(&endpoint, json, |key| {
            print_key(&key, "Revoked");
            Ok(())
        })
        .await
}

/// `cryptainer key destroy`: destroying cannot be undone, so it asks on a
/// terminal and insists on `--yes` otherwise.
async fn destroy(client: &Client, key: &args::KeyRef, yes: bool, json: bool) -> anyhow::Result<()> {
    super::confirm_irreversible(
        yes,
        &format!("destroy key '{}'", key.reference),
        "destroying erases the key material for good",
        &format!(
            "Destroy the material of key '{}' for good? Data encrypted with it can no longer be decrypted.",
            key.reference
        ),
    )?;
    client
        .show(&DestroyKey(key_ref(key)), json, |key| {
            print_key(&key, "Destroyed");
            Ok(())
        })
        .await
}

/// `cryptainer key material`.
async fn material(
    client: &Client,
    key: &args::KeyRef,
    version: Option<u32>,
    json: bool,
) -> anyhow::Result<()> {
    let answer = client
        .call(&ReadMaterial {
            key: key_ref(key),
            version,
        })
        .await?;
    if stdout_is_terminal() {
        eprintln!(
            "warning: printing key material to a terminal; it may stay in the scrollback \
             and the screen can be seen. Pipe it to the program that needs it instead."
        );
    }
    if json {
        return print_answer(&answer);
    }
    let material = client.decode(&answer)?;
    println!("{}", material.material.expose_secret());
    Ok(())
}

/// The key list as a table, with a line saying how many there are in all.
fn key_table(list: &KeyList, offset: u64) -> String {
    let keys = &list.keys;
    let mut table = Table::new(&[
        "ID",
        "NAME",
        "TENANT",
        "ALGORITHM",
        "STATE",
        "VERSION",
        "CREATED",
    ]);
    for key in keys {
        table.row(vec![
            key.id.clone(),
            text(key.name.as_deref()),
            key.tenant.clone(),
            key.algorithm.clone(),
            key.state.as_str().to_owned(),
            key.version.to_string(),
            time(key.created_at),
        ]);
    }
    let shown = u64::try_from(keys.len()).unwrap_or(u64::MAX);
    let mut out = if keys.is_empty() {
        String::new()
    } else {
        table.render()
    };
    if keys.is_empty() && list.total == 0 {
        out.push_str("No keys.\n");
    } else if shown < list.total {
        out.push_str(&format!(
            "Keys {} to {} of {}; see more with --offset {}.\n",
            offset.saturating_add(1),
            offset.saturating_add(shown),
            list.total,
            offset.saturating_add(shown)
        ));
    }
    out
}

/// Labels as a line: `-` for none.
fn labels_line(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        "-".to_owned()
    } else {
        pairs(labels)
    }
}

/// A key's metadata, one field per line.
fn key_details(key: &KeyInfo) -> String {
    let mut table = Table::new(&[]);
    let mut line = |name: &str, value: String| table.row(vec![format!("{name}:"), value]);
    line("ID", key.id.clone());
    line("Name", text(key.name.as_deref()));
    line("Tenant", key.tenant.clone());
    line("Type", key.object_type.clone());
    line(
        "Algorithm",
        format!("{} ({} bits)", key.algorithm, key.length),
    );
    line("State", key.state.as_str().to_owned());
    line("Version", key.version.to_string());
    line("Labels", labels_line(&key.labels));
    line("Created", time(key.created_at));
    line("Rotated", time(key.rotated_at));
    for (label, date) in [
        ("Activated", key.activation_date),
        ("Deactivated", key.deactivation_date),
        ("Compromised", key.compromise_date),
        ("Destroyed", key.destroy_date),
    ] {
        if let Some(date) = date {
            line(label, time(date));
        }
    }
    if let Some(reason) = key.revocation_reason {
        line("Revocation reason", reason.as_str().to_owned());
    }
    table.render()
}

fn print_key(key: &KeyInfo, verb: &str) {
    if !verb.is_empty() {
        println!("{verb} key {}.", text(key.name.as_deref()));
    }
    print!("{}", key_details(key));
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    fn at(text: &str) -> OffsetDateTime {
        OffsetDateTime::parse(text, &Rfc3339).unwrap()
    }

    fn key(name: &str, state: api::keys::ObjectState) -> KeyInfo {
        KeyInfo {
            id: format!("id-{name}"),
            name: Some(name.to_owned()),
            tenant: "default".to_owned(),
            object_type: "symmetric_key".to_owned(),
            algorithm: "aes-256".to_owned(),
            length: 256,
            state,
            version: 1,
            labels: BTreeMap::new(),
            created_at: at("2026-11-22T18:00:00Z"),
            activation_date: Some(at("2026-11-22T18:00:00Z")),
            deactivation_date: None,
            compromise_date: None,
            destroy_date: None,
            revocation_reason: None,
            rotated_at: at("2026-11-22T18:00:00Z"),
        }
    }

    #[test]
    fn the_key_table_says_when_more_keys_exist() {
        use api::keys::ObjectState::{Active, Deactivated};
        let list = KeyList {
            keys: vec![key("db", Active), key("web", Deactivated)],
            total: 5,
        };
        assert_eq!(
            key_table(&list, 0),
            "ID      NAME  TENANT   ALGORITHM  STATE        VERSION  CREATED\n\
             id-db   db    default  aes-256    active       1        2026-11-22T18:00:00Z\n\
             id-web  web   default  aes-256    deactivated  1        2026-11-22T18:00:00Z\n\
             Keys 1 to 2 of 5; see more with --offset 2.\n"
        );
        let empty = KeyList {
            keys: Vec::new(),
            total: 0,
        };
        assert_eq!(key_table(&empty, 0), "No keys.\n");
    }

    #[test]
    fn details_show_only_dates_that_are_set() {
        let mut value = key("db", api::keys::ObjectState::Active);
        value.labels.insert("app".to_owned(), "pg".to_owned());
        assert_eq!(
            key_details(&value),
            "ID:         id-db\n\
             Name:       db\n\
             Tenant:     default\n\
             Type:       symmetric_key\n\
             Algorithm:  aes-256 (256 bits)\n\
             State:      active\n\
             Version:    1\n\
             Labels:     app=pg\n\
             Created:    2026-11-22T18:00:00Z\n\
             Rotated:    2026-11-22T18:00:00Z\n\
             Activated:  2026-11-22T18:00:00Z\n"
        );
    }
}
