//! The HTTPS client of the API (docs/api.md): trusts only the given CA, sends the
//! token, and turns every failure into an error that says what to do.

use std::io::IsTerminal as _;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use reqwest::{Method, Url};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::args::GlobalArgs;
use crate::failure::{ApiError, Exit, Failure};

/// How long one request may take. Unsealing runs Argon2id on the server, which
/// takes a few seconds on a slow machine.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest piece of an unexpected (non-API) answer quoted in an error.
const QUOTED_BODY_CHARS: usize = 200;

/// Whether a request carries the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// The endpoint needs no token (status, init, unseal).
    None,
    /// The endpoint needs a token.
    Token,
}

/// A connection to one server.
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: Option<Zeroizing<String>>,
}

/// Hint for a missing address.
const ADDR_HINT: &str = "run `source <data-dir>/dev.env` printed by `cryptainer server --dev`, \
    or set CRYPTAINER_ADDR (or --addr) to https://HOST:8200";

/// Parses and checks the server address.
pub fn parse_addr(addr: Option<&str>) -> anyhow::Result<Url> {
    let text = addr
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .ok_or_else(|| Failure::usage("no server address given (CRYPTAINER_ADDR)", ADDR_HINT))?;
    if !text.contains("://") {
        return Err(Failure::usage(
            format!("the server address '{text}' does not start with https://"),
            "write it as https://HOST:PORT, e.g. https://127.0.0.1:8200",
        )
        .into());
    }
    let url = Url::parse(text).map_err(|error| {
        anyhow::Error::new(error).context(Failure::usage(
            format!("the server address '{text}' is not a URL"),
            "write it as https://HOST:PORT, e.g. https://127.0.0.1:8200",
        ))
    })?;
    if url.scheme() != "https" {
        return Err(Failure::usage(
            format!("the server address '{text}' is not https"),
            "the server speaks HTTPS only; write https://HOST:PORT",
        )
        .into());
    }
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(Failure::usage(
            format!("the server address '{text}' has no host"),
            "write it as https://HOST:PORT, e.g. https://127.0.0.1:8200",
        )
        .into());
    }
    Ok(url)
}

/// Reads the CA certificate file and checks that it holds PEM certificates.
fn read_ca(path: &Path) -> anyhow::Result<Vec<reqwest::Certificate>> {
    const CA_HINT: &str = "set CRYPTAINER_CACERT (or --cacert) to the server's CA certificate; \
        a dev server writes it to <data-dir>/tls/ca.pem and names it in dev.env";
    let pem = std::fs::read(path).map_err(|error| {
        anyhow::Error::new(error).context(Failure::usage(
            format!("cannot read the CA certificate {}", path.display()),
            CA_HINT,
        ))
    })?;
    let not_pem = || {
        Failure::usage(
            format!("{} holds no PEM certificate", path.display()),
            CA_HINT,
        )
    };
    if !pem
        .windows(b"-----BEGIN CERTIFICATE-----".len())
        .any(|window| window == b"-----BEGIN CERTIFICATE-----")
    {
        return Err(not_pem().into());
    }
    let certificates = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|error| anyhow::Error::new(error).context(not_pem()))?;
    if certificates.is_empty() {
        return Err(not_pem().into());
    }
    Ok(certificates)
}

