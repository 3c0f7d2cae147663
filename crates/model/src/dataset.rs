//! Datasets and their distributions, aligned with DCAT (`dcat:Dataset`, `dcat:Distribution`).
//!
//! [`DatasetInput`] is what a client sends, with plain JSON types so that every problem can be reported
//! at once with a pointer to its field. [`DatasetInput::parse`] turns it into [`DatasetMetadata`], whose
//! fields are valid by construction; a stored [`Dataset`] adds what the system assigns.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::entity::EntityKind;
use crate::label::{LabelInput, Policy, SecurityLabel};
use crate::profile::{ProfileRef, Version};
use crate::validation::{ValidationErrors, check_unique, pointer_segment};
use crate::values::{
    BoundingBox, Iri, LanguageTag, Slug, Spatial, TemporalExtent, parse_geometry, parse_instant,
};

/// A dataset as stored and served: the publisher's metadata plus what the system assigns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Dataset {
    /// UUIDv7, assigned at creation; time-ordered, so it is also the default sort order.
    pub id: Uuid,
    #[serde(flatten)]
    pub metadata: DatasetMetadata,
    pub state: DatasetState,
    /// Starts at 1 and grows by one with every change; the `ETag` of the record.
    pub revision: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Dataset {
    /// A new dataset: a fresh id, revision 1, created and changed at `at`.
    pub fn new(metadata: DatasetMetadata, state: DatasetState, at: OffsetDateTime) -> Self {
        Self {
            id: Uuid::now_v7(),
            metadata,
            state,
            revision: 1,
            created_at: at,
            updated_at: at,
        }
    }
}

/// What the publisher says about a dataset. Every field is valid by construction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DatasetMetadata {
    #[schema(value_type = String, example = "ctd-casts-ligurian-sea-2024")]
    pub slug: Slug,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// The slug of the publishing organisation.
    #[schema(value_type = String)]
    pub organisation: Slug,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Theme IRIs, e.g. from the EU data-theme vocabulary.
    #[schema(value_type = Vec<String>)]
    #[serde(default)]
    pub themes: Vec<Iri>,
    #[serde(default)]
    pub contact_points: Vec<ContactPoint>,
    #[serde(default)]
    pub creators: Vec<Creator>,
    /// `YYYY-MM-DD` or an RFC 3339 date-time, kept as given (DCAT allows both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporal: Option<TemporalExtent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spatial: Option<Spatial>,
    /// BCP 47 language tags.
    #[schema(value_type = Vec<String>)]
    #[serde(default)]
    pub language: Vec<LanguageTag>,
    /// An SPDX licence identifier (`CC-BY-4.0`) or a licence IRI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_rights: Option<AccessRights>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[schema(value_type = Option<String>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landing_page: Option<Iri>,
    /// Persistent identifiers such as DOIs or handles.
    #[serde(default)]
    pub identifiers: Vec<String>,
    #[serde(default)]
    pub distributions: Vec<Distribution>,
    /// Who may see the dataset: its confidentiality label under the active policy.
    pub security_label: SecurityLabel,
    /// The slug of the data domain it belongs to.
    #[schema(value_type = Option<String>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<Slug>,
    /// The slug of the project it was made in.
    #[schema(value_type = Option<String>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<Slug>,
    /// The slug of the campaign (sea trial) it was collected in.
    #[schema(value_type = Option<String>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<Slug>,
    /// The slugs of the platforms that carried its instruments.
    #[schema(value_type = Vec<String>)]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<Slug>,
    /// The slugs of the instruments that measured it.
    #[schema(value_type = Vec<String>)]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instruments: Vec<Slug>,
    /// The slugs of the properties it observes.
    #[schema(value_type = Vec<String>)]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observed_properties: Vec<Slug>,
    /// The ids of the datasets it was derived from (`prov:wasDerivedFrom`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub was_derived_from: Vec<Uuid>,
    /// The activity that produced it (`prov:wasGeneratedBy`): a processing run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub was_generated_by: Option<Activity>,
    /// The id of the dataset this one is the next version of (`dcat:previousVersion`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<Uuid>,
    /// The metadata profiles it conforms to (`dct:conformsTo`), each at one version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conforms_to: Vec<ProfileRef>,
    /// Each profile's fields, by profile name: checked against the declared version's schema.
    #[schema(value_type = Object)]
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

