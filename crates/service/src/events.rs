//! What the API tells about events: the AsyncAPI document, and how each delivery target is doing.

use std::sync::Arc;

use fathom_events::{Channels, RelayHealth, TargetState};
use fathom_store::Store;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::ServiceError;

/// The events side of the catalogue, as the API sees it.
#[derive(Debug, Clone)]
pub struct Events {
    store: Store,
    relay: RelayHealth,
    asyncapi: Arc<Value>,
}

/// One delivery target: what this replica's relay is doing and what waits in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TargetReport {
    pub target: String,
    /// `delivering`, `degraded`, `standby` (another replica holds it) or `starting`.
    pub state: &'static str,
    /// The last error, while degraded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Events not yet delivered.
    pub pending: i64,
    /// How long the oldest of them has waited, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_pending_seconds: Option<f64>,
}

impl Events {
    /// `relay`: the health of this process's relay; `channels`: where it publishes.
    pub(crate) fn new(store: Store, relay: RelayHealth, channels: &Channels) -> Self {
        Self {
            store,
            relay,
            asyncapi: Arc::new(fathom_events::asyncapi_document(channels)),
        }
    }

    /// The AsyncAPI 3.0 document of the events.
    pub fn asyncapi(&self) -> &Value {
        &self.asyncapi
    }

    /// Every target this replica relays to, with the outbox's backlog for it.
    pub async fn targets(&self) -> Result<Vec<TargetReport>, ServiceError> {
        let backlog = self
            .store
            .event_targets()
            .await
            .map_err(ServiceError::Internal)?;
        let now = OffsetDateTime::now_utc();
        Ok(self
            .relay
            .targets()
            .into_iter()
            .map(|health| {
                let waiting = backlog.iter().find(|t| t.name == health.name);
                let (state, error) = match health.state {
                    TargetState::Starting => ("starting", None),
                    TargetState::Delivering => ("delivering", None),
                    TargetState::Standby => ("standby", None),
                    TargetState::Degraded { error, .. } => ("degraded", Some(error)),
                };
                TargetReport {
                    target: health.name,
                    state,
                    error,
                    pending: waiting.map_or(0, |t| t.pending),
                    oldest_pending_seconds: waiting
                        .and_then(|t| t.oldest_pending)
                        .map(|at| (now - at).as_seconds_f64().max(0.0)),
                }
            })
            .collect())
    }
}
