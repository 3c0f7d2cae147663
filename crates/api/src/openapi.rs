//! The OpenAPI document: what the routes declare, completed with what the layers around them answer,
//! the problem types, the formats offered, and parameter schemas as strict as their parsers.

use std::sync::Arc;

use axum::Router;
use fathom_formats::{Format, Writer};
use fathom_model::Slug;
use utoipa::OpenApi;

use crate::problem::PROBLEM_JSON;
use crate::{AppState, Problem, negotiate, routes};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Fathom API",
        description = "The catalogue of datasets of maritime research. Errors are RFC 9457 problem documents; lists are keyset-paginated; writes need a bearer token.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    modifiers(&BearerAuth),
    components(schemas(Problem)),
    tags(
        (name = "organisations", description = "Publishers of datasets"),
        (name = "datasets", description = "Datasets, their distributions and their history"),
        (name = "domain model", description = "Data domains, projects, campaigns, platforms, instruments and observed properties: `/api/v1/domains`, `/api/v1/projects`, `/api/v1/campaigns`, `/api/v1/platforms`, `/api/v1/instruments`, `/api/v1/observed-properties`"),
        (name = "profiles", description = "Metadata profiles: versioned JSON Schema documents datasets conform to"),
        (name = "vocabularies", description = "Controlled vocabularies: SKOS concept schemes, their concepts, autocomplete"),
        (name = "search", description = "Full-text, faceted, spatial and temporal search"),
        (name = "security", description = "The security policy of labels"),
        (name = "sharing", description = "Data sharing workflows: access requests and their approval chains, grants, the inbox, the audit log"),
        (name = "ogcapi", description = "OGC API - Records, Part 1"),
        (name = "standards", description = "The catalogue in the standards of other catalogues: DCAT-AP, ISO 19139, OAI-PMH; imports"),
        (name = "events", description = "The contract of the events sent to brokers (AsyncAPI)"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
struct ApiDoc;

struct BearerAuth;

/// The operations of a path.
pub(crate) fn operations_mut(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
        &mut item.head,
    ]
    .into_iter()
    .flatten()
}

/// Every operation lists the statuses the layers around it and its kind of input can answer
/// with, besides its own: any request may be refused as a bad request (400), for a bad token
/// (401), a rate limit (429) or a fault (500); one with a body for its size (413), media type
/// (415) or fields (422); one behind a token for the caller's permission (403); one with a path
/// parameter for a record not found (404); one with `If-Match` for a stale (412) or missing (428)
/// revision. Each is a problem document.
struct LayerResponses;

impl utoipa::Modify for LayerResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let problem = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        PROBLEM_JSON,
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build(),
            )
        };
        for item in openapi.paths.paths.values_mut() {
            for operation in operations_mut(item) {
                let parameters: Vec<_> = operation
                    .parameters
                    .iter()
                    .flatten()
                    .filter_map(|p| match p {
                        RefOr::T(p) => Some((p.parameter_in.clone(), p.name.to_ascii_lowercase())),
                        RefOr::Ref(_) => None,
                    })
                    .collect();
                let has = |place: ParameterIn| parameters.iter().any(|(p, _)| *p == place);
                let mut statuses = vec![
                    ("400", "The request cannot be read"),
                    ("401", "The bearer token is unknown, expired or revoked"),
                    ("429", "Over a rate limit"),
                    ("500", "A fault of the server"),
                ];
                if operation.request_body.is_some() {
                    statuses.extend([
                        ("413", "The body is too large"),
                        ("415", "The body's media type is not read here"),
                        ("422", "Invalid fields"),
                    ]);
                }
                if operation.security.is_some() {
                    statuses.push(("403", "The caller may not do this"));
                }
                if has(ParameterIn::Path) {
                    statuses.push(("404", "Not found, or not visible to the caller"));
                }
                if parameters.iter().any(|(_, name)| name == "if-match") {
                    statuses.extend([
                        ("412", "`If-Match` names a stale revision"),
                        ("428", "`If-Match` is required"),
                    ]);
                }
                for (status, description) in statuses {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| problem(description));
                }
            }
        }
    }
}

/// The `Problem` schema's `type` names its values: every code of the one table, with the table in
/// its description.
struct ProblemTypes;

