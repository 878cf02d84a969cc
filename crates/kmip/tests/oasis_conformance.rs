//! The OASIS KMIP conformance test cases, run against the server: every
//! mandatory case of the Baseline Server, Symmetric Key Lifecycle Server,
//! Asymmetric Key Lifecycle Server and Basic Cryptographic Server profiles
//! that OASIS publishes with KMIP Profiles 1.4 and 2.1 (`data/oasis/`, see
//! `data/oasis/README.md`). Each request of a case is sent to the server as
//! binary TTLV and its answer compared with the published one.
//!
//! What may differ from the published answer (everything else must be equal,
//! item for item and in order):
//!
//! * the values the documents mark as variable: `$UNIQUE_IDENTIFIER_n`
//!   (bound at its first answer, then sent and compared as that identifier),
//!   `$NOW`, `$NOW-3600`, ... (any Date-Time in an answer; the test's clock,
//!   offset, in a request), and `$DATA_n`, `$IV_COUNTER_NONCE`,
//!   `$AUTHENTICATED_ENCRYPTION_TAG`, `$CORRELATION_VALUE` (random output:
//!   bound at its first answer, then sent and compared);
//! * random output the documents print as recorded: what depends on a key
//!   the server generated in the case (Create, Create Key Pair) or on an IV
//!   it generated (an Encrypt request without one), which no other server
//!   can reproduce: the key's Digest Value, and the Data, IV and
//!   Authenticated Encryption Tag of those Encrypt and Decrypt answers,
//!   compared by length. A recorded value a later request sends back
//!   (ciphertext to decrypt) is replaced by what the server answered in its
//!   place, and the answer to that request is compared exactly (the
//!   plaintext must come back). A placeholder a request uses that no answer
//!   marked stands for the same field of the last answer that had one: the
//!   1.4 case CS-BC-M-13-14 prints its generated IV and ciphertext as
//!   recorded and sends them back as `$IV_COUNTER_NONCE` and `$DATA_0`,
//!   which its 2.1 version marks;
//! * what describes the server that recorded the cases rather than the
//!   protocol: the text of a Result Message (it must be there), a Server
//!   Correlation Value in the response header (the server need not send
//!   one), and the value of the Random Number Generator attribute (the
//!   recording server's generator; ours is the operating system's).
//!
//! The test prints the table of profiles, cases and passing cases, requires
//! every case to pass, and requires the table in `docs/kmip.md` to be the
//! one printed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use keystore::Keystore;
use kmip::Session;
use ttlv::{Item, Tag, Value};

use support::{keystore, session};

/// The profiles whose mandatory cases run, by the prefix of their case
/// names (KMIP Profiles 1.4 and 2.1 name the cases after the profile).
const PROFILES: &[(&str, &str)] = &[
    ("BL-M-", "Baseline Server"),
    ("SKLC-M-", "Symmetric Key Lifecycle Server"),
    ("AKLC-M-", "Asymmetric Key Lifecycle Server"),
    ("CS-BC-M-", "Basic Cryptographic Server"),
];

/// Where the cases are.
fn data_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/oasis")
}

/// The KMIP version a case is of: its name ends in `-14` or `-21`.
fn case_version(name: &str) -> &'static str {
    if name.ends_with("-14") { "1.4" } else { "2.1" }
}

/// The request and response messages of a case, in order, comments removed.
fn messages(text: &str) -> Vec<(String, String)> {
    let mut uncommented = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        uncommented.push_str(&rest[..start]);
        let end = rest[start..].find("-->").unwrap() + start + 3;
        rest = &rest[end..];
    }
    uncommented.push_str(rest);
    let element = |rest: &str, name: &str| -> Option<(usize, usize)> {
        let start = rest.find(&format!("<{name}>"))?;
        let close = format!("</{name}>");
        let end = rest[start..].find(&close).unwrap() + start + close.len();
        Some((start, end))
    };
    let mut pairs = Vec::new();
    let mut rest = uncommented.as_str();
    while let Some((start, end)) = element(rest, "RequestMessage") {
        let request = rest[start..end].to_owned();
        rest = &rest[end..];
        let (start, end) = element(rest, "ResponseMessage").expect("a response after a request");
        pairs.push((request, rest[start..end].to_owned()));
        rest = &rest[end..];
    }
    pairs
}

