//! `fathom import` and `fathom export`: NDJSON in bounded batches, so memory stays constant whatever
//! the size of the file or the catalogue.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use fathom_model::{OrganisationInput, Policy, decode_json};
use fathom_service::{
    Catalogue, DatasetFilter, IMPORT_BATCH, OnError, PageRequest, Position, Store,
};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::{Kind, operator};

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub imported: u64,
    pub rejected: u64,
}

pub async fn import(
    store: &Store,
    policy: Arc<Policy>,
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
    let catalogue = Catalogue::new(store.clone(), policy);
    match kind {
        Kind::Datasets => import_datasets(&catalogue, reader, on_error).await,
        Kind::Organisations => import_organisations(&catalogue, reader, on_error).await,
    }
}

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

async fn import_organisations(
    catalogue: &Catalogue,
    mut reader: impl AsyncBufRead + Unpin,
    on_error: OnError,
) -> anyhow::Result<ImportReport> {
    let principal = operator();
    let mut report = ImportReport::default();
    let mut line_number = 0_u64;
    while let Some(line) = read_line(&mut reader, &mut line_number).await? {
        let result = match line {
            Ok(text) => match decode_json::<OrganisationInput>(text.as_bytes()) {
                Ok(input) => catalogue
                    .create_organisation(&principal, input)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.summary()),
                Err(error) => Err(fathom_service::ServiceError::from(error).summary()),
            },
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

/// Writes every record to standard output, one JSON document per line, a page at a time.
pub async fn export(store: &Store, policy: Arc<Policy>, kind: Kind) -> anyhow::Result<u64> {
    const PAGE: u32 = 1000;
    let catalogue = Catalogue::new(store.clone(), policy);
    let mut out = tokio::io::BufWriter::with_capacity(1 << 16, tokio::io::stdout());
    let mut written = 0_u64;
    let mut after = None;
    loop {
        let page = PageRequest {
            after: after.map(Position::Id),
            limit: PAGE,
        };
        // Datasets go out as stored, without decoding; organisations are few.
        let lines: Vec<(uuid::Uuid, String)> = match kind {
            Kind::Datasets => catalogue
                // The operator exports everything, whatever its label.
                .datasets_json(Some(&operator()), &DatasetFilter::default(), page)
                .await?
                .into_iter()
                .map(|record| (record.id, String::from(Box::<str>::from(record.json))))
                .collect(),
            Kind::Organisations => catalogue
                .organisations(page)
                .await?
                .iter()
                .map(|o| Ok((o.id, serde_json::to_string(o)?)))
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
    out.flush().await?;
    Ok(written)
}
