//! Golden tests over whole OASIS KMIP XML test cases (KMIP Profiles 1.3, 1.4,
//! 2.0 and 2.1): every message goes XML → tree → binary → tree → XML and must
//! come back as the published text. Sources: `data/oasis/*.xml`, each with the
//! OASIS header naming where it was published; see `data/README.md`.
// Test code: a panic is a test failure, which is what we want.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use ttlv::{Item, Tag, Value};

/// Stands in for the test cases' `$NOW`, `$NOW-3600`, ... placeholders (the
/// "variable items" of KMIP Profiles section 8.4.1, which a harness fills in
/// with the server's clock): 2020-01-01T00:00:00Z.
const NOW: &str = "2020-01-01T00:00:00+00:00";

/// The test case with every Date-Time placeholder replaced by [`NOW`].
fn fill_placeholders(text: &str) -> String {
    let marker = "type=\"DateTime\" value=\"$NOW";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find(marker) {
        out.push_str(&rest[..index]);
        out.push_str(&format!("type=\"DateTime\" value=\"{NOW}"));
        let after = &rest[index + marker.len()..];
        rest = &after[after.find('"').unwrap()..];
    }
    out.push_str(rest);
    out
}

/// The top-level request and response messages of a test case, in order.
fn messages(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    loop {
        let next = ["<RequestMessage>", "<ResponseMessage>"]
            .iter()
            .filter_map(|open| rest.find(open).map(|at| (at, *open)))
            .min();
        let Some((start, open)) = next else {
            return found;
        };
        let close = open.replace('<', "</");
        let end = start + rest[start..].find(&close).unwrap() + close.len();
        found.push(&rest[start..end]);
        rest = &rest[end..];
    }
}

/// Lines of XML without indentation or blank lines, with hex in lower case,
/// mask flags sorted and `<X>` `</X>` written `<X/>`: the spellings in which
/// the test cases and our encoder may differ without differing in meaning.
fn normalize(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
        let line = if line.contains("type=\"ByteString\"") || line.contains("type=\"BigInteger\"") {
            line.to_lowercase()
        } else if let Some((head, rest)) = line
            .split_once("type=\"Integer\" value=\"")
            .filter(|(_, rest)| rest.split('"').next().unwrap().contains(' '))
        {
            let (flags, tail) = rest.split_once('"').unwrap();
            let mut flags: Vec<&str> = flags.split(' ').collect();
            flags.sort_unstable();
            format!("{head}type=\"Integer\" value=\"{}\"{tail}", flags.join(" "))
        } else {
            line.to_owned()
        };
        if let (Some(open), Some(name)) = (lines.last(), line.strip_prefix("</")) {
            if open == &format!("<{name}") {
                let name = name.trim_end_matches('>').to_owned();
                lines.pop();
                lines.push(format!("<{name}/>"));
                continue;
            }
        }
        lines.push(line);
    }
    lines
}

/// Checks every message of one test case and returns their trees.
fn check_test_case(name: &str) -> Vec<Item> {
    let path = format!("{}/tests/data/oasis/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = fill_placeholders(&std::fs::read_to_string(&path).unwrap());
    let found = messages(&text);
    assert!(!found.is_empty(), "{name} holds no messages");
    found
        .iter()
        .enumerate()
        .map(|(index, message)| {
            let item = ttlv::decode_xml(message)
                .unwrap_or_else(|error| panic!("{name} message {index}: {error}"));
            let binary = ttlv::encode(&item);
            let from_binary = ttlv::decode(&binary).unwrap();
            assert_eq!(from_binary, item, "{name} message {index} via binary");
            assert_eq!(
                normalize(&ttlv::encode_xml(&from_binary)),
                normalize(message),
                "{name} message {index}: XML → binary → XML"
            );
            assert_eq!(
                ttlv::decode_json(&ttlv::encode_json(&item)).unwrap(),
                item,
                "{name} message {index} via JSON"
            );
            item
        })
        .collect()
}

#[test]
fn every_oasis_test_case_round_trips() {
    let directory = format!("{}/tests/data/oasis", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".xml"))
        .collect();
    names.sort();
    assert!(names.len() >= 15, "only {} test cases", names.len());
    let messages: usize = names.iter().map(|name| check_test_case(name).len()).sum();
    assert!(messages >= 50, "only {messages} messages");
}

#[test]
fn reads_kmip_2_1_query_and_attributes() {
    let items = check_test_case("QS-M-2-21.xml");
    let request = &items[0];
    let version = request
        .child(Tag::REQUEST_HEADER)
        .and_then(|header| header.child(Tag::PROTOCOL_VERSION))
        .unwrap();
    assert_eq!(version.child_i32(Tag::PROTOCOL_VERSION_MAJOR), Some(2));
    assert_eq!(version.child_i32(Tag::PROTOCOL_VERSION_MINOR), Some(1));
    // The response's time stamp was the $NOW placeholder.
    let response = &items[1];
    let header = response.child(Tag::RESPONSE_HEADER).unwrap();
    assert_eq!(
        header.child(Tag::TIME_STAMP).unwrap().value,
        Value::DateTime(1_577_836_800)
    );
}

#[test]
fn normalizes_only_spelling() {
    assert_eq!(
        normalize("<A>\n  </A>\n<B type=\"Integer\" value=\"Encrypt Decrypt\"/>"),
        ["<A/>", "<B type=\"Integer\" value=\"Decrypt Encrypt\"/>"]
    );
    assert_ne!(
        normalize("<B type=\"Integer\" value=\"Encrypt\"/>"),
        normalize("<B type=\"Integer\" value=\"Decrypt\"/>")
    );
}
