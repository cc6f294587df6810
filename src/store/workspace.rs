//! What the operator's page reads besides the list itself: the request an operator holds, a
//! cheap mark of the callback list that changes whenever the list does (the page's live updates
//! poll it, so every instance sees every other instance's changes), and the earlier contacts of
//! a callback number (its calls, voicemails and callback requests). Same SQL on both backends.

use super::calls::{CALL_COLS, CallRow};
use super::voicemails::{VM_COLS, VoicemailRow};
use super::{Call, CallbackRequest, StoreError, Voicemail};

/// Calls, voicemails and requests of one number shown at most.
pub const CONTACTS_LIMIT: i64 = 30;

/// A mark of the active callback list: equal marks mean nothing a list shows has changed
/// (requests added, claimed, released, closed, reordered, gaining or losing a message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListMark {
    pub active: i64,
    pub holders: i64,
    pub ranks: i64,
    pub silent: i64,
    pub updated_ms: i64,
    pub history_id: i64,
}

/// Everything stored about one callback number, newest first.
#[derive(Debug, Clone, Default)]
pub struct NumberContacts {
    /// Calls from the number.
    pub calls: Vec<Call>,
    /// Voicemails that left the number to call back.
    pub voicemails: Vec<Voicemail>,
    /// Callback requests for the number, with their outcomes.
    pub requests: Vec<CallbackRequest>,
}

const HELD: &str = "select id from callback_requests where state = 'claimed' and claimed_by = $1";
const MARK: &str = "select cast(count(*) as bigint), \
     cast(coalesce(sum(case when state = 'claimed' then claimed_by else 0 end), 0) as bigint), \
     cast(coalesce(sum(rank_ms), 0) as bigint), cast(coalesce(sum(silent), 0) as bigint), \
     cast(coalesce(max(updated_at_ms), 0) as bigint), \
     (select cast(coalesce(max(id), 0) as bigint) from callback_history) \
     from callback_requests where state <> 'closed'";
const REQUESTS: &str = "select id from callback_requests where callback_number = $1 \
     order by created_at_ms desc, id desc limit $2";

/// Reads for the operator's page.
#[async_trait::async_trait]
pub trait WorkspaceStore {
    /// The request the operator holds (claimed and not yet released or closed), if any.
    async fn held_callback(&self, operator_id: i64) -> Result<Option<CallbackRequest>, StoreError>;
    /// The current [`ListMark`] of the active list.
    async fn callback_list_mark(&self) -> Result<ListMark, StoreError>;
    /// The calls, voicemails and callback requests of `number` (E.164), newest first, at most
    /// [`CONTACTS_LIMIT`] of each.
    async fn number_contacts(&self, number: &str) -> Result<NumberContacts, StoreError>;
}

macro_rules! impl_workspace_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl WorkspaceStore for $t {
            async fn held_callback(
                &self,
                operator_id: i64,
            ) -> Result<Option<CallbackRequest>, StoreError> {
                let id: Option<i64> = sqlx::query_scalar(HELD)
                    .bind(operator_id)
                    .fetch_optional(self.reader())
                    .await?;
                match id {
                    Some(id) => super::CallbackStore::callback_request(self, id).await,
                    None => Ok(None),
                }
            }

            async fn callback_list_mark(&self) -> Result<ListMark, StoreError> {
                let (active, holders, ranks, silent, updated_ms, history_id): (
                    i64,
                    i64,
                    i64,
                    i64,
                    i64,
                    i64,
                ) = sqlx::query_as(MARK).fetch_one(self.reader()).await?;
                Ok(ListMark {
                    active,
                    holders,
                    ranks,
                    silent,
                    updated_ms,
                    history_id,
                })
            }

            async fn number_contacts(&self, number: &str) -> Result<NumberContacts, StoreError> {
                let sql = format!(
                    "{CALL_COLS} where from_number = $1 order by started_at_ms desc, id desc limit $2"
                );
                let calls: Vec<CallRow> = sqlx::query_as(&sql)
                    .bind(number)
                    .bind(CONTACTS_LIMIT)
                    .fetch_all(self.reader())
                    .await?;
                let sql = format!(
                    "{VM_COLS} where callback_number = $1 order by received_at_ms desc, id desc limit $2"
                );
                let voicemails: Vec<VoicemailRow> = sqlx::query_as(&sql)
                    .bind(number)
                    .bind(CONTACTS_LIMIT)
                    .fetch_all(self.reader())
                    .await?;
                let ids: Vec<i64> = sqlx::query_scalar(REQUESTS)
                    .bind(number)
                    .bind(CONTACTS_LIMIT)
                    .fetch_all(self.reader())
                    .await?;
                let mut requests = Vec::with_capacity(ids.len());
                for id in ids {
                    if let Some(r) = super::CallbackStore::callback_request(self, id).await? {
                        requests.push(r);
                    }
                }
                Ok(NumberContacts {
                    calls: calls.into_iter().map(Call::from).collect(),
                    voicemails: voicemails.into_iter().map(Voicemail::from).collect(),
                    requests,
                })
            }
        }
    };
}

impl_workspace_store!(super::sqlite::SqliteStore);
impl_workspace_store!(super::postgres::PgStore);
