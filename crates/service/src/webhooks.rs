//! Webhook subscriptions: made and removed by admins, each relayed as its owner may see the catalogue.
//!
//! A subscription is an event target of its own (`webhook:<id>`): the relay sends it, in order, the
//! events of its types about records its owner may read, retries a failing receiver with backoff,
//! and after `max_attempts` sets the event aside as a dead letter, which an admin can redeliver.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use fathom_events::{Envelope, RelayHandle, Target, Visibility, WebhookTarget};
use fathom_model::{Policy, Principal, SecurityLabel, ValidationErrors, event_types};
use fathom_store::{DeadLetter, Store, StoreError, User, Webhook};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::codes::Code;
use crate::{ServiceError, access, identity};

type Result<T> = std::result::Result<T, ServiceError>;

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// How long a receiver may take to answer.
    pub timeout: Duration,
    /// How often an event is tried before it becomes a dead letter.
    pub max_attempts: u32,
    /// The server's own listening addresses: a subscription may not point back at them.
    pub own_addresses: Vec<SocketAddr>,
    /// The CloudEvents `source` of redelivered events.
    pub source: String,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_attempts: 8,
            own_addresses: Vec::new(),
            source: fathom_events::RelayConfig::default().source,
        }
    }
}

/// A subscription to make.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// An `http://` or `https://` URL the events are POSTed to.
    #[schema(pattern = "^[\\u0000-\\u0020]*[Hh][Tt][Tt][Pp][Ss]?://[\\s\\S]+$")]
    pub url: String,
    /// Event types, or prefixes ending in `*` (`org.fathom.dataset.*`); none: every type.
    #[serde(default)]
    pub event_types: Vec<String>,
    /// The user whose view of the catalogue decides which events are sent; the caller by default.
    pub owner: Option<String>,
}

/// A subscription as shown: never its secret, except once when made.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub id: Uuid,
    pub url: String,
    pub event_types: Vec<String>,
    pub owner: String,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub created_at: OffsetDateTime,
    /// The signing secret (`whsec_…`): shown only in the answer that made the subscription.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<Webhook> for WebhookView {
    fn from(webhook: Webhook) -> Self {
        Self {
            id: webhook.id,
            url: webhook.url,
            event_types: webhook.event_types,
            owner: webhook.owner,
            created_by: webhook.created_by,
            created_at: webhook.created_at,
            secret: None,
        }
    }
}

/// An event a subscription gave up on.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeadLetterView {
    /// The event's place in the change feed, to redeliver it by.
    pub seq: i64,
    pub event_id: Uuid,
    pub attempts: i32,
    pub error: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub failed_at: OffsetDateTime,
}