/// A processing run that produced a dataset (`prov:Activity`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Activity {
    /// What was done: "Gridding to 0.1°, QC level 2".
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    /// The run's parameters, as given.
    #[schema(value_type = Object)]
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub parameters: serde_json::Map<String, serde_json::Value>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub started_at: Option<OffsetDateTime>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub ended_at: Option<OffsetDateTime>,
}

impl DatasetMetadata {
    /// The entities of the domain model it refers to, each with the pointer of its field.
    pub fn references(&self) -> Vec<(EntityKind, &Slug, String)> {
        fn list(slugs: &[Slug]) -> Vec<Option<&Slug>> {
            slugs.iter().map(Some).collect()
        }
        entity_references(
            [
                self.domain.as_ref(),
                self.project.as_ref(),
                self.campaign.as_ref(),
            ],
            [
                list(&self.platforms),
                list(&self.instruments),
                list(&self.observed_properties),
            ],
        )
    }
}

/// The entities a dataset's six reference fields name, each with the pointer of where: `single`
/// the domain, project and campaign; `lists` the platforms, instruments and observed properties,
/// whose items keep their index (`None` for an item that names nothing usable).
fn entity_references<T>(
    single: [Option<T>; 3],
    lists: [Vec<Option<T>>; 3],
) -> Vec<(EntityKind, T, String)> {
    let single = [
        (EntityKind::Domain, "/domain"),
        (EntityKind::Project, "/project"),
        (EntityKind::Campaign, "/campaign"),
    ]
    .into_iter()
    .zip(single)
    .filter_map(|((kind, at), slug)| Some((kind, slug?, at.to_owned())));
    let lists = [
        (EntityKind::Platform, "/platforms"),
        (EntityKind::Instrument, "/instruments"),
        (EntityKind::ObservedProperty, "/observed_properties"),
    ]
    .into_iter()
    .zip(lists)
    .flat_map(|((kind, at), items)| {
        items
            .into_iter()
            .enumerate()
            .filter_map(move |(i, slug)| Some((kind, slug?, format!("{at}/{i}"))))
    });
    single.chain(lists).collect()
}

/// The lifecycle state of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DatasetState {
    Draft,
    /// Submitted for review where its data domain reviews publication (`publication.rs`).
    InReview,
    Published,
    Deprecated,
    Retired,
}

impl DatasetState {
    pub const ALL: [Self; 5] = [
        Self::Draft,
        Self::InReview,
        Self::Published,
        Self::Deprecated,
        Self::Retired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::InReview => "in_review",
            Self::Published => "published",
            Self::Deprecated => "deprecated",
            Self::Retired => "retired",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == raw)
            .ok_or_else(|| {
                format!("`{raw}` is not one of draft, in_review, published, deprecated, retired")
            })
    }
}

/// Access rights in the terms of the EU access-right vocabulary, least restrictive first.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AccessRights {
    Public,
    Restricted,
    NonPublic,
}

