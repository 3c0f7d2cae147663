//! Every error is an RFC 9457 problem document (`application/problem+json`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fathom_model::ValidationErrors;
use fathom_service::{Code, ServiceError};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem: what went wrong and, for invalid input, where.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A stable identifier of the kind of problem, `urn:fathom:problem:<code>` (the table of codes
    /// is in `docs/api.md` and in this schema's description).
    #[serde(rename = "type")]
    pub kind: String,
    /// The code's title: the same for every problem of one `type`.
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// Each invalid field or query parameter of the request.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

/// One invalid part of a request: a body field (`pointer`, RFC 6901) or a query `parameter`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProblemField {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    pub message: String,
}

impl Problem {
    /// A problem of `code` (its status, title and `type`), said by `detail`.
    pub fn coded(code: Code, detail: impl Into<String>) -> Self {
        Self {
            kind: code.uri(),
            title: code.title(),
            status: code.status(),
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// A problem known only by its status (a rejection of the framework, a limit): the code of that
    /// status, or the general one of its class (`bad-request`, `internal`) for a status no code has;
    /// the status stays the one answered.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status: status.as_u16(),
            ..Self::coded(Code::for_status(status.as_u16()), detail)
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::coded(Code::BadRequest, detail)
    }

    /// A query parameter that could not be used.
    pub fn bad_parameter(parameter: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut problem = Self::coded(
            Code::InvalidParameter,
            format!("query parameter `{parameter}`: {message}"),
        );
        problem.errors.push(ProblemField {
            pointer: None,
            parameter: Some(parameter.to_owned()),
            message,
        });
        problem
    }

    /// Invalid fields of the body, each with its pointer.
    fn invalid(code: Code, errors: ValidationErrors) -> Self {
        let detail = match errors.0.as_slice() {
            [only] => format!("{}: {}", display_pointer(&only.pointer), only.message),
            many => format!("{} fields are invalid; see `errors`", many.len()),
        };
        let mut problem = Self::coded(code, detail);
        problem.errors = errors
            .0
            .into_iter()
            .map(|e| ProblemField {
                pointer: Some(e.pointer),
                parameter: None,
                message: e.message,
            })
            .collect();
        problem
    }
}

fn display_pointer(pointer: &str) -> &str {
    if pointer.is_empty() {
        "the body"
    } else {
        pointer
    }
}

impl From<ServiceError> for Problem {
    fn from(error: ServiceError) -> Self {
        let code = error.code();
        match error {
            ServiceError::Malformed(message) => {
                Self::coded(code, format!("the body is not valid JSON: {message}"))
            }
            ServiceError::Invalid(errors) | ServiceError::Unresolved(errors) => {
                Self::invalid(code, errors)
            }
            ServiceError::InvalidParameter(invalid) => invalid.into(),
            ServiceError::Unauthenticated => Self::coded(
                code,
                "a valid bearer token is required: `Authorization: Bearer <token>`",
            ),
            ServiceError::StaleRevision { .. } => {
                Self::coded(code, format!("{error}; read it again"))
            }
            ServiceError::Duplicate { ref field, .. } => {
                let field = field.clone();
                let mut problem = Self::invalid(
                    code,
                    ValidationErrors::single(format!("/{field}"), error.to_string()),
                );
                problem.detail = error.to_string();
                problem
            }
            ServiceError::Fault(ref cause) => {
                tracing::error!(error = %cause, "internal error");
                Self::coded(code, "an internal error occurred; it has been logged")
            }
            ServiceError::Search(source) => {
                tracing::error!(error = ?source, "search error");
                Self::coded(code, "an internal error occurred; it has been logged")
            }
            ServiceError::Internal(source) if code == Code::Unavailable => {
                tracing::warn!(error = ?source, "the database does not answer");
                Self::coded(code, "the database does not answer; try again shortly")
            }
            ServiceError::Internal(source) => {
                tracing::error!(error = ?source, "internal error");
                Self::coded(code, "an internal error occurred; it has been logged")
            }
            ServiceError::NotFound(_) | ServiceError::Refused { .. } => {
                Self::coded(code, error.to_string())
            }
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"fathom\""),
            );
        }
        response
    }
}

/// Turns any error response that is neither a problem document nor a page (a rejection of the
/// framework, a timeout) into a problem document, keeping its status, its text as the detail, and its
/// headers such as `Allow`.
pub async fn ensure_problem(response: Response) -> Response {
    let status = response.status();
    let is_problem_or_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(PROBLEM_JSON.as_bytes())
                || v.as_bytes().starts_with(b"text/html")
        });
    if !(status.is_client_error() || status.is_server_error()) || is_problem_or_page {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let detail = if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text.trim().to_owned()
    };
    let mut problem = Problem::new(status, detail).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem.headers_mut().insert(name.clone(), value.clone());
        }
    }
    problem
}

impl From<fathom_service::parameters::InvalidParameter> for Problem {
    fn from(invalid: fathom_service::parameters::InvalidParameter) -> Self {
        Self::bad_parameter(&invalid.parameter, invalid.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_without_a_code_keeps_its_status() {
        let timeout = Problem::new(StatusCode::GATEWAY_TIMEOUT, "the upstream did not answer");
        assert_eq!(
            (timeout.status, timeout.kind.as_str()),
            (504, "urn:fathom:problem:internal")
        );
        let teapot = Problem::new(StatusCode::IM_A_TEAPOT, "no");
        assert_eq!(
            (teapot.status, teapot.kind.as_str()),
            (418, "urn:fathom:problem:bad-request")
        );
        let conflict = Problem::new(StatusCode::CONFLICT, "taken");
        assert_eq!(
            (conflict.status, conflict.kind.as_str()),
            (409, "urn:fathom:problem:conflict")
        );
    }
}
