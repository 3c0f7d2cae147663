//! The effective configuration: defaults < `fathom.toml` < `FATHOM_*` environment < flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use fathom_model::{Policy, PolicyDocument};
use fathom_service::{
    ClaimNames, Database, OidcClient, OidcConfig, ServiceSettings, SessionSettings,
    SharingSettings, WebhookSettings,
};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Every environment variable `fathom` reads is named here: the prefix of its settings, the two
/// that are not settings, and the settings themselves ([`SETTINGS`], [`SECRETS`]). (The test suites'
/// own, `FATHOM_TEST_POSTGRES_URL`, `FATHOM_TEST_AMQP_URL` and `FATHOM_TEST_NATS_URL`, are named in
/// the `testing` modules of `fathom-store` and `fathom-events`.)
pub const ENV_PREFIX: &str = "FATHOM_";
/// The configuration file's path.
pub const CONFIG_VAR: &str = "FATHOM_CONFIG";
/// The log filter (`info`, `fathom_store=debug`, …).
pub const LOG_VAR: &str = "FATHOM_LOG";
/// `FATHOM_<SECRET>_FILE` names a file holding the secret (a container or Kubernetes secret).
const FILE_SUFFIX: &str = "_FILE";

/// The settings that are secrets: held as [`Secret`]s, and each may be read from a file.
const SECRETS: [&str; 5] = [
    "database_url",
    "bootstrap_token",
    "amqp_url",
    "nats_url",
    "oidc_client_secret",
];

/// The settings read from `FATHOM_*` variables.
const SETTINGS: [&str; 48] = [
    "listen",
    "public_url",
    "catalogue_title",
    "catalogue_description",
    "catalogue_publisher",
    "catalogue_email",
    "oai_page_size",
    "sparql",
    "harvest_lease_seconds",
    "session_idle_minutes",
    "session_lifetime_hours",
    "ui_basemap_url",
    "admin_listen",
    "oidc_issuer",
    "oidc_audience",
    "oidc_client_id",
    "oidc_client_secret",
    "oidc_scopes",
    "oidc_claim_username",
    "oidc_claim_role",
    "oidc_claim_clearance",
    "oidc_claim_nationality",
    "oidc_claim_communities",
    "oidc_claim_memberships",
    "tls_cert",
    "tls_key",
    "rate_limit_per_token",
    "rate_limit_per_address",
    "rate_limit_failures_per_address",
    "trusted_proxies",
    "cors_origins",
    "policy",
    "data_dir",
    "database_url",
    "body_limit",
    "search_cache",
    "bootstrap_token",
    "log_format",
    "access_log",
    "amqp_url",
    "amqp_exchange",
    "nats_url",
    "nats_stream",
    "nats_subject_prefix",
    "event_source",
    "event_retention_hours",
    "webhook_timeout_seconds",
    "webhook_max_attempts",
];

/// A secret setting (a token, or a URL that may hold a password). Its `Debug` and `Serialize` forms
/// are redacted (a URL keeps all but its password), so neither a log line nor `fathom config` shows
/// it; [`Secret::expose`] is the one way to the value.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn redacted(&self) -> String {
        if self.0.contains("://") {
            redact_url(&self.0)
        } else {
            "<redacted>".to_owned()
        }
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({:?})", self.redacted())
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.redacted())
    }
}