impl AccessRights {
    /// The concept's code in <http://publications.europa.eu/resource/authority/access-right>.
    pub fn eu_code(self) -> &'static str {
        match self {
            Self::Public => "PUBLIC",
            Self::Restricted => "RESTRICTED",
            Self::NonPublic => "NON_PUBLIC",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "public" => Ok(Self::Public),
            "restricted" => Ok(Self::Restricted),
            "non_public" => Ok(Self::NonPublic),
            _ => Err(format!(
                "`{raw}` is not one of public, restricted, non_public"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContactPoint {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// An ISO 19115 role code such as `pointOfContact`, `custodian`, `principalInvestigator`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Creator {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// One way to get the data of a dataset: a file, an API, a service endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Distribution {
    pub id: Uuid,
    #[serde(default)]
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[schema(value_type = String)]
    pub access_url: Iri,
    #[schema(value_type = Option<String>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_url: Option<Iri>,
    /// An IANA media type such as `application/x-netcdf`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// A format name such as `NetCDF` or a format IRI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byte_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<Checksum>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Checksum {
    pub algorithm: ChecksumAlgorithm,
    /// Lowercase hexadecimal digest.
    pub value: String,
}

/// The checksum algorithms of SPDX, as used by DCAT-AP (`spdx:checksumAlgorithm_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChecksumAlgorithm {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl ChecksumAlgorithm {
    fn parse(raw: &str) -> Result<Self, String> {
        match raw.to_ascii_lowercase().replace('-', "").as_str() {
            "md5" => Ok(Self::Md5),
            "sha1" => Ok(Self::Sha1),
            "sha256" => Ok(Self::Sha256),
            "sha512" => Ok(Self::Sha512),
            _ => Err(format!("`{raw}` is not one of md5, sha1, sha256, sha512")),
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Self::Md5 => 32,
            Self::Sha1 => 40,
            Self::Sha256 => 64,
            Self::Sha512 => 128,
        }
    }
}

/// A dataset as a client sends it, in plain JSON types. Read-only fields (`id`, `state` aside,
/// `revision`, `created_at`, `updated_at`) are accepted so that a client may send back what it read,
/// and are ignored. Unknown fields are refused, so a misspelt field is an error, not silently lost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DatasetInput {
    /// Derived from the title when absent.
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub slug: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1)]
    pub title: Option<String>,
    pub description: Option<String>,
    /// The slug of the publishing organisation.
    #[schema(value_type = String, required = true, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub organisation: Option<String>,
    pub keywords: Option<Vec<String>>,
    pub themes: Option<Vec<String>>,
    pub contact_points: Option<Vec<ContactPointInput>>,
    pub creators: Option<Vec<CreatorInput>>,
    pub issued: Option<String>,
    pub modified: Option<String>,
    pub temporal: Option<TemporalInput>,
    pub spatial: Option<SpatialInput>,
    pub language: Option<Vec<String>>,
    pub license: Option<String>,
    pub access_rights: Option<String>,
    pub version: Option<String>,
    pub landing_page: Option<String>,
    pub identifiers: Option<Vec<String>>,
    pub distributions: Option<Vec<DistributionInput>>,
    /// The confidentiality label; the policy's default label when absent.
    pub security_label: Option<LabelInput>,
    /// `draft`, `published` (the default), `deprecated` or `retired`.
    pub state: Option<String>,
    /// The slug of a data domain.
    pub domain: Option<String>,
    /// The slug of a project.
    pub project: Option<String>,
    /// The slug of a campaign.
    pub campaign: Option<String>,
    /// Slugs of platforms.
    pub platforms: Option<Vec<String>>,
    /// Slugs of instruments.
    pub instruments: Option<Vec<String>>,
    /// Slugs of observed properties.
    pub observed_properties: Option<Vec<String>>,
    /// Ids of the datasets it was derived from.
    pub was_derived_from: Option<Vec<String>>,
    pub was_generated_by: Option<ActivityInput>,
    /// The id of the dataset this one is the next version of.
    pub previous_version: Option<String>,
    /// The profiles it conforms to: `[{"profile": "oceanographic-cruise", "version": "1.0.0"}]`.
    pub conforms_to: Option<Vec<ProfileRefInput>>,
    /// Each declared profile's fields, by profile name.
    #[schema(value_type = Option<Object>)]
    pub extensions: Option<serde_json::Map<String, serde_json::Value>>,
    #[schema(read_only)]
    pub id: Option<serde_json::Value>,
    #[schema(read_only)]
    pub revision: Option<serde_json::Value>,
    #[schema(read_only)]
    pub created_at: Option<serde_json::Value>,
    #[schema(read_only)]
    pub updated_at: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPointInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub role: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatorInput {
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileRefInput {
    pub profile: Option<String>,
    pub version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityInput {
    pub label: Option<String>,
    pub software: Option<String>,
    pub software_version: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub parameters: Option<serde_json::Map<String, serde_json::Value>>,
    /// RFC 3339 date-time or `YYYY-MM-DD`.
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemporalInput {
    /// RFC 3339 date-time or `YYYY-MM-DD`.
    pub start: Option<String>,
    pub end: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpatialInput {
    /// `[west, south, east, north]` in WGS 84 degrees.
    pub bbox: Option<Vec<f64>>,
    #[schema(value_type = Option<Object>)]
    pub geometry: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DistributionInput {
    /// Keeps the identity of an existing distribution; a new one gets a fresh id.
    pub id: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    /// Where the data is reached; the `download_url` when absent.
    pub access_url: Option<String>,
    pub download_url: Option<String>,
    pub media_type: Option<String>,
    pub format: Option<String>,
    pub byte_size: Option<u64>,
    pub checksum: Option<ChecksumInput>,
    pub license: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecksumInput {
    pub algorithm: Option<String>,
    pub value: Option<String>,
}

/// A parsed, valid dataset as the publisher gave it, with the state they asked for, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetDraft {
    pub metadata: DatasetMetadata,
    /// The slug was derived from the title, so it may be made unique with a suffix.
    pub slug_derived: bool,
    pub state: Option<DatasetState>,
}

pub(crate) const MAX_TEXT: usize = 100_000;
const MAX_SHORT_TEXT: usize = 1_000;

impl DatasetInput {
    /// The organisation and entities the input names, those of them that are well-formed slugs,
    /// each with where it is named: what a write that does not parse refers to all the same.
    pub fn named_references(&self) -> (Option<Slug>, Vec<(EntityKind, Slug, String)>) {
        let slug = |raw: &String| Slug::parse(raw).ok();
        let one = |raw: &Option<String>| raw.as_ref().and_then(slug);
        let list = |raw: &Option<Vec<String>>| raw.iter().flatten().map(slug).collect();
        let references = entity_references(
            [one(&self.domain), one(&self.project), one(&self.campaign)],
            [
                list(&self.platforms),
                list(&self.instruments),
                list(&self.observed_properties),
            ],
        );
        (one(&self.organisation), references)
    }

    /// Parses every field, collecting every problem with a pointer to it; the label against
    /// `policy`. `new_distribution_id` supplies ids for distributions that come without one.
    pub fn parse(
        self,
        policy: &Policy,
        mut new_distribution_id: impl FnMut() -> Uuid,
    ) -> Result<DatasetDraft, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let slug = self
            .slug
            .as_deref()
            .and_then(|raw| errors.check("/slug", Slug::parse(raw)));
        let title = errors
            .require("/title", self.title)
            .and_then(|t| errors.check("/title", short_text(&t, true)));
        let description = match self.description {
            Some(d) if d.len() > MAX_TEXT => {
                errors.push("/description", format!("must be at most {MAX_TEXT} bytes"));
                String::new()
            }
            other => other.unwrap_or_default(),
        };
        let organisation = errors
            .require("/organisation", self.organisation)
            .and_then(|raw| errors.check("/organisation", Slug::parse(&raw)));
        let keywords = parse_list(&mut errors, "/keywords", self.keywords, |k| {
            short_text(k, true)
        });
        let themes = parse_list(&mut errors, "/themes", self.themes, Iri::parse);
        let contact_points = parse_each(
            &mut errors,
            "/contact_points",
            self.contact_points,
            |c, at, errors| {
                let name = errors
                    .require(&format!("{at}/name"), c.name)
                    .and_then(|n| errors.check(format!("{at}/name"), short_text(&n, true)));
                let email = c
                    .email
                    .and_then(|e| errors.check(format!("{at}/email"), parse_email(&e)));
                let role = c
                    .role
                    .and_then(|r| errors.check(format!("{at}/role"), short_text(&r, true)));
                name.map(|name| ContactPoint { name, email, role })
            },
        );
        let creators = parse_each(&mut errors, "/creators", self.creators, |c, at, errors| {
            let name = errors
                .require(&format!("{at}/name"), c.name)
                .and_then(|n| errors.check(format!("{at}/name"), short_text(&n, true)));
            let email = c
                .email
                .and_then(|e| errors.check(format!("{at}/email"), parse_email(&e)));
            name.map(|name| Creator { name, email })
        });
        let issued = self
            .issued
            .and_then(|d| errors.check("/issued", parse_instant(&d).map(|_| d)));
        let modified = self
            .modified
            .and_then(|d| errors.check("/modified", parse_instant(&d).map(|_| d)));
        let temporal = self.temporal.and_then(|t| {
            let start = t
                .start
                .and_then(|s| errors.check("/temporal/start", parse_instant(&s)));
            let end = t
                .end
                .and_then(|e| errors.check("/temporal/end", parse_instant(&e)));
            errors.check("/temporal/end", TemporalExtent::new(start, end))
        });
        let spatial = self.spatial.map(|s| Spatial {
            bbox: s
                .bbox
                .and_then(|b| errors.check("/spatial/bbox", BoundingBox::parse(&b))),
            geometry: s
                .geometry
                .and_then(|g| errors.check("/spatial/geometry", parse_geometry(&g))),
        });
        let language = parse_list(&mut errors, "/language", self.language, |l| {
            LanguageTag::parse(l)
        });
        let license = self
            .license
            .and_then(|l| errors.check("/license", parse_license(&l)));
        let access_rights = self
            .access_rights
            .and_then(|a| errors.check("/access_rights", AccessRights::parse(&a)));
        let version = self
            .version
            .and_then(|v| errors.check("/version", short_text(&v, true)));
        let landing_page = self
            .landing_page
            .and_then(|l| errors.check("/landing_page", Iri::parse_web(&l)));
        let identifiers = parse_list(&mut errors, "/identifiers", self.identifiers, |i| {
            short_text(i, true)
        });
        let distributions = parse_each(
            &mut errors,
            "/distributions",
            self.distributions,
            |d, at, errors| d.parse_at(&at, errors, &mut new_distribution_id),
        );
        let state = self
            .state
            .and_then(|s| errors.check("/state", DatasetState::parse(&s)));
        let security_label = match self.security_label {
            None => Some(policy.default_label().clone()),
            Some(input) => match policy.parse_label(input) {
                Ok(label) => Some(label),
                Err(label_errors) => {
                    for error in label_errors.0 {
                        errors.push(format!("/security_label{}", error.pointer), error.message);
                    }
                    None
                }
            },
        };
        let domain = self
            .domain
            .and_then(|raw| errors.check("/domain", Slug::parse(&raw)));
        let project = self
            .project
            .and_then(|raw| errors.check("/project", Slug::parse(&raw)));
        let campaign = self
            .campaign
            .and_then(|raw| errors.check("/campaign", Slug::parse(&raw)));
        let mut slugs = |at: &str, raw: Option<Vec<String>>| {
            let slugs = parse_list(&mut errors, at, raw, Slug::parse);
            check_unique(&mut errors, at, &slugs);
            slugs
        };
        let platforms = slugs("/platforms", self.platforms);
        let instruments = slugs("/instruments", self.instruments);
        let observed_properties = slugs("/observed_properties", self.observed_properties);
        let was_derived_from = parse_list(
            &mut errors,
            "/was_derived_from",
            self.was_derived_from,
            parse_id,
        );
        check_unique(&mut errors, "/was_derived_from", &was_derived_from);
        let was_generated_by = self.was_generated_by.and_then(|activity| {
            let at = "/was_generated_by";
            let label = errors
                .require(&format!("{at}/label"), activity.label)
                .and_then(|l| errors.check(format!("{at}/label"), short_text(&l, true)));
            let mut text = |field: &str, value: Option<String>| {
                value.and_then(|v| errors.check(format!("{at}/{field}"), short_text(&v, true)))
            };
            let software = text("software", activity.software);
            let software_version = text("software_version", activity.software_version);
            let started_at = activity
                .started_at
                .and_then(|s| errors.check(format!("{at}/started_at"), parse_instant(&s)));
            let ended_at = activity
                .ended_at
                .and_then(|e| errors.check(format!("{at}/ended_at"), parse_instant(&e)));
            errors.check(
                format!("{at}/ended_at"),
                TemporalExtent::new(started_at, ended_at),
            )?;
            Some(Activity {
                label: label?,
                software,
                software_version,
                parameters: activity.parameters.unwrap_or_default(),
                started_at,
                ended_at,
            })
        });
        let previous_version = self
            .previous_version
            .and_then(|raw| errors.check("/previous_version", parse_id(&raw)));
        let conforms_to = parse_each(
            &mut errors,
            "/conforms_to",
            self.conforms_to,
            |p, at, errors| {
                let profile = errors
                    .require(&format!("{at}/profile"), p.profile)
                    .and_then(|raw| errors.check(format!("{at}/profile"), Slug::parse(&raw)));
                let version = errors
                    .require(&format!("{at}/version"), p.version)
                    .and_then(|raw| errors.check(format!("{at}/version"), Version::parse(&raw)));
                Some(ProfileRef {
                    profile: profile?,
                    version: version?,
                })
            },
        );
        for (i, declared) in conforms_to.iter().enumerate() {
            if conforms_to[..i]
                .iter()
                .any(|p| p.profile == declared.profile)
            {
                errors.push(
                    format!("/conforms_to/{i}"),
                    format!("declares `{}` twice", declared.profile),
                );
            }
        }
        let extensions = self.extensions.unwrap_or_default();
        for name in extensions.keys() {
            if !conforms_to.iter().any(|p| p.profile.as_str() == name) {
                errors.push(
                    format!("/extensions/{}", pointer_segment(name)),
                    format!("`{name}` is not a profile the dataset declares in conforms_to"),
                );
            }
        }
        let duplicate_distribution = distributions
            .iter()
            .enumerate()
            .find(|(i, d)| distributions[..*i].iter().any(|e| e.id == d.id));
        if let Some((i, _)) = duplicate_distribution {
            errors.push(
                format!("/distributions/{i}/id"),
                "appears twice in this dataset",
            );
        }

        let (Some(title), Some(organisation), Some(security_label), true) =
            (title, organisation, security_label, errors.is_empty())
        else {
            return Err(errors);
        };
        Ok(DatasetDraft {
            slug_derived: slug.is_none(),
            metadata: DatasetMetadata {
                slug: slug.unwrap_or_else(|| Slug::from_title(&title)),
                title,
                description,
                organisation,
                keywords,
                themes,
                contact_points,
                creators,
                issued,
                modified,
                temporal,
                spatial,
                language,
                license,
                access_rights,
                version,
                landing_page,
                identifiers,
                distributions,
                security_label,
                domain,
                project,
                campaign,
                platforms,
                instruments,
                observed_properties,
                was_derived_from,
                was_generated_by,
                previous_version,
                conforms_to,
                extensions,
            },
            state,
        })
    }
}

impl DistributionInput {
    /// Parses a distribution that stands alone (the `distributions` sub-resource).
    pub fn parse(self, new_id: impl FnOnce() -> Uuid) -> Result<Distribution, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut new_id = Some(new_id);
        let mut next_id = || new_id.take().map_or_else(Uuid::nil, |f| f());
        match self.parse_at("", &mut errors, &mut next_id) {
            Some(distribution) if errors.is_empty() => Ok(distribution),
            _ => Err(errors),
        }
    }

    fn parse_at(
        self,
        at: &str,
        errors: &mut ValidationErrors,
        new_id: &mut impl FnMut() -> Uuid,
    ) -> Option<Distribution> {
        let id = match self.id {
            Some(raw) => errors.check(
                format!("{at}/id"),
                Uuid::try_parse(&raw).map_err(|_| format!("`{raw}` is not a UUID")),
            ),
            None => Some(new_id()),
        };
        let title = self
            .title
            .and_then(|t| errors.check(format!("{at}/title"), short_text(&t, false)))
            .unwrap_or_default();
        let description = self.description.unwrap_or_default();
        if description.len() > MAX_TEXT {
            errors.push(
                format!("{at}/description"),
                format!("must be at most {MAX_TEXT} bytes"),
            );
        }
        // DCAT-AP lets a download address serve as the access address (as ckanext-dcat does).
        let access_url = errors
            .require(
                &format!("{at}/access_url"),
                self.access_url.or_else(|| self.download_url.clone()),
            )
            .and_then(|u| errors.check(format!("{at}/access_url"), Iri::parse(&u)));
        let download_url = self
            .download_url
            .and_then(|u| errors.check(format!("{at}/download_url"), Iri::parse(&u)));
        let media_type = self
            .media_type
            .and_then(|m| errors.check(format!("{at}/media_type"), parse_media_type(&m)));
        let format = self
            .format
            .and_then(|f| errors.check(format!("{at}/format"), short_text(&f, true)));
        let checksum = self.checksum.and_then(|c| {
            let algorithm = errors
                .require(&format!("{at}/checksum/algorithm"), c.algorithm)
                .and_then(|a| {
                    errors.check(
                        format!("{at}/checksum/algorithm"),
                        ChecksumAlgorithm::parse(&a),
                    )
                });
            let value = errors.require(&format!("{at}/checksum/value"), c.value);
            let (algorithm, value) = (algorithm?, value?.to_ascii_lowercase());
            let valid =
                value.len() == algorithm.hex_len() && value.bytes().all(|b| b.is_ascii_hexdigit());
            if !valid {
                errors.push(
                    format!("{at}/checksum/value"),
                    format!("must be {} hexadecimal digits", algorithm.hex_len()),
                );
            }
            valid.then_some(Checksum { algorithm, value })
        });
        let license = self
            .license
            .and_then(|l| errors.check(format!("{at}/license"), parse_license(&l)));
        Some(Distribution {
            id: id?,
            title,
            description,
            access_url: access_url?,
            download_url,
            media_type,
            format,
            byte_size: self.byte_size,
            checksum,
            license,
        })
    }
}

impl From<&Distribution> for DistributionInput {
    fn from(d: &Distribution) -> Self {
        Self {
            id: Some(d.id.to_string()),
            title: Some(d.title.clone()),
            description: Some(d.description.clone()),
            access_url: Some(d.access_url.as_str().to_owned()),
            download_url: d.download_url.as_ref().map(|u| u.as_str().to_owned()),
            media_type: d.media_type.clone(),
            format: d.format.clone(),
            byte_size: d.byte_size,
            checksum: d.checksum.as_ref().map(|c| ChecksumInput {
                algorithm: serde_json::to_value(c.algorithm)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned)),
                value: Some(c.value.clone()),
            }),
            license: d.license.clone(),
        }
    }
}

fn parse_list<T>(
    errors: &mut ValidationErrors,
    at: &str,
    items: Option<Vec<String>>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Vec<T> {
    items
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, item)| errors.check(format!("{at}/{i}"), parse(item)))
        .collect()
}

fn parse_each<I, T>(
    errors: &mut ValidationErrors,
    at: &str,
    items: Option<Vec<I>>,
    mut parse: impl FnMut(I, String, &mut ValidationErrors) -> Option<T>,
) -> Vec<T> {
    items
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .filter_map(|(i, item)| parse(item, format!("{at}/{i}"), errors))
        .collect()
}

/// Trims and checks a short, single-line text.
/// A dataset's id, as a reference from another dataset.
fn parse_id(raw: &str) -> Result<Uuid, String> {
    Uuid::try_parse(raw).map_err(|_| format!("`{raw}` is not a dataset's id (a UUID)"))
}

pub(crate) fn short_text(raw: &str, required: bool) -> Result<String, String> {
    let text = raw.trim();
    if required && text.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if text.len() > MAX_SHORT_TEXT {
        return Err(format!("must be at most {MAX_SHORT_TEXT} bytes"));
    }
    if text.chars().any(char::is_control) {
        return Err("must be a single line without control characters".to_owned());
    }
    Ok(text.to_owned())
}

fn parse_email(raw: &str) -> Result<String, String> {
    let valid = raw.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && raw.len() <= 254
        && !raw.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(raw.to_owned())
    } else {
        Err(format!("`{raw}` is not an e-mail address"))
    }
}

