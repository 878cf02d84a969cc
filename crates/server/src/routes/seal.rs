//! The seal's routes beyond unseal and seal: `POST /v1/sys/init` (shares, a
//! passphrase, or the configured automatic seal with recovery shares),
//! `POST /v1/sys/rotate-root` (recovery shares required under an automatic
//! seal), and the seal migration: `POST /v1/sys/seal/migrate`, `.../complete`
//! and `.../cancel` (docs/seals.md).

use api::SecretString;
use api::seal::{CompleteMigrationRequest, Consent as ConsentBody, MigrateAnswer, MigrateRequest};
use api::sys::{InitAnswer, InitRequest, RotateRootRequest, Status as StatusBody};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use keystore::model::Role;
use keystore::seal::migrate::{Consent, Target};
use keystore::seal::{Argon2Params, PassphraseSeal, SealError, SealKind, UnsealShare};
use keystore::secret::SecretBytes;
use keystore::{Caller, KeystoreError, SealChoice};

use super::sys::status_body;
use crate::app::{App, JsonBody, OptionalJsonBody, RequestContext, require_all_tenants};
use crate::auth::{self, Permission};
use crate::error::ApiError;
use crate::wire::SecretJson;

/// Largest number of unseal or recovery shares.
const MAX_SHARES: u8 = 32;

/// Default unseal share counts of a Shamir seal.
const DEFAULT_SHARES: u8 = 5;
const DEFAULT_THRESHOLD: u8 = 3;

/// Default recovery share counts with an automatic seal.
const DEFAULT_RECOVERY_SHARES: u8 = 5;
const DEFAULT_RECOVERY_THRESHOLD: u8 = 3;

/// Checks share counts as `operator init` takes them.
fn check_counts(what: &str, shares: u8, threshold: u8) -> Result<(), ApiError> {
    if shares == 0 || shares > MAX_SHARES {
        return Err(ApiError::bad_request(format!(
            "{what} must be between 1 and {MAX_SHARES}, not {shares}"
        )));
    }
    if threshold == 0 || threshold > shares {
        return Err(ApiError::bad_request(format!(
            "the threshold of the {what} must be between 1 and {shares}, not {threshold}"
        )));
    }
    if threshold == 1 && shares > 1 {
        return Err(ApiError::bad_request(format!(
            "a threshold of 1 with several {what} makes every share a full key; use a threshold of 2 or more"
        )));
    }
    Ok(())
}

/// The unseal share counts asked for, or the defaults, checked.
fn shamir_counts(shares: Option<u8>, threshold: Option<u8>) -> Result<(u8, u8), ApiError> {
    let shares = shares.unwrap_or(DEFAULT_SHARES);
    let threshold = threshold.unwrap_or(DEFAULT_THRESHOLD);
    check_counts("shares", shares, threshold)?;
    Ok((shares, threshold))
}

/// The recovery share counts asked for, or the defaults, checked.
fn recovery_counts(shares: Option<u8>, threshold: Option<u8>) -> Result<(u8, u8), ApiError> {
    let shares = shares.unwrap_or(DEFAULT_RECOVERY_SHARES);
    let threshold = threshold.unwrap_or(DEFAULT_RECOVERY_THRESHOLD);
    check_counts("recovery shares", shares, threshold)?;
    Ok((shares, threshold))
}

fn passphrase_seal(passphrase: &SecretString) -> Result<PassphraseSeal, ApiError> {
    PassphraseSeal::new(
        SecretBytes::from_slice(passphrase.expose_secret().as_bytes()),
        Argon2Params::default(),
    )
    .map_err(|error| ApiError::from(KeystoreError::from(error)))
}

fn parse_shares(texts: &[SecretString]) -> Result<Vec<UnsealShare>, ApiError> {
    texts
        .iter()
        .map(|text| {
            UnsealShare::parse(text.expose_secret().trim())
                .map_err(|error| ApiError::from(KeystoreError::from(error)))
        })
        .collect()
}

fn share_texts(shares: &[UnsealShare]) -> Vec<SecretString> {
    shares
        .iter()
        .map(|share| SecretString::from_str_copy(&share.to_string_secret()))
        .collect()
}

