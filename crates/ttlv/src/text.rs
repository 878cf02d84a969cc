//! What the JSON and XML encodings share: names, hex, dates, and the limits.
//!
//! Both text profiles spell values the same way: enumerations by name or as
//! `0x` + 8 hex digits, masks as flag names, byte strings in hex, date-times in
//! ISO 8601. They differ only in how an item is wrapped (a JSON object or an XML
//! element) and how JSON can also use numbers and booleans.

use crate::names::NameTable;
use crate::{ByteString, Error, Location, MAX_DEPTH, MAX_ITEMS, Tag, enumeration_for, mask_for};

/// Converts a KMIP spec name to the spelling the JSON and XML profiles use.
///
/// The rules of the KMIP profiles ("Normalizing Names"): round brackets become
/// spaces; a non-word character followed by a letter and a lower-case letter
/// becomes a space; any other non-word character becomes `_`; leading digits of
/// the first word move to its end; each word is capitalised and the spaces
/// removed. So `"Cryptographic Algorithm"` becomes `"CryptographicAlgorithm"`,
/// `"PKCS#1"` becomes `"PKCS_1"` and `"3DES"` becomes `"DES3"`.
#[must_use]
pub fn normalize_name(spec_name: &str) -> String {
    let chars: Vec<char> = spec_name
        .chars()
        .map(|c| if c == '(' || c == ')' { ' ' } else { c })
        .collect();
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut spaced = String::with_capacity(chars.len());
    for (index, &c) in chars.iter().enumerate() {
        if is_word(c) || c.is_whitespace() {
            spaced.push(c);
            continue;
        }
        let next = chars.get(index.saturating_add(1)).copied();
        let after = chars.get(index.saturating_add(2)).copied();
        let starts_word = next.is_some_and(|c| c.is_ascii_alphabetic())
            && after.is_some_and(|c| c.is_ascii_lowercase());
        spaced.push(if starts_word { ' ' } else { '_' });
    }
    let mut normalized = String::with_capacity(spaced.len());
    for (index, word) in spaced.split_whitespace().enumerate() {
        let word = if index == 0 {
            let digits = word.len() - word.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            let (number, rest) = word.split_at(digits);
            format!("{rest}{number}")
        } else {
            word.to_owned()
        };
        let mut letters = word.chars();
        if let Some(first) = letters.next() {
            normalized.extend(first.to_uppercase());
            normalized.push_str(letters.as_str());
        }
    }
    normalized
}

/// The name tables that apply to an item's value.
#[derive(Clone, Copy, Default)]
pub(crate) struct Tables {
    pub(crate) enumeration: Option<&'static NameTable>,
    pub(crate) mask: Option<&'static NameTable>,
    /// The enumeration's values are tags, named by the tag names (KMIP 2.x
    /// "Tag" enumeration, used by Tag and Attribute Reference).
    pub(crate) tag_names: bool,
}

/// The tables for an item with `tag`. In KMIP 1.x an Attribute Value takes the
/// names of the attribute its sibling Attribute Name names (`"Cryptographic
/// Algorithm"` → the Cryptographic Algorithm enumeration), so that is passed too.
pub(crate) fn tables_for(tag: Tag, attribute_name: Option<&str>) -> Tables {
    let named = match attribute_name {
        Some(name) if tag == Tag::ATTRIBUTE_VALUE => Tag::from_name(&normalize_name(name)),
        _ => None,
    };
    let tag = named.unwrap_or(tag);
    Tables {
        enumeration: enumeration_for(tag),
        mask: mask_for(tag),
        tag_names: tag == Tag::TAG || tag == Tag::ATTRIBUTE_REFERENCE,
    }
}

/// An enumeration value as text: its name if the table has one, else hex.
pub(crate) fn enumeration_to_text(tables: Tables, value: u32) -> String {
    if tables.tag_names {
        if let Some(name) = Tag::new(value).and_then(Tag::name) {
            return name.to_owned();
        }
    }
    tables
        .enumeration
        .and_then(|table| table.values.iter().find(|&&(known, _)| known == value))
        .map_or_else(|| format!("0x{value:08X}"), |&(_, name)| name.to_owned())
}

/// Reads an enumeration value given by name (or alias) or as `0x` hex.
pub(crate) fn enumeration_from_text(tables: Tables, text: &str) -> Option<u32> {
    if let Some(value) = parse_hex_u64(text, 8) {
        return u32::try_from(value).ok();
    }
    if tables.tag_names {
        return Tag::from_name(text).map(Tag::value);
    }
    let table = tables.enumeration?;
    table
        .values
        .iter()
        .find(|&&(_, name)| name == text)
        .map(|&(value, _)| value)
        .or_else(|| {
            table
                .aliases
                .iter()
                .find(|&&(name, _)| name == text)
                .map(|&(_, value)| value)
        })
}

