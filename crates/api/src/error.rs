//! The error answer of every route: `{"error": {"code": ..., "message": ...}}`
//! with a stable [`ErrorCode`] (docs/api.md, "Errors").

use serde::{Deserialize, Serialize};

/// The stable error codes of the API, each with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: malformed JSON, wrong types, unknown fields, bad values.
    BadRequest,
    /// 401: no token, or an unknown, expired or revoked one.
    Unauthenticated,
    /// 403: the caller's role does not allow the operation.
    Forbidden,
    /// 403: no policy grants the volume or secret to a workload.
    PolicyDenied,
    /// 404: unknown id or name, or outside the caller's tenants.
    NotFound,
    /// 405: the route does not take that method.
    MethodNotAllowed,
    /// 409: a name in use, a state that forbids the operation.
    Conflict,
    /// 413: the body is over the limit.
    PayloadTooLarge,
    /// 415: the body is not JSON.
    UnsupportedMediaType,
    /// 422: the share or passphrase does not open the root key.
    WrongUnsealMaterial,
    /// 500: the request failed inside the server.
    Internal,
    /// 503: the server is sealed.
    Sealed,
    /// 503: the server is not initialized.
    NotInitialized,
    /// 503: the server cannot reach its database; another server of the
    /// cluster may answer.
    Unavailable,
    /// 503: the seal's device (HSM, TPM, remote KMIP server) cannot be reached.
    SealUnavailable,
    /// 502: the seal's device refused (wrong PIN, key missing, PCR policy).
    SealRefused,
}

impl ErrorCode {
    /// Every code, in the order of docs/api.md.
    pub const ALL: [ErrorCode; 16] = [
        ErrorCode::BadRequest,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::PolicyDenied,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Conflict,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::WrongUnsealMaterial,
        ErrorCode::Internal,
        ErrorCode::SealRefused,
        ErrorCode::Sealed,
        ErrorCode::NotInitialized,
        ErrorCode::Unavailable,
        ErrorCode::SealUnavailable,
    ];

    /// The code's spelling in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::PolicyDenied => "policy_denied",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::WrongUnsealMaterial => "wrong_unseal_material",
            ErrorCode::Internal => "internal",
            ErrorCode::Sealed => "sealed",
            ErrorCode::NotInitialized => "not_initialized",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::SealUnavailable => "seal_unavailable",
            ErrorCode::SealRefused => "seal_refused",
        }
    }

    /// The code spelled `text`, if it is one.
    pub fn parse(text: &str) -> Option<ErrorCode> {
        ErrorCode::ALL
            .into_iter()
            .find(|code| code.as_str() == text)
    }

    /// The HTTP status the code is answered with.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden | ErrorCode::PolicyDenied => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::WrongUnsealMaterial => 422,
            ErrorCode::Internal => 500,
            ErrorCode::SealRefused => 502,
            ErrorCode::Sealed
            | ErrorCode::NotInitialized
            | ErrorCode::Unavailable
            | ErrorCode::SealUnavailable => 503,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What failed.
    pub error: ErrorDetail,
}

/// The code and the message of an error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// The stable code.
    pub code: ErrorCode,
    /// What failed and what to do, for people.
    pub message: String,
}

impl ErrorBody {
    /// The body of an error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code,
                message: message.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_spelled_as_serde_writes_it_and_parses_back() {
        for code in ErrorCode::ALL {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::Value::String(code.as_str().to_owned())
            );
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            assert!((400..600).contains(&code.status()), "{code}");
        }
        assert_eq!(ErrorCode::parse("unexpected"), None);
    }

    #[test]
    fn the_error_body_has_the_documented_shape() {
        let body = ErrorBody::new(ErrorCode::NotFound, "no key 'db'");
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"error":{"code":"not_found","message":"no key 'db'"}}"#
        );
    }
}
