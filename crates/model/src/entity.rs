//! The entities of the domain model besides organisations and datasets: data domains, projects,
//! campaigns (sea trials), platforms, instruments and observed properties. They share one shape
//! (a slug, a name, a description, revisions) and differ in their [`Facts`]; datasets and other
//! entities refer to them by slug, which never changes once created.
//!
//! Each is aligned with a standard (`docs/domain-model.md`): a platform is a `sosa:Platform`, an
//! instrument a `sosa:Sensor`, an observed property a `sosa:ObservableProperty`, a campaign's
//! datasets a `dcat:DatasetSeries`.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::dataset::{MAX_TEXT, short_text};
use crate::validation::{DecodeError, ValidationErrors, check_unique, decode_value};
use crate::values::{Iri, Slug, Spatial, TemporalExtent, parse_geometry};

/// The kinds of entity, each with its collection under `/api/v1`.
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
pub enum EntityKind {
    /// A field of knowledge with its owners and stewards (Oceanography, Underwater Acoustics, …).
    Domain,
    Project,
    /// A campaign or sea trial: a period at sea, in an area, with platforms.
    Campaign,
    /// A research vessel, AUV, glider, buoy, mooring, … (`sosa:Platform`).
    Platform,
    /// An instrument or sensor, mounted on platforms for periods (`sosa:Sensor`).
    Instrument,
    /// What is measured, such as sea water temperature (`sosa:ObservableProperty`).
    ObservedProperty,
}

impl EntityKind {
    pub const ALL: [Self; 6] = [
        Self::Domain,
        Self::Project,
        Self::Campaign,
        Self::Platform,
        Self::Instrument,
        Self::ObservedProperty,
    ];

    /// Its name in records, revisions and events: `observed_property`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Domain => "domain",
            Self::Project => "project",
            Self::Campaign => "campaign",
            Self::Platform => "platform",
            Self::Instrument => "instrument",
            Self::ObservedProperty => "observed_property",
        }
    }

    /// The last segment of its collection's path: `/api/v1/observed-properties`.
    pub fn collection(self) -> &'static str {
        match self {
            Self::Domain => "domains",
            Self::Project => "projects",
            Self::Campaign => "campaigns",
            Self::Platform => "platforms",
            Self::Instrument => "instruments",
            Self::ObservedProperty => "observed-properties",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }

    pub fn from_collection(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.collection() == raw)
    }

    /// Parses an entity of this kind as a client sent it. Read-only fields (`id`, `revision`,
    /// `created_at`, `updated_at`) are ignored so that what was read can be sent back; `type`, if
    /// given, must be this kind; any other unknown field is an error.
    pub fn parse_input(self, input: Value) -> Result<EntityDraft, DecodeError> {
        let Value::Object(mut fields) = input else {
            return Err(ValidationErrors::single("", "must be a JSON object").into());
        };
        for read_only in ["id", "revision", "created_at", "updated_at"] {
            fields.remove(read_only);
        }
        let mut errors = ValidationErrors::default();
        match fields.remove("type") {
            None => {}
            Some(Value::String(kind)) if kind == self.as_str() => {}
            Some(_) => errors.push("/type", format!("must be `{}`", self.as_str())),
        }
        let slug = take_text(&mut fields, &mut errors, "slug", true)
            .and_then(|slug| errors.check("/slug", Slug::parse(&slug)));
        let name = take_text(&mut fields, &mut errors, "name", true)
            .and_then(|name| errors.check("/name", name_text(&name)));
        let description =
            take_text(&mut fields, &mut errors, "description", false).unwrap_or_default();
        if description.len() > MAX_TEXT {
            errors.push("/description", format!("must be at most {MAX_TEXT} bytes"));
        }
        let facts = match self.decode_facts(fields) {
            Ok(facts) => {
                facts.check(&mut errors);
                Some(facts)
            }
            Err(DecodeError::Invalid(invalid)) => {
                errors.0.extend(invalid.0);
                None
            }
            Err(malformed) => return Err(malformed),
        };
        match (slug, name, facts) {
            (Some(slug), Some(name), Some(facts)) if errors.is_empty() => Ok(EntityDraft {
                slug,
                name,
                description,
                facts,
            }),
            _ => Err(errors.into()),
        }
    }

    fn decode_facts(self, fields: Map<String, Value>) -> Result<Facts, DecodeError> {
        fn decode<T: DeserializeOwned>(
            fields: Map<String, Value>,
            wrap: fn(T) -> Facts,
        ) -> Result<Facts, DecodeError> {
            decode_value(Value::Object(fields)).map(wrap)
        }
        match self {
            Self::Domain => decode(fields, Facts::Domain),
            Self::Project => decode(fields, Facts::Project),
            Self::Campaign => decode(fields, Facts::Campaign),
            Self::Platform => decode(fields, Facts::Platform),
            Self::Instrument => decode(fields, Facts::Instrument),
            Self::ObservedProperty => decode(fields, Facts::ObservedProperty),
        }
    }
}