/// Everything `fathom` can be configured with. See `docs/configuration.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The address the server listens on.
    pub listen: SocketAddr,
    /// A second, private address for `/metrics` and the health checks; when set, the main
    /// listener no longer serves `/metrics`.
    pub admin_listen: Option<SocketAddr>,
    /// The address clients reach the server at (`https://catalogue.example.org`), which every IRI of
    /// the RDF exports starts with; the listening address when absent.
    pub public_url: Option<String>,
    /// What the catalogue says of itself in DCAT-AP (`dcat:Catalog`): title, description, and the
    /// name of the organisation that runs it.
    pub catalogue_title: String,
    pub catalogue_description: String,
    pub catalogue_publisher: String,
    /// Where to write to the people who run the catalogue (OAI-PMH `Identify`).
    pub catalogue_email: String,
    /// Records per page of OAI-PMH `ListRecords` and `ListIdentifiers`.
    pub oai_page_size: u32,
    /// Serve `/api/v1/sparql`: the catalogue's DCAT-AP graph held in memory (about 25 KB a dataset).
    pub sparql: bool,
    /// How long a harvest job's lease lasts (each page renews it): how long the job of a crashed
    /// harvester blocks its source before it is failed as interrupted.
    pub harvest_lease_seconds: u64,
    /// A browser's session ends when unused this long.
    pub session_idle_minutes: u64,
    /// A browser's session ends this long after signing in, used or not.
    pub session_lifetime_hours: u64,
    /// The pages' maps draw tiles from here (a Leaflet URL template with `{z}`, `{x}`, `{y}`)
    /// instead of the embedded Natural Earth land.
    pub ui_basemap_url: Option<String>,
    /// The TLS certificate chain (PEM); with `tls_key`, the server speaks HTTPS (HTTP/2 and 1.1).
    pub tls_cert: Option<PathBuf>,
    /// The TLS private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// Where the embedded database and this replica's search index (`search/`) live.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL instead of the embedded SQLite file.
    pub database_url: Option<Secret>,
    /// The security policy file (TOML or JSON); the shipped default policy when absent.
    pub policy: Option<PathBuf>,
    /// An OpenID Connect issuer: its JWTs are accepted as bearer tokens (with `oidc_audience`), and
    /// people sign in at it on the pages (with `oidc_client_id` and `oidc_client_secret`).
    pub oidc_issuer: Option<String>,
    /// The audience those tokens must be for.
    pub oidc_audience: Option<String>,
    /// Fathom's client id at the issuer, for signing in on the pages.
    pub oidc_client_id: Option<String>,
    /// That client's secret.
    pub oidc_client_secret: Option<Secret>,
    /// The scopes asked for at sign-in, besides `openid`.
    pub oidc_scopes: Vec<String>,
    /// The claims carrying the username, role, clearance, nationality, communities and memberships.
    pub oidc_claim_username: String,
    pub oidc_claim_role: String,
    pub oidc_claim_clearance: String,
    pub oidc_claim_nationality: String,
    pub oidc_claim_communities: String,
    pub oidc_claim_memberships: String,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
    /// How many recent search results are kept for repeated searches (0: none).
    pub search_cache: usize,
    /// Browser origins allowed to call the API (CORS), e.g. `https://portal.example.org`.
    pub cors_origins: Vec<String>,
    /// Requests per minute per API token (0: no limit).
    pub rate_limit_per_token: u32,
    /// Requests per minute per client address without a token (0: no limit).
    pub rate_limit_per_address: u32,
    /// Failed authentications per minute per client address (0: no limit).
    pub rate_limit_failures_per_address: u32,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// When set and no admin exists, the server creates the user `admin` holding this token.
    pub bootstrap_token: Option<Secret>,
    /// `auto` (text on a terminal, else JSON), `text` or `json` log lines on standard error.
    pub log_format: LogFormat,
    /// A log line per request: method, route template, status, duration, request id.
    pub access_log: bool,
    /// RabbitMQ to publish events to (`amqp://user:password@host:5672/%2f`); none when absent.
    pub amqp_url: Option<Secret>,
    /// The durable topic exchange events are published to, routed by event type.
    pub amqp_exchange: String,
    /// NATS JetStream to publish events to (`nats://host:4222`); none when absent.
    pub nats_url: Option<Secret>,
    /// The JetStream stream, created if missing over the subjects `{nats_subject_prefix}.>`.
    pub nats_stream: String,
    pub nats_subject_prefix: String,
    /// The CloudEvents `source` of every event: a URI reference naming this catalogue.
    pub event_source: String,
    /// How long delivered events stay in the outbox.
    pub event_retention_hours: u64,
    /// How long a webhook receiver may take to answer.
    pub webhook_timeout_seconds: u64,
    /// How often an event is tried on a webhook before it becomes a dead letter.
    pub webhook_max_attempts: u32,
    /// The sharing workflows (the `[sharing]` table of `fathom.toml`): approval-chain rules, the
    /// groups they name (`security_officers`, `release_officers`, `auditors`), time limits. The defaults when absent.
    pub sharing: Option<SharingSettings>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Text on a terminal, JSON lines otherwise (a container, a pipe, a file).
    Auto,
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_listen: None,
            public_url: None,
            catalogue_title: fathom_api::Site::default().title,
            catalogue_description: fathom_api::Site::default().description,
            catalogue_publisher: fathom_api::Site::default().publisher,
            catalogue_email: fathom_api::Site::default().email,
            oai_page_size: fathom_service::DEFAULT_OAI_PAGE,
            sparql: false,
            harvest_lease_seconds: fathom_service::DEFAULT_LEASE.as_secs(),
            session_idle_minutes: SessionSettings::default().idle.as_secs() / 60,
            session_lifetime_hours: SessionSettings::default().lifetime.as_secs() / 3600,
            ui_basemap_url: None,
            tls_cert: None,
            tls_key: None,
            data_dir: PathBuf::from("./fathom-data"),
            database_url: None,
            policy: None,
            oidc_issuer: None,
            oidc_audience: None,
            oidc_client_id: None,
            oidc_client_secret: None,
            oidc_scopes: vec!["profile".into()],
            oidc_claim_username: ClaimNames::default().username,
            oidc_claim_role: ClaimNames::default().role,
            oidc_claim_clearance: ClaimNames::default().clearance,
            oidc_claim_nationality: ClaimNames::default().nationality,
            oidc_claim_communities: ClaimNames::default().communities,
            oidc_claim_memberships: ClaimNames::default().memberships,
            body_limit: 1024 * 1024,
            search_cache: fathom_service::DEFAULT_CACHE_ENTRIES,
            cors_origins: Vec::new(),
            rate_limit_per_token: fathom_api::RateLimits::default().per_token,
            rate_limit_per_address: fathom_api::RateLimits::default().per_address,
            rate_limit_failures_per_address: fathom_api::RateLimits::default().failures_per_address,
            trusted_proxies: Vec::new(),
            bootstrap_token: None,
            log_format: LogFormat::Auto,
            access_log: true,
            amqp_url: None,
            amqp_exchange: fathom_events::DEFAULT_EXCHANGE.to_owned(),
            nats_url: None,
            nats_stream: fathom_events::DEFAULT_STREAM.to_owned(),
            nats_subject_prefix: fathom_events::DEFAULT_SUBJECT_PREFIX.to_owned(),
            event_source: fathom_events::RelayConfig::default().source,
            event_retention_hours: 7 * 24,
            webhook_timeout_seconds: WebhookSettings::default().timeout.as_secs(),
            webhook_max_attempts: WebhookSettings::default().max_attempts,
            sharing: None,
        }
    }
}