/// A Date-Time as the XML profile writes it.
fn date_text(seconds: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(seconds).unwrap();
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
        .replace('Z', "+00:00")
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The seconds a `$NOW`, `$NOW-3600`, `$NOW+3600` placeholder stands for.
fn now_offset(placeholder: &str) -> Option<i64> {
    let rest = placeholder.strip_prefix("$NOW")?;
    if rest.is_empty() {
        return Some(0);
    }
    rest.parse::<i64>().ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The values bound to the placeholders of one case.
#[derive(Default)]
struct Bindings {
    /// `$UNIQUE_IDENTIFIER_n` and the other text placeholders.
    texts: HashMap<String, String>,
    /// `$DATA_n`, `$IV_COUNTER_NONCE`, ...
    bytes: HashMap<String, Vec<u8>>,
    /// Identifiers of the objects the server generated (Create, Create Key
    /// Pair) in this case: what depends on their material is random output.
    generated: HashSet<String>,
    /// Random output as the document recorded it, and as the server
    /// answered it.
    recorded: Vec<(Vec<u8>, Vec<u8>)>,
    /// The byte strings of the last answer that had each field.
    last: HashMap<Tag, Vec<u8>>,
}

/// The byte strings of `item` that are random output the document recorded,
/// replaced by what the server answered in their place; whether any was.
fn feed_back(item: &mut Item, recorded: &[(Vec<u8>, Vec<u8>)]) -> bool {
    match &mut item.value {
        Value::ByteString(bytes) => match recorded
            .iter()
            .find(|(document, _)| document.as_slice() == bytes.as_slice())
        {
            Some((_, answered)) => {
                *bytes = answered.clone().into();
                true
            }
            None => false,
        },
        Value::Structure(children) => {
            // Every child is visited: more than one may be fed back.
            let mut fed = false;
            for child in children.iter_mut() {
                fed |= feed_back(child, recorded);
            }
            fed
        }
        _ => false,
    }
}

/// Each `value="$..."` of `text` (its byte range and placeholder), in order.
fn placeholders(text: &str) -> Vec<(usize, usize, String)> {
    let marker = "value=\"$";
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(marker) {
        let start = from + at + "value=\"".len();
        let end = start + text[start..].find('"').unwrap();
        found.push((start, end, text[start..end].to_owned()));
        from = end;
    }
    found
}

/// The type attribute of the element around byte `at` of `text`.
fn element_type(text: &str, at: usize) -> String {
    let open = text[..at].rfind('<').unwrap();
    let element = &text[open..at];
    let start = element.find("type=\"").map(|i| i + 6).unwrap();
    element[start..].split('"').next().unwrap().to_owned()
}

/// The tag of the element around byte `at` of `text`.
fn element_tag(text: &str, at: usize) -> Option<Tag> {
    let open = text[..at].rfind('<')?;
    let name = text[open + 1..at].split_whitespace().next()?;
    Tag::from_name(name)
}

/// The request of a step with its placeholders filled in.
fn fill_request(text: &str, bindings: &Bindings) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, end, placeholder) in placeholders(text) {
        out.push_str(&text[copied..start]);
        let value = if let Some(offset) = now_offset(&placeholder) {
            date_text(now() + offset)
        } else if let Some(bytes) = bindings.bytes.get(&placeholder) {
            hex(bytes)
        } else if let Some(text) = bindings.texts.get(&placeholder) {
            text.clone()
        } else if let Some(bytes) = element_tag(text, start).and_then(|tag| bindings.last.get(&tag))
        {
            hex(bytes)
        } else {
            return Err(format!(
                "the request uses {placeholder}, which no answer gave"
            ));
        };
        out.push_str(&value);
        copied = end;
    }
    out.push_str(&text[copied..]);
    Ok(out)
}

