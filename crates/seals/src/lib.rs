//! Cryptainer's automatic seals: implementations of [`keystore::seal::Seal`]
//! whose unseal key is protected by a device, so the server unseals itself at
//! start without a person.
//!
//! - [`pkcs11::Pkcs11Seal`]: a non-extractable AES key inside a PKCS#11 token
//!   encrypts the unseal key (AES-GCM, or AES key wrap with padding where the
//!   token lacks GCM).
//! - [`tpm2::Tpm2Seal`]: the unseal key is a sealed data object of the machine's
//!   TPM 2.0, under the storage hierarchy, optionally bound to PCR values.
//! - [`kmip::KmipSeal`]: a key held by another KMIP key manager encrypts the
//!   unseal key (Encrypt/Decrypt), or is the unseal key (Get), over mutual TLS.
//!
//! The keystore knows only the [`keystore::seal::Seal`] trait and the stored
//! parameters; this crate knows the devices, and the server injects the seal its
//! configuration names ([`config::SealConfig::open`]). Device failures are
//! sorted here, once, into "cannot reach the device" (worth retrying) and "the
//! device refused" (a person must act; a wrong PIN is never retried).
#![forbid(unsafe_code)]

pub mod config;
pub mod error;
pub mod kmip;
mod kmip_client;
pub mod pkcs11;
mod secret_source;
pub mod tpm2;

pub use config::SealConfig;
pub use error::DeviceError;
