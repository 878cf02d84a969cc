//! The Cryptainer key manager server: the HTTPS listener (TLS only, there is no
//! plaintext listener), authentication and authorization, the audit of every
//! request, and development mode.
#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod console;
pub mod error;
pub mod identity;
pub mod kmip_auth;
pub mod kmip_listener;
pub mod metrics;
pub mod migrate;
pub mod openapi;
pub mod peer;
pub mod policies;
mod routes;
pub mod seal_runtime;
pub mod server_cert;
mod wire;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnectionBuilder;
use keystore::model::Role;
use keystore::seal::{Argon2Params, PassphraseSeal};
use keystore::secret::SecretBytes;
use keystore::{Caller, Keystore, SealChoice};
use tokio::net::TcpListener;
use tower::Service as _;
use zeroize::Zeroizing;

pub use config::ServerConfig;
pub use error::Error;

/// How long a TLS handshake may take before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long in-flight requests get to finish at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Most connections served at once; more wait in the kernel's accept queue.
const MAX_CONNECTIONS: usize = 8192;

/// How often a server compares its deny list and CA with the store's even
/// without a notification (one may be lost with a connection).
const CLUSTER_CHECK_INTERVAL: Duration = Duration::from_secs(30);

/// How long to wait between attempts to reach a database that is down at
/// start.
const STORE_RETRY_DELAY: Duration = Duration::from_secs(2);

/// Lifetime of the admin token that development mode writes to `dev.env`.
const DEV_TOKEN_TTL_SECS: u64 = 30 * 24 * 3600;

/// Keeps key material out of core dumps and swap.
fn harden(config: &ServerConfig) -> Result<(), Error> {
    if let Err(error) =
        rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
    {
        tracing::warn!(%error, "cannot disable core dumps (PR_SET_DUMPABLE)");
    }
    if config.mlock {
        // ONFAULT locks pages as they are touched, so reserved but unused memory
        // (thread stacks) is not made resident.
        let flags = rustix::mm::MlockAllFlags::CURRENT
            | rustix::mm::MlockAllFlags::FUTURE
            | rustix::mm::MlockAllFlags::ONFAULT;
        match rustix::mm::mlockall(flags) {
            Ok(()) => tracing::debug!("process memory locked"),
            Err(error) if config.require_mlock => {
                return Err(Error::InvalidConfig(format!(
                    "cannot lock memory ({error}); raise RLIMIT_MEMLOCK or run with CAP_IPC_LOCK"
                )));
            }
            Err(error) => tracing::warn!(
                %error,
                "cannot lock memory: keys could reach swap; raise RLIMIT_MEMLOCK or set mlock = false to silence this"
            ),
        }
    }
    Ok(())
}

fn create_private_dir(path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::DirBuilderExt;
    if path.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
}

/// Writes `contents` to `path` readable by the owner only.
fn write_private(path: &Path, contents: &[u8]) -> Result<(), Error> {
    use std::os::unix::fs::OpenOptionsExt;
    let io_error = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io_error)?;
    file.write_all(contents).map_err(io_error)?;
    file.sync_all().map_err(io_error)
}

/// The names the generated server certificate covers.
fn certificate_names(config: &ServerConfig, local: SocketAddr) -> Vec<String> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if !local.ip().is_unspecified() {
        names.push(local.ip().to_string());
    }
    if let Ok(hostname) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let hostname = hostname.trim();
        if !hostname.is_empty() {
            names.push(hostname.to_owned());
        }
    }
    names.extend(config.tls.extra_names.iter().cloned());
    names.sort();
    names.dedup();
    names
}

/// The address clients should use for a listener bound to `local`.
fn client_address(local: SocketAddr) -> String {
    let ip = if local.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else if local.is_ipv6() {
        format!("[{}]", local.ip())
    } else {
        local.ip().to_string()
    };
    format!("https://{ip}:{}", local.port())
}

/// What [`tls_setup`] makes: the rustls configuration, the CA file clients trust,
/// node identity when the CA is the built-in one, and the KMIP listener's TLS
/// configuration and CA when it is enabled.
type TlsSetup = (
    Arc<rustls::ServerConfig>,
    Option<PathBuf>,
    Option<Arc<identity::Identity>>,
    Option<Arc<rustls::ServerConfig>>,
);

