//! `serve --demo`: a realistic catalogue to explore, written for this project and built into the binary.

use fathom_formats::RdfSyntax;
use fathom_model::{
    AccessRequestInput, BoundField, EntityKind, Membership, OrganisationInput, OrganisationRole,
    Policy, Principal, Role, Slug, decode_json,
};
use fathom_service::{
    AUDITORS, NewUser, OnError, RELEASE_OFFICERS, RecordKey, SECURITY_OFFICERS, ServiceError,
    Services, SharingSettings,
};

use crate::operator;

const ORGANISATIONS: &str = include_str!("../demo/organisations.json");
const DATASETS: &str = include_str!("../demo/datasets.ndjson");
/// The starter vocabularies written for the project (also for `fathom vocab import`): their slugs,
/// Turtle, and the fields bound to them.
const VOCABULARIES: [(&str, &str, &[BoundField]); 3] = [
    (
        "platform-types",
        include_str!("../vocabularies/platform-types.ttl"),
        &[BoundField::PlatformType],
    ),
    (
        "observed-properties",
        include_str!("../vocabularies/observed-properties.ttl"),
        &[],
    ),
    (
        "data-domains",
        include_str!("../vocabularies/data-domains.ttl"),
        &[],
    ),
];
/// The example metadata profiles written for the project, registered at 1.0.0 (two demo datasets
/// conform to them).
const PROFILES: [(&str, &str); 2] = [
    (
        "oceanographic-cruise",
        include_str!("../profiles/oceanographic-cruise-1.0.0.json"),
    ),
    (
        "acoustic-recording",
        include_str!("../profiles/acoustic-recording-1.0.0.json"),
    ),
];
/// How some demo datasets were derived from others, by slug (ids are made at import).
const LINEAGE: &str = include_str!("../demo/lineage.json");
/// The domain model of the demo (a sea trial with its platforms, instruments and observed
/// properties), each entity naming its kind in `type`, in an order where references come first.
const ENTITIES: &str = include_str!("../demo/entities.json");

/// The demo's tokens, each shown once.
#[derive(Debug)]
pub struct DemoTokens {
    /// An admin: sees and changes everything.
    pub admin: String,
    /// A Norwegian analyst cleared to NATO SECRET in the NATO community: sees the labelled datasets
    /// released to NATO or Norway, not the others (nor those that need the REP-MUS project).
    pub analyst: String,
    /// The others, by name: the steward of the hydrography domain (which reviews publication), the
    /// security and release officer, and a partner-nation scientist whose access request waits
    /// for them.
    pub sharing: Vec<(&'static str, String)>,
    /// A new password for each demo user, by name, to sign in on the pages with.
    pub passwords: Vec<(String, String)>,
}

/// The analyst of the demo.
const ANALYST: &str = "demo-analyst";

/// Someone of the sharing workflows of the demo.
struct Person {
    name: &'static str,
    clearance: &'static str,
    nationality: &'static str,
    communities: &'static [&'static str],
    /// Their role in CMRE.
    role: Option<OrganisationRole>,
}

const SHARING_PEOPLE: [Person; 3] = [
    Person {
        name: "demo-steward",
        clearance: "NATO SECRET",
        nationality: "GBR",
        communities: &["NATO"],
        role: Some(OrganisationRole::Steward),
    },
    Person {
        name: "demo-officer",
        clearance: "NATO SECRET",
        nationality: "ITA",
        communities: &["NATO"],
        role: None,
    },
    Person {
        name: "demo-partner",
        clearance: "NATO RESTRICTED",
        nationality: "AUS",
        communities: &[],
        role: None,
    },
];

/// The dataset the demo partner asks for: NATO RESTRICTED, releasable to NATO.
const REQUESTED: &str = "sidescan-sonar-survey-for-mine-countermeasures-trial-2022";

/// The sharing workflows' settings of the demo, when the configuration names none: the demo officer
/// is the security officer, the release officer and the auditor.
pub fn sharing_settings(policy: &Policy) -> SharingSettings {
    let mut settings = SharingSettings::for_policy(policy);
    for group in [SECURITY_OFFICERS, RELEASE_OFFICERS, AUDITORS] {
        settings
            .groups
            .insert(group.to_owned(), vec!["demo-officer".to_owned()]);
    }
    settings
}

