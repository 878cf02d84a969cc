//! [`SecretString`]: the type of every secret the API carries (key material,
//! secret values, unseal shares, tokens), and the serde paths that are the only
//! way one goes on or comes off the wire.
//!
//! A `SecretString` has no `Debug`, `Display`, `Clone`, `Serialize` or
//! `Deserialize`: a field holding one names its serde path explicitly
//! (`#[serde(with = "crate::secret::exposed")]`), so every place a secret is
//! written out can be found with one search. Its memory is wiped when it is
//! dropped.

use base64::Engine as _;
use serde::de::{Deserializer, Visitor};
use serde::ser::Serializer;
use zeroize::{Zeroize as _, Zeroizing};

/// A secret text, wiped from memory when dropped; readable only through
/// [`SecretString::expose_secret`].
pub struct SecretString {
    text: String,
}

impl SecretString {
    /// Takes `text` over; it is wiped when the secret is dropped.
    pub fn new(text: String) -> SecretString {
        SecretString { text }
    }

    /// A copy of `text` in memory of exactly its size (no spare capacity that
    /// a later growth could leave behind).
    pub fn from_str_copy(text: &str) -> SecretString {
        let mut copy = String::with_capacity(text.len());
        copy.push_str(text);
        SecretString { text: copy }
    }

    /// The standard base64 of `bytes`, as the API carries binary secrets.
    pub fn encode_base64(bytes: &[u8]) -> SecretString {
        SecretString::new(base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    /// The secret text. Every use is a place the secret leaves this type.
    pub fn expose_secret(&self) -> &str {
        &self.text
    }

    /// The bytes of a base64 secret (key material, a volume's secret, a secret
    /// value), in memory wiped when dropped. Surrounding white space is ignored.
    pub fn decode_base64(&self) -> Result<Zeroizing<Vec<u8>>, NotBase64> {
        base64::engine::general_purpose::STANDARD
            .decode(self.text.trim())
            .map(Zeroizing::new)
            .map_err(|_| NotBase64)
    }
}

impl Drop for SecretString {
    fn drop(&mut self) {
        self.text.zeroize();
    }
}

/// A secret that should be base64 is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the secret is not base64 (standard alphabet)")]
pub struct NotBase64;

/// Reads a JSON string into a [`SecretString`] without an intermediate copy.
struct SecretVisitor;

impl Visitor<'_> for SecretVisitor {
    type Value = SecretString;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<SecretString, E> {
        Ok(SecretString::from_str_copy(text))
    }

    fn visit_string<E: serde::de::Error>(self, text: String) -> Result<SecretString, E> {
        Ok(SecretString::new(text))
    }
}

/// The serde path of a `SecretString` field: `#[serde(with = "exposed")]`.
pub mod exposed {
    use super::{Deserializer, SecretString, SecretVisitor, Serializer};

    /// Writes the secret as a JSON string.
    pub fn serialize<S: Serializer>(
        secret: &SecretString,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(secret.expose_secret())
    }

    /// Reads a JSON string into a secret.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<SecretString, D::Error> {
        deserializer.deserialize_str(SecretVisitor)
    }
}

/// The serde path of an `Option<SecretString>` field (absent or `null`: `None`).
pub mod exposed_option {
    use super::{Deserializer, SecretString, SecretVisitor, Serializer};

    /// Writes the secret as a JSON string, or `null`.
    pub fn serialize<S: Serializer>(
        secret: &Option<SecretString>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match secret {
            Some(secret) => serializer.serialize_some(secret.expose_secret()),
            None => serializer.serialize_none(),
        }
    }

    /// Reads a JSON string or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<SecretString>, D::Error> {
        struct OptionVisitor;

        impl<'de> serde::de::Visitor<'de> for OptionVisitor {
            type Value = Option<SecretString>;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a string or null")
            }

            fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<Self::Value, D::Error> {
                inner.deserialize_str(SecretVisitor).map(Some)
            }
        }

        deserializer.deserialize_option(OptionVisitor)
    }
}

/// The serde path of a `Vec<SecretString>` field.
pub mod exposed_list {
    use serde::ser::SerializeSeq as _;

    use super::{Deserializer, SecretString, Serializer};

    /// Writes the secrets as a JSON array of strings.
    pub fn serialize<S: Serializer>(
        secrets: &[SecretString],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut list = serializer.serialize_seq(Some(secrets.len()))?;
        for secret in secrets {
            list.serialize_element(secret.expose_secret())?;
        }
        list.end()
    }

    /// Reads a JSON array of strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<SecretString>, D::Error> {
        struct ListVisitor;

        /// One element, read through [`super::exposed`].
        struct Element(SecretString);

        impl<'de> serde::Deserialize<'de> for Element {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Element, D::Error> {
                super::exposed::deserialize(deserializer).map(Element)
            }
        }