/// TLS material: the rustls configuration, the CA file clients trust, and node
/// identity when the CA is the built-in one.
fn tls_setup(
    config: &ServerConfig,
    local: SocketAddr,
    keystore: &Keystore,
) -> Result<TlsSetup, Error> {
    let names = certificate_names(config, local);
    let (material, ca_file) = match (&config.tls.cert_file, &config.tls.key_file) {
        (Some(cert), Some(key)) => (
            pki::ServerTlsMaterial::from_files(cert, key, config.tls.ca_file.as_deref())?,
            config.tls.ca_file.clone(),
        ),
        _ => {
            let dir = config.tls_dir();
            (
                pki::ServerTlsMaterial::load_or_create(&dir, &names)?,
                Some(dir.join(pki::CA_CERT_FILE)),
            )
        }
    };
    // With the built-in CA, nodes present certificates it issued (optional at the
    // TLS layer: people keep using tokens), and decommissioned nodes are refused
    // at the handshake.
    let (mut server, identity) = match material.certificate_authority() {
        Some(ca) => {
            let tls_dir = config.tls_dir();
            let bundle = identity::load_bundle(&tls_dir, ca.cert_pem());
            let deny = Arc::new(peer::DenyList::load(keystore)?);
            let verifier = peer::client_verifier(&bundle, Arc::clone(&deny))?;
            // Both listeners present the certificate of one slot, which the server
            // replaces while running (server_cert.rs).
            let server_cert =
                server_cert::ServerCert::new(&material, &bundle, names, Some(tls_dir.clone()))?;
            let server = pki::server_config_with_verifier(
                server_cert.slot(),
                Arc::clone(&verifier) as Arc<dyn rustls::server::danger::ClientCertVerifier>,
            )?;
            let ca = pki::CertificateAuthority::from_pem(ca.cert_pem(), &ca.key_pem_secret())?;
            let lifetime = config.nodes.cert_lifetime_secs;
            if lifetime < config::RECOMMENDED_MIN_NODE_CERT_LIFETIME_SECS {
                tracing::warn!(
                    lifetime_secs = lifetime,
                    "node certificates live less than an hour: for tests only"
                );
            }
            let identity = identity::Identity::new(identity::IdentitySetup {
                ca,
                bundle_pem: bundle,
                deny,
                verifier,
                cert_lifetime: Duration::from_secs(lifetime),
                tls_dir: Some(tls_dir),
                reissue_batch: config.nodes.reissue_batch,
                reissue_interval: Duration::from_secs(config.nodes.reissue_interval_secs),
                server_cert,
            });
            (server, Some(Arc::new(identity)))
        }
        None => (material.server_config(pki::ClientAuth::None)?, None),
    };
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // With the built-in CA the KMIP listener checks client certificates with the
    // HTTPS listener's verifier (certificates required), so a CA rotation and a
    // decommission reach both listeners at the same instant.
    let kmip = match (config.kmip_listen, &identity) {
        (None, _) => None,
        (Some(_), Some(identity)) => Some(kmip_listener::tls_config_with_verifier(
            identity.server_cert().slot(),
            identity.client_verifier(),
        )?),
        (Some(_), None) => Some(kmip_listener::tls_config(&material)?),
    };
    Ok((Arc::new(server), ca_file, identity, kmip))
}

/// Development mode: initialize with a passphrase kept in the data directory,
/// unseal, and write an admin token to `dev.env`. Never for production: the
/// passphrase sits next to the data it protects.
fn dev_prepare(
    keystore: &Keystore,
    config: &ServerConfig,
    address: &str,
    ca_file: Option<&Path>,
    kmip_address: Option<SocketAddr>,
    identity: Option<&identity::Identity>,
) -> Result<String, Error> {
    let passphrase_path = config.data_dir.join("dev-unseal.key");
    let passphrase = match std::fs::read(&passphrase_path) {
        Ok(bytes) => Zeroizing::new(bytes),
        Err(_) => {
            let fresh =
                Zeroizing::new(hex::encode(SecretBytes::random(32).expose_secret()).into_bytes());
            write_private(&passphrase_path, &fresh)?;
            fresh
        }
    };
    let caller = Caller::system();
    if !keystore.status().initialized {
        let seal = PassphraseSeal::new(
            SecretBytes::from_slice(&passphrase),
            Argon2Params::default(),
        )
        .map_err(keystore::KeystoreError::from)?;
        match keystore.initialize(&caller, SealChoice::Passphrase(seal), Vec::new()) {
            // Another server of the cluster initialized the database first
            // (with the same dev-unseal.key, or the unseal below fails).
            Ok(_) | Err(keystore::KeystoreError::AlreadyInitialized) => {}
            Err(error) => return Err(error.into()),
        }
    }
    if !keystore.is_unsealed() {
        keystore.unseal_with_passphrase(&caller, SecretBytes::from_slice(&passphrase))?;
    }
    if let Some(identity) = identity {
        // Before dev.env names ca.pem: it holds the cluster's CA from here on.
        if let Err(error) = identity.sync_ca(keystore) {
            tracing::warn!(%error, "could not follow the cluster's CA");
        }
    }
    let token = auth::new_token(Role::Admin, vec!["*".to_owned()], "dev", DEV_TOKEN_TTL_SECS);
    keystore.put_token(&caller, "token.create", token.row.clone())?;
    let mut lines = format!(
        "export CRYPTAINER_ADDR={address}\nexport CRYPTAINER_TOKEN={}\n",
        token.secret.as_str()
    );
    if let Some(ca_file) = ca_file {
        let absolute = std::fs::canonicalize(ca_file).unwrap_or_else(|_| ca_file.to_path_buf());
        lines.push_str(&format!(
            "export CRYPTAINER_CACERT={}\n",
            absolute.display()
        ));
    }
    if let Some(kmip_address) = kmip_address {
        lines.push_str(&format!("export CRYPTAINER_KMIP_ADDR={kmip_address}\n"));
    }
    let lines = Zeroizing::new(lines);
    // Written atomically: readers poll for this file to know the server is ready.
    let env_path = config.data_dir.join("dev.env");
    let temporary = config.data_dir.join("dev.env.tmp");
    write_private(&temporary, lines.as_bytes())?;
    std::fs::rename(&temporary, &env_path).map_err(|source| Error::Io {
        path: env_path.clone(),
        source,
    })?;
    Ok(lines.to_string())
}

