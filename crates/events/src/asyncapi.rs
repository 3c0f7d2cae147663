//! The AsyncAPI 3.0 document of the events, generated from the event types `model` makes, so that
//! it cannot list an event that is never sent or miss one that is.

use fathom_model::{event_sources, event_types, summary_fields};
use serde_json::{Map, Value, json};

use crate::{CONTENT_TYPE, NatsTarget};

/// Where events are published: the names the document gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channels {
    pub exchange: String,
    pub stream: String,
    pub subject_prefix: String,
}

impl Default for Channels {
    fn default() -> Self {
        Self {
            exchange: crate::DEFAULT_EXCHANGE.to_owned(),
            stream: crate::DEFAULT_STREAM.to_owned(),
            subject_prefix: crate::DEFAULT_SUBJECT_PREFIX.to_owned(),
        }
    }
}

/// The AsyncAPI 3.0 document: one channel per event type on each broker, the messages they
/// carry, and the CloudEvent schema with each kind of record's data.
pub fn document(channels: &Channels) -> Value {
    let mut all_channels = Map::new();
    let mut operations = Map::new();
    let mut messages = Map::new();
    for (entity, kind, event_type) in event_types() {
        let message = format!("{entity}.{}", kind.as_str());
        messages.insert(
            message.clone(),
            json!({
                "name": event_type,
                "title": format!("A {entity} was {}", kind.as_str()),
                "contentType": CONTENT_TYPE,
                "payload": {"$ref": format!("#/components/schemas/{entity}Event")},
                "correlationId": {"location": "$message.payload#/subject"},
            }),
        );
        let reference = json!({"$ref": format!("#/components/messages/{message}")});
        let amqp = format!("amqp.{message}");
        all_channels.insert(
            amqp.clone(),
            json!({
                "address": event_type,
                "servers": [{"$ref": "#/servers/rabbitmq"}],
                "messages": {message.clone(): reference},
                "bindings": {"amqp": {
                    "is": "routingKey",
                    "exchange": {"name": channels.exchange, "type": "topic", "durable": true, "autoDelete": false, "vhost": "/"},
                    "bindingVersion": "0.3.0",
                }},
            }),
        );
        let nats = format!("nats.{message}");
        all_channels.insert(
            nats.clone(),
            json!({
                "address": NatsTarget::subject(&channels.subject_prefix, &event_type),
                "description": format!("On the JetStream stream `{}`; `Nats-Msg-Id` is the event's id.", channels.stream),
                "servers": [{"$ref": "#/servers/nats"}],
                "messages": {message.clone(): reference},
            }),
        );
        for channel in [amqp, nats] {
            operations.insert(
                format!("send.{channel}"),
                json!({
                    "action": "send",
                    "channel": {"$ref": format!("#/channels/{channel}")},
                    "messages": [{"$ref": format!("#/channels/{channel}/messages/{message}")}],
                }),
            );
        }
    }
    let mut schemas = Map::new();
    for (entity, _) in event_sources() {
        schemas.insert(format!("{entity}Event"), cloud_event_schema(entity));
    }
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "Fathom events",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "One CloudEvent 1.0 (structured JSON) per committed change of a record, \
                published at least once and in order per subject. Drop duplicates by `id`; order and \
                spot gaps by `sequence` (the record's revision). See docs/events.md.",
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "rabbitmq": {"host": "rabbitmq:5672", "protocol": "amqp", "protocolVersion": "0.9.1",
                "description": "The broker named by `amqp_url`."},
            "nats": {"host": "nats:4222", "protocol": "nats",
                "description": "The NATS server with JetStream named by `nats_url`."},
        },
        "channels": all_channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    })
}

/// The CloudEvent envelope with the data of events about records of kind `entity`.
fn cloud_event_schema(entity: &str) -> Value {
    let mut data = Map::new();
    for field in summary_fields(entity) {
        let schema = match *field {
            "id" => json!({"type": "string", "format": "uuid"}),
            "security_label" => {
                json!({"type": "object", "description": "The record's security label."})
            }
            "state" if entity == "dataset" || entity == "publication" => {
                json!({"type": "string", "enum": ["draft", "in_review", "published", "deprecated", "retired"]})
            }
            "state" if entity == "agreement" => json!({"type": "string", "enum": ["draft",
                "proposed", "active", "expired", "terminated"]}),
            "to" => json!({"type": "object", "description": "The label asked for."}),
            "state" => json!({"type": "string", "enum": ["submitted", "in_review", "returned",
                "approved", "rejected", "withdrawn", "expired"]}),
            "recipients" => json!({"type": "array", "items": {"type": "string"}}),
            "dataset" => json!({"type": "string", "format": "uuid"}),
            "deadline" => json!({"type": "string", "format": "date-time"}),
            "waiting_for" => json!({"type": "array", "items": {"type": "string"},
                "description": "Who must act next."}),
            "grantee" | "period" | "source" => json!({"type": "object"}),
            "working_copy" => {
                json!({"type": ["string", "null"], "enum": ["draft", "in_review", null],
                "description": "Where the dataset's working copy stands, if it has one."})
            }
            _ => json!({"type": "string"}),
        };
        data.insert((*field).to_owned(), schema);
    }
    data.insert(
        "revision".to_owned(),
        json!({"type": "integer", "minimum": 1}),
    );
    data.insert(
        "changed".to_owned(),
        json!({"type": "array", "items": {"type": "string"},
               "description": "The fields the change touched (updates and publications only)."}),
    );
    json!({
        "type": "object",
        "required": ["specversion", "id", "source", "type", "subject", "time", "datacontenttype", "sequence", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {"type": "string", "format": "uuid", "description": "The same on every redelivery."},
            "source": {"type": "string", "format": "uri-reference"},
            "type": {"type": "string"},
            "subject": {"type": "string", "format": "uuid", "description": "The record's id."},
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"const": "application/json"},
            "sequence": {"type": "string", "pattern": "^[0-9]{20}$",
                "description": "The record's revision after the change, zero-padded (CloudEvents sequence extension)."},
            "traceparent": {"type": "string",
                "description": "The W3C trace context of the request that made the change, when the server exports traces (distributed-tracing extension; also the `traceparent` header)."},
            "data": {"type": "object", "required": ["id", "revision"], "properties": data},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The contract is committed (`docs/asyncapi.json`), so that every change of it is seen in
    /// review: this fails when the code's differs; `FATHOM_UPDATE_DOCS=1` writes it.
    #[test]
    fn the_committed_document_matches_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/asyncapi.json");
        let generated =
            serde_json::to_string_pretty(&document(&Channels::default())).unwrap() + "\n";
        if std::env::var_os("FATHOM_UPDATE_DOCS").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/asyncapi.json differs from the code's document: run this test with FATHOM_UPDATE_DOCS=1 and review the change"
        );
    }

    #[test]
    fn every_event_type_has_a_channel_on_each_broker() {
        let document = document(&Channels::default());
        let channels = document["channels"].as_object().unwrap();
        for (_, _, event_type) in event_types() {
            assert!(
                channels
                    .values()
                    .any(|c| c["address"] == event_type.as_str())
            );
            let subject = NatsTarget::subject("fathom", &event_type);
            assert!(channels.values().any(|c| c["address"] == subject.as_str()));
        }
        let brokers = 2;
        assert_eq!(channels.len(), brokers * event_types().len());
        assert_eq!(
            document["operations"].as_object().unwrap().len(),
            channels.len()
        );
    }
}