impl utoipa::Modify for ProblemTypes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{Object, Schema, Type};
        use utoipa::openapi::{RefOr, schema::ObjectBuilder};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let Some(RefOr::T(Schema::Object(problem))) = components.schemas.get_mut("Problem") else {
            return;
        };
        let types: Vec<String> = fathom_service::Code::ALL.iter().map(|c| c.uri()).collect();
        let kind: Object = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(types))
            .description(Some(format!(
                "The kind of problem: one `type` per kind of failure, stable for clients to branch on.\n\n{}",
                fathom_service::Code::markdown_table()
            )))
            .build();
        problem
            .properties
            .insert("type".to_owned(), RefOr::T(Schema::Object(kind)));
    }
}

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        }
    }
}

/// The OpenAPI document of the API, as served at [`crate::OPENAPI_PATH`].
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes_and_document().1
}

/// The routes and their OpenAPI document, completed with the statuses of the layers around them
/// (which know no route, so they are added once the routes are in).
pub(crate) fn routes_and_document() -> (Router<Arc<AppState>>, utoipa::openapi::OpenApi) {
    let (routes, mut document) = routes::router(ApiDoc::openapi()).split_for_parts();
    utoipa::Modify::modify(&LayerResponses, &mut document);
    utoipa::Modify::modify(&OfferedFormats, &mut document);
    utoipa::Modify::modify(&SharedParameters, &mut document);
    utoipa::Modify::modify(&EntityInputs, &mut document);
    utoipa::Modify::modify(&FlattenedFacts, &mut document);
    utoipa::Modify::modify(&MergePatches, &mut document);
    utoipa::Modify::modify(&CreateLinks, &mut document);
    utoipa::Modify::modify(&WrittenElsewhere, &mut document);
    // After the routes too, which bring their own copy of the `Problem` schema.
    utoipa::Modify::modify(&ProblemTypes, &mut document);
    (routes, document)
}

/// The parameters many operations share, described as strictly as their parsers read them:
/// `as_of` and `modified_since` (a date or an RFC 3339 instant) and
/// `Idempotency-Key` (`extract::IdempotencyKey`: 1 to 255 visible ASCII characters), and a
/// profile's name (a slug).
struct SharedParameters;

impl utoipa::Modify for SharedParameters {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::{
            AnyOfBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
        };
        let string = || ObjectBuilder::new().schema_type(Type::String);
        let as_of: RefOr<Schema> = AnyOfBuilder::new()
            .item(string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))))
            .item(string().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))))
            .into();
        let idempotency_key: RefOr<Schema> = string()
            .pattern(Some("^[!-~]{1,255}$"))
            .min_length(Some(1))
            .max_length(Some(255))
            .into();
        for item in openapi.paths.paths.values_mut() {
            for operation in operations_mut(item) {
                for parameter in operation.parameters.iter_mut().flatten() {
                    let RefOr::T(parameter) = parameter else {
                        continue;
                    };
                    match parameter.name.as_str() {
                        "as_of" | "modified_since" => parameter.schema = Some(as_of.clone()),
                        "Idempotency-Key" => parameter.schema = Some(idempotency_key.clone()),
                        "profile" => parameter.schema = Some(Slug::schema().into()),
                        _ => {}
                    }
                }
            }
        }
    }
}

/// Every operation that honours `Idempotency-Key` may answer a retry `303 See Other`: its first attempt
/// wrote a record, then its replica died before answering (`routes::see_written`).
struct WrittenElsewhere;

impl utoipa::Modify for WrittenElsewhere {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::header::HeaderBuilder;
        use utoipa::openapi::response::ResponseBuilder;
        let see_other = ResponseBuilder::new()
            .description(
                "A retry whose first attempt wrote a record, then stopped with its replica before \
                 answering: the record is at `Location`",
            )
            .header("Location", HeaderBuilder::new().build())
            .build();
        for item in openapi.paths.paths.values_mut() {
            for operation in operations_mut(item) {
                let idempotent = operation.parameters.iter().flatten().any(
                    |parameter| matches!(parameter, RefOr::T(p) if p.name == "Idempotency-Key"),
                );
                if idempotent {
                    operation
                        .responses
                        .responses
                        .insert("303".to_owned(), see_other.clone().into());
                }
            }
        }
    }
}

/// Each kind of entity's facts are flattened into the entity (`type` names the kind), so their
/// schemas allow the entity's other properties; `deny_unknown_fields`, which refuses unknown fields
/// in a body, would otherwise make every entity invalid against `Facts`.
struct FlattenedFacts;

