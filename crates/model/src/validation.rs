//! Validation errors that point at the offending field with a JSON Pointer (RFC 6901), so a client can
//! show every problem of a request at once.

use serde::Serialize;

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON Pointer to the field, e.g. `/spatial/bbox/1`.
    pub pointer: String,
    /// What is wrong, in words meant for the person who sent the request.
    pub message: String,
}

/// Every problem found in one request body. Never empty when returned as an error.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("{} invalid field(s), first {}: {}", .0.len(), .0.first().map_or("", |e| e.pointer.as_str()), .0.first().map_or("", |e| e.message.as_str()))]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn single(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![FieldError {
            pointer: pointer.into(),
            message: message.into(),
        }])
    }

    pub fn push(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            pointer: pointer.into(),
            message: message.into(),
        });
    }

    /// Records the error of a parse, if any, and gives back the parsed value.
    pub fn check<T>(&mut self, pointer: impl Into<String>, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(message) => {
                self.push(pointer, message);
                None
            }
        }
    }

    /// Reports a missing required field.
    pub fn require<T>(&mut self, pointer: &str, value: Option<T>) -> Option<T> {
        if value.is_none() {
            self.push(pointer, "is required");
        }
        value
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was recorded, else every recorded error.
    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, ValidationErrors> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

/// A name as one segment of a JSON Pointer (RFC 6901): `~` and `/` escaped.
pub fn pointer_segment(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// A list that names each value at most once: every repeat is an error at its pointer.
pub fn check_unique<T: Eq + std::hash::Hash + std::fmt::Display>(
    errors: &mut ValidationErrors,
    at: &str,
    values: &[T],
) {
    let mut seen = std::collections::HashSet::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        if !seen.insert(value) {
            errors.push(format!("{at}/{i}"), format!("`{value}` appears twice"));
        }
    }
}

/// Why a JSON document could not be decoded into the type a request expects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON at all: a syntax error, a truncated document or invalid UTF-8.
    #[error("malformed JSON: {0}")]
    Malformed(String),
    /// Well-formed JSON of the wrong shape: a wrong type, an unknown field, an unknown enum value.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
}

/// Decodes a JSON document, reporting a wrong shape with a pointer to the field where it is.
pub fn decode_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(shape_error)?;
    deserializer
        .end()
        .map_err(|error| DecodeError::Malformed(error.to_string()))?;
    Ok(value)
}

/// Decodes an already parsed JSON value (e.g. the result of a merge patch) into `T`.
pub fn decode_value<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(value).map_err(shape_error)
}

fn shape_error(error: serde_path_to_error::Error<serde_json::Error>) -> DecodeError {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in error.path().iter() {
        pointer.push('/');
        match segment {
            Segment::Seq { index } => pointer.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push_str(&pointer_segment(key));
            }
            Segment::Unknown => pointer.push('-'),
        }
    }
    let inner = error.into_inner();
    if inner.is_data() {
        // serde_json appends "at line L column C"; the pointer says where more usefully.
        let message = inner.to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        DecodeError::Invalid(ValidationErrors::single(pointer, message))
    } else {
        DecodeError::Malformed(inner.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Probe {
        name: String,
        bbox: Option<Vec<f64>>,
    }

    #[test]
    fn shape_errors_point_at_the_field() {
        let error = decode_json::<Probe>(br#"{"name": "x", "bbox": [1, "two"]}"#).unwrap_err();
        let DecodeError::Invalid(errors) = error else {
            panic!("{error:?}")
        };
        assert_eq!(errors.0[0].pointer, "/bbox/1");
        assert!(errors.0[0].message.contains("invalid type"), "{errors:?}");
        let DecodeError::Invalid(errors) =
            decode_json::<Probe>(br#"{"name": "x", "colour": 1}"#).unwrap_err()
        else {
            panic!()
        };
        assert!(errors.0[0].message.contains("unknown field `colour`"));
    }

    #[test]
    fn broken_documents_are_malformed() {
        for body in [
            &b"{\"name\": "[..],
            b"{\"name\": \"\xff\"}",
            b"{\"name\": \"x\"} {}",
            b"",
        ] {
            assert!(
                matches!(decode_json::<Probe>(body), Err(DecodeError::Malformed(_))),
                "{body:?}"
            );
        }
    }
}
