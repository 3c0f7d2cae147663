//! SPARQL 1.1 queries over the catalogue's DCAT-AP graph: an in-memory RDF store (oxigraph, no RocksDB)
//! kept in sync from the change feed, one named graph per dataset. A query sees as its default graph
//! the union of the graphs of the datasets its caller may see, and nothing else: a dataset the
//! caller may not read contributes no triple, to any query form. Queries run on the blocking pool
//! under a time limit, and a result larger than the cap is refused.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use fathom_formats::Record;
use fathom_formats::dcat::{Site, dataset_triples};
use fathom_model::{Dataset, Organisation, Policy, Principal, SecurityLabel};
use fathom_store::{DatasetFilter, EntityType, PageRequest, Position, Store};
use oxigraph::model::{GraphName, NamedNode, NamedNodeRef, QuadRef};
use oxigraph::sparql::results::{QueryResultsFormat, QueryResultsSerializer};
use oxigraph::sparql::{CancellationToken, QueryEvaluationError, QueryResults, SparqlEvaluator};
use oxrdfio::{RdfFormat, RdfSerializer};
use uuid::Uuid;

use crate::access;
use crate::error::ServiceError;

/// The longest a query may run.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(10);
/// The most solutions (or triples) a query may return.
pub const RESULT_CAP: usize = 10_000;

/// How a query's results are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultsFormat {
    Json,
    Xml,
    Csv,
}

impl ResultsFormat {
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Json => "application/sparql-results+json",
            Self::Xml => "application/sparql-results+xml",
            Self::Csv => "text/csv",
        }
    }
}

/// A query's answer: solutions or a boolean in a results format, or a graph as Turtle.
#[derive(Debug)]
pub struct SparqlAnswer {
    pub media_type: &'static str,
    pub body: Vec<u8>,
}

/// Why a query was not answered.
#[derive(Debug, thiserror::Error)]
pub enum SparqlError {
    #[error("the query does not parse: {0}")]
    Syntax(String),
    #[error("the query ran longer than the {} ms it may", .0.as_millis())]
    Timeout(Duration),
    #[error("the query has more than {RESULT_CAP} results: narrow it or add a LIMIT")]
    TooLarge,
    #[error("the query failed: {0}")]
    Evaluation(String),
    #[error("the graph is still loading; try again in a few seconds")]
    Loading,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

#[derive(Clone)]
pub struct Sparql {
    store: Store,
    policy: Arc<Policy>,
    site: Arc<Site>,
    graph: oxigraph::store::Store,
    /// Each dataset's graph and the label that decides who sees it.
    labels: Arc<RwLock<HashMap<Uuid, SecurityLabel>>>,
    /// The change feed position the graph reflects.
    position: Arc<std::sync::atomic::AtomicI64>,
    /// False while [`Sparql::load`] runs.
    ready: Arc<std::sync::atomic::AtomicBool>,
    timeout: Duration,
}

impl std::fmt::Debug for Sparql {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sparql").finish_non_exhaustive()
    }
}

impl Sparql {
    /// An empty graph; it fills from the change feed at the first query, or from [`Sparql::load`].
    #[allow(clippy::expect_used)] // An in-memory store has no file to fail to open.
    pub(crate) fn new(store: Store, policy: Arc<Policy>, site: Arc<Site>) -> Self {
        Self {
            store,
            policy,
            site,
            graph: oxigraph::store::Store::new().expect("an in-memory RDF store opens"),
            labels: Arc::default(),
            position: Arc::default(),
            ready: Arc::new(std::sync::atomic::AtomicBool::new(true)),
            timeout: QUERY_TIMEOUT,
        }
    }

    /// Queries stopped after `timeout` instead of [`QUERY_TIMEOUT`].
    pub(crate) fn with_timeout(self, timeout: Duration) -> Self {
        Self { timeout, ..self }
    }

    /// Loads every dataset (queries meanwhile are answered [`SparqlError::Loading`]); the change feed
    /// is followed from where the load began.
    pub async fn load(&self) -> Result<(), ServiceError> {
        use std::sync::atomic::Ordering;
        self.ready.store(false, Ordering::SeqCst);
        let loaded = self.load_all().await;
        self.ready.store(true, Ordering::SeqCst);
        loaded
    }

