//! What the devices report, and the one place it is sorted into the keystore's
//! two device failures: unreachable (retried) or refused (never retried).

use keystore::seal::{SealError, SealKind};

/// A device seal's failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// The PIN or password source is missing or unusable.
    #[error("{what}: {detail}")]
    Secret {
        /// Which secret.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// The PKCS#11 module could not be loaded or initialized.
    #[error("cannot load the PKCS#11 module {module}: {source}")]
    Pkcs11Module {
        /// The module's path.
        module: String,
        /// The loader's or the module's error.
        #[source]
        source: cryptoki::error::Error,
    },
    /// No token with the configured label is present.
    #[error("no PKCS#11 token labelled '{label}' is present (tokens present: {present})")]
    TokenAbsent {
        /// The configured label.
        label: String,
        /// The labels present, comma-separated.
        present: String,
    },
    /// The token refused the PIN. Never retried by the server.
    #[error("the token '{token}' refused the PIN ({source}); check the PIN in {pin_source}")]
    WrongPin {
        /// The token label.
        token: String,
        /// Where the PIN came from (the variable or file, never the PIN).
        pin_source: String,
        /// The token's answer.
        #[source]
        source: cryptoki::error::Error,
    },
    /// A PKCS#11 call failed.
    #[error("PKCS#11 {operation} on token '{token}' failed: {source}")]
    Pkcs11 {
        /// The call.
        operation: &'static str,
        /// The token label.
        token: String,
        /// The module's error.
        #[source]
        source: cryptoki::error::Error,
    },
    /// The key the sealed root names is not in the token.
    #[error(
        "token '{token}' has no AES key labelled '{label}' with id {id}; restore the key \
         to the token, or unseal with the recovery shares and migrate"
    )]
    KeyAbsent {
        /// The token label.
        token: String,
        /// The key label.
        label: String,
        /// The key id (hex), when known.
        id: String,
    },
    /// The token supports no mechanism the seal can use.
    #[error(
        "token '{token}' supports neither CKM_AES_GCM (encrypt and decrypt) nor \
         CKM_AES_KEY_WRAP_PAD; use a token that supports one of them"
    )]
    NoMechanism {
        /// The token label.
        token: String,
    },
    /// The configured mechanism is not supported by the token.
    #[error(
        "token '{token}' does not support the configured mechanism {mechanism}; remove `mechanism` to let the seal choose"
    )]
    MechanismUnsupported {
        /// The token label.
        token: String,
        /// The configured mechanism.
        mechanism: &'static str,
    },
    /// The device gave back something of the wrong size.
    #[error("the {device} gave back {actual} bytes where {expected} were expected")]
    WrongLength {
        /// Which device.
        device: &'static str,
        /// Bytes received.
        actual: usize,
        /// Bytes expected.
        expected: usize,
    },
    /// The TPM could not be reached.
    #[error("cannot reach the TPM through '{tcti}': {source}")]
    TpmUnreachable {
        /// The TCTI configuration.
        tcti: String,
        /// The TSS error.
        #[source]
        source: tss_esapi::Error,
    },
    /// A TPM command could not complete (the TPM stopped answering midway).
    #[error("TPM {operation} failed: {source}")]
    Tpm {
        /// The command.
        operation: &'static str,
        /// The TSS error.
        #[source]
        source: tss_esapi::Error,
    },
    /// The TPM refused a command (another TPM's object, a damaged blob).
    #[error(
        "the TPM refused {operation}: {source}; the sealed root was made by another TPM, \
         or the TPM was cleared: unseal with the recovery shares and migrate"
    )]
    TpmRefused {
        /// The command.
        operation: &'static str,
        /// The TSS error.
        #[source]
        source: tss_esapi::Error,
    },
    /// The TPM refused to unseal under the PCR policy.
    #[error(
        "the TPM refused to unseal: PCRs {pcrs} no longer hold the values the root was \
         sealed to (another boot chain, or another machine); unseal with the recovery \
         shares and migrate: {source}"
    )]
    PcrPolicy {
        /// The PCR selection.
        pcrs: String,
        /// The TSS error.
        #[source]
        source: tss_esapi::Error,
    },
    /// The remote KMIP server could not be reached.
    #[error("cannot reach the KMIP server {server}: {source}")]
    KmipUnreachable {
        /// `host:port`.
        server: String,
        /// The I/O or TLS error.
        #[source]
        source: std::io::Error,
    },
    /// The TLS material for the remote KMIP server is unusable.
    #[error("cannot set up TLS to the KMIP server {server}: {source}")]
    KmipTls {
        /// `host:port`.
        server: String,
        /// What is wrong.
        #[source]
        source: pki::PkiError,
    },
    /// The remote KMIP server answered with a failure.
    #[error(
        "the KMIP server {server} refused {operation}: {reason} ({message}); check the \
         key id and the client certificate's rights there"
    )]
    KmipRefused {
        /// `host:port`.
        server: String,
        /// The operation.
        operation: &'static str,
        /// The result reason, as its name or number.
        reason: String,
        /// The result message.
        message: String,
    },
    /// The remote KMIP server's answer did not parse or lacked a field.
    #[error("the KMIP server {server} answered {operation} with a malformed message: {detail}")]
    KmipMalformed {
        /// `host:port`.
        server: String,
        /// The operation.
        operation: &'static str,
        /// What is wrong.
        detail: String,
    },
}

impl DeviceError {
    /// Whether retrying later can help (the device is absent or not
    /// answering), as opposed to a refusal a person must fix.
    pub fn is_transient(&self) -> bool {
        use cryptoki::error::{Error as Pkcs11Error, RvError};
        match self {
            DeviceError::Pkcs11Module { .. }
            | DeviceError::TokenAbsent { .. }
            | DeviceError::TpmUnreachable { .. }
            | DeviceError::KmipUnreachable { .. } => true,
            DeviceError::Pkcs11 { source, .. } => matches!(
                source,
                Pkcs11Error::Pkcs11(
                    RvError::TokenNotPresent
                        | RvError::DeviceRemoved
                        | RvError::DeviceError
                        | RvError::DeviceMemory
                        | RvError::SessionHandleInvalid
                        | RvError::SessionClosed
                        | RvError::SlotIdInvalid
                        | RvError::TokenNotRecognized
                        | RvError::CryptokiNotInitialized,
                    _
                )
            ),
            DeviceError::Tpm { .. } => true,
            DeviceError::TpmRefused { .. } => false,
            DeviceError::Secret { .. }
            | DeviceError::WrongPin { .. }
            | DeviceError::KeyAbsent { .. }
            | DeviceError::NoMechanism { .. }
            | DeviceError::MechanismUnsupported { .. }
            | DeviceError::WrongLength { .. }
            | DeviceError::PcrPolicy { .. }
            | DeviceError::KmipTls { .. }
            | DeviceError::KmipRefused { .. }
            | DeviceError::KmipMalformed { .. } => false,
        }
    }

    /// The keystore's error for this failure of a `kind` seal.
    pub fn into_seal_error(self, kind: SealKind) -> SealError {
        if self.is_transient() {
            SealError::DeviceUnavailable {
                kind,
                source: Box::new(self),
            }
        } else {
            SealError::DeviceRefused {
                kind,
                source: Box::new(self),
            }
        }
    }
}
