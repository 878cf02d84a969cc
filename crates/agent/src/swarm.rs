//! Docker Swarm's secret provider: `docker secret create --driver <plugin>
//! NAME` makes NAME a secret the key manager delivers, under the same
//! policies as secret volumes, for the task's service and image.

use std::sync::Arc;

use plugin::{DriverError, SecretFuture, SecretRequest, SecretValue};

use crate::docker::SwarmTask;
use crate::secret_volumes::{check_secret_name, deliver};
use crate::shared::Shared;

/// The secret provider of this node.
pub(crate) struct SwarmSecrets {
    shared: Arc<Shared>,
}

impl SwarmSecrets {
    /// The provider of this node.
    pub(crate) fn new(shared: Arc<Shared>) -> SwarmSecrets {
        SwarmSecrets { shared }
    }

    async fn value(&self, request: SecretRequest) -> Result<SecretValue, DriverError> {
        check_secret_name(&request.secret_name)?;
        let task = SwarmTask {
            service_name: request.service_name.filter(|name| !name.is_empty()),
            service_id: request.service_id.filter(|id| !id.is_empty()),
            task_image: request.task_image.filter(|image| !image.is_empty()),
        };
        let claim = self
            .shared
            .docker()
            .claim_for_task(&task)
            .await
            .map_err(crate::docker::unavailable)?;
        let value = deliver(
            self.shared.api().as_ref(),
            &request.secret_name,
            vec![claim],
        )
        .await?;
        Ok(SecretValue::new(value))
    }
}

impl plugin::SecretProvider for SwarmSecrets {
    fn get_secret(&self, request: SecretRequest) -> SecretFuture<'_> {
        Box::pin(self.value(request))
    }
}