/// Values given on the command line; absent ones leave the lower layers in force.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<PathBuf>,
}

impl Config {
    /// Where the records live.
    pub fn database(&self) -> Database {
        match &self.database_url {
            Some(url) => Database::Postgres(url.expose().to_owned()),
            None => Database::Sqlite(self.data_dir.clone()),
        }
    }

    /// The use cases' settings, for a server listening at `listening` (`http://host:port`; for a
    /// command, the configured `listen`). The caller adds what only a server has: the search
    /// index, its own addresses and its relay's health.
    pub fn service_settings(
        &self,
        policy: &Policy,
        listening: &str,
    ) -> anyhow::Result<ServiceSettings> {
        let defaults = ServiceSettings::default();
        Ok(ServiceSettings {
            site: self.site(listening)?,
            sharing: Some(self.sharing_settings(policy)?),
            webhooks: self.webhook_settings(Vec::new()),
            oidc: self.oidc()?,
            oai_page_size: self.oai_page_size,
            harvest_lease: std::time::Duration::from_secs(self.harvest_lease_seconds.max(1)),
            sessions: SessionSettings {
                idle: std::time::Duration::from_secs(self.session_idle_minutes.max(1) * 60),
                lifetime: std::time::Duration::from_secs(self.session_lifetime_hours.max(1) * 3600),
            },
            // SPARQL holds the whole graph in memory: only where configured.
            sparql: if self.sparql { defaults.sparql } else { None },
            channels: self.channels(),
            ..defaults
        })
    }