/// Opens the key manager over the configured storage. A PostgreSQL database
/// that cannot be reached is tried again every few seconds (a cluster's
/// servers may start before it); `None` when the server was told to stop
/// meanwhile.
async fn open_keystore(config: &ServerConfig) -> Result<Option<Keystore>, Error> {
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let storage = config.storage.clone();
        let database = config.database_path();
        let opened = tokio::task::spawn_blocking(move || match storage {
            config::Storage::Sqlite => Keystore::open_sqlite(&database),
            config::Storage::Postgres(url) => Keystore::open_postgres(&url),
        })
        .await
        .map_err(|error| Error::InvalidConfig(format!("cannot open the store: {error}")))?;
        match opened {
            Ok(keystore) => {
                tracing::info!(storage = ?config.storage, "store opened");
                return Ok(Some(keystore));
            }
            Err(keystore::KeystoreError::Store(error)) if error.is_unavailable() => {
                tracing::warn!(
                    %error,
                    storage = ?config.storage,
                    "the database cannot be reached yet; trying again"
                );
            }
            Err(error) => return Err(error.into()),
        }
        tokio::select! {
            () = tokio::time::sleep(STORE_RETRY_DELAY) => {}
            () = &mut shutdown => return Ok(None),
        }
    }
}

/// Turns an audit report into the API's JSON answer.
pub fn audit_report_json(report: &audit::VerifyReport) -> serde_json::Value {
    serde_json::to_value(report).unwrap_or_else(
        |_| serde_json::json!({ "ok": report.is_ok(), "message": report.to_string() }),
    )
}