    async fn load_all(&self) -> Result<(), ServiceError> {
        let start = self
            .store
            .latest_change()
            .await
            .map_err(ServiceError::Internal)?;
        let publishers = self.publishers().await?;
        let mut after = None;
        loop {
            let page = self
                .store
                .datasets(
                    &DatasetFilter::default(),
                    PageRequest { after, limit: 1000 },
                )
                .await
                .map_err(ServiceError::Internal)?;
            let Some(last) = page.last() else { break };
            after = Some(Position::Id(last.id));
            for dataset in &page {
                self.put(dataset, &publishers)?;
            }
        }
        self.position
            .store(start, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    /// Applies the changes since the last call; returns how many datasets changed.
    pub async fn catch_up(&self) -> Result<usize, ServiceError> {
        let mut changed = 0;
        loop {
            let from = self.position.load(std::sync::atomic::Ordering::SeqCst);
            let changes = self
                .store
                .changes_since(from, 1000)
                .await
                .map_err(ServiceError::Internal)?;
            let Some(last) = changes.last().map(|c| c.seq) else {
                return Ok(changed);
            };
            let publishers = self.publishers().await?;
            // The changed datasets in one read: those that are gone were deleted.
            let ids: Vec<Uuid> = changes
                .iter()
                .filter(|c| c.entity_type == EntityType::Dataset)
                .map(|c| c.entity_id)
                .collect::<std::collections::HashSet<_>>()
                .into_iter()
                .collect();
            let found = self
                .store
                .datasets_by_ids(&ids)
                .await
                .map_err(ServiceError::Internal)?;
            let present: std::collections::HashSet<Uuid> = found.iter().map(|d| d.id).collect();
            for dataset in &found {
                self.put(dataset, &publishers)?;
            }
            for id in ids.iter().filter(|id| !present.contains(id)) {
                self.remove(*id)?;
            }
            changed += ids.len();
            self.position
                .store(last, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// Loads the graph, then keeps it in sync every half second.
    pub fn spawn_sync(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match self.load().await {
                Ok(()) => tracing::info!(
                    seconds = started.elapsed().as_secs_f64(),
                    "the SPARQL graph is loaded"
                ),
                Err(error) => {
                    tracing::warn!(error = %error.summary(), "the SPARQL graph did not load")
                }
            }
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tick.tick().await;
                if let Err(error) = self.catch_up().await {
                    tracing::warn!(error = %error.summary(), "the SPARQL graph did not catch up");
                }
            }
        })
    }

    /// Answers `query` as `reader` sees the catalogue; solutions and booleans in `format`, graphs as
    /// Turtle.
    pub async fn query(
        &self,
        reader: Option<&Principal>,
        query: String,
        format: ResultsFormat,
    ) -> Result<SparqlAnswer, SparqlError> {
        if !self.ready.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(SparqlError::Loading);
        }
        self.catch_up().await?;
        let subject = access::subject_of(&self.policy, reader);
        let visible: Vec<GraphName> = self
            .labels
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(id, label)| self.policy.may_read_dataset(&subject, **id, label))
            .map(|(id, _)| {
                GraphName::NamedNode(NamedNode::new_unchecked(self.site.dataset_iri(*id)))
            })
            .collect();
        let graph = self.graph.clone();
        let cancel = CancellationToken::new();
        let running = cancel.clone();
        let evaluation = tokio::task::spawn_blocking(move || {
            evaluate(&graph, &query, visible, format, &running)
        });
        let timer = tokio::time::sleep(self.timeout);
        tokio::pin!(evaluation, timer);
        tokio::select! {
            done = &mut evaluation => done.map_err(|e| SparqlError::Evaluation(e.to_string()))?,
            () = &mut timer => {
                cancel.cancel();
                Err(SparqlError::Timeout(self.timeout))
            }
        }
    }

    fn put(
        &self,
        dataset: &Dataset,
        publishers: &HashMap<String, Organisation>,
    ) -> Result<(), ServiceError> {
        let iri = self.site.dataset_iri(dataset.id);
        let graph = NamedNodeRef::new_unchecked(&iri);
        let publisher = publishers.get(dataset.metadata.organisation.as_str());
        let triples = dataset_triples(&Record::new(&self.site, dataset, publisher, &self.policy));
        let quads = triples
            .iter()
            .map(|t| QuadRef::new(&t.subject, &t.predicate, &t.object, graph));
        let stored = self
            .graph
            .clear_graph(graph)
            .and_then(|()| self.graph.extend(quads.map(|q| q.into_owned())));
        stored.map_err(|e| ServiceError::Fault(format!("the RDF store failed: {e}")))?;
        self.labels
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(dataset.id, dataset.metadata.security_label.clone());
        Ok(())
    }

