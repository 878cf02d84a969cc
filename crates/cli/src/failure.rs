//! Errors as the user sees them: `error: <what failed>`, `hint: <what to do>`, and
//! an exit code that tells scripts who was at fault.

use std::fmt;
use std::process::ExitCode;

use api::{ClientError, ErrorCode};

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

/// What the user can do about an error answer with `code`, one entry per code
/// of docs/api.md; `None`: an answer that is not an API error.
pub fn hint(code: Option<ErrorCode>) -> &'static str {
    match code {
        Some(ErrorCode::BadRequest) => {
            "the server refused the request's values; check the arguments against `cryptainer <command> --help`"
        }
        Some(ErrorCode::Unauthenticated) => {
            "your token is expired or revoked; ask an admin for a new one (`cryptainer token create`), then set CRYPTAINER_TOKEN"
        }
        Some(ErrorCode::PolicyDenied) => {
            "no policy grants this to the workload; `cryptainer policy check` explains the decision and `cryptainer policy create` grants access"
        }
        Some(ErrorCode::Forbidden) => {
            "your token's role or tenants do not allow this; ask an admin for a token that does (`cryptainer token create --role ...`)"
        }
        Some(ErrorCode::NotFound) => {
            "check the name or id (`cryptainer key list`, `cryptainer token list`); an object in another tenant needs --tenant, and one outside your token's tenants is reported as not found"
        }
        Some(ErrorCode::Conflict) => {
            "the object's name or state does not allow this (a key must be revoked before it is destroyed; a name must be unique); `cryptainer key show REF` and `cryptainer status` show the current state"
        }
        Some(ErrorCode::PayloadTooLarge) => {
            "the request is larger than the server accepts (64 KiB by default); send fewer or shorter labels"
        }
        Some(ErrorCode::UnsupportedMediaType) => {
            "the client sent a body the server does not take; use a `cryptainer` of the server's version (`cryptainer status` shows it)"
        }
        Some(ErrorCode::MethodNotAllowed) => {
            "the server does not offer this request; use a `cryptainer` of the server's version (`cryptainer status` shows it)"
        }
        Some(ErrorCode::WrongUnsealMaterial) => {
            "that share or passphrase does not open this server's root key; check it for typos and that it belongs to this server"
        }
        Some(ErrorCode::Internal) => {
            "the request did not take effect; the server's log says why (often storage: disk full or permissions); retry once it is fixed"
        }
        Some(ErrorCode::Sealed) => {
            "the server is sealed; unseal it with `cryptainer operator unseal` (a server with an automatic seal unseals itself once its device answers: `cryptainer status` says why it has not)"
        }
        Some(ErrorCode::NotInitialized) => {
            "the server is not initialized; initialize it with `cryptainer operator init`"
        }
        Some(ErrorCode::Unavailable) => {
            "the server cannot reach its database; give the other servers of the cluster in CRYPTAINER_ADDR (a comma list), or retry once the database is back"
        }
        Some(ErrorCode::SealUnavailable) => {
            "the seal's device (HSM, TPM or remote KMIP server) cannot be reached; check that it is up and reachable from the server, then retry (`cryptainer status` shows the last error)"
        }
        Some(ErrorCode::SealRefused) => {
            "the seal's device refused: check the PIN or password in the server's environment, the token and key labels of [seal], and the TPM's PCR values (docs/seals.md); it is not retried, so fix it and restart the server"
        }
        None => {
            "the answer is not a Cryptainer API error; check that --addr (CRYPTAINER_ADDR) points at a Cryptainer server"
        }
    }
}

/// The lines `report` prints for `error`, and the exit code.
pub fn render(error: &anyhow::Error) -> (String, Exit) {
    let (hint, exit) = if let Some(failure) = error.downcast_ref::<Failure>() {
        (failure.hint.clone(), failure.exit)
    } else if let Some(ClientError::Refused { code, .. }) = error.downcast_ref::<ClientError>() {
        (Some(hint(*code).to_owned()), Exit::Failed)
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
        let error = anyhow::Error::new(ClientError::Refused {
            status: 503,
            code: Some(ErrorCode::Sealed),
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
    fn every_code_has_its_own_hint() {
        let fallback = hint(None);
        let mut seen = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            let hint = hint(Some(code));
            assert_ne!(hint, fallback, "{code} has no hint of its own");
            assert!(seen.insert(hint), "{code} shares its hint");
        }
    }
}