/// A stored entity: what its editors said plus what the system assigns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Entity {
    pub id: Uuid,
    #[serde(flatten)]
    pub details: EntityDraft,
    /// Starts at 1 and grows by one with every change; the `ETag` of the record.
    pub revision: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Entity {
    /// A new entity: a fresh id, revision 1, created and changed at `at`.
    pub fn new(details: EntityDraft, at: OffsetDateTime) -> Self {
        Self {
            id: Uuid::now_v7(),
            details,
            revision: 1,
            created_at: at,
            updated_at: at,
        }
    }

    pub fn kind(&self) -> EntityKind {
        self.details.facts.kind()
    }
}

/// What an entity is, valid by construction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EntityDraft {
    #[schema(value_type = String, example = "rv-alliance")]
    pub slug: Slug,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(flatten)]
    pub facts: Facts,
}

/// What each kind of entity says beyond its slug, name and description; `type` names the kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Facts {
    Domain(DomainFacts),
    Project(ProjectFacts),
    Campaign(CampaignFacts),
    Platform(PlatformFacts),
    Instrument(InstrumentFacts),
    ObservedProperty(ObservedPropertyFacts),
}

/// A data domain: every dataset belongs to at most one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainFacts {
    /// The names of the users who own the domain.
    #[serde(default)]
    pub owners: Vec<String>,
    /// The names of the users who curate its datasets and decide on access to them.
    #[serde(default)]
    pub stewards: Vec<String>,
    /// Whether its datasets are published through review (`publication.rs`): drafts are submitted
    /// and a steward publishes them; a published dataset changes through a reviewed working copy.
    #[serde(default)]
    pub publication_review: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectFacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acronym: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<TemporalExtent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_investigator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funder: Option<String>,
    #[schema(value_type = Option<String>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<Iri>,
}