    fn remove(&self, id: Uuid) -> Result<(), ServiceError> {
        let iri = self.site.dataset_iri(id);
        self.graph
            .remove_named_graph(NamedNodeRef::new_unchecked(&iri))
            .map_err(|e| ServiceError::Fault(format!("the RDF store failed: {e}")))?;
        self.labels
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        Ok(())
    }

    async fn publishers(&self) -> Result<HashMap<String, Organisation>, ServiceError> {
        self.store
            .organisations_by_slug()
            .await
            .map_err(ServiceError::Internal)
    }
}

/// Runs a query over the union of `visible` graphs, and writes its results, refusing more than
/// [`RESULT_CAP`].
fn evaluate(
    graph: &oxigraph::store::Store,
    query: &str,
    visible: Vec<GraphName>,
    format: ResultsFormat,
    cancel: &CancellationToken,
) -> Result<SparqlAnswer, SparqlError> {
    let mut prepared = SparqlEvaluator::new()
        .with_cancellation_token(cancel.clone())
        .parse_query(query)
        .map_err(|e| SparqlError::Syntax(e.to_string()))?;
    // Only the visible graphs exist for this query: FROM and FROM NAMED choose among them.
    let dataset = prepared.dataset_mut();
    let chosen = !dataset.is_default_dataset();
    let default_graph: Vec<GraphName> = match dataset.default_graph_graphs() {
        Some(graphs) if chosen => graphs
            .iter()
            .filter(|g| visible.contains(g))
            .cloned()
            .collect(),
        _ => visible.clone(),
    };
    let mut named: Vec<oxigraph::model::NamedOrBlankNode> = visible
        .into_iter()
        .filter_map(|g| match g {
            GraphName::NamedNode(n) => Some(n.into()),
            _ => None,
        })
        .collect();
    if let Some(graphs) = dataset.available_named_graphs().filter(|_| chosen) {
        named.retain(|g| graphs.contains(g));
    }
    dataset.set_default_graph(default_graph);
    dataset.set_available_named_graphs(named);
    let failed = |e: QueryEvaluationError| match e {
        QueryEvaluationError::Cancelled => SparqlError::Timeout(QUERY_TIMEOUT),
        other => SparqlError::Evaluation(other.to_string()),
    };
    let results_format = match format {
        ResultsFormat::Json => QueryResultsFormat::Json,
        ResultsFormat::Xml => QueryResultsFormat::Xml,
        ResultsFormat::Csv => QueryResultsFormat::Csv,
    };
    let write_error = |e: std::io::Error| SparqlError::Evaluation(e.to_string());
    match prepared.on_store(graph).execute().map_err(failed)? {
        QueryResults::Boolean(value) => Ok(SparqlAnswer {
            media_type: format.media_type(),
            body: QueryResultsSerializer::from_format(results_format)
                .serialize_boolean_to_writer(Vec::new(), value)
                .map_err(write_error)?,
        }),
        QueryResults::Solutions(solutions) => {
            let mut writer = QueryResultsSerializer::from_format(results_format)
                .serialize_solutions_to_writer(Vec::new(), solutions.variables().to_vec())
                .map_err(write_error)?;
            for (count, solution) in solutions.enumerate() {
                if count == RESULT_CAP {
                    return Err(SparqlError::TooLarge);
                }
                writer
                    .serialize(&solution.map_err(failed)?)
                    .map_err(write_error)?;
            }
            Ok(SparqlAnswer {
                media_type: format.media_type(),
                body: writer.finish().map_err(write_error)?,
            })
        }
        QueryResults::Graph(triples) => {
            let mut writer = RdfSerializer::from_format(RdfFormat::Turtle).for_writer(Vec::new());
            for (count, triple) in triples.enumerate() {
                if count == RESULT_CAP {
                    return Err(SparqlError::TooLarge);
                }
                writer
                    .serialize_triple(&triple.map_err(failed)?)
                    .map_err(write_error)?;
            }
            Ok(SparqlAnswer {
                media_type: "text/turtle",
                body: writer.finish().map_err(write_error)?,
            })
        }
    }
}