/// The expected response of a step, readable as XML TTLV: each placeholder
/// is replaced by a value of its item's type, and listed by the item's
/// position in document order (the order of the decoded tree's pre-order
/// walk).
fn expected_response(text: &str) -> (String, BTreeMap<usize, String>) {
    let mut out = String::with_capacity(text.len());
    let mut marked = BTreeMap::new();
    let mut copied = 0;
    for (start, end, placeholder) in placeholders(text) {
        out.push_str(&text[copied..start]);
        // Elements opened before this one, this one included, less one.
        let position = text[..start]
            .match_indices('<')
            .filter(|(at, _)| {
                text[at + 1..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
            })
            .count()
            - 1;
        marked.insert(position, placeholder.clone());
        out.push_str(match element_type(text, start).as_str() {
            "DateTime" => "1970-01-01T00:00:00+00:00",
            "ByteString" => "00",
            _ => &placeholder,
        });
        copied = end;
    }
    out.push_str(&text[copied..]);
    (out, marked)
}

/// Compares one step's answer with the expected one.
struct Comparison<'a> {
    marked: &'a BTreeMap<usize, String>,
    bindings: &'a mut Bindings,
    /// Position of the expected item being compared, in document order.
    position: usize,
    /// The object the batch item's payload is about (for digests).
    object: Option<String>,
    /// Whether random output may differ in this step: the request sent no
    /// value the server answered before.
    random_output: bool,
    /// Whether the server generated the IV of this step's encryption.
    generated_iv: bool,
}