/// A campaign or sea trial.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignFacts {
    /// The slug of the project it belongs to.
    #[schema(value_type = Option<String>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<Slug>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<TemporalExtent>,
    /// The area it covered: a bounding box and, optionally, a GeoJSON geometry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<Spatial>,
    /// The slugs of the platforms used.
    #[schema(value_type = Vec<String>)]
    #[serde(default)]
    pub platforms: Vec<Slug>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chief_scientist: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlatformFacts {
    /// The kind of platform: `research_vessel`, `auv`, `glider`, `buoy`, `mooring`, … (the
    /// starter vocabulary's notations) or a concept IRI.
    pub platform_type: String,
    /// Codes that identify it elsewhere: ICES platform code, WMO id, IMO number, call sign.
    #[serde(default)]
    pub identifiers: Vec<PlatformIdentifier>,
    /// Who operates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlatformIdentifier {
    /// `ices`, `wmo`, `imo`, `call_sign`, or another scheme's name.
    pub scheme: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstrumentFacts {
    /// The kind of instrument: `ctd`, `adcp`, `hydrophone`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instrument_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    /// The platforms it was mounted on, and when.
    #[serde(default)]
    pub mounted_on: Vec<Mounting>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Mounting {
    /// The platform's slug.
    #[schema(value_type = String)]
    pub platform: Slug,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<TemporalExtent>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservedPropertyFacts {
    /// The vocabulary concept it stands for, e.g. a CF standard name's IRI.
    #[schema(value_type = Option<String>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concept: Option<Iri>,
    /// Its unit of measure, in UCUM (`Cel`, `m/s`, `dB`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

impl Facts {
    pub fn kind(&self) -> EntityKind {
        match self {
            Self::Domain(_) => EntityKind::Domain,
            Self::Project(_) => EntityKind::Project,
            Self::Campaign(_) => EntityKind::Campaign,
            Self::Platform(_) => EntityKind::Platform,
            Self::Instrument(_) => EntityKind::Instrument,
            Self::ObservedProperty(_) => EntityKind::ObservedProperty,
        }
    }

    /// The entities these facts refer to, each with the pointer of the field that names it.
    pub fn references(&self) -> Vec<(EntityKind, &Slug, String)> {
        match self {
            Self::Campaign(campaign) => {
                campaign
                    .project
                    .iter()
                    .map(|slug| (EntityKind::Project, slug, "/project".to_owned()))
                    .chain(
                        campaign.platforms.iter().enumerate().map(|(i, slug)| {
                            (EntityKind::Platform, slug, format!("/platforms/{i}"))
                        }),
                    )
                    .collect()
            }
            Self::Instrument(instrument) => instrument
                .mounted_on
                .iter()
                .enumerate()
                .map(|(i, mounting)| {
                    let at = format!("/mounted_on/{i}/platform");
                    (EntityKind::Platform, &mounting.platform, at)
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// What the field types alone do not ensure: texts on one line, periods in order, geometries.
    fn check(&self, errors: &mut ValidationErrors) {
        let mut text = |at: &str, value: Option<&String>| {
            if let Some(value) = value
                && let Err(message) = short_text(value, true)
            {
                errors.push(at, message);
            }
        };
        match self {
            Self::Domain(domain) => {
                for (list, names) in [("owners", &domain.owners), ("stewards", &domain.stewards)] {
                    for (i, name) in names.iter().enumerate() {
                        text(&format!("/{list}/{i}"), Some(name));
                    }
                }
            }
            Self::Project(project) => {
                text("/acronym", project.acronym.as_ref());
                text(
                    "/principal_investigator",
                    project.principal_investigator.as_ref(),
                );
                text("/funder", project.funder.as_ref());
                check_period(errors, "/period", project.period.as_ref());
            }
            Self::Campaign(campaign) => {
                text("/chief_scientist", campaign.chief_scientist.as_ref());
                check_period(errors, "/period", campaign.period.as_ref());
                if let Some(geometry) = campaign.area.as_ref().and_then(|a| a.geometry.as_ref())
                    && let Err(message) = parse_geometry(geometry)
                {
                    errors.push("/area/geometry", message);
                }
                check_unique(errors, "/platforms", &campaign.platforms);
            }
            Self::Platform(platform) => {
                text("/platform_type", Some(&platform.platform_type));
                text("/operator", platform.operator.as_ref());
                for (i, identifier) in platform.identifiers.iter().enumerate() {
                    text(
                        &format!("/identifiers/{i}/scheme"),
                        Some(&identifier.scheme),
                    );
                    text(&format!("/identifiers/{i}/value"), Some(&identifier.value));
                }
            }
            Self::Instrument(instrument) => {
                text("/instrument_type", instrument.instrument_type.as_ref());
                text("/manufacturer", instrument.manufacturer.as_ref());
                text("/model", instrument.model.as_ref());
                text("/serial_number", instrument.serial_number.as_ref());
                for (i, mounting) in instrument.mounted_on.iter().enumerate() {
                    check_period(
                        errors,
                        &format!("/mounted_on/{i}/period"),
                        mounting.period.as_ref(),
                    );
                }
            }
            Self::ObservedProperty(property) => text("/unit", property.unit.as_ref()),
        }
    }
}

fn check_period(errors: &mut ValidationErrors, at: &str, period: Option<&TemporalExtent>) {
    if let Some(TemporalExtent {
        start: Some(start),
        end: Some(end),
    }) = period
        && end < start
    {
        errors.push(format!("{at}/end"), "must not be before start");
    }
}

/// Takes a string field out of `fields`; a value of another type is an error.
fn take_text(
    fields: &mut Map<String, Value>,
    errors: &mut ValidationErrors,
    name: &str,
    required: bool,
) -> Option<String> {
    let at = format!("/{name}");
    match fields.remove(name) {
        Some(Value::String(text)) => Some(text),
        None | Some(Value::Null) if !required => None,
        None | Some(Value::Null) => {
            errors.push(at, "is required");
            None
        }
        Some(_) => {
            errors.push(at, "must be a string");
            None
        }
    }
}

fn name_text(raw: &str) -> Result<String, String> {
    let name = short_text(raw, true)?;
    if name.len() > 300 {
        return Err("must be at most 300 bytes".to_owned());
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(kind: EntityKind, input: Value) -> Result<EntityDraft, Vec<(String, String)>> {
        kind.parse_input(input).map_err(|error| match error {
            DecodeError::Invalid(errors) => errors
                .0
                .into_iter()
                .map(|e| (e.pointer, e.message))
                .collect(),
            DecodeError::Malformed(message) => vec![(String::new(), message)],
        })
    }

    #[test]
    fn each_kind_round_trips_through_its_stored_json() {
        let inputs = [
            (
                EntityKind::Domain,
                json!({"owners": ["ada"], "stewards": ["sam"]}),
            ),
            (
                EntityKind::Project,
                json!({"acronym": "MREP", "period": {"start": "2024-01-01T00:00:00Z"}}),
            ),
            (
                EntityKind::Campaign,
                json!({"project": "mrep", "platforms": ["rv-alliance"], "area": {"bbox": [8, 43, 10, 44.5]}}),
            ),
            (
                EntityKind::Platform,
                json!({"platform_type": "research_vessel", "identifiers": [{"scheme": "ices", "value": "48A5"}]}),
            ),
            (
                EntityKind::Instrument,
                json!({"model": "SBE 911plus", "mounted_on": [{"platform": "rv-alliance"}]}),
            ),
            (
                EntityKind::ObservedProperty,
                json!({"concept": "http://vocab.nerc.ac.uk/standard_name/sea_water_temperature/", "unit": "Cel"}),
            ),
        ];
        for (kind, mut facts) in inputs {
            facts["slug"] = json!("thing");
            facts["name"] = json!(" A thing ");
            let draft = parse(kind, facts).unwrap();
            assert_eq!(draft.name, "A thing");
            let entity = Entity::new(draft, OffsetDateTime::UNIX_EPOCH);
            let stored = serde_json::to_string(&entity).unwrap();
            assert!(
                stored.contains(&format!("\"type\":\"{}\"", kind.as_str())),
                "{stored}"
            );
            let read: Entity = serde_json::from_str(&stored).unwrap();
            assert_eq!(read, entity);
            assert_eq!(read.kind(), kind);
            // What was read can be sent back.
            let again = parse(kind, serde_json::from_str(&stored).unwrap()).unwrap();
            assert_eq!(again, entity.details);
        }
    }

    #[test]
    fn every_problem_is_reported_with_its_pointer() {
        let errors = parse(
            EntityKind::Campaign,
            json!({"slug": "Bad Slug", "type": "platform", "platforms": ["a", "a"],
                   "period": {"start": "2024-02-01T00:00:00Z", "end": "2024-01-01T00:00:00Z"}}),
        )
        .unwrap_err();
        let pointers: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            pointers,
            ["/type", "/slug", "/name", "/period/end", "/platforms/1"]
        );

        let errors = parse(
            EntityKind::Platform,
            json!({"slug": "x", "name": "X", "colour": "red"}),
        )
        .unwrap_err();
        assert!(errors[0].1.contains("unknown field `colour`"), "{errors:?}");
        let errors = parse(EntityKind::Platform, json!({"slug": "x", "name": "X"})).unwrap_err();
        assert!(
            errors[0].1.contains("missing field `platform_type`"),
            "{errors:?}"
        );
        let errors = parse(EntityKind::Instrument, json!({"slug": "x", "name": 3})).unwrap_err();
        assert_eq!(
            errors,
            [("/name".to_owned(), "must be a string".to_owned())]
        );
        assert!(parse(EntityKind::Domain, json!([1])).is_err());
    }

    #[test]
    fn references_name_their_fields() {
        let draft = parse(
            EntityKind::Instrument,
            json!({"slug": "ctd-1", "name": "CTD", "mounted_on": [{"platform": "rv-a"}, {"platform": "glider-7"}]}),
        )
        .unwrap();
        let references: Vec<_> = draft
            .facts
            .references()
            .into_iter()
            .map(|(kind, slug, at)| (kind, slug.to_string(), at))
            .collect();
        assert_eq!(
            references,
            [
                (
                    EntityKind::Platform,
                    "rv-a".to_owned(),
                    "/mounted_on/0/platform".to_owned()
                ),
                (
                    EntityKind::Platform,
                    "glider-7".to_owned(),
                    "/mounted_on/1/platform".to_owned()
                ),
            ]
        );
        for kind in EntityKind::ALL {
            assert_eq!(EntityKind::parse(kind.as_str()), Some(kind));
            assert_eq!(EntityKind::from_collection(kind.collection()), Some(kind));
        }
    }
}
