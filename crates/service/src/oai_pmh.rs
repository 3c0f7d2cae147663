//! OAI-PMH's lists as a use case (what others harvest from here; `Harvesting` is the other way): the datasets a caller may harvest and the deletions
//! they may learn of, in order of change, page by page. Pages are resumed by stateless tokens that
//! carry the request and the position, signed with a key every replica shares, so any replica
//! resumes any page, and a token cannot be altered or reused past its expiry.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fathom_model::{Dataset, Policy, Principal};
use fathom_store::{HarvestFilter, Harvested, Store, StoreError, Tombstone};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::access;
use crate::error::ServiceError;

/// How long a resumption token may be used.
pub const RESUMPTION_LIFETIME: Duration = Duration::hours(24);
const SECRET_NAME: &str = "oai-resumption-token";

/// What a harvester asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OaiQuery {
    /// The metadata format, carried for the pages that follow.
    #[serde(rename = "m")]
    pub format: String,
    #[serde(rename = "o")]
    pub organisation: Option<String>,
    #[serde(rename = "f", with = "time::serde::timestamp::option")]
    pub from: Option<OffsetDateTime>,
    /// Exclusive.
    #[serde(rename = "u", with = "time::serde::timestamp::option")]
    pub until: Option<OffsetDateTime>,
}

/// A harvested record: a dataset, or the trace of one deleted.
#[derive(Debug, Clone)]
pub enum OaiItem {
    Live(Box<Dataset>),
    Deleted(Tombstone),
}

/// One page of a harvest.
#[derive(Debug, Clone)]
pub struct OaiPage {
    pub query: OaiQuery,
    pub items: Vec<OaiItem>,
    /// Records in the pages before this one.
    pub cursor: u64,
    /// Records in the whole list, as counted when it began.
    pub complete_list_size: u64,
    /// The token of the next page, and when it expires; none on the last page.
    pub next: Option<(String, OffsetDateTime)>,
}

/// Why a resumption token is refused.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    #[error("the resumption token is not one this repository issued")]
    Forged,
    #[error("the resumption token expired; harvest again from the start or from a date")]
    Expired,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// What a token carries.
#[derive(Debug, Serialize, Deserialize)]
struct Resumption {
    #[serde(rename = "q")]
    query: OaiQuery,
    /// The last record's change time (microseconds) and id.
    #[serde(rename = "a")]
    after: (i64, Uuid),
    #[serde(rename = "c")]
    cursor: u64,
    #[serde(rename = "n")]
    complete_list_size: u64,
    #[serde(rename = "e")]
    expires: i64,
}

/// Records per page of a harvest unless configured otherwise.
pub const DEFAULT_OAI_PAGE: u32 = 500;

#[derive(Debug, Clone)]
pub struct OaiPmh {
    store: Store,
    policy: Arc<Policy>,
    key: Arc<OnceCell<Vec<u8>>>,
    page_size: u32,
}

impl OaiPmh {
    pub(crate) fn new(store: Store, policy: Arc<Policy>) -> Self {
        Self {
            store,
            policy,
            key: Arc::default(),
            page_size: DEFAULT_OAI_PAGE,
        }
    }

    /// Pages of at most `page_size` records (at least one).
    pub(crate) fn with_page_size(self, page_size: u32) -> Self {
        Self {
            page_size: page_size.max(1),
            ..self
        }
    }

    /// The first page of `query`.
    pub async fn begin(
        &self,
        reader: Option<&Principal>,
        query: OaiQuery,
    ) -> Result<OaiPage, ServiceError> {
        let filter = self.filter(reader, &query);
        let (live, tombstones) = self
            .store
            .harvest_extent(&filter)
            .await
            .map_err(ServiceError::Internal)?;
        let subject = access::subject_of(&self.policy, reader);
        let deletions = tombstones
            .iter()
            .filter(|t| self.policy.subject_may_read(&subject, &t.label))
            .count();
        let complete_list_size = live + deletions as u64;
        self.page(reader, query, None, 0, complete_list_size).await
    }