    /// The sharing workflows' settings, checked against the policy.
    pub fn sharing_settings(&self, policy: &Policy) -> anyhow::Result<SharingSettings> {
        let settings = self
            .sharing
            .clone()
            .unwrap_or_else(|| SharingSettings::for_policy(policy));
        settings
            .check(policy)
            .map_err(|message| anyhow::anyhow!("sharing.{message}"))?;
        Ok(settings)
    }

    /// The relay's settings and the configured targets (none: events wait in the outbox).
    pub fn events(&self) -> (fathom_events::RelayConfig, Vec<fathom_events::Target>) {
        let relay = fathom_events::RelayConfig {
            source: self.event_source.clone(),
            retention: std::time::Duration::from_secs(self.event_retention_hours * 3600),
            ..fathom_events::RelayConfig::default()
        };
        let mut targets = Vec::new();
        if let Some(url) = &self.amqp_url {
            targets.push(fathom_events::Target::Amqp(fathom_events::AmqpTarget::new(
                url.expose(),
                &self.amqp_exchange,
            )));
        }
        if let Some(url) = &self.nats_url {
            targets.push(fathom_events::Target::Nats(fathom_events::NatsTarget::new(
                url.expose(),
                &self.nats_stream,
                &self.nats_subject_prefix,
            )));
        }
        (relay, targets)
    }

    /// How webhooks are delivered; `own_addresses`: where this server listens (refused as URLs).
    pub fn webhook_settings(&self, own_addresses: Vec<SocketAddr>) -> WebhookSettings {
        WebhookSettings {
            timeout: std::time::Duration::from_secs(self.webhook_timeout_seconds),
            max_attempts: self.webhook_max_attempts.max(1),
            own_addresses,
            source: self.event_source.clone(),
        }
    }

    /// Where the catalogue is published; `listening`: the address it serves, for want of `public_url`.
    pub fn site(&self, listening: &str) -> anyhow::Result<fathom_api::Site> {
        let base = self.public_url.as_deref().unwrap_or(listening);
        let host = base
            .strip_prefix("https://")
            .or_else(|| base.strip_prefix("http://"))
            .unwrap_or_default();
        anyhow::ensure!(
            !host.is_empty()
                && !host.starts_with('/')
                && !base.contains(['?', '#', ' ', '<', '>', '"', '{', '}', '\\']),
            "public_url: `{base}` is not an http(s) URL without a query or fragment"
        );
        Ok(fathom_api::Site {
            base: base.trim_end_matches('/').to_owned(),
            title: self.catalogue_title.clone(),
            description: self.catalogue_description.clone(),
            publisher: self.catalogue_publisher.clone(),
            email: self.catalogue_email.clone(),
        })
    }

    /// Where events are published, for the AsyncAPI document.
    pub fn channels(&self) -> fathom_events::Channels {
        fathom_events::Channels {
            exchange: self.amqp_exchange.clone(),
            stream: self.nats_stream.clone(),
            subject_prefix: self.nats_subject_prefix.clone(),
        }
    }

