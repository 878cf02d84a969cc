//! Shamir secret sharing over GF(2^8), written for this project: each byte of the
//! secret is the constant term of its own random polynomial, and a share is the
//! value of every polynomial at one non-zero x.
//!
//! The field is GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1 (0x11B).
//! Multiplication is a carry-less multiply with masks instead of branches or
//! log/exp tables, so its running time and memory accesses do not depend on the
//! (secret) operands; inversion is exponentiation to 254 with a fixed sequence of
//! multiplications. We do not use the `sharks` crate, which has an unfixed RustSec
//! advisory.
//!
//! With threshold `k`, any `k` shares determine the secret and any `k - 1` shares
//! are consistent with every possible secret (the coefficients are uniformly random
//! from the operating system's generator). Shares carry no integrity check: a wrong
//! share gives a wrong secret, not an error. Callers that need to detect that
//! authenticate the secret's use (the seal wraps the root key with AES-GCM).

use crate::secret::SecretBytes;

/// Why a secret could not be split or combined.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShamirError {
    /// The threshold is zero.
    #[error("threshold must be at least 1; choose how many shares must come together")]
    ZeroThreshold,
    /// More shares would be needed than exist.
    #[error(
        "threshold {threshold} is larger than the number of shares {shares}; \
         choose a threshold no larger than the share count"
    )]
    ThresholdAboveShareCount {
        /// The requested threshold.
        threshold: u8,
        /// The requested number of shares.
        shares: u8,
    },
    /// There is nothing to split.
    #[error("cannot split an empty secret; supply at least one byte")]
    EmptySecret,
    /// No shares were given to combine.
    #[error("no shares were given; supply at least as many shares as the threshold")]
    NoShares,
    /// Two shares have the same x-coordinate.
    #[error("share {x} was given twice; supply distinct shares")]
    DuplicateShare {
        /// The repeated x-coordinate.
        x: u8,
    },
    /// A share has x = 0, which would be the secret itself and is never issued.
    #[error("share index 0 is not valid; shares are numbered from 1")]
    ZeroShareIndex,
    /// Shares have different lengths, so they come from different secrets.
    #[error(
        "shares have different lengths ({expected} and {found} bytes); \
         supply shares of the same secret"
    )]
    MismatchedLengths {
        /// Length of the first share.
        expected: usize,
        /// Length of the first share that differs.
        found: usize,
    },
}

/// One share: the x-coordinate (1..=255, not secret) and the value of every byte's
/// polynomial at x (secret, wiped on drop).
pub struct Share {
    x: u8,
    y: SecretBytes,
}

impl Share {
    /// Builds a share from its parts (for example after parsing a stored share).
    pub fn new(x: u8, y: SecretBytes) -> Share {
        Share { x, y }
    }

    /// The x-coordinate (share index), from 1.
    pub fn x(&self) -> u8 {
        self.x
    }

    /// The share value, as long as the secret.
    pub fn y(&self) -> &SecretBytes {
        &self.y
    }
}

impl std::fmt::Debug for Share {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Share")
            .field("x", &self.x)
            .field("y", &self.y)
            .finish()
    }
}