impl From<DeadLetter> for DeadLetterView {
    fn from(letter: DeadLetter) -> Self {
        Self {
            seq: letter.seq,
            event_id: letter.event_id,
            attempts: letter.attempts,
            error: letter.error,
            failed_at: letter.failed_at,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Webhooks {
    store: Store,
    policy: Arc<Policy>,
    settings: WebhookSettings,
    /// The owner each running webhook target was started with.
    started: Arc<Mutex<HashMap<String, User>>>,
}

impl Webhooks {
    pub(crate) fn new(store: Store, policy: Arc<Policy>, settings: WebhookSettings) -> Self {
        Self {
            store,
            policy,
            settings,
            started: Arc::default(),
        }
    }

    pub async fn create(&self, principal: &Principal, input: WebhookInput) -> Result<WebhookView> {
        access::require_administrator(principal, "only an admin may manage webhooks")?;
        let mut errors = ValidationErrors::default();
        if let Err(message) = check_url(&input.url, &self.settings.own_addresses) {
            errors.push("/url", message);
        }
        let known = event_types();
        for (n, pattern) in input.event_types.iter().enumerate() {
            if !known.iter().any(|(_, _, name)| {
                fathom_events::type_matches(std::slice::from_ref(pattern), name)
            }) {
                errors.push(
                    format!("/event_types/{n}"),
                    "matches no event type (see /api/v1/asyncapi.json)",
                );
            }
        }
        let owner = input.owner.unwrap_or_else(|| principal.name.clone());
        match self.store.user_by_name(&owner).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => errors.push("/owner", "no such user"),
            Err(other) => return Err(ServiceError::Internal(other)),
        }
        errors.into_result(|| ())?;
        let secret = fathom_events::new_secret().map_err(|e| {
            ServiceError::Internal(StoreError::Corrupt(format!("no randomness: {e}")))
        })?;
        let webhook = Webhook {
            id: Uuid::now_v7(),
            url: input.url,
            event_types: input.event_types,
            secret: secret.clone(),
            owner,
            created_by: principal.name.clone(),
            start_seq: self
                .store
                .latest_change()
                .await
                .map_err(ServiceError::Internal)?,
            created_at: fathom_store::now(),
        };
        self.store
            .insert_webhook(&webhook)
            .await
            .map_err(ServiceError::Internal)?;
        Ok(WebhookView {
            secret: Some(secret),
            ..webhook.into()
        })
    }

    pub async fn list(&self, principal: &Principal) -> Result<Vec<WebhookView>> {
        Ok(self
            .all(principal)
            .await?
            .into_iter()
            .map(WebhookView::from)
            .collect())
    }

    pub async fn get(&self, principal: &Principal, id: Uuid) -> Result<WebhookView> {
        Ok(self.find(principal, id).await?.into())
    }

    pub async fn delete(&self, principal: &Principal, id: Uuid) -> Result<()> {
        let webhook = self.find(principal, id).await?;
        self.store
            .delete_webhook(&webhook)
            .await
            .map_err(|e| ServiceError::from_store("webhook", e))
    }

    pub async fn dead_letters(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<Vec<DeadLetterView>> {
        let webhook = self.find(principal, id).await?;
        let letters = self
            .store
            .dead_letters(&webhook.target())
            .await
            .map_err(ServiceError::Internal)?;
        Ok(letters.into_iter().map(DeadLetterView::from).collect())
    }

    /// Sends a dead letter once more, now; on success it is no longer a dead letter.
    pub async fn redeliver(&self, principal: &Principal, id: Uuid, seq: i64) -> Result<()> {
        let webhook = self.find(principal, id).await?;
        let letters = self
            .store
            .dead_letters(&webhook.target())
            .await
            .map_err(ServiceError::Internal)?;
        if !letters.iter().any(|letter| letter.seq == seq) {
            return Err(ServiceError::NotFound("dead letter"));
        }
        let event = self
            .store
            .event(seq)
            .await
            .map_err(ServiceError::Internal)?
            .ok_or_else(|| {
                ServiceError::refused(Code::EventPruned, "the event was pruned from the outbox")
            })?;
        let owner = self
            .store
            .user_by_name(&webhook.owner)
            .await
            .map_err(|e| ServiceError::from_store("user", e))?;
        let target = self.target(&webhook, owner)?;
        let envelope = Envelope::new(&self.settings.source, &event);
        if !target.wants(&envelope) {
            return Err(ServiceError::refused(
                Code::EventNotVisible,
                "the subscription's owner may no longer see this event",
            ));
        }
        target
            .deliver(&envelope)
            .await
            .map_err(|error| ServiceError::refused(Code::ReceiverFailed, error.to_string()))?;
        self.store
            .delete_dead_letter(&webhook.target(), seq)
            .await
            .map_err(|e| ServiceError::from_store("dead letter", e))
    }

    /// Brings the relay's webhook targets in step with the subscriptions and their owners: new
    /// subscriptions start; deleted ones, and those whose owner was disabled, stop; one whose owner
    /// changed starts again with the owner as they are now.
    pub async fn sync(&self, relay: &RelayHandle) -> Result<()> {
        let webhooks = self
            .store
            .webhooks()
            .await
            .map_err(ServiceError::Internal)?;
        // Most deployments have no subscription: then there is no owner to read, every second.
        let (users, disabled) = if webhooks.is_empty() {
            (Vec::new(), std::collections::HashSet::new())
        } else {
            let users = self.store.users().await.map_err(ServiceError::Internal)?;
            let disabled = self.store.disabled_users().await;
            (users, disabled.map_err(ServiceError::Internal)?)
        };
        let owner_of = |webhook: &Webhook| {
            users
                .iter()
                .find(|user| user.name == webhook.owner && !disabled.contains(&user.name))
        };
        let mut started = self.started.lock().unwrap_or_else(PoisonError::into_inner);
        for name in relay
            .targets()
            .iter()
            .filter(|name| name.starts_with(Webhook::TARGET_PREFIX))
        {
            let owner = webhooks
                .iter()
                .find(|webhook| &webhook.target() == name)
                .and_then(owner_of);
            if owner.is_none() || owner != started.get(name) {
                relay.remove(name);
                started.remove(name);
            }
        }
        let running = relay.targets();
        for webhook in webhooks
            .iter()
            .filter(|webhook| !running.contains(&webhook.target()))
        {
            let Some(owner) = owner_of(webhook) else {
                continue;
            };
            match self.target(webhook, owner.clone()) {
                Ok(target) => {
                    relay.add(Target::Webhook(target));
                    started.insert(webhook.target(), owner.clone());
                }
                Err(error) => {
                    tracing::warn!(webhook = %webhook.id, %error, "cannot start a webhook")
                }
            }
        }
        Ok(())
    }

    /// Keeps the relay's webhook targets in step with the subscriptions, every second.
    pub fn spawn_sync(self, relay: Arc<RelayHandle>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut every_second = tokio::time::interval(Duration::from_secs(1));
            loop {
                every_second.tick().await;
                if let Err(error) = self.sync(&relay).await {
                    tracing::warn!(%error, "cannot read the webhook subscriptions");
                }
            }
        })
    }

    /// Every subscription, to an admin.
    async fn all(&self, principal: &Principal) -> Result<Vec<Webhook>> {
        access::require_administrator(principal, "only an admin may manage webhooks")?;
        self.store.webhooks().await.map_err(ServiceError::Internal)
    }

    async fn find(&self, principal: &Principal, id: Uuid) -> Result<Webhook> {
        let all = self.all(principal).await?;
        all.into_iter()
            .find(|webhook| webhook.id == id)
            .ok_or(ServiceError::NotFound("webhook"))
    }

    /// The subscription as a delivery target, filtering by what `owner` may read.
    fn target(&self, webhook: &Webhook, owner: User) -> Result<WebhookTarget> {
        let subject = access::subject(&self.policy, &identity::principal(owner, Vec::new()));
        let policy = Arc::clone(&self.policy);
        let visible: Visibility = Arc::new(move |event_type: &str, data: &RawValue| {
            #[derive(Deserialize)]
            struct Labelled {
                security_label: Option<SecurityLabel>,
            }
            match serde_json::from_str::<Labelled>(data.get()) {
                // Records without labels by design (organisations, the domain model's entities);
                // anything else unlabelled (an agreement's steps) only to administrators.
                Ok(Labelled {
                    security_label: None,
                }) => unlabelled(event_type) || subject.administrator,
                Ok(Labelled {
                    security_label: Some(label),
                }) => policy.subject_may_read(&subject, &label),
                Err(_) => false,
            }
        });
        WebhookTarget::new(
            webhook,
            visible,
            self.settings.timeout,
            self.settings.max_attempts,
        )
        .map_err(|error| ServiceError::Fault(error.to_string()))
    }
}

/// Whether events of `event_type` are about records that carry no label by design.
fn unlabelled(event_type: &str) -> bool {
    let entity = event_type
        .strip_prefix(fathom_model::EVENT_TYPE_PREFIX)
        .and_then(|rest| rest.strip_prefix('.'))
        .and_then(|rest| rest.split('.').next())
        .unwrap_or_default();
    entity == "organisation" || fathom_model::EntityKind::parse(entity).is_some()
}

/// An `http(s)://` URL with a host, that does not point at this server itself.
fn check_url(raw: &str, own_addresses: &[SocketAddr]) -> std::result::Result<(), String> {
    let url = reqwest::Url::parse(raw).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http:// or https:// URL".into());
    }
    let host = url.host_str().ok_or("has no host")?;
    let port = url.port_or_known_default().unwrap_or(0);
    let host_ip: Option<IpAddr> = host.trim_matches(['[', ']']).parse().ok();
    let local = host.eq_ignore_ascii_case("localhost")
        || host_ip.is_some_and(|ip| ip.is_loopback() || ip.is_unspecified());
    let points_at_us = own_addresses.iter().any(|own| {
        own.port() == port
            && (local
                || host_ip == Some(own.ip())
                || (own.ip().is_unspecified() && host_ip.is_some()))
    });
    if points_at_us {
        return Err("points at this server itself".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_records_unlabelled_by_design_go_out_without_a_label() {
        assert!(unlabelled("org.fathom.organisation.updated"));
        assert!(unlabelled("org.fathom.platform.created"));
        assert!(!unlabelled("org.fathom.agreement.accepted"));
        assert!(!unlabelled("org.fathom.dataset.created"));
        assert!(!unlabelled("elsewhere.organisation.created"));
    }

    #[test]
    fn urls_must_be_http_and_not_the_server_itself() {
        let own: Vec<SocketAddr> = vec!["127.0.0.1:8080".parse().unwrap()];
        assert!(check_url("https://hooks.example.org/fathom", &own).is_ok());
        assert!(
            check_url("http://127.0.0.1:9000/hook", &own).is_ok(),
            "another local port"
        );
        assert!(check_url("ftp://hooks.example.org/", &own).is_err());
        assert!(check_url("not a url", &own).is_err());
        assert!(check_url("http://127.0.0.1:8080/api/v1/datasets", &own).is_err());
        assert!(check_url("http://localhost:8080/", &own).is_err());
        assert!(check_url("http://[::1]:8080/", &own).is_err());
        let everywhere: Vec<SocketAddr> = vec!["0.0.0.0:8080".parse().unwrap()];
        assert!(check_url("http://10.1.2.3:8080/", &everywhere).is_err());
    }
}
