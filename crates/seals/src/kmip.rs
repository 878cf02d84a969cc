//! The remote KMIP seal: a key held by another KMIP key manager protects the
//! unseal key, over mutual TLS with a client certificate from that manager.
//!
//! With `method = "encrypt"` (the default) the remote server encrypts the
//! unseal key with AES-256-GCM (KMIP Encrypt, its key never leaves it) and
//! decrypts it at each unseal. With `method = "get"`, for servers that only
//! store keys, the remote key itself is the unseal key, fetched with Get at
//! each unseal and held only in memory. The remote key is the one `key_id`
//! names, or, when none is configured, one made on the remote server (Create,
//! then Activate) the first time the root is sealed, whose id the sealed root
//! keeps.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use keystore::seal::{
    KmipMethod, KmipParams, Seal, SealError, SealKind, SealParams, SealedRoot, seal_with,
    unseal_with,
};
use keystore::secret::{KEY_LEN, Key256};
use rand::RngCore;
use rand::rngs::OsRng;
use serde::Deserialize;
use ttlv::{Item, Tag, Value};
use zeroize::Zeroizing;

use crate::error::DeviceError;
use crate::kmip_client::{Endpoint, bytes_of};

/// The start of the name given to a key made on the remote server when the
/// configuration names none; a random suffix keeps servers sharing one remote
/// key manager (names are unique there) apart.
pub const DEFAULT_KEY_NAME_PREFIX: &str = "cryptainer-root-wrap-";

/// The associated data of the GCM encryption of the unseal key.
const GCM_AAD: &[u8] = b"cryptainer-kmip-unseal-key-v1";

/// The GCM IV length sent to the remote server.
const GCM_IV_LEN: usize = 12;

/// The GCM tag length in bytes.
const GCM_TAG_LEN: i32 = 16;

/// KMIP enumeration values used here (KMIP 1.4 section 9.1.3.2).
const OBJECT_TYPE_SYMMETRIC_KEY: u32 = 0x02;
const ALGORITHM_AES: u32 = 0x03;
const BLOCK_CIPHER_MODE_GCM: u32 = 0x09;
const KEY_FORMAT_RAW: u32 = 0x01;
const NAME_TYPE_TEXT: u32 = 0x01;
/// Cryptographic Usage Mask: Encrypt | Decrypt.
const USAGE_ENCRYPT_DECRYPT: i32 = 0x04 | 0x08;

/// `[seal]` settings of a remote KMIP seal.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KmipConfig {
    /// The remote server, `host:port`.
    pub server: String,
    /// The name its certificate carries (default: the host part of `server`).
    pub server_name: Option<String>,
    /// The CA that issued the remote server's certificate (PEM).
    pub ca_file: PathBuf,
    /// This server's client certificate there (PEM).
    pub cert_file: PathBuf,
    /// Its private key (PEM, mode 0600).
    pub key_file: PathBuf,
    /// The remote key's Unique Identifier; made on first use when absent.
    pub key_id: Option<String>,
    /// The Name given to a key made on the remote server (default
    /// `cryptainer-root-wrap-` and 16 random hex digits).
    pub key_name: Option<String>,
    /// `encrypt` (default) or `get`.
    #[serde(default = "default_method")]
    pub method: KmipMethod,
}

fn default_method() -> KmipMethod {
    KmipMethod::Encrypt
}

/// A seal whose unseal key is protected by a key of another KMIP server.
pub struct KmipSeal {
    config: KmipConfig,
    endpoint: Endpoint,
    /// The remote key in use: configured, or read from the sealed root at
    /// unseal, or made at the first seal; kept so that a root rotation reuses it.
    key_id: Mutex<Option<String>>,
}