impl utoipa::Modify for FlattenedFacts {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::Schema;
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for kind in [
            "DomainFacts",
            "ProjectFacts",
            "CampaignFacts",
            "PlatformFacts",
            "InstrumentFacts",
            "ObservedPropertyFacts",
        ] {
            if let Some(RefOr::T(Schema::Object(facts))) = components.schemas.get_mut(kind) {
                facts.additional_properties = None;
            }
        }
    }
}

/// A JSON Merge Patch (RFC 7396) of a dataset or an organisation names some of the fields its input
/// has, each with the value it takes (`null` removes an optional one): the input's schema with no
/// field required, as `DatasetPatch` and `OrganisationPatch`.
struct MergePatches;

impl utoipa::Modify for MergePatches {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::Schema;
        use utoipa::openapi::{Ref, RefOr};
        for (path, input, patch) in [
            ("/api/v1/datasets/{key}", "DatasetInput", "DatasetPatch"),
            (
                "/api/v1/organisations/{key}",
                "OrganisationInput",
                "OrganisationPatch",
            ),
        ] {
            let Some(components) = openapi.components.as_mut() else {
                return;
            };
            let Some(RefOr::T(Schema::Object(mut schema))) = components.schemas.get(input).cloned()
            else {
                continue;
            };
            schema.required.clear();
            schema.description = Some(format!(
                "A JSON Merge Patch (RFC 7396) of {input}: the fields to change, `null` to remove one."
            ));
            components
                .schemas
                .insert(patch.to_owned(), RefOr::T(Schema::Object(schema)));
            let body = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| item.patch.as_mut())
                .and_then(|operation| operation.request_body.as_mut())
                .and_then(|body| match body {
                    RefOr::T(body) => body.content.get_mut("application/merge-patch+json"),
                    RefOr::Ref(_) => None,
                });
            if let Some(RefOr::T(content)) = body {
                content.schema = Some(RefOr::Ref(Ref::from_schema_name(patch)));
            }
        }
    }
}

/// OpenAPI links from each create (a `201` to a `POST` on a collection) to what the new record's
/// address serves: its read, update, delete, revisions, actions. The record's `id` (or the field a
/// parameter is named after, such as `username`) fills the path's parameter and its `ETag` fills
/// `If-Match`, so that a client, and the contract check's stateful phase, can follow them.
struct CreateLinks;

impl utoipa::Modify for CreateLinks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::link::LinkBuilder;
        let paths = &mut openapi.paths.paths;
        let collections: Vec<String> = paths
            .iter()
            .filter(|(_, item)| {
                item.post
                    .as_ref()
                    .is_some_and(|post| post.responses.responses.contains_key("201"))
            })
            .map(|(path, _)| path.clone())
            .collect();
        for collection in collections {
            let prefix = format!("{collection}/{{");
            let mut links = std::collections::BTreeMap::new();
            for (path, item) in paths.iter() {
                let Some(name) = path
                    .strip_prefix(&prefix)
                    .and_then(|rest| rest.split('}').next())
                else {
                    continue;
                };
                let field = if name == "key" { "id" } else { name };
                let operations = [&item.get, &item.put, &item.patch, &item.delete, &item.post];
                for operation in operations.into_iter().flatten() {
                    let Some(id) = &operation.operation_id else {
                        continue;
                    };
                    let mut link = LinkBuilder::new()
                        .operation_id(id)
                        .parameter(format!("path.{name}"), format!("$response.body#/{field}"));
                    let takes_if_match = operation.parameters.iter().flatten().any(
                        |p| matches!(p, RefOr::T(p) if p.name.eq_ignore_ascii_case("if-match")),
                    );
                    if takes_if_match {
                        link = link.parameter("header.If-Match", "$response.header.ETag");
                    }
                    links.insert(id.clone(), RefOr::T(link.build()));
                }
            }
            let created = paths
                .get_mut(&collection)
                .and_then(|item| item.post.as_mut())
                .and_then(|post| post.responses.responses.get_mut("201"));
            if let Some(RefOr::T(created)) = created {
                created.links.extend(links);
            }
        }
    }
}

/// Each collection of the domain model takes its own kind: `DomainInput`, `PlatformInput`, … are
/// that kind's facts with the slug, name, description and `type` every entity has (and the
/// read-only fields a client may send back), nothing else, as `EntityKind::parse_input` reads them.
struct EntityInputs;

