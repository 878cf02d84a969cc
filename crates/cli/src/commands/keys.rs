//! `cryptainer key ...`: the key life cycle.

use reqwest::Method;
use serde_json::{Value, json};

use super::{field, items};
use crate::args::{KeyCommand, KeyRef};
use crate::client::{Auth, Client, SecretJson, print_json, stdout_is_terminal};
use crate::failure::Failure;
use crate::labels::collect_labels;
use crate::table::Table;

/// Runs a key command.
pub async fn run(client: &Client, command: &KeyCommand, json: bool) -> anyhow::Result<()> {
    match command {
        KeyCommand::Create {
            name,
            algorithm,
            tenant,
            labels,
        } => {
            let labels = collect_labels(labels.clone()).map_err(|error| {
                anyhow::Error::new(error).context(Failure::usage(
                    "the labels were refused",
                    "give each label once as --label KEY=VALUE",
                ))
            })?;
            let mut body =
                json!({ "name": name, "algorithm": algorithm.as_str(), "labels": labels });
            if let (Some(tenant), Some(object)) = (tenant, body.as_object_mut()) {
                object.insert("tenant".to_owned(), Value::String(tenant.clone()));
            }
            let key = client
                .call(Method::POST, &["v1", "keys"], &[], Some(&body), Auth::Token)
                .await?;
            print_key(&key, json, "Created")
        }
        KeyCommand::List {
            tenant,
            state,
            limit,
            offset,
        } => {
            let mut query = vec![("limit", limit.to_string()), ("offset", offset.to_string())];
            if let Some(tenant) = tenant {
                query.push(("tenant", tenant.clone()));
            }
            if let Some(state) = state {
                query.push(("state", state.as_str().to_owned()));
            }
            let list = client
                .call(Method::GET, &["v1", "keys"], &query, None, Auth::Token)
                .await?;
            if json {
                return print_json(&list);
            }
            print!("{}", key_table(&list, *offset));
            Ok(())
        }
        KeyCommand::Show(key) => {
            let info = client
                .call(
                    Method::GET,
                    &["v1", "keys", &key.reference],
                    &tenant_query(key),
                    None,
                    Auth::Token,
                )
                .await?;
            print_key(&info, json, "")
        }
        KeyCommand::Rotate(key) => {
            let info = client
                .call(
                    Method::POST,
                    &["v1", "keys", &key.reference, "rotate"],
                    &tenant_query(key),
                    None,
                    Auth::Token,
                )
                .await?;
            print_key(&info, json, "Rotated")
        }
        KeyCommand::Revoke { key, reason } => {
            let body = json!({ "reason": reason.as_str() });
            let info = client
                .call(
                    Method::POST,
                    &["v1", "keys", &key.reference, "revoke"],
                    &tenant_query(key),
                    Some(&body),
                    Auth::Token,
                )
                .await?;
            print_key(&info, json, "Revoked")
        }
        KeyCommand::Destroy { key, yes } => {
            confirm_destroy(key, *yes)?;
            let info = client
                .call(
                    Method::DELETE,
                    &["v1", "keys", &key.reference],
                    &tenant_query(key),
                    None,
                    Auth::Token,
                )
                .await?;
            print_key(&info, json, "Destroyed")
        }
        KeyCommand::Material { key, version } => {
            let mut query = tenant_query(key);
            if let Some(version) = version {
                query.push(("version", version.to_string()));
            }
            let material = SecretJson(
                client
                    .call(
                        Method::GET,
                        &["v1", "keys", &key.reference, "material"],
                        &query,
                        None,
                        Auth::Token,
                    )
                    .await?,
            );
            if stdout_is_terminal() {
                eprintln!(
                    "warning: printing key material to a terminal; it may stay in the scrollback \
                     and the screen can be seen. Pipe it to the program that needs it instead."
                );
            }
            if json {
                return print_json(&material);
            }
            let text = material
                .get("material")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    Failure::failed(
                        "the server's answer has no key material",
                        "check that the client and server versions match (`cryptainer status`)",
                    )
                })?;
            println!("{text}");
            Ok(())
        }
    }
}

/// `?tenant=` when one was given.
fn tenant_query(key: &KeyRef) -> Vec<(&'static str, String)> {
    key.tenant
        .iter()
        .map(|tenant| ("tenant", tenant.clone()))
        .collect()
}

