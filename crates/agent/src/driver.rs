//! [`AgentDriver`]: the volume driver Docker talks to through the plugin. It
//! sends each volume to its kind: `--opt type=secrets` volumes to the secret
//! volumes (`secret_volumes`), the rest to the encrypted volumes (`volumes`).
//! Neither of those knows of the other, or of this driver.

use std::collections::BTreeMap;
use std::path::PathBuf;

use plugin::{DriverError, Volume};

use crate::AgentError;
use crate::secret_volumes::SecretVolumes;
use crate::volumes::{CryptainerDriver, Recovered};

/// The driver Docker talks to: secret volumes to one side, the rest encrypted.
pub(crate) struct AgentDriver {
    encrypted: CryptainerDriver,
    secrets: SecretVolumes,
}

impl AgentDriver {
    /// Serves `encrypted` and `secrets` as one driver.
    pub(crate) fn new(encrypted: CryptainerDriver, secrets: SecretVolumes) -> AgentDriver {
        AgentDriver { encrypted, secrets }
    }

    /// After a restart, given the volumes the mount table says are in use:
    /// takes back the encrypted ones still mounted (see `volumes::recover`).
    /// Secret volumes are not taken back: their tmpfs was removed at start
    /// (running containers keep their own bind mount of it), so the table
    /// forgets them with the encrypted volumes this node no longer has.
    pub(crate) async fn take_back(
        &self,
        in_use: &BTreeMap<String, PathBuf>,
    ) -> Result<(BTreeMap<String, Recovered>, Vec<String>), AgentError> {
        let (secret, encrypted): (BTreeMap<_, _>, BTreeMap<_, _>) = in_use
            .iter()
            .map(|(name, path)| (name.clone(), path.clone()))
            .partition(|(name, _)| self.secrets.defines(name));
        let (recovered, mut lost) = self.encrypted.take_back(&encrypted).await?;
        lost.extend(secret.into_keys());
        Ok((recovered, lost))
    }
}

impl plugin::VolumeDriver for AgentDriver {
    async fn create(
        &self,
        name: String,
        options: BTreeMap<String, String>,
    ) -> Result<(), DriverError> {
        if options.contains_key("type") {
            self.secrets.create(name, options).await
        } else {
            self.encrypted.create(name, options).await
        }
    }

    async fn remove(&self, name: String) -> Result<(), DriverError> {
        if self.secrets.defines(&name) {
            self.secrets.remove(name).await
        } else {
            self.encrypted.remove(name).await
        }
    }

    async fn mount(&self, name: String, caller: String) -> Result<PathBuf, DriverError> {
        if self.secrets.defines(&name) {
            self.secrets.mount(name).await
        } else {
            self.encrypted.mount(name, caller).await
        }
    }

    async fn admit(&self, name: String, _caller: String) -> Result<(), DriverError> {
        if self.secrets.defines(&name) {
            self.secrets.admit(name).await
        } else {
            self.encrypted.admit_workloads(&name).await
        }
    }

    async fn unmount(&self, name: String) -> Result<(), DriverError> {
        if self.secrets.defines(&name) {
            self.secrets.unmount(name).await
        } else {
            self.encrypted.unmount(name).await
        }
    }

    async fn get(&self, name: String) -> Result<Volume, DriverError> {
        if self.secrets.defines(&name) {
            self.secrets.get(name).await
        } else {
            self.encrypted.get(name).await
        }
    }

    async fn list(&self) -> Result<Vec<Volume>, DriverError> {
        let mut volumes = self.encrypted.list().await?;
        volumes.extend(self.secrets.list()?);
        Ok(volumes)
    }

    fn scope(&self) -> plugin::Scope {
        self.encrypted.scope()
    }
}
