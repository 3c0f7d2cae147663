//! A dataset's place in time: its lineage drawn as SVG (a dataset the reader may not see drawn as
//! "restricted", with nothing of it shown), its version series, and its revisions with what each
//! changed, each readable as it was.

use std::collections::{BTreeMap, HashMap};

use fathom_model::{Dataset, Marking, SecurityLabel};
use fathom_service::{Lineage, Operation, RevisionDiff, ServiceError, Walk};
use maud::{Markup, html};
use uuid::Uuid;

use super::date;
use crate::i18n::{Arg, messages};
use crate::{Ctx, markings};

/// How many derivations the lineage graph follows each way.
const LINEAGE_DEPTH: u32 = 3;
/// The most recent revisions listed.
const REVISIONS_LISTED: u32 = 50;

/// The lineage, versions and revisions of `dataset`, and the labels of the datasets they name.
pub async fn sections(
    ctx: &Ctx,
    dataset: &Dataset,
) -> Result<(Markup, Vec<SecurityLabel>), ServiceError> {
    let text = messages();
    let catalogue = &ctx.state.services.catalogue;
    let walks = [Walk::Upstream, Walk::Downstream];
    let lineage = catalogue
        .lineage_of(ctx.reader(), dataset, &walks, LINEAGE_DEPTH)
        .await?;
    let versions = catalogue.versions_of(ctx.reader(), dataset).await?;
    let revisions = catalogue
        .dataset_changes_of(ctx.reader(), dataset, REVISIONS_LISTED)
        .await?;
    // The labels of the linked datasets the reader may see, for their markings.
    let labels: HashMap<Uuid, SecurityLabel> = lineage
        .nodes
        .iter()
        .filter_map(|node| Some((node.id.parse().ok()?, node.security_label.clone()?)))
        .chain(
            versions
                .iter()
                .map(|version| (version.id, version.security_label.clone())),
        )
        .collect();
    let slug = dataset.metadata.slug.as_str();
    let markup = html! {
        @if lineage.nodes.len() > 1 {
            section {
                h2 { (text.text("dataset-lineage")) }
                p class="hint" { (text.text("dataset-lineage-hint")) }
                (lineage_svg(ctx, &lineage, &labels))
            }
        }
        @if versions.len() > 1 {
            section {
                h2 { (text.text("dataset-versions")) }
                ol class="versions" {
                    @for version in &versions {
                        li {
                            @if let Some(label) = labels.get(&version.id) { (crate::layout::portion(ctx, label)) " " }
                            @if version.distance == 0 {
                                strong { (version.title) } " " (text.text("dataset-this-version"))
                            } @else {
                                a href={ "/datasets/" (version.slug) } { (version.title) }
                            }
                            @if let Some(number) = &version.version { " (" (number) ")" }
                        }
                    }
                }
            }
        }
        section {
            h2 { (text.text("dataset-history")) }
            ol class="revisions" reversed {
                @for (revision, diff) in &revisions {
                    li value=(revision.revision) {
                        (text.text_with("dataset-revision-line", &[
                            ("revision", Arg::Number(revision.revision.unsigned_abs())),
                            ("at", Arg::Text(&date(revision.recorded_at))),
                            ("actor", Arg::Text(&revision.actor)),
                            ("operation", Arg::Text(revision.operation.as_str())),
                        ]))
                        @if let Some(diff) = diff {
                            " " span class="changes" { (changed_fields(diff)) }
                        }
                        @if revision.operation != Operation::Deleted && revision.revision != dataset.revision {
                            " " a href={ "/datasets/" (slug) "?revision=" (revision.revision) } { (text.text("dataset-read-as-it-was")) }
                        }
                    }
                }
            }
        }
    };
    Ok((markup, labels.into_values().collect()))
}

/// `title, keywords changed; licence added`.
fn changed_fields(diff: &RevisionDiff) -> String {
    let text = messages();
    let mut parts = Vec::new();
    for (fields, id) in [
        (&diff.fields_updated, "dataset-fields-changed"),
        (&diff.fields_added, "dataset-fields-added"),
        (&diff.fields_deleted, "dataset-fields-removed"),
    ] {
        if !fields.is_empty() {
            parts.push(text.text_with(id, &[("fields", Arg::Text(&fields.join(", ")))]));
        }
    }
    parts.join("; ")
}