    /// The OpenID Connect settings, when an issuer is configured.
    pub fn oidc(&self) -> anyhow::Result<Option<OidcConfig>> {
        let client = match (&self.oidc_client_id, &self.oidc_client_secret) {
            (None, None) => None,
            (Some(id), Some(secret)) => Some(OidcClient {
                id: id.clone(),
                secret: secret.expose().to_owned(),
                scopes: self.oidc_scopes.clone(),
            }),
            _ => anyhow::bail!(
                "oidc_client_id and oidc_client_secret are given together or not at all"
            ),
        };
        let Some(issuer) = &self.oidc_issuer else {
            if self.oidc_audience.is_some() || client.is_some() {
                anyhow::bail!("oidc_audience and oidc_client_id need oidc_issuer");
            }
            return Ok(None);
        };
        if self.oidc_audience.is_none() && client.is_none() {
            anyhow::bail!(
                "oidc_issuer needs oidc_audience (to accept its tokens), oidc_client_id (to sign people in), or both"
            );
        }
        let mut config = OidcConfig::new(issuer);
        config.audience.clone_from(&self.oidc_audience);
        config.client = client;
        config.claims = ClaimNames {
            username: self.oidc_claim_username.clone(),
            role: self.oidc_claim_role.clone(),
            clearance: self.oidc_claim_clearance.clone(),
            nationality: self.oidc_claim_nationality.clone(),
            communities: self.oidc_claim_communities.clone(),
            memberships: self.oidc_claim_memberships.clone(),
        };
        Ok(Some(config))
    }

    /// The security policy: the configured file, or the shipped default.
    pub fn load_policy(&self) -> anyhow::Result<Policy> {
        let Some(path) = &self.policy else {
            return Ok(Policy::default_policy());
        };
        let document: PolicyDocument = if path.extension().is_some_and(|e| e == "toml") {
            Figment::from(Toml::file_exact(path))
                .extract()
                .with_context(|| format!("cannot read the policy {}", path.display()))?
        } else {
            let text = std::fs::read(path)
                .with_context(|| format!("cannot read the policy {}", path.display()))?;
            serde_json::from_slice(&text)
                .with_context(|| format!("cannot read the policy {}", path.display()))?
        };
        Policy::parse(document).map_err(|errors| {
            let problems: Vec<String> = errors
                .0
                .iter()
                .map(|e| format!("{}: {}", e.pointer, e.message))
                .collect();
            anyhow::anyhow!(
                "the policy {} is not valid: {}",
                path.display(),
                problems.join("; ")
            )
        })
    }

    /// Layers the sources. `file` is the configuration file; a missing file is skipped. A secret
    /// read from the file `FATHOM_<NAME>_FILE` names stands above `FATHOM_<NAME>`.
    pub fn load(file: &Path, overrides: &Overrides) -> Result<Self, Box<figment::Error>> {
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed(ENV_PREFIX).only(&SETTINGS))
            .merge(Serialized::defaults(secrets_from_files()?))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(Box::new)
    }
}

/// The secrets given as files (`FATHOM_DATABASE_URL_FILE=/run/secrets/database-url`), their
/// contents without the final line break.
fn secrets_from_files()
-> Result<std::collections::BTreeMap<&'static str, String>, Box<figment::Error>> {
    let mut found = std::collections::BTreeMap::new();
    for name in SECRETS {
        let variable = format!("{ENV_PREFIX}{}{FILE_SUFFIX}", name.to_uppercase());
        let Some(path) = std::env::var_os(&variable) else {
            continue;
        };
        let text = std::fs::read_to_string(&path).map_err(|error| {
            Box::new(figment::Error::from(format!(
                "{variable}: cannot read {}: {error}",
                Path::new(&path).display()
            )))
        })?;
        found.insert(name, text.trim_end_matches(['\r', '\n']).to_owned());
    }
    Ok(found)
}

