//! `fathom export --format`: every dataset in a format of the standards, read a page at a time, so
//! memory stays that of one page whatever the size of the catalogue. DCAT-AP is one catalogue graph;
//! every other format is a document per dataset, written into a folder as `{slug}.{extension}`.

use std::path::Path;

use anyhow::Context;
use fathom_formats::{DcatWriter, Format, Record, Writer};
use fathom_model::Dataset;
use fathom_service::{DatasetFilter, PageRequest, Position, Services};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::operator;

/// Datasets read at a time.
const PAGE: u32 = 500;

/// `path`, or standard output.
pub async fn stream(path: Option<&Path>) -> anyhow::Result<Box<dyn AsyncWrite + Unpin + Send>> {
    Ok(match path {
        None => Box::new(tokio::io::stdout()),
        Some(path) => Box::new(
            tokio::fs::File::create(path)
                .await
                .with_context(|| format!("cannot create {}", path.display()))?,
        ),
    })
}

/// Writes every dataset in `format` (not [`Writer::Native`], which `ndjson::export` writes);
/// returns how many.
pub async fn datasets(
    services: &Services,
    format: &Format,
    output: Option<&Path>,
) -> anyhow::Result<u64> {
    let catalogue = &services.catalogue;
    let mut sink = Sink::open(format, output).await?;
    if let Sink::Graph { writer, .. } = &mut sink {
        writer.catalogue(&services.site, None)?;
    }
    let publishers = catalogue.organisations_by_slug().await?;
    let policy = catalogue.policy();
    let mut written = 0_u64;
    let mut after = None;
    loop {
        let page = catalogue
            // The operator exports everything, whatever its label.
            .datasets_json(
                Some(&operator()),
                &DatasetFilter::default(),
                PageRequest {
                    after: after.map(Position::Id),
                    limit: PAGE,
                },
            )
            .await?;
        for stored in &page {
            let dataset: Dataset = serde_json::from_str(stored.json.get())
                .with_context(|| format!("dataset {} does not decode", stored.id))?;
            let publisher = publishers.get(dataset.metadata.organisation.as_str());
            let record = Record::new(&services.site, &dataset, publisher, policy);
            sink.write(format, &record).await?;
            written += 1;
        }
        sink.flush().await?;
        match page.last() {
            Some(last) if page.len() == PAGE as usize => after = Some(last.id),
            _ => break,
        }
    }
    sink.finish().await?;
    Ok(written)
}

/// What an export writes into.
enum Sink {
    /// DCAT-AP: one graph, taken from the writer a page at a time.
    Graph {
        writer: Box<DcatWriter>,
        out: Box<dyn AsyncWrite + Unpin + Send>,
    },
    Folder(std::path::PathBuf),
}

impl Sink {
    async fn open(format: &Format, output: Option<&Path>) -> anyhow::Result<Self> {
        Ok(match format.writer {
            Writer::Rdf(syntax) => Self::Graph {
                writer: Box::new(DcatWriter::new(syntax)),
                out: stream(output).await?,
            },
            Writer::Document(_) => {
                let folder = output.with_context(|| {
                    format!(
                        "{} is a document per dataset: name the folder to write them into with --output",
                        format.name
                    )
                })?;
                tokio::fs::create_dir_all(folder)
                    .await
                    .with_context(|| format!("cannot create {}", folder.display()))?;
                Self::Folder(folder.to_owned())
            }
            Writer::Native => anyhow::bail!("Fathom's own records are exported as NDJSON"),
        })
    }

    async fn write(&mut self, format: &Format, record: &Record<'_>) -> anyhow::Result<()> {
        let dataset = record.dataset;
        match self {
            Self::Graph { writer, .. } => writer.dataset(record, true)?,
            Self::Folder(folder) => {
                let path = folder.join(format!("{}.{}", dataset.metadata.slug, format.extension));
                tokio::fs::write(&path, format.write(record)?)
                    .await
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> anyhow::Result<()> {
        if let Self::Graph { writer, out } = self {
            out.write_all(&writer.take()).await?;
        }
        Ok(())
    }

    async fn finish(self) -> anyhow::Result<()> {
        if let Self::Graph { writer, mut out } = self {
            out.write_all(&writer.finish()?).await?;
            out.flush().await?;
        }
        Ok(())
    }
}