/// An SPDX licence identifier (letters, digits, `.`, `-`, `+`) or an absolute IRI.
fn parse_license(raw: &str) -> Result<String, String> {
    let spdx = !raw.is_empty()
        && raw.len() <= 100
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'));
    if spdx || Iri::parse(raw).is_ok() {
        Ok(raw.to_owned())
    } else {
        Err(format!(
            "`{raw}` is neither an SPDX licence identifier (e.g. `CC-BY-4.0`) nor an IRI"
        ))
    }
}

/// `type/subtype` with RFC 6838 restricted-name characters, parameters allowed.
fn parse_media_type(raw: &str) -> Result<String, String> {
    let essence = raw.split(';').next().unwrap_or_default().trim();
    let name = |s: &str| {
        !s.is_empty()
            && s.len() <= 127
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    match essence.split_once('/') {
        Some((kind, subtype)) if name(kind) && name(subtype) => Ok(raw.trim().to_owned()),
        _ => Err(format!(
            "`{raw}` is not a media type (e.g. `application/x-netcdf`)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> DatasetInput {
        serde_json::from_value(serde_json::json!({
            "title": "CTD casts, Ligurian Sea 2024",
            "organisation": "cmre",
            "keywords": ["ctd", "temperature"],
            "temporal": {"start": "2024-09-01", "end": "2024-09-20T18:00:00Z"},
            "spatial": {"bbox": [170.0, -20.0, -170.0, 10.0]},
            "distributions": [{"access_url": "https://data.example.org/ctd.nc", "checksum": {"algorithm": "SHA-256", "value": "AB".repeat(32)}}]
        }))
        .unwrap()
    }

    #[test]
    fn labels_default_to_the_policy_s_and_are_checked_against_it() {
        let policy = Policy::default_policy();
        let draft = input().parse(&policy, Uuid::now_v7).unwrap();
        assert_eq!(&draft.metadata.security_label, policy.default_label());
        let mut labelled = input();
        labelled.security_label = Some(
            serde_json::from_value(serde_json::json!({
                "classification": "NATO RESTRICTED",
                "categories": [{"tag": "ReleasableTo", "values": ["NOR"]}]
            }))
            .unwrap(),
        );
        let label = labelled
            .parse(&policy, Uuid::now_v7)
            .unwrap()
            .metadata
            .security_label;
        assert_eq!(label.classification, "NATO RESTRICTED");
        let mut bad = input();
        bad.security_label = Some(
            serde_json::from_value(serde_json::json!({
                "classification": "SECRET-ISH",
                "categories": [{"tag": "ReleasableTo", "values": ["MARS"]}]
            }))
            .unwrap(),
        );
        let errors = bad.parse(&policy, Uuid::now_v7).unwrap_err();
        let pointers: Vec<&str> = errors.0.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/security_label/classification",
                "/security_label/categories/0/values/0"
            ]
        );
    }

    #[test]
    fn a_valid_input_parses_and_derives_its_slug() {
        let draft = input()
            .parse(&Policy::default_policy(), Uuid::now_v7)
            .unwrap();
        assert!(draft.slug_derived);
        assert_eq!(draft.metadata.slug.as_str(), "ctd-casts-ligurian-sea-2024");
        let distribution = &draft.metadata.distributions[0];
        assert_eq!(
            distribution.checksum.as_ref().unwrap().value,
            "ab".repeat(32)
        );
        assert!(
            draft
                .metadata
                .spatial
                .unwrap()
                .bbox
                .unwrap()
                .crosses_antimeridian()
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_pointer() {
        let mut bad = input();
        bad.title = None;
        bad.organisation = Some("Not A Slug".into());
        bad.temporal = Some(TemporalInput {
            start: Some("2024-09-02".into()),
            end: Some("2024-09-01".into()),
        });
        bad.spatial = Some(SpatialInput {
            bbox: Some(vec![0.0, -95.0, 1.0, 1.0]),
            geometry: Some(serde_json::json!({"type": "Circle"})),
        });
        bad.distributions = Some(vec![DistributionInput {
            access_url: None,
            media_type: Some("netcdf".into()),
            ..Default::default()
        }]);
        bad.state = Some("archived".into());
        let errors = bad
            .parse(&Policy::default_policy(), Uuid::now_v7)
            .unwrap_err();
        let pointers: Vec<_> = errors.0.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/title",
                "/organisation",
                "/temporal/end",
                "/spatial/bbox",
                "/spatial/geometry",
                "/distributions/0/access_url",
                "/distributions/0/media_type",
                "/state"
            ]
        );
    }

    #[test]
    fn a_download_address_serves_as_the_access_address() {
        let only_download = DistributionInput {
            download_url: Some("https://data.example.org/ctd.nc".into()),
            ..Default::default()
        };
        let distribution = only_download.parse(Uuid::now_v7).unwrap();
        assert_eq!(
            distribution.access_url.as_str(),
            "https://data.example.org/ctd.nc"
        );
        assert_eq!(
            distribution.download_url.map(|u| u.as_str().to_owned()),
            Some("https://data.example.org/ctd.nc".into())
        );
        let neither = DistributionInput::default()
            .parse(Uuid::now_v7)
            .unwrap_err();
        assert_eq!(neither.0[0].pointer, "/access_url");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let result: Result<DatasetInput, _> =
            serde_json::from_value(serde_json::json!({"title": "x", "licence": "CC0-1.0"}));
        assert!(result.unwrap_err().to_string().contains("licence"));
    }

    #[test]
    fn a_stored_dataset_round_trips_through_json() {
        let draft = input()
            .parse(&Policy::default_policy(), Uuid::now_v7)
            .unwrap();
        let now = OffsetDateTime::UNIX_EPOCH;
        let dataset = Dataset {
            id: Uuid::now_v7(),
            metadata: draft.metadata,
            state: DatasetState::Published,
            revision: 1,
            created_at: now,
            updated_at: now,
        };
        let json = serde_json::to_value(&dataset).unwrap();
        assert_eq!(
            json["spatial"]["bbox"],
            serde_json::json!([170.0, -20.0, -170.0, 10.0])
        );
        assert_eq!(json["temporal"]["start"], "2024-09-01T00:00:00Z");
        let back: Dataset = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, dataset);
        let as_input: DatasetInput = serde_json::from_value(json).unwrap();
        assert_eq!(
            as_input
                .parse(&Policy::default_policy(), Uuid::now_v7)
                .unwrap()
                .metadata,
            dataset.metadata
        );
    }

    #[test]
    fn duplicate_distribution_ids_are_refused() {
        let mut bad = input();
        let id = Uuid::now_v7().to_string();
        let distribution = DistributionInput {
            id: Some(id),
            access_url: Some("https://x.org/a".into()),
            ..Default::default()
        };
        bad.distributions = Some(vec![distribution.clone(), distribution]);
        let errors = bad
            .parse(&Policy::default_policy(), Uuid::now_v7)
            .unwrap_err();
        assert_eq!(errors.0[0].pointer, "/distributions/1/id");
    }
}
