//! `fathom`: the server and its operator's tools in one binary.

mod backup;
mod config;
mod demo;
mod export;
mod import;
mod ndjson;
#[cfg(test)]
mod relevance;
mod serve;
mod telemetry;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use fathom_model::{Membership, OrganisationRole, Principal, Role, Scope, Slug};
use fathom_service::{IndexSettings, NewUser, OnError, Services, Store};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::config::{Config, Overrides};

/// A search allocates and frees many short-lived buffers across the runtime's threads, where
/// mimalloc's per-thread pages cost less than glibc's arenas (see `docs/performance.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "fathom",
    version,
    about = "A data catalogue for maritime research"
)]
struct Cli {
    /// The configuration file (skipped when missing).
    #[arg(
        long,
        global = true,
        env = config::CONFIG_VAR,
        default_value = "fathom.toml"
    )]
    config: PathBuf,
    /// Where the embedded database lives [default: ./fathom-data].
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Use PostgreSQL (`postgres://…`) instead of the embedded SQLite file.
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// The security policy file, TOML or JSON [default: the shipped policy].
    #[arg(long, global = true)]
    policy: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the server (migrating the database first).
    Serve {
        /// The address to listen on [default: 127.0.0.1:8080].
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Loads the demo catalogue if it is missing and prints a demo admin token.
        #[arg(long)]
        demo: bool,
        /// Serve HTTPS with this certificate chain (PEM); SIGHUP reloads it.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key of the certificate (PEM).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Relays events from the outbox to the configured brokers, without serving HTTP (`serve`
    /// relays too; several relays share the work safely).
    Relay,
    /// Applies the database migrations that have not run yet.
    Migrate,
    /// Rebuilds the search index (in the data directory) from the database.
    Reindex,
    /// Imports records from NDJSON (one JSON record per line), in transactions of 1000.
    Import {
        #[arg(long, value_enum, default_value_t = Format::Ndjson)]
        format: Format,
        #[arg(long, value_enum, default_value_t = Kind::Datasets)]
        kind: Kind,
        /// What to do with a line that cannot be imported (NDJSON).
        #[arg(long, value_enum, default_value_t = ErrorPolicy::Continue)]
        on_error: ErrorPolicy,
        /// The organisation records of other catalogues are imported into (every format but NDJSON).
        #[arg(long)]
        organisation: Option<String>,
        /// Print a line per record of other catalogues on standard output (file, identifier, and
        /// `created`, `updated` or `unchanged` with the dataset's id, or `failed` with the reason);
        /// without it, only the failures are printed, on standard error.
        #[arg(long)]
        report: bool,
        /// The file to read, a directory of files (other catalogues' formats), or `-` for standard
        /// input.
        file: PathBuf,
    },
    /// Writes every record, streaming: Fathom's own as NDJSON (what `import` reads), or datasets in
    /// a format the API serves.
    Export {
        /// `json` (NDJSON, one record per line; `ndjson` names it too); DCAT-AP as `ttl`, `jsonld`,
        /// `rdf` or `nt` (one catalogue); `iso19139`, `schemaorg`, `dcterms`, `dcterms-json` or
        /// `oai_dc` (a file per dataset, into the `--output` folder).
        #[arg(long, default_value = "json", value_parser = export_format)]
        format: &'static fathom_formats::Format,
        #[arg(long, value_enum, default_value_t = Kind::Datasets)]
        kind: Kind,
        /// The file to write (standard output when absent), or the folder for a file per dataset.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Manages harvest sources (other catalogues read into this one) and runs them.
    #[command(subcommand)]
    Harvest(HarvestCommand),
    /// Manages controlled vocabularies (SKOS concept schemes).
    #[command(subcommand)]
    Vocab(VocabCommand),
    /// Manages metadata profiles (versioned JSON Schema documents).
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Manages API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manages users.
    #[command(subcommand)]
    User(UserCommand),
    /// Prints the audit log as NDJSON, oldest first; `audit verify` checks its hash chain.
    Audit {
        /// Only the events after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[command(subcommand)]
        command: Option<AuditCommand>,
    },
    /// Writes a consistent copy of the embedded database to FILE while the server runs (SQLite;
    /// PostgreSQL is backed up with pg_dump).
    Backup {
        /// The file to write; it must not exist.
        #[arg(long)]
        to: PathBuf,
    },
    /// Replaces the embedded database with a backup (stop the server first); the search index is
    /// rebuilt at the next start.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        /// Replace an existing database.
        #[arg(long)]
        force: bool,
    },
    /// Exits 0 if the server at the configured address answers `GET /healthz` with 200: the
    /// container image's health check (plain HTTP; the image has no shell or curl).
    Health,
    /// Prints the effective configuration, secrets redacted.
    Config,
    /// Prints the OpenAPI document of the API (as served at /api/v1/openapi.json).
    Openapi,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walks the audit log's hash chain and reports the first broken link (exit status 1).
    Verify,
}

