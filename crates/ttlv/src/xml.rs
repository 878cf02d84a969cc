//! XML TTLV, as the KMIP profiles define it (KMIP Profiles 2.1, "XML Encoding").
//!
//! Each item is an element named after its tag, `<TagName type="Integer"
//! value="8"/>`; a Structure is an element without `type` whose children are its
//! items. A tag without a name is written `<TTLV tag="0x540001" .../>`. Values are
//! spelled as in the JSON profile, except that mask flags are separated by spaces
//! and big integers and byte strings are bare hex.
//!
//! The parser reads exactly the XML subset the profile uses: elements, attributes
//! in single or double quotes, self-closing tags, the five predefined entities and
//! numeric character references, comments, whitespace between elements and an
//! optional `<?xml ...?>` declaration. Anything else (text content, DOCTYPE,
//! CDATA, processing instructions) is rejected with its byte offset.

use crate::json::tag_from_text;
use crate::text::{
    Budget, Tables, check_encoded_size, enumeration_from_text, enumeration_to_text,
    format_date_time, format_date_time_extended, hex_decode, hex_encode, mask_from_text,
    mask_to_text, parse_date_time, parse_date_time_extended, parse_hex_u64, parse_i32, parse_i64,
    parse_u32, tables_for,
};
use crate::{BigInteger, Error, Item, ItemType, Location, MAX_TEXT_SIZE, Tag, Value};

/// Element name used for tags that have no name.
const UNNAMED_ELEMENT: &str = "TTLV";

/// Encodes an item as XML text, indented two spaces a level.
#[must_use]
pub fn encode_xml(item: &Item) -> String {
    let mut out = String::new();
    write_item(&mut out, item, 0, None);
    out
}

fn write_item(out: &mut String, item: &Item, level: usize, attribute_name: Option<&str>) {
    let indent = "  ".repeat(level);
    out.push_str(&indent);
    out.push('<');
    let name = item.tag.name();
    match name {
        Some(name) => out.push_str(name),
        None => {
            out.push_str(UNNAMED_ELEMENT);
            out.push_str(&format!(" tag=\"0x{:06X}\"", item.tag.value()));
        }
    }
    let element = name.unwrap_or(UNNAMED_ELEMENT);
    let tables = tables_for(item.tag, attribute_name);
    let text = match &item.value {
        Value::Structure(children) => {
            if children.is_empty() {
                out.push_str("/>\n");
                return;
            }
            out.push_str(">\n");
            let mut attribute_name = None;
            for child in children {
                write_item(out, child, level.saturating_add(1), attribute_name);
                if let (Tag::ATTRIBUTE_NAME, Value::TextString(name)) = (child.tag, &child.value) {
                    attribute_name = Some(name.as_str());
                }
            }
            out.push_str(&indent);
            out.push_str("</");
            out.push_str(element);
            out.push_str(">\n");
            return;
        }
        Value::Integer(value) => tables
            .mask
            .and_then(|table| mask_to_text(table, *value, " "))
            .unwrap_or_else(|| value.to_string()),
        Value::LongInteger(value) => value.to_string(),
        Value::BigInteger(big) => hex_encode(big.as_bytes()),
        Value::Enumeration(value) => enumeration_to_text(tables, *value),
        Value::Boolean(value) => value.to_string(),
        Value::TextString(text) => text.clone(),
        Value::ByteString(bytes) => hex_encode(bytes),
        Value::DateTime(seconds) => format_date_time(*seconds),
        Value::Interval(seconds) => seconds.to_string(),
        Value::DateTimeExtended(micros) => format_date_time_extended(*micros),
    };
    out.push_str(" type=\"");
    out.push_str(item.value.item_type().name());
    out.push_str("\" value=\"");
    escape_into(out, &text);
    out.push_str("\"/>\n");
}

