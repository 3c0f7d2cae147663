//! A data sharing agreement as an ODRL 2.2 `Agreement` in JSON-LD. The context is written inline, so
//! a JSON-LD processor reads the document without fetching anything.
//!
//! The provider is the `assigner`, the recipients the `assignee`s. Each rule has one target and one
//! action, as ODRL asks: for every dataset, a permission to `use` it (constrained to the purpose and
//! the agreement's period, carrying the duties: `attribute`, `delete` by a date, `inform` of each
//! use), a permission per further action allowed (`reproduce`, `derive`, `aggregate`), and a
//! prohibition per action forbidden (`distribute`, `commercialize`).

use fathom_model::{Agreement, Permitted, Prohibited};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::dcat::Site;

/// The media type of the document.
pub const MEDIA_TYPE: &str = "application/ld+json";

/// The agreement's address, its ODRL `uid`.
pub fn agreement_iri(site: &Site, agreement: &Agreement) -> String {
    format!("{}/api/v1/agreements/{}", site.base, agreement.id)
}

/// The agreement as an ODRL `Agreement`.
pub fn agreement(agreement: &Agreement, site: &Site) -> Value {
    let organisation = |slug: &str| format!("{}/api/v1/organisations/{slug}", site.base);
    let datetime = |at: OffsetDateTime| json!({"@value": at.format(&Rfc3339).unwrap_or_default(), "@type": "xsd:dateTime"});
    let terms = &agreement.terms;
    let mut duties = Vec::new();
    if let Some(text) = &terms.attribution {
        duties.push(json!({"action": "attribute", "description": text}));
    }
    if let Some(at) = terms.delete_by {
        duties.push(json!({"action": "delete", "constraint": [
            {"leftOperand": "dateTime", "operator": "lteq", "rightOperand": datetime(at)},
        ]}));
    }
    if let Some(whom) = &terms.notify {
        let party = if whom.contains('@') && !whom.contains(':') {
            format!("mailto:{whom}")
        } else {
            whom.clone()
        };
        duties.push(json!({"action": "inform", "informedParty": party}));
    }
    let constraints = json!([
        {"leftOperand": "purpose", "operator": "eq", "rightOperand": terms.purpose},
        {"leftOperand": "dateTime", "operator": "gteq", "rightOperand": datetime(agreement.period.start)},
        {"leftOperand": "dateTime", "operator": "lt", "rightOperand": datetime(agreement.period.end)},
    ]);
    let mut permissions = Vec::new();
    let mut prohibitions = Vec::new();
    for dataset in &agreement.datasets {
        let target = site.dataset_iri(*dataset);
        let mut using = json!({"target": target, "action": "use", "constraint": constraints});
        if !duties.is_empty() {
            using["duty"] = Value::Array(duties.clone());
        }
        permissions.push(using);
        for permitted in &terms.permitted {
            let action = match permitted {
                Permitted::Reproduce => "reproduce",
                Permitted::Derive => "derive",
                Permitted::Aggregate => "aggregate",
            };
            permissions
                .push(json!({"target": target, "action": action, "constraint": constraints}));
        }
        for prohibited in &terms.prohibited {
            let action = match prohibited {
                Prohibited::Distribute => "distribute",
                Prohibited::Commercialize => "commercialize",
            };
            prohibitions.push(json!({"target": target, "action": action}));
        }
    }
    let mut document = json!({
        "@context": context(),
        "uid": agreement_iri(site, agreement),
        "type": "Agreement",
        "title": agreement.title,
        "assigner": organisation(agreement.provider.as_str()),
        "assignee": agreement.recipients.iter().map(|r| organisation(r.as_str())).collect::<Vec<_>>(),
        "permission": permissions,
    });
    if !prohibitions.is_empty() {
        document["prohibition"] = Value::Array(prohibitions);
    }
    document
}

