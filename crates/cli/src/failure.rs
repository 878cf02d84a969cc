//! Errors as the user sees them: `error: <what failed>`, `hint: <what to do>`, and
//! an exit code that tells scripts who was at fault.

use std::fmt;
use std::process::ExitCode;

/// Why the command stopped, as the exit code tells it (documented in the top-level
/// `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 1: the operation failed; the server refused it or it could not be done.
    Failed,
    /// 2: wrong usage or configuration: a flag, a file, a missing variable.
    Usage,
    /// 3: the server could not be reached (connection, TLS, timeout).
    Unreachable,
    /// 4: `policy check` found the workload refused.
    Refused,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::Unreachable => 3,
            Exit::Refused => 4,
        }
    }
}

/// A failure with its exit code and a hint. Attach it as `anyhow` context to keep
/// the underlying error: `anyhow::Error::new(source).context(failure)`.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub exit: Exit,
    /// What failed, without a trailing period.
    pub message: String,
    /// What the user can do about it.
    pub hint: Option<String>,
}

impl Failure {
    /// A failure of kind `exit`.
    pub fn new(exit: Exit, message: impl Into<String>, hint: impl Into<String>) -> Failure {
        Failure {
            exit,
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// A usage or configuration error (exit code 2).
    pub fn usage(message: impl Into<String>, hint: impl Into<String>) -> Failure {
        Failure::new(Exit::Usage, message, hint)
    }

    /// A failed operation (exit code 1).
    pub fn failed(message: impl Into<String>, hint: impl Into<String>) -> Failure {
        Failure::new(Exit::Failed, message, hint)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// An error answer of the server: `{"error": {"code": ..., "message": ...}}`.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The stable error code of docs/api.md, or `unexpected` for an answer that
    /// does not have the documented shape.
    pub code: String,
    /// The server's message.
    pub message: String,
}

impl ApiError {
    /// What the user can do about this error, one entry per code of docs/api.md.
    pub fn hint(&self) -> &'static str {
        match self.code.as_str() {
            "bad_request" => {
                "the server refused the request's values; check the arguments against `cryptainer <command> --help`"
            }
            "unauthenticated" => {
                "your token is expired or revoked; ask an admin for a new one (`cryptainer token create`), then set CRYPTAINER_TOKEN"
            }
            "policy_denied" => {
                "no policy grants this to the workload; `cryptainer policy check` explains the decision and `cryptainer policy create` grants access"
            }
            "forbidden" => {
                "your token's role or tenants do not allow this; ask an admin for a token that does (`cryptainer token create --role ...`)"
            }
            "not_found" => {
                "check the name or id (`cryptainer key list`, `cryptainer token list`); an object in another tenant needs --tenant, and one outside your token's tenants is reported as not found"
            }
            "conflict" => {
                "the object's name or state does not allow this (a key must be revoked before it is destroyed; a name must be unique); `cryptainer key show REF` and `cryptainer status` show the current state"
            }
            "payload_too_large" => {
                "the request is larger than the server accepts (64 KiB by default); send fewer or shorter labels"
            }
            "unsupported_media_type" => {
                "the client sent a body the server does not take; use a `cryptainer` of the server's version (`cryptainer status` shows it)"
            }
            "method_not_allowed" => {
                "the server does not offer this request; use a `cryptainer` of the server's version (`cryptainer status` shows it)"
            }
            "wrong_unseal_material" => {
                "that share or passphrase does not open this server's root key; check it for typos and that it belongs to this server"
            }
            "internal" => {
                "the request did not take effect; the server's log says why (often storage: disk full or permissions); retry once it is fixed"
            }
            "sealed" => "the server is sealed; unseal it with `cryptainer operator unseal`",
            "not_initialized" => {
                "the server is not initialized; initialize it with `cryptainer operator init`"
            }
            _ => {
                "the answer is not a Cryptainer API error; check that --addr (CRYPTAINER_ADDR) points at a Cryptainer server"
            }
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{} (HTTP {}, {})",
            self.message, self.status, self.code
        )
    }
}

impl std::error::Error for ApiError {}

/// The lines `report` prints for `error`, and the exit code.
pub fn render(error: &anyhow::Error) -> (String, Exit) {
    let (hint, exit) = if let Some(failure) = error.downcast_ref::<Failure>() {
        (failure.hint.clone(), failure.exit)
    } else if let Some(api) = error.downcast_ref::<ApiError>() {
        (Some(api.hint().to_owned()), Exit::Failed)
    } else {
        (None, Exit::Failed)
    };
    let mut text = format!("error: {error:#}\n");
    if let Some(hint) = hint {
        text.push_str(&format!("hint: {hint}\n"));
    }
    (text, exit)
}

/// Prints `error` to standard error and returns the exit code for it.
pub fn report(error: &anyhow::Error) -> ExitCode {
    let (text, exit) = render(error);
    eprint!("{text}");
    ExitCode::from(exit.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_keeps_its_source_and_exit_code() {
        let source = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let error = anyhow::Error::new(source).context(Failure::usage(
            "cannot read the CA certificate ca.pem",
            "check --cacert",
        ));
        let (text, exit) = render(&error);
        assert_eq!(exit, Exit::Usage);
        assert_eq!(
            text,
            "error: cannot read the CA certificate ca.pem: no such file\nhint: check --cacert\n"
        );
    }

    #[test]
    fn an_outer_context_does_not_hide_the_failure() {
        let error = anyhow::Error::new(Failure::new(Exit::Unreachable, "down", "start it"))
            .context("while listing keys");
        assert_eq!(render(&error).1, Exit::Unreachable);
    }

    #[test]
    fn api_errors_exit_1_with_the_hint_of_their_code() {
        let error = anyhow::Error::new(ApiError {
            status: 503,
            code: "sealed".to_owned(),
            message: "the key manager is sealed".to_owned(),
        });
        let (text, exit) = render(&error);
        assert_eq!(exit, Exit::Failed);
        assert!(text.starts_with("error: the key manager is sealed (HTTP 503, sealed)\n"));
        assert!(
            text.contains(
                "hint: the server is sealed; unseal it with `cryptainer operator unseal`"
            )
        );
    }

    #[test]
    fn every_documented_code_has_its_own_hint() {
        let codes = [
            "bad_request",
            "unauthenticated",
            "forbidden",
            "not_found",
            "conflict",
            "payload_too_large",
            "unsupported_media_type",
            "wrong_unseal_material",
            "internal",
            "sealed",
            "not_initialized",
        ];
        let fallback = ApiError {
            status: 502,
            code: "unexpected".to_owned(),
            message: String::new(),
        }
        .hint();
        let mut seen = std::collections::BTreeSet::new();
        for code in codes {
            let hint = ApiError {
                status: 400,
                code: code.to_owned(),
                message: String::new(),
            }
            .hint();
            assert_ne!(hint, fallback, "{code} has no hint of its own");
            assert!(seen.insert(hint), "{code} shares its hint");
        }
    }
}
