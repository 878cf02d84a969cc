//! Request and response messages: the header, batch items and result fields.

use std::cell::RefCell;
use std::sync::Arc;

use keystore::{Awaiting, Durable, Keystore};
use ttlv::{Item, Tag, Value};
use zeroize::Zeroizing;

use crate::error::{KmipError, ResultReason};
use crate::operations::{Session, dispatch};

/// A KMIP protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProtocolVersion {
    /// Major number (1 or 2).
    pub major: i32,
    /// Minor number.
    pub minor: i32,
}

impl ProtocolVersion {
    /// KMIP 1.4, answered when a message is too broken to tell its version.
    pub const V1_4: ProtocolVersion = ProtocolVersion { major: 1, minor: 4 };

    /// Whether attributes travel in the 2.x `Attributes` structure.
    #[must_use]
    pub fn uses_attributes_structure(self) -> bool {
        self.major >= 2
    }

    /// The version as a `ProtocolVersion` structure.
    #[must_use]
    pub fn to_item(self) -> Item {
        Item::structure(
            Tag::PROTOCOL_VERSION,
            vec![
                Item::new(Tag::PROTOCOL_VERSION_MAJOR, Value::Integer(self.major)),
                Item::new(Tag::PROTOCOL_VERSION_MINOR, Value::Integer(self.minor)),
            ],
        )
    }

    /// Reads a `ProtocolVersion` structure.
    #[must_use]
    pub fn from_item(item: &Item) -> Option<ProtocolVersion> {
        match (
            item.child(Tag::PROTOCOL_VERSION_MAJOR).map(|i| &i.value),
            item.child(Tag::PROTOCOL_VERSION_MINOR).map(|i| &i.value),
        ) {
            (Some(Value::Integer(major)), Some(Value::Integer(minor))) => Some(ProtocolVersion {
                major: *major,
                minor: *minor,
            }),
            _ => None,
        }
    }
}

/// The protocol versions served, newest first, as Discover Versions lists them.
pub const SUPPORTED_VERSIONS: &[ProtocolVersion] = &[
    ProtocolVersion { major: 2, minor: 1 },
    ProtocolVersion { major: 2, minor: 0 },
    ProtocolVersion { major: 1, minor: 4 },
    ProtocolVersion { major: 1, minor: 3 },
    ProtocolVersion { major: 1, minor: 2 },
    ProtocolVersion { major: 1, minor: 1 },
    ProtocolVersion { major: 1, minor: 0 },
];

/// Most batch items answered in one message; more are refused as Invalid Message.
pub const MAX_BATCH_ITEMS: usize = 1024;

/// An encoded response message, wiped when dropped: Get, Decrypt and Derive
/// Key answers carry key material and plaintext.
pub type Response = Zeroizing<Vec<u8>>;

/// `message` binary encoded, in a buffer wiped when dropped ([`ttlv::encode`]
/// sizes it once, so it is the only copy).
fn encode(message: &Item) -> Response {
    Zeroizing::new(ttlv::encode(message))
}

/// Handles one binary TTLV message (already framed) and returns the binary response.
///
/// Bytes that do not decode as TTLV get an Invalid Message response in KMIP 1.4.
pub fn handle_bytes(keystore: &Keystore, session: &Session, bytes: &[u8]) -> Response {
    match decode_request(bytes) {
        Ok(request) => encode(&handle_message(keystore, session, &request)),
        Err(answer) => answer,
    }
}

/// Handles one JSON TTLV message and returns the JSON response, in a buffer
/// wiped when dropped.
pub fn handle_json(keystore: &Keystore, session: &Session, text: &str) -> Zeroizing<String> {
    let response = match ttlv::decode_json(text) {
        Ok(request) => handle_message(keystore, session, &request),
        Err(error) => error_message(
            ProtocolVersion::V1_4,
            &KmipError::new(
                ResultReason::InvalidMessage,
                format!("the message is not valid JSON TTLV: {error}"),
            ),
        ),
    };
    Zeroizing::new(ttlv::encode_json(&response))
}