/// The terms used, mapped to ODRL (and Dublin Core for the title and descriptions).
fn context() -> Value {
    let mut context = json!({
        "odrl": "http://www.w3.org/ns/odrl/2/",
        "dct": "http://purl.org/dc/terms/",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "uid": "@id",
        "type": "@type",
        "Agreement": "odrl:Agreement",
        "title": "dct:title",
        "description": "dct:description",
        "assigner": {"@id": "odrl:assigner", "@type": "@id"},
        "assignee": {"@id": "odrl:assignee", "@type": "@id"},
        "informedParty": {"@id": "odrl:informedParty", "@type": "@id"},
        "target": {"@id": "odrl:target", "@type": "@id"},
        "action": {"@id": "odrl:action", "@type": "@vocab"},
        "leftOperand": {"@id": "odrl:leftOperand", "@type": "@vocab"},
        "operator": {"@id": "odrl:operator", "@type": "@vocab"},
        "rightOperand": "odrl:rightOperand",
        "permission": {"@id": "odrl:permission", "@container": "@set"},
        "prohibition": {"@id": "odrl:prohibition", "@container": "@set"},
        "duty": {"@id": "odrl:duty", "@container": "@set"},
        "constraint": {"@id": "odrl:constraint", "@container": "@set"},
    });
    for term in [
        "use",
        "reproduce",
        "derive",
        "aggregate",
        "distribute",
        "commercialize",
        "attribute",
        "delete",
        "inform",
        "purpose",
        "dateTime",
        "eq",
        "lt",
        "lteq",
        "gteq",
    ] {
        context[term] = Value::String(format!("odrl:{term}"));
    }
    context
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use fathom_model::{AgreementState, Period, Slug, Terms};
    use oxrdf::{NamedNodeRef, Term};
    use oxrdfio::{RdfFormat, RdfParser};
    use uuid::Uuid;

    use super::*;

    const ODRL: &str = "http://www.w3.org/ns/odrl/2/";

    #[test]
    fn an_agreement_reads_as_odrl_rdf() {
        let start = OffsetDateTime::UNIX_EPOCH;
        let datasets = vec![Uuid::from_u128(1), Uuid::from_u128(2)];
        let agreement = Agreement {
            id: Uuid::from_u128(9),
            title: "Sonar data for the joint exercise".into(),
            provider: Slug::parse("cmre").unwrap(),
            recipients: vec![Slug::parse("ffi").unwrap()],
            datasets: datasets.clone(),
            period: Period {
                start,
                end: start + time::Duration::days(90),
            },
            terms: Terms {
                purpose: "joint exercise".into(),
                permitted: vec![Permitted::Derive],
                prohibited: vec![Prohibited::Distribute],
                attribution: Some("Data: CMRE".into()),
                delete_by: Some(start + time::Duration::days(120)),
                notify: Some("data@cmre.example.org".into()),
            },
            state: AgreementState::Active,
            signatures: Vec::new(),
            history: Vec::new(),
            grants: Vec::new(),
            released: Vec::new(),
            revision: 3,
            created_at: start,
            updated_at: start,
        };
        let site = Site::default();
        let document = super::agreement(&agreement, &site).to_string();
        let quads: Vec<_> = RdfParser::from_format(RdfFormat::JsonLd {
            profile: Default::default(),
        })
        .for_slice(document.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
        let iri = |term: &Term| match term {
            Term::NamedNode(node) => node.as_str().to_owned(),
            other => other.to_string(),
        };
        let objects = |predicate: &str| -> Vec<String> {
            quads
                .iter()
                .filter(|q| q.predicate.as_str() == format!("{ODRL}{predicate}"))
                .map(|q| iri(&q.object))
                .collect()
        };
        let me = agreement_iri(&site, &agreement);
        assert!(
            quads
                .iter()
                .any(|q| q.subject.to_string() == format!("<{me}>")
                    && q.predicate
                        == NamedNodeRef::new_unchecked(
                            "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
                        )
                    && iri(&q.object) == format!("{ODRL}Agreement"))
        );
        assert_eq!(
            objects("assigner"),
            [format!("{}/api/v1/organisations/cmre", site.base)]
        );
        assert_eq!(
            objects("assignee"),
            [format!("{}/api/v1/organisations/ffi", site.base)]
        );
        // Per dataset: use and derive; a prohibition to distribute; duties on the use.
        assert_eq!(objects("permission").len(), 4);
        assert_eq!(objects("prohibition").len(), 2);
        let actions: BTreeSet<String> = objects("action").into_iter().collect();
        let expected: BTreeSet<String> = [
            "use",
            "derive",
            "distribute",
            "attribute",
            "delete",
            "inform",
        ]
        .map(|a| format!("{ODRL}{a}"))
        .into();
        assert_eq!(actions, expected);
        let targets: BTreeSet<String> = objects("target").into_iter().collect();
        assert_eq!(
            targets,
            datasets.iter().map(|d| site.dataset_iri(*d)).collect()
        );
        assert!(objects("informedParty").contains(&"mailto:data@cmre.example.org".to_owned()));
        // Every rule has exactly one target and one action.
        for rule in objects("permission")
            .into_iter()
            .chain(objects("prohibition"))
        {
            let of = |predicate: &str| {
                quads
                    .iter()
                    .filter(|q| {
                        q.subject.to_string() == rule
                            && q.predicate.as_str() == format!("{ODRL}{predicate}")
                    })
                    .count()
            };
            assert_eq!((of("target"), of("action")), (1, 1), "{rule}");
        }
    }
}
