//! `fathom import --format iso19139|dc|dcat-…`: records of other catalogues from a file, every file of
//! a directory, or standard input, imported into one organisation idempotently by their identifiers
//! (see `Catalogue::import_foreign`), in batches so memory stays bounded by a batch.

use std::path::{Path, PathBuf};

use anyhow::Context;
use fathom_formats::import::{ForeignRecord, ImportFormat, read};
use fathom_service::{Catalogue, ImportStatus};
use futures::StreamExt;
use tokio::io::AsyncReadExt;

use crate::operator;

/// Records written per call of the use case.
const BATCH: usize = 500;

/// What an import of foreign records did.
#[derive(Debug, Default)]
pub struct ForeignReport {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
}

pub async fn import(
    catalogue: &Catalogue,
    format: ImportFormat,
    organisation: &str,
    source: &Path,
    each_record: bool,
) -> anyhow::Result<ForeignReport> {
    let principal = operator();
    let mut report = ForeignReport::default();
    let mut batch: Vec<(String, Result<ForeignRecord, String>)> = Vec::new();
    // Files are read and parsed on the blocking pool, a few at a time, in order.
    let mut documents = futures::stream::iter(files(source, format)?)
        .map(|file| async move {
            let name = file.display().to_string();
            let records = if file == Path::new("-") {
                let document = read_stdin().await?;
                tokio::task::spawn_blocking(move || read(format, &document)).await?
            } else {
                tokio::task::spawn_blocking(move || read_file(&file).map(|d| read(format, &d)))
                    .await??
            };
            anyhow::Ok((name, records))
        })
        .buffered(4);
    while let Some(document) = documents.next().await {
        let (name, records) = document?;
        batch.extend(records.into_iter().map(|record| (name.clone(), record)));
        if batch.len() >= BATCH {
            write(
                catalogue,
                &principal,
                organisation,
                &mut batch,
                &mut report,
                each_record,
            )
            .await?;
        }
    }
    write(
        catalogue,
        &principal,
        organisation,
        &mut batch,
        &mut report,
        each_record,
    )
    .await?;
    Ok(report)
}

async fn write(
    catalogue: &Catalogue,
    principal: &fathom_model::Principal,
    organisation: &str,
    batch: &mut Vec<(String, Result<ForeignRecord, String>)>,
    report: &mut ForeignReport,
    each_record: bool,
) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let (files, records): (Vec<String>, Vec<_>) = std::mem::take(batch).into_iter().unzip();
    let results = catalogue
        .import_foreign(principal, organisation, records)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.summary()))?;
    for (file, result) in files.iter().zip(&results) {
        let (count, status) = match result.status {
            ImportStatus::Created => (&mut report.created, "created"),
            ImportStatus::Updated => (&mut report.updated, "updated"),
            ImportStatus::Unchanged => (&mut report.unchanged, "unchanged"),
            ImportStatus::Failed => (&mut report.failed, "failed"),
        };
        *count += 1;
        let identifier = result.identifier.as_deref().unwrap_or("(no identifier)");
        let outcome = match (&result.dataset, &result.reason) {
            (_, Some(reason)) => format!("{status}: {reason}"),
            (Some(dataset), None) => format!("{status} {dataset}"),
            (None, None) => status.to_owned(),
        };
        if each_record {
            println!("{file}: {identifier}: {outcome}");
        } else if result.status == ImportStatus::Failed {
            eprintln!("{file}: {identifier}: {outcome}");
        }
    }
    Ok(())
}

/// The files of `source`: itself, or the files directly in it with an extension of the format
/// (sorted), or `-` for standard input.
fn files(source: &Path, format: ImportFormat) -> anyhow::Result<Vec<PathBuf>> {
    if source.is_dir() {
        let extensions: &[&str] = match format {
            ImportFormat::Iso19139 | ImportFormat::DublinCore => &["xml"],
            ImportFormat::Dcat(syntax) => match syntax {
                fathom_formats::RdfSyntax::Turtle => &["ttl"],
                fathom_formats::RdfSyntax::NTriples => &["nt"],
                fathom_formats::RdfSyntax::RdfXml => &["rdf", "xml", "owl"],
                fathom_formats::RdfSyntax::JsonLd => &["jsonld", "json"],
            },
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(source)
            .with_context(|| format!("cannot list {}", source.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.is_file())
            .filter(|path| {
                path.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| extensions.contains(&e))
            })
            .collect();
        files.sort();
        Ok(files)
    } else {
        Ok(vec![source.to_owned()])
    }
}

/// The largest document read (records are small; a document larger than this is refused).
const LIMIT: u64 = 256 << 20;

/// A whole file, on the blocking pool's thread.
fn read_file(file: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let opened =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut document = Vec::new();
    opened.take(LIMIT + 1).read_to_end(&mut document)?;
    anyhow::ensure!(
        document.len() as u64 <= LIMIT,
        "{} is larger than 256 MiB",
        file.display()
    );
    Ok(document)
}

async fn read_stdin() -> anyhow::Result<Vec<u8>> {
    let mut document = Vec::new();
    tokio::io::stdin()
        .take(LIMIT + 1)
        .read_to_end(&mut document)
        .await?;
    anyhow::ensure!(
        document.len() as u64 <= LIMIT,
        "standard input is larger than 256 MiB"
    );
    Ok(document)
}
