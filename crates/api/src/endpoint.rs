//! What one call of the API is: an [`Endpoint`] is a request value (its path
//! parameters, query and body, typed) that knows its method, its path and the
//! type of its answer. Clients send endpoints; nothing else builds a request.

use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::routes::PathError;

/// The HTTP methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `DELETE`.
    Delete,
}

/// A request ready to send: method, encoded path, query pairs and JSON body.
pub struct Request {
    /// The method.
    pub method: Method,
    /// The path, parameters percent-encoded ([`crate::routes::path`]).
    pub path: String,
    /// Query parameters, in order, not yet encoded.
    pub query: Vec<(&'static str, String)>,
    /// The JSON body, in memory wiped when dropped (bodies carry secrets:
    /// unseal shares, secret values, join tokens).
    pub body: Option<Zeroizing<Vec<u8>>>,
}

impl Request {
    /// A request without query or body.
    pub fn new(method: Method, path: String) -> Request {
        Request {
            method,
            path,
            query: Vec::new(),
            body: None,
        }
    }

    /// `method` on `pattern` filled with `parameters` ([`crate::routes::path`]).
    pub fn to(
        method: Method,
        pattern: &'static str,
        parameters: &[&str],
    ) -> Result<Request, RequestError> {
        Ok(Request::new(
            method,
            crate::routes::path(pattern, parameters)?,
        ))
    }

    /// The request with `query`.
    pub fn with_query(mut self, query: Vec<(&'static str, String)>) -> Request {
        self.query = query;
        self
    }

    /// The request with `body` as its JSON body.
    pub fn with_json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Request, RequestError> {
        self.body = Some(encode_json(body).map_err(RequestError::Encode)?);
        Ok(self)
    }
}

/// A request that cannot be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// A path parameter cannot be put in a path.
    #[error(transparent)]
    Path(#[from] PathError),
    /// The body could not be written as JSON.
    #[error("cannot write the request body as JSON: {0}")]
    Encode(serde_json::Error),
    /// A file to send could not be read.
    #[error("cannot read {path}: {source}")]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// One call of the API.
pub trait Endpoint {
    /// What a success answer's JSON body decodes to.
    type Answer: DeserializeOwned;

    /// Whether the call is made as someone (token or node certificate); the
    /// seal routes, join and the CA bundle are not.
    const AUTHENTICATED: bool = true;

    /// Whether sending the call again changes nothing the first one did not,
    /// so that a client that lost the answer may send it to another server.
    /// A `GET` is, whatever this says; a `POST` is not unless it says so.
    const REPEATABLE: bool = false;

    /// Whether the call is about the one server it reaches (its seal, its
    /// status): a client of several servers never moves it to another, and
    /// refuses it unless it was given one server.
    const PER_SERVER: bool = false;

    /// The request to send.
    fn request(&self) -> Result<Request, RequestError>;
}

/// `value` as JSON in a buffer of exactly its size, wiped when dropped.
///
/// Writing into a growing buffer would leave a partial copy behind at every
/// growth; the size is measured first so the buffer never grows.
pub fn encode_json<T: Serialize + ?Sized>(
    value: &T,
) -> Result<Zeroizing<Vec<u8>>, serde_json::Error> {
    /// Counts the bytes written to it.
    struct Measure(usize);

    impl std::io::Write for Measure {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(bytes.len());
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let mut measure = Measure(0);
    serde_json::to_writer(&mut measure, value)?;
    let mut buffer = Zeroizing::new(Vec::with_capacity(measure.0));
    serde_json::to_writer(&mut *buffer, value)?;
    Ok(buffer)
}

/// An object by id or name in a tenant: a key, a secret, a volume, a policy.
#[derive(Debug, Clone, Copy)]
pub struct ObjectRef<'a> {
    /// The object's id or name (volumes and policies: the name).
    pub reference: &'a str,
    /// The tenant a name is looked up in [default: the caller's only tenant,
    /// or `default`].
    pub tenant: Option<&'a str>,
}

impl<'a> ObjectRef<'a> {
    /// The object `reference` in the caller's tenant.
    pub fn named(reference: &'a str) -> ObjectRef<'a> {
        ObjectRef {
            reference,
            tenant: None,
        }
    }

    /// `method` on `pattern` for this object, with its tenant (and `version`,
    /// when given) in the query.
    pub(crate) fn request(
        &self,
        method: Method,
        pattern: &'static str,
        version: Option<u32>,
    ) -> Result<Request, RequestError> {
        Ok(Request::to(method, pattern, &[self.reference])?.with_query(
            Query::new()
                .optional("tenant", self.tenant)
                .optional("version", version)
                .pairs(),
        ))
    }
}

/// Query of the routes on one key or secret: the tenant a name is looked up
/// in, and a version (material and values only).
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectQuery {
    /// The tenant of an object named by name.
    pub tenant: Option<String>,
    /// The version to read [default: the newest].
    pub version: Option<u32>,
}

/// Query of the routes that take only a tenant (volumes, policies).
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantQuery {
    /// The tenant.
    pub tenant: Option<String>,
}

/// Query pairs of the parameters that are set, in order.
pub(crate) struct Query(Vec<(&'static str, String)>);

impl Query {
    /// No pairs yet.
    pub(crate) fn new() -> Query {
        Query(Vec::new())
    }

    /// Adds `name=value` when `value` is set.
    pub(crate) fn optional(mut self, name: &'static str, value: Option<impl ToString>) -> Query {
        if let Some(value) = value {
            self.0.push((name, value.to_string()));
        }
        self
    }

    /// The pairs.
    pub(crate) fn pairs(self) -> Vec<(&'static str, String)> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_json_fills_its_buffer_exactly() {
        let value = serde_json::json!({"name": "db", "labels": {"a": "b"}, "n": [1, 2, 3]});
        let encoded = encode_json(&value).unwrap();
        assert_eq!(encoded.len(), encoded.capacity());
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&encoded).unwrap(),
            value
        );
    }

    #[test]
    fn queries_keep_only_the_parameters_given() {
        let pairs = Query::new()
            .optional("tenant", Some("acme"))
            .optional("limit", None::<u32>)
            .optional("offset", Some(5))
            .pairs();
        assert_eq!(
            pairs,
            [("tenant", "acme".to_owned()), ("offset", "5".to_owned())]
        );
    }
}