#[derive(Debug, Subcommand)]
enum ProfileCommand {
    /// Registers a version of a profile from a JSON Schema (2020-12) file; within a major version it
    /// must be compatible with the latest.
    Add {
        profile: String,
        version: String,
        file: PathBuf,
    },
    /// Lists the profiles and their versions.
    List,
}

#[derive(Debug, Subcommand)]
enum VocabCommand {
    /// Imports a SKOS concept scheme from Turtle (`.ttl`), RDF/XML (`.rdf`, `.xml`, `.owl`),
    /// N-Triples (`.nt`) or JSON-LD (`.jsonld`); again with the same slug, it replaces the concepts.
    Import {
        /// The vocabulary's slug [default: derived from the scheme's title].
        #[arg(long)]
        slug: Option<String>,
        /// Fields whose values must be its concepts: keywords, themes, platform_type.
        #[arg(long, value_delimiter = ',')]
        binds: Vec<String>,
        file: PathBuf,
    },
    /// Lists the vocabularies.
    List,
}

#[derive(Debug, Subcommand)]
enum HarvestCommand {
    /// Adds a source.
    Add {
        /// A name for the source (unique).
        #[arg(long)]
        name: String,
        /// `oai_pmh` or `dcat`.
        #[arg(long)]
        kind: String,
        /// The OAI-PMH base URL, or the DCAT document's (first page's) address.
        #[arg(long)]
        url: String,
        /// The organisation its datasets go to.
        #[arg(long)]
        organisation: String,
        /// OAI-PMH: `iso19139` (default) or `oai_dc`.
        #[arg(long)]
        metadata_prefix: Option<String>,
        /// OAI-PMH: the set to harvest.
        #[arg(long)]
        set: Option<String>,
        /// Harvest every so many minutes (while `fathom serve` runs).
        #[arg(long)]
        every_minutes: Option<u32>,
        /// Or on a cron schedule, five fields in UTC, e.g. "0 2 * * *".
        #[arg(long)]
        schedule: Option<String>,
        /// At most this many requests per second to the source (default 5).
        #[arg(long)]
        requests_per_second: Option<f64>,
    },
    /// Lists the sources and their last job.
    List,
    /// Prints a source's jobs, newest first.
    Jobs {
        /// The source's id or name.
        source: String,
    },
    /// Runs a source now, to its end, and prints the job.
    Run {
        /// The source's id or name.
        source: String,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Creates a token (and its user, if new) and prints it. It is shown only once.
    Create {
        #[arg(long)]
        user: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Days until the token expires; without it, it does not.
        #[arg(long)]
        expires_in_days: Option<u32>,
        #[arg(long, default_value = "")]
        description: String,
        /// What the token may do: read, write, admin (repeatable) [default: all the role allows].
        #[arg(long = "scope", value_parser = Scope::parse)]
        scopes: Vec<Scope>,
    },
    /// Lists tokens (never their secrets), newest first.
    List {
        /// Only this user's.
        #[arg(long)]
        user: Option<String>,
    },
    /// Revokes a token by its id.
    Revoke { id: Uuid },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Creates a user with what they may read under the security policy.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// A classification of the policy [default: its public one].
        #[arg(long)]
        clearance: Option<String>,
        /// ISO 3166 alpha-3, e.g. NOR.
        #[arg(long)]
        nationality: Option<String>,
        /// A category value held, e.g. NATO (repeatable).
        #[arg(long = "community")]
        communities: Vec<String>,
        /// A role in an organisation, ORGANISATION:ROLE with ROLE one of viewer, editor, steward,
        /// admin (repeatable), e.g. cmre:steward.
        #[arg(long = "member", value_parser = parse_membership)]
        memberships: Vec<Membership>,
    },
    /// Lists the users, one per line.
    List,
    /// Disables a user: their tokens stop working.
    Disable { name: String },
    /// Sets the password a user signs in with on the pages, read from standard input (its first
    /// line): `fathom user set-password alice < password.txt`.
    SetPassword { name: String },
}

