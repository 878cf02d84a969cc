//! `cryptainer agent ...`: the node side, joining the cluster and keeping the
//! node's identity fresh. Needs no API token: the join token, then the node
//! certificate, authenticate it.

use std::path::PathBuf;

use zeroize::Zeroizing;

use crate::args::AgentCommand;

/// Runs an agent command.
pub async fn run(command: &AgentCommand, json: bool) -> anyhow::Result<()> {
    match command {
        AgentCommand::Join {
            servers,
            token,
            data_dir,
            name,
        } => {
            let options = agent::JoinOptions {
                servers: servers.clone(),
                token: Zeroizing::new(token.clone()),
                data_dir: data_dir.clone(),
                name: name.clone(),
            };
            let state = agent::join(&options).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&state)?);
            } else {
                println!(
                    "Joined as node {} (tenant {}, role {}); the certificate expires {}.\n\
                     Keep it fresh with `cryptainer agent run --data-dir {}`.",
                    state.node_id,
                    state.tenant,
                    state.role,
                    state.not_after,
                    data_dir.display()
                );
            }
            Ok(())
        }
        AgentCommand::Run {
            data_dir,
            heartbeat_interval,
            plugin_socket,
            storage_dir,
            run_dir,
            default_volume_size,
            no_volumes,
            docker_socket,
            lease_seconds,
            engine,
        } => {
            // Mount points go to Docker, which reads a relative path against
            // the container's bundle: every path the plugin hands out is
            // absolute.
            let absolute = |path: PathBuf| std::path::absolute(&path).unwrap_or(path);
            let volumes = (!no_volumes).then(|| agent::VolumeOptions {
                socket: plugin_socket.clone(),
                storage_dir: absolute(
                    storage_dir
                        .clone()
                        .unwrap_or_else(|| data_dir.join("volumes")),
                ),
                run_dir: absolute(run_dir.clone()),
                default_size: *default_volume_size,
                docker_socket: docker_socket.clone(),
                lease_seconds: *lease_seconds,
                engine: *engine,
            });
            let options = agent::RunOptions {
                data_dir: data_dir.clone(),
                heartbeat_interval: *heartbeat_interval,
                volumes,
            };
            agent::run(options, ::server::shutdown_signal()).await?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_agent_never_asks_for_a_lease_the_key_manager_refuses() {
        assert_eq!(agent::MAX_LEASE_SECS, keystore::MAX_LEASE_SECS);
    }
}
