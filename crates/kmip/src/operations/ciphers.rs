//! Encrypt and Decrypt with symmetric keys: AES (128, 192, 256) in GCM, CBC,
//! ECB and CTR, AES-GCM streams (Init and Final Indicators, Correlation
//! Value), ChaCha20 and ChaCha20-Poly1305.
//!
//! The Cryptographic Parameters are the request's, field by field over the
//! key's Cryptographic Parameters attribute (KMIP: the attribute is the
//! default when the request names none). No padding unless the Padding
//! Method says PKCS5, as the OASIS test cases have it. A key with Usage
//! Limits is counted down, in bytes or uses, before it is used.

use std::sync::Mutex;

use keystore::Found;
use keystore::object::{ObjectMeta, ObjectType};
use keystore::secret::SecretBytes;
use rand::RngCore;
use ttlv::{Item, Tag, Value};
use zeroize::Zeroizing;

use crate::aead::{self, GcmStream};
use crate::crypto::{self, BlockMode};
use crate::error::{KmipError, ResultReason};

use super::{Context, Outcome, kept, key_family, store_error, uid};

/// KMIP Block Cipher Mode values.
mod mode {
    pub const CBC: u32 = 0x01;
    pub const ECB: u32 = 0x02;
    pub const CTR: u32 = 0x06;
    pub const GCM: u32 = 0x09;
    pub const AEAD: u32 = 0x12;
}

/// KMIP Padding Method values.
mod padding {
    pub const NONE: u32 = 0x01;
    pub const PKCS5: u32 = 0x03;
}

/// Most streams one session may have open at once.
pub const MAX_STREAMS: usize = 16;

/// How a symmetric key encrypts, from its family and the parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    /// AES-GCM with tags of this many bytes.
    AesGcm(usize),
    /// AES in a block mode.
    Aes(BlockMode),
    /// ChaCha20, from block 0.
    ChaCha20,
    /// ChaCha20-Poly1305 with tags of this many bytes.
    ChaCha20Poly1305(usize),
}

impl Scheme {
    /// The IV length the server picks when a client sends none.
    fn iv_length(self) -> usize {
        match self {
            Scheme::AesGcm(_) | Scheme::ChaCha20 | Scheme::ChaCha20Poly1305(_) => 12,
            Scheme::Aes(BlockMode::Ecb { .. }) => 0,
            Scheme::Aes(_) => crypto::AES_BLOCK,
        }
    }
}

/// The block mode for `mode` and `padding` (KMIP values; none: GCM, and
/// `padded_by_default` says whether to pad when no Padding Method is named).
pub(super) fn block_mode(
    mode: Option<u32>,
    padding: Option<u32>,
    padded_by_default: bool,
) -> Result<Option<BlockMode>, KmipError> {
    let padded = match padding {
        None => padded_by_default,
        Some(padding::NONE) => false,
        Some(padding::PKCS5) => true,
        Some(other) => {
            return Err(KmipError::new(
                ResultReason::FeatureNotSupported,
                format!(
                    "padding method 0x{other:02X} is not supported for symmetric keys; use PKCS5 or none"
                ),
            ));
        }
    };
    match mode {
        None | Some(mode::GCM) => Ok(None),
        Some(mode::CBC) => Ok(Some(BlockMode::Cbc { padded })),
        Some(mode::ECB) => Ok(Some(BlockMode::Ecb { padded })),
        Some(mode::CTR) => Ok(Some(BlockMode::Ctr)),
        Some(other) => Err(KmipError::new(
            ResultReason::FeatureNotSupported,
            format!(
                "block cipher mode 0x{other:02X} is not supported for AES; use GCM, CBC, ECB or CTR"
            ),
        )),
    }
}

/// One field of Cryptographic Parameters: the request's, else the key's.
fn field<'a>(
    request: Option<&'a Item>,
    attribute: Option<&'a Item>,
    tag: Tag,
) -> Option<&'a Value> {
    request
        .and_then(|parameters| parameters.child(tag))
        .or_else(|| attribute.and_then(|parameters| parameters.child(tag)))
        .map(|item| &item.value)
}

