//! `fathom import` and `fathom export`: NDJSON in bounded batches, so memory stays constant whatever
//! the size of the file or the catalogue.

use std::path::Path;

use anyhow::Context;
use fathom_model::{EntityKind, OrganisationInput, decode_json};
use fathom_service::{Catalogue, DatasetFilter, IMPORT_BATCH, OnError, PageRequest, Position};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::{Kind, operator};

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub imported: u64,
    pub rejected: u64,
}

pub async fn import(
    catalogue: &Catalogue,
    kind: Kind,
    file: &Path,
    on_error: OnError,
) -> anyhow::Result<ImportReport> {
    let reader: Box<dyn AsyncBufRead + Unpin + Send> = if file == Path::new("-") {
        Box::new(BufReader::new(tokio::io::stdin()))
    } else {
        let opened = tokio::fs::File::open(file)
            .await
            .with_context(|| format!("cannot open {}", file.display()))?;
        Box::new(BufReader::with_capacity(1 << 16, opened))
    };
    match kind {
        Kind::Datasets => import_datasets(catalogue, reader, on_error).await,
        Kind::Organisations | Kind::Entities => {
            import_each(catalogue, kind, reader, on_error).await
        }
    }
}

/// The kinds of entity in an order where what is referred to comes first, for an export that
/// imports again.
const ENTITY_ORDER: [EntityKind; 6] = [
    EntityKind::Domain,
    EntityKind::Project,
    EntityKind::Platform,
    EntityKind::ObservedProperty,
    EntityKind::Campaign,
    EntityKind::Instrument,
];

/// Reads lines in batches of [`IMPORT_BATCH`]; each batch is committed before the next is read, and
/// reported as imported only once committed, so what the progress lines count survives a crash.
async fn import_datasets(
    catalogue: &Catalogue,
    mut reader: impl AsyncBufRead + Unpin,
    on_error: OnError,
) -> anyhow::Result<ImportReport> {
    let principal = operator();
    let mut report = ImportReport::default();
    let mut line_number = 0_u64;
    let mut batch = Vec::with_capacity(IMPORT_BATCH);
    let mut stopped = false;
    while let Some(line) = read_line(&mut reader, &mut line_number).await? {
        match line {
            Ok(text) => batch.push((line_number, text)),
            Err(message) => {
                reject(&mut report, line_number, &message);
                stopped = on_error == OnError::Stop;
            }
        }
        if batch.len() == IMPORT_BATCH || stopped {
            stopped |=
                write_batch(catalogue, &principal, &mut batch, on_error, &mut report).await?;
        }
        if stopped {
            break;
        }
    }
    write_batch(catalogue, &principal, &mut batch, on_error, &mut report).await?;
    Ok(report)
}

/// Imports and empties `batch`; returns whether the import must stop.
async fn write_batch(
    catalogue: &Catalogue,
    principal: &fathom_model::Principal,
    batch: &mut Vec<(u64, String)>,
    on_error: OnError,
    report: &mut ImportReport,
) -> anyhow::Result<bool> {
    if batch.is_empty() {
        return Ok(false);
    }
    let outcome = catalogue
        .import_datasets(principal, batch, on_error)
        .await?;
    batch.clear();
    report.imported += outcome.imported;
    for rejected in &outcome.rejected {
        reject(report, rejected.line, &rejected.error);
    }
    eprintln!("imported {} datasets so far", report.imported);
    Ok(outcome.stopped)
}

/// Imports organisations or entities (each naming its kind in `type`) one line at a time.
async fn import_each(
    catalogue: &Catalogue,
    kind: Kind,
    mut reader: impl AsyncBufRead + Unpin,
    on_error: OnError,
) -> anyhow::Result<ImportReport> {
    let principal = operator();
    let mut report = ImportReport::default();
    let mut line_number = 0_u64;
    while let Some(line) = read_line(&mut reader, &mut line_number).await? {
        let result = match line {
            Ok(text) => create(catalogue, &principal, kind, &text)
                .await
                .map_err(|e| e.summary()),
            Err(message) => Err(message),
        };
        match result {
            Ok(()) => report.imported += 1,
            Err(message) => {
                reject(&mut report, line_number, &message);
                if on_error == OnError::Stop {
                    break;
                }
            }
        }
    }
    Ok(report)
}