impl KmipSeal {
    /// Reads the TLS material `config` names; connects to nothing yet.
    pub fn new(config: KmipConfig) -> Result<KmipSeal, DeviceError> {
        let tls_error = |source| DeviceError::KmipTls {
            server: config.server.clone(),
            source,
        };
        let read = |path: &PathBuf, what: &'static str| {
            std::fs::read_to_string(path).map_err(|error| DeviceError::Secret {
                what,
                detail: format!("cannot read {}: {error}", path.display()),
            })
        };
        let key_pem = Zeroizing::new(read(&config.key_file, "the KMIP client key")?);
        let tls = pki::client_config(
            &read(&config.ca_file, "the KMIP server's CA")?,
            Some((
                &read(&config.cert_file, "the KMIP client certificate")?,
                &key_pem,
            )),
        )
        .map_err(tls_error)?;
        let host = config.server_name.clone().unwrap_or_else(|| {
            config
                .server
                .rsplit_once(':')
                .map_or(config.server.as_str(), |(host, _)| host)
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned()
        });
        let server_name = rustls::pki_types::ServerName::try_from(host.clone()).map_err(|_| {
            DeviceError::Secret {
                what: "the KMIP server name",
                detail: format!("'{host}' is not a valid DNS name or address; set server_name"),
            }
        })?;
        Ok(KmipSeal {
            endpoint: Endpoint {
                server: config.server.clone(),
                server_name,
                tls: Arc::new(tls),
            },
            key_id: Mutex::new(config.key_id.clone()),
            config,
        })
    }

    /// The remote key to seal with, made there when none is known yet.
    fn wrapping_key(&self) -> Result<String, DeviceError> {
        let mut known = self.key_id.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(id) = known.as_ref() {
            return Ok(id.clone());
        }
        let name = self.config.key_name.clone().unwrap_or_else(|| {
            let mut suffix = [0u8; 8];
            OsRng.fill_bytes(&mut suffix);
            format!("{DEFAULT_KEY_NAME_PREFIX}{}", hex::encode(suffix))
        });
        let payload = self.endpoint.call(
            "Create",
            kmip::operation::CREATE,
            vec![
                Item::new(
                    Tag::OBJECT_TYPE,
                    Value::Enumeration(OBJECT_TYPE_SYMMETRIC_KEY),
                ),
                Item::structure(
                    Tag::TEMPLATE_ATTRIBUTE,
                    vec![
                        attribute("Cryptographic Algorithm", Value::Enumeration(ALGORITHM_AES)),
                        attribute("Cryptographic Length", Value::Integer(256)),
                        attribute(
                            "Cryptographic Usage Mask",
                            Value::Integer(USAGE_ENCRYPT_DECRYPT),
                        ),
                        attribute(
                            "Name",
                            Value::Structure(vec![
                                Item::new(Tag::NAME_VALUE, Value::TextString(name)),
                                Item::new(Tag::NAME_TYPE, Value::Enumeration(NAME_TYPE_TEXT)),
                            ]),
                        ),
                    ],
                ),
            ],
        )?;
        let id = payload
            .child_text(Tag::UNIQUE_IDENTIFIER)
            .ok_or_else(|| DeviceError::KmipMalformed {
                server: self.config.server.clone(),
                operation: "Create",
                detail: "no unique identifier".to_owned(),
            })?
            .to_owned();
        // Servers that make keys Pre-Active (PyKMIP) need an Activate before
        // Encrypt; on servers that make them Active it is refused, harmlessly:
        // the Encrypt or Get that follows says whether the key can be used.
        if let Err(error) = self.endpoint.call(
            "Activate",
            kmip::operation::ACTIVATE,
            vec![unique_identifier(&id)],
        ) {
            tracing::debug!(%error, "Activate of the new remote key refused");
        }
        tracing::info!(server = %self.config.server, key = %id, "made the seal's key on the remote KMIP server");
        *known = Some(id.clone());
        Ok(id)
    }

    fn remember(&self, key_id: &str) {
        let mut known = self.key_id.lock().unwrap_or_else(PoisonError::into_inner);
        if known.is_none() {
            *known = Some(key_id.to_owned());
        }
    }

    /// Get of the remote key's raw bytes (the unseal key, with `method = "get"`).
    fn fetch_key(&self, key_id: &str) -> Result<Key256, DeviceError> {
        let payload = self.endpoint.call(
            "Get",
            kmip::operation::GET,
            vec![
                unique_identifier(key_id),
                Item::new(Tag::KEY_FORMAT_TYPE, Value::Enumeration(KEY_FORMAT_RAW)),
            ],
        )?;
        let material = Zeroizing::new(
            payload
                .child(Tag::SYMMETRIC_KEY)
                .and_then(|key| key.child(Tag::KEY_BLOCK))
                .and_then(|block| block.child(Tag::KEY_VALUE))
                .and_then(|value| bytes_of(value, Tag::KEY_MATERIAL))
                .ok_or_else(|| DeviceError::KmipMalformed {
                    server: self.config.server.clone(),
                    operation: "Get",
                    detail: "no raw symmetric key material".to_owned(),
                })?,
        );
        Key256::from_slice(&material).map_err(|_| DeviceError::WrongLength {
            device: "remote KMIP key",
            actual: material.len(),
            expected: KEY_LEN,
        })
    }

    fn protect(
        &self,
        unseal_key: &Key256,
        key_id: &str,
    ) -> Result<(Vec<u8>, Vec<u8>), DeviceError> {
        let mut iv = vec![0u8; GCM_IV_LEN];
        OsRng.fill_bytes(&mut iv);
        let payload = self.endpoint.call(
            "Encrypt",
            kmip::operation::ENCRYPT,
            vec![
                unique_identifier(key_id),
                gcm_parameters(),
                Item::new(
                    Tag::DATA,
                    Value::ByteString(unseal_key.expose_secret().to_vec()),
                ),
                Item::new(Tag::IV_COUNTER_NONCE, Value::ByteString(iv.clone())),
                Item::new(
                    Tag::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA,
                    Value::ByteString(GCM_AAD.to_vec()),
                ),
            ],
        )?;
        let malformed = |detail: &str| DeviceError::KmipMalformed {
            server: self.config.server.clone(),
            operation: "Encrypt",
            detail: detail.to_owned(),
        };
        let mut sealed = bytes_of(&payload, Tag::DATA).ok_or_else(|| malformed("no data"))?;
        let tag = bytes_of(&payload, Tag::AUTHENTICATED_ENCRYPTION_TAG).ok_or_else(|| {
            malformed("no authentication tag (the server must support KMIP 1.4 GCM)")
        })?;
        if let Some(returned_iv) = bytes_of(&payload, Tag::IV_COUNTER_NONCE) {
            iv = returned_iv;
        }
        sealed.extend_from_slice(&tag);
        Ok((iv, sealed))
    }

    fn recover(&self, params: &KmipParams) -> Result<Key256, DeviceError> {
        self.remember(&params.key_id);
        if params.method == KmipMethod::Get {
            return self.fetch_key(&params.key_id);
        }
        let tag_len = usize::try_from(GCM_TAG_LEN).unwrap_or(16);
        let split = params.sealed_key.len().saturating_sub(tag_len);
        let (ciphertext, tag) = params.sealed_key.split_at(split);
        let payload = self.endpoint.call(
            "Decrypt",
            kmip::operation::DECRYPT,
            vec![
                unique_identifier(&params.key_id),
                gcm_parameters(),
                Item::new(Tag::DATA, Value::ByteString(ciphertext.to_vec())),
                Item::new(Tag::IV_COUNTER_NONCE, Value::ByteString(params.iv.clone())),
                Item::new(
                    Tag::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA,
                    Value::ByteString(GCM_AAD.to_vec()),
                ),
                Item::new(
                    Tag::AUTHENTICATED_ENCRYPTION_TAG,
                    Value::ByteString(tag.to_vec()),
                ),
            ],
        )?;
        let plain = Zeroizing::new(bytes_of(&payload, Tag::DATA).ok_or_else(|| {
            DeviceError::KmipMalformed {
                server: self.config.server.clone(),
                operation: "Decrypt",
                detail: "no data".to_owned(),
            }
        })?);
        Key256::from_slice(&plain).map_err(|_| DeviceError::WrongLength {
            device: "remote KMIP server",
            actual: plain.len(),
            expected: KEY_LEN,
        })
    }
}

