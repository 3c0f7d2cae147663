//! Organisations, the publishers of datasets. `Store`'s methods on them; the SQL is in
//! `repository/organisations.rs`.

use super::*;

impl Store {
    pub async fn insert_organisation(
        &self,
        organisation: &Organisation,
        actor: &str,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.insert_organisation(organisation, actor).await)
    }

    /// Replaces the organisation if it is still at `expected_revision`.
    pub async fn update_organisation(
        &self,
        organisation: &Organisation,
        expected_revision: i64,
        actor: &str,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.update_organisation(organisation, expected_revision, actor).await)
    }

    /// Deletes the organisation if it is still at `expected_revision` and publishes no dataset.
    pub async fn delete_organisation(
        &self,
        id: Uuid,
        expected_revision: i64,
        actor: &str,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.delete_organisation(id, expected_revision, actor).await)
    }

    pub async fn organisation(&self, key: &RecordKey) -> StoreResult<Organisation> {
        dispatch!(self, r => r.organisation(key).await)
    }

    pub async fn organisations(&self, page: PageRequest) -> StoreResult<Vec<Organisation>> {
        dispatch!(self, r => r.organisations(page).await)
    }

    /// Every organisation by slug, a page of 1,000 at a time (a catalogue has few).
    pub async fn organisations_by_slug(
        &self,
    ) -> StoreResult<std::collections::HashMap<String, Organisation>> {
        const PAGE: u32 = 1000;
        let mut by_slug = std::collections::HashMap::new();
        let mut after = None;
        loop {
            let page = self
                .organisations(PageRequest { after, limit: PAGE })
                .await?;
            let full = page.len() == PAGE as usize;
            after = page.last().map(|last| Position::Id(last.id));
            by_slug.extend(page.into_iter().map(|o| (o.details.slug.to_string(), o)));
            // A page short of the limit is the last.
            if !full {
                break;
            }
        }
        Ok(by_slug)
    }
}
