//! KMIP tag names, enumeration values and mask flags: one table each, from
//! which every lookup is derived.
//!
//! Transcribed from the tag and enumeration tables of the OASIS KMIP
//! specifications 1.4 (section 9.1.3) and 2.1 (sections 11 and 12), which
//! include every tag of versions 1.0 to 1.3 and 2.0 (`tags.rs`,
//! `enumerations.rs`, `masks.rs`). These files are the source,
//! not generated: a tag is one line of [`tags!`] (its constant, value and name
//! as the specification writes it), from which come the `Tag` constants, the
//! name lookups both ways and the JSON/XML spelling ([`normalize_name`] of the
//! specification's name, as the KMIP profiles define it). An enumeration or
//! mask is one block of [`name_tables!`], which names the tags that use it.
//! Where a later version renamed or reserved a value, the 1.x name is kept so
//! that older messages still read; alternative spellings are accepted on
//! input only.

use std::sync::OnceLock;

use crate::{Tag, normalize_name};

/// Expands the one list of tags into the `Tag` constants and [`TAGS`].
macro_rules! tags {
    ($($constant:ident = $value:literal, $spec_name:literal;)*) => {
        impl Tag {
            $(
                #[doc = concat!($spec_name, " (`", stringify!($value), "`).")]
                pub const $constant: Tag = Tag($value);
            )*
        }

        /// Every tag of KMIP 1.0 to 2.1 with its name as the specification
        /// writes it, sorted by value (a test checks it).
        pub(super) static TAGS: &[(Tag, &str)] = &[$((Tag::$constant, $spec_name)),*];
    };
}

/// Expands blocks of values and names (then `alias` lines: other spellings
/// accepted on input) into one [`NameTable`] each (a static named after the
/// block's first tag) and a lookup function `$lookup` from a
/// tag to the table its items use.
macro_rules! name_tables {
    (
        $(#[$lookup_doc:meta])*
        fn $lookup:ident;
        $(
            $first:ident $(, $more:ident)* {
                $($value:literal $name:literal,)*
                $(alias $alias:literal = $aliased:literal,)*
            }
        )*
    ) => {
        $(
            static $first: NameTable = NameTable {
                tag: Tag::$first,
                values: &[$(($value, $name)),*],
                aliases: &[$(($alias, $aliased)),*],
            };
        )*

        $(#[$lookup_doc])*
        pub fn $lookup(tag: Tag) -> Option<&'static NameTable> {
            match tag {
                $(Tag::$first $(| Tag::$more)* => Some(&$first),)*
                _ => None,
            }
        }
    };
}

mod enumerations;
mod masks;
mod tags;

pub use enumerations::enumeration_for;
pub use masks::mask_for;
use tags::TAGS;

/// The JSON/XML spellings of [`TAGS`], made once on first use.
struct TagNames {
    /// Each tag's value and normalised name, sorted by value.
    by_value: Vec<(u32, String)>,
    /// The same, sorted by name.
    by_name: Vec<(String, u32)>,
}

fn tag_names() -> &'static TagNames {
    static NAMES: OnceLock<TagNames> = OnceLock::new();
    NAMES.get_or_init(|| {
        let by_value: Vec<(u32, String)> = TAGS
            .iter()
            .map(|&(tag, spec_name)| (tag.value(), normalize_name(spec_name)))
            .collect();
        let mut by_name: Vec<(String, u32)> = by_value
            .iter()
            .map(|(value, name)| (name.clone(), *value))
            .collect();
        by_name.sort_unstable();
        TagNames { by_value, by_name }
    })
}

/// The name of `tag` in the JSON and XML spelling (`"ActivationDate"`).
pub(crate) fn tag_name(tag: Tag) -> Option<&'static str> {
    let names = &tag_names().by_value;
    let index = names
        .binary_search_by_key(&tag.value(), |(value, _)| *value)
        .ok()?;
    names.get(index).map(|(_, name)| name.as_str())
}

