//! The CLI's connection to a server: the `api` crate's HTTPS client, trusting
//! only the CA file given, sending the token given; every failure turned into
//! an error that says what to do, and `--json` printing what the server sent.

use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use api::{
    Answer, CaRoots, CaRootsError, ClientError, Endpoint, HttpsClient, SecretString, Transport, Url,
};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::args::GlobalArgs;
use crate::failure::{Exit, Failure};

/// How long one request may take. Unsealing runs Argon2id on the server, which
/// takes a few seconds on a slow machine.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How the CLI presents itself and how long it waits.
const SETTINGS: api::ClientSettings = api::ClientSettings {
    user_agent: concat!("cryptainer-cli/", env!("CARGO_PKG_VERSION")),
    request_timeout: REQUEST_TIMEOUT,
    connect_timeout: CONNECT_TIMEOUT,
};

/// Hint for a missing address.
const ADDR_HINT: &str = "run `source <data-dir>/dev.env` printed by `cryptainer server --dev`, \
    or set CRYPTAINER_ADDR (or --addr) to https://HOST:8200 (a comma list for the servers of \
    a cluster)";

/// A connection to a server, or to the servers of a cluster.
pub struct Client {
    http: HttpsClient,
    has_token: bool,
}

/// Parses and checks the server addresses: one, or the servers of a cluster
/// as a comma list (`https://km1:8200,https://km2:8200`), tried in order.
pub fn parse_servers(addr: Option<&str>) -> anyhow::Result<api::Servers> {
    let text = addr
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .ok_or_else(|| Failure::usage("no server address given (CRYPTAINER_ADDR)", ADDR_HINT))?;
    let urls = text
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| parse_addr(Some(part)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    api::Servers::new(urls).ok_or_else(|| {
        Failure::usage("no server address given (CRYPTAINER_ADDR)", ADDR_HINT).into()
    })
}

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
fn read_ca(path: &Path) -> anyhow::Result<CaRoots> {
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
    CaRoots::from_pem(&pem).map_err(|error| match error {
        CaRootsError::Invalid(source) => anyhow::Error::new(source).context(not_pem()),
        _ => not_pem().into(),
    })
}

impl Client {
    /// A client for the server the global options name.
    pub fn new(global: &GlobalArgs) -> anyhow::Result<Client> {
        let servers = parse_servers(global.addr.as_deref())?;
        let cacert = global.cacert.as_deref().ok_or_else(|| {
            Failure::usage(
                "no CA certificate given (CRYPTAINER_CACERT)",
                "run `source <data-dir>/dev.env` printed by `cryptainer server --dev`, or set \
                 CRYPTAINER_CACERT (or --cacert) to the PEM file of the CA that signed the \
                 server's certificate",
            )
        })?;
        let setup_failed = |error: ClientError| {
            anyhow::Error::new(error).context(Failure::usage(
                "cannot set up the HTTPS client",
                "check the CA certificate file given by CRYPTAINER_CACERT (or --cacert)",
            ))
        };
        let mut http =
            HttpsClient::with_roots(servers, read_ca(cacert)?, &SETTINGS).map_err(setup_failed)?;
        let token = global
            .token
            .as_deref()
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .map(SecretString::from_str_copy);
        let has_token = token.is_some();
        if let Some(token) = token {
            http = http.with_bearer_token(&token).map_err(|error| {
                anyhow::Error::new(error).context(Failure::usage(
                    "the token cannot be sent",
                    "check CRYPTAINER_TOKEN (or --token): a token is cpt_ followed by letters, digits, - and _",
                ))
            })?;
        }
        Ok(Client { http, has_token })
    }

    /// Sends `endpoint` and returns the success answer as the server sent it;
    /// every failure becomes an error with its exit code and hint.
    pub async fn call<E: Endpoint>(&self, endpoint: &E) -> anyhow::Result<Answer<E::Answer>> {
        if E::AUTHENTICATED {
            self.require_token()?;
        }
        self.http
            .call(endpoint)
            .await
            .map_err(|error| self.failure(error))
    }

    /// Downloads a backup of the whole store into `out`; returns its size.
    pub async fn download_backup(&self, out: &mut dyn std::io::Write) -> anyhow::Result<u64> {
        self.require_token()?;
        self.http
            .download_backup(out)
            .await
            .map_err(|error| self.failure(error))
    }

    /// Sends the backup `file` to be restored.
    pub async fn upload_restore(&self, file: &Path) -> anyhow::Result<api::sys::BackupSummary> {
        self.http
            .upload_restore(file)
            .await
            .map_err(|error| self.failure(error))
    }

    /// One client per server given, each talking to that server alone (for
    /// what concerns one server: its status, its seal).
    pub fn each_server(&self) -> Vec<(Url, Client)> {
        (0..self.http.servers().len())
            .filter_map(|index| {
                let one = self.http.only(index)?;
                Some((
                    one.base().clone(),
                    Client {
                        http: one,
                        has_token: self.has_token,
                    },
                ))
            })
            .collect()
    }

    /// How many servers were given.
    pub fn server_count(&self) -> usize {
        self.http.servers().len()
    }

    /// Sends `endpoint` and decodes its answer.
    pub async fn send<E: Endpoint>(&self, endpoint: &E) -> anyhow::Result<E::Answer> {
        let answer = self.call(endpoint).await?;
        self.decode(&answer)
    }

    /// Sends `endpoint`; prints the server's JSON with `--json`, else hands
    /// the decoded answer to `show`.
    pub async fn show<E: Endpoint>(
        &self,
        endpoint: &E,
        json: bool,
        show: impl FnOnce(E::Answer) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let answer = self.call(endpoint).await?;
        if json {
            return print_answer(&answer);
        }
        show(self.decode(&answer)?)
    }

    /// The answer decoded; an answer of another shape is a failure.
    pub fn decode<T: serde::de::DeserializeOwned>(&self, answer: &Answer<T>) -> anyhow::Result<T> {
        answer.decode().map_err(|error| self.failure(error))
    }

    /// Refuses when no token was given.
    fn require_token(&self) -> anyhow::Result<()> {
        if self.has_token {
            return Ok(());
        }
        Err(Failure::usage(
            "no token given (CRYPTAINER_TOKEN)",
            "set CRYPTAINER_TOKEN (or --token) to an API token; `cryptainer server --dev` \
             writes one to <data-dir>/dev.env, `cryptainer operator init` prints the root \
             token, and an admin can make one with `cryptainer token create`",
        )
        .into())
    }

    /// What `error` tells the user.
    fn failure(&self, error: ClientError) -> anyhow::Error {
        let base = self.http.base();
        let count = self.http.servers().len();
        match error {
            ClientError::Unreachable(unreachable) if unreachable.maybe_sent() => {
                // The server went away with the request: it may have taken
                // effect, so it was not sent to another server.
                anyhow::Error::new(ClientError::Unreachable(unreachable.without_url())).context(
                    Failure::new(
                        Exit::Unreachable,
                        format!("the server at {base} went away before it answered"),
                        "the request may or may not have taken effect: check (e.g. `cryptainer \
                         key show`) before repeating it",
                    ),
                )
            }
            ClientError::Unreachable(unreachable) => {
                let hint = unreachable_hint(unreachable.transport());
                let whom = if count > 1 {
                    format!("cannot reach any of the {count} servers (the last tried: {base})")
                } else {
                    format!("cannot reach the server at {base}")
                };
                // The URL in the error would repeat the address.
                anyhow::Error::new(ClientError::Unreachable(unreachable.without_url()))
                    .context(Failure::new(Exit::Unreachable, whom, hint))
            }
            one @ ClientError::OneServerOnly { .. } => {
                anyhow::Error::new(one).context(Failure::usage(
                    "this command acts on one server",
                    "give that server alone: --addr https://HOST:PORT (each server of a cluster \
                     is unsealed and sealed on its own)",
                ))
            }
            refused @ ClientError::Refused { .. } => anyhow::Error::new(refused),
            ClientError::Request(request) => anyhow::Error::new(request).context(Failure::usage(
                "the request cannot be made",
                "give a real name or id: not empty, not '.' or '..'",
            )),
            other => anyhow::Error::new(other).context(Failure::failed(
                format!("the answer of {base} is not what this client expects"),
                "check that --addr (CRYPTAINER_ADDR) points at a Cryptainer server of this \
                 client's version (`cryptainer status` shows it)",
            )),
        }
    }
}

/// What to do about a failure on the way to the server.
fn unreachable_hint(transport: Transport) -> &'static str {
    match transport {
        Transport::ConnectionRefused => {
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
        Transport::CertificateRevoked | Transport::Tls => {
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
    }
}

/// Prints the server's JSON answer, pretty-printed (what it sent, every field
/// and value, keys in sorted order). Answers may carry secrets (shares,
/// tokens, key material): the strings read and the text printed are wiped.
pub fn print_answer<T>(answer: &Answer<T>) -> anyhow::Result<()>
where
    T: serde::de::DeserializeOwned,
{
    let value = SecretJson(
        serde_json::from_slice(answer.body()).context("cannot read the server's answer as JSON")?,
    );
    print_json(&value)
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

/// Prints `value` as pretty JSON on standard output, from a buffer that is
/// wiped afterwards.
pub fn print_json(value: &Value) -> anyhow::Result<()> {
    let mut text = Zeroizing::new(Vec::new());
    serde_json::to_writer_pretty(&mut *text, value).context("cannot format the answer as JSON")?;
    text.push(b'\n');
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&text)?;
    stdout.flush()?;
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
}