/// What the server does with the rest of a batch after an item fails: the
/// request header's Batch Error Continuation Option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Continuation {
    /// Go on with the next items (Continue).
    Continue,
    /// Process no further items and leave them out of the response (Stop,
    /// the default).
    Stop,
    /// Stop, and take back what the items before the failed one changed
    /// (Undo).
    Undo,
}

/// Whether a batch with Undo may hold `operation`: one whose effects are
/// confined to the metadata of the object it names (its state, dates and
/// attributes, which [`Keystore::undo_change`] puts back), or that changes
/// nothing. Operations that make objects or versions (Create, Register,
/// Derive Key, the Re-keys) or destroy material cannot be taken back.
fn undoable(operation: u32) -> bool {
    use crate::operation as op;
    !matches!(
        operation,
        op::CREATE
            | op::CREATE_KEY_PAIR
            | op::REGISTER
            | op::REKEY
            | op::REKEY_KEY_PAIR
            | op::DERIVE_KEY
            | op::DESTROY
    )
}

/// The request header's Batch Error Continuation Option. Undo is refused
/// (before any item runs) for a batch with an item that cannot be taken back
/// ([`undoable`]); with one item there is nothing to undo, so it is Stop.
fn continuation(header: &Item, items: &[&Item]) -> Result<Continuation, KmipError> {
    match header
        .child(Tag::BATCH_ERROR_CONTINUATION_OPTION)
        .map(|item| &item.value)
    {
        None | Some(Value::Enumeration(2)) => Ok(Continuation::Stop),
        Some(Value::Enumeration(1)) => Ok(Continuation::Continue),
        Some(Value::Enumeration(3)) if items.len() <= 1 => Ok(Continuation::Stop),
        Some(Value::Enumeration(3)) => {
            let blocking = items.iter().find_map(|item| {
                item.child_enumeration(Tag::OPERATION)
                    .filter(|operation| !undoable(*operation))
            });
            match blocking {
                None => Ok(Continuation::Undo),
                Some(operation) => Err(KmipError::new(
                    ResultReason::FeatureNotSupported,
                    format!(
                        "a batch with the Batch Error Continuation Option Undo cannot hold {}, which cannot be taken back; send Stop or Continue",
                        operation_name(operation)
                    ),
                )),
            }
        }
        Some(_) => Err(KmipError::new(
            ResultReason::InvalidMessage,
            "the Batch Error Continuation Option must be Continue, Stop or Undo",
        )),
    }
}

/// The object a batch item names (its Unique Identifier, or the ID
/// placeholder), as it is now, if the session may see it.
fn named_object(
    keystore: &Keystore,
    session: &Session,
    item: &Item,
    placeholder: Option<&str>,
) -> Option<keystore::object::ObjectMeta> {
    let id = item
        .child(Tag::REQUEST_PAYLOAD)
        .and_then(|payload| payload.child_text(Tag::UNIQUE_IDENTIFIER))
        .or(placeholder)?;
    keystore
        .find(&session.tenant, id)
        .ok()
        .filter(|meta| session.scope.allows(&meta.tenant))
}

/// Handles a decoded request message: every batch item in order (whatever
/// the Batch Order Option says, since in order is always allowed), each
/// answered on its own. A batch item without the Unique Identifier its
/// operation needs uses the ID placeholder: the identifier the last
/// successful item returned. After a failed item the Batch Error
/// Continuation Option decides: Continue goes on, Stop (the default) answers
/// none of the later items.
#[must_use]
pub fn handle_message(keystore: &Keystore, session: &Session, request: &Item) -> Item {
    handle_request(keystore, session, request, None)
}

/// How one framed binary message is answered; [`answer`] decides.
#[must_use = "an answer must be sent (Blocking work run first, Durable awaited)"]
pub enum Answer {
    /// The response, complete: the message did not decode.
    Ready(Response),
    /// The response of a message of quick reads (Get, Get Attributes, Get
    /// Attribute List, Encrypt, Discover Versions, Query; at most
    /// [`MAX_QUICK_BATCH_ITEMS`] items in at most [`MAX_QUICK_MESSAGE_BYTES`]),
    /// already run; it may be sent once their audit records are durable:
    /// await [`Durable::finish`] on an async worker, or [`Durable::wait`].
    Durable(Durable<Response>),
    /// A message that blocks (its changes wait for their commits, key pair
    /// generation, long messages): [`Work::run`] it where blocking is
    /// allowed, and send what it returns.
    Blocking(Work),
}

