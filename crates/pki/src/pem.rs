//! Reading PEM text into DER values, and writing PEM files with the permissions they need.
//!
//! Files are written whole or not at all: the text goes to a temporary file in the same
//! directory, which is synced and then renamed over the target, so a crash never leaves a
//! half-written key behind.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use zeroize::Zeroizing;

use crate::PkiError;

/// Permission bits of files anyone on the machine may read: certificates.
pub const PUBLIC_FILE_MODE: u32 = 0o644;

/// Permission bits of files only the owner may read: private keys.
pub const SECRET_FILE_MODE: u32 = 0o600;

/// Decodes every `CERTIFICATE` block of `pem_text`, in order; `what` names the input in errors.
pub(crate) fn certificates(
    pem_text: &str,
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, PkiError> {
    let certificates = CertificateDer::pem_slice_iter(pem_text.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| not_pem(what, "certificate", source))?;
    if certificates.is_empty() {
        return Err(PkiError::MissingPem {
            what: what.to_owned(),
            expected: "certificate",
            label: "CERTIFICATE",
        });
    }
    Ok(certificates)
}

/// Decodes the first `CERTIFICATE` block of `pem_text`.
pub(crate) fn first_certificate(
    pem_text: &str,
    what: &str,
) -> Result<CertificateDer<'static>, PkiError> {
    certificates(pem_text, what)?
        .into_iter()
        .next()
        .ok_or_else(|| PkiError::MissingPem {
            what: what.to_owned(),
            expected: "certificate",
            label: "CERTIFICATE",
        })
}

/// Decodes the first private key block (PKCS#8, SEC1 or PKCS#1) of `pem_text`.
pub(crate) fn private_key(pem_text: &str, what: &str) -> Result<PrivateKeyDer<'static>, PkiError> {
    PrivateKeyDer::from_pem_slice(pem_text.as_bytes()).map_err(|source| match source {
        pem::Error::NoItemsFound => PkiError::MissingPem {
            what: what.to_owned(),
            expected: "private key",
            label: "PRIVATE KEY",
        },
        source => not_pem(what, "private key", source),
    })
}

fn not_pem(what: &str, expected: &'static str, source: pem::Error) -> PkiError {
    PkiError::NotPem {
        what: what.to_owned(),
        expected,
        source,
    }
}

/// Reads a certificate file as text.
pub(crate) fn read_public(path: &Path) -> Result<String, PkiError> {
    fs::read_to_string(path).map_err(|source| io_error("read", path, source))
}

/// Reads a private key file as text that is wiped from memory when dropped.
pub(crate) fn read_secret(path: &Path) -> Result<Zeroizing<String>, PkiError> {
    fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|source| io_error("read", path, source))
}

/// Fails if the private key file at `path` may be read or written by anyone but its owner.
pub(crate) fn check_secret_mode(path: &Path) -> Result<(), PkiError> {
    let metadata = fs::metadata(path).map_err(|source| io_error("inspect", path, source))?;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(PkiError::InsecureKeyFile {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

/// Writes a certificate (or any public PEM text) to `path` with mode exactly 0644, replacing
/// the file atomically.
pub fn write_public_pem(path: &Path, pem_text: &str) -> Result<(), PkiError> {
    write_atomically(path, pem_text.as_bytes(), PUBLIC_FILE_MODE)
}

/// Writes a private key to `path` with mode exactly 0600, replacing the file atomically.
///
/// The file is created with mode 0600 from the start, so the key is never readable by others,
/// not even for an instant.
pub fn write_secret_pem(path: &Path, pem_text: &str) -> Result<(), PkiError> {
    write_atomically(path, pem_text.as_bytes(), SECRET_FILE_MODE)
}

fn write_atomically(path: &Path, contents: &[u8], mode: u32) -> Result<(), PkiError> {
    let temporary = temporary_path(path);
    // A temporary file left by a crash may have any mode; it is removed rather than reused so
    // the new file is created with `mode`.
    match fs::remove_file(&temporary) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(io_error("remove", &temporary, source)),
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&temporary)
        .map_err(|source| io_error("create", &temporary, source))?;
    // The mode given at creation is narrowed by the umask; set it exactly, so a certificate
    // is readable by the other processes that need it whatever the umask.
    file.set_permissions(fs::Permissions::from_mode(mode))
        .and_then(|()| file.write_all(contents))
        .and_then(|()| file.sync_all())
        .map_err(|source| io_error("write", &temporary, source))?;
    drop(file);
    fs::rename(&temporary, path).map_err(|source| io_error("rename into place", path, source))?;
    // The rename is durable only once the directory entry is synced.
    if let Some(directory) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        fs::File::open(directory)
            .and_then(|directory| directory.sync_all())
            .map_err(|source| io_error("sync directory", directory, source))?;
    }
    Ok(())
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(".tmp");
    path.with_file_name(name)
}

pub(crate) fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> PkiError {
    PkiError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}