/// A format of `fathom export`, by its name in the formats' list (`ndjson` is `json`).
fn export_format(name: &str) -> Result<&'static fathom_formats::Format, String> {
    let name = if name == "ndjson" { "json" } else { name };
    fathom_formats::Format::named(name).ok_or_else(|| {
        let names: Vec<_> = fathom_formats::FORMATS.iter().map(|f| f.name).collect();
        format!("the formats are {}", names.join(", "))
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Fathom's own records, one JSON object per line.
    Ndjson,
    /// ISO 19139 `gmd:MD_Metadata` (one or many per document, e.g. a CSW or OAI-PMH response).
    Iso19139,
    /// Dublin Core: `csw:Record` or `oai_dc:dc`.
    Dc,
    DcatTtl,
    DcatJsonld,
    DcatRdfxml,
    DcatNt,
}

impl Format {
    /// The reader of a format of other catalogues; `None` for NDJSON.
    fn foreign(self) -> Option<fathom_formats::import::ImportFormat> {
        use fathom_formats::RdfSyntax;
        use fathom_formats::import::ImportFormat;
        match self {
            Self::Ndjson => None,
            Self::Iso19139 => Some(ImportFormat::Iso19139),
            Self::Dc => Some(ImportFormat::DublinCore),
            Self::DcatTtl => Some(ImportFormat::Dcat(RdfSyntax::Turtle)),
            Self::DcatJsonld => Some(ImportFormat::Dcat(RdfSyntax::JsonLd)),
            Self::DcatRdfxml => Some(ImportFormat::Dcat(RdfSyntax::RdfXml)),
            Self::DcatNt => Some(ImportFormat::Dcat(RdfSyntax::NTriples)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Datasets,
    Organisations,
    /// The domain model's entities, each naming its kind in `type`.
    Entities,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ErrorPolicy {
    Continue,
    Stop,
}

fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse(raw)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let overrides = Overrides {
        listen: match &cli.command {
            Command::Serve { listen, .. } => *listen,
            _ => None,
        },
        tls_cert: match &cli.command {
            Command::Serve { tls_cert, .. } => tls_cert.clone(),
            _ => None,
        },
        tls_key: match &cli.command {
            Command::Serve { tls_key, .. } => tls_key.clone(),
            _ => None,
        },
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        policy: cli.policy.clone(),
    };
    let config = match Config::load(&cli.config, &overrides) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("fathom: invalid configuration: {error}");
            return ExitCode::from(2);
        }
    };
    // The process's one TLS provider (ring), for every client it makes: OIDC, webhooks, the OTLP
    // exporter, brokers over TLS.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let telemetry = telemetry::Telemetry::init(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("fathom: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(run(cli.command, config));
    telemetry.shutdown();
    match outcome {
        Ok(code) => code,
        Err(error) => {
            telemetry::tell(tracing::Level::ERROR, &format!("fathom: {error:#}"));
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Openapi => {
            println!("{}", fathom_api::openapi().to_pretty_json()?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Health => Ok(if serve::healthy(config.listen) {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }),
        Command::Config => {
            println!("{}", serde_json::to_string_pretty(&config)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { demo, .. } => {
            let store = open_store(&config).await?;
            serve::run(store, &config, demo).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Relay => {
            let store = open_store(&config).await?;
            serve::relay_only(store, &config).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Reindex => {
            let services = open_services(&config, Some(0)).await?;
            let started = std::time::Instant::now();
            let count = match &services.search {
                Some(search) => search.rebuild().await.map_err(anyhow::Error::from),
                None => Err(anyhow::anyhow!("no search index was opened")),
            };
            services.close().await;
            eprintln!(
                "indexed {} datasets in {:.1} s",
                count?,
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { to } => {
            let policy = serde_json::to_string_pretty(config.load_policy()?.document())?;
            let services = open_services(&config, None).await?;
            let started = std::time::Instant::now();
            let written = services.backup_to(&to, (backup::POLICY, &policy)).await;
            services.close().await;
            written.with_context(|| format!("cannot back up to {}", to.display()))?;
            eprintln!(
                "backed up to {} in {:.1} s",
                to.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { from, force } => {
            let policy = backup::restore(&config, &from, force).await?;
            eprintln!(
                "restored {} into {}; the search index is rebuilt at the next start",
                from.display(),
                config.data_dir.display()
            );
            if let Some(policy) = policy {
                eprintln!(
                    "the security policy in force at the backup is in {}: start with --policy {0} to use it",
                    policy.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            // The database alone: a migration needs none of the services' settings, so one that
            // is wrong for serving does not stop it.
            open_store(&config).await?.close().await;
            eprintln!("migrations applied ({})", describe_database(&config));
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            format,
            organisation,
            report,
            file,
            ..
        } if format != Format::Ndjson => {
            let (Some(reader), Some(organisation)) = (format.foreign(), organisation) else {
                anyhow::bail!(
                    "records of other catalogues are imported into an organisation: give --organisation SLUG"
                );
            };
            let services = open_services(&config, None).await?;
            let each_record = report;
            let report = import::import(
                &services.catalogue,
                reader,
                &organisation,
                &file,
                each_record,
            )
            .await;
            services.close().await;
            let report = report?;
            eprintln!(
                "created {}, updated {}, unchanged {}, failed {}",
                report.created, report.updated, report.unchanged, report.failed
            );
            Ok(if report.failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Import {
            kind,
            on_error,
            file,
            ..
        } => {
            let services = open_services(&config, None).await?;
            let on_error = match on_error {
                ErrorPolicy::Continue => OnError::Continue,
                ErrorPolicy::Stop => OnError::Stop,
            };
            let report = ndjson::import(&services.catalogue, kind, &file, on_error).await;
            services.close().await;
            let report = report?;
            eprintln!(
                "imported {} {}, rejected {} line(s)",
                report.imported,
                kind_name(kind),
                report.rejected
            );
            Ok(if report.rejected == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Export {
            format,
            kind,
            output,
        } => {
            let native = matches!(format.writer, fathom_formats::Writer::Native);
            anyhow::ensure!(
                native || kind == Kind::Datasets,
                "{} writes datasets; {} are exported as NDJSON (--format json)",
                format.name,
                kind_name(kind)
            );
            let services = open_services(&config, None).await?;
            let written = if native {
                ndjson::export(&services.catalogue, kind, output.as_deref()).await
            } else {
                export::datasets(&services, format, output.as_deref()).await
            };
            services.close().await;
            eprintln!(
                "exported {} {} as {}",
                written?,
                kind_name(kind),
                format.name
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Profile(command) => {
            let services = open_services(&config, None).await?;
            let done = profile(&services.catalogue, command).await;
            services.close().await;
            done
        }
        Command::Vocab(command) => {
            let services = open_services(&config, None).await?;
            let done = vocab(&services.catalogue, command).await;
            services.close().await;
            done
        }
        Command::Harvest(command) => {
            let services = open_services(&config, None).await?;
            let done = harvest(&services.harvesting, command).await;
            services.close().await;
            done
        }
        Command::Token(TokenCommand::Create {
            user,
            role,
            expires_in_days,
            description,
            scopes,
        }) => {
            let services = open_services(&config, None).await?;
            let expires_at = fathom_service::token_expiry(expires_in_days)
                .map_err(|e| anyhow::anyhow!("--expires-in-days: {}", e.summary()))?;
            let scopes = (!scopes.is_empty()).then_some(scopes);
            let token = services
                .identity
                .create_scoped_token(&user, role, &description, expires_at, scopes)
                .await;
            services.close().await;
            let token = token?;
            eprintln!(
                "token {} for {} ({}); it is shown only once:",
                token.id,
                token.user,
                token.role.as_str()
            );
            println!("{}", token.secret);
            Ok(ExitCode::SUCCESS)
        }
        Command::User(UserCommand::Create {
            name,
            role,
            clearance,
            nationality,
            communities,
            memberships,
        }) => {
            let services = open_services(&config, None).await?;
            let created = services
                .identity
                .create_user(NewUser {
                    name,
                    role,
                    clearance,
                    nationality,
                    communities,
                    memberships,
                })
                .await;
            services.close().await;
            let user = created.map_err(|e| anyhow::anyhow!(e.summary()))?;
            eprintln!("user {} ({}) created", user.name, user.role.as_str());
            Ok(ExitCode::SUCCESS)
        }
        Command::User(UserCommand::List) => {
            let services = open_services(&config, None).await?;
            let users = services.identity.users().await;
            services.close().await;
            for user in users? {
                let memberships: Vec<String> = user
                    .memberships
                    .iter()
                    .map(|m| format!("{}:{}", m.organisation.as_str(), m.role.as_str()))
                    .collect();
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    user.name,
                    user.role.as_str(),
                    user.clearance.as_deref().unwrap_or("-"),
                    user.nationality.as_deref().unwrap_or("-"),
                    user.communities.join(","),
                    memberships.join(",")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: Some(AuditCommand::Verify),
            ..
        } => {
            let services = open_services(&config, None).await?;
            let report = services.verify_audit_log().await;
            services.close().await;
            let report = report?;
            match report.broken {
                None => {
                    println!(
                        "the audit log is whole: {} entries chained, the last hash {}",
                        report.entries,
                        report.last_hash.as_deref().unwrap_or("(none)")
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Some(broken) => {
                    println!(
                        "the audit log is broken at entry {} (after {} whole entries): {}",
                        broken.seq, report.entries, broken.reason
                    );
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Audit { after, .. } => {
            let services = open_services(&config, None).await?;
            let mut after = after;
            let printed = async {
                loop {
                    let events = services.audit_log(after, 1000).await?;
                    for event in &events {
                        println!("{}", serde_json::to_string(event)?);
                    }
                    match events.last() {
                        Some(last) => after = last.seq,
                        None => return anyhow::Ok(()),
                    }
                }
            }
            .await;
            services.close().await;
            printed?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(TokenCommand::List { user }) => {
            let services = open_services(&config, None).await?;
            let tokens = services.identity.tokens(user.as_deref()).await;
            services.close().await;
            let instant = |at: Option<OffsetDateTime>| {
                at.and_then(|at| {
                    at.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_else(|| "-".into())
            };
            for token in tokens? {
                println!(
                    "{}\t{}\t{}\texpires {}\tlast used {}\t{}\t{}",
                    token.id,
                    token.user,
                    token.scopes.join(","),
                    instant(token.expires_at),
                    instant(token.last_used_at),
                    if token.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    },
                    token.description
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::User(UserCommand::Disable { name }) => {
            let services = open_services(&config, None).await?;
            let disabled = services.identity.disable_user(&name).await;
            services.close().await;
            disabled?;
            eprintln!("user {name} disabled; their tokens no longer work");
            Ok(ExitCode::SUCCESS)
        }
        Command::User(UserCommand::SetPassword { name }) => {
            use std::io::{BufRead, IsTerminal};
            if std::io::stdin().is_terminal() {
                eprint!(
                    "password for {name} (at least {} characters), then Enter: ",
                    fathom_service::MIN_PASSWORD
                );
            }
            let mut password = String::new();
            std::io::stdin().lock().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            let services = open_services(&config, None).await?;
            let set = services.sessions.set_password(&name, password).await;
            services.close().await;
            set.map_err(|e| anyhow::anyhow!(e.summary()))?;
            eprintln!("password of {name} set; they can sign in on the pages");
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(TokenCommand::Revoke { id }) => {
            let services = open_services(&config, None).await?;
            let revoked = services.identity.revoke_token(id).await;
            services.close().await;
            revoked?;
            eprintln!("token {id} revoked");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Opens the configured database, brings its schema up to date, and builds the use cases for a
/// command; with the search index (keeping `Some(n)` recent results) only where it searches.
async fn open_services(config: &Config, index: Option<usize>) -> anyhow::Result<Services> {
    let store = open_store(config).await?;
    let policy = Arc::new(config.load_policy()?);
    let mut settings = config.service_settings(&policy, &format!("http://{}", config.listen))?;
    settings.index = index.map(|cache_entries| IndexSettings {
        data_dir: config.data_dir.clone(),
        cache_entries,
    });
    Ok(Services::new(store, policy, settings)?)
}

/// Opens the configured database and brings its schema up to date.
async fn open_store(config: &Config) -> anyhow::Result<Store> {
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                config.data_dir.display()
            )
        })?;
    }
    config
        .database()
        .open()
        .await
        .with_context(|| format!("cannot open the database ({})", describe_database(config)))
}

fn describe_database(config: &Config) -> String {
    match &config.database_url {
        Some(_) => "PostgreSQL".to_owned(),
        None => format!("SQLite in {}", config.data_dir.display()),
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Datasets => "datasets",
        Kind::Organisations => "organisations",
        Kind::Entities => "entities",
    }
}

/// The principal of the command line: whoever runs it has the database in hand, so it acts as admin.
async fn harvest(
    harvesting: &fathom_service::Harvesting,
    command: HarvestCommand,
) -> anyhow::Result<ExitCode> {
    let principal = operator();
    let fail = |e: fathom_service::ServiceError| anyhow::anyhow!("{}", e.summary());
    match command {
        HarvestCommand::Add {
            name,
            kind,
            url,
            organisation,
            metadata_prefix,
            set,
            every_minutes,
            schedule,
            requests_per_second,
        } => {
            let input = fathom_model::HarvestSourceInput {
                name: Some(name),
                kind: Some(kind),
                url: Some(url),
                organisation: Some(organisation),
                metadata_prefix,
                set,
                every_minutes,
                schedule,
                requests_per_second,
            };
            let source = harvesting
                .create_source(&principal, input)
                .await
                .map_err(fail)?;
            println!("{}", serde_json::to_string_pretty(&source)?);
            Ok(ExitCode::SUCCESS)
        }
        HarvestCommand::List => {
            for source in harvesting.sources(&principal).await.map_err(fail)? {
                let last = harvesting
                    .jobs(&principal, &source.id.to_string())
                    .await
                    .map_err(fail)?
                    .into_iter()
                    .next()
                    .map_or("never run".to_owned(), |job| {
                        format!("last job {} at {}", job.status.as_str(), job.started_at)
                    });
                println!(
                    "{}\t{}\t{:?}\t{}\t{last}",
                    source.id,
                    source.name,
                    source.kind,
                    source.url.as_str()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        HarvestCommand::Jobs { source } => {
            let jobs = harvesting.jobs(&principal, &source).await.map_err(fail)?;
            println!("{}", serde_json::to_string_pretty(&jobs)?);
            Ok(ExitCode::SUCCESS)
        }
        HarvestCommand::Run { source } => {
            let job = harvesting.run(&principal, &source).await.map_err(fail)?;
            println!("{}", serde_json::to_string_pretty(&job)?);
            Ok(if job.status == fathom_model::JobStatus::Succeeded {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

async fn profile(
    catalogue: &fathom_service::Catalogue,
    command: ProfileCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        ProfileCommand::Add {
            profile,
            version,
            file,
        } => {
            let schema = fathom_model::decode_json(&std::fs::read(&file)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let registered = catalogue
                .register_profile_version(&operator(), &profile, &version, schema)
                .await
                .map_err(|e| anyhow::anyhow!(e.summary()))?;
            eprintln!("registered {} {}", registered.profile, registered.version);
        }
        ProfileCommand::List => {
            for summary in catalogue.profiles().await? {
                println!("{}\t{}", summary.profile, summary.versions.join(" "));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn vocab(
    catalogue: &fathom_service::Catalogue,
    command: VocabCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        VocabCommand::Import { slug, binds, file } => {
            let syntax = match file
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default()
            {
                "ttl" => fathom_formats::RdfSyntax::Turtle,
                "rdf" | "xml" | "owl" => fathom_formats::RdfSyntax::RdfXml,
                "nt" => fathom_formats::RdfSyntax::NTriples,
                "jsonld" | "json" => fathom_formats::RdfSyntax::JsonLd,
                other => anyhow::bail!(
                    "`.{other}`: name the file .ttl, .rdf, .nt or .jsonld for its syntax"
                ),
            };
            let binds = binds
                .iter()
                .map(|b| fathom_model::BoundField::parse(b).map_err(anyhow::Error::msg))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let document = std::fs::read(&file)?;
            let started = std::time::Instant::now();
            let vocabulary = catalogue
                .import_vocabulary(&operator(), slug.as_deref(), binds, syntax, document)
                .await
                .map_err(|e| anyhow::anyhow!(e.summary()))?;
            eprintln!(
                "imported {} ({} concepts, revision {}) in {:.2} s",
                vocabulary.slug,
                vocabulary.concepts,
                vocabulary.revision,
                started.elapsed().as_secs_f64()
            );
        }
        VocabCommand::List => {
            for vocabulary in catalogue.vocabularies().await? {
                println!(
                    "{}\t{} concepts\t{}\t{}",
                    vocabulary.slug,
                    vocabulary.concepts,
                    vocabulary.iri,
                    vocabulary.display_title()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn operator() -> Principal {
    Principal::new(Uuid::nil(), "fathom-cli", Role::Admin)
}

fn parse_membership(raw: &str) -> Result<Membership, String> {
    let (organisation, role) = raw
        .split_once(':')
        .ok_or_else(|| format!("`{raw}` is not ORGANISATION:ROLE"))?;
    Ok(Membership {
        organisation: Slug::parse(organisation)?,
        role: OrganisationRole::parse(role)?,
    })
}