/// A message to run on a thread that may block ([`Answer::Blocking`]).
pub struct Work {
    keystore: Arc<Keystore>,
    session: Arc<Session>,
    message: Pending,
}

/// A message waiting for its thread: decoded already, or too long to decode
/// on an async worker.
enum Pending {
    Decoded(Item),
    Undecoded(Zeroizing<Vec<u8>>),
}

impl Work {
    /// Runs the message, waiting for each change to be durable, and returns
    /// the binary response.
    #[must_use]
    pub fn run(self) -> Response {
        match self.message {
            Pending::Decoded(request) => {
                encode(&handle_message(&self.keystore, &self.session, &request))
            }
            Pending::Undecoded(bytes) => handle_bytes(&self.keystore, &self.session, &bytes),
        }
    }
}

/// The one question a listener asks per framed binary message (`message`,
/// header included): how to answer it for `session`. A short message is
/// decoded here; one that does not decode is answered Invalid Message at
/// once; one of quick reads runs here, its answer released once its audit
/// records are durable (so an async listener waits for them without holding
/// a thread); anything else is [`Work`] for a thread.
pub fn answer(
    keystore: &Arc<Keystore>,
    session: &Arc<Session>,
    message: Zeroizing<Vec<u8>>,
) -> Answer {
    let work = |message| {
        Answer::Blocking(Work {
            keystore: Arc::clone(keystore),
            session: Arc::clone(session),
            message,
        })
    };
    // A long message cannot be a few quick reads: it is decoded on the thread.
    if message.len() > MAX_QUICK_MESSAGE_BYTES {
        return work(Pending::Undecoded(message));
    }
    let request = match decode_request(&message) {
        Ok(request) => request,
        Err(response) => return Answer::Ready(response),
    };
    if is_quick(&request) {
        Answer::Durable(answer_deferred(keystore, session, &request))
    } else {
        work(Pending::Decoded(request))
    }
}

/// Decodes one binary TTLV message (already framed); bytes that do not decode
/// get the Invalid Message response, encoded, as the error.
fn decode_request(bytes: &[u8]) -> Result<Item, Response> {
    ttlv::decode(bytes).map_err(|error| {
        encode(&error_message(
            ProtocolVersion::V1_4,
            &KmipError::new(
                ResultReason::InvalidMessage,
                format!("the message is not valid TTLV: {error}"),
            ),
        ))
    })
}

/// Most batch items a message may have and still run on an async worker.
pub const MAX_QUICK_BATCH_ITEMS: usize = 16;

/// Largest message decoded on an async worker; a longer one (which cannot be
/// a few quick reads anyway) is decoded on a thread.
pub const MAX_QUICK_MESSAGE_BYTES: usize = 64 * 1024;

/// Whether `request` has at most [`MAX_QUICK_BATCH_ITEMS`] batch items, each a
/// quick read ([`crate::operations::is_quick`]), so that [`answer_deferred`]
/// may run it on an async worker. Anything else (or anything malformed) goes
/// to a thread.
fn is_quick(request: &Item) -> bool {
    let mut items = request
        .children()
        .iter()
        .filter(|child| child.tag == Tag::BATCH_ITEM);
    let count = items.clone().take(MAX_QUICK_BATCH_ITEMS + 1).count();
    (1..=MAX_QUICK_BATCH_ITEMS).contains(&count)
        && items.all(|item| {
            item.child(Tag::OPERATION)
                .and_then(|operation| operation.value.as_enumeration())
                .is_some_and(crate::operations::is_quick)
        })
}