/// A mask value as flag names joined by `separator`, with any bits the table
/// does not name appended as hex. `None` for zero, which has no flags.
pub(crate) fn mask_to_text(table: &NameTable, value: i32, separator: &str) -> Option<String> {
    let bits = u32::from_be_bytes(value.to_be_bytes());
    if bits == 0 {
        return None;
    }
    let mut parts: Vec<String> = Vec::new();
    let mut named = 0_u32;
    for &(flag, name) in table.values {
        if flag != 0 && bits & flag == flag {
            parts.push(name.to_owned());
            named |= flag;
        }
    }
    let rest = bits & !named;
    if rest != 0 {
        parts.push(format!("0x{rest:08X}"));
    }
    Some(parts.join(separator))
}

/// Reads a mask given as flag names or `0x` hex, separated by any of `separators`.
pub(crate) fn mask_from_text(table: &NameTable, text: &str, separators: &[char]) -> Option<i32> {
    let mut bits = 0_u32;
    let mut any = false;
    for part in text.split(separators).filter(|part| !part.is_empty()) {
        any = true;
        let flag = match parse_hex_u64(part, 8) {
            Some(value) => u32::try_from(value).ok()?,
            None => table.values.iter().find(|&&(_, name)| name == part)?.0,
        };
        bits |= flag;
    }
    any.then(|| i32::from_be_bytes(bits.to_be_bytes()))
}

/// Reads `0x` followed by 1 to `max_digits` hex digits.
pub(crate) fn parse_hex_u64(text: &str, max_digits: usize) -> Option<u64> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))?;
    if digits.is_empty()
        || digits.len() > max_digits
        || !digits.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

/// Reads an `i32` written in decimal or as `0x` + up to 8 hex digits (the bit pattern).
pub(crate) fn parse_i32(text: &str) -> Option<i32> {
    match parse_hex_u64(text, 8) {
        Some(value) => u32::try_from(value)
            .ok()
            .map(|bits| i32::from_be_bytes(bits.to_be_bytes())),
        None => text.parse().ok(),
    }
}

/// Reads an `i64` written in decimal or as `0x` + up to 16 hex digits (the bit pattern).
pub(crate) fn parse_i64(text: &str) -> Option<i64> {
    match parse_hex_u64(text, 16) {
        Some(value) => Some(i64::from_be_bytes(value.to_be_bytes())),
        None => text.parse().ok(),
    }
}

/// Reads a `u32` written in decimal or as `0x` + up to 8 hex digits.
pub(crate) fn parse_u32(text: &str) -> Option<u32> {
    match parse_hex_u64(text, 8) {
        Some(value) => u32::try_from(value).ok(),
        None => text.parse().ok(),
    }
}