/// The scheme a key of `family` uses with the request's and the key's
/// Cryptographic Parameters.
fn scheme(family: &str, request: Option<&Item>, meta: &ObjectMeta) -> Result<Scheme, KmipError> {
    let attribute = kept::kept_value(meta, Tag::CRYPTOGRAPHIC_PARAMETERS)
        .map(|value| Item::new(Tag::CRYPTOGRAPHIC_PARAMETERS, value));
    let enumeration = |tag: Tag| match field(request, attribute.as_ref(), tag) {
        None => Ok(None),
        Some(Value::Enumeration(value)) => Ok(Some(*value)),
        Some(_) => Err(KmipError::invalid(format!("{tag} must be an enumeration"))),
    };
    let tag_length = match field(request, attribute.as_ref(), Tag::TAG_LENGTH) {
        None => 16,
        Some(Value::Integer(length)) => usize::try_from(*length).unwrap_or(0),
        Some(_) => return Err(KmipError::invalid("Tag Length must be an integer")),
    };
    let mode = enumeration(Tag::BLOCK_CIPHER_MODE)?;
    match family {
        "aes" => match block_mode(mode, enumeration(Tag::PADDING_METHOD)?, false)? {
            None => Ok(Scheme::AesGcm(tag_length)),
            Some(block) => Ok(Scheme::Aes(block)),
        },
        "chacha20" if mode.is_none() => Ok(Scheme::ChaCha20),
        "chacha20" | "chacha20-poly1305" if matches!(mode, None | Some(mode::AEAD)) => {
            Ok(Scheme::ChaCha20Poly1305(tag_length))
        }
        "chacha20" | "chacha20-poly1305" => Err(KmipError::new(
            ResultReason::FeatureNotSupported,
            "ChaCha20 keys encrypt as a stream cipher (no Block Cipher Mode) or, with the AEAD mode, as ChaCha20-Poly1305",
        )),
        _ => Err(KmipError::invalid(format!(
            "object {} is not a key for Encrypt and Decrypt here; they use AES, ChaCha20 and ChaCha20-Poly1305 symmetric keys",
            meta.id
        ))),
    }
}

/// An encryption stream between messages of one session.
struct Stream {
    /// The correlation value the client continues it with.
    correlation: [u8; 16],
    /// The key's identifier and version.
    object: String,
    version: u32,
    tag_length: usize,
    gcm: GcmStream,
}

/// The encryption streams open on a session (Encrypt with an Init
/// Indicator, continued by Correlation Value; KMIP 1.3 and later). They
/// live as long as the session: a connection, on the TLS listener.
#[derive(Default)]
pub struct Streams {
    open: Mutex<Vec<Stream>>,
}

impl std::fmt::Debug for Streams {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let open = self.open.lock().map_or(0, |open| open.len());
        formatter
            .debug_struct("Streams")
            .field("open", &open)
            .finish()
    }
}

impl Streams {
    fn take(&self, correlation: &[u8]) -> Option<Stream> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let at = open
            .iter()
            .position(|stream| stream.correlation.as_slice() == correlation)?;
        Some(open.swap_remove(at))
    }

    fn keep(&self, stream: Stream) -> Result<(), KmipError> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if open.len() >= MAX_STREAMS {
            return Err(KmipError::new(
                ResultReason::PermissionDenied,
                format!(
                    "this session has {MAX_STREAMS} streams open; finish one (Final Indicator) first"
                ),
            ));
        }
        open.push(stream);
        Ok(())
    }
}

