//! The formats against the standards' own schemas, read from `../shared/standards` (or
//! `FATHOM_STANDARDS`), with xmllint and no network.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use fathom_formats::import::{ForeignRecord, ImportFormat, read};
use fathom_formats::{Record, Site, iso};
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
    published(serde_json::from_value(body).unwrap())
}

/// A dataset as Fathom would hold it after `input` was sent (in the organisation `cmre` if it has none).
fn published(mut input: DatasetInput) -> Dataset {
    input.organisation.get_or_insert_with(|| "cmre".into());
    let draft = input
        .parse(&Policy::default_policy(), Uuid::now_v7)
        .unwrap();
    Dataset::new(
        draft.metadata,
        DatasetState::Published,
        OffsetDateTime::now_utc(),
    )
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
                    iso::document(&Record {
                        site: &site,
                        dataset: d,
                        publisher: None,
                        access_rights: AccessRights::Restricted,
                    }),
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

/// Every record of the corpus from other catalogues is read into a dataset Fathom accepts, or is
/// refused with its reason; none is lost silently.
#[test]
fn the_corpus_imports_or_is_refused_with_reasons() {
    let corpus = standards().join("corpus");
    let cases: [(&str, &str, usize, &[&str]); 7] = [
        ("iso19139/stanford-earthworks", "iso19139", 509, &[]),
        ("iso19139/pycsw-apiso", "iso19139", 18, &[]),
        ("iso19139/pycsw-idswithpaths", "iso19139", 8, &[]),
        (
            "iso19139/stanford-earthworks-malformed",
            "iso19139",
            0,
            &["the namespace prefix `gmd` is not declared"],
        ),
        (
            "iso19115-3/pycsw-iso19115p3",
            "iso19139",
            1,
            &["is ISO 19115-3"],
        ),
        ("dublin-core/pycsw-cite", "dc", 9, &["no dc:title"]),
        (
            "dublin-core/derived-by-pycsw-from-iso",
            "dc",
            432,
            &["no dc:title"],
        ),
    ];
    for (dir, format, expected_ok, expected_reasons) in cases {
        let (records, refusals) = read_corpus(&corpus.join(dir), format);
        let accepted = records.len();
        assert_eq!(accepted, expected_ok, "{dir}: {refusals:#?}");
        for refusal in &refusals {
            assert!(
                expected_reasons.iter().any(|r| refusal.contains(r)),
                "{dir}: unexpected refusal {refusal}"
            );
        }
    }
    // The GeoDCAT-AP pairs: the ISO input and its DCAT translations describe the same dataset.
    for entry in std::fs::read_dir(corpus.join("geodcat-ap-pairs")).unwrap() {
        let case = entry.unwrap().path();
        let iso = read_one(&case.join("input.xml"), "iso19139");
        for (file, format) in [
            ("expected_output.ttl", "dcat-ttl"),
            ("expected_output.rdf", "dcat-rdfxml"),
        ] {
            let results = read(
                ImportFormat::parse(format).unwrap(),
                &std::fs::read(case.join(file)).unwrap(),
            );
            match (&iso, results.as_slice()) {
                (Ok(iso), [Ok(dcat)]) => {
                    assert_eq!(iso.dataset.title, dcat.dataset.title, "{}", case.display())
                }
                // Services are not datasets: DCAT says so by type, ISO by its identification.
                (_, [Err(reason)]) => assert!(
                    reason.contains("no dcat:Dataset"),
                    "{}: {reason}",
                    case.display()
                ),
                other => panic!("{}: {other:?}", case.display()),
            }
        }
    }
}

/// What matters of a dataset for a round trip: title, abstract, keywords, extents, contacts and
/// distributions.
fn essentials(dataset: &DatasetInput) -> String {
    let mut contacts: Vec<String> = dataset
        .contact_points
        .iter()
        .flatten()
        .map(|c| format!("{:?} {:?}", c.name, c.email))
        .collect();
    contacts.sort();
    let distributions: Vec<_> = dataset
        .distributions
        .iter()
        .flatten()
        .map(|d| {
            (
                d.access_url.clone(),
                d.download_url.clone(),
                d.title.clone(),
            )
        })
        .collect();
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{contacts:?}\n{distributions:?}",
        dataset.title,
        dataset.description,
        dataset.keywords,
        dataset.spatial.as_ref().and_then(|s| s.bbox.clone()),
        dataset.temporal.as_ref().map(|t| {
            let instant = |at: &Option<String>| {
                at.as_deref()
                    .map(|a| fathom_model::values::parse_instant(a).unwrap())
            };
            (instant(&t.start), instant(&t.end))
        }),
    )
}