/// `POST /v1/sys/init`: with an automatic seal configured, the root is sealed
/// by the device and recovery shares are made; otherwise shares or a
/// passphrase, as the request says. Also makes the first admin token.
pub(crate) async fn init(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<InitRequest>,
) -> Result<(StatusCode, SecretJson<InitAnswer>), ApiError> {
    let remote = context.remote;
    let runtime = std::sync::Arc::clone(&app.seals);
    let automatic = runtime.configured();
    let wants_recovery = request.recovery_shares.is_some() || request.recovery_threshold.is_some();
    let answer = app
        .call_public("sys.init", move |keystore| {
            let choice = match (automatic, request.shares, request.threshold, request.passphrase) {
                (Some(seal), None, None, None) => {
                    let (recovery_shares, recovery_threshold) =
                        recovery_counts(request.recovery_shares, request.recovery_threshold)?;
                    SealChoice::Automatic {
                        seal: Box::new(seal),
                        recovery_shares,
                        recovery_threshold,
                    }
                }
                (Some(seal), _, _, _) => {
                    return Err(ApiError::bad_request(format!(
                        "this server is configured with a {} seal: it makes recovery shares, not unseal shares or a passphrase; give --recovery-shares and --recovery-threshold",
                        seal.kind()
                    )));
                }
                (None, _, _, _) if wants_recovery => {
                    return Err(ApiError::bad_request(
                        "recovery shares go with an automatic seal ([seal] kind = \"pkcs11\", \"tpm2\" or \"kmip\" in the server's configuration); give shares or a passphrase",
                    ));
                }
                (None, None, None, Some(passphrase)) => {
                    SealChoice::Passphrase(passphrase_seal(&passphrase)?)
                }
                (None, shares, threshold, None) => {
                    let (shares, threshold) = shamir_counts(shares, threshold)?;
                    SealChoice::Shamir { shares, threshold }
                }
                (None, _, _, Some(_)) => {
                    return Err(ApiError::bad_request(
                        "give either shares and threshold, or a passphrase, not both",
                    ));
                }
            };
            let token = auth::new_token(
                Role::Admin,
                vec!["*".to_owned()],
                "root",
                auth::MAX_TOKEN_TTL_SECS,
            );
            let caller = Caller {
                principal: "anonymous".to_owned(),
                remote,
            };
            let initialized = keystore.initialize(&caller, choice, vec![token.row.clone()])?;
            Ok(InitAnswer {
                unseal_shares: share_texts(&initialized.shares),
                recovery_shares: share_texts(&initialized.recovery_shares),
                seal: keystore
                    .seal_kind()
                    .map_or("none", SealKind::as_str)
                    .to_owned(),
                root_token: SecretString::from_str_copy(&token.secret),
                root_token_id: token.row.id.clone(),
            })
        })
        .await?;
    // An automatic seal unseals at once, without a person.
    runtime.start(&app.keystore);
    Ok((StatusCode::OK, SecretJson(answer)))
}

/// `POST /v1/sys/rotate-root`: a new root key, every tenant key re-wrapped
/// under it. Under an automatic seal, a quorum of recovery shares must come
/// with the admin token.
pub(crate) async fn rotate_root(
    State(app): State<App>,
    context: RequestContext,
    OptionalJsonBody(request): OptionalJsonBody<RotateRootRequest>,
) -> Result<Json<StatusBody>, ApiError> {
    app.call(
        context,
        "sys.rotate_root",
        Permission::ManageSeal,
        move |call| {
            require_all_tenants(call.principal())?;
            if let Some(need) = call.keystore.recovery_threshold() {
                if request.recovery_shares.is_empty() {
                    return Err(KeystoreError::from(SealError::RecoveryRequired { need }).into());
                }
                call.keystore
                    .check_recovery_shares(&parse_shares(&request.recovery_shares)?)?;
            } else if !request.recovery_shares.is_empty() {
                return Err(ApiError::bad_request(
                    "this server's seal has no recovery shares; send no body",
                ));
            }
            call.keystore.rotate_root(&call.caller)?;
            Ok(status_body(call.keystore.status()))
        },
    )
    .await
}