/// The tag named `name` in the JSON and XML spelling.
pub(crate) fn tag_from_name(name: &str) -> Option<Tag> {
    let names = &tag_names().by_name;
    let index = names
        .binary_search_by(|(candidate, _)| candidate.as_str().cmp(name))
        .ok()?;
    names.get(index).and_then(|&(_, value)| Tag::new(value))
}

/// The name of `tag` as the specification writes it (`"Activation Date"`).
pub(crate) fn tag_spec_name(tag: Tag) -> Option<&'static str> {
    let index = TAGS.binary_search_by_key(&tag, |&(known, _)| known).ok()?;
    TAGS.get(index).map(|&(_, spec_name)| spec_name)
}

/// The values and names of one KMIP enumeration or mask.
#[derive(Debug)]
pub struct NameTable {
    /// The tag whose values these are (the first, when several tags share
    /// the table); the table's name is the tag's.
    pub tag: Tag,
    /// Each defined value with its normalised name, sorted by value.
    pub values: &'static [(u32, &'static str)],
    /// Alternative spellings found in other versions of the spec, accepted on input.
    pub aliases: &'static [(&'static str, u32)],
}

impl NameTable {
    /// The normalised name of the enumeration or mask, e.g. `ObjectType`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        tag_name(self.tag).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize_name;