    /// The page a resumption token names.
    pub async fn resume(
        &self,
        reader: Option<&Principal>,
        token: &str,
    ) -> Result<OaiPage, ResumeError> {
        let key = self.key().await?;
        let resumption = open_token(&key, token)?;
        if OffsetDateTime::now_utc().unix_timestamp() > resumption.expires {
            return Err(ResumeError::Expired);
        }
        let (micros, id) = resumption.after;
        let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
            .map_err(|_| ResumeError::Forged)?;
        Ok(self
            .page(
                reader,
                resumption.query,
                Some((at, id)),
                resumption.cursor,
                resumption.complete_list_size,
            )
            .await?)
    }

    /// One record by its id: the dataset if the reader may see it, else its deletion if they may
    /// learn of it; `None` otherwise, exactly as for an id that never existed.
    pub async fn record(
        &self,
        reader: Option<&Principal>,
        id: Uuid,
    ) -> Result<Option<OaiItem>, ServiceError> {
        let subject = access::subject_of(&self.policy, reader);
        match self.store.dataset(&fathom_store::RecordKey::Id(id)).await {
            Ok(dataset)
                if self
                    .policy
                    .may_read_dataset(&subject, id, &dataset.metadata.security_label) =>
            {
                return Ok(Some(OaiItem::Live(Box::new(dataset))));
            }
            Ok(_) | Err(StoreError::NotFound) => {}
            Err(error) => return Err(ServiceError::Internal(error)),
        }
        let tombstone = self
            .store
            .tombstone(id)
            .await
            .map_err(ServiceError::Internal)?;
        Ok(tombstone
            .filter(|t| self.policy.subject_may_read(&subject, &t.label))
            .map(OaiItem::Deleted))
    }

    /// When the oldest change a harvester can ask for happened (now, for an empty catalogue).
    pub async fn earliest_change(&self) -> Result<OffsetDateTime, ServiceError> {
        let first = self
            .store
            .harvest(&HarvestFilter::default(), None, 1)
            .await
            .map_err(ServiceError::Internal)?;
        Ok(first
            .first()
            .map_or_else(OffsetDateTime::now_utc, |h| h.position().0))
    }

    fn filter(&self, reader: Option<&Principal>, query: &OaiQuery) -> HarvestFilter {
        HarvestFilter {
            organisation: query.organisation.clone(),
            from: query.from,
            until: query.until,
            readable: access::readable(&self.policy, reader),
        }
    }

    /// Up to a page of records the reader may see after `after`, and whether any follow. Deletions
    /// the reader may not learn of are skipped here (the store does not judge labels of the dead).
    async fn page(
        &self,
        reader: Option<&Principal>,
        query: OaiQuery,
        after: Option<(OffsetDateTime, Uuid)>,
        cursor: u64,
        complete_list_size: u64,
    ) -> Result<OaiPage, ServiceError> {
        let limit = self.page_size;
        let filter = self.filter(reader, &query);
        let subject = access::subject_of(&self.policy, reader);
        let mut items = Vec::new();
        let mut position = after;
        let mut last_kept = after;
        let mut more = false;
        'fetch: loop {
            let batch = self
                .store
                .harvest(&filter, position, limit + 1)
                .await
                .map_err(ServiceError::Internal)?;
            let exhausted = batch.len() <= limit as usize;
            for harvested in batch {
                position = Some(harvested.position());
                let item = match harvested {
                    Harvested::Live(record) => {
                        let dataset: Dataset =
                            serde_json::from_str(record.json.get()).map_err(|e| {
                                ServiceError::Internal(StoreError::Corrupt(e.to_string()))
                            })?;
                        OaiItem::Live(Box::new(dataset))
                    }
                    Harvested::Deleted(tombstone) => {
                        if !self.policy.subject_may_read(&subject, &tombstone.label) {
                            continue;
                        }
                        OaiItem::Deleted(tombstone)
                    }
                };
                if items.len() == limit as usize {
                    more = true;
                    break 'fetch;
                }
                last_kept = position;
                items.push(item);
            }
            if exhausted {
                break;
            }
        }
        let next = match (more, last_kept) {
            (true, Some((at, id))) => {
                let expires = OffsetDateTime::now_utc() + RESUMPTION_LIFETIME;
                let resumption = Resumption {
                    query: query.clone(),
                    after: (micros(at), id),
                    cursor: cursor + items.len() as u64,
                    complete_list_size,
                    expires: expires.unix_timestamp(),
                };
                Some((seal_token(&self.key().await?, &resumption), expires))
            }
            _ => None,
        };
        Ok(OaiPage {
            query,
            items,
            cursor,
            complete_list_size,
            next,
        })
    }

    /// The signing key, made once for all replicas and kept in the database.
    async fn key(&self) -> Result<Vec<u8>, ServiceError> {
        self.key
            .get_or_try_init(|| async {
                let mut fresh = [0_u8; 32];
                getrandom::fill(&mut fresh)
                    .map_err(|e| ServiceError::Fault(format!("no randomness available: {e}")))?;
                self.store
                    .server_secret(SECRET_NAME, &fresh)
                    .await
                    .map_err(ServiceError::Internal)
            })
            .await
            .cloned()
    }
}

