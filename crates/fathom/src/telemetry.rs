//! Logs on standard error and, when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, traces exported by OTLP/HTTP: the standard `OTEL_*`
//! variables (service name, resource attributes, batch delays) are honoured, and the W3C
//! `traceparent` of incoming requests continues their trace.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

/// The spans exported: requests, and below them (at `debug`) the use cases, the store operations and
/// the relay's publications; nothing of the libraries underneath.
const TRACED: &str =
    "warn,fathom_api=info,fathom_service=debug,fathom_store=debug,fathom_events=debug";

/// What must be flushed before the process ends.
#[derive(Debug)]
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
    _logs: LogWriter,
}

/// The log's writer thread, which writes what is left when dropped; [`tell`] stops writing through
/// it first, and writes straight to standard error from then on.
#[derive(Debug)]
struct LogWriter {
    _guard: tracing_appender::non_blocking::WorkerGuard,
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        told().take();
    }
}

impl Telemetry {
    /// Installs the logger (and the trace exporter when configured).
    pub fn init(format: LogFormat) -> Self {
        let filter = tracing_subscriber::EnvFilter::try_from_env(crate::config::LOG_VAR)
            .unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info")
            });
        let json = match format {
            LogFormat::Auto => !std::io::IsTerminal::is_terminal(&std::io::stderr()),
            LogFormat::Text => false,
            LogFormat::Json => true,
        };
        JSON_LOG.store(json, std::sync::atomic::Ordering::Relaxed);
        // Lines are written to standard error by a thread of their own, so that a request does not
        // wait for the write (the access log writes one per request); never dropped, so a full
        // queue makes a request wait instead.
        let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
            .lossy(false)
            .finish(std::io::stderr());
        *told() = Some(writer.clone());
        let logs = tracing_subscriber::fmt::layer().with_writer(writer);
        let logs = if json {
            logs.json().boxed()
        } else {
            logs.boxed()
        };
        let traces = exporter_configured()
            .then(tracer_provider)
            .and_then(|built| {
                built
                    .map_err(|error| {
                        tell(
                            tracing::Level::ERROR,
                            &format!("fathom: cannot export traces: {error}"),
                        );
                    })
                    .ok()
            });
        match &traces {
            // Each layer filters for itself: the finer spans (use cases, store operations, the
            // relay's publications, at `debug`) are made for the exporter, not for the log.
            Some(provider) => {
                let exporting = tracing_opentelemetry::layer()
                    .with_tracer(provider.tracer("fathom"))
                    .with_filter(tracing_subscriber::EnvFilter::new(TRACED));
                tracing_subscriber::registry()
                    .with(logs.with_filter(filter))
                    .with(exporting)
                    .init();
            }
            // One filter for the whole process: the cheapest, and the finer spans cost nothing.
            None => tracing_subscriber::registry()
                .with(logs)
                .with(filter)
                .init(),
        }
        Self {
            traces,
            _logs: LogWriter { _guard: guard },
        }
    }

    /// Sends the spans still buffered.
    pub fn shutdown(self) {
        if let Some(provider) = self.traces
            && let Err(error) = provider.shutdown()
        {
            tell(
                tracing::Level::ERROR,
                &format!("fathom: cannot flush traces: {error}"),
            );
        }
    }
}

/// Whether the log is JSON (set once at start), for [`tell`].
static JSON_LOG: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The log's writer, through which [`tell`] writes too, so that its lines keep their place among
/// the log's.
static TOLD: std::sync::Mutex<Option<tracing_appender::non_blocking::NonBlocking>> =
    std::sync::Mutex::new(None);

fn told() -> std::sync::MutexGuard<'static, Option<tracing_appender::non_blocking::NonBlocking>> {
    TOLD.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Tells whoever started the process what they must see whatever the log's filter (where it
/// listens, the demo's tokens, why it stopped): a plain line on standard error, or, where the log is
/// JSON, a line of the log's own shape at `level`, so that every line of a JSON log is JSON.
pub fn tell(level: tracing::Level, message: &str) {
    let line = if JSON_LOG.load(std::sync::atomic::Ordering::Relaxed) {
        let timestamp = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        serde_json::json!({
            "timestamp": timestamp,
            "level": level.as_str(),
            "fields": {"message": message},
            "target": "fathom",
        })
        .to_string()
    } else {
        message.to_owned()
    };
    // One write of the whole line; straight to standard error before the log is set up or once its
    // writer has stopped.
    let writer = told().clone();
    let written = writer.is_some_and(|mut writer| {
        std::io::Write::write_all(&mut writer, format!("{line}\n").as_bytes()).is_ok()
    });
    if !written {
        eprintln!("{line}");
    }
}

fn exporter_configured() -> bool {
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|name| std::env::var(name).is_ok_and(|value| !value.is_empty()))
}

/// Spans batched and sent by OTLP/HTTP (protobuf) to the configured endpoint.
fn tracer_provider() -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "fathom".into()))
        .build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    opentelemetry::global::set_tracer_provider(provider.clone());
    fathom_store::trace::read_traceparent_with(current_traceparent);
    fathom_api::continue_callers_traces();
    Ok(provider)
}

/// The W3C `traceparent` of the current span, for the events of the changes made in it.
fn current_traceparent() -> Option<String> {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let context = tracing::Span::current().context();
    let span = context.span();
    let current = span.span_context();
    current.is_valid().then(|| {
        format!(
            "00-{}-{}-{:02x}",
            current.trace_id(),
            current.span_id(),
            current.trace_flags().to_u8()
        )
    })
}