/// Loads whatever of the demo catalogue is missing (six of its datasets carry security labels), and
/// returns new tokens for the demo.
pub async fn load(services: &Services) -> Result<DemoTokens, ServiceError> {
    let principal = operator();
    let organisations: Vec<OrganisationInput> = decode_json(ORGANISATIONS.as_bytes())?;
    let mut created = 0;
    for organisation in organisations {
        let slug = organisation.slug.clone().unwrap_or_default();
        match services
            .catalogue
            .organisation(&RecordKey::Slug(slug))
            .await
        {
            Ok(_) => continue,
            Err(ServiceError::NotFound(_)) => {}
            Err(other) => return Err(other),
        }
        services
            .catalogue
            .create_organisation(&principal, organisation)
            .await?;
        created += 1;
    }
    if created > 0 {
        for (slug, turtle, binds) in VOCABULARIES {
            services
                .catalogue
                .import_vocabulary(
                    &principal,
                    Some(slug),
                    binds.to_vec(),
                    RdfSyntax::Turtle,
                    turtle.as_bytes().to_vec(),
                )
                .await?;
        }
        let entities: Vec<serde_json::Value> = decode_json(ENTITIES.as_bytes())?;
        for entity in entities {
            let kind = entity["type"]
                .as_str()
                .and_then(EntityKind::parse)
                .ok_or_else(|| {
                    ServiceError::Fault(format!("demo/entities.json: no kind in {entity}"))
                })?;
            services
                .catalogue
                .create_entity(&principal, kind, entity)
                .await?;
        }
        for (name, schema) in PROFILES {
            services
                .catalogue
                .register_profile_version(
                    &principal,
                    name,
                    "1.0.0",
                    decode_json(schema.as_bytes())?,
                )
                .await?;
        }
        let lines: Vec<(u64, String)> = (1..).zip(DATASETS.lines().map(str::to_owned)).collect();
        let outcome = services
            .catalogue
            .import_datasets(&principal, &lines, OnError::Continue)
            .await?;
        if let Some(rejected) = outcome.rejected.first() {
            // The demo data is part of the product: a line it refuses is a bug to fix, not to skip.
            return Err(ServiceError::Fault(format!(
                "demo/datasets.ndjson line {}: {}",
                rejected.line, rejected.error
            )));
        }
        derive(services, &principal).await?;
        tracing::info!(
            organisations = created,
            datasets = outcome.imported,
            "loaded the demo catalogue"
        );
    }
    let admin = services
        .identity
        .create_token("demo-admin", Role::Admin, "serve --demo", None)
        .await?;
    let existing: Vec<String> = services
        .identity
        .users()
        .await?
        .into_iter()
        .map(|user| user.name)
        .collect();
    if !existing.iter().any(|user| user == ANALYST) {
        services
            .identity
            .create_user(NewUser {
                name: ANALYST.into(),
                role: Role::Viewer,
                clearance: Some("NATO SECRET".into()),
                nationality: Some("NOR".into()),
                communities: vec!["NATO".into()],
                memberships: Vec::new(),
            })
            .await?;
    }
    let analyst = services
        .identity
        .create_token(ANALYST, Role::Viewer, "serve --demo", None)
        .await?;
    let sharing = sharing_people(services, &existing).await?;
    let mut passwords = Vec::new();
    let names = ["demo-admin", ANALYST]
        .into_iter()
        .chain(sharing.iter().map(|(name, _)| *name));
    for name in names {
        let password = services.sessions.set_generated_password(name).await?;
        passwords.push((name.to_owned(), password));
    }
    Ok(DemoTokens {
        admin: admin.secret,
        analyst: analyst.secret,
        sharing,
        passwords,
    })
}

/// The people of the sharing workflows, with new tokens; on first load, the partner's request for
/// a restricted dataset, waiting for the hydrography steward and then the security officer.
async fn sharing_people(
    services: &Services,
    existing: &[String],
) -> Result<Vec<(&'static str, String)>, ServiceError> {
    let cmre = Slug::parse("cmre").map_err(ServiceError::Fault)?;
    let mut tokens = Vec::new();
    for person in SHARING_PEOPLE {
        let name = person.name;
        if !existing.iter().any(|user| user == name) {
            services
                .identity
                .create_user(NewUser {
                    name: name.into(),
                    role: Role::Viewer,
                    clearance: Some(person.clearance.into()),
                    nationality: Some(person.nationality.into()),
                    communities: person.communities.iter().map(|c| (*c).to_owned()).collect(),
                    memberships: person
                        .role
                        .map(|role| Membership {
                            organisation: cmre.clone(),
                            role,
                        })
                        .into_iter()
                        .collect(),
                })
                .await?;
        }
        let token = services
            .identity
            .create_token(name, Role::Viewer, "serve --demo", None)
            .await?;
        tokens.push((name, token.secret));
    }
    if !existing.iter().any(|user| user == "demo-partner") {
        let (_, secret) = &tokens[2];
        let partner = services
            .sharing
            .with_grants(services.identity.authenticate(secret).await?)
            .await?;
        let dataset = services
            .catalogue
            .dataset(Some(&operator()), &RecordKey::Slug(REQUESTED.into()))
            .await?;
        let end = time::OffsetDateTime::now_utc() + time::Duration::days(90);
        services
            .sharing
            .request_access(
                &partner,
                AccessRequestInput {
                    dataset: Some(dataset.id.to_string()),
                    purpose: Some(
                        "Training automatic target recognition for the partner navy's MCM programme"
                            .into(),
                    ),
                    end: Some(end.date().to_string()),
                    ..Default::default()
                },
            )
            .await?;
    }
    Ok(tokens)
}

/// Records the lineage of the demo's derived products: each names its sources by slug, written as
/// their ids with the activity that made it (a second revision of the product).
async fn derive(services: &Services, principal: &Principal) -> Result<(), ServiceError> {
    let products: Vec<serde_json::Value> = decode_json(LINEAGE.as_bytes())?;
    for mut product in products {
        let slug = |value: &serde_json::Value| {
            RecordKey::Slug(value.as_str().unwrap_or_default().to_owned())
        };
        let key = slug(&product["dataset"]);
        let mut sources = Vec::new();
        for source in product["was_derived_from"].as_array().into_iter().flatten() {
            sources.push(
                services
                    .catalogue
                    .dataset(Some(principal), &slug(source))
                    .await?
                    .id,
            );
        }
        let patch = serde_json::json!({
            "was_derived_from": sources,
            "was_generated_by": product["was_generated_by"].take(),
        });
        services
            .catalogue
            .patch_dataset(principal, &key, None, &patch)
            .await?;
    }
    Ok(())
}
