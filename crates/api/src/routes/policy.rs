//! `/api/v1/policy`: the security policy labels are written and decided against.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use fathom_model::PolicyDocument;

use crate::AppState;

/// The active security policy: its classifications (lowest first), the classification anyone may
/// read without signing in, its categories with their values, and the label of an unlabelled record.
#[utoipa::path(get, operation_id = "policy", path = "/api/v1/policy", tag = "security",
    responses((status = 200, description = "The active policy", body = PolicyDocument)))]
pub async fn policy(State(state): State<Arc<AppState>>) -> Json<PolicyDocument> {
    Json(state.catalogue.policy().document().clone())
}