        impl<'de> serde::de::Visitor<'de> for ListVisitor {
            type Value = Vec<SecretString>;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("an array of strings")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut items: A,
            ) -> Result<Self::Value, A::Error> {
                // Not sized from the input's hint: a hostile length must not
                // allocate; the few shares an answer holds grow the list cheaply,
                // and a growth moves only the secrets' handles, not their text.
                let mut secrets = Vec::new();
                while let Some(Element(secret)) = items.next_element()? {
                    secrets.push(secret);
                }
                Ok(secrets)
            }
        }

        deserializer.deserialize_seq(ListVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Carrier {
        #[serde(with = "exposed")]
        one: SecretString,
        #[serde(with = "exposed_option", default)]
        maybe: Option<SecretString>,
        #[serde(with = "exposed_list")]
        many: Vec<SecretString>,
    }

    #[test]
    fn secrets_round_trip_through_their_serde_paths() {
        let carrier: Carrier =
            serde_json::from_str(r#"{"one":"a\"b","maybe":null,"many":["x","y"]}"#).unwrap();
        assert_eq!(carrier.one.expose_secret(), "a\"b");
        assert!(carrier.maybe.is_none());
        let many: Vec<&str> = carrier
            .many
            .iter()
            .map(SecretString::expose_secret)
            .collect();
        assert_eq!(many, ["x", "y"]);
        assert_eq!(
            serde_json::to_string(&carrier).unwrap(),
            r#"{"one":"a\"b","maybe":null,"many":["x","y"]}"#
        );
        let absent: Carrier = serde_json::from_str(r#"{"one":"","many":[]}"#).unwrap();
        assert!(absent.maybe.is_none());
        let present: Carrier = serde_json::from_str(r#"{"one":"","maybe":"m","many":[]}"#).unwrap();
        assert_eq!(
            present
                .maybe
                .map(|m| m.expose_secret().to_owned())
                .as_deref(),
            Some("m")
        );
    }

    #[test]
    fn rejects_a_secret_that_is_not_a_string() {
        for bad in [
            r#"{"one":1,"many":[]}"#,
            r#"{"one":"","many":[1]}"#,
            r#"{"one":"","maybe":2,"many":[]}"#,
        ] {
            assert!(serde_json::from_str::<Carrier>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn base64_secrets_decode_into_wiped_bytes() {
        let secret = SecretString::encode_base64(b"\x00\x01key");
        assert_eq!(secret.expose_secret(), "AAFrZXk=");
        assert_eq!(secret.decode_base64().unwrap().as_slice(), b"\x00\x01key");
        assert_eq!(
            SecretString::from_str_copy(" AAFrZXk=\n")
                .decode_base64()
                .unwrap()
                .as_slice(),
            b"\x00\x01key"
        );
        assert_eq!(
            SecretString::from_str_copy("not base64!")
                .decode_base64()
                .err(),
            Some(NotBase64)
        );
    }

    /// Fails to compile if `SecretString` implements `Debug`, `Display`,
    /// `Clone`, `Serialize` or `Deserialize`: each would make one of these
    /// calls ambiguous.
    #[test]
    fn a_secret_string_has_no_debug_display_clone_or_serde() {
        trait NotDebug<A> {
            fn check() {}
        }
        impl<T: ?Sized> NotDebug<()> for T {}
        impl<T: ?Sized + std::fmt::Debug> NotDebug<u8> for T {}
        trait NotDisplay<A> {
            fn check() {}
        }
        impl<T: ?Sized> NotDisplay<()> for T {}
        impl<T: ?Sized + std::fmt::Display> NotDisplay<u8> for T {}
        trait NotClone<A> {
            fn check() {}
        }
        impl<T: ?Sized> NotClone<()> for T {}
        impl<T: Clone> NotClone<u8> for T {}
        trait NotSerialize<A> {
            fn check() {}
        }
        impl<T: ?Sized> NotSerialize<()> for T {}
        impl<T: ?Sized + serde::Serialize> NotSerialize<u8> for T {}
        trait NotDeserialize<A> {
            fn check() {}
        }
        impl<T: ?Sized> NotDeserialize<()> for T {}
        impl<T: serde::de::DeserializeOwned> NotDeserialize<u8> for T {}
        <SecretString as NotDebug<_>>::check();
        <SecretString as NotDisplay<_>>::check();
        <SecretString as NotClone<_>>::check();
        <SecretString as NotSerialize<_>>::check();
        <SecretString as NotDeserialize<_>>::check();
    }

    #[test]
    fn a_dropped_secret_string_leaves_nothing_in_memory() {
        let marker = crate::memory::Marker::new(b'S');
        let probe = crate::memory::Probe::open();
        let secret = SecretString::from_str_copy(marker.text());
        let address = secret.expose_secret().as_ptr().addr();
        drop(secret);
        assert!(
            !probe.holds(address, marker.bytes()),
            "the secret's text is still in freed memory"
        );
    }
}
