//! Parsing of `docker volume create --opt` values that every driver of ours
//! shares: sizes such as `20G`.

use thiserror::Error;

/// A size option that is not a size.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SizeError {
    /// Empty, or not digits followed by an optional unit.
    #[error(
        "'{text}' is not a size; write a whole number of bytes or one with a unit: K, M, G or T (binary: 1G = 1024 MiB), for example 20G"
    )]
    Malformed {
        /// What was given.
        text: String,
    },
    /// A size of zero.
    #[error("a size of zero bytes holds nothing; give at least {minimum}")]
    Zero {
        /// The smallest size the caller accepts, for the message.
        minimum: String,
    },
    /// More than 2^64 - 1 bytes.
    #[error("'{text}' is too large")]
    Overflow {
        /// What was given.
        text: String,
    },
}

/// Parses `20G`, `512M`, `1T`, `20GiB`, `20gb` or `1073741824` into bytes.
/// Units are binary whatever their spelling (as Docker's own `--shm-size`).
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    let malformed = || SizeError::Malformed {
        text: text.to_owned(),
    };
    let trimmed = text.trim();
    let digits_end = trimmed
        .find(|character: char| !character.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(digits_end);
    if digits.is_empty() {
        return Err(malformed());
    }
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(malformed()),
    };
    let count: u64 = digits.parse().map_err(|_| SizeError::Overflow {
        text: text.to_owned(),
    })?;
    let bytes = count
        .checked_mul(1u64 << shift)
        .ok_or_else(|| SizeError::Overflow {
            text: text.to_owned(),
        })?;
    if bytes == 0 {
        return Err(SizeError::Zero {
            minimum: "1 byte".to_owned(),
        });
    }
    Ok(bytes)
}

/// Writes `bytes` the way people read sizes: `20 GiB`, `512 MiB`, `1000 B`.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [(u32, &str); 4] = [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")];
    for (shift, name) in UNITS {
        let unit = 1u64 << shift;
        if bytes >= unit && bytes % unit == 0 {
            return format!("{} {name}", bytes / unit);
        }
    }
    for (shift, name) in UNITS {
        let unit = 1u64 << shift;
        if bytes >= unit {
            // One decimal is enough to tell sizes apart in a table.
            let tenths = bytes.saturating_mul(10) / unit;
            return format!("{}.{} {name}", tenths / 10, tenths % 10);
        }
    }
    format!("{bytes} B")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(text: &str, expected: Result<u64, ()>) {
        assert_eq!(parse_size(text).map_err(|_| ()), expected, "{text}");
    }

    #[test]
    fn sizes_people_write() {
        check("20G", Ok(20 << 30));
        check("20GiB", Ok(20 << 30));
        check("20gb", Ok(20 << 30));
        check("512M", Ok(512 << 20));
        check("1T", Ok(1 << 40));
        check("4k", Ok(4096));
        check("1073741824", Ok(1 << 30));
        check(" 8G ", Ok(8 << 30));
    }

    #[test]
    fn rejects_what_is_not_a_size() {
        check("", Err(()));
        check("G", Err(()));
        check("banana", Err(()));
        check("20 G", Err(()));
        check("1.5G", Err(()));
        check("-1G", Err(()));
        check("20X", Err(()));
        check("0", Err(()));
        check("0G", Err(()));
        check("99999999999999999999", Err(()));
        check("20000000T", Err(()));
    }

    #[test]
    fn the_message_says_what_to_write() {
        let message = parse_size("banana").unwrap_err().to_string();
        assert!(
            message.contains("'banana'") && message.contains("20G"),
            "{message}"
        );
    }

    #[test]
    fn formats_sizes_for_tables() {
        assert_eq!(format_size(20 << 30), "20 GiB");
        assert_eq!(format_size(1536 << 20), "1536 MiB");
        assert_eq!(format_size((1 << 30) + 1), "1.0 GiB");
        assert_eq!(format_size(1000), "1000 B");
    }

    proptest! {
        #[test]
        fn whole_units_round_trip(count in 1u64..1024, shift in prop::sample::select(vec![0u32, 10, 20, 30, 40])) {
            let bytes = count << shift;
            let text = format_size(bytes);
            // Exact sizes print without a fraction and parse back unchanged.
            prop_assert!(!text.contains('.'), "{}", text);
            let compact = text.replace(' ', "").replace("iB", "").replace('B', "");
            prop_assert_eq!(parse_size(&compact).unwrap(), bytes);
        }

        #[test]
        fn never_panics(text in ".{0,24}") {
            let _ = parse_size(&text);
        }
    }
}