/// Answers a decoded request, binary encoded, without waiting for its audit
/// records: the answer is released once they are durable. Meant for
/// [`is_quick`] requests; others wait for their changes inside, as
/// [`handle_message`] does.
fn answer_deferred(keystore: &Keystore, session: &Session, request: &Item) -> Durable<Response> {
    let awaiting = RefCell::new(Awaiting::default());
    let response = handle_request(keystore, session, request, Some(&awaiting));
    awaiting.into_inner().release(encode(&response))
}

fn handle_request(
    keystore: &Keystore,
    session: &Session,
    request: &Item,
    awaiting: Option<&RefCell<Awaiting>>,
) -> Item {
    if request.tag != Tag::REQUEST_MESSAGE {
        return error_message(
            ProtocolVersion::V1_4,
            &KmipError::new(
                ResultReason::InvalidMessage,
                "the message is not a Request Message",
            ),
        );
    }
    let Some(header) = request.child(Tag::REQUEST_HEADER) else {
        return error_message(
            ProtocolVersion::V1_4,
            &KmipError::new(ResultReason::InvalidMessage, "the request has no header"),
        );
    };
    let Some(version) = header
        .child(Tag::PROTOCOL_VERSION)
        .and_then(ProtocolVersion::from_item)
    else {
        return error_message(
            ProtocolVersion::V1_4,
            &KmipError::new(
                ResultReason::InvalidMessage,
                "the request header has no valid Protocol Version",
            ),
        );
    };
    let answer_version = answer_version(version);
    let items: Vec<&Item> = request
        .children()
        .iter()
        .filter(|child| child.tag == Tag::BATCH_ITEM)
        .collect();
    let declared = match header.child(Tag::BATCH_COUNT).map(|item| &item.value) {
        Some(Value::Integer(count)) => usize::try_from(*count).ok(),
        _ => None,
    };
    if items.is_empty() || declared != Some(items.len()) || items.len() > MAX_BATCH_ITEMS {
        return error_message(
            answer_version,
            &KmipError::new(
                ResultReason::InvalidMessage,
                format!(
                    "the Batch Count must equal the number of batch items (1 to {MAX_BATCH_ITEMS}); found {} items",
                    items.len()
                ),
            ),
        );
    }
    let continuation = match continuation(header, &items) {
        Ok(continuation) => continuation,
        Err(error) => return error_message(answer_version, &error),
    };
    let mut placeholder: Option<String> = None;
    let mut responses = Vec::with_capacity(items.len());
    // Undo: each change (the object as it was, as the item left it), to put
    // back if a later item fails.
    let mut changes = Vec::new();
    for item in items {
        let before = (continuation == Continuation::Undo)
            .then(|| named_object(keystore, session, item, placeholder.as_deref()))
            .flatten();
        let (response, succeeded) = handle_batch_item(
            keystore,
            session,
            answer_version,
            item,
            &mut placeholder,
            awaiting,
        );
        responses.push(response);
        if succeeded {
            if let Some(before) = before {
                let after = named_object(keystore, session, item, Some(&before.id));
                changes.push(
                    after
                        .filter(|after| *after != before)
                        .map(|after| (before, after)),
                );
            } else {
                changes.push(None);
            }
            continue;
        }
        match continuation {
            Continuation::Continue => {}
            Continuation::Stop => break,
            Continuation::Undo => {
                undo(keystore, session, &mut responses, changes);
                break;
            }
        }
    }
    response_message(answer_version, responses)
}

/// Takes back, last first, the `changes` of the items answered in
/// `responses` before the failed one, and marks each item whose change was
/// taken back (or that changed nothing) Operation Undone. An item whose
/// object changed since, so that its change cannot be taken back, keeps its
/// Success: the answer says what is true.
fn undo(
    keystore: &Keystore,
    session: &Session,
    responses: &mut [Item],
    changes: Vec<Option<(keystore::object::ObjectMeta, keystore::object::ObjectMeta)>>,
) {
    for (response, change) in responses.iter_mut().zip(changes).rev() {
        let undone = match change {
            None => true,
            Some((before, after)) => keystore
                .undo_change(&session.caller, &after, &before)
                .is_ok(),
        };
        if undone {
            if let Value::Structure(children) = &mut response.value {
                for child in children.iter_mut().filter(|c| c.tag == Tag::RESULT_STATUS) {
                    // Result Status 3: Operation Undone.
                    child.value = Value::Enumeration(3);
                }
            }
        }
    }
}