    /// Every value a tag, enumeration or mask can take under any tag, named by
    /// the tables `enumeration_for` and `mask_for` return.
    fn all_tables() -> Vec<&'static NameTable> {
        TAGS.iter()
            .flat_map(|&(tag, _)| [enumeration_for(tag), mask_for(tag)])
            .flatten()
            .collect()
    }

    #[test]
    fn the_tag_table_is_sorted_unique_and_its_names_agree() {
        // `Tag::spec_name` and `Tag::name` binary-search it by value.
        assert!(TAGS.windows(2).all(|pair| pair[0].0 < pair[1].0));
        let names = tag_names();
        assert_eq!(names.by_value.len(), TAGS.len());
        assert!(
            names.by_name.windows(2).all(|pair| pair[0].0 < pair[1].0),
            "two tags have the same name"
        );
        for &(tag, spec_name) in TAGS {
            let name = tag.name().unwrap();
            assert_eq!(Tag::from_name(name), Some(tag), "{name}");
            assert_eq!(tag.spec_name(), Some(spec_name));
            assert_eq!(tag.value() >> 16, 0x42, "{name} is not a KMIP tag");
            // Normalising is idempotent: a JSON/XML name reads back as itself.
            assert_eq!(normalize_name(name), name);
        }
    }

    #[test]
    fn json_and_xml_names_follow_the_profiles_spelling() {
        // Names with the characters the KMIP profiles' "Normalizing Names"
        // rules change, as the OASIS test cases spell them.
        for (tag, name) in [
            (Tag::ACTIVATION_DATE, "ActivationDate"),
            (Tag::COMMON_TEMPLATE_ATTRIBUTE, "CommonTemplateAttribute"),
            (Tag::IV_COUNTER_NONCE, "IVCounterNonce"),
            (
                Tag::MAC_SIGNATURE_KEY_INFORMATION,
                "MACSignatureKeyInformation",
            ),
            (
                Tag::X_509_CERTIFICATE_IDENTIFIER,
                "X_509CertificateIdentifier",
            ),
            (Tag::PKCS_12_FRIENDLY_NAME, "PKCS_12FriendlyName"),
            (Tag::CRT_COEFFICIENT, "CRTCoefficient"),
            (Tag::FIPS186_VARIATION, "FIPS186Variation"),
        ] {
            assert_eq!(tag.name(), Some(name), "{:?}", tag.spec_name());
        }
        assert_eq!(
            Tag::X_509_CERTIFICATE_IDENTIFIER.spec_name(),
            Some("X.509 Certificate Identifier")
        );
        assert_eq!(Tag::from_name("Activation Date"), None);
        assert_eq!(Tag::new(0x54_0001).and_then(Tag::spec_name), None);
    }

    #[test]
    fn every_tag_of_kmip_1_0_to_2_1_is_named() {
        // 0x420001 to 0x420176 is every tag of KMIP 1.0 to 2.1; KMIP 2.0 reserved
        // 0x420137, 0x42013E and 0x42013F.
        let reserved = [0x42_0137, 0x42_013E, 0x42_013F];
        for value in 0x42_0001..=0x42_0176 {
            let named = Tag::new(value).and_then(Tag::name).is_some();
            assert_eq!(named, !reserved.contains(&value), "tag 0x{value:06X}");
        }
        assert_eq!(Tag::new(0x42_0177).and_then(Tag::name), None);
    }

    #[test]
    fn enumeration_and_mask_tables_are_consistent() {
        let tables = all_tables();
        for table in &tables {
            // A table is named after its (first) tag, and that tag uses it.
            assert!(!table.name().is_empty());
            assert!(
                enumeration_for(table.tag).is_some_and(|found| std::ptr::eq(found, *table))
                    || mask_for(table.tag).is_some_and(|found| std::ptr::eq(found, *table))
            );
        }
        assert!(tables.len() >= 60, "only {} tables in use", tables.len());
        for table in tables {
            assert!(
                table.values.windows(2).all(|pair| pair[0].0 < pair[1].0),
                "{} is not sorted by value, or repeats one",
                table.name()
            );
            for (index, &(value, name)) in table.values.iter().enumerate() {
                assert!(
                    table
                        .values
                        .iter()
                        .skip(index + 1)
                        .all(|&(_, other)| other != name),
                    "{} names two values {name}",
                    table.name()
                );
                assert!(!name.is_empty() && !name.contains(' '), "{name:?}");
                // An alias must not shadow another value's name.
                assert!(
                    table
                        .aliases
                        .iter()
                        .all(|&(alias, aliased)| alias != name || aliased == value),
                    "{}: alias {name} names two values",
                    table.name()
                );
            }
            for &(_, aliased) in table.aliases {
                assert!(
                    table.values.iter().any(|&(value, _)| value == aliased),
                    "{}: alias for unknown value 0x{aliased:08X}",
                    table.name()
                );
            }
        }
    }

    #[test]
    fn masks_are_single_bits() {
        for tag in [
            Tag::CRYPTOGRAPHIC_USAGE_MASK,
            Tag::STORAGE_STATUS_MASK,
            Tag::PROTECTION_STORAGE_MASK,
        ] {
            let table = mask_for(tag).unwrap();
            for &(value, name) in table.values {
                assert_eq!(value.count_ones(), 1, "{name} in {}", table.name());
            }
        }
    }

    #[test]
    fn spot_checks_against_the_specification_tables() {
        // KMIP 2.1 section 11 and 1.4 section 9.1.3, a few entries per table.
        let name = |tag: Tag, value: u32| {
            enumeration_for(tag)
                .and_then(|table| table.values.iter().find(|&&(known, _)| known == value))
                .map(|&(_, name)| name)
        };
        assert_eq!(name(Tag::OPERATION, 0x01), Some("Create"));
        assert_eq!(name(Tag::OPERATION, 0x1E), Some("DiscoverVersions"));
        assert_eq!(name(Tag::OBJECT_TYPE, 0x02), Some("SymmetricKey"));
        assert_eq!(name(Tag::CRYPTOGRAPHIC_ALGORITHM, 0x03), Some("AES"));
        assert_eq!(name(Tag::CRYPTOGRAPHIC_ALGORITHM, 0x38), Some("Ed448"));
        assert_eq!(name(Tag::RESULT_REASON, 0x01), Some("ItemNotFound"));
        assert_eq!(name(Tag::RESULT_REASON, 0x100), Some("GeneralFailure"));
        assert_eq!(name(Tag::STATE, 0x02), Some("Active"));
        assert_eq!(
            name(Tag::KEY_FORMAT_TYPE, 0x07),
            Some("TransparentSymmetricKey")
        );
        let usage = mask_for(Tag::CRYPTOGRAPHIC_USAGE_MASK).unwrap();
        assert!(usage.values.contains(&(0x0000_0004, "Encrypt")));
        assert!(usage.values.contains(&(0x0000_0008, "Decrypt")));
        assert!(usage.values.contains(&(0x0000_0001, "Sign")));
    }
}