impl Client {
    /// A client for the server the global options name.
    pub fn new(global: &GlobalArgs) -> anyhow::Result<Client> {
        let base = parse_addr(global.addr.as_deref())?;
        let cacert = global.cacert.as_deref().ok_or_else(|| {
            Failure::usage(
                "no CA certificate given (CRYPTAINER_CACERT)",
                "run `source <data-dir>/dev.env` printed by `cryptainer server --dev`, or set \
                 CRYPTAINER_CACERT (or --cacert) to the PEM file of the CA that signed the \
                 server's certificate",
            )
        })?;
        let mut builder = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .https_only(true)
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("cryptainer-cli/", env!("CARGO_PKG_VERSION")));
        for certificate in read_ca(cacert)? {
            builder = builder.add_root_certificate(certificate);
        }
        let http = builder.build().map_err(|error| {
            anyhow::Error::new(error).context(Failure::usage(
                "cannot set up the HTTPS client",
                "check the CA certificate file given by CRYPTAINER_CACERT (or --cacert)",
            ))
        })?;
        let token = global
            .token
            .as_deref()
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .map(|token| Zeroizing::new(token.to_owned()));
        Ok(Client { http, base, token })
    }

    /// The URL of the API path made of `segments`, each percent-encoded.
    fn url(&self, segments: &[&str]) -> anyhow::Result<Url> {
        let mut url = self.base.clone();
        url.set_query(None);
        url.set_fragment(None);
        {
            let mut path = url.path_segments_mut().map_err(|()| {
                Failure::usage(
                    format!("the server address '{}' cannot take a path", self.base),
                    "write it as https://HOST:PORT",
                )
            })?;
            path.pop_if_empty();
            path.extend(segments);
        }
        Ok(url)
    }

    /// Sends a request and returns the JSON answer; an error answer becomes an
    /// [`ApiError`], a transport failure a [`Failure`] with exit code 3.
    pub async fn call(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
        auth: Auth,
    ) -> anyhow::Result<Value> {
        let url = self.url(segments)?;
        let mut request = self.http.request(method, url.clone());
        if !query.is_empty() {
            request = request.query(query);
        }
        if auth == Auth::Token {
            let token = self.token.as_ref().ok_or_else(|| {
                Failure::usage(
                    "no token given (CRYPTAINER_TOKEN)",
                    "set CRYPTAINER_TOKEN (or --token) to an API token; `cryptainer server --dev` \
                     writes one to <data-dir>/dev.env, `cryptainer operator init` prints the root \
                     token, and an admin can make one with `cryptainer token create`",
                )
            })?;
            request = request.bearer_auth(token.as_str());
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|error| unreachable(&self.base, error))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|error| unreachable(&self.base, error))?;
        if status.is_success() {
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_str(&text).map_err(|error| {
                anyhow::Error::new(error).context(Failure::failed(
                    format!("the answer to {url} is not JSON"),
                    "check that --addr (CRYPTAINER_ADDR) points at a Cryptainer server",
                ))
            });
        }
        Err(api_error(status.as_u16(), &text).into())
    }
}

/// The error of a non-success answer.
pub fn api_error(status: u16, text: &str) -> ApiError {
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    let error = parsed.as_ref().and_then(|value| value.get("error"));
    let field = |name: &str| {
        error
            .and_then(|error| error.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    match (field("code"), field("message")) {
        (Some(code), Some(message)) => ApiError {
            status,
            code,
            message,
        },
        _ => {
            let quoted: String = text.trim().chars().take(QUOTED_BODY_CHARS).collect();
            ApiError {
                status,
                code: "unexpected".to_owned(),
                message: if quoted.is_empty() {
                    format!("the server answered HTTP {status} without an error body")
                } else {
                    format!("the server answered HTTP {status}: {quoted}")
                },
            }
        }
    }
}

/// What went wrong on the way to the server, found in the error's sources.
#[derive(Debug, PartialEq, Eq)]
enum Transport {
    Refused,
    UnknownCa,
    BadCertificate,
    Tls,
    Timeout,
    Other,
}

fn classify(error: &reqwest::Error) -> Transport {
    if error.is_timeout() {
        return Transport::Timeout;
    }
    // io::Error's `source` skips the error it wraps (and rustls errors arrive
    // wrapped twice), so the walk also descends into `get_ref`. Bounded in case
    // a chain ever loops.
    let mut pending: Vec<&(dyn std::error::Error + 'static)> = vec![error];
    let mut visited = 0;
    while let Some(current) = pending.pop() {
        visited += 1;
        if visited > 64 {
            break;
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return Transport::Refused,
                std::io::ErrorKind::TimedOut => return Transport::Timeout,
                _ => {}
            }
            if let Some(inner) = io.get_ref() {
                pending.push(inner);
            }
        }
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return match tls {
                rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer) => {
                    Transport::UnknownCa
                }
                rustls::Error::InvalidCertificate(_) => Transport::BadCertificate,
                _ => Transport::Tls,
            };
        }
        if let Some(next) = current.source() {
            pending.push(next);
        }
    }
    Transport::Other
}