async fn create(
    catalogue: &Catalogue,
    principal: &fathom_model::Principal,
    kind: Kind,
    text: &str,
) -> Result<(), fathom_service::ServiceError> {
    match kind {
        Kind::Organisations => {
            let input: OrganisationInput = decode_json(text.as_bytes())?;
            catalogue.create_organisation(principal, input).await?;
        }
        _ => {
            let input: serde_json::Value = decode_json(text.as_bytes())?;
            let kind = input["type"].as_str().and_then(EntityKind::parse).ok_or_else(|| {
                fathom_model::ValidationErrors::single(
                    "/type",
                    "must name the kind of entity: domain, project, campaign, platform, instrument or observed_property",
                )
            })?;
            catalogue.create_entity(principal, kind, input).await?;
        }
    }
    Ok(())
}

/// The next non-blank line: `Ok(text)`, or `Err(why)` when it is not UTF-8; `None` at the end.
async fn read_line(
    reader: &mut (impl AsyncBufRead + Unpin),
    line_number: &mut u64,
) -> anyhow::Result<Option<Result<String, String>>> {
    let mut bytes = Vec::new();
    loop {
        bytes.clear();
        if reader
            .read_until(b'\n', &mut bytes)
            .await
            .context("cannot read the input")?
            == 0
        {
            return Ok(None);
        }
        *line_number += 1;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        return Ok(Some(String::from_utf8(bytes).map_err(|e| {
            format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to())
        })));
    }
}

fn reject(report: &mut ImportReport, line: u64, message: &str) {
    report.rejected += 1;
    eprintln!("line {line}: {message}");
}

/// Writes every record to `output` (standard output when `None`), one JSON document per line, a
/// page at a time.
pub async fn export(
    catalogue: &Catalogue,
    kind: Kind,
    output: Option<&Path>,
) -> anyhow::Result<u64> {
    const PAGE: u32 = 1000;
    /// One list of records to page through.
    #[derive(Clone, Copy)]
    enum Listing {
        Datasets,
        Organisations,
        Entities(EntityKind),
    }
    let listings = match kind {
        Kind::Datasets => vec![Listing::Datasets],
        Kind::Organisations => vec![Listing::Organisations],
        Kind::Entities => ENTITY_ORDER.map(Listing::Entities).to_vec(),
    };
    let mut out =
        tokio::io::BufWriter::with_capacity(1 << 16, crate::export::stream(output).await?);
    let mut written = 0_u64;
    for listing in listings {
        let mut after = None;
        loop {
            let page = PageRequest {
                after: after.map(Position::Id),
                limit: PAGE,
            };
            // Datasets go out as stored, without decoding; organisations and entities are few.
            let lines: Vec<(uuid::Uuid, String)> = match listing {
                Listing::Datasets => catalogue
                    // The operator exports everything, whatever its label.
                    .datasets_json(Some(&operator()), &DatasetFilter::default(), page)
                    .await?
                    .into_iter()
                    .map(|record| (record.id, String::from(Box::<str>::from(record.json))))
                    .collect(),
                Listing::Organisations => catalogue
                    .organisations(page)
                    .await?
                    .iter()
                    .map(|o| Ok((o.id, serde_json::to_string(o)?)))
                    .collect::<Result<_, serde_json::Error>>()?,
                Listing::Entities(entity_kind) => catalogue
                    .entities(entity_kind, page)
                    .await?
                    .iter()
                    .map(|e| Ok((e.id, serde_json::to_string(e)?)))
                    .collect::<Result<_, serde_json::Error>>()?,
            };
            for (_, line) in &lines {
                out.write_all(line.as_bytes()).await?;
                out.write_all(b"\n").await?;
            }
            written += lines.len() as u64;
            match lines.last() {
                Some((id, _)) if lines.len() == PAGE as usize => after = Some(*id),
                _ => break,
            }
        }
    }
    out.flush().await?;
    Ok(written)
}
