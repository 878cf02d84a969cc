//! The kernel keyring, the way the kernel engine hands dm-crypt a volume key:
//! the key goes into a `logon` key (which user space can never read back) in
//! the calling thread's keyring, the dm-crypt table names it
//! (`:64:logon:<description>`), dm-crypt copies it while the table loads, and
//! the key is invalidated at once. The key bytes never appear in a table, a
//! file or another process.

use luks::VolumeKey;

use crate::VolumeError;

/// `KEY_SPEC_THREAD_KEYRING`: the calling thread's own keyring, made on
/// first use and gone with the thread.
const THREAD_KEYRING: libc::c_long = -1;
/// `KEYCTL_INVALIDATE` (Linux 3.5): the key is unusable at once and
/// garbage-collected.
const KEYCTL_INVALIDATE: libc::c_long = 21;
/// `KEYCTL_UNLINK`, for kernels without invalidation.
const KEYCTL_UNLINK: libc::c_long = 9;

/// A volume key in the calling thread's keyring, as a `logon` key; it is
/// invalidated when dropped. dm-crypt reads it while a table that names it
/// loads, in the same thread.
pub struct LogonKey {
    serial: libc::c_long,
    description: String,
}

impl LogonKey {
    /// Adds `key` under `description` (which must have the form
    /// `service:name`, as logon keys require).
    pub fn add(description: &str, key: &VolumeKey) -> Result<LogonKey, VolumeError> {
        let kind = c"logon";
        let name = std::ffi::CString::new(description)
            .map_err(|_| VolumeError::EngineArgs(format!("key description {description:?}")))?;
        let payload = key.expose_secret();
        // SAFETY: add_key reads two NUL-terminated strings and `payload.len()`
        // bytes of `payload`, all valid for the call; the kernel copies them
        // and keeps no pointer.
        let serial = unsafe {
            libc::syscall(
                libc::SYS_add_key,
                kind.as_ptr(),
                name.as_ptr(),
                payload.as_ptr().cast::<libc::c_void>(),
                payload.len(),
                THREAD_KEYRING,
            )
        };
        if serial < 0 {
            return Err(VolumeError::Syscall(
                "add_key (the kernel keyring)",
                std::io::Error::last_os_error(),
            ));
        }
        Ok(LogonKey {
            serial,
            description: description.to_owned(),
        })
    }

    /// How a dm-crypt table names this key of `key_size` bytes.
    pub fn table_reference(&self, key_size: usize) -> String {
        format!(":{key_size}:logon:{}", self.description)
    }
}

impl Drop for LogonKey {
    fn drop(&mut self) {
        // SAFETY: keyctl with these operations takes integers only.
        let invalidated =
            unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_INVALIDATE, self.serial) };
        if invalidated != 0 {
            // SAFETY: as above.
            let unlinked = unsafe {
                libc::syscall(libc::SYS_keyctl, KEYCTL_UNLINK, self.serial, THREAD_KEYRING)
            };
            if unlinked != 0 {
                tracing::warn!(error = %std::io::Error::last_os_error(), "could not remove a volume key from the thread keyring; it goes when the thread ends");
            }
        }
    }
}
