//! The composition root: every use case built once, from the store, the search index, the policy
//! and the settings. The API's state, every command and the demo loader take the one [`Services`]
//! value, so each setting reaches every place it applies to.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use fathom_events::{Channels, RelayHealth};
use fathom_formats::{Format, Record, Site};
use fathom_model::{Dataset, Organisation, Policy, Principal};
use fathom_store::{AuditEvent, ChainReport, RecordKey, Store, StoreError};

use crate::error::ServiceError;
use crate::{
    Catalogue, DEFAULT_LEASE, DEFAULT_OAI_PAGE, Events, Harvesting, Idempotency, Identity, OaiPmh,
    OidcConfig, Search, SessionSettings, Sessions, Sharing, SharingSettings, Sparql,
    WebhookSettings, Webhooks, identity::AUTHENTICATION_TTL, oidc::OidcSignIn,
    sparql::QUERY_TIMEOUT,
};

/// Where the catalogue's records live.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// The embedded default: `fathom.db` in this directory.
    Sqlite(PathBuf),
    /// `postgres://…`.
    Postgres(String),
}

/// Without the PostgreSQL URL, which may hold a password.
impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(dir) => f.debug_tuple("Sqlite").field(dir).finish(),
            Self::Postgres(_) => f.write_str("Postgres(<redacted>)"),
        }
    }
}

impl Database {
    /// Opens (creating the SQLite file in its existing directory if needed) and brings the schema
    /// up to date: every command migrates first.
    pub async fn open(&self) -> Result<Store, StoreError> {
        let store = match self {
            Self::Sqlite(dir) => Store::open_sqlite(dir).await?,
            Self::Postgres(url) => Store::connect_postgres(url).await?,
        };
        store.migrate().await?;
        Ok(store)
    }
}

/// This replica's search index: the folder holding it (`search` inside), and how many recent
/// results it reuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSettings {
    pub data_dir: PathBuf,
    pub cache_entries: usize,
}

/// What the use cases are configured with. The defaults serve everything with the built-in limits
/// (SPARQL on, no index, no OIDC): a test starts from them and changes what it needs; the binary
/// makes its own from the configuration (`Config::service_settings`, where SPARQL is off unless
/// configured).
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// The search index; `None` for a command that does not search (an index's writer is held by
    /// one process at a time: a command beside a running server must not take it).
    pub index: Option<IndexSettings>,
    /// Where the catalogue is published: the base of every IRI of the exports and of SPARQL.
    pub site: Site,
    /// The sharing workflows; the policy's defaults when absent.
    pub sharing: Option<SharingSettings>,
    pub webhooks: WebhookSettings,
    /// JWTs of an OpenID Connect issuer accepted as bearer tokens.
    pub oidc: Option<OidcConfig>,
    /// How long an authenticated token is trusted without asking the database again.
    pub authentication_ttl: Duration,
    pub oai_page_size: u32,
    pub harvest_lease: Duration,
    /// SPARQL over the catalogue's graph held in memory, its queries stopped after this long;
    /// `None`: not served.
    pub sparql: Option<Duration>,
    /// The health of this process's event relay, and where it publishes.
    pub relay: RelayHealth,
    pub channels: Channels,
    /// How long a browser's session lasts.
    pub sessions: SessionSettings,
}

impl Default for ServiceSettings {
    fn default() -> Self {
        Self {
            index: None,
            site: Site::default(),
            sharing: None,
            webhooks: WebhookSettings::default(),
            oidc: None,
            authentication_ttl: AUTHENTICATION_TTL,
            oai_page_size: DEFAULT_OAI_PAGE,
            harvest_lease: DEFAULT_LEASE,
            sparql: Some(QUERY_TIMEOUT),
            relay: RelayHealth::default(),
            channels: Channels::default(),
            sessions: SessionSettings::default(),
        }
    }
}

/// Every use case, built once.
#[derive(Debug, Clone)]
pub struct Services {
    pub catalogue: Catalogue,
    pub identity: Identity,
    /// Passwords, signing in on a page, and browsers' sessions.
    pub sessions: Sessions,
    pub idempotency: Idempotency,
    /// `None` where the settings named no index.
    pub search: Option<Search>,
    pub events: Events,
    pub webhooks: Webhooks,
    /// Access requests, grants, the inbox and the audit log.
    pub sharing: Sharing,
    /// OAI-PMH's lists, pages and resumption tokens.
    pub oai_pmh: OaiPmh,
    pub harvesting: Harvesting,
    /// `None` where SPARQL is off.
    pub sparql: Option<Sparql>,
    /// Where the catalogue is published and what it says of itself.
    pub site: Arc<Site>,
    store: Store,
}