/// Splits `secret` into `shares` shares, any `threshold` of which recover it.
///
/// Requires `1 <= threshold <= shares`. Shares get x-coordinates `1..=shares`.
/// A threshold of 1 makes every share equal to the secret; that is only for
/// development setups.
pub fn split(secret: &[u8], threshold: u8, shares: u8) -> Result<Vec<Share>, ShamirError> {
    if threshold == 0 {
        return Err(ShamirError::ZeroThreshold);
    }
    if threshold > shares {
        return Err(ShamirError::ThresholdAboveShareCount { threshold, shares });
    }
    if secret.is_empty() {
        return Err(ShamirError::EmptySecret);
    }

    // One row of random coefficients per degree 1..threshold-1; row d holds the
    // x^d coefficient of every byte's polynomial. The constant term is the secret.
    let coefficient_rows: Vec<SecretBytes> = (1..threshold)
        .map(|_| SecretBytes::random(secret.len()))
        .collect();

    let mut result = Vec::with_capacity(usize::from(shares));
    for x in 1..=shares {
        // Horner's rule, highest degree first, for all bytes at once.
        let mut y = SecretBytes::new(vec![0u8; secret.len()]);
        for row in coefficient_rows.iter().rev() {
            for (value, coefficient) in y.expose_secret_mut().iter_mut().zip(row.expose_secret()) {
                *value = gf_mul(*value, x) ^ coefficient;
            }
        }
        for (value, secret_byte) in y.expose_secret_mut().iter_mut().zip(secret) {
            *value = gf_mul(*value, x) ^ secret_byte;
        }
        result.push(Share { x, y });
    }
    Ok(result)
}

/// Recovers the secret from shares by Lagrange interpolation at x = 0.
///
/// Rejects an empty list, a repeated or zero x-coordinate, and shares of different
/// lengths. It cannot tell whether enough shares were given: fewer than the
/// threshold (or a wrong share) gives a wrong secret, not an error.
pub fn combine(shares: &[Share]) -> Result<SecretBytes, ShamirError> {
    let (first, _) = shares.split_first().ok_or(ShamirError::NoShares)?;
    let len = first.y.len();
    let mut seen = [false; 256];
    for share in shares {
        if share.x == 0 {
            return Err(ShamirError::ZeroShareIndex);
        }
        if let Some(seen_x) = seen.get_mut(usize::from(share.x)) {
            if *seen_x {
                return Err(ShamirError::DuplicateShare { x: share.x });
            }
            *seen_x = true;
        }
        if share.y.len() != len {
            return Err(ShamirError::MismatchedLengths {
                expected: len,
                found: share.y.len(),
            });
        }
    }

    let mut secret = SecretBytes::new(vec![0u8; len]);
    for share in shares {
        // The Lagrange basis polynomial of this share evaluated at 0:
        // prod over other shares j of x_j / (x_j - x_i); subtraction is XOR.
        let mut basis = 1u8;
        for other in shares.iter().filter(|other| other.x != share.x) {
            basis = gf_mul(basis, gf_mul(other.x, gf_inv(other.x ^ share.x)));
        }
        for (value, y) in secret
            .expose_secret_mut()
            .iter_mut()
            .zip(share.y.expose_secret())
        {
            *value ^= gf_mul(basis, *y);
        }
    }
    Ok(secret)
}

/// Multiplies in GF(2^8) modulo 0x11B in constant time: eight rounds of
/// shift-and-add where the conditional steps are masks, not branches.
fn gf_mul(a: u8, b: u8) -> u8 {
    let mut a = a;
    let mut b = b;
    let mut product = 0u8;
    for _ in 0..8 {
        // All ones if the low bit of b is set, else zero.
        let add_mask = 0u8.wrapping_sub(b & 1);
        product ^= a & add_mask;
        // All ones if a overflows on the shift, so the reduction applies.
        let reduce_mask = 0u8.wrapping_sub(a >> 7);
        a = (a << 1) ^ (0x1B & reduce_mask);
        b >>= 1;
    }
    product
}

