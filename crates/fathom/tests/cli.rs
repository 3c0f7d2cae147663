//! The `fathom` binary end to end: import and export, configuration, and crash safety.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use fathom_events::testing::{TestQueue, amqp_url};
use fathom_store::testing::TestStore;
use fathom_store::{DatasetFilter, EntityType, PageRequest, Position, RecordKey, Store};
use serde_json::{Value, json};

const FATHOM: &str = env!("CARGO_BIN_EXE_fathom");

/// An HTTP client. (reqwest takes its TLS provider from the process, as Fathom's OIDC client does.)
fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// `fathom` with an isolated environment: no configuration file, no `FATHOM_*` from the caller.
fn fathom(data_dir: &Path) -> Command {
    let mut command = Command::new(FATHOM);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("FATHOM_LOG", "warn")
        .arg("--config")
        .arg(data_dir.join("absent.toml"))
        .arg("--data-dir")
        .arg(data_dir);
    command
}

fn run(command: &mut Command, stdin: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn organisations() -> Vec<u8> {
    let lines = [
        json!({"slug": "cmre", "name": "Centre for Maritime Research", "nation": "ITA"}),
        json!({"slug": "nhs", "name": "Norwegian Hydrographic Survey", "nation": "NOR"}),
    ];
    lines
        .iter()
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        .into_bytes()
}

fn dataset_line(i: usize) -> String {
    json!({
        "title": format!("Glider section {i}"),
        "organisation": if i.is_multiple_of(2) { "cmre" } else { "nhs" },
        "keywords": ["glider", "temperature"],
        "spatial": {"bbox": [8.0, 43.0, 10.5, 44.5]},
        "distributions": [{"title": "NetCDF", "access_url": format!("https://data.example.org/{i}.nc")}]
    })
    .to_string()
}

/// Imports the two organisations and `count` datasets with `fathom import`.
fn import_catalogue(data_dir: &Path, count: usize) {
    let organisations_imported = run(
        fathom(data_dir).args(["import", "--kind", "organisations", "-"]),
        &organisations(),
    );
    assert!(organisations_imported.status.success());
    let lines: String = (0..count).map(|i| dataset_line(i) + "\n").collect();
    let datasets_imported = run(fathom(data_dir).args(["import", "-"]), lines.as_bytes());
    assert!(datasets_imported.status.success());
}

/// Imports organisations, then datasets with bad lines mixed in; checks the reports, then exports.
fn import_and_export(target: &[&str], data_dir: &Path) {
    let with_target = |args: &[&str]| {
        let mut command = fathom(data_dir);
        command.args(target).args(args);
        command
    };
    let output = run(
        with_target(&["import", "--kind", "organisations", "-"]).stdin(Stdio::piped()),
        &organisations(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let mut input = Vec::new();
    for i in 0..5 {
        input.extend(dataset_line(i).into_bytes());
        input.push(b'\n');
    }
    input.extend(b"{\"title\": \"truncated\n");
    input.extend(b"\n");
    input.extend(b"{\"title\": \"Bad \xff byte\", \"organisation\": \"cmre\"}\n");
    input
        .extend(format!("{}\n", json!({"title": "Orphan", "organisation": "nobody"})).into_bytes());
    input.extend(
        format!(
            "{}\n",
            json!({"title": "Mine", "organisation": "cmre", "slug": "glider-section-1"})
        )
        .into_bytes(),
    );
    input.extend(format!("{}\n", json!({"title": "Out of range", "organisation": "cmre", "spatial": {"bbox": [0, 0, 10, 91]}})).into_bytes());
    input.extend(format!("{}\n", dataset_line(5)).into_bytes());

    let output = run(&mut with_target(&["import", "-"]), &input);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "rejected lines fail the command");
    for expected in [
        "line 6: ",
        "line 8: not UTF-8",
        "line 9: /organisation: no organisation",
        "line 10: another dataset already has this slug",
        "line 11: /spatial/bbox",
    ] {
        assert!(stderr.contains(expected), "{expected:?} in {stderr}");
    }
    assert!(
        stderr.contains("imported 6 datasets, rejected 5 line(s)"),
        "{stderr}"
    );

    let output = run(
        &mut with_target(&["import", "--on-error", "stop", "-"]),
        format!("{}\n{{oops\n{}\n", dataset_line(6), dataset_line(7)).as_bytes(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 2: ") && stderr.contains("imported 1 datasets, rejected 1 line(s)"),
        "{stderr}"
    );

    let output = run(&mut with_target(&["export"]), b"");
    assert!(output.status.success());
    let exported: Vec<Value> = output
        .stdout
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    let mut titles: Vec<_> = exported
        .iter()
        .map(|d| d["title"].as_str().unwrap().to_owned())
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        (0..7)
            .map(|i| format!("Glider section {i}"))
            .collect::<Vec<_>>()
    );
    assert!(
        exported
            .iter()
            .all(|d| d["revision"] == 1 && d["distributions"][0]["id"].is_string())
    );

    export_every_format(&with_target, &titles);

    // The domain model from the command line: a vocabulary, a profile, entities in and out.
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let vocabulary = here.join("vocabularies/platform-types.ttl");
    let output = run(
        with_target(&["vocab", "import", "--binds", "platform_type"]).arg(&vocabulary),
        b"",
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("imported platform-types (20 concepts, revision 1)"),
        "{stderr}"
    );
    let listed = run(&mut with_target(&["vocab", "list"]), b"");
    assert!(String::from_utf8_lossy(&listed.stdout).starts_with("platform-types\t20 concepts"));
    let profile = here.join("profiles/oceanographic-cruise-1.0.0.json");
    let add = |version: &str| {
        run(
            with_target(&["profile", "add", "oceanographic-cruise", version]).arg(&profile),
            b"",
        )
    };
    assert!(add("1.0.0").status.success());
    let again = add("1.0.0");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("must come after the latest, 1.0.0"));
    let listed = run(&mut with_target(&["profile", "list"]), b"");
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout),
        "oceanographic-cruise\t1.0.0\n"
    );
    let entities = [
        json!({"type": "campaign", "slug": "trial-1", "name": "Trial 1", "platforms": ["rv-one"]}),
        json!({"type": "platform", "slug": "rv-one", "name": "RV One", "platform_type": "research_vessel"}),
        json!({"type": "platform", "slug": "sub-one", "name": "Sub One", "platform_type": "submarine"}),
        json!({"slug": "untyped", "name": "Untyped"}),
        json!({"type": "campaign", "slug": "trial-1", "name": "Trial 1", "platforms": ["rv-one"]}),
    ];
    let input: String = entities.iter().map(|e| format!("{e}\n")).collect();
    let output = run(
        &mut with_target(&["import", "--kind", "entities", "-"]),
        input.as_bytes(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "line 1: /platforms/0: no platform has the slug `rv-one`",
        "line 3: /platform_type: `submarine` is not a concept",
        "line 4: /type: must name the kind of entity",
    ] {
        assert!(stderr.contains(expected), "{expected:?} in {stderr}");
    }
    let output = run(&mut with_target(&["export", "--kind", "entities"]), b"");
    let exported: Vec<Value> = output
        .stdout
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    let slugs: Vec<&str> = exported
        .iter()
        .map(|e| e["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["rv-one", "trial-1"], "what is referred to first");

    // Records of other catalogues, with a report line per record.
    let records = tempfile::tempdir().unwrap();
    let dc = |body: &str| {
        format!(
            r#"<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">{body}</oai_dc:dc>"#
        )
    };
    let good = records.path().join("1-good.xml");
    std::fs::write(
        &good,
        dc("<dc:identifier>urn:example:ctd-1</dc:identifier><dc:title>CTD casts</dc:title>"),
    )
    .unwrap();
    std::fs::write(
        records.path().join("2-untitled.xml"),
        dc("<dc:identifier>urn:example:untitled</dc:identifier>"),
    )
    .unwrap();
    let import_records = || {
        run(
            with_target(&[
                "import",
                "--format",
                "dc",
                "--organisation",
                "cmre",
                "--report",
            ])
            .arg(records.path()),
            b"",
        )
    };
    let first = import_records();
    let report = String::from_utf8_lossy(&first.stdout).into_owned();
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), 2, "{report}");
    assert!(
        lines[0].starts_with(&format!("{}: urn:example:ctd-1: created ", good.display())),
        "{report}"
    );
    assert!(
        lines[1].contains("2-untitled.xml: ")
            && lines[1].contains(": failed: ")
            && lines[1].contains("no dc:title"),
        "{report}"
    );
    assert!(!first.status.success(), "a failed record fails the command");
    assert!(
        String::from_utf8_lossy(&first.stderr)
            .contains("created 1, updated 0, unchanged 0, failed 1"),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let again = String::from_utf8_lossy(&import_records().stdout).into_owned();
    assert!(
        again
            .lines()
            .next()
            .is_some_and(|line| line.ends_with(&format!(
                "unchanged {}",
                lines[0].rsplit(' ').next().unwrap()
            ))),
        "the same dataset, unchanged: {again}"
    );
}

/// `fathom export --format` in every format the API serves: each read back with Fathom's own
/// readers where it has one (DCAT-AP, ISO 19139, Dublin Core), and every dataset's title in it.
fn export_every_format(with_target: &dyn Fn(&[&str]) -> Command, titles: &[String]) {
    use fathom_formats::import::{ImportFormat, read};
    use fathom_formats::{FORMATS, Writer};
    let out = tempfile::tempdir().unwrap();
    for format in &FORMATS {
        let path = out.path().join(format.name);
        let output = run(
            with_target(&["export", "--format", format.name, "--output"]).arg(&path),
            b"",
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{}: {stderr}", format.name);
        assert!(
            stderr.contains(&format!(
                "exported {} datasets as {}",
                titles.len(),
                format.name
            )),
            "{stderr}"
        );
        let documents: Vec<Vec<u8>> = match format.writer {
            Writer::Document(_) => std::fs::read_dir(&path)
                .unwrap()
                .map(|entry| {
                    let entry = entry.unwrap().path();
                    assert!(entry.to_string_lossy().ends_with(format.extension));
                    std::fs::read(entry).unwrap()
                })
                .collect(),
            Writer::Native | Writer::Rdf(_) => vec![std::fs::read(&path).unwrap()],
        };
        let reader = match (format.writer, format.name) {
            (Writer::Rdf(syntax), _) => Some(ImportFormat::Dcat(syntax)),
            (_, "iso19139") => Some(ImportFormat::Iso19139),
            (_, "oai_dc") => Some(ImportFormat::DublinCore),
            _ => None,
        };
        let mut found: Vec<String> = match reader {
            Some(reader) => documents
                .iter()
                .flat_map(|document| read(reader, document))
                .map(|record| record.unwrap().dataset.title.unwrap())
                .collect(),
            None => titles
                .iter()
                .filter(|title| {
                    documents
                        .iter()
                        .any(|d| String::from_utf8_lossy(d).contains(title.as_str()))
                })
                .cloned()
                .collect(),
        };
        found.sort();
        assert_eq!(found, titles, "{}", format.name);
    }
    let refused = run(&mut with_target(&["export", "--format", "iso19139"]), b"");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("name the folder"));
    let refused = run(
        &mut with_target(&["export", "--format", "ttl", "--kind", "organisations"]),
        b"",
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("exported as NDJSON"));
    let refused = run(&mut with_target(&["export", "--format", "xls"]), b"");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("the formats are json, ttl"));
}