/// Destroying cannot be undone: ask on a terminal, insist on `--yes` otherwise.
fn confirm_destroy(key: &KeyRef, yes: bool) -> anyhow::Result<()> {
    super::confirm_irreversible(
        yes,
        &format!("destroy key '{}'", key.reference),
        "destroying erases the key material for good",
        &format!(
            "Destroy the material of key '{}' for good? Data encrypted with it can no longer be decrypted.",
            key.reference
        ),
    )
}

/// The key list as a table, with a line saying how many there are in all.
fn key_table(list: &Value, offset: u64) -> String {
    let keys = items(list, "keys");
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
            field(key, "id"),
            field(key, "name"),
            field(key, "tenant"),
            field(key, "algorithm"),
            field(key, "state"),
            field(key, "version"),
            field(key, "created_at"),
        ]);
    }
    let total = list.get("total").and_then(Value::as_u64);
    let shown = u64::try_from(keys.len()).unwrap_or(u64::MAX);
    let mut out = if keys.is_empty() {
        String::new()
    } else {
        table.render()
    };
    match total {
        Some(0) | None if keys.is_empty() => out.push_str("No keys.\n"),
        Some(total) if shown < total => out.push_str(&format!(
            "Keys {} to {} of {total}; see more with --offset {}.\n",
            offset.saturating_add(1),
            offset.saturating_add(shown),
            offset.saturating_add(shown)
        )),
        _ => {}
    }
    out
}

/// A key's metadata, one field per line.
fn key_details(key: &Value) -> String {
    let mut table = Table::new(&[]);
    let mut line = |name: &str, value: String| table.row(vec![format!("{name}:"), value]);
    line("ID", field(key, "id"));
    line("Name", field(key, "name"));
    line("Tenant", field(key, "tenant"));
    line("Type", field(key, "object_type"));
    line(
        "Algorithm",
        format!(
            "{} ({} bits)",
            field(key, "algorithm"),
            field(key, "length")
        ),
    );
    line("State", field(key, "state"));
    line("Version", field(key, "version"));
    let labels = key
        .get("labels")
        .filter(|labels| labels.as_object().is_some_and(|map| !map.is_empty()));
    line("Labels", super::display(labels));
    line("Created", field(key, "created_at"));
    for (name, label) in [
        ("rotated_at", "Rotated"),
        ("activation_date", "Activated"),
        ("deactivation_date", "Deactivated"),
        ("compromise_date", "Compromised"),
        ("destroy_date", "Destroyed"),
        ("revocation_reason", "Revocation reason"),
    ] {
        if key.get(name).is_some_and(|value| !value.is_null()) {
            line(label, field(key, name));
        }
    }
    table.render()
}

fn print_key(key: &Value, json: bool, verb: &str) -> anyhow::Result<()> {
    if json {
        return print_json(key);
    }
    if !verb.is_empty() {
        println!("{verb} key {}.", field(key, "name"));
    }
    print!("{}", key_details(key));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, state: &str) -> Value {
        json!({"id": format!("id-{name}"), "name": name, "tenant": "default",
               "object_type": "symmetric_key", "algorithm": "aes-256", "length": 256,
               "state": state, "version": 1, "labels": {},
               "created_at": "2026-11-22T18:00:00Z", "activation_date": "2026-11-22T18:00:00Z",
               "deactivation_date": null, "compromise_date": null, "destroy_date": null,
               "revocation_reason": null})
    }

    #[test]
    fn the_key_table_says_when_more_keys_exist() {
        let list = json!({"keys": [key("db", "active"), key("web", "deactivated")], "total": 5});
        assert_eq!(
            key_table(&list, 0),
            "ID      NAME  TENANT   ALGORITHM  STATE        VERSION  CREATED\n\
             id-db   db    default  aes-256    active       1        2026-11-22T18:00:00Z\n\
             id-web  web   default  aes-256    deactivated  1        2026-11-22T18:00:00Z\n\
             Keys 1 to 2 of 5; see more with --offset 2.\n"
        );
        assert_eq!(key_table(&json!({"keys": [], "total": 0}), 0), "No keys.\n");
    }

    #[test]
    fn details_show_only_dates_that_are_set() {
        let mut value = key("db", "active");
        value["labels"] = json!({"app": "pg"});
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
             Activated:  2026-11-22T18:00:00Z\n"
        );
    }
}