/// The version a request in `version` is answered in: the version asked for
/// when it is one we know; a newer minor of a known major is answered in our
/// newest of that major.
fn answer_version(version: ProtocolVersion) -> ProtocolVersion {
    if SUPPORTED_VERSIONS.contains(&version) {
        version
    } else if version.major >= 2 {
        ProtocolVersion { major: 2, minor: 1 }
    } else {
        ProtocolVersion::V1_4
    }
}

/// The answer to a message the server will not run at all (its sender's
/// credentials were refused): every batch item it holds failed with `error`,
/// each with its Operation and Unique Batch Item ID, in the request's
/// protocol version. Bytes that do not decode as a request get one failed
/// item in KMIP 1.4. Nothing is run and nothing is audited here.
#[must_use]
pub fn refusal(bytes: &[u8], error: &KmipError) -> Response {
    let Ok(request) = ttlv::decode(bytes) else {
        return encode(&error_message(ProtocolVersion::V1_4, error));
    };
    let version = request
        .child(Tag::REQUEST_HEADER)
        .and_then(|header| header.child(Tag::PROTOCOL_VERSION))
        .and_then(ProtocolVersion::from_item)
        .map_or(ProtocolVersion::V1_4, answer_version);
    let items: Vec<Item> = request
        .children_with(Tag::BATCH_ITEM)
        .take(MAX_BATCH_ITEMS)
        .map(|item| {
            let mut children: Vec<Item> = [Tag::OPERATION, Tag::UNIQUE_BATCH_ITEM_ID]
                .into_iter()
                .filter_map(|tag| item.child(tag).cloned())
                .collect();
            children.extend(failure_fields(version, error));
            Item::structure(Tag::BATCH_ITEM, children)
        })
        .collect();
    if items.is_empty() {
        return encode(&error_message(version, error));
    }
    encode(&response_message(version, items))
}

/// Runs one batch item and says whether it succeeded; a success that returns
/// an identifier makes it the ID placeholder for the items after it.
fn handle_batch_item(
    keystore: &Keystore,
    session: &Session,
    version: ProtocolVersion,
    item: &Item,
    placeholder: &mut Option<String>,
    awaiting: Option<&RefCell<Awaiting>>,
) -> (Item, bool) {
    let operation = item.child(Tag::OPERATION);
    let batch_id = item.child(Tag::UNIQUE_BATCH_ITEM_ID);
    let result = match operation.map(|op| &op.value) {
        Some(Value::Enumeration(code)) => {
            let empty = Item::structure(Tag::REQUEST_PAYLOAD, Vec::new());
            let payload = item.child(Tag::REQUEST_PAYLOAD).unwrap_or(&empty);
            dispatch(
                keystore,
                session,
                version,
                *code,
                payload,
                placeholder.as_deref(),
                awaiting,
            )
        }
        _ => Err(KmipError::new(
            ResultReason::InvalidMessage,
            "the batch item has no Operation enumeration",
        )),
    };
    let mut children = Vec::new();
    if let Some(operation) = operation {
        children.push(operation.clone());
    }
    if let Some(batch_id) = batch_id {
        children.push(batch_id.clone());
    }
    if let (Err(error), Some(Value::Enumeration(code))) = (&result, operation.map(|op| &op.value)) {
        // Successful reads and changes are audited by the keystore itself;
        // refusals are audited here, as the HTTPS API audits its refusals.
        let operation = format!("kmip.{}", operation_name(*code));
        let reason = format!("{:?}", error.reason);
        match awaiting {
            Some(awaiting) => match keystore.record_deferred(
                &session.caller,
                &operation,
                Some(&session.tenant),
                None,
                &reason,
            ) {
                Ok(durable) => awaiting.borrow_mut().take(durable),
                // Try again the waiting way, which logs a failure.
                Err(_) => keystore.audit_refusal(
                    &session.caller,
                    &operation,
                    Some(&session.tenant),
                    None,
                    &reason,
                ),
            },
            None => keystore.audit_refusal(
                &session.caller,
                &operation,
                Some(&session.tenant),
                None,
                &reason,
            ),
        }
    }
    let succeeded = result.is_ok();
    match result {
        Ok(payload) => {
            if let Some(code) = operation.and_then(|op| op.value.as_enumeration()) {
                if let Some(next) = placeholder_after(code, &payload) {
                    *placeholder = next;
                }
            }
            children.push(Item::new(Tag::RESULT_STATUS, Value::Enumeration(0)));
            children.push(Item::structure(Tag::RESPONSE_PAYLOAD, payload));
        }
        Err(error) => {
            // A failed Check empties the ID placeholder (KMIP 2.1 section
            // 6.1.7), so the items after it act on no object.
            if operation.and_then(|op| op.value.as_enumeration()) == Some(crate::operation::CHECK) {
                *placeholder = None;
            }
            children.extend(failure_fields(version, &error));
        }
    }
    (Item::structure(Tag::BATCH_ITEM, children), succeeded)
}