#[test]
fn import_and_export_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    import_and_export(&[], dir.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_and_export_on_postgres() {
    let Some(db) = TestStore::postgres().await else {
        return;
    };
    let url = database_url_of(&db);
    let dir = tempfile::tempdir().unwrap();
    tokio::task::spawn_blocking(move || import_and_export(&["--database-url", &url], dir.path()))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_finds_a_tampered_entry() {
    let Some(db) = TestStore::postgres().await else {
        return;
    };
    for n in 0..3 {
        db.store
            .append_audit_event(&fathom_store::AuditEvent {
                seq: 0,
                recorded_at: fathom_store::now(),
                event: "token_created".into(),
                actor: Some("admin".into()),
                subject: Some(format!("user-{n}")),
                details: json!({}),
            })
            .await
            .unwrap();
    }
    let url = database_url_of(&db);
    let dir = tempfile::tempdir().unwrap();
    let verify = || {
        let output = run(
            fathom(dir.path()).args(["--database-url", &url, "audit", "verify"]),
            b"",
        );
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let (whole, said) = verify();
    assert!(whole, "{said}");
    assert!(said.contains("3 entries chained"), "{said}");
    let last: i64 = db.store.audit_events(0, 10).await.unwrap()[2].seq;
    db.execute(&format!(
        "UPDATE audit_events SET details = '{{\"forged\": true}}' WHERE seq = {last}"
    ))
    .await;
    let (whole, said) = verify();
    assert!(!whole, "{said}");
    assert!(
        said.contains(&format!("broken at entry {last} (after 2 whole entries)")),
        "{said}"
    );
}

fn database_url_of(db: &TestStore) -> String {
    db.url()
        .expect("a PostgreSQL test store has a URL")
        .to_owned()
}

#[test]
fn config_layers_and_redacts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fathom.toml");
    std::fs::write(&file, "listen = \"0.0.0.0:9999\"\nbody_limit = 2048\n").unwrap();
    let output = Command::new(FATHOM)
        .env_clear()
        .env("FATHOM_BODY_LIMIT", "4096")
        .env("FATHOM_DATABASE_URL", "postgres://fathom:hunter2@db/fathom")
        .args(["--config", file.to_str().unwrap(), "config"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let config: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(config["listen"], "0.0.0.0:9999");
    assert_eq!(config["body_limit"], 4096);
    assert_eq!(
        config["database_url"],
        "postgres://fathom:<redacted>@db/fathom"
    );
    let bad = Command::new(FATHOM)
        .env_clear()
        .env("FATHOM_BODY_LIMIT", "lots")
        .args(["--config", "/nonexistent.toml", "config"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("BODY_LIMIT"));
}

#[test]
fn users_and_policies_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let create = |extra: &[&str]| {
        let mut command = fathom(dir.path());
        command
            .args(["user", "create", "--role", "viewer"])
            .args(extra);
        run(&mut command, b"")
    };
    let made = create(&[
        "--name",
        "ana",
        "--clearance",
        "NATO SECRET",
        "--nationality",
        "NOR",
        "--community",
        "NATO",
    ]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let refused = create(&[
        "--name",
        "bob",
        "--clearance",
        "TOP SECRET",
        "--nationality",
        "XXX",
        "--community",
        "MARS",
    ]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    for pointer in ["/clearance", "/nationality", "/communities/0"] {
        assert!(said.contains(pointer), "{pointer} in {said}");
    }
    let listed = run(fathom(dir.path()).args(["user", "list"]), b"");
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout),
        "ana\tviewer\tNATO SECRET\tNOR\tNATO\t\n"
    );
    // Tokens are listed without secrets; a viewer's token cannot be given the admin scope.
    let token = run(
        fathom(dir.path()).args(["token", "create", "--user", "ana", "--role", "viewer"]),
        b"",
    );
    assert!(token.status.success());
    let secret = String::from_utf8_lossy(&token.stdout).trim().to_owned();
    let writing = run(
        fathom(dir.path()).args([
            "token", "create", "--user", "ana", "--role", "viewer", "--scope", "admin",
        ]),
        b"",
    );
    assert!(!writing.status.success());
    let tokens = String::from_utf8_lossy(
        &run(
            fathom(dir.path()).args(["token", "list", "--user", "ana"]),
            b"",
        )
        .stdout,
    )
    .into_owned();
    assert_eq!(tokens.lines().count(), 1, "{tokens}");
    assert!(
        tokens.contains("\tana\tread,write\t") && tokens.contains("active"),
        "{tokens}"
    );
    assert!(!tokens.contains(&secret));
    // A password to sign in on the pages with, read from standard input; a short one is refused.
    let set = run(
        fathom(dir.path()).args(["user", "set-password", "ana"]),
        b"a long enough passphrase\n",
    );
    assert!(set.status.success(), "{set:?}");
    assert!(String::from_utf8_lossy(&set.stderr).contains("password of ana set"));
    let short = run(
        fathom(dir.path()).args(["user", "set-password", "ana"]),
        b"short\n",
    );
    assert!(!short.status.success());
    assert!(
        String::from_utf8_lossy(&short.stderr).contains("/password: must be 12 to 1024 characters"),
        "{short:?}"
    );
    let nobody = run(
        fathom(dir.path()).args(["user", "set-password", "nobody"]),
        b"a long enough passphrase\n",
    );
    assert!(!nobody.status.success());
    let disabled = run(fathom(dir.path()).args(["user", "disable", "ana"]), b"");
    assert!(disabled.status.success());
    assert!(
        !run(fathom(dir.path()).args(["user", "disable", "ana"]), b"")
            .status
            .success()
    );

    // Another policy, in TOML: its classifications are the ones users may hold.
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "id = \"urn:example:policy\"\nclassifications = [\"OPEN\", \"CLOSED\"]\npublic = \"OPEN\"\n\n[default_label]\nclassification = \"OPEN\"\n",
    )
    .unwrap();
    let closed = run(
        fathom(dir.path())
            .args(["--policy", policy.to_str().unwrap()])
            .args([
                "user",
                "create",
                "--role",
                "viewer",
                "--name",
                "cy",
                "--clearance",
                "CLOSED",
            ]),
        b"",
    );
    assert!(
        closed.status.success(),
        "{}",
        String::from_utf8_lossy(&closed.stderr)
    );
    std::fs::write(
        &policy,
        "id = \"urn:example:policy\"\nclassifications = []\n",
    )
    .unwrap();
    let broken = run(
        fathom(dir.path())
            .args(["--policy", policy.to_str().unwrap()])
            .args(["user", "list"]),
        b"",
    );
    assert!(!broken.status.success());
    assert!(String::from_utf8_lossy(&broken.stderr).contains("policy"));
}

/// `kill -9` in the middle of an import: every batch the importer reported as committed is there,
/// and every record present is whole (its row, its revision and its change-feed entry).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_import_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("datasets.ndjson");
    let lines: String = (0..20_000).map(|i| dataset_line(i) + "\n").collect();
    std::fs::write(&input, lines).unwrap();
    assert!(
        run(
            fathom(dir.path()).args(["import", "--kind", "organisations", "-"]),
            &organisations()
        )
        .status
        .success()
    );

    let mut child = fathom(dir.path())
        .arg("import")
        .arg(&input)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let acknowledged = wait_for_progress(&mut child, 2);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let store = Store::open_sqlite(dir.path()).await.unwrap();
    assert_whole(&store, acknowledged).await;
}

/// Reads the importer's progress until it has reported `batches` commits; returns the last count.
fn wait_for_progress(child: &mut Child, batches: usize) -> u64 {
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = 0;
    for line in stderr.lines() {
        let line = line.unwrap();
        if let Some(count) = line
            .strip_prefix("imported ")
            .and_then(|rest| rest.strip_suffix(" datasets so far"))
        {
            seen += 1;
            if seen == batches {
                return count.parse().unwrap();
            }
        }
    }
    panic!("the import ended before {batches} batches were committed");
}

/// At least `acknowledged` datasets, each with its revision and change; nothing half-written.
async fn assert_whole(store: &Store, acknowledged: u64) {
    let mut count = 0_u64;
    let mut after = None;
    loop {
        let page = store
            .datasets(
                &DatasetFilter::default(),
                PageRequest { after, limit: 1000 },
            )
            .await
            .unwrap();
        for dataset in &page {
            let revision = store
                .revision(EntityType::Dataset, dataset.id, 1)
                .await
                .unwrap();
            assert_eq!(revision.snapshot.unwrap()["id"], json!(dataset.id));
            assert_eq!(
                store
                    .dataset(&RecordKey::Slug(dataset.metadata.slug.to_string()))
                    .await
                    .unwrap(),
                *dataset
            );
        }
        count += page.len() as u64;
        match page.last() {
            Some(last) if page.len() == 1000 => after = Some(Position::Id(last.id)),
            _ => break,
        }
    }
    assert!(
        count >= acknowledged,
        "{count} datasets survived, {acknowledged} were acknowledged"
    );
    assert!(count.is_multiple_of(1000), "whole batches only: {count}");
    let changes = store.changes_since(0, 100_000).await.unwrap();
    let dataset_changes = changes
        .iter()
        .filter(|c| c.entity_type == EntityType::Dataset)
        .count() as u64;
    assert_eq!(dataset_changes, count, "one change per dataset");
}

/// `kill -9` of the server while clients write: every dataset the server answered 201 for is there
/// after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_the_server_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let token = "fthm_bootstrap-token-for-the-crash-test-0123456789";
    let serve = || {
        let mut command = fathom(dir.path());
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("FATHOM_BOOTSTRAP_TOKEN", token)
            .env("FATHOM_LOG", "info");
        command.stderr(Stdio::piped()).spawn().unwrap()
    };
    let mut server = serve();
    let (base, _) = wait_for_start(&mut server);
    let client = http();
    let response = client
        .post(format!("{base}/api/v1/organisations"))
        .bearer_auth(token)
        .json(&json!({"slug": "cmre", "name": "CMRE", "nation": "ITA"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);

    let mut writers = Vec::new();
    for w in 0..4 {
        let (client, base) = (client.clone(), base.clone());
        writers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0.. {
                let body =
                    json!({"title": format!("Writer {w} dataset {i}"), "organisation": "cmre"});
                match client
                    .post(format!("{base}/api/v1/datasets"))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(response) if response.status() == reqwest::StatusCode::CREATED => {
                        acknowledged.push(
                            response
                                .json::<Value>()
                                .await
                                .map(|d| d["id"].as_str().unwrap().to_owned())
                                .ok(),
                        );
                    }
                    _ => break,
                }
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill().unwrap();
    server.wait().unwrap();
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.extend(writer.await.unwrap().into_iter().flatten());
    }
    assert!(
        acknowledged.len() > 20,
        "the writers got going: {}",
        acknowledged.len()
    );

    let store = Store::open_sqlite(dir.path()).await.unwrap();
    for id in &acknowledged {
        let dataset = store
            .dataset(&RecordKey::parse(id))
            .await
            .unwrap_or_else(|e| panic!("acknowledged {id} lost: {e}"));
        assert_eq!(dataset.revision, 1);
    }
    let all = store
        .datasets(
            &DatasetFilter::default(),
            PageRequest {
                after: None,
                limit: 100_000,
            },
        )
        .await
        .unwrap();
    for dataset in &all {
        assert!(
            store
                .revision(EntityType::Dataset, dataset.id, 1)
                .await
                .is_ok(),
            "{} has its revision",
            dataset.id
        );
    }
    store.close().await;

    let mut restarted = serve();
    let (base, _) = wait_for_start(&mut restarted);
    let page: Value = client
        .get(format!("{base}/api/v1/datasets?limit=1000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        all.len(),
        "the restarted server serves them"
    );
    restarted.kill().unwrap();
    restarted.wait().unwrap();
}

/// Waits until the log file has a line with `marker`; returns the word after it (the server's address
/// after "listening on ").
async fn wait_for_log(log: &Path, marker: &str) -> String {
    for _ in 0..300 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(rest) = text.split(marker).nth(1) {
            return rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no {marker:?} in {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// Reads the server's standard error until it says where it listens; returns the address and the
/// lines before (their messages: the log is JSON, not being on a terminal).
fn wait_for_start(server: &mut Child) -> (String, Vec<String>) {
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let mut before = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        let line = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|event| event["fields"]["message"].as_str().map(str::to_owned))
            .unwrap_or(line);
        if let Some(rest) = line.split("listening on ").nth(1) {
            let address = rest.split_whitespace().next().unwrap().to_owned();
            // Keep draining the pipe so that the server never blocks on a full one.
            std::thread::spawn(move || for _ in lines {});
            return (address, before);
        }
        before.push(line);
    }
    panic!("the server did not start: {before:?}");
}

/// `serve --tls-cert --tls-key` speaks HTTPS with HTTP/2, tells browsers to keep to it, and takes a
/// renewed certificate on SIGHUP without a restart. (openssl makes the certificates, curl is the
/// client: both independent of the server's TLS stack.)
#[test]
fn https_with_http2_and_certificates_reloaded_on_hangup() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let make_certificate = |name: &str| {
        let made = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", &format!("/CN={name}")])
            .args(["-addext", "subjectAltName=IP:127.0.0.1"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .unwrap();
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        let trusted = dir.path().join(format!("{name}.pem"));
        std::fs::copy(&cert, &trusted).unwrap();
        trusted
    };
    let first = make_certificate("first");
    let mut server = fathom(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (base, _) = wait_for_start(&mut server);
    assert!(base.starts_with("https://"), "{base}");
    let curl = |trusted: &Path| {
        let output = Command::new("curl")
            .args(["-s", "-D", "-", "-o", "/dev/null", "--cacert"])
            .arg(trusted)
            .arg(format!("{base}/healthz"))
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).to_lowercase(),
        )
    };
    let (ok, headers) = curl(&first);
    assert!(ok);
    assert!(headers.starts_with("http/2 200"), "{headers}");
    assert!(
        headers.contains("strict-transport-security: max-age="),
        "{headers}"
    );

    let second = make_certificate("second");
    let hangup = Command::new("kill")
        .args(["-HUP", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(hangup.success());
    let renewed = (0..50).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        curl(&second).0
    });
    assert!(renewed, "the renewed certificate is served after SIGHUP");
    assert!(!curl(&first).0, "the old one is not");
    server.kill().unwrap();
    server.wait().unwrap();
}

/// `serve --demo` loads the whole demo catalogue and prints a token that can write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_catalogue_loads_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = fathom(dir.path())
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env("FATHOM_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (base, before) = wait_for_start(&mut server);
    let printed = |who: &str| {
        before
            .iter()
            .filter(|line| line.starts_with(&format!("Demo {who} token")))
            .find_map(|line| line.split("(shown once): ").nth(1))
            .expect("the demo tokens are printed")
            .trim()
            .to_owned()
    };
    let (token, analyst) = (printed("admin"), printed("analyst"));
    let client = http();
    let list = |token: Option<String>| {
        let request = client.get(format!("{base}/api/v1/datasets?limit=1000"));
        let request = match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        async move {
            let page: Value = request.send().await.unwrap().json().await.unwrap();
            page["items"].as_array().unwrap().clone()
        }
    };
    let datasets = list(Some(token.clone())).await;
    assert_eq!(datasets.len(), 51);
    // Seven demo datasets are labelled: the public sees 44; the analyst (NATO SECRET, Norway, NATO)
    // all but the one that needs the REP-MUS project.
    assert_eq!(list(None).await.len(), 44);
    let seen_by_analyst = list(Some(analyst)).await;
    assert_eq!(seen_by_analyst.len(), 50);
    assert!(
        seen_by_analyst
            .iter()
            .all(|d| !d["title"].as_str().unwrap().contains("REP-MUS"))
    );
    assert!(
        datasets
            .iter()
            .all(|d| !d["distributions"].as_array().unwrap().is_empty())
    );
    let organisations: Value = client
        .get(format!("{base}/api/v1/organisations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(organisations["items"].as_array().unwrap().len(), 5);
    // The domain model: a sea trial with its platforms, and a derived product with its lineage.
    let get = |path: String| {
        let request = client.get(format!("{base}{path}"));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let trial = get("/api/v1/campaigns/logmec-2021".into()).await;
    assert_eq!(trial["platforms"], json!(["nrv-alliance", "glider-sg-548"]));
    let lineage =
        get("/api/v1/datasets/gridded-temperature-salinity-ligurian-sea-2021/lineage".into()).await;
    let sources: Vec<&str> = lineage["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["distance"] == -1)
        .filter_map(|n| n["title"].as_str())
        .collect();
    assert_eq!(
        sources,
        ["CTD casts, Ligurian Sea glider trial LOGMEC 2021"]
    );
    let created = client
        .post(format!("{base}/api/v1/datasets"))
        .bearer_auth(&token)
        .json(&json!({"title": "Written with the demo token", "organisation": datasets[0]["organisation"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), reqwest::StatusCode::CREATED);

    // The sharing workflows: the partner's request for a restricted dataset waits for the
    // hydrography steward, then the security officer.
    let inbox = |token: String| {
        let request = client
            .get(format!("{base}/api/v1/inbox"))
            .bearer_auth(token);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let steward = inbox(printed("demo-steward")).await;
    assert_eq!(steward["items"][0]["kind"], "access_request");
    let request = client
        .get(format!(
            "{base}{}",
            steward["items"][0]["href"].as_str().unwrap()
        ))
        .bearer_auth(printed("demo-partner"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(request["requester"], "demo-partner");
    assert_eq!(request["steps"].as_array().unwrap().len(), 2);
    assert!(
        inbox(printed("demo-officer")).await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Relevance over the demo catalogue: the result people expect comes first.
    let relevance = [
        ("tide gauge", "Tide gauge records, south coast of England"),
        (
            "Multibeam bathymetry, Dover Strait 2019",
            "Multibeam bathymetry, Dover Strait 2019",
        ),
        (
            "ctd ligurian",
            "CTD casts, Ligurian Sea glider trial LOGMEC 2021",
        ),
        (
            "marine mammal",
            "Marine mammal detections from passive acoustic monitoring, Vestfjorden",
        ),
        (
            "glider hurricane",
            "Glider observations, Gulf of Mexico hurricane season 2023",
        ),
        ("oxygen baltic", "Baltic Sea oxygen time series, Boknis Eck"),
        (
            "microplastic",
            "Sediment cores with microplastics, Baltic basins",
        ),
        ("loop cur", "Surface drifter velocities, Loop Current"),
        (
            "\"acoustic tomography\"",
            "Ocean acoustic tomography array, Fram Strait 2010-2012",
        ),
        (
            "tomograpy fram",
            "Ocean acoustic tomography array, Fram Strait 2010-2012",
        ),
    ];
    for (query, expected) in relevance {
        let page: Value = client
            .get(format!("{base}/api/v1/search"))
            .query(&[("q", query)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            page["hits"][0]["title"], expected,
            "top result for {query:?}: {page}"
        );
    }

    // The new dataset becomes searchable through the change feed, with no request to the indexer.
    let mut found = 0;
    for _ in 0..50 {
        let page: Value = client
            .get(format!("{base}/api/v1/search?q=written%20demo%20token"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        found = page["total"].as_u64().unwrap();
        if found > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(found, 1, "the indexer picked up the new dataset");

    // SIGTERM: a graceful stop, with exit status 0.
    let terminated = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    assert!(
        server.wait().unwrap().success(),
        "a graceful shutdown exits with 0"
    );
}

/// `kill -9` in the middle of a reindex: the next start finds the index behind (or empty) and
/// brings it up to date by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_reindex_recovers_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    import_catalogue(dir.path(), 5_000);

    let mut reindex = fathom(dir.path()).arg("reindex").spawn().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        reindex.try_wait().unwrap().is_none(),
        "the reindex was still running when killed"
    );
    reindex.kill().unwrap();
    reindex.wait().unwrap();

    let mut server = fathom(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("FATHOM_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (base, _) = wait_for_start(&mut server);
    let page: Value = http()
        .get(format!("{base}/api/v1/search?q=glider&limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 5_000, "every dataset is searchable again");
    server.kill().unwrap();
    server.wait().unwrap();
}

/// `kill -9` of the server while it relays events to RabbitMQ: after a restart every event arrives
/// (some twice, which consumers drop by id), none lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_relaying_loses_no_event() {
    let dir = tempfile::tempdir().unwrap();
    import_catalogue(dir.path(), 10_000);
    let total = 10_002;

    let queue = TestQueue::bind(false)
        .await
        .expect("RabbitMQ must run on this machine");
    let mut deliveries = queue.deliveries().await.unwrap();

    let token = "fthm_bootstrap-token-for-the-relay-crash-test-0123456789";
    let serve = || {
        let mut server = fathom(dir.path())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("FATHOM_LOG", "info")
            .env("FATHOM_AMQP_URL", amqp_url())
            .env("FATHOM_AMQP_EXCHANGE", &queue.exchange)
            .env("FATHOM_BOOTSTRAP_TOKEN", token)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (base, _) = wait_for_start(&mut server);
        (server, base)
    };
    let mut ids = std::collections::HashSet::new();
    let mut received = Vec::new();
    let mut receive_until = async |distinct: usize, ids: &mut std::collections::HashSet<String>| {
        while ids.len() < distinct {
            let delivery = TestQueue::next(&mut deliveries, Duration::from_secs(60))
                .await
                .unwrap_or_else(|| panic!("{} of {distinct} events arrived", ids.len()));
            let event: Value = serde_json::from_slice(&delivery.data).unwrap();
            ids.insert(event["id"].as_str().unwrap().to_owned());
            received.push(event);
        }
    };
    let (mut server, _) = serve();
    receive_until(2_000, &mut ids).await;
    server.kill().unwrap(); // SIGKILL, mid-relay
    server.wait().unwrap();
    assert!(ids.len() < total, "killed before the relay had finished");

    let (mut restarted, base) = serve();
    receive_until(total, &mut ids).await;
    assert_eq!(ids.len(), total, "every event arrived");

    // A write through the API reaches the broker too.
    let created: Value = http()
        .post(format!("{base}/api/v1/datasets"))
        .bearer_auth(token)
        .json(&json!({"title": "Written through the API", "organisation": "cmre"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    receive_until(total + 1, &mut ids).await;
    let last = received.last().unwrap();
    assert_eq!(last["type"], "org.fathom.dataset.created");
    assert_eq!(last["subject"], created["id"]);
    assert_eq!(last["data"]["title"], "Written through the API");
    assert!(received.len() > total, "{} deliveries", received.len());
    restarted.kill().unwrap();
    restarted.wait().unwrap();
    queue.close().await;
}

/// `fathom backup` while clients write through the API, then `fathom restore` into a new data
/// directory: the copy is a consistent catalogue that holds every write acknowledged before the
/// backup began, each record as it was served, and the restored server serves and finds them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_writes_restores_a_whole_catalogue() {
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    import_catalogue(dir.path(), 2_000);
    let token = "fthm_bootstrap-token-for-the-backup-test-0123456789";
    let mut server = fathom(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("FATHOM_LOG", "info")
        .env("FATHOM_BOOTSTRAP_TOKEN", token)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (base, _) = wait_for_start(&mut server);

    let acknowledged: Arc<Mutex<Vec<Value>>> = Arc::default();
    let writing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let writer = {
        let (acknowledged, writing, base) = (
            Arc::clone(&acknowledged),
            Arc::clone(&writing),
            base.clone(),
        );
        tokio::spawn(async move {
            let client = http();
            let mut n = 0;
            while writing.load(std::sync::atomic::Ordering::SeqCst) {
                let response = client
                    .post(format!("{base}/api/v1/datasets"))
                    .bearer_auth(token)
                    .json(&json!({"title": format!("Written during the backup {n}"), "organisation": "cmre"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201);
                let served: Value = response.json().await.unwrap();
                acknowledged.lock().unwrap().push(served);
                n += 1;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before_backup = acknowledged.lock().unwrap().len();
    let backup = dir.path().join("backup.db");
    let backed_up = run(
        fathom(dir.path()).args(["backup", "--to"]).arg(&backup),
        b"",
    );
    assert!(
        backed_up.status.success(),
        "{}",
        String::from_utf8_lossy(&backed_up.stderr)
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    writing.store(false, std::sync::atomic::Ordering::SeqCst);
    writer.await.unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let written = acknowledged.lock().unwrap().clone();
    assert!(
        before_backup > 0 && written.len() > before_backup,
        "writes went on during the backup"
    );
    let again = run(
        fathom(dir.path()).args(["backup", "--to"]).arg(&backup),
        b"",
    );
    assert!(!again.status.success(), "a backup never overwrites a file");

    let restored = tempfile::tempdir().unwrap();
    let restore = || {
        run(
            fathom(restored.path())
                .args(["restore", "--from"])
                .arg(&backup),
            b"",
        )
    };
    let restored_output = restore();
    assert!(restored_output.status.success());
    // The policy in force at the backup comes back beside the database.
    let policy: Value = serde_json::from_str(
        &std::fs::read_to_string(restored.path().join("policy-from-backup.json")).unwrap(),
    )
    .unwrap();
    assert!(policy["classifications"].is_array(), "{policy}");
    assert!(String::from_utf8_lossy(&restored_output.stderr).contains("--policy"));
    let twice = restore();
    assert!(
        !twice.status.success(),
        "an existing database is replaced only with --force"
    );
    assert!(String::from_utf8_lossy(&twice.stderr).contains("--force"));

    let store = Store::open_sqlite(restored.path()).await.unwrap();
    let mut found = std::collections::HashMap::new();
    let mut after = None;
    loop {
        let page = store
            .datasets_json(
                &DatasetFilter::default(),
                PageRequest { after, limit: 1000 },
            )
            .await
            .unwrap();
        for record in &page {
            found.insert(
                record.id.to_string(),
                serde_json::from_str::<Value>(record.json.get()).unwrap(),
            );
        }
        match page.last() {
            Some(last) if page.len() == 1000 => after = Some(Position::Id(last.id)),
            _ => break,
        }
    }
    store.close().await;
    for (n, served) in written.iter().enumerate() {
        let id = served["id"].as_str().unwrap();
        match found.get(id) {
            Some(restored) => assert_eq!(restored, served, "restored as it was served"),
            None => assert!(
                n >= before_backup,
                "write {n}, acknowledged before the backup, is missing"
            ),
        }
    }
    assert!(found.len() >= 2_000 + before_backup && found.len() <= 2_000 + written.len());

    let mut server = fathom(restored.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("FATHOM_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (base, _) = wait_for_start(&mut server);
    let page: Value = http()
        .get(format!("{base}/api/v1/search?q=glider&limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["total"], 2_000,
        "the index is rebuilt from the restored records"
    );
    // The image's health check: 0 while the server answers, 1 once it is gone.
    let address = base.trim_start_matches("http://").to_owned();
    let health = || {
        run(
            fathom(restored.path())
                .arg("health")
                .env("FATHOM_LISTEN", &address),
            b"",
        )
        .status
    };
    assert!(health().success());
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(!health().success());
}

/// No secret reaches the log, at the most verbose level: not the bootstrap token, not a token
/// issued over the API, not a wrong token a client sent, not a webhook's signing secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let bootstrap = "fthm_bootstrap-token-for-the-log-test-0123456789abcdef";
    let mut server = fathom(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("FATHOM_LOG", "trace")
        .env("FATHOM_BOOTSTRAP_TOKEN", bootstrap)
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let base = wait_for_log(&log, "listening on ").await;
    let client = http();
    let user = client
        .post(format!("{base}/api/v1/users"))
        .bearer_auth(bootstrap)
        .json(&json!({"username": "ana", "role": "editor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(user.status(), 201);
    let issued: Value = client
        .post(format!("{base}/api/v1/users/ana/tokens"))
        .bearer_auth(bootstrap)
        .json(&json!({"description": "for the log test"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = issued["token"].as_str().unwrap().to_owned();
    let me = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let wrong = "fthm_a-wrong-token-that-must-not-be-logged-0123456789";
    let refused = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let webhook: Value = client
        .post(format!("{base}/api/v1/webhooks"))
        .bearer_auth(bootstrap)
        .json(&json!({"url": "https://hooks.example.org/fathom"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = webhook["secret"].as_str().unwrap().to_owned();
    // A graceful stop, after which the log's writer thread has written every line.
    let terminated = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    assert!(server.wait().unwrap().success());

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.lines().count() > 20, "the log is verbose: {text}");
    assert!(
        text.contains("authentication"),
        "the refused token is logged as an event: {text}"
    );
    // Not on a terminal: every line is JSON (where it listens too), and a request's lines name
    // its request id.
    let events: Vec<Value> = text
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: a line not JSON: {line}"))
        })
        .collect();
    assert!(events.len() > 20, "JSON log lines: {text}");
    let refused_line = events
        .iter()
        .find(|event| event.to_string().contains("authentication_failed"))
        .expect("the refused token's event");
    // The access log: a line per request, with its route template, status and request id.
    let access = events
        .iter()
        .find(|event| {
            event["target"] == "fathom::access"
                && event["fields"]["route"] == "/api/v1/users/{username}/tokens"
        })
        .unwrap_or_else(|| panic!("no access line for the token's request: {text}"));
    assert_eq!(access["fields"]["method"], "POST", "{access}");
    assert_eq!(access["fields"]["status"], 201, "{access}");
    assert!(
        access["fields"]["duration_ms"].as_f64().is_some(),
        "{access}"
    );
    assert!(
        access["span"]["request_id"]
            .as_str()
            .is_some_and(|id| id.len() == 36),
        "{access}"
    );
    assert!(
        events
            .iter()
            .any(|event| event["target"] == "fathom::access" && event["fields"]["status"] == 401),
        "the refused request is logged too"
    );
    assert!(
        refused_line["span"]["request_id"]
            .as_str()
            .is_some_and(|id| id.len() == 36),
        "{refused_line}"
    );
    for secret in [
        bootstrap,
        &token,
        wrong,
        &secret,
        secret.trim_start_matches("whsec_"),
    ] {
        assert!(!text.contains(secret), "{secret} is in the log");
    }
}

/// With `admin_listen`, `/metrics` moves to the admin address; the public one answers 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_to_the_admin_listener() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let mut server = fathom(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("FATHOM_LOG", "info")
        .env("FATHOM_ADMIN_LISTEN", "127.0.0.1:0")
        .env("FATHOM_ACCESS_LOG", "false")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let base = wait_for_log(&log, "listening on ").await;
    let admin = wait_for_log(&log, "serves /metrics on ").await;
    let client = http();
    let public = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404);
    let metrics = client.get(format!("{admin}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(metrics.text().await.unwrap().contains("fathom_build_info"));
    let ready = client.get(format!("{admin}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let api = client
        .get(format!("{admin}/api/v1/datasets"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        api.status(),
        404,
        "only metrics and health on the admin address"
    );
    server.kill().unwrap();
    server.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        !text.contains("fathom::access"),
        "access_log = false: no line per request: {text}"
    );
}

/// With `OTEL_EXPORTER_OTLP_ENDPOINT`, a request's spans (the request's, with its route template,
/// and its store operations') reach an OTLP/HTTP receiver, in the trace that the request's W3C
/// `traceparent` named, from the service `OTEL_SERVICE_NAME`; the events of the changes it makes
/// carry that trace to the broker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_reach_an_otlp_receiver_in_the_callers_trace() {
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let receiver = {
        let received = Arc::clone(&received);
        axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(move |body: axum::body::Bytes| {
                let received = Arc::clone(&received);
                async move {
                    received.lock().unwrap().push(body.to_vec());
                    axum::http::StatusCode::OK
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    let queue = TestQueue::bind(false)
        .await
        .expect("RabbitMQ must run on this machine");
    let mut deliveries = queue.deliveries().await.unwrap();
    let token = "fthm_bootstrap-token-for-the-trace-test-0123456789";
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let mut server = fathom(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("FATHOM_LOG", "debug,sqlx=warn")
        .env("FATHOM_BOOTSTRAP_TOKEN", token)
        .env("FATHOM_AMQP_URL", amqp_url())
        .env("FATHOM_AMQP_EXCHANGE", &queue.exchange)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &collector)
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env("OTEL_SERVICE_NAME", "fathom-under-test")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let base = wait_for_log(&log, "listening on ").await;
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let response = http()
        .get(format!("{base}/api/v1/datasets/no-such-dataset"))
        .header("traceparent", format!("00-{trace_id}-b7ad6b7169203331-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let trace_bytes: Vec<u8> = (0..trace_id.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&trace_id[i..i + 2], 16).unwrap())
        .collect();
    let contains =
        |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).any(|w| w == needle);
    // A change made in the trace carries it into its event: the CloudEvent and the AMQP header.
    let created = http()
        .post(format!("{base}/api/v1/organisations"))
        .bearer_auth(token)
        .header("traceparent", format!("00-{trace_id}-b7ad6b7169203331-01"))
        .json(&json!({"slug": "cmre", "name": "CMRE", "nation": "ITA"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let delivery = TestQueue::next(&mut deliveries, Duration::from_secs(30))
        .await
        .expect("the organisation's event");
    let event: Value = serde_json::from_slice(&delivery.data).unwrap();
    let traceparent = event["traceparent"].as_str().unwrap_or_default().to_owned();
    assert!(
        traceparent.starts_with(&format!("00-{trace_id}-")),
        "{event}"
    );
    assert_eq!(
        TestQueue::header(&delivery, "traceparent").as_deref(),
        Some(traceparent.as_str())
    );
    queue.close().await;

    let mut exported = false;
    for _ in 0..100 {
        // The requests' spans (named by their route templates), the use cases' and the store
        // operations' below them.
        // (Batches may split them: each must be in an export of the caller's trace.)
        let bodies = received.lock().unwrap().clone();
        let traced: Vec<&Vec<u8>> = bodies
            .iter()
            .filter(|body| contains(body, &trace_bytes) && contains(body, b"fathom-under-test"))
            .collect();
        exported = [
            &b"/api/v1/datasets/{key}"[..],
            b"dataset_json",
            b"create_organisation",
            b"insert_organisation",
        ]
        .iter()
        .all(|name| traced.iter().any(|body| contains(body, name)));
        if exported {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The log lines of a traced request name its trace.
    let traced_line = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .any(|line| line["span"]["trace_id"] == trace_id);
    assert!(traced_line, "a log line with the trace id");
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(
        exported,
        "no span of the caller's trace reached the receiver ({} exports)",
        received.lock().unwrap().len()
    );
}

/// `kill -9` of a harvester in the middle of a job: the job it left running fails as interrupted
/// once its lease expires, and the next run finishes the harvest, the records imported before the
/// crash unchanged and none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_harvest_resumes_at_the_next_run() {
    let upstream_dir = tempfile::tempdir().unwrap();
    let mut upstream = fathom(upstream_dir.path())
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env("FATHOM_OAI_PAGE_SIZE", "1")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (base, _) = wait_for_start(&mut upstream);

    let dir = tempfile::tempdir().unwrap();
    let harvester = |args: &[&str]| {
        let mut command = fathom(dir.path());
        command.args(args).env("FATHOM_HARVEST_LEASE_SECONDS", "2");
        command
    };
    let imported = run(
        &mut harvester(&["import", "--kind", "organisations", "-"]),
        &organisations(),
    );
    assert!(imported.status.success(), "{imported:?}");
    let url = format!("{base}/oai");
    let added = run(
        &mut harvester(&[
            "harvest",
            "add",
            "--name",
            "upstream",
            "--kind",
            "oai_pmh",
            "--url",
            &url,
            "--organisation",
            "nhs",
            "--requests-per-second",
            "10",
        ]),
        b"",
    );
    assert!(added.status.success(), "{added:?}");

    // 44 records a page each, 10 pages a second: the harvester dies a second and a half in.
    let mut running = harvester(&["harvest", "run", "upstream"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    running.kill().unwrap(); // SIGKILL
    running.wait().unwrap();
    let jobs = |output: Output| -> Vec<Value> {
        assert!(output.status.success(), "{output:?}");
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let left = jobs(run(&mut harvester(&["harvest", "jobs", "upstream"]), b""));
    assert_eq!(left[0]["status"], "running", "{left:?}");
    let before_crash = left[0]["created"].as_u64().unwrap();
    assert!(
        before_crash > 0 && before_crash < 44,
        "{before_crash} records before the crash"
    );

    // Its lease expires; the next run fails it as interrupted and harvests the rest.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let rerun = run(&mut harvester(&["harvest", "run", "upstream"]), b"");
    assert!(rerun.status.success(), "{rerun:?}");
    let job: Value = serde_json::from_slice(&rerun.stdout).unwrap();
    let (created, unchanged) = (
        job["created"].as_u64().unwrap(),
        job["unchanged"].as_u64().unwrap(),
    );
    assert_eq!(
        (job["status"].as_str(), created + unchanged),
        (Some("succeeded"), 44),
        "{job}"
    );
    assert!(
        unchanged >= before_crash,
        "what was imported before the crash is there: {job}"
    );
    let all = jobs(run(&mut harvester(&["harvest", "jobs", "upstream"]), b""));
    let interrupted = all.iter().find(|j| j["id"] == left[0]["id"]).unwrap();
    assert_eq!(interrupted["status"], "failed");
    assert!(
        interrupted["message"]
            .as_str()
            .unwrap()
            .contains("interrupted"),
        "{interrupted}"
    );
    upstream.kill().unwrap();
}