/// Writes text as an attribute value. Besides the markup characters, control
/// characters are written as character references: an XML reader would
/// otherwise turn tabs and newlines in attributes into spaces.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push_str(&format!("&#x{:X};", u32::from(c))),
            c => out.push(c),
        }
    }
}

/// Decodes XML text holding one item (the root element), with the same limits
/// as binary decoding.
pub fn decode_xml(text: &str) -> Result<Item, Error> {
    if text.len() > MAX_TEXT_SIZE {
        return Err(Error::MessageTooLarge {
            at: Location::Byte(0),
            length: u64::try_from(text.len()).unwrap_or(u64::MAX),
            limit: MAX_TEXT_SIZE,
        });
    }
    let mut parser = Parser { text, position: 0 };
    parser.skip_space();
    if parser.rest().starts_with("<?xml") {
        parser.skip_past("?>", "the end of the XML declaration \"?>\"")?;
    }
    parser.skip_misc()?;
    let mut budget = Budget::default();
    let item = parser.element(1, &mut budget, None)?;
    parser.skip_misc()?;
    if !parser.rest().is_empty() {
        return Err(parser.syntax("the end of input after the root element"));
    }
    check_encoded_size(&item, Location::Byte(0))?;
    Ok(item)
}

/// A cursor over the XML text.
struct Parser<'a> {
    text: &'a str,
    position: usize,
}

/// The attributes the profile puts on an element.
#[derive(Default)]
struct Attributes {
    tag: Option<(usize, String)>,
    item_type: Option<(usize, String)>,
    value: Option<(usize, String)>,
}