/// The ID placeholder after a successful operation that answered `payload`:
/// the private key's identifier for Create Key Pair and Re-key Key Pair, the
/// first identifier otherwise (Locate's first match, and none when it found
/// nothing, so a later item cannot act on an object it did not mean).
/// `None` leaves the placeholder as it was (operations that name no object).
fn placeholder_after(operation: u32, payload: &[Item]) -> Option<Option<String>> {
    let text_of = |tag: Tag| {
        payload
            .iter()
            .find(|item| item.tag == tag)
            .and_then(|item| item.value.as_text())
            .map(str::to_owned)
    };
    if let Some(private) = text_of(Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER) {
        return Some(Some(private));
    }
    match text_of(Tag::UNIQUE_IDENTIFIER) {
        Some(id) => Some(Some(id)),
        None if operation == crate::operation::LOCATE => Some(None),
        None => None,
    }
}

/// The KMIP name of an operation (`Get`), or its number when unknown.
fn operation_name(code: u32) -> String {
    ttlv::enumeration_for(Tag::OPERATION)
        .and_then(|table| {
            table
                .values
                .binary_search_by_key(&code, |&(value, _)| value)
                .ok()
                .and_then(|index| table.values.get(index))
        })
        .map_or_else(|| format!("0x{code:02X}"), |&(_, name)| name.to_owned())
}

fn failure_fields(version: ProtocolVersion, error: &KmipError) -> [Item; 3] {
    [
        // Result Status 1: Operation Failed.
        Item::new(Tag::RESULT_STATUS, Value::Enumeration(1)),
        Item::new(
            Tag::RESULT_REASON,
            Value::Enumeration(error.reason.code_for(version)),
        ),
        Item::new(
            Tag::RESULT_MESSAGE,
            Value::TextString(error.message.clone()),
        ),
    ]
}

fn now_seconds() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn response_message(version: ProtocolVersion, batch_items: Vec<Item>) -> Item {
    let count = i32::try_from(batch_items.len()).unwrap_or(i32::MAX);
    let header = Item::structure(
        Tag::RESPONSE_HEADER,
        vec![
            version.to_item(),
            Item::new(Tag::TIME_STAMP, Value::DateTime(now_seconds())),
            Item::new(Tag::BATCH_COUNT, Value::Integer(count)),
        ],
    );
    let mut children = Vec::with_capacity(batch_items.len().saturating_add(1));
    children.push(header);
    children.extend(batch_items);
    Item::structure(Tag::RESPONSE_MESSAGE, children)
}

/// A response to a message that could not be read: one failed batch item.
#[must_use]
pub fn error_message(version: ProtocolVersion, error: &KmipError) -> Item {
    let batch = Item::structure(Tag::BATCH_ITEM, failure_fields(version, error).to_vec());
    response_message(version, vec![batch])
}