/// Inverts in GF(2^8) as a^254 (a^255 = 1 for a != 0), with the same sequence of
/// operations for every input. The inverse of 0 comes out as 0; callers never
/// invert 0 because x-coordinates are distinct.
fn gf_inv(a: u8) -> u8 {
    // 254 = 0b1111_1110: square-and-multiply from the top bit.
    let a2 = gf_mul(a, a);
    let a3 = gf_mul(a2, a);
    let a6 = gf_mul(a3, a3);
    let a7 = gf_mul(a6, a);
    let a14 = gf_mul(a7, a7);
    let a15 = gf_mul(a14, a);
    let a30 = gf_mul(a15, a15);
    let a31 = gf_mul(a30, a);
    let a62 = gf_mul(a31, a31);
    let a63 = gf_mul(a62, a);
    let a126 = gf_mul(a63, a63);
    let a127 = gf_mul(a126, a);
    gf_mul(a127, a127)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Schoolbook reference: multiply as polynomials over GF(2) into 16 bits, then
    /// reduce by 0x11B from the top bit down. Branchy and slow, and independent of
    /// the masked implementation.
    fn reference_mul(a: u8, b: u8) -> u8 {
        let mut wide: u16 = 0;
        for bit in 0..8 {
            if b & (1 << bit) != 0 {
                wide ^= u16::from(a) << bit;
            }
        }
        for bit in (8..16).rev() {
            if wide & (1 << bit) != 0 {
                wide ^= 0x11B << (bit - 8);
            }
        }
        u8::try_from(wide).unwrap()
    }

    fn reconstruct(shares: &[Share]) -> Vec<u8> {
        combine(shares).unwrap().expose_secret().to_vec()
    }

    #[test]
    fn gf_mul_matches_reference_for_all_pairs() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                assert_eq!(gf_mul(a, b), reference_mul(a, b), "{a} * {b}");
            }
        }
    }

    #[test]
    fn gf_mul_known_values() {
        // FIPS 197, section 4.2: {57} * {83} = {c1}, {57} * {13} = {fe}.
        assert_eq!(gf_mul(0x57, 0x83), 0xC1);
        assert_eq!(gf_mul(0x57, 0x13), 0xFE);
    }

    #[test]
    fn gf_mul_identity_and_zero() {
        for a in 0..=255u8 {
            assert_eq!(gf_mul(a, 1), a);
            assert_eq!(gf_mul(1, a), a);
            assert_eq!(gf_mul(a, 0), 0);
            assert_eq!(gf_mul(0, a), 0);
        }
    }

    #[test]
    fn gf_inv_for_all_non_zero_elements() {
        for a in 1..=255u8 {
            let inverse = gf_inv(a);
            assert_eq!(gf_mul(a, inverse), 1, "inverse of {a}");
        }
        assert_eq!(gf_inv(0), 0);
    }

    #[test]
    fn split_gives_x_one_to_n() {
        let shares = split(b"secret", 3, 5).unwrap();
        let xs: Vec<u8> = shares.iter().map(Share::x).collect();
        assert_eq!(xs, [1, 2, 3, 4, 5]);
        assert!(shares.iter().all(|share| share.y().len() == 6));
    }

    #[test]
    fn threshold_one_makes_every_share_the_secret() {
        let shares = split(b"dev mode", 1, 3).unwrap();
        for share in &shares {
            assert_eq!(share.y().expose_secret(), b"dev mode");
            assert_eq!(reconstruct(std::slice::from_ref(share)), b"dev mode");
        }
    }

    #[test]
    fn full_range_of_shares() {
        let secret = [0xA5u8; 32];
        let shares = split(&secret, 255, 255).unwrap();
        assert_eq!(shares.len(), 255);
        assert_eq!(reconstruct(&shares), secret);
        assert_ne!(reconstruct(&shares[..254]), secret);
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(matches!(split(b"s", 0, 3), Err(ShamirError::ZeroThreshold)));
        assert!(matches!(split(b"s", 0, 0), Err(ShamirError::ZeroThreshold)));
        assert!(matches!(
            split(b"s", 4, 3),
            Err(ShamirError::ThresholdAboveShareCount {
                threshold: 4,
                shares: 3
            })
        ));
        assert!(matches!(split(b"", 2, 3), Err(ShamirError::EmptySecret)));
    }

    #[test]
    fn rejects_no_shares() {
        assert!(matches!(combine(&[]), Err(ShamirError::NoShares)));
    }

    #[test]
    fn rejects_duplicate_shares() {
        let shares = split(b"secret", 2, 3).unwrap();
        let duplicate = [
            Share::new(
                shares[0].x(),
                SecretBytes::from_slice(shares[0].y().expose_secret()),
            ),
            Share::new(
                shares[0].x(),
                SecretBytes::from_slice(shares[0].y().expose_secret()),
            ),
        ];
        assert!(matches!(
            combine(&duplicate),
            Err(ShamirError::DuplicateShare { x: 1 })
        ));
    }

    #[test]
    fn rejects_zero_index_and_mismatched_lengths() {
        let zero = [Share::new(0, SecretBytes::from_slice(b"abc"))];
        assert!(matches!(combine(&zero), Err(ShamirError::ZeroShareIndex)));
        let mixed = [
            Share::new(1, SecretBytes::from_slice(b"abc")),
            Share::new(2, SecretBytes::from_slice(b"abcd")),
        ];
        assert!(matches!(
            combine(&mixed),
            Err(ShamirError::MismatchedLengths {
                expected: 3,
                found: 4
            })
        ));
    }

    #[test]
    fn error_messages_are_lowercase_without_trailing_period() {
        let errors = [
            ShamirError::ZeroThreshold,
            ShamirError::ThresholdAboveShareCount {
                threshold: 3,
                shares: 2,
            },
            ShamirError::EmptySecret,
            ShamirError::NoShares,
            ShamirError::DuplicateShare { x: 1 },
            ShamirError::ZeroShareIndex,
            ShamirError::MismatchedLengths {
                expected: 1,
                found: 2,
            },
        ];
        crate::tests::assert_messages_follow_the_style(errors);
    }

    proptest! {
        #[test]
        fn any_threshold_subset_reconstructs(
            secret in proptest::collection::vec(any::<u8>(), 1..48),
            (shares, threshold) in (1u8..=12).prop_flat_map(|n| (Just(n), 1..=n)),
            order in any::<u64>(),
        ) {
            let all = split(&secret, threshold, shares).unwrap();
            prop_assert_eq!(all.len(), usize::from(shares));
            // A pseudo-random subset of exactly `threshold` shares, in some order.
            let mut indices: Vec<usize> = (0..all.len()).collect();
            let mut state = order;
            for slot in (1..indices.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let pick = usize::try_from(state >> 33).unwrap() % (slot + 1);
                indices.swap(slot, pick);
            }
            let subset: Vec<Share> = indices[..usize::from(threshold)]
                .iter()
                .map(|&index| Share::new(all[index].x(), SecretBytes::from_slice(all[index].y().expose_secret())))
                .collect();
            prop_assert_eq!(reconstruct(&subset), secret.clone());
            // More than the threshold works too.
            prop_assert_eq!(reconstruct(&all), secret);
        }

        #[test]
        fn fewer_than_threshold_do_not_reveal(
            secret in proptest::collection::vec(any::<u8>(), 16..48),
            (shares, threshold) in (2u8..=10).prop_flat_map(|n| (Just(n), 2..=n)),
        ) {
            let all = split(&secret, threshold, shares).unwrap();
            let below = &all[..usize::from(threshold) - 1];
            // With k - 1 shares every secret is equally likely; for a secret of at
            // least 16 random bytes a match would be a 2^-128 coincidence.
            prop_assert_ne!(reconstruct(below), secret);
        }

        #[test]
        fn gf_mul_is_commutative_and_distributive(a in any::<u8>(), b in any::<u8>(), c in any::<u8>()) {
            prop_assert_eq!(gf_mul(a, b), gf_mul(b, a));
            prop_assert_eq!(gf_mul(a, b ^ c), gf_mul(a, b) ^ gf_mul(a, c));
            prop_assert_eq!(gf_mul(gf_mul(a, b), c), gf_mul(a, gf_mul(b, c)));
        }
    }
}