impl Comparison<'_> {
    /// Compares `expected` with `actual` and, below them, their children;
    /// `path` names where, for the failure message.
    fn compare(&mut self, expected: &Item, actual: &Item, path: &str) -> Result<(), String> {
        let here = self.position;
        self.position += 1;
        let path = format!("{path}/{}", expected.tag);
        if expected.tag != actual.tag {
            return Err(format!("{path}: expected {expected:?}, got {actual:?}"));
        }
        if let Some(placeholder) = self.marked.get(&here) {
            return self.bind(placeholder, &expected.value, &actual.value, &path);
        }
        match (&expected.value, &actual.value) {
            (Value::Structure(expected_children), Value::Structure(actual_children)) => {
                self.compare_children(expected.tag, expected_children, actual_children, &path)
            }
            (Value::TextString(_), Value::TextString(_)) if expected.tag == Tag::RESULT_MESSAGE => {
                Ok(())
            }
            (Value::ByteString(expected_bytes), Value::ByteString(actual_bytes))
                if self.random_output
                    && [
                        Tag::DIGEST_VALUE,
                        Tag::DATA,
                        Tag::IV_COUNTER_NONCE,
                        Tag::AUTHENTICATED_ENCRYPTION_TAG,
                    ]
                    .contains(&expected.tag)
                    && (self.generated_iv
                        || self
                            .object
                            .as_ref()
                            .is_some_and(|id| self.bindings.generated.contains(id))) =>
            {
                if expected_bytes.len() != actual_bytes.len() {
                    return Err(format!(
                        "{path}: random output of {} bytes, got {actual_bytes:?}",
                        expected_bytes.len()
                    ));
                }
                self.bindings
                    .recorded
                    .push((expected_bytes.to_vec(), actual_bytes.to_vec()));
                Ok(())
            }
            (expected_value, actual_value) if expected_value == actual_value => Ok(()),
            _ => Err(format!("{path}: expected {expected:?}, got {actual:?}")),
        }
    }

    fn compare_children(
        &mut self,
        tag: Tag,
        expected: &[Item],
        actual: &[Item],
        path: &str,
    ) -> Result<(), String> {
        let mut actual = actual.iter().peekable();
        for item in expected {
            // Server-specific: compared for presence only where the server
            // must send them, skipped where it may not.
            if item.tag == Tag::SERVER_CORRELATION_VALUE && tag == Tag::RESPONSE_HEADER {
                self.position += count(item);
                if actual.peek().is_some_and(|next| next.tag == item.tag) {
                    actual.next();
                }
                continue;
            }
            if item.tag == Tag::UNIQUE_IDENTIFIER && tag == Tag::RESPONSE_PAYLOAD {
                self.object = actual.peek().and_then(|next| match &next.value {
                    Value::TextString(id) => Some(id.clone()),
                    _ => None,
                });
            }
            let Some(next) = actual.next() else {
                return Err(format!("{path}: {} missing from the answer", item.tag));
            };
            // The generator's description, in the 2.x and the 1.x shapes.
            let generator = item.tag == Tag::RANDOM_NUMBER_GENERATOR
                || (item.tag == Tag::ATTRIBUTE_VALUE
                    && tag == Tag::ATTRIBUTE
                    && expected.iter().any(|sibling| {
                        sibling.tag == Tag::ATTRIBUTE_NAME
                            && sibling.value == Value::TextString("Random Number Generator".into())
                    }));
            if generator && next.tag == item.tag {
                self.position += count(item);
                continue;
            }
            self.compare(item, next, path)?;
        }
        match actual.next() {
            None => Ok(()),
            Some(extra) => Err(format!("{path}: the answer has more: {extra:?}")),
        }
    }

    /// A placeholder in the expected answer: bound to what the server
    /// answered the first time, compared after.
    fn bind(
        &mut self,
        placeholder: &str,
        expected: &Value,
        actual: &Value,
        path: &str,
    ) -> Result<(), String> {
        match actual {
            Value::DateTime(_) if now_offset(placeholder).is_some() => Ok(()),
            Value::TextString(text) if matches!(expected, Value::TextString(_)) => {
                match self.bindings.texts.get(placeholder) {
                    Some(bound) if bound != text => Err(format!(
                        "{path}: {placeholder} is {bound}, the answer says {text}"
                    )),
                    Some(_) => Ok(()),
                    None => {
                        self.bindings
                            .texts
                            .insert(placeholder.to_owned(), text.clone());
                        Ok(())
                    }
                }
            }
            Value::ByteString(bytes) if matches!(expected, Value::ByteString(_)) => {
                match self.bindings.bytes.get(placeholder) {
                    Some(bound) if bound.as_slice() != bytes.as_slice() => Err(format!(
                        "{path}: {placeholder} is {bound:02x?}, the answer says {bytes:?}"
                    )),
                    Some(_) => Ok(()),
                    None => {
                        self.bindings
                            .bytes
                            .insert(placeholder.to_owned(), bytes.to_vec());
                        Ok(())
                    }
                }
            }
            _ => Err(format!(
                "{path}: expected {placeholder} ({expected:?}), got {actual:?}"
            )),
        }
    }
}

/// Whether the server generated the IV of an Encrypt: the request sent
/// none and the answer has one.
fn generated_iv(request: &Item, answer: &Item) -> bool {
    let payloads = |message: &Item, tag: Tag| -> Vec<Item> {
        message
            .children()
            .iter()
            .filter_map(|item| item.child(tag).cloned())
            .collect()
    };
    let sent = payloads(request, Tag::REQUEST_PAYLOAD)
        .iter()
        .any(|payload| payload.child(Tag::IV_COUNTER_NONCE).is_some());
    let answered = payloads(answer, Tag::RESPONSE_PAYLOAD)
        .iter()
        .any(|payload| payload.child(Tag::IV_COUNTER_NONCE).is_some());
    !sent && answered
}

/// How many items `item` is, itself and everything below it.
fn count(item: &Item) -> usize {
    1 + item.children().iter().map(count).sum::<usize>()
}

