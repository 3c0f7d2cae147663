//! Harvesting other catalogues: sources, and the jobs that read them page by page into an
//! organisation (through the idempotent import), reconcile what vanished upstream, and never stay
//! "running" after a crash (a job holds a lease it renews with every page; an expired lease fails
//! the job, and the source can run again).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use fathom_formats::RdfSyntax;
use fathom_formats::import::{ImportFormat, read_ckan_page, read_csw_page, read_dcat_page};
use fathom_formats::oai::{ListAnswer, read_list_records};
use fathom_model::{
    HarvestJob, HarvestSource, HarvestSourceInput, JobStatus, Principal, Role, SourceKind,
};
use fathom_store::{RecordKey, Store};
use futures::StreamExt;
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use uuid::Uuid;

use crate::access;
use crate::catalogue::{Catalogue, ImportStatus};
use crate::codes::Code;
use crate::error::ServiceError;

type Result<T> = std::result::Result<T, ServiceError>;

/// How long a job's lease lasts unless configured otherwise; each page renews it.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(5 * 60);
/// The longest a job may run.
const JOB_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// The longest a request to a source may take, and the largest answer read.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_RESPONSE: usize = 64 << 20;
/// How often an incremental source is read whole all the same.
const FULL_RUN_EVERY: time::Duration = time::Duration::hours(24);
/// Pages of one CKAN or CSW source fetched at the same time.
const PARALLEL_FETCHES: usize = 3;
/// Records asked for per page of CKAN and CSW.
const PAGE: u32 = 100;
/// Sources harvested at the same time by the scheduler.
const PARALLEL_SOURCES: usize = 2;

#[derive(Debug, Clone)]
pub struct Harvesting {
    store: Store,
    catalogue: Catalogue,
    http: reqwest::Client,
    lease: time::Duration,
}

