//! `cryptainer volume ...`: encrypted volumes as the key manager sees them.

use reqwest::Method;
use serde_json::{Value, json};

use super::{confirm_irreversible, field, items};
use crate::args::{VolumeCommand, VolumeRef};
use crate::client::{Auth, Client, print_json};
use crate::table::Table;

/// Runs a volume command.
pub async fn run(client: &Client, command: &VolumeCommand, json: bool) -> anyhow::Result<()> {
    match command {
        VolumeCommand::Create {
            name,
            size,
            filesystem,
            tenant,
        } => {
            let mut body = json!({ "name": name, "size_bytes": size, "filesystem": filesystem });
            if let (Some(tenant), Some(object)) = (tenant, body.as_object_mut()) {
                object.insert("tenant".to_owned(), Value::String(tenant.clone()));
            }
            let volume = client
                .call(
                    Method::POST,
                    &["v1", "volumes"],
                    &[],
                    Some(&body),
                    Auth::Token,
                )
                .await?;
            print_volume(&volume, json, "Created")
        }
        VolumeCommand::List { tenant } => {
            let query: Vec<(&str, String)> = tenant
                .iter()
                .map(|tenant| ("tenant", tenant.clone()))
                .collect();
            let list = client
                .call(Method::GET, &["v1", "volumes"], &query, None, Auth::Token)
                .await?;
            if json {
                return print_json(&list);
            }
            print!("{}", volume_table(&list));
            Ok(())
        }
        VolumeCommand::Show(volume) => {
            let info = client
                .call(
                    Method::GET,
                    &["v1", "volumes", &volume.name],
                    &tenant_query(volume),
                    None,
                    Auth::Token,
                )
                .await?;
            print_volume(&info, json, "")
        }
        VolumeCommand::Rm { volume, yes } => {
            confirm_irreversible(
                *yes,
                &format!("remove volume '{}'", volume.name),
                "removing destroys the volume's key, so its data can never be read again",
                &format!(
                    "Remove volume '{}'? Its key is destroyed and its data can never be read again.",
                    volume.name
                ),
            )?;
            let info = client
                .call(
                    Method::DELETE,
                    &["v1", "volumes", &volume.name],
                    &tenant_query(volume),
                    None,
                    Auth::Token,
                )
                .await?;
            print_volume(&info, json, "Removed")
        }
    }
}

fn tenant_query(volume: &VolumeRef) -> Vec<(&'static str, String)> {
    volume
        .tenant
        .iter()
        .map(|tenant| ("tenant", tenant.clone()))
        .collect()
}

fn size_text(volume: &Value) -> String {
    volume
        .get("size_bytes")
        .and_then(Value::as_u64)
        .map_or_else(|| "-".to_owned(), plugin::options::format_size)
}

/// Volumes as a table: who holds each one and until when.
fn volume_table(list: &Value) -> String {
    let volumes = items(list, "volumes");
    if volumes.is_empty() {
        return "No volumes.\n".to_owned();
    }
    let mut table = Table::new(&[
        "NAME",
        "TENANT",
        "SIZE",
        "FS",
        "STATE",
        "HOLDER",
        "LEASE UNTIL",
    ]);
    for volume in volumes {
        table.row(vec![
            field(volume, "name"),
            field(volume, "tenant"),
            size_text(volume),
            field(volume, "filesystem"),
            field(volume, "state"),
            field(volume, "holder"),
            field(volume, "lease_expires_at"),
        ]);
    }
    table.render()
}

fn print_volume(volume: &Value, json: bool, verb: &str) -> anyhow::Result<()> {
    if json {
        return print_json(volume);
    }
    if !verb.is_empty() {
        println!("{verb} volume {}.", field(volume, "name"));
    }
    let mut table = Table::new(&["FIELD", "VALUE"]);
    for (label, value) in [
        ("name", field(volume, "name")),
        ("tenant", field(volume, "tenant")),
        ("size", size_text(volume)),
        ("filesystem", field(volume, "filesystem")),
        ("state", field(volume, "state")),
        ("holder", field(volume, "holder")),
        ("lease until", field(volume, "lease_expires_at")),
        ("used by", field(volume, "holders")),
        ("key", field(volume, "key_id")),
        ("created", field(volume, "created_at")),
        ("created by", field(volume, "created_by")),
    ] {
        table.row(vec![label.to_owned(), value]);
    }
    print!("{}", table.render());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_volume_table_shows_holder_and_human_sizes() {
        let list = json!({"volumes": [
            {"name": "pgdata", "tenant": "acme", "size_bytes": 21474836480u64, "filesystem": "ext4",
             "state": "held", "holder": "node:n1", "lease_expires_at": "2026-11-23T00:01:00Z"},
            {"name": "cache", "tenant": "acme", "size_bytes": 67108864, "filesystem": "ext4",
             "state": "free", "holder": null, "lease_expires_at": null}
        ]});
        assert_eq!(
            volume_table(&list),
            "NAME    TENANT  SIZE    FS    STATE  HOLDER   LEASE UNTIL\n\
             pgdata  acme    20 GiB  ext4  held   node:n1  2026-11-23T00:01:00Z\n\
             cache   acme    64 MiB  ext4  free   -        -\n"
        );
        assert_eq!(volume_table(&json!({"volumes": []})), "No volumes.\n");
    }
}