impl utoipa::Modify for EntityInputs {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use fathom_model::EntityKind;
        use utoipa::openapi::schema::{
            AdditionalProperties, ObjectBuilder, Schema, SchemaType, Type,
        };
        use utoipa::openapi::{Ref, RefOr};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for kind in EntityKind::ALL {
            let camel: String = kind
                .as_str()
                .split('_')
                .map(|word| word[..1].to_uppercase() + &word[1..])
                .collect();
            let Some(RefOr::T(Schema::Object(facts))) =
                components.schemas.get(&format!("{camel}Facts")).cloned()
            else {
                continue;
            };
            let string = || ObjectBuilder::new().schema_type(Type::String);
            let mut input = ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some(format!(
                    "A {} as a client sends it; read-only fields are accepted and ignored.",
                    kind.as_str().replace('_', " ")
                )))
                .property("type", string().enum_values(Some([kind.as_str()])))
                .property("slug", Slug::schema())
                .required("slug")
                .property("name", string().min_length(Some(1)).max_length(Some(300)))
                .required("name")
                .property("description", string())
                .additional_properties(Some(AdditionalProperties::FreeForm(false)));
            for read_only in ["id", "revision", "created_at", "updated_at"] {
                let any = ObjectBuilder::new().schema_type(SchemaType::AnyValue);
                input = input.property(read_only, any.read_only(true));
            }
            let mut input = input.build();
            input.properties.extend(facts.properties);
            let name = format!("{camel}Input");
            components
                .schemas
                .insert(name.clone(), RefOr::T(Schema::Object(input)));
            let prefix = kind.collection().replace('-', "_");
            for item in openapi.paths.paths.values_mut() {
                for operation in [&mut item.post, &mut item.put].into_iter().flatten() {
                    let ours = operation.operation_id.as_deref().is_some_and(|id| {
                        id == format!("{prefix}_create") || id == format!("{prefix}_replace")
                    });
                    let body = operation.request_body.as_mut().and_then(|body| match body {
                        RefOr::T(body) => body.content.get_mut("application/json"),
                        RefOr::Ref(_) => None,
                    });
                    if let (true, Some(RefOr::T(content))) = (ours, body) {
                        content.schema = Some(RefOr::Ref(Ref::from_schema_name(&name)));
                    }
                }
            }
        }
    }
}

/// The formats of `datasets_read` and `catalog_read` in the OpenAPI document, from the formats' list (`negotiate::record`, `negotiate::catalogue`): the
/// values of their `format` parameter and the media types of their answer.
struct OfferedFormats;

impl utoipa::Modify for OfferedFormats {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, SchemaType, Type};
        use utoipa::openapi::{Content, RefOr};
        let operations: [(&str, Vec<&Format>); 2] = [
            ("/api/v1/datasets/{key}", negotiate::record().collect()),
            ("/api/v1/catalog", negotiate::catalogue().collect()),
        ];
        for (path, offered) in operations {
            let Some(operation) = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| item.get.as_mut())
            else {
                continue;
            };
            let names: Vec<_> = offered.iter().map(|format| format.name).collect();
            for parameter in operation.parameters.iter_mut().flatten() {
                if let RefOr::T(parameter) = parameter
                    && parameter.name == "format"
                {
                    parameter.schema = Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .enum_values(Some(names.clone()))
                            .into(),
                    );
                }
            }
            let Some(RefOr::T(ok)) = operation.responses.responses.get_mut("200") else {
                continue;
            };
            // Each media type's schema: Fathom's record as declared; a JSON format's document is any
            // JSON, the others' text; formats sharing a media type, any of theirs.
            let mut media_types: Vec<&str> = offered.iter().map(|f| f.media_type).collect();
            media_types.sort_unstable();
            media_types.dedup();
            for media_type in media_types {
                let declared = ok.content.get(media_type).and_then(|c| match c {
                    RefOr::T(content) => content.schema.clone(),
                    RefOr::Ref(_) => None,
                });
                let schemas: Vec<RefOr<Schema>> = offered
                    .iter()
                    .filter(|format| format.media_type == media_type)
                    .map(|format| match (format.writer, &declared) {
                        (Writer::Native, Some(declared)) => declared.clone(),
                        _ if media_type.ends_with("json") => ObjectBuilder::new()
                            .schema_type(SchemaType::AnyValue)
                            .into(),
                        _ => ObjectBuilder::new().schema_type(Type::String).into(),
                    })
                    .collect();
                let schema = match <[_; 1]>::try_from(schemas) {
                    Ok([one]) => one,
                    Err(several) => several
                        .into_iter()
                        .fold(AnyOfBuilder::new(), AnyOfBuilder::item)
                        .into(),
                };
                ok.content
                    .insert(media_type.to_owned(), RefOr::T(Content::new(Some(schema))));
            }
        }
    }
}