impl Harvesting {
    pub(crate) fn new(store: Store, catalogue: Catalogue) -> Self {
        // The process's TLS provider (ring), as for every client Fathom makes.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(concat!("Fathom-harvester/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self {
            store,
            catalogue,
            http,
            lease: time::Duration::try_from(DEFAULT_LEASE).unwrap_or(time::Duration::MINUTE),
        }
    }

    /// Jobs leased for `lease`: how long a crashed harvester's job blocks its source.
    pub(crate) fn with_lease(self, lease: Duration) -> Self {
        let lease = time::Duration::try_from(lease).unwrap_or(self.lease);
        Self { lease, ..self }
    }

    pub async fn create_source(
        &self,
        principal: &Principal,
        input: HarvestSourceInput,
    ) -> Result<HarvestSource> {
        access::require_administrator(principal, "only an admin may manage harvest sources")?;
        let source = input.parse(Uuid::now_v7(), OffsetDateTime::now_utc())?;
        self.catalogue
            .organisation(&RecordKey::Slug(source.organisation.to_string()))
            .await
            .map_err(|_| {
                fathom_model::ValidationErrors::single(
                    "/organisation",
                    format!("no organisation has the slug `{}`", source.organisation),
                )
            })?;
        self.store
            .insert_harvest_source(&source)
            .await
            .map_err(|e| ServiceError::from_store("harvest source", e))?;
        Ok(source)
    }

    pub async fn sources(&self, principal: &Principal) -> Result<Vec<HarvestSource>> {
        access::require_administrator(principal, "only an admin may manage harvest sources")?;
        self.store
            .harvest_sources()
            .await
            .map_err(ServiceError::Internal)
    }

    /// A source by id or name.
    pub async fn source(&self, principal: &Principal, key: &str) -> Result<HarvestSource> {
        access::require_administrator(principal, "only an admin may manage harvest sources")?;
        match Uuid::try_parse(key) {
            Ok(id) => self
                .store
                .harvest_source(id)
                .await
                .map_err(|e| ServiceError::from_store("harvest source", e)),
            Err(_) => self
                .sources(principal)
                .await?
                .into_iter()
                .find(|s| s.name == key)
                .ok_or(ServiceError::NotFound("harvest source")),
        }
    }

    pub async fn delete_source(&self, principal: &Principal, key: &str) -> Result<()> {
        let source = self.source(principal, key).await?;
        self.store
            .delete_harvest_source(source.id)
            .await
            .map_err(|e| ServiceError::from_store("harvest source", e))
    }

    pub async fn jobs(&self, principal: &Principal, key: &str) -> Result<Vec<HarvestJob>> {
        let source = self.source(principal, key).await?;
        self.store
            .harvest_jobs(source.id, 100)
            .await
            .map_err(ServiceError::Internal)
    }

    /// Runs a source now, to the end (or to the job's time limit), and returns the job.
    pub async fn run(&self, principal: &Principal, key: &str) -> Result<HarvestJob> {
        let source = self.source(principal, key).await?;
        self.run_source(principal, &source).await
    }

    /// Starts a source's job and lets it run in the background; returns the job as it starts.
    pub async fn start(&self, principal: &Principal, key: &str) -> Result<HarvestJob> {
        let source = self.source(principal, key).await?;
        let job = self.begin(&source).await?;
        let harvesting = self.clone();
        let principal = principal.clone();
        let running = job.clone();
        tokio::spawn(async move { harvesting.complete(&principal, &source, running).await });
        Ok(job)
    }

    async fn run_source(
        &self,
        principal: &Principal,
        source: &HarvestSource,
    ) -> Result<HarvestJob> {
        let job = self.begin(source).await?;
        self.complete(principal, source, job).await
    }

    /// Claims a job of `source` (none other may run meanwhile).
    async fn begin(&self, source: &HarvestSource) -> Result<HarvestJob> {
        let now = OffsetDateTime::now_utc();
        // OAI-PMH and CKAN sources are read from the start of the last successful job (a second
        // early, for the datestamps' granularity), but whole at least once a day, so that what
        // vanished without a trace is retired; DCAT and CSW have no such question, and are read whole.
        let changed_since = match source.kind {
            SourceKind::OaiPmh | SourceKind::Ckan => {
                let jobs = self
                    .store
                    .harvest_jobs(source.id, 1000)
                    .await
                    .map_err(ServiceError::Internal)?;
                let succeeded = |job: &&HarvestJob| job.status == JobStatus::Succeeded;
                let last_whole = jobs
                    .iter()
                    .filter(succeeded)
                    .find(|job| job.changed_since.is_none());
                let whole_recently =
                    last_whole.is_some_and(|job| now - job.started_at < FULL_RUN_EVERY);
                jobs.iter()
                    .find(succeeded)
                    .filter(|_| whole_recently)
                    .map(|job| job.started_at - time::Duration::seconds(1))
            }
            SourceKind::Dcat | SourceKind::Csw => None,
        };
        let job = HarvestJob::start(Uuid::now_v7(), source.id, now, changed_since);
        let started = self
            .store
            .begin_harvest_job(&job, now + self.lease, now)
            .await
            .map_err(ServiceError::Internal)?;
        if !started {
            return Err(ServiceError::refused(
                Code::HarvestRunning,
                format!("a job of `{}` is running; wait for it to end", source.name),
            ));
        }
        tracing::info!(source = %source.name, job = %job.id, incremental = changed_since.is_some(), "harvest started");
        Ok(job)
    }

    /// Runs a claimed job to its end, and saves how it ended.
    async fn complete(
        &self,
        principal: &Principal,
        source: &HarvestSource,
        mut job: HarvestJob,
    ) -> Result<HarvestJob> {
        let mut run = Run {
            harvesting: self,
            principal,
            source,
            job: &mut job,
            seen: HashSet::new(),
            harvested: HashMap::new(),
            fetcher: Arc::new(Fetcher::new(self.http.clone(), source.requests_per_second)),
        };
        let outcome = match tokio::time::timeout(JOB_TIMEOUT, run.pages()).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!(
                "the job took longer than {} minutes",
                JOB_TIMEOUT.as_secs() / 60
            )),
        };
        let outcome = match outcome {
            Ok(complete) => run.reconcile(complete).await,
            Err(message) => Err(message),
        };
        let requests = run.fetcher.requests();
        job.requests = requests;
        match outcome {
            Ok(()) => job.status = JobStatus::Succeeded,
            Err(message) => {
                job.status = JobStatus::Failed;
                job.message = Some(message);
            }
        }
        job.finished_at = Some(OffsetDateTime::now_utc());
        self.store
            .save_harvest_job(&job, OffsetDateTime::now_utc())
            .await
            .map_err(ServiceError::Internal)?;
        tracing::info!(source = %source.name, job = %job.id, status = job.status.as_str(), created = job.created, updated = job.updated, retired = job.retired, failed = job.failed, "harvest ended");
        Ok(job)
    }

    /// Every minute: fails jobs whose lease expired, and runs the sources that are due (a few at a
    /// time), as the internal harvester principal.
    pub fn spawn_scheduler(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let principal = Principal::new(Uuid::nil(), "harvester", Role::Admin);
            let slots = Arc::new(Semaphore::new(PARALLEL_SOURCES));
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                if let Err(error) = self
                    .store
                    .expire_harvest_jobs(OffsetDateTime::now_utc())
                    .await
                {
                    tracing::warn!(%error, "cannot expire harvest jobs");
                }
                let Ok(sources) = self.store.harvest_sources().await else {
                    continue;
                };
                for source in sources {
                    let last = self
                        .store
                        .harvest_jobs(source.id, 1)
                        .await
                        .ok()
                        .and_then(|jobs| jobs.into_iter().next());
                    let running = last
                        .as_ref()
                        .is_some_and(|job| job.status == JobStatus::Running);
                    let due = !running
                        && source.due(last.map(|job| job.started_at), OffsetDateTime::now_utc());
                    if !due {
                        continue;
                    }
                    let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                        break;
                    };
                    let harvesting = self.clone();
                    let principal = principal.clone();
                    tokio::spawn(async move {
                        let _slot = slot;
                        if let Err(error) = harvesting.run_source(&principal, &source).await {
                            tracing::warn!(source = %source.name, error = %error.summary(), "scheduled harvest not run");
                        }
                    });
                }
            }
        })
    }
}