impl Context<'_> {
    fn boolean_field(&self, tag: Tag) -> Result<bool, KmipError> {
        match self.payload.child(tag).map(|item| &item.value) {
            None => Ok(false),
            Some(Value::Boolean(flag)) => Ok(*flag),
            Some(_) => Err(KmipError::invalid(format!("{tag} must be a boolean"))),
        }
    }

    /// Counts a use of `amount` bytes down from the key's Usage Limits
    /// (Permission Denied once they are reached), before the key is used.
    /// Only keys with Usage Limits write here: a commit of its own, which
    /// an Encrypt answered on the connection's task (a quick read) waits
    /// for there, holding that async worker meanwhile. Clients that set
    /// Usage Limits trade that for the count.
    fn count_use(&self, meta: &ObjectMeta, amount: usize) -> Result<(), KmipError> {
        let Some(left) = kept::usage_after(meta, amount)? else {
            return Ok(());
        };
        let mut labels = meta.labels.clone();
        kept::set_kept(&mut labels, Tag::USAGE_LIMITS, Some(&left), false)?;
        self.keystore
            .set_labels_if_current(&self.session.caller, meta, labels)
            .map_err(|error| store_error(&error))?;
        Ok(())
    }

    /// Encrypt with a symmetric key, in one call or as a stream (AES-GCM).
    pub(super) fn symmetric_encrypt(&self, found: Found) -> Outcome {
        let data = self
            .bytes_field(Tag::DATA)?
            .ok_or_else(|| KmipError::missing("Data"))?;
        if let Some(correlation) = self.bytes_field(Tag::CORRELATION_VALUE)? {
            return self.continue_stream(&found.meta, correlation, data);
        }
        let family = key_family(&found.meta);
        let scheme = scheme(
            family,
            self.payload.child(Tag::CRYPTOGRAPHIC_PARAMETERS),
            &found.meta,
        )?;
        let streaming = self.boolean_field(Tag::INIT_INDICATOR)?
            && !self.boolean_field(Tag::FINAL_INDICATOR)?;
        self.count_use(&found.meta, data.len())?;
        let (meta, key) = self.usable_key(found, ObjectType::SymmetricKey, true, family)?;
        let (iv, generated) = match self.bytes_field(Tag::IV_COUNTER_NONCE)? {
            Some(iv) => (iv.to_vec(), false),
            None => {
                let mut iv = vec![0_u8; scheme.iv_length()];
                rand::rngs::OsRng.fill_bytes(&mut iv);
                (iv, scheme.iv_length() > 0)
            }
        };
        let aad = self
            .bytes_field(Tag::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA)?
            .unwrap_or_default();
        let mut out = vec![uid(&meta.id)];
        if streaming {
            let Scheme::AesGcm(tag_length) = scheme else {
                return Err(KmipError::new(
                    ResultReason::FeatureNotSupported,
                    "streamed Encrypt (Init Indicator) is supported for AES-GCM only",
                ));
            };
            out.extend(self.start_stream(&meta, &key, &iv, aad, tag_length, data)?);
        } else {
            let key = key.expose_secret();
            let (ciphertext, tag) = match scheme {
                Scheme::AesGcm(16) if iv.len() == crypto::GCM_IV_LEN => {
                    let (ciphertext, tag) = crypto::gcm_encrypt(key, &iv, aad, data)?;
                    (ciphertext, Some(tag))
                }
                Scheme::AesGcm(tag_length) => {
                    let (ciphertext, tag) = aead::gcm_encrypt(key, &iv, aad, data, tag_length)?;
                    (ciphertext, Some(tag))
                }
                Scheme::Aes(block) => (crypto::aes_encrypt(key, block, &iv, data)?, None),
                // Ciphertext: no need to wipe it.
                Scheme::ChaCha20 => (aead::chacha20(key, &iv, 0, data)?.to_vec(), None),
                Scheme::ChaCha20Poly1305(tag_length) => {
                    let (ciphertext, tag) =
                        aead::chacha20_poly1305_encrypt(key, &iv, aad, data, tag_length)?;
                    (ciphertext, Some(tag))
                }
            };
            out.push(Item::new(Tag::DATA, Value::ByteString(ciphertext.into())));
            if let Some(tag) = tag {
                out.push(Item::new(
                    Tag::AUTHENTICATED_ENCRYPTION_TAG,
                    Value::ByteString(tag.into()),
                ));
            }
        }
        if generated {
            out.insert(
                2,
                Item::new(Tag::IV_COUNTER_NONCE, Value::ByteString(iv.into())),
            );
        }
        Ok(out)
    }

    /// Starts an AES-GCM stream with its first piece: the ciphertext of the
    /// piece (returned first) and the Correlation Value that continues it.
    fn start_stream(
        &self,
        meta: &ObjectMeta,
        key: &SecretBytes,
        iv: &[u8],
        aad: &[u8],
        tag_length: usize,
        data: &[u8],
    ) -> Result<Vec<Item>, KmipError> {
        if !aead::TAG_LENGTHS.contains(&tag_length) {
            // Refused with the same reason as in one call.
            aead::gcm_encrypt(key.expose_secret(), iv, aad, &[], tag_length)?;
        }
        let mut gcm = GcmStream::new(key.expose_secret(), iv, aad, false)?;
        let ciphertext = gcm.update(data).to_vec();
        let mut correlation = [0_u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut correlation);
        self.session.streams.keep(Stream {
            correlation,
            object: meta.id.clone(),
            version: meta.version,
            tag_length,
            gcm,
        })?;
        Ok(vec![
            Item::new(Tag::DATA, Value::ByteString(ciphertext.into())),
            Item::new(
                Tag::CORRELATION_VALUE,
                Value::ByteString(correlation.to_vec().into()),
            ),
        ])
    }

    /// The next piece of a stream: its ciphertext, and the Correlation Value
    /// again, or the tag when the Final Indicator ends it. The key must still
    /// be the session's to use, Active, and of the stream's version.
    fn continue_stream(&self, meta: &ObjectMeta, correlation: &[u8], data: &[u8]) -> Outcome {
        let unknown = || {
            KmipError::invalid(
                "the Correlation Value names no stream open on this connection; start one with the Init Indicator",
            )
        };
        let mut stream = self.session.streams.take(correlation).ok_or_else(unknown)?;
        if stream.object != meta.id
            || stream.version != meta.version
            || meta.state != keystore::object::State::Active
        {
            return Err(KmipError::new(
                ResultReason::WrongKeyLifecycleState,
                format!(
                    "object {} changed since the stream started (it must stay Active, same version); the stream is closed",
                    meta.id
                ),
            ));
        }
        self.count_use(meta, data.len())?;
        let ciphertext = stream.gcm.update(data).to_vec();
        let mut out = vec![
            uid(&meta.id),
            Item::new(Tag::DATA, Value::ByteString(ciphertext.into())),
        ];
        if self.boolean_field(Tag::FINAL_INDICATOR)? {
            let tag_length = stream.tag_length;
            let tag: Vec<u8> = stream.gcm.finish().into_iter().take(tag_length).collect();
            out.push(Item::new(
                Tag::AUTHENTICATED_ENCRYPTION_TAG,
                Value::ByteString(tag.into()),
            ));
        } else {
            out.push(Item::new(
                Tag::CORRELATION_VALUE,
                Value::ByteString(stream.correlation.to_vec().into()),
            ));
            self.session.streams.keep(stream)?;
        }
        Ok(out)
    }

    /// Decrypt with a symmetric key, in one call. A mode that needs an IV
    /// and gets none is Invalid Message, as the OASIS test cases answer.
    pub(super) fn symmetric_decrypt(&self, found: Found) -> Outcome {
        if self.payload.child(Tag::INIT_INDICATOR).is_some()
            || self.payload.child(Tag::CORRELATION_VALUE).is_some()
        {
            return Err(KmipError::new(
                ResultReason::FeatureNotSupported,
                "streamed Decrypt is not supported: it would give out plaintext before the tag is checked; decrypt in one call",
            ));
        }
        let data = self
            .bytes_field(Tag::DATA)?
            .ok_or_else(|| KmipError::missing("Data"))?;
        let family = key_family(&found.meta);
        let scheme = scheme(
            family,
            self.payload.child(Tag::CRYPTOGRAPHIC_PARAMETERS),
            &found.meta,
        )?;
        let needs_iv = scheme.iv_length() > 0;
        self.count_use(&found.meta, data.len())?;
        let (meta, key) = self.usable_key(found, ObjectType::SymmetricKey, false, family)?;
        let iv = match self.bytes_field(Tag::IV_COUNTER_NONCE)? {
            Some(iv) => iv,
            None if needs_iv => {
                return Err(KmipError::new(
                    ResultReason::InvalidMessage,
                    "this mode needs the IV/Counter/Nonce the encryption used; send it",
                ));
            }
            None => &[],
        };
        let aad = self
            .bytes_field(Tag::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA)?
            .unwrap_or_default();
        let tag = || {
            self.bytes_field(Tag::AUTHENTICATED_ENCRYPTION_TAG)?
                .ok_or_else(|| KmipError::missing("Authenticated Encryption Tag"))
        };
        let key = key.expose_secret();
        let plaintext: Zeroizing<Vec<u8>> = match scheme {
            Scheme::AesGcm(_) => {
                let tag = tag()?;
                if iv.len() == crypto::GCM_IV_LEN && tag.len() == crypto::GCM_TAG_LEN {
                    crypto::gcm_decrypt(key, iv, aad, data, tag)?
                } else {
                    aead::gcm_decrypt(key, iv, aad, data, tag)?
                }
            }
            Scheme::Aes(block) => crypto::aes_decrypt(key, block, iv, data)?,
            Scheme::ChaCha20 => aead::chacha20(key, iv, 0, data)?,
            Scheme::ChaCha20Poly1305(_) => {
                aead::chacha20_poly1305_decrypt(key, iv, aad, data, tag()?)?
            }
        };
        Ok(vec![
            uid(&meta.id),
            Item::new(Tag::DATA, Value::ByteString(plaintext.into())),
        ])
    }
}