/// `postgres://user:secret@host/db` → `postgres://user:<redacted>@host/db` (and `amqp://`, `nats://`).
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    // A password in the query (`?password=…`, `sslpassword=…`) goes whole: the query is dropped.
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) if query.to_ascii_lowercase().contains("password") => {
            (rest, "?<redacted>".to_owned())
        }
        Some((rest, query)) => (rest, format!("?{query}")),
        None => (rest, String::new()),
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return format!("{scheme}://{rest}{query}");
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:<redacted>@{host}{query}"),
        // A token as the whole user part (`nats://TOKEN@host`).
        None => format!("{scheme}://<redacted>@{host}{query}"),
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's test jail returns its own error type
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "fathom.toml",
                "listen = \"0.0.0.0:9000\"\nbody_limit = 10\ndata_dir = \"/from/file\"",
            )?;
            jail.set_env("FATHOM_BODY_LIMIT", "20");
            jail.set_env("FATHOM_DATA_DIR", "/from/env");
            let overrides = Overrides {
                data_dir: Some("/from/flag".into()),
                ..Default::default()
            };
            let config = Config::load(Path::new("fathom.toml"), &overrides).map_err(|e| *e)?;
            assert_eq!(config.listen.port(), 9000, "file over default");
            assert_eq!(config.body_limit, 20, "env over file");
            assert_eq!(
                config.data_dir,
                PathBuf::from("/from/flag"),
                "flag over env"
            );
            assert_eq!(config.log_format, LogFormat::Auto, "default");
            Ok(())
        });
    }

    #[test]
    fn unknown_settings_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("fathom.toml", "listn = \"0.0.0.0:9000\"")?;
            assert!(Config::load(Path::new("fathom.toml"), &Overrides::default()).is_err());
            Ok(())
        });
    }

    #[test]
    fn secrets_are_redacted() {
        let config = Config {
            database_url: Some("postgres://fathom:hunter2@db:5432/fathom".into()),
            bootstrap_token: Some("s3cret".into()),
            amqp_url: Some("amqp://fathom:rabbitpass@mq:5672/%2f".into()),
            ..Config::default()
        };
        for shown in [
            serde_json::to_string(&config).unwrap(),
            format!("{config:?}"),
        ] {
            assert!(
                !shown.contains("hunter2")
                    && !shown.contains("s3cret")
                    && !shown.contains("rabbitpass"),
                "{shown}"
            );
            assert!(shown.contains("postgres://fathom:<redacted>@db:5432/fathom"));
        }
        for (url, shown) in [
            ("nats://s3cret-token@mq:4222", "nats://<redacted>@mq:4222"),
            (
                "postgres://db/fathom?user=f&password=hunter2",
                "postgres://db/fathom?<redacted>",
            ),
            (
                "postgres://db/fathom?sslmode=disable",
                "postgres://db/fathom?sslmode=disable",
            ),
            ("nats://mq:4222", "nats://mq:4222"),
        ] {
            assert_eq!(redact_url(url), shown);
        }
        assert_eq!(
            config.database_url.as_ref().map(Secret::expose),
            Some("postgres://fathom:hunter2@db:5432/fathom")
        );
    }

    #[test]
    fn secrets_are_read_from_files() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("token", "from-the-file\n")?;
            jail.set_env("FATHOM_BOOTSTRAP_TOKEN", "from-the-variable");
            jail.set_env("FATHOM_BOOTSTRAP_TOKEN_FILE", "token");
            let config = Config::load(Path::new("none.toml"), &Overrides::default()).unwrap();
            assert_eq!(
                config.bootstrap_token.as_ref().map(Secret::expose),
                Some("from-the-file")
            );
            jail.set_env("FATHOM_DATABASE_URL_FILE", "missing");
            let error = Config::load(Path::new("none.toml"), &Overrides::default()).unwrap_err();
            assert!(
                error.to_string().contains("FATHOM_DATABASE_URL_FILE"),
                "{error}"
            );
            Ok(())
        });
    }
}
