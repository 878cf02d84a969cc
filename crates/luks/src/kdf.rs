//! Key derivation for keyslots (PBKDF2-SHA256, Argon2i, Argon2id) and the PBKDF2
//! volume-key digest, with bounds on every cost parameter read from a header.

use sha2::Sha256;
use zeroize::Zeroizing;

use crate::LuksError;
use crate::metadata::Kdf;

/// The most PBKDF2 iterations we run for a header we did not write. cryptsetup's
/// benchmark picks a few million for a two-second unlock on a fast machine; a
/// hostile header must not make an unlock take minutes.
pub const MAX_PBKDF2_ITERATIONS: u32 = 50_000_000;
/// The most Argon2 memory (KiB) we accept: cryptsetup's own ceiling, 4 GiB.
pub const MAX_ARGON2_MEMORY_KIB: u32 = 4 * 1024 * 1024;
/// The most Argon2 passes we accept.
pub const MAX_ARGON2_TIME: u32 = 1000;
/// The most Argon2 lanes we accept (cryptsetup writes at most 4).
pub const MAX_ARGON2_LANES: u32 = 16;

/// Derives `out.len()` bytes from `secret` with the keyslot's KDF.
pub(crate) fn derive(kdf: &Kdf, secret: &[u8], out: &mut [u8]) -> Result<(), LuksError> {
    match kdf {
        Kdf::Pbkdf2 {
            hash,
            iterations,
            salt,
        } => {
            check_hash(hash)?;
            if *iterations == 0 || *iterations > MAX_PBKDF2_ITERATIONS {
                return Err(LuksError::KdfParameters("PBKDF2 iterations out of range"));
            }
            pbkdf2::pbkdf2_hmac::<Sha256>(secret, &salt.decode()?, *iterations, out);
            Ok(())
        }
        Kdf::Argon2i {
            time,
            memory,
            cpus,
            salt,
        } => argon2(
            argon2::Algorithm::Argon2i,
            *time,
            *memory,
            *cpus,
            &salt.decode()?,
            secret,
            out,
        ),
        Kdf::Argon2id {
            time,
            memory,
            cpus,
            salt,
        } => argon2(
            argon2::Algorithm::Argon2id,
            *time,
            *memory,
            *cpus,
            &salt.decode()?,
            secret,
            out,
        ),
    }
}

fn argon2(
    algorithm: argon2::Algorithm,
    time: u32,
    memory: u32,
    lanes: u32,
    salt: &[u8],
    secret: &[u8],
    out: &mut [u8],
) -> Result<(), LuksError> {
    if time == 0 || time > MAX_ARGON2_TIME {
        return Err(LuksError::KdfParameters("Argon2 time cost out of range"));
    }
    if memory > MAX_ARGON2_MEMORY_KIB {
        return Err(LuksError::KdfParameters("Argon2 memory cost above 4 GiB"));
    }
    if lanes == 0 || lanes > MAX_ARGON2_LANES {
        return Err(LuksError::KdfParameters("Argon2 parallelism out of range"));
    }
    let params = argon2::Params::new(memory, time, lanes, Some(out.len()))
        .map_err(|_| LuksError::KdfParameters("Argon2 parameters rejected"))?;
    argon2::Argon2::new(algorithm, argon2::Version::V0x13, params)
        .hash_password_into(secret, salt, out)
        .map_err(|_| LuksError::KdfParameters("Argon2 parameters rejected"))
}

/// Checks that a hash name is one we implement.
pub(crate) fn check_hash(hash: &str) -> Result<(), LuksError> {
    if hash == "sha256" {
        Ok(())
    } else {
        Err(LuksError::Unsupported {
            what: "hash",
            value: hash.to_owned(),
        })
    }
}

/// The PBKDF2-SHA256 digest of a candidate volume key (what a LUKS2 "pbkdf2"
/// digest object stores), `len` bytes long.
pub(crate) fn digest(
    key: &[u8],
    salt: &[u8],
    iterations: u32,
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, LuksError> {
    if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS {
        return Err(LuksError::KdfParameters("digest iterations out of range"));
    }
    if len == 0 || len > 64 {
        return Err(LuksError::InvalidMetadata(
            "digest length must be 1 to 64 bytes",
        ));
    }
    let mut out = Zeroizing::new(vec![0u8; len]);
    pbkdf2::pbkdf2_hmac::<Sha256>(key, salt, iterations, &mut out);
    Ok(out)
}