/// A transport failure: exit code 3 with a hint for its cause.
fn unreachable(base: &Url, error: reqwest::Error) -> anyhow::Error {
    let hint = match classify(&error) {
        Transport::Refused => {
            "is the server running? start it with `cryptainer server --dev`, or check the \
             address in CRYPTAINER_ADDR (--addr)"
        }
        Transport::UnknownCa => {
            "the server's certificate is not signed by the CA in CRYPTAINER_CACERT (--cacert); \
             use the CA of this server (a dev server's is <data-dir>/tls/ca.pem, named in dev.env)"
        }
        Transport::BadCertificate => {
            "the server's certificate was refused: use a host name or address it covers in \
             --addr (e.g. 127.0.0.1 or localhost; add others with tls.extra_names) and check \
             that it has not expired"
        }
        Transport::Tls => {
            "the TLS handshake failed: check that CRYPTAINER_ADDR (--addr) points at a \
             Cryptainer server's HTTPS port"
        }
        Transport::Timeout => {
            "the server did not answer in time: check that it is running and reachable, and \
             its log"
        }
        Transport::Other => {
            "check that CRYPTAINER_ADDR (--addr) names a running Cryptainer server and that \
             the host name resolves"
        }
    };
    // `url` in the error would repeat the address; strip it for a shorter message.
    let error = error.without_url();
    anyhow::Error::new(error).context(Failure::new(
        Exit::Unreachable,
        format!("cannot reach the server at {base}"),
        hint,
    ))
}

/// A JSON value that holds secrets (shares, passphrases, tokens, key material):
/// every string in it is zeroized on drop.
pub struct SecretJson(pub Value);

impl std::ops::Deref for SecretJson {
    type Target = Value;

    fn deref(&self) -> &Value {
        &self.0
    }
}

impl Drop for SecretJson {
    fn drop(&mut self) {
        scrub(&mut self.0);
    }
}

fn scrub(value: &mut Value) {
    use zeroize::Zeroize as _;
    match value {
        Value::String(text) => text.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(scrub),
        Value::Object(map) => map.values_mut().for_each(scrub),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Prints `value` as pretty JSON on standard output.
pub fn print_json(value: &Value) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value).context("cannot format the answer as JSON")?;
    println!("{text}");
    Ok(())
}

/// Whether standard output is a terminal (a person is reading).
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage_message(result: anyhow::Result<Url>) -> String {
        match result {
            Ok(url) => format!("accepted {url}"),
            Err(error) => {
                let failure = error.downcast_ref::<Failure>();
                assert_eq!(failure.map(|failure| failure.exit), Some(Exit::Usage));
                failure
                    .map(|failure| failure.message.clone())
                    .unwrap_or_default()
            }
        }
    }

    #[test]
    fn addresses_must_be_https_urls() {
        assert_eq!(
            usage_message(parse_addr(Some("https://127.0.0.1:8200"))),
            "accepted https://127.0.0.1:8200/"
        );
        assert_eq!(
            usage_message(parse_addr(None)),
            "no server address given (CRYPTAINER_ADDR)"
        );
        assert_eq!(
            usage_message(parse_addr(Some("  "))),
            "no server address given (CRYPTAINER_ADDR)"
        );
        assert_eq!(
            usage_message(parse_addr(Some("http://127.0.0.1:8200"))),
            "the server address 'http://127.0.0.1:8200' is not https"
        );
        assert_eq!(
            usage_message(parse_addr(Some("127.0.0.1:8200"))),
            "the server address '127.0.0.1:8200' does not start with https://"
        );
        assert_eq!(
            usage_message(parse_addr(Some("https://"))),
            "the server address 'https://' is not a URL"
        );
    }

    #[test]
    fn scrub_clears_every_string() {
        let mut value = serde_json::json!({"a": "secret", "b": ["x", {"c": "y"}], "n": 1});
        scrub(&mut value);
        assert_eq!(
            value,
            serde_json::json!({"a": "", "b": ["", {"c": ""}], "n": 1})
        );
    }

    #[test]
    fn api_errors_are_read_from_the_documented_shape() {
        let error = api_error(
            404,
            r#"{"error":{"code":"not_found","message":"no key 'db'"}}"#,
        );
        assert_eq!(
            (error.status, error.code.as_str(), error.message.as_str()),
            (404, "not_found", "no key 'db'")
        );
    }

    #[test]
    fn other_error_answers_are_quoted_briefly() {
        let error = api_error(502, &format!("<html>{}</html>", "x".repeat(500)));
        assert_eq!(error.code, "unexpected");
        assert!(
            error
                .message
                .starts_with("the server answered HTTP 502: <html>xxx")
        );
        assert!(error.message.chars().count() < 260);
        assert_eq!(
            api_error(500, "").message,
            "the server answered HTTP 500 without an error body"
        );
    }
}
