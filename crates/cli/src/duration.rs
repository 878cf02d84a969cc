//! Durations as people type them: `24h`, `90m`, `7d`, `3600s`, or several parts
//! such as `1h30m`.

use std::fmt;
use std::time::Duration;

/// Why a duration was refused. Each message quotes the input and says what to
/// write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    /// Nothing was given.
    Empty,
    /// A number has no unit after it, e.g. `24`.
    MissingUnit {
        /// The whole input.
        input: String,
    },
    /// A unit has no number before it, e.g. `h`.
    MissingNumber {
        /// The whole input.
        input: String,
    },
    /// A unit other than s, m, h or d.
    UnknownUnit {
        /// The whole input.
        input: String,
        /// The unit as written.
        unit: String,
    },
    /// The value does not fit in 64 bits of seconds.
    TooLarge {
        /// The whole input.
        input: String,
    },
    /// The duration is zero.
    Zero {
        /// The whole input.
        input: String,
    },
}

impl fmt::Display for DurationError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::Empty => {
                formatter.write_str("empty duration; write a number and a unit, e.g. 24h")
            }
            DurationError::MissingUnit { input } => write!(
                formatter,
                "'{input}' has a number without a unit; add s, m, h or d, e.g. {input}s"
            ),
            DurationError::MissingNumber { input } => write!(
                formatter,
                "'{input}' has a unit without a number before it; write e.g. 24h"
            ),
            DurationError::UnknownUnit { input, unit } => write!(
                formatter,
                "'{input}' has the unknown unit '{unit}'; use s (seconds), m (minutes), h (hours) or d (days)"
            ),
            DurationError::TooLarge { input } => {
                write!(formatter, "'{input}' is too long a duration")
            }
            DurationError::Zero { input } => {
                write!(
                    formatter,
                    "'{input}' is zero; give a duration of at least 1s"
                )
            }
        }
    }
}

impl std::error::Error for DurationError {}

/// Seconds in one unit.
fn unit_seconds(unit: &str) -> Option<u64> {
    match unit {
        "s" => Some(1),
        "m" => Some(60),
        "h" => Some(3600),
        "d" => Some(86_400),
        _ => None,
    }
}

/// Parses a duration such as `24h`, `90m`, `7d`, `3600s` or `1h30m`. Zero is
/// refused: every duration the command line takes is a lifetime.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    let owned = || text.to_owned();
    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits_end = rest
            .find(|character: char| !character.is_ascii_digit())
            .unwrap_or(rest.len());
        let (digits, after) = rest.split_at(digits_end);
        let unit_end = after
            .find(|character: char| character.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_end);
        if digits.is_empty() {
            return Err(DurationError::MissingNumber { input: owned() });
        }
        if unit.is_empty() {
            return Err(DurationError::MissingUnit { input: owned() });
        }
        let seconds_per_unit = unit_seconds(unit).ok_or_else(|| DurationError::UnknownUnit {
            input: owned(),
            unit: unit.to_owned(),
        })?;
        let number: u64 = digits
            .parse()
            .map_err(|_| DurationError::TooLarge { input: owned() })?;
        total = number
            .checked_mul(seconds_per_unit)
            .and_then(|seconds| total.checked_add(seconds))
            .ok_or_else(|| DurationError::TooLarge { input: owned() })?;
        rest = next;
    }
    if total == 0 {
        return Err(DurationError::Zero { input: owned() });
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<u64, &str>) {
        let got = parse_duration(input)
            .map(|duration| duration.as_secs())
            .map_err(|error| error.to_string());
        assert_eq!(got, expected.map_err(str::to_owned), "parsing {input:?}");
    }

    #[test]
    fn accepts_each_unit() {
        check("3600s", Ok(3600));
        check("90m", Ok(5400));
        check("24h", Ok(86_400));
        check("7d", Ok(604_800));
        check(" 1s ", Ok(1));
    }

    #[test]
    fn adds_several_parts() {
        check("1h30m", Ok(5400));
        check("1d12h", Ok(129_600));
        check("1m1s", Ok(61));
    }

    #[test]
    fn rejects_a_number_without_a_unit() {
        check(
            "24",
            Err("'24' has a number without a unit; add s, m, h or d, e.g. 24s"),
        );
        check(
            "1h30",
            Err("'1h30' has a number without a unit; add s, m, h or d, e.g. 1h30s"),
        );
    }

    #[test]
    fn rejects_unknown_units() {
        check(
            "2w",
            Err(
                "'2w' has the unknown unit 'w'; use s (seconds), m (minutes), h (hours) or d (days)",
            ),
        );
        check(
            "24 h",
            Err(
                "'24 h' has the unknown unit ' h'; use s (seconds), m (minutes), h (hours) or d (days)",
            ),
        );
        check(
            "-5m",
            Err("'-5m' has a unit without a number before it; write e.g. 24h"),
        );
    }

    #[test]
    fn rejects_empty_zero_and_overflow() {
        check(
            "",
            Err("empty duration; write a number and a unit, e.g. 24h"),
        );
        check(
            "h",
            Err("'h' has a unit without a number before it; write e.g. 24h"),
        );
        check("0h", Err("'0h' is zero; give a duration of at least 1s"));
        check(
            "99999999999999999999s",
            Err("'99999999999999999999s' is too long a duration"),
        );
        check(
            "999999999999999999d",
            Err("'999999999999999999d' is too long a duration"),
        );
    }
}