/// The consent a request gives: exactly one kind of material.
fn consent(body: ConsentBody) -> Result<Consent, ApiError> {
    let ConsentBody {
        unseal_shares,
        passphrase,
        recovery_shares,
    } = body;
    match (
        unseal_shares.is_empty(),
        passphrase,
        recovery_shares.is_empty(),
    ) {
        (false, None, true) => Ok(Consent::UnsealShares(parse_shares(&unseal_shares)?)),
        (true, Some(passphrase), true) => Ok(Consent::Passphrase(SecretBytes::from_slice(
            passphrase.expose_secret().as_bytes(),
        ))),
        (true, None, false) => Ok(Consent::RecoveryShares(parse_shares(&recovery_shares)?)),
        _ => Err(ApiError::bad_request(
            "consent takes exactly one of unseal_shares, passphrase or recovery_shares",
        )),
    }
}

/// `POST /v1/sys/seal/migrate`: moves the root key to another seal, at once
/// or (when the migration makes shares nobody holds yet) once a quorum of the
/// new shares comes back.
pub(crate) async fn migrate(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<MigrateRequest>,
) -> Result<SecretJson<MigrateAnswer>, ApiError> {
    let runtime = std::sync::Arc::clone(&app.seals);
    let configured = runtime.configured();
    let answer = app
        .call(context, "sys.seal_migrate", Permission::ManageSeal, move |call| {
            require_all_tenants(call.principal())?;
            let to = SealKind::from_name(&request.to).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "'{}' is not a seal kind; give shamir, passphrase, pkcs11, tpm2 or kmip",
                    request.to
                ))
            })?;
            let consent = consent(request.consent)?;
            let target = match to {
                SealKind::Shamir => {
                    let (shares, threshold) = shamir_counts(request.shares, request.threshold)?;
                    Target::Shamir { shares, threshold }
                }
                SealKind::Passphrase => {
                    let passphrase = request.new_passphrase.ok_or_else(|| {
                        ApiError::bad_request("a migration to a passphrase needs new_passphrase")
                    })?;
                    Target::Passphrase(passphrase_seal(&passphrase)?)
                }
                SealKind::Pkcs11 | SealKind::Tpm2 | SealKind::Kmip => {
                    let seal = configured.filter(|seal| seal.kind() == to).ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "this server's [seal] does not configure a {to} seal; add its settings to the configuration (keep the current seal as [previous_seal] if it is automatic), restart, and try again"
                        ))
                    })?;
                    let (recovery_shares, recovery_threshold) =
                        recovery_counts(request.recovery_shares, request.recovery_threshold)?;
                    Target::Automatic {
                        seal: Box::new(seal),
                        recovery_shares,
                        recovery_threshold,
                    }
                }
            };
            let migration = call.keystore.migrate_seal(&call.caller, consent, target)?;
            Ok(MigrateAnswer {
                from: migration.from.as_str().to_owned(),
                to: migration.to.as_str().to_owned(),
                pending: !migration.new_shares.is_empty(),
                new_shares: share_texts(&migration.new_shares),
                status: status_body(migration.status).0,
            })
        })
        .await?;
    // A device seal now in use is watched like one found at start.
    runtime.start(&app.keystore);
    Ok(SecretJson(answer))
}

/// `POST /v1/sys/seal/migrate/complete`: a quorum of the shares the
/// migration made switches to the new seal.
pub(crate) async fn complete(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<CompleteMigrationRequest>,
) -> Result<Json<StatusBody>, ApiError> {
    let runtime = std::sync::Arc::clone(&app.seals);
    app.call(
        context,
        "sys.seal_migrate_complete",
        Permission::ManageSeal,
        move |call| {
            require_all_tenants(call.principal())?;
            let shares = parse_shares(&request.shares)?;
            let automatic = runtime
                .configured()
                .map(|seal| Box::new(seal) as Box<dyn keystore::seal::Seal>);
            Ok(status_body(call.keystore.complete_seal_migration(
                &call.caller,
                &shares,
                automatic,
            )?))
        },
    )
    .await
}

/// `POST /v1/sys/seal/migrate/cancel`: forgets a migration that waits.
pub(crate) async fn cancel(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<StatusBody>, ApiError> {
    app.call(
        context,
        "sys.seal_migrate_cancel",
        Permission::ManageSeal,
        |call| {
            require_all_tenants(call.principal())?;
            Ok(status_body(
                call.keystore.cancel_seal_migration(&call.caller)?,
            ))
        },
    )
    .await
}