/// Import → export (ISO 19139, and DCAT-AP in Turtle) → import keeps what matters, for every record
/// of the ISO corpus.
#[test]
fn records_survive_a_round_trip_through_fathom() {
    let (records, _) = read_corpus(
        &standards().join("corpus/iso19139/stanford-earthworks"),
        "iso19139",
    );
    let site = Site::default();
    for first in &records {
        let dataset = published(first.dataset.clone());
        let iso = iso::document(&Record {
            site: &site,
            dataset: &dataset,
            publisher: None,
            access_rights: AccessRights::Public,
        });
        let again = read(ImportFormat::Iso19139, iso.as_bytes())
            .pop()
            .unwrap()
            .unwrap();
        // Fathom's export is identified by Fathom's id; the original identifier travels along.
        assert_eq!(again.identifier, dataset.id.to_string());
        assert!(
            again
                .dataset
                .identifiers
                .as_ref()
                .unwrap()
                .contains(&first.identifier)
        );
        assert_eq!(
            essentials(&again.dataset),
            essentials(&first.dataset),
            "ISO: {}",
            first.identifier
        );

        let mut writer = fathom_formats::DcatWriter::new(fathom_formats::RdfSyntax::Turtle);
        let record = Record {
            site: &site,
            dataset: &dataset,
            publisher: None,
            access_rights: AccessRights::Public,
        };
        writer.dataset(&record, false).unwrap();
        let turtle = writer.finish().unwrap();
        let again = read(
            ImportFormat::Dcat(fathom_formats::RdfSyntax::Turtle),
            &turtle,
        )
        .pop()
        .unwrap()
        .unwrap();
        assert_eq!(
            essentials(&again.dataset),
            essentials(&first.dataset),
            "DCAT: {}",
            first.identifier
        );
    }
}

fn read_one(path: &Path, format: &str) -> Result<ForeignRecord, String> {
    read(
        ImportFormat::parse(format).unwrap(),
        &std::fs::read(path).unwrap(),
    )
    .pop()
    .unwrap()
}

/// The records of every `.xml` file of a folder that Fathom accepts (read and valid), and the
/// reasons of those refused.
fn read_corpus(dir: &Path, format: &str) -> (Vec<ForeignRecord>, Vec<String>) {
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
    {
        for result in read(
            ImportFormat::parse(format).unwrap(),
            &std::fs::read(&path).unwrap(),
        ) {
            match result {
                Err(reason) => refused.push(reason),
                Ok(record) => {
                    let mut input = record.dataset.clone();
                    input.organisation = Some("cmre".into());
                    match input.parse(&Policy::default_policy(), Uuid::now_v7) {
                        Ok(_) => accepted.push(record),
                        Err(errors) => refused.push(format!("{}: {errors:?}", path.display())),
                    }
                }
            }
        }
    }
    (accepted, refused)
}

/// OAI-PMH responses recorded from real repositories (sickle's test data): pages are read with their
/// records, deletions and tokens; errors with their codes; a broken document is refused, not guessed.
#[test]
fn recorded_oai_pmh_responses_are_read_or_refused() {
    use fathom_formats::oai::{ListAnswer, read_list_records};
    let dir = standards().join("corpus/oai-pmh-responses/sickle");
    let answer = |file: &str| {
        read_list_records(
            &std::fs::read(dir.join(file)).unwrap(),
            ImportFormat::DublinCore,
        )
    };
    let Ok(ListAnswer::Page { records, token }) = answer("ListRecords.xml") else {
        panic!("ListRecords.xml is a page")
    };
    assert!(
        records.len() > 1 && token.is_some(),
        "{} records, token {token:?}",
        records.len()
    );
    assert!(records[0].record.is_none(), "the first record is deleted");
    let read: Vec<_> = records.iter().filter_map(|r| r.record.as_ref()).collect();
    assert!(read.iter().any(|r| r.is_ok()), "{read:?}");
    for file in ["ListRecords2.xml", "ListRecords3.xml", "ListRecords4.xml"] {
        assert!(
            matches!(answer(file), Ok(ListAnswer::Page { .. })),
            "{file}"
        );
    }
    assert_eq!(answer("noRecordsMatch.xml"), Ok(ListAnswer::NoRecords));
    for (file, code) in [
        ("badArgument.xml", "badArgument"),
        ("badResumptionToken.xml", "badResumptionToken"),
        ("cannotDisseminateFormat.xml", "cannotDisseminateFormat"),
        ("idDoesNotExist.xml", "idDoesNotExist"),
        ("noSetHierarchy.xml", "noSetHierarchy"),
    ] {
        match answer(file) {
            Ok(ListAnswer::Error { code: found, .. }) => assert_eq!(found, code, "{file}"),
            other => panic!("{file}: {other:?}"),
        }
    }
    assert!(
        answer("ListRecordsBroken.xml")
            .unwrap_err()
            .contains("not XML")
    );
    assert!(
        answer("Identify.xml")
            .unwrap_err()
            .contains("neither ListRecords nor an error")
    );
}