/// Runs the server until SIGINT or SIGTERM.
pub async fn run(config: ServerConfig) -> Result<(), Error> {
    config.validate()?;
    harden(&config)?;
    create_private_dir(&config.data_dir)?;
    let _data_dir = migrate::DataDirLock::acquire(&config.data_dir)?;
    // Stale dev.env from a previous run must not be mistaken for readiness.
    if config.dev {
        let _ = std::fs::remove_file(config.data_dir.join("dev.env"));
    }

    let Some(keystore) = open_keystore(&config).await? else {
        tracing::info!("stopped before the database could be reached");
        return Ok(());
    };
    keystore.set_checkpoint_policy(audit::CheckpointPolicy {
        every_records: config.audit.checkpoint_every_records,
        every_secs: config.audit.checkpoint_every_secs,
    });
    let keystore = Arc::new(keystore);
    // Reads the seal's PIN or client key now: a missing one is a
    // configuration error, said at once, not at the first unseal.
    let seals = Arc::new(seal_runtime::SealRuntime::new(&config)?);

    let listener = TcpListener::bind(config.listen_addr)
        .await
        .map_err(|source| Error::Bind {
            addr: config.listen_addr,
            source,
        })?;
    let local = listener.local_addr().map_err(|source| Error::Bind {
        addr: config.listen_addr,
        source,
    })?;
    let (tls, ca_file, identity, kmip_tls) = tls_setup(&config, local, &keystore)?;
    let address = client_address(local);
    let kmip = match (config.kmip_listen, kmip_tls) {
        (Some(kmip_addr), Some(kmip_tls)) => {
            let kmip_listener =
                TcpListener::bind(kmip_addr)
                    .await
                    .map_err(|source| Error::Bind {
                        addr: kmip_addr,
                        source,
                    })?;
            let kmip_local = kmip_listener.local_addr().map_err(|source| Error::Bind {
                addr: kmip_addr,
                source,
            })?;
            tracing::info!(address = %kmip_local, "listening (KMIP)");
            Some((kmip_listener, kmip_tls, kmip_local))
        }
        _ => None,
    };
    let kmip_address = kmip.as_ref().map(|(_, _, local)| *local);

    if let Some(identity) = &identity {
        // Sealed, this only compares: the store's CA key opens unsealed.
        let (identity, keystore) = (Arc::clone(identity), Arc::clone(&keystore));
        let synced = tokio::task::spawn_blocking(move || identity.sync_ca(&keystore)).await;
        match synced {
            Ok(Ok(outcome)) => tracing::debug!(?outcome, "CA compared with the store's"),
            Ok(Err(error)) => tracing::warn!(%error, "could not compare the CA with the store's"),
            Err(error) => tracing::warn!(%error, "could not compare the CA with the store's"),
        }
    }
    if config.dev {
        let dev_keystore = Arc::clone(&keystore);
        let dev_config = config.clone();
        let dev_address = address.clone();
        let dev_ca = ca_file.clone();
        let dev_identity = identity.clone();
        let lines = tokio::task::spawn_blocking(move || {
            dev_prepare(
                &dev_keystore,
                &dev_config,
                &dev_address,
                dev_ca.as_deref(),
                kmip_address,
                dev_identity.as_deref(),
            )
        })
        .await
        .map_err(|error| Error::InvalidConfig(format!("development setup failed: {error}")))??;
        println!(
            "Cryptainer is running in DEVELOPMENT mode: initialized, unsealed, and the unseal \
             passphrase is stored beside the data. Never use --dev in production.\n\n\
             Run this to point the client at it (also written to {}):\n\n{lines}\n\
             Web console: {address}/ui/ (sign in with the CRYPTAINER_TOKEN above; \
             trust the CA in CRYPTAINER_CACERT in your browser)",
            config.data_dir.join("dev.env").display()
        );
    }
    tracing::info!(
        address = %address,
        ca_file = ?ca_file,
        sealed = !keystore.is_unsealed(),
        "listening (HTTPS)"
    );

    let state = Arc::new(app::AppState {
        keystore: Arc::clone(&keystore),
        metrics: metrics::Metrics::default(),
        max_body_bytes: config.max_body_bytes,
        identity,
        data_dir: config.data_dir.clone(),
        seals: Arc::clone(&seals),
        console: console::Console::new(
            Duration::from_secs(config.console.session_secs),
            Duration::from_secs(config.console.event_stream_secs),
        ),
    });
    tokio::spawn(console::run_hub(Arc::clone(&state.console.hub)));
    // An automatic seal unseals now, without a person, retrying while its
    // device cannot be reached; the HTTPS listener serves status meanwhile.
    seals.start(&keystore);
    if let Some((kmip_listener, kmip_tls, _)) = kmip {
        let kmip_keystore = Arc::clone(&keystore);
        tokio::spawn(kmip_listener::serve(
            kmip_listener,
            kmip_tls,
            kmip_keystore,
            shutdown_signal(),
        ));
    }
    if let Some(identity) = &state.identity {
        tokio::spawn(identity::Identity::maintain_server_cert(
            Arc::clone(identity),
            Arc::clone(&keystore),
            identity.server_cert_check_interval(),
        ));
        tokio::spawn(identity::Identity::follow_cluster(
            Arc::clone(identity),
            Arc::clone(&keystore),
            CLUSTER_CHECK_INTERVAL,
        ));
    }
    let router = api::router(state);
    serve(listener, tls, router, shutdown_signal()).await;
    let closing = Arc::clone(&keystore);
    match tokio::task::spawn_blocking(move || closing.record_shutdown()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!(%error, "could not record the stop in the audit log"),
        Err(error) => tracing::warn!(%error, "could not record the stop in the audit log"),
    }
    tracing::info!("stopped");
    Ok(())
}

/// Completes at the first SIGINT (Ctrl-C) or SIGTERM: what stops the server,
/// and the agent (`cryptainer agent run`) too.
pub async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

/// Accepts TLS connections and serves the router on each until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    router: axum::Router,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and similar: wait, then keep serving.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let router = router.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = permit;
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    tracing::debug!(%peer, %error, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            // The leaf certificate the verifier accepted, if the client sent one;
            // handlers map it to a node and check the deny list on every request.
            let peer_certificate = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|leaf| peer::PeerCertificate(Arc::new(leaf.as_ref().to_vec())));
            let service = hyper::service::service_fn(
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(app::RemoteAddr(peer));
                    if let Some(certificate) = &peer_certificate {
                        request.extensions_mut().insert(certificate.clone());
                    }
                    let mut router = router.clone();
                    async move { router.call(request).await }
                },
            );
            let builder = ConnectionBuilder::new(TokioExecutor::new());
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            if let Err(error) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish within the shutdown grace period");
    }
}