fn micros(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

type Signer = Hmac<Sha256>;

/// `payload.signature`, both base64url: the JSON of the resumption and its truncated HMAC-SHA256.
fn seal_token(key: &[u8], resumption: &Resumption) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(resumption).unwrap_or_default());
    format!(
        "{payload}.{}",
        URL_SAFE_NO_PAD.encode(signature(key, &payload))
    )
}

fn open_token(key: &[u8], token: &str) -> Result<Resumption, ResumeError> {
    let (payload, signed) = token.split_once('.').ok_or(ResumeError::Forged)?;
    let signed = URL_SAFE_NO_PAD
        .decode(signed)
        .map_err(|_| ResumeError::Forged)?;
    let mut mac = Signer::new_from_slice(key).map_err(|_| ResumeError::Forged)?;
    mac.update(payload.as_bytes());
    mac.verify_truncated_left(&signed)
        .map_err(|_| ResumeError::Forged)?;
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| ResumeError::Forged)?;
    serde_json::from_slice(&json).map_err(|_| ResumeError::Forged)
}

fn signature(key: &[u8], payload: &str) -> Vec<u8> {
    let Ok(mut mac) = Signer::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(payload.as_bytes());
    mac.finalize().into_bytes()[..16].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resumption() -> Resumption {
        Resumption {
            query: OaiQuery {
                format: "oai_dc".into(),
                organisation: Some("cmre".into()),
                from: None,
                until: Some(OffsetDateTime::UNIX_EPOCH),
            },
            after: (1_700_000_000_000_000, Uuid::nil()),
            cursor: 100,
            complete_list_size: 250,
            expires: 2_000_000_000,
        }
    }

    #[test]
    fn tokens_open_with_their_key_only_and_resist_tampering() {
        let token = seal_token(b"key one", &resumption());
        let opened = open_token(b"key one", &token).unwrap();
        assert_eq!((opened.cursor, opened.query), (100, resumption().query));
        assert!(matches!(
            open_token(b"key two", &token),
            Err(ResumeError::Forged)
        ));
        let (payload, signature) = token.split_once('.').unwrap();
        let mut altered = resumption();
        altered.cursor = 0;
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&altered).unwrap());
        assert_ne!(forged_payload, payload);
        let forged = format!("{forged_payload}.{signature}");
        assert!(matches!(
            open_token(b"key one", &forged),
            Err(ResumeError::Forged)
        ));
        for garbage in ["", ".", "abc", "abc.def", &format!("{payload}.")] {
            assert!(
                matches!(open_token(b"key one", garbage), Err(ResumeError::Forged)),
                "{garbage}"
            );
        }
    }
}