/// Bytes as upper-case hex, two digits a byte.
pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut text = String::with_capacity(bytes.len().saturating_mul(2));
    for &byte in bytes {
        for nibble in [byte >> 4, byte & 0x0F] {
            text.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    text
}

/// Hex (either case, even length, no prefix) as bytes, in a buffer of the
/// exact length that is wiped when dropped (byte strings and big integers
/// carry key material).
pub(crate) fn hex_decode(text: &str) -> Option<ByteString> {
    let digits = text.as_bytes();
    if digits.len() % 2 != 0 {
        return None;
    }
    let value = |digit: u8| {
        char::from(digit)
            .to_digit(16)
            .and_then(|v| u8::try_from(v).ok())
    };
    let mut bytes = ByteString::from(vec![0_u8; digits.len() / 2]);
    for (byte, pair) in bytes.as_mut_slice().iter_mut().zip(digits.chunks_exact(2)) {
        let &[high, low] = pair else {
            return None;
        };
        *byte = value(high)? << 4 | value(low)?;
    }
    Some(bytes)
}

/// Seconds in a day.
const DAY: i64 = 86_400;
/// 0000-01-01T00:00:00Z, the earliest instant written as a date.
const EARLIEST_DATE: i64 = -62_167_219_200;
/// 9999-12-31T23:59:59Z, the latest instant written as a date.
const LATEST_DATE: i64 = 253_402_300_799;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`); called only with years 0 to 9999.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count since 1970-01-01 (Hinnant's `civil_from_days`);
/// called only for instants between [`EARLIEST_DATE`] and [`LATEST_DATE`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A date-time as ISO 8601 (`2008-03-14T11:56:40+00:00`), with `micros` as six
/// fractional digits if given; hex for instants outside years 0 to 9999.
fn format_instant(seconds: i64, micros: Option<i64>, raw: i64) -> String {
    if !(EARLIEST_DATE..=LATEST_DATE).contains(&seconds) {
        return format!("0x{:016X}", u64::from_be_bytes(raw.to_be_bytes()));
    }
    let (year, month, day) = civil_from_days(seconds.div_euclid(DAY));
    let second_of_day = seconds.rem_euclid(DAY);
    let (hour, minute, second) = (
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60,
    );
    let fraction = micros.map_or_else(String::new, |micros| format!(".{micros:06}"));
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}+00:00")
}

/// A Date-Time value (seconds since the epoch) as text.
pub(crate) fn format_date_time(seconds: i64) -> String {
    format_instant(seconds, None, seconds)
}

/// A Date-Time Extended value (microseconds since the epoch) as text.
pub(crate) fn format_date_time_extended(micros: i64) -> String {
    format_instant(
        micros.div_euclid(1_000_000),
        Some(micros.rem_euclid(1_000_000)),
        micros,
    )
}

/// Reads ISO 8601 `YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)` as seconds and
/// microseconds since the epoch.
fn parse_instant(text: &str) -> Option<(i64, i64)> {
    let bytes = text.as_bytes();
    let mut position = 0;
    let number = |count: usize, position: &mut usize| -> Option<i64> {
        let end = position.checked_add(count)?;
        let digits = bytes.get(*position..end)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        *position = end;
        digits.iter().try_fold(0_i64, |total, &digit| {
            Some(total * 10 + i64::from(digit - b'0'))
        })
    };
    let expect = |byte: u8, position: &mut usize| -> Option<()> {
        (bytes.get(*position) == Some(&byte)).then(|| *position += 1)
    };
    let year = number(4, &mut position)?;
    expect(b'-', &mut position)?;
    let month = number(2, &mut position)?;
    expect(b'-', &mut position)?;
    let day = number(2, &mut position)?;
    expect(b'T', &mut position)?;
    let hour = number(2, &mut position)?;
    expect(b':', &mut position)?;
    let minute = number(2, &mut position)?;
    expect(b':', &mut position)?;
    let second = number(2, &mut position)?;
    let mut micros = 0;
    if expect(b'.', &mut position).is_some() {
        let digits = bytes
            .get(position..)?
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .count();
        if digits == 0 || digits > 6 {
            return None;
        }
        micros = number(digits, &mut position)? * 10_i64.pow(u32::try_from(6 - digits).ok()?);
    }
    let offset = match bytes.get(position)? {
        b'Z' => {
            position += 1;
            0
        }
        &sign @ (b'+' | b'-') => {
            position += 1;
            let hours = number(2, &mut position)?;
            expect(b':', &mut position)?;
            let minutes = number(2, &mut position)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 3600 + minutes * 60;
            if sign == b'-' { -offset } else { offset }
        }
        _ => return None,
    };
    if position != bytes.len() {
        return None;
    }
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let seconds =
        days_from_civil(year, month, day) * DAY + hour * 3600 + minute * 60 + second - offset;
    Some((seconds, micros))
}

/// Reads a Date-Time: ISO 8601 (whole seconds) or `0x` + 16 hex digits.
pub(crate) fn parse_date_time(text: &str) -> Option<i64> {
    if let Some(raw) = parse_hex_u64(text, 16) {
        return Some(i64::from_be_bytes(raw.to_be_bytes()));
    }
    match parse_instant(text)? {
        (seconds, 0) => Some(seconds),
        _ => None,
    }
}

/// Reads a Date-Time Extended: ISO 8601 (to the microsecond) or `0x` + 16 hex digits.
pub(crate) fn parse_date_time_extended(text: &str) -> Option<i64> {
    if let Some(raw) = parse_hex_u64(text, 16) {
        return Some(i64::from_be_bytes(raw.to_be_bytes()));
    }
    let (seconds, micros) = parse_instant(text)?;
    seconds.checked_mul(1_000_000)?.checked_add(micros)
}

/// Counts items and depth while a text decoder builds a tree.
#[derive(Default)]
pub(crate) struct Budget {
    items: usize,
}

impl Budget {
    /// Accounts for one more item at `depth` (the top-level item is at depth 1).
    pub(crate) fn item(&mut self, depth: usize, at: impl Fn() -> Location) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(Error::TooDeep {
                at: at(),
                limit: MAX_DEPTH,
            });
        }
        self.items = self.items.saturating_add(1);
        if self.items > MAX_ITEMS {
            return Err(Error::TooManyItems {
                at: at(),
                limit: MAX_ITEMS,
            });
        }
        Ok(())
    }
}

/// Checks that a decoded tree fits a binary message, so any tree a text decoder
/// returns can be sent as TTLV.
pub(crate) fn check_encoded_size(item: &crate::Item, at: Location) -> Result<(), Error> {
    let length = crate::encoded_len(item);
    if length > crate::MAX_MESSAGE_SIZE {
        return Err(Error::MessageTooLarge {
            at,
            length: u64::try_from(length).unwrap_or(u64::MAX),
            limit: crate::MAX_MESSAGE_SIZE,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_name(spec: &str, expected: &str) {
        assert_eq!(normalize_name(spec), expected, "normalising {spec:?}");
    }

    #[test]
    fn normalizes_names_as_the_profiles_do() {
        check_name("Activation Date", "ActivationDate");
        check_name("Common Template-Attribute", "CommonTemplateAttribute");
        check_name("PKCS#1", "PKCS_1");
        check_name("X.509 Certificate Identifier", "X_509CertificateIdentifier");
        check_name("3DES", "DES3");
        check_name("Pre-Active", "PreActive");
        check_name("Re-key Key Pair", "ReKeyKeyPair");
        check_name("SHA-256 with RSA Encryption", "SHA_256WithRSAEncryption");
        check_name("PKCS1 v1.5", "PKCS1V1_5");
        check_name("Polynomial Sharing GF (2^16)", "PolynomialSharingGF2_16");
        check_name("NIST800 - 108 - C", "NIST800_108_C");
        check_name("Encrypt then MAC/sign", "EncryptThenMACSign");
    }

    #[test]
    fn formats_and_parses_dates() {
        // KMIP 1.4 spec section 9.1.2: 0x47DA67F8 is Friday, March 14, 2008, 11:56:40 GMT.
        assert_eq!(format_date_time(0x47DA_67F8), "2008-03-14T11:56:40+00:00");
        assert_eq!(
            parse_date_time("2008-03-14T11:56:40+00:00"),
            Some(0x47DA_67F8)
        );
        assert_eq!(
            parse_date_time("2008-03-14T12:56:40+01:00"),
            Some(0x47DA_67F8)
        );
        assert_eq!(parse_date_time("2008-03-14T11:56:40Z"), Some(0x47DA_67F8));
        assert_eq!(parse_date_time("0000-01-01T00:00:00Z"), Some(EARLIEST_DATE));
        assert_eq!(parse_date_time("9999-12-31T23:59:59Z"), Some(LATEST_DATE));
        assert_eq!(format_date_time(LATEST_DATE + 1), "0x0000003AFFF44180");
        assert_eq!(parse_date_time("2008-02-30T00:00:00Z"), None);
        assert_eq!(parse_date_time("2008-03-14T11:56:40.5Z"), None);
        assert_eq!(
            format_date_time_extended(-1),
            "1969-12-31T23:59:59.999999+00:00"
        );
        assert_eq!(
            parse_date_time_extended("1969-12-31T23:59:59.999999Z"),
            Some(-1)
        );
        assert_eq!(
            parse_date_time_extended("1970-01-01T00:00:00.5Z"),
            Some(500_000)
        );
    }

    #[test]
    fn names_tag_enumerations_by_tag_name() {
        let tables = tables_for(Tag::ATTRIBUTE_REFERENCE, None);
        assert_eq!(
            enumeration_to_text(tables, 0x42_0028),
            "CryptographicAlgorithm"
        );
        assert_eq!(
            enumeration_from_text(tables, "CryptographicAlgorithm"),
            Some(0x42_0028)
        );
        assert_eq!(enumeration_to_text(tables, 0x54_0001), "0x00540001");
        assert_eq!(enumeration_from_text(tables, "0x00540001"), Some(0x54_0001));
        assert_eq!(enumeration_from_text(tables, "NoSuchTag"), None);
        let tables = tables_for(Tag::OBJECT_TYPE, None);
        assert_eq!(enumeration_to_text(tables, 0x42_0028), "0x00420028");
    }

    #[test]
    fn reads_hex() {
        assert_eq!(hex_decode("00aBFf"), Some(vec![0x00, 0xAB, 0xFF].into()));
        assert_eq!(hex_decode("0"), None);
        assert_eq!(hex_decode("0g"), None);
        assert_eq!(hex_encode(&[0x00, 0xAB, 0xFF]), "00ABFF");
        assert_eq!(parse_i32("0xFFFFFFFF"), Some(-1));
        assert_eq!(parse_i32("0x100000000"), None);
        assert_eq!(parse_i64("-5"), Some(-5));
    }
}
