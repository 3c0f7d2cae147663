//! The formats against the standards' own schemas, read from `../shared/standards` (or
//! `FATHOM_STANDARDS`), with xmllint and no network.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use fathom_formats::{Site, iso};
use fathom_model::{AccessRights, Dataset, DatasetInput, DatasetState, Policy};
use time::OffsetDateTime;
use uuid::Uuid;

fn standards() -> PathBuf {
    let candidates = [
        std::env::var_os("FATHOM_STANDARDS").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/standards")),
        Some(PathBuf::from("/work/shared/standards")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|dir| dir.join("iso19139-xsd").is_dir())
        .expect("the standards' schemas are not found: set FATHOM_STANDARDS to the folder of `iso19139-xsd`")
}

fn dataset(body: serde_json::Value) -> Dataset {
    let input: DatasetInput = serde_json::from_value(body).unwrap();
    let draft = input
        .parse(&Policy::default_policy(), Uuid::now_v7)
        .unwrap();
    let at = OffsetDateTime::now_utc();
    Dataset {
        id: Uuid::now_v7(),
        metadata: draft.metadata,
        state: DatasetState::Published,
        revision: 3,
        created_at: at,
        updated_at: at,
    }
}

/// Validates each document with xmllint against `schema`; panics with xmllint's report.
fn validate(schema: &Path, documents: &[(String, String)]) {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, document) in documents {
        let path = dir.path().join(format!("{name}.xml"));
        std::fs::write(&path, document).unwrap();
        files.push(path);
    }
    let output = Command::new("xmllint")
        .args(["--nonet", "--noout", "--schema"])
        .arg(schema)
        .args(&files)
        .output()
        .expect("xmllint runs (Debian's libxml2-utils)");
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stderr),
        documents
            .iter()
            .map(|(n, d)| format!("== {n}\n{d}"))
            .collect::<String>()
    );
}

#[test]
fn iso_19139_validates_against_the_iso_schemas() {
    let rich = dataset(serde_json::json!({
        "title": "Towed array recordings <REP-MUS 24> & noise",
        "description": "Acoustic recordings.\nTwo lines.",
        "organisation": "cmre",
        "keywords": ["acoustics", "towed array"],
        "themes": ["http://publications.europa.eu/resource/authority/data-theme/TECH"],
        "contact_points": [{"name": "Data Desk", "email": "data@example.org", "role": "custodian"},
                           {"name": "PI", "role": "chief scientist"}],
        "creators": [{"name": "A. Researcher", "email": "a@example.org"}],
        "issued": "2024-05-01",
        "modified": "2024-06-01T10:00:00Z",
        "temporal": {"start": "2024-04-01T00:00:00Z"},
        "spatial": {"bbox": [170.0, -20.0, -170.0, 10.0]},
        "language": ["en", "nb-NO"],
        "license": "CC-BY-4.0",
        "version": "2.1",
        "identifiers": ["doi:10.1234/rec"],
        "distributions": [
            {"title": "WAV", "access_url": "https://data.example.org/w", "download_url": "https://data.example.org/w.zip", "format": "WAV"},
            {"access_url": "https://data.example.org/api", "media_type": "application/json"}
        ],
        "security_label": {"classification": "NATO SECRET", "categories": [
            {"tag": "ReleasableTo", "values": ["NOR", "ITA"]}, {"tag": "NeedToKnow", "values": ["REP-MUS"]}]}
    }));
    let minimal = dataset(serde_json::json!({"title": "Bare", "organisation": "nhs"}));
    let themed = dataset(serde_json::json!({"title": "Themed", "organisation": "nhs",
        "themes": ["https://vocab.example.org/themes/sonar"], "temporal": {"end": "2020-01-01"}}));
    let site = Site::default();
    let documents: Vec<(String, String)> =
        [("rich", &rich), ("minimal", &minimal), ("themed", &themed)]
            .into_iter()
            .map(|(name, d)| {
                (
                    name.to_owned(),
                    iso::document(&site, d, None, AccessRights::Restricted),
                )
            })
            .collect();
    validate(
        &standards().join("iso19139-xsd/iso19139-2007-offline.xsd"),
        &documents,
    );

    let rich_xml = &documents[0].1;
    for expected in [
        "<gmd:MD_ClassificationCode codeList=\"http://standards.iso.org/iso/19139/resources/gmxCodelists.xml#MD_ClassificationCode\" codeListValue=\"secret\">secret</gmd:MD_ClassificationCode>",
        "&lt;slab:Classification&gt;NATO SECRET&lt;/slab:Classification&gt;",
        "NATO SECRET // NeedToKnow REP-MUS // ReleasableTo ITA, NOR",
        "<gmd:westBoundLongitude><gco:Decimal>170</gco:Decimal></gmd:westBoundLongitude>",
        "Towed array recordings &lt;REP-MUS 24&gt; &amp; noise",
        "<gmd:LanguageCode codeList=\"http://www.loc.gov/standards/iso639-2/\" codeListValue=\"nor\">nor</gmd:LanguageCode>",
        "<gmx:Anchor xlink:href=\"http://publications.europa.eu/resource/authority/data-theme/TECH\">Science and technology</gmx:Anchor>",
        "<gmd:URL>https://data.example.org/w.zip</gmd:URL>",
    ] {
        assert!(
            rich_xml.contains(expected),
            "missing {expected} in\n{rich_xml}"
        );
    }
}