impl Services {
    /// Builds every use case over `store` under `policy`.
    pub fn new(
        store: Store,
        policy: Arc<Policy>,
        settings: ServiceSettings,
    ) -> Result<Self, ServiceError> {
        let search = settings
            .index
            .map(|index| {
                Search::open(
                    &index.data_dir,
                    store.clone(),
                    Arc::clone(&policy),
                    index.cache_entries,
                )
            })
            .transpose()?;
        let catalogue = Catalogue::new(store.clone(), Arc::clone(&policy));
        let mut identity = Identity::with_authentication_ttl(
            store.clone(),
            Arc::clone(&policy),
            settings.authentication_ttl,
        );
        let mut oidc_sign_in = None;
        if let Some(oidc) = settings.oidc {
            if let Some(client) = oidc.client.clone() {
                oidc_sign_in = Some(
                    OidcSignIn::new(&oidc, client, &settings.site.base)
                        .map_err(ServiceError::Fault)?,
                );
            }
            identity = identity.with_oidc(oidc);
        }
        let site = Arc::new(settings.site);
        let sharing = settings
            .sharing
            .unwrap_or_else(|| SharingSettings::for_policy(&policy));
        Ok(Self {
            identity,
            sessions: Sessions::new(store.clone(), settings.sessions, oidc_sign_in),
            idempotency: Idempotency::new(store.clone()),
            search,
            events: Events::new(store.clone(), settings.relay, &settings.channels),
            webhooks: Webhooks::new(store.clone(), Arc::clone(&policy), settings.webhooks),
            sharing: Sharing::new(store.clone(), Arc::clone(&policy), sharing),
            oai_pmh: OaiPmh::new(store.clone(), Arc::clone(&policy))
                .with_page_size(settings.oai_page_size),
            harvesting: Harvesting::new(store.clone(), catalogue.clone())
                .with_lease(settings.harvest_lease),
            sparql: settings.sparql.map(|timeout| {
                Sparql::new(store.clone(), Arc::clone(&policy), Arc::clone(&site))
                    .with_timeout(timeout)
            }),
            catalogue,
            site,
            store,
        })
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    /// Writes a consistent copy of the embedded database to `path` while it serves, with the
    /// security policy in force (`policy`, JSON) attached as `attachment`.
    pub async fn backup_to(
        &self,
        path: &std::path::Path,
        attachment: (&str, &str),
    ) -> Result<(), ServiceError> {
        self.store
            .backup_to(path, &[attachment])
            .await
            .map_err(ServiceError::Internal)
    }

    /// Walks the audit log's hash chain and reports the first broken link.
    pub async fn verify_audit_log(&self) -> Result<ChainReport, ServiceError> {
        self.store
            .verify_audit_chain()
            .await
            .map_err(ServiceError::Internal)
    }

    /// A page of the audit log after the entry `after`, for the operator's command line.
    pub async fn audit_log(&self, after: i64, limit: u32) -> Result<Vec<AuditEvent>, ServiceError> {
        self.store
            .audit_events(after, limit)
            .await
            .map_err(ServiceError::Internal)
    }

    /// Closes the store's connections.
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// A dataset written in `format` (DCAT-AP in an RDF syntax, ISO 19139, schema.org, DCMI terms,
    /// …) as the policy lets `reader` see it, its publisher named: for the API and the pages alike.
    pub async fn dataset_written(
        &self,
        reader: Option<&Principal>,
        key: &RecordKey,
        format: &Format,
    ) -> Result<Vec<u8>, ServiceError> {
        let dataset = self.catalogue.dataset(reader, key).await?;
        let organisation = RecordKey::Slug(dataset.metadata.organisation.to_string());
        let publisher = match self.catalogue.organisation(&organisation).await {
            Ok(organisation) => Some(organisation),
            Err(ServiceError::NotFound(_)) => None,
            Err(error) => return Err(error),
        };
        self.write_dataset(&dataset, publisher.as_ref(), format)
    }

    /// A dataset already read written in `format`, with its `publisher`.
    pub fn write_dataset(
        &self,
        dataset: &Dataset,
        publisher: Option<&Organisation>,
        format: &Format,
    ) -> Result<Vec<u8>, ServiceError> {
        let record = Record::new(&self.site, dataset, publisher, self.catalogue.policy());
        format.write(&record).map_err(|error| {
            ServiceError::Fault(format!(
                "cannot write a dataset as {}: {error}",
                format.name
            ))
        })
    }
}
