//! `cryptainer volume ...`: encrypted volumes as the key manager sees them.

use api::volumes::{
    CreateVolume, CreateVolumeRequest, ListVolumes, RemoveVolume, ShowVolume, VolumeInfo,
    VolumeList, VolumeRef,
};

use super::{confirm_irreversible, text};
use crate::args::{self, VolumeCommand};
use crate::client::Client;
use crate::table::Table;

/// Runs a volume command.
pub async fn run(client: &Client, command: &VolumeCommand, json: bool) -> anyhow::Result<()> {
    match command {
        VolumeCommand::Create {
            name,
            size,
            filesystem,
            tenant,
        } => create(client, name, *size, filesystem, tenant.as_deref(), json).await,
        VolumeCommand::List { tenant } => list(client, tenant.as_deref(), json).await,
        VolumeCommand::Show(volume) => show(client, volume, json).await,
        VolumeCommand::Rm { volume, yes } => remove(client, volume, *yes, json).await,
    }
}

/// The volume the arguments name.
fn volume_ref(volume: &args::VolumeRef) -> VolumeRef<'_> {
    VolumeRef {
        reference: &volume.name,
        tenant: volume.tenant.as_deref(),
    }
}

/// `cryptainer volume create`.
async fn create(
    client: &Client,
    name: &str,
    size: u64,
    filesystem: &str,
    tenant: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    let request = CreateVolumeRequest {
        name: name.to_owned(),
        size_bytes: size,
        filesystem: Some(filesystem.to_owned()),
        tenant: tenant.map(str::to_owned),
    };
    client
        .show(&CreateVolume(&request), json, |volume| {
            print_volume(&volume, "Created");
            Ok(())
        })
        .await
}

/// `cryptainer volume list`.
async fn list(client: &Client, tenant: Option<&str>, json: bool) -> anyhow::Result<()> {
    client
        .show(&ListVolumes { tenant }, json, |list| {
            print!("{}", volume_table(&list));
            Ok(())
        })
        .await
}

/// `cryptainer volume show`.
async fn show(client: &Client, volume: &args::VolumeRef, json: bool) -> anyhow::Result<()> {
    client
        .show(&ShowVolume(volume_ref(volume)), json, |volume| {
            print_volume(&volume, "");
            Ok(())
        })
        .await
}

/// `cryptainer volume rm`.
async fn remove(
    client: &Client,
    volume: &args::VolumeRef,
    yes: bool,
    json: bool,
) -> anyhow::Result<()> {
    confirm_irreversible(
        yes,
        &format!("remove volume '{}'", volume.name),
        "removing destroys the volume's key, so its data can never be read again",
        &format!(
            "Remove volume '{}'? Its key is destroyed and its data can never be read again.",
            volume.name
        ),
    )?;
    client
        .show(&RemoveVolume(volume_ref(volume)), json, |volume| {
            print_volume(&volume, "Removed");
            Ok(())
        })
        .await
}

fn size_text(volume: &VolumeInfo) -> String {
    plugin::options::format_size(volume.size_bytes)
}

/// Volumes as a table: who holds each one and until when.
fn volume_table(list: &VolumeList) -> String {
    if list.volumes.is_empty() {
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
    for volume in &list.volumes {
        table.row(vec![
            volume.name.clone(),
            volume.tenant.clone(),
            size_text(volume),
            volume.filesystem.clone(),
            volume.state.as_str().to_owned(),
            text(volume.holder.as_deref()),
            text(volume.lease_expires_at.as_deref()),
        ]);
    }
    table.render()
}

fn print_volume(volume: &VolumeInfo, verb: &str) {
    if !verb.is_empty() {
        println!("{verb} volume {}.", volume.name);
    }
    let mut table = Table::new(&["FIELD", "VALUE"]);
    for (label, value) in [
        ("name", volume.name.clone()),
        ("tenant", volume.tenant.clone()),
        ("size", size_text(volume)),
        ("filesystem", volume.filesystem.clone()),
        ("state", volume.state.as_str().to_owned()),
        ("holder", text(volume.holder.as_deref())),
        ("lease until", text(volume.lease_expires_at.as_deref())),
        ("used by", volume.holders.join(",")),
        ("key", volume.key_id.clone()),
        ("created", volume.created_at.clone()),
        ("created by", volume.created_by.clone()),
    ] {
        table.row(vec![label.to_owned(), value]);
    }
    print!("{}", table.render());
}

#[cfg(test)]
mod tests {
    use super::*;
    use api::volumes::VolumeState;

    fn volume(name: &str, size_bytes: u64, holder: Option<&str>) -> VolumeInfo {
        VolumeInfo {
            name: name.to_owned(),
            tenant: "acme".to_owned(),
            key_id: "k".to_owned(),
            size_bytes,
            filesystem: "ext4".to_owned(),
            created_at: "2026-11-23T00:00:00Z".to_owned(),
            created_by: "token:tok_1".to_owned(),
            state: if holder.is_some() {
                VolumeState::Held
            } else {
                VolumeState::Free
            },
            holder: holder.map(str::to_owned),
            lease_expires_at: holder.map(|_| "2026-11-23T00:01:00Z".to_owned()),
            holders: Vec::new(),
        }
    }

    #[test]
    fn the_volume_table_shows_holder_and_human_sizes() {
        let list = VolumeList {
            volumes: vec![
                volume("pgdata", 21474836480, Some("node:n1")),
                volume("cache", 67108864, None),
            ],
        };
        assert_eq!(
            volume_table(&list),
            "NAME    TENANT  SIZE    FS    STATE  HOLDER   LEASE UNTIL\n\
             pgdata  acme    20 GiB  ext4  held   node:n1  2026-11-23T00:01:00Z\n\
             cache   acme    64 MiB  ext4  free   -        -\n"
        );
        assert_eq!(
            volume_table(&VolumeList {
                volumes: Vec::new()
            }),
            "No volumes.\n"
        );
    }
}