/// One job under way.
struct Run<'a> {
    harvesting: &'a Harvesting,
    principal: &'a Principal,
    source: &'a HarvestSource,
    job: &'a mut HarvestJob,
    /// The records listed in this run.
    seen: HashSet<String>,
    /// The records harvested before, and their datasets (read once, kept up to date).
    harvested: HashMap<String, Uuid>,
    fetcher: Arc<Fetcher>,
}

impl Run<'_> {
    /// Reads every page; `Ok(true)` when the whole source was listed (so what it no longer lists can
    /// be retired), `Ok(false)` after an incremental run.
    async fn pages(&mut self) -> std::result::Result<bool, String> {
        let store = &self.harvesting.store;
        self.harvested = store
            .harvested_records(self.source.id)
            .await
            .map_err(|e| format!("the store failed: {e}"))?
            .into_iter()
            .collect();
        match self.source.kind {
            SourceKind::OaiPmh => self.oai_pages().await,
            SourceKind::Dcat => self.dcat_pages().await,
            SourceKind::Ckan => self.ckan_pages().await,
            SourceKind::Csw => self.csw_pages().await,
        }
    }

    async fn oai_pages(&mut self) -> std::result::Result<bool, String> {
        let prefix = self
            .source
            .metadata_prefix
            .clone()
            .unwrap_or_else(|| "iso19139".to_owned());
        let format = match prefix.as_str() {
            "oai_dc" => ImportFormat::DublinCore,
            _ => ImportFormat::Iso19139,
        };
        let base = self.source.url.as_str().to_owned();
        let mut query: Vec<(&str, String)> = vec![
            ("verb", "ListRecords".to_owned()),
            ("metadataPrefix", prefix),
        ];
        if let Some(set) = &self.source.set {
            query.push(("set", set.clone()));
        }
        if let Some(since) = self.job.changed_since {
            query.push(("from", fathom_formats::oai::datestamp(since)));
        }
        loop {
            let (document, _) = self.fetcher.get(&base, &query, "text/xml").await?;
            let answer = tokio::task::spawn_blocking(move || read_list_records(&document, format))
                .await
                .map_err(|e| e.to_string())??;
            let (records, token) = match answer {
                ListAnswer::NoRecords => break,
                ListAnswer::Error { code, message } => {
                    return Err(format!("the repository answered `{code}`: {message}"));
                }
                ListAnswer::Page { records, token } => (records, token),
            };
            let mut imports = Vec::new();
            for listed in records {
                self.seen.insert(listed.identifier.clone());
                match listed.record {
                    None => self.retire(&listed.identifier).await?,
                    Some(record) => imports.push((listed.identifier, record)),
                }
            }
            self.import(imports).await?;
            match token {
                Some(token) => {
                    query = vec![
                        ("verb", "ListRecords".to_owned()),
                        ("resumptionToken", token),
                    ]
                }
                None => break,
            }
        }
        Ok(self.job.changed_since.is_none())
    }

    async fn dcat_pages(&mut self) -> std::result::Result<bool, String> {
        let mut next = Some(self.source.url.as_str().to_owned());
        let mut visited = HashSet::new();
        while let Some(url) = next.take() {
            if !visited.insert(url.clone()) {
                return Err(format!("the pages loop back to {url}"));
            }
            let (document, content_type) = self
                .fetcher
                .get(
                    &url,
                    &[],
                    "text/turtle, application/rdf+xml;q=0.9, application/ld+json;q=0.8",
                )
                .await?;
            let syntax = content_type
                .as_deref()
                .and_then(|t| {
                    RdfSyntax::from_media_type(t.split(';').next().unwrap_or_default().trim())
                })
                .unwrap_or(RdfSyntax::Turtle);
            let (records, following) =
                tokio::task::spawn_blocking(move || read_dcat_page(syntax, &document))
                    .await
                    .map_err(|e| e.to_string())??;
            let imports = self.keyed(records);
            self.import(imports).await?;
            next = following;
        }
        Ok(true)
    }

    /// `package_search` pages of 100, oldest first (so pages stay stable while the portal changes),
    /// since the last success when there was one. The first page tells how many there are; the
    /// others are fetched a few at a time.
    async fn ckan_pages(&mut self) -> std::result::Result<bool, String> {
        let url = format!(
            "{}/api/3/action/package_search",
            self.source.url.as_str().trim_end_matches('/')
        );
        let changed = self.job.changed_since.map(|since| {
            format!(
                "metadata_modified:[{} TO *]",
                fathom_formats::oai::datestamp(since)
            )
        });
        let query = move |start: u64| {
            let mut query = vec![
                ("rows", PAGE.to_string()),
                ("start", start.to_string()),
                ("sort", "metadata_created asc".to_owned()),
            ];
            query.extend(changed.clone().map(|fq| ("fq", fq)));
            query
        };
        let read = |document: Vec<u8>| async move {
            tokio::task::spawn_blocking(move || read_ckan_page(&document))
                .await
                .map_err(|e| e.to_string())?
        };
        let (first, _) = self
            .fetcher
            .get(&url, &query(0), "application/json")
            .await?;
        let (records, count) = read(first).await?;
        let imports = self.keyed(records);
        self.import(imports).await?;
        let starts = (u64::from(PAGE)..count).step_by(PAGE as usize);
        let mut pages = self.pages_at(url, starts, query, "application/json");
        while let Some(page) = pages.next().await {
            let (records, _) = read(page?).await?;
            let imports = self.keyed(records);
            self.import(imports).await?;
        }
        Ok(self.job.changed_since.is_none())
    }

    /// `GetRecords` pages of 100 in ISO 19139 (or Dublin Core); the first page tells how many
    /// records match, the others are fetched a few at a time.
    async fn csw_pages(&mut self) -> std::result::Result<bool, String> {
        let schema = match self.source.metadata_prefix.as_deref() {
            Some("oai_dc") => "http://www.opengis.net/cat/csw/2.0.2",
            _ => "http://www.isotc211.org/2005/gmd",
        };
        let url = self.source.url.as_str().to_owned();
        let query = move |start: u64| {
            vec![
                ("service", "CSW".to_owned()),
                ("version", "2.0.2".to_owned()),
                ("request", "GetRecords".to_owned()),
                ("typeNames", "csw:Record".to_owned()),
                ("resultType", "results".to_owned()),
                ("elementSetName", "full".to_owned()),
                ("outputSchema", schema.to_owned()),
                ("startPosition", start.to_string()),
                ("maxRecords", PAGE.to_string()),
            ]
        };
        let read = |document: Vec<u8>| async move {
            tokio::task::spawn_blocking(move || read_csw_page(&document))
                .await
                .map_err(|e| e.to_string())?
        };
        let (first, _) = self.fetcher.get(&url, &query(1), "application/xml").await?;
        let (records, _, matched) = read(first).await?;
        let imports = self.keyed(records);
        self.import(imports).await?;
        let starts = (1 + u64::from(PAGE)..=matched).step_by(PAGE as usize);
        let mut pages = self.pages_at(url, starts, query, "application/xml");
        while let Some(page) = pages.next().await {
            let (records, _, _) = read(page?).await?;
            let imports = self.keyed(records);
            self.import(imports).await?;
        }
        Ok(true)
    }

    /// The pages at these offsets, fetched [`PARALLEL_FETCHES`] at a time (each still waits for its
    /// slot of the source's rate), in order.
    fn pages_at(
        &self,
        url: String,
        starts: impl Iterator<Item = u64> + Send + 'static,
        query: impl Fn(u64) -> Vec<(&'static str, String)> + Send + Sync + 'static,
        accept: &'static str,
    ) -> impl futures::Stream<Item = std::result::Result<Vec<u8>, String>> + Send + 'static {
        let fetcher = Arc::clone(&self.fetcher);
        let query = Arc::new(query);
        futures::stream::iter(starts)
            .map(move |start| {
                let (fetcher, query, url) = (Arc::clone(&fetcher), Arc::clone(&query), url.clone());
                async move {
                    fetcher
                        .get(&url, &query(start), accept)
                        .await
                        .map(|(body, _)| body)
                }
            })
            .buffered(PARALLEL_FETCHES)
    }

    /// The job, with the requests made so far.
    fn job_with_requests(&self) -> HarvestJob {
        HarvestJob {
            requests: self.fetcher.requests(),
            ..self.job.clone()
        }
    }

    /// Records keyed by their identifier, each counted as listed.
    fn keyed(
        &mut self,
        records: Vec<fathom_formats::import::RecordRead>,
    ) -> Vec<(String, fathom_formats::import::RecordRead)> {
        records
            .into_iter()
            .map(|record| {
                let key = record
                    .as_ref()
                    .map(|r| r.identifier.clone())
                    .unwrap_or_default();
                self.seen.insert(key.clone());
                (key, record)
            })
            .collect()
    }

    /// Imports a page's records and remembers their datasets.
    async fn import(
        &mut self,
        records: Vec<(
            String,
            std::result::Result<fathom_formats::import::ForeignRecord, String>,
        )>,
    ) -> std::result::Result<(), String> {
        if records.is_empty() {
            return self.renew().await;
        }
        let (keys, records): (Vec<String>, Vec<_>) = records.into_iter().unzip();
        let report = self
            .harvesting
            .catalogue
            .import_foreign(self.principal, self.source.organisation.as_str(), records)
            .await
            .map_err(|e| format!("the import failed: {}", e.summary()))?;
        let mut harvested = Vec::new();
        for (key, line) in keys.into_iter().zip(report) {
            match line.status {
                ImportStatus::Created => self.job.created += 1,
                ImportStatus::Updated => self.job.updated += 1,
                ImportStatus::Unchanged => self.job.unchanged += 1,
                ImportStatus::Failed => {
                    let identifier = line
                        .identifier
                        .or_else(|| Some(key.clone()).filter(|k| !k.is_empty()));
                    self.job
                        .record_error(identifier, line.reason.unwrap_or_default());
                }
            }
            if let Some(dataset) = line.dataset {
                self.harvested.insert(key.clone(), dataset);
                harvested.push((key, dataset));
            }
        }
        self.harvesting
            .store
            .record_harvested(self.source.id, &harvested)
            .await
            .map_err(|e| format!("the store failed: {e}"))?;
        self.renew().await
    }

    /// After a complete listing, retires what the source no longer lists.
    async fn reconcile(&mut self, complete: bool) -> std::result::Result<(), String> {
        if !complete {
            return Ok(());
        }
        let vanished: Vec<String> = self
            .harvested
            .keys()
            .filter(|key| !self.seen.contains(*key))
            .cloned()
            .collect();
        for key in vanished {
            self.retire(&key).await?;
        }
        Ok(())
    }

    /// Retires the dataset a record became (the source deleted it, or lists it no more).
    async fn retire(&mut self, key: &str) -> std::result::Result<(), String> {
        let Some(dataset) = self.harvested.remove(key) else {
            return Ok(());
        };
        let patch = serde_json::json!({"state": "retired"});
        let catalogue = &self.harvesting.catalogue;
        match catalogue
            .dataset(Some(self.principal), &RecordKey::Id(dataset))
            .await
        {
            Ok(current) if current.state != fathom_model::DatasetState::Retired => {
                catalogue
                    .patch_dataset(
                        self.principal,
                        &RecordKey::Id(dataset),
                        Some(current.revision),
                        &patch,
                    )
                    .await
                    .map_err(|e| format!("cannot retire {dataset}: {}", e.summary()))?;
                self.job.retired += 1;
            }
            Ok(_) | Err(ServiceError::NotFound(_)) => {}
            Err(error) => return Err(format!("cannot retire {dataset}: {}", error.summary())),
        }
        self.harvesting
            .store
            .forget_harvested(self.source.id, &[key.to_owned()])
            .await
            .map_err(|e| format!("the store failed: {e}"))
    }

    /// Saves progress and extends the lease; stops the run if the job is no longer its own.
    async fn renew(&mut self) -> std::result::Result<(), String> {
        let kept = self
            .harvesting
            .store
            .save_harvest_job(
                &self.job_with_requests(),
                OffsetDateTime::now_utc() + self.harvesting.lease,
            )
            .await
            .map_err(|e| format!("the store failed: {e}"))?;
        if kept {
            Ok(())
        } else {
            Err("the job's lease expired and it was ended elsewhere".to_owned())
        }
    }
}

