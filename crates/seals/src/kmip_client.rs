//! A small KMIP client, just what the remote KMIP seal needs: one request of
//! one batch item over mutual TLS (KMIP 1.4: the first version with GCM's tag
//! and associated data in Encrypt and Decrypt), its answer framed and decoded
//! with `ttlv`'s limits, and the payload of a successful answer. The tags and
//! operation numbers are those `ttlv` and `kmip` own; nothing here is a second
//! copy of the protocol.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use ttlv::{Item, Tag, Value};

use crate::error::DeviceError;

/// How long to wait for the TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to wait for each read or write once connected.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// KMIP protocol version 1.4.
const PROTOCOL_MAJOR: i32 = 1;
const PROTOCOL_MINOR: i32 = 4;

/// Result Status Success.
const RESULT_SUCCESS: u32 = 0;

/// Where and how to reach the remote server.
pub(crate) struct Endpoint {
    /// `host:port`.
    pub(crate) server: String,
    /// The name its certificate must carry.
    pub(crate) server_name: rustls::pki_types::ServerName<'static>,
    /// TLS with our client certificate, trusting only the configured CA.
    pub(crate) tls: Arc<rustls::ClientConfig>,
}

impl Endpoint {
    fn unreachable(&self, source: std::io::Error) -> DeviceError {
        DeviceError::KmipUnreachable {
            server: self.server.clone(),
            source,
        }
    }

    fn malformed(&self, operation: &'static str, detail: impl Into<String>) -> DeviceError {
        DeviceError::KmipMalformed {
            server: self.server.clone(),
            operation,
            detail: detail.into(),
        }
    }

    /// Sends one operation and returns its response payload.
    pub(crate) fn call(
        &self,
        operation_name: &'static str,
        operation: u32,
        payload: Vec<Item>,
    ) -> Result<Item, DeviceError> {
        let request = Item::structure(
            Tag::REQUEST_MESSAGE,
            vec![
                Item::structure(
                    Tag::REQUEST_HEADER,
                    vec![
                        Item::structure(
                            Tag::PROTOCOL_VERSION,
                            vec![
                                Item::new(
                                    Tag::PROTOCOL_VERSION_MAJOR,
                                    Value::Integer(PROTOCOL_MAJOR),
                                ),
                                Item::new(
                                    Tag::PROTOCOL_VERSION_MINOR,
                                    Value::Integer(PROTOCOL_MINOR),
                                ),
                            ],
                        ),
                        Item::new(Tag::BATCH_COUNT, Value::Integer(1)),
                    ],
                ),
                Item::structure(
                    Tag::BATCH_ITEM,
                    vec![
                        Item::new(Tag::OPERATION, Value::Enumeration(operation)),
                        Item::structure(Tag::REQUEST_PAYLOAD, payload),
                    ],
                ),
            ],
        );
        let response = self.exchange(&request)?;
        let item = response
            .child(Tag::BATCH_ITEM)
            .ok_or_else(|| self.malformed(operation_name, "no batch item"))?;
        let status = item
            .child_enumeration(Tag::RESULT_STATUS)
            .ok_or_else(|| self.malformed(operation_name, "no result status"))?;
        if status != RESULT_SUCCESS {
            return Err(DeviceError::KmipRefused {
                server: self.server.clone(),
                operation: operation_name,
                reason: item.child_enumeration(Tag::RESULT_REASON).map_or_else(
                    || "no reason".to_owned(),
                    |reason| format!("result reason {reason:#x}"),
                ),
                message: item
                    .child_text(Tag::RESULT_MESSAGE)
                    .unwrap_or("no message")
                    .to_owned(),
            });
        }
        item.child(Tag::RESPONSE_PAYLOAD)
            .cloned()
            .ok_or_else(|| self.malformed(operation_name, "no response payload"))
    }

    /// One request, one response, on a fresh connection: the seal talks to the
    /// remote server a few times a day, so a connection is not worth keeping.
    fn exchange(&self, request: &Item) -> Result<Item, DeviceError> {
        let address = self
            .server
            .to_socket_addrs()
            .map_err(|error| self.unreachable(error))?
            .next()
            .ok_or_else(|| {
                self.unreachable(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "the name resolves to no address",
                ))
            })?;
        let tcp = TcpStream::connect_timeout(&address, CONNECT_TIMEOUT)
            .map_err(|error| self.unreachable(error))?;
        tcp.set_read_timeout(Some(IO_TIMEOUT))
            .and_then(|()| tcp.set_write_timeout(Some(IO_TIMEOUT)))
            .map_err(|error| self.unreachable(error))?;
        let connection =
            rustls::ClientConnection::new(Arc::clone(&self.tls), self.server_name.clone())
                .map_err(|error| self.unreachable(std::io::Error::other(error)))?;
        let mut stream = rustls::StreamOwned::new(connection, tcp);
        stream
            .write_all(&ttlv::encode(request))
            .and_then(|()| stream.flush())
            .map_err(|error| self.unreachable(error))?;
        // Frame first (the header declares the length, bounded by ttlv's
        // limit), then read exactly that, then decode.
        let mut header = [0u8; 8];
        stream
            .read_exact(&mut header)
            .map_err(|error| self.unreachable(error))?;
        let length = match ttlv::frame_length(&header) {
            Ok(Some(length)) => length,
            Ok(None) => return Err(self.malformed("reading the answer", "a truncated header")),
            Err(error) => return Err(self.malformed("reading the answer", error.to_string())),
        };
        let mut message = header.to_vec();
        message.resize(length, 0);
        let body = message.get_mut(header.len()..).ok_or_else(|| {
            self.malformed("reading the answer", "a length shorter than its header")
        })?;
        stream
            .read_exact(body)
            .map_err(|error| self.unreachable(error))?;
        ttlv::decode(&message)
            .map_err(|error| self.malformed("reading the answer", error.to_string()))
    }
}

/// The bytes of the payload's first child with `tag`.
pub(crate) fn bytes_of(payload: &Item, tag: Tag) -> Option<Vec<u8>> {
    payload
        .child(tag)
        .and_then(|child| child.value.as_bytes())
        .map(<[u8]>::to_vec)
}
