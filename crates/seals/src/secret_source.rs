//! Reads a PIN or password from an environment variable or a file, the only
//! places the configuration may point to (never a flag, never the file itself).

use std::path::{Path, PathBuf};

use keystore::secret::SecretBytes;
use zeroize::Zeroizing;

use crate::error::DeviceError;

/// Where a secret comes from: `pin_env` or `pin_file` of the configuration.
pub(crate) fn read(
    what: &'static str,
    env: Option<&str>,
    file: Option<&Path>,
) -> Result<(SecretBytes, String), DeviceError> {
    match (env, file) {
        (Some(name), None) => {
            let value = std::env::var_os(name).ok_or_else(|| DeviceError::Secret {
                what,
                detail: format!("the environment variable {name} is not set; set it, or use a file"),
            })?;
            let bytes = Zeroizing::new(std::os::unix::ffi::OsStringExt::into_vec(value));
            non_empty(what, &bytes, format!("environment variable {name}"))
        }
        (None, Some(path)) => read_file(what, path),
        (Some(_), Some(_)) => Err(DeviceError::Secret {
            what,
            detail: "both an environment variable and a file are configured; keep one".to_owned(),
        }),
        (None, None) => Err(DeviceError::Secret {
            what,
            detail: "neither an environment variable nor a file is configured; set `pin_env` or `pin_file`".to_owned(),
        }),
    }
}

fn read_file(what: &'static str, path: &Path) -> Result<(SecretBytes, String), DeviceError> {
    use std::os::unix::fs::PermissionsExt as _;
    let unreadable = |error: std::io::Error| DeviceError::Secret {
        what,
        detail: format!("cannot read {}: {error}", path.display()),
    };
    let mode = std::fs::metadata(path)
        .map_err(unreadable)?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(DeviceError::Secret {
            what,
            detail: format!(
                "{} is readable by others (mode {:o}); run chmod 600 on it",
                path.display(),
                mode & 0o777
            ),
        });
    }
    let bytes = Zeroizing::new(std::fs::read(path).map_err(unreadable)?);
    // A trailing newline is what editors and `echo` add, never part of a PIN.
    let trimmed = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
    non_empty(
        what,
        trimmed,
        format!("file {}", PathBuf::from(path).display()),
    )
}

fn non_empty(
    what: &'static str,
    bytes: &[u8],
    source: String,
) -> Result<(SecretBytes, String), DeviceError> {
    if bytes.is_empty() {
        return Err(DeviceError::Secret {
            what,
            detail: format!("the {source} is empty"),
        });
    }
    Ok((SecretBytes::from_slice(bytes), source))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_pin_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pin");
        std::fs::write(&path, b"1234\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = read("the HSM PIN", None, Some(&path)).unwrap_err();
        assert!(error.to_string().contains("chmod 600"), "{error}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let (pin, source) = read("the HSM PIN", None, Some(&path)).unwrap();
        assert_eq!(pin.expose_secret(), b"1234");
        assert!(source.starts_with("file "));
    }

    #[test]
    fn a_missing_or_doubly_configured_pin_is_refused() {
        let error = read("the HSM PIN", Some("CRYPTAINER_SEALS_TEST_UNSET_PIN"), None).unwrap_err();
        assert!(error.to_string().contains("is not set"), "{error}");
        let error = read("the HSM PIN", None, None).unwrap_err();
        assert!(error.to_string().contains("pin_env"), "{error}");
        let error = read("the HSM PIN", Some("A"), Some(Path::new("b"))).unwrap_err();
        assert!(error.to_string().contains("keep one"), "{error}");
    }
}
