//! Labels given as `--label key=value`, checked here with the server's rules so a
//! typo is reported before anything is sent.

use std::collections::BTreeMap;
use std::fmt;

/// Longest label key or value, in bytes (the server's limit).
const MAX_LABEL_LEN: usize = 128;

/// Most labels one key may carry (the server's limit).
const MAX_LABELS: usize = 64;

/// Why a label was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelError {
    /// No `=` in the argument.
    MissingEquals {
        /// The argument.
        input: String,
    },
    /// The key is empty.
    EmptyKey {
        /// The argument.
        input: String,
    },
    /// The key or value is longer than 128 bytes.
    TooLong {
        /// `key` or `value`.
        part: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// The key has a character outside `[A-Za-z0-9._-]`, or starts with `.` or `-`.
    BadKeyCharacter {
        /// The key.
        key: String,
        /// The character.
        found: char,
    },
    /// The value has a control character.
    ControlCharacter {
        /// The key whose value it is.
        key: String,
    },
    /// The same key twice.
    Duplicate {
        /// The key.
        key: String,
    },
    /// More than 64 labels.
    TooMany {
        /// How many were given.
        count: usize,
    },
}

impl fmt::Display for LabelError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelError::MissingEquals { input } => write!(
                formatter,
                "label '{input}' has no '='; write it as key=value, e.g. app=postgres"
            ),
            LabelError::EmptyKey { input } => write!(
                formatter,
                "label '{input}' has an empty key; write it as key=value, e.g. app=postgres"
            ),
            LabelError::TooLong { part, len } => write!(
                formatter,
                "a label {part} is {len} bytes long; at most {MAX_LABEL_LEN} are allowed"
            ),
            LabelError::BadKeyCharacter { key, found } => write!(
                formatter,
                "label key '{key}' has the character {found:?}; keys are letters, digits, '_', and '.' or '-' after the first character"
            ),
            LabelError::ControlCharacter { key } => write!(
                formatter,
                "the value of label '{key}' has a control character; values are printable text"
            ),
            LabelError::Duplicate { key } => {
                write!(
                    formatter,
                    "label '{key}' is given twice; give each key once"
                )
            }
            LabelError::TooMany { count } => write!(
                formatter,
                "{count} labels given; at most {MAX_LABELS} are allowed"
            ),
        }
    }
}

impl std::error::Error for LabelError {}

/// Parses one `key=value`. The value may be empty and may contain `=`.
pub fn parse_label(input: &str) -> Result<(String, String), LabelError> {
    let (key, value) = input
        .split_once('=')
        .ok_or_else(|| LabelError::MissingEquals {
            input: input.to_owned(),
        })?;
    if key.is_empty() {
        return Err(LabelError::EmptyKey {
            input: input.to_owned(),
        });
    }
    if key.len() > MAX_LABEL_LEN {
        return Err(LabelError::TooLong {
            part: "key",
            len: key.len(),
        });
    }
    for (position, character) in key.chars().enumerate() {
        let allowed = character.is_ascii_alphanumeric()
            || character == '_'
            || (position > 0 && (character == '.' || character == '-'));
        if !allowed {
            return Err(LabelError::BadKeyCharacter {
                key: key.to_owned(),
                found: character,
            });
        }
    }
    if value.len() > MAX_LABEL_LEN {
        return Err(LabelError::TooLong {
            part: "value",
            len: value.len(),
        });
    }
    if value.chars().any(char::is_control) {
        return Err(LabelError::ControlCharacter {
            key: key.to_owned(),
        });
    }
    Ok((key.to_owned(), value.to_owned()))
}

/// Collects parsed labels into a map, refusing duplicate keys and too many labels.
pub fn collect_labels(
    labels: Vec<(String, String)>,
) -> Result<BTreeMap<String, String>, LabelError> {
    if labels.len() > MAX_LABELS {
        return Err(LabelError::TooMany {
            count: labels.len(),
        });
    }
    let mut map = BTreeMap::new();
    for (key, value) in labels {
        if map.contains_key(&key) {
            return Err(LabelError::Duplicate { key });
        }
        map.insert(key, value);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<(&str, &str), &str>) {
        let got = parse_label(input).map_err(|error| error.to_string());
        let expected = expected
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .map_err(str::to_owned);
        assert_eq!(got, expected, "parsing {input:?}");
    }

    #[test]
    fn accepts_key_value_pairs() {
        check("app=pg", Ok(("app", "pg")));
        check("team.owner=db-ops", Ok(("team.owner", "db-ops")));
        check("note=a=b", Ok(("note", "a=b")));
        check("empty=", Ok(("empty", "")));
        check("v=pg 15", Ok(("v", "pg 15")));
    }

    #[test]
    fn rejects_malformed_labels() {
        check(
            "app",
            Err("label 'app' has no '='; write it as key=value, e.g. app=postgres"),
        );
        check(
            "=pg",
            Err("label '=pg' has an empty key; write it as key=value, e.g. app=postgres"),
        );
        check(
            "my app=pg",
            Err(
                "label key 'my app' has the character ' '; keys are letters, digits, '_', and '.' or '-' after the first character",
            ),
        );
        check(
            "-app=pg",
            Err(
                "label key '-app' has the character '-'; keys are letters, digits, '_', and '.' or '-' after the first character",
            ),
        );
        check(
            "app=a\nb",
            Err("the value of label 'app' has a control character; values are printable text"),
        );
    }

    #[test]
    fn rejects_overlong_parts() {
        let long = "x".repeat(129);
        check(
            &format!("{long}=v"),
            Err("a label key is 129 bytes long; at most 128 are allowed"),
        );
        check(
            &format!("k={long}"),
            Err("a label value is 129 bytes long; at most 128 are allowed"),
        );
        let longest = "x".repeat(128);
        assert!(parse_label(&format!("{longest}={longest}")).is_ok());
    }

    #[test]
    fn collect_refuses_duplicates_and_too_many() {
        let pair = |key: &str| (key.to_owned(), "v".to_owned());
        assert_eq!(
            collect_labels(vec![pair("a"), pair("b")]).map(|map| map.len()),
            Ok(2)
        );
        assert_eq!(
            collect_labels(vec![pair("a"), pair("a")]).map_err(|error| error.to_string()),
            Err("label 'a' is given twice; give each key once".to_owned())
        );
        let many = (0..65).map(|n| pair(&format!("k{n}"))).collect();
        assert_eq!(
            collect_labels(many).map_err(|error| error.to_string()),
            Err("65 labels given; at most 64 are allowed".to_owned())
        );
    }
}