/// Node sizes and gaps of the drawing, in SVG units.
const NODE_WIDTH: i32 = 230;
const NODE_HEIGHT: i32 = 58;
const COLUMN_GAP: i32 = 50;
const ROW_GAP: i32 = 16;

/// The lineage as boxes in columns (sources left, products right, the dataset itself in the
/// middle) joined by arrows from each source to what was derived from it.
fn lineage_svg(ctx: &Ctx, lineage: &Lineage, labels: &HashMap<Uuid, SecurityLabel>) -> Markup {
    let text = messages();
    let policy = ctx.state.policy();
    let mut columns: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
    for (n, node) in lineage.nodes.iter().enumerate() {
        columns.entry(node.distance).or_default().push(n);
    }
    let first = columns.keys().next().copied().unwrap_or_default();
    let mut at: HashMap<&str, (i32, i32)> = HashMap::new();
    for (distance, nodes) in &columns {
        for (row, n) in nodes.iter().enumerate() {
            let x = (distance - first) * (NODE_WIDTH + COLUMN_GAP) + 2;
            let y = row as i32 * (NODE_HEIGHT + ROW_GAP) + 2;
            at.insert(lineage.nodes[*n].id.as_str(), (x, y));
        }
    }
    let width = columns.len() as i32 * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP + 4;
    let rows = columns.values().map(Vec::len).max().unwrap_or(1) as i32;
    let height = rows * (NODE_HEIGHT + ROW_GAP) - ROW_GAP + 4;
    let restricted = text.text("lineage-restricted");
    html! {
        svg class="lineage" role="group" aria-label=(text.text("dataset-lineage")) viewBox={ "0 0 " (width) " " (height) } width=(width) height=(height) {
            defs {
                marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse" {
                    path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head" {}
                }
            }
            @for edge in &lineage.edges {
                @if let (Some((fx, fy)), Some((tx, ty))) = (at.get(edge.to.as_str()), at.get(edge.from.as_str())) {
                    line class="edge" x1=(fx + NODE_WIDTH) y1=(fy + NODE_HEIGHT / 2) x2=(tx - 2) y2=(ty + NODE_HEIGHT / 2) marker-end="url(#arrow)" {}
                }
            }
            @for node in &lineage.nodes {
                @if let Some((x, y)) = at.get(node.id.as_str()) {
                    @if node.redacted {
                        g class="node restricted" {
                            rect x=(x) y=(y) width=(NODE_WIDTH) height=(NODE_HEIGHT) rx="6" {}
                            text x=(x + 10) y=(y + 34) { (restricted) }
                        }
                    } @else {
                        @let label = node.id.parse::<Uuid>().ok().and_then(|id| labels.get(&id));
                        @let marking = label.map(|label| Marking::of_label(policy, label));
                        @let title = node.title.clone().unwrap_or_default();
                        a href={ "/datasets/" (node.slug.as_deref().unwrap_or(node.id.as_str())) } {
                            g class={ "node" @if node.distance == 0 { " root" } } {
                                title { (title) }
                                rect x=(x) y=(y) width=(NODE_WIDTH) height=(NODE_HEIGHT) rx="6" {}
                                @if let Some(marking) = &marking {
                                    rect class={ "band " (markings::class(policy, marking)) } x=(x) y=(y) width="6" height=(NODE_HEIGHT) {}
                                    text class="marking" x=(x + 14) y=(y + 18) { (marking.classification) }
                                }
                                text x=(x + 14) y=(y + 40) { (shortened(&title, 30)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// At most `length` characters, with an ellipsis when cut.
fn shortened(text: &str, length: usize) -> String {
    if text.chars().count() <= length {
        return text.to_owned();
    }
    let cut: String = text.chars().take(length - 1).collect();
    format!("{}…", cut.trim_end())
}