/// At most this many characters of unexpected input are quoted back in an error.
const SNIPPET_CHARS: usize = 24;

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        self.text.get(self.position..).unwrap_or_default()
    }

    fn here(&self) -> Location {
        Location::Byte(self.position)
    }

    /// An error saying what was expected here, quoting what is here.
    fn syntax(&self, expected: &'static str) -> Error {
        let rest = self.rest();
        let found = if rest.is_empty() {
            "the end of input".to_owned()
        } else {
            let quoted: String = rest.chars().take(SNIPPET_CHARS).collect();
            format!("{quoted:?}")
        };
        Error::XmlSyntax {
            at: self.here(),
            expected,
            found,
        }
    }

    fn advance(&mut self, bytes: usize) {
        self.position = self.position.saturating_add(bytes).min(self.text.len());
    }

    fn eat(&mut self, literal: &str) -> bool {
        let found = self.rest().starts_with(literal);
        if found {
            self.advance(literal.len());
        }
        found
    }

    fn expect(&mut self, literal: &str, expected: &'static str) -> Result<(), Error> {
        if self.eat(literal) {
            Ok(())
        } else {
            Err(self.syntax(expected))
        }
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        let trimmed = rest.trim_start_matches([' ', '\t', '\r', '\n']);
        self.advance(rest.len().saturating_sub(trimmed.len()));
    }

    /// Skips to just after the next `end`.
    fn skip_past(&mut self, end: &str, expected: &'static str) -> Result<(), Error> {
        match self.rest().find(end) {
            Some(index) => {
                self.advance(index.saturating_add(end.len()));
                Ok(())
            }
            None => Err(self.syntax(expected)),
        }
    }

    /// Skips whitespace and comments.
    fn skip_misc(&mut self) -> Result<(), Error> {
        loop {
            self.skip_space();
            if self.rest().starts_with("<!--") {
                self.skip_past("-->", "the end of the comment \"-->\"")?;
            } else {
                return Ok(());
            }
        }
    }

    /// Reads an element or attribute name: a letter or `_`, then letters,
    /// digits, `_`, `-` or `.`.
    fn name(&mut self) -> Result<&'a str, Error> {
        let rest = self.rest();
        let length = rest
            .char_indices()
            .find(|&(index, c)| {
                let allowed = if index == 0 {
                    c.is_ascii_alphabetic() || c == '_'
                } else {
                    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
                };
                !allowed
            })
            .map_or(rest.len(), |(index, _)| index);
        if length == 0 {
            return Err(self.syntax("a name"));
        }
        let name = rest.get(..length).unwrap_or_default();
        self.advance(length);
        Ok(name)
    }

    /// Reads a quoted attribute value and resolves its references.
    fn attribute_value(&mut self) -> Result<String, Error> {
        let quote = if self.eat("\"") {
            '"'
        } else if self.eat("'") {
            '\''
        } else {
            return Err(self.syntax("a quoted attribute value"));
        };
        let mut value = String::new();
        loop {
            let rest = self.rest();
            let Some(index) = rest.find([quote, '&', '<']) else {
                return Err(self.syntax("the closing quote of the attribute value"));
            };
            value.push_str(rest.get(..index).unwrap_or_default());
            self.advance(index);
            if self.eat(if quote == '"' { "\"" } else { "'" }) {
                return Ok(value);
            }
            if self.rest().starts_with('<') {
                return Err(self.syntax("no '<' inside an attribute value"));
            }
            value.push(self.reference()?);
        }
    }

    /// Reads an entity or character reference starting at `&`.
    fn reference(&mut self) -> Result<char, Error> {
        let rest = self.rest();
        let Some(end) = rest.find(';').filter(|&end| end <= 12) else {
            return Err(self.syntax("a reference such as &amp; ending in ';'"));
        };
        let body = rest.get(1..end).unwrap_or_default();
        let resolved = match body {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => body
                .strip_prefix("#x")
                .map(|hex| u32::from_str_radix(hex, 16))
                .or_else(|| body.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        let resolved =
            resolved.ok_or_else(|| self.syntax("&lt; &gt; &amp; &quot; &apos; or &#...;"))?;
        self.advance(end.saturating_add(1));
        Ok(resolved)
    }

    fn attributes(&mut self) -> Result<Attributes, Error> {
        let mut attributes = Attributes::default();
        loop {
            let before_space = self.position;
            self.skip_space();
            if self.rest().starts_with('>') || self.rest().starts_with("/>") {
                return Ok(attributes);
            }
            if self.position == before_space {
                return Err(self.syntax("whitespace, '>' or '/>'"));
            }
            let at = self.position;
            let name = self.name()?;
            self.skip_space();
            self.expect("=", "'=' after the attribute name")?;
            self.skip_space();
            let value = self.attribute_value()?;
            let slot = match name {
                "tag" => &mut attributes.tag,
                "type" => &mut attributes.item_type,
                "value" => &mut attributes.value,
                _ => {
                    return Err(Error::XmlSyntax {
                        at: Location::Byte(at),
                        expected: "only the attributes tag, type and value",
                        found: format!("attribute {name:?}"),
                    });
                }
            };
            if slot.is_some() {
                return Err(Error::XmlSyntax {
                    at: Location::Byte(at),
                    expected: "each attribute once",
                    found: format!("a second {name:?}"),
                });
            }
            *slot = Some((at, value));
        }
    }

    /// Reads the closing tag of `element`, after skipping whitespace and comments.
    fn closing_tag(&mut self, element: &str) -> Result<(), Error> {
        self.skip_misc()?;
        self.expect("</", "a closing tag")?;
        let at = self.position;
        let name = self.name()?;
        if name != element {
            return Err(Error::XmlSyntax {
                at: Location::Byte(at),
                expected: "the closing tag of the open element",
                found: format!("</{name}> closing <{element}>"),
            });
        }
        self.skip_space();
        self.expect(">", "'>'")
    }

    fn element(
        &mut self,
        depth: usize,
        budget: &mut Budget,
        attribute_name: Option<&str>,
    ) -> Result<Item, Error> {
        let start = self.position;
        budget.item(depth, || Location::Byte(start))?;
        if self.rest().starts_with("<!") || self.rest().starts_with("<?") {
            return Err(self.syntax(
                "an element (DOCTYPE, CDATA and processing instructions are not used by KMIP)",
            ));
        }
        self.expect("<", "an element")?;
        let element = self.name()?;
        let attributes = self.attributes()?;
        let self_closing = self.eat("/>");
        if !self_closing {
            self.expect(">", "'>'")?;
        }
        let tag = match attributes.tag {
            Some((at, text)) => tag_from_text(&text, || Location::Byte(at))?,
            None => Tag::from_name(element).ok_or_else(|| Error::UnknownTagName {
                at: Location::Byte(start.saturating_add(1)),
                name: element.to_owned(),
            })?,
        };
        let item_type = match &attributes.item_type {
            Some((at, name)) => ItemType::from_name(name).ok_or_else(|| Error::InvalidItem {
                at: Location::Byte(*at),
                expected: "a KMIP item type name such as \"Integer\"",
                found: format!("{name:?}"),
            })?,
            None => ItemType::Structure,
        };
        let tables = tables_for(tag, attribute_name);
        let value = if item_type == ItemType::Structure {
            if let Some((at, _)) = attributes.value {
                return Err(Error::InvalidItem {
                    at: Location::Byte(at),
                    expected: "no value attribute on a structure",
                    found: "a value attribute".to_owned(),
                });
            }
            let mut children = Vec::new();
            if !self_closing {
                let mut attribute_name: Option<String> = None;
                loop {
                    self.skip_misc()?;
                    if self.rest().starts_with("</") {
                        break;
                    }
                    if !self.rest().starts_with('<') {
                        return Err(self.syntax("a child element or a closing tag"));
                    }
                    let child =
                        self.element(depth.saturating_add(1), budget, attribute_name.as_deref())?;
                    if let (Tag::ATTRIBUTE_NAME, Value::TextString(name)) =
                        (child.tag, &child.value)
                    {
                        attribute_name = Some(name.clone());
                    }
                    children.push(child);
                }
                self.closing_tag(element)?;
            }
            Value::Structure(children)
        } else {
            let Some((at, text)) = attributes.value else {
                return Err(Error::InvalidItem {
                    at: Location::Byte(start),
                    expected: "a value attribute",
                    found: format!("<{element}> without one"),
                });
            };
            if !self_closing {
                self.closing_tag(element)?;
            }
            scalar_from_text(&text, item_type, tables).ok_or_else(|| Error::InvalidValue {
                at: Location::Byte(at),
                item_type,
                expected: expected(item_type),
                found: text.chars().take(SNIPPET_CHARS).collect(),
            })?
        };
        Ok(Item { tag, value })
    }
}

/// What the XML profile allows for a value of this type.
fn expected(item_type: ItemType) -> &'static str {
    match item_type {
        ItemType::Structure => "child elements",
        ItemType::Integer => "a 32-bit decimal number, 0x and 8 hex digits, or mask flag names",
        ItemType::LongInteger => "a 64-bit decimal number or 0x and 16 hex digits",
        ItemType::BigInteger => "hex digits, two a byte",
        ItemType::Enumeration => "an enumeration name or 0x and 8 hex digits",
        ItemType::Boolean => "true or false",
        ItemType::TextString => "text",
        ItemType::ByteString => "hex digits, two a byte",
        ItemType::DateTime => "an ISO 8601 date-time in whole seconds, or 0x and 16 hex digits",
        ItemType::Interval => "a number of seconds from 0 to 4294967295",
        ItemType::DateTimeExtended => {
            "an ISO 8601 date-time to the microsecond, or 0x and 16 hex digits"
        }
    }
}