fn unique_identifier(id: &str) -> Item {
    Item::new(Tag::UNIQUE_IDENTIFIER, Value::TextString(id.to_owned()))
}

fn attribute(name: &str, value: Value) -> Item {
    Item::structure(
        Tag::ATTRIBUTE,
        vec![
            Item::new(Tag::ATTRIBUTE_NAME, Value::TextString(name.to_owned())),
            Item::new(Tag::ATTRIBUTE_VALUE, value),
        ],
    )
}

fn gcm_parameters() -> Item {
    Item::structure(
        Tag::CRYPTOGRAPHIC_PARAMETERS,
        vec![
            Item::new(
                Tag::BLOCK_CIPHER_MODE,
                Value::Enumeration(BLOCK_CIPHER_MODE_GCM),
            ),
            Item::new(
                Tag::CRYPTOGRAPHIC_ALGORITHM,
                Value::Enumeration(ALGORITHM_AES),
            ),
            Item::new(Tag::TAG_LENGTH, Value::Integer(GCM_TAG_LEN)),
        ],
    )
}

impl Seal for KmipSeal {
    fn kind(&self) -> SealKind {
        SealKind::Kmip
    }

    fn seal_root(&self, root: &Key256) -> Result<SealedRoot, SealError> {
        let outcome = (|| {
            let key_id = self.wrapping_key()?;
            match self.config.method {
                KmipMethod::Get => Ok((self.fetch_key(&key_id)?, key_id, Vec::new(), Vec::new())),
                KmipMethod::Encrypt => {
                    let unseal_key = Key256::generate();
                    let (iv, sealed_key) = self.protect(&unseal_key, &key_id)?;
                    Ok((unseal_key, key_id, iv, sealed_key))
                }
            }
        })();
        let (unseal_key, key_id, iv, sealed_key) =
            outcome.map_err(|error: DeviceError| error.into_seal_error(SealKind::Kmip))?;
        let params = KmipParams {
            server: self.config.server.clone(),
            key_id,
            method: self.config.method,
            iv,
            sealed_key,
        };
        seal_with(&unseal_key, root, SealParams::Kmip(Box::new(params)))
    }

    fn unseal_root(&self, sealed: &SealedRoot) -> Result<Key256, SealError> {
        sealed.check_kind(SealKind::Kmip)?;
        let SealParams::Kmip(params) = &sealed.params else {
            return Err(SealError::InconsistentSealedRoot { kind: sealed.kind });
        };
        let unseal_key = self
            .recover(params)
            .map_err(|error| error.into_seal_error(SealKind::Kmip))?;
        unseal_with(&unseal_key, sealed)
    }

    fn check(&self) -> Result<(), SealError> {
        // Discover Versions uses no key and proves the server answers over
        // mutual TLS with our certificate.
        self.endpoint
            .call(
                "Discover Versions",
                kmip::operation::DISCOVER_VERSIONS,
                Vec::new(),
            )
            .map(|_| ())
            .map_err(|error| error.into_seal_error(SealKind::Kmip))
    }
}

impl std::fmt::Debug for KmipSeal {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("KmipSeal")
            .field("server", &self.config.server)
            .field("method", &self.config.method)
            .finish_non_exhaustive()
    }
}