/// The requests of one job: no more often than the source allows (a slot per request, whatever
/// number are in flight), each answer read up to [`MAX_RESPONSE`] bytes.
struct Fetcher {
    http: reqwest::Client,
    interval: Duration,
    next_slot: tokio::sync::Mutex<Instant>,
    requests: std::sync::atomic::AtomicU64,
}

impl Fetcher {
    fn new(http: reqwest::Client, requests_per_second: f64) -> Self {
        Self {
            http,
            interval: Duration::from_secs_f64(1.0 / requests_per_second),
            next_slot: tokio::sync::Mutex::new(Instant::now()),
            requests: std::sync::atomic::AtomicU64::default(),
        }
    }

    fn requests(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// GETs a page; returns the body and its content type.
    async fn get(
        &self,
        url: &str,
        query: &[(&str, String)],
        accept: &str,
    ) -> std::result::Result<(Vec<u8>, Option<String>), String> {
        let slot = {
            let mut next = self.next_slot.lock().await;
            let slot = (*next).max(Instant::now());
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut response = self
            .http
            .get(url)
            .query(query)
            .header(reqwest::header::ACCEPT, accept)
            .send()
            .await
            .map_err(|e| format!("cannot reach {url}: {}", describe(&e)))?;
        if !response.status().is_success() {
            return Err(format!("{url} answered {}", response.status()));
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("reading {url} failed: {}", describe(&e)))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_RESPONSE {
                return Err(format!(
                    "{url} answered more than {} MiB",
                    MAX_RESPONSE >> 20
                ));
            }
        }
        Ok((body, content_type))
    }
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        format!("it took longer than {} s", REQUEST_TIMEOUT.as_secs())
    } else if error.is_redirect() {
        "too many redirects".to_owned()
    } else {
        error.to_string()
    }
}