/// Reads a non-structure value, or `None` if it is not valid for its type.
fn scalar_from_text(text: &str, item_type: ItemType, tables: Tables) -> Option<Value> {
    Some(match item_type {
        ItemType::Structure => return None,
        ItemType::Integer => Value::Integer(match parse_i32(text) {
            Some(value) => value,
            None => mask_from_text(tables.mask?, text, &[' ', '|'])?,
        }),
        ItemType::LongInteger => Value::LongInteger(parse_i64(text)?),
        ItemType::BigInteger => {
            let digits = text.strip_prefix("0x").unwrap_or(text);
            Value::BigInteger(BigInteger::from_signed_bytes(&hex_decode(digits)?))
        }
        ItemType::Enumeration => Value::Enumeration(enumeration_from_text(tables, text)?),
        // The profile writes true and false; the hex form the JSON profile
        // allows is accepted too.
        ItemType::Boolean => match text {
            "true" => Value::Boolean(true),
            "false" => Value::Boolean(false),
            _ => match parse_hex_u64(text, 16)? {
                0 => Value::Boolean(false),
                1 => Value::Boolean(true),
                _ => return None,
            },
        },
        ItemType::TextString => Value::TextString(text.to_owned()),
        ItemType::ByteString => Value::ByteString(hex_decode(text)?),
        ItemType::DateTime => Value::DateTime(parse_date_time(text)?),
        ItemType::Interval => Value::Interval(parse_u32(text)?),
        ItemType::DateTimeExtended => Value::DateTimeExtended(parse_date_time_extended(text)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(item: &Item, expected: &str) {
        assert_eq!(encode_xml(item), expected);
        assert_eq!(&decode_xml(expected).unwrap(), item);
    }

    #[test]
    fn encodes_elements_as_the_profile_says() {
        check(
            &Item::new(Tag::CRYPTOGRAPHIC_USAGE_MASK, Value::Integer(12)),
            "<CryptographicUsageMask type=\"Integer\" value=\"Encrypt Decrypt\"/>\n",
        );
        check(
            &Item::new(
                Tag::new(0x54_00AA).unwrap(),
                Value::TextString("a<b&\"c\"\n".into()),
            ),
            "<TTLV tag=\"0x5400AA\" type=\"TextString\" value=\"a&lt;b&amp;&quot;c&quot;&#xA;\"/>\n",
        );
        check(
            &Item::structure(
                Tag::PROTOCOL_VERSION,
                vec![Item::new(Tag::PROTOCOL_VERSION_MAJOR, Value::Integer(2))],
            ),
            "<ProtocolVersion>\n  <ProtocolVersionMajor type=\"Integer\" value=\"2\"/>\n</ProtocolVersion>\n",
        );
    }

    #[test]
    fn reads_comments_declarations_and_explicit_closing_tags() {
        let text = "<?xml version=\"1.0\"?>\n<!-- a comment -->\n<BatchCount type='Integer' value='1'></BatchCount>\n";
        assert_eq!(
            decode_xml(text).unwrap(),
            Item::new(Tag::BATCH_COUNT, Value::Integer(1))
        );
    }

    #[test]
    fn reads_booleans_as_words_or_hex() {
        for (text, value) in [
            ("true", true),
            ("false", false),
            ("0x0000000000000001", true),
            ("0x0", false),
        ] {
            let xml = format!("<Sensitive type=\"Boolean\" value=\"{text}\"/>");
            assert_eq!(decode_xml(&xml).unwrap().value, Value::Boolean(value));
        }
        let error = decode_xml("<Sensitive type=\"Boolean\" value=\"0x2\"/>").unwrap_err();
        assert!(matches!(error, Error::InvalidValue { .. }), "{error:?}");
        let error = decode_xml("<Sensitive type=\"Boolean\" value=\"True\"/>").unwrap_err();
        assert!(matches!(error, Error::InvalidValue { .. }), "{error:?}");
    }

    #[test]
    fn rejects_text_content() {
        let error = decode_xml("<ProtocolVersion>text</ProtocolVersion>").unwrap_err();
        assert!(
            matches!(
                error,
                Error::XmlSyntax {
                    at: Location::Byte(17),
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn rejects_mismatched_closing_tag() {
        let error = decode_xml("<ProtocolVersion></RequestHeader>").unwrap_err();
        assert!(matches!(error, Error::XmlSyntax { .. }), "{error:?}");
    }
}