/// Runs one case on a fresh key store; the first difference, if any.
fn run_case(keystore: &Keystore, session: &Session, text: &str) -> Result<(), String> {
    let mut bindings = Bindings::default();
    for (step, (request_text, response_text)) in messages(text).into_iter().enumerate() {
        let filled =
            fill_request(&request_text, &bindings).map_err(|e| format!("step {step}: {e}"))?;
        let mut request = ttlv::decode_xml(&filled)
            .map_err(|error| format!("step {step}: the request does not read: {error}"))?;
        let fed_back = feed_back(&mut request, &bindings.recorded);
        let answer = kmip::handle_bytes(keystore, session, &ttlv::encode(&request));
        let actual = ttlv::decode(&answer).unwrap();
        let (expected_text, marked) = expected_response(&response_text);
        let expected = ttlv::decode_xml(&expected_text)
            .map_err(|error| format!("step {step}: the expected answer does not read: {error}"))?;
        let mut comparison = Comparison {
            marked: &marked,
            bindings: &mut bindings,
            position: 0,
            object: None,
            random_output: !fed_back,
            generated_iv: generated_iv(&request, &actual),
        };
        comparison
            .compare(&expected, &actual, "")
            .map_err(|difference| {
                format!(
                    "step {step}: {difference}\nrequest:\n{}\nanswer:\n{}",
                    ttlv::encode_xml(&request),
                    ttlv::encode_xml(&actual)
                )
            })?;
        // The fields of this answer, for placeholders no answer marks.
        for payload in actual
            .children()
            .iter()
            .filter_map(|item| item.child(Tag::RESPONSE_PAYLOAD))
        {
            for field in payload.children() {
                if let Value::ByteString(bytes) = &field.value {
                    bindings.last.insert(field.tag, bytes.to_vec());
                }
            }
        }
        // Objects the server generated: Create and Create Key Pair answers.
        for item in actual
            .children()
            .iter()
            .filter(|i| i.tag == Tag::BATCH_ITEM)
        {
            let operation = item.child_enumeration(Tag::OPERATION);
            if matches!(
                operation,
                Some(kmip::operation::CREATE | kmip::operation::CREATE_KEY_PAIR)
            ) {
                if let Some(payload) = item.child(Tag::RESPONSE_PAYLOAD) {
                    for item in payload.children() {
                        if let Value::TextString(id) = &item.value {
                            bindings.generated.insert(id.clone());
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// The table of results, as docs/kmip.md holds it.
fn table(results: &BTreeMap<(usize, &'static str), (usize, usize)>) -> String {
    let mut out =
        String::from("| profile | KMIP | mandatory cases | passing |\n|---|---|---|---|\n");
    for ((profile, version), (cases, passing)) in results {
        let (_, name) = PROFILES[*profile];
        out.push_str(&format!("| {name} | {version} | {cases} | {passing} |\n"));
    }
    out
}

#[test]
fn every_mandatory_oasis_case_of_the_four_server_profiles_passes() {
    let mut names: Vec<String> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.strip_suffix(".xml").map(str::to_owned))
        .collect();
    names.sort();
    // By profile, in the order of PROFILES, then by KMIP version.
    let mut results: BTreeMap<(usize, &'static str), (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for name in &names {
        let profile = PROFILES
            .iter()
            .position(|(prefix, _)| name.starts_with(prefix))
            .unwrap_or_else(|| panic!("{name} is of none of the four profiles"));
        let text = std::fs::read_to_string(data_dir().join(format!("{name}.xml"))).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let keystore = keystore(dir.path());
        // A test session: it answers the cases' Interop Begin and End.
        let mut tester = session("conformance");
        tester.interop_tests = true;
        let outcome = run_case(&keystore, &tester, &text);
        let entry = results.entry((profile, case_version(name))).or_default();
        entry.0 += 1;
        match outcome {
            Ok(()) => entry.1 += 1,
            Err(difference) => failures.push(format!("{name}: {difference}")),
        }
    }
    let printed = table(&results);
    println!("{printed}");
    for failure in &failures {
        println!("FAILED {failure}\n");
    }
    let failed: Vec<&str> = failures
        .iter()
        .map(|f| f.split(':').next().unwrap())
        .collect();
    assert!(
        failures.is_empty(),
        "{} cases fail: {failed:?}",
        failures.len()
    );
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/kmip.md"))
            .unwrap();
    assert!(
        docs.contains(&printed),
        "docs/kmip.md does not hold the table printed above"
    );
}
