//! Voicemails: one per call, created when the voicemail steps begin and filled in as the caller
//! goes (callback number, category, recording), then by the recording download (audio status,
//! paths, duration, speech). Flags record what went wrong without losing the voicemail.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{StoreError, from_ms, to_ms};

/// A voicemail as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Voicemail {
    pub id: i64,
    pub call_id: i64,
    pub callback_request_id: Option<i64>,
    /// E.164; personal data.
    pub callback_number: Option<String>,
    /// True when the caller confirmed or entered the number on the keypad.
    pub number_confirmed: bool,
    pub caller_id: Option<String>,
    pub caller_category: Option<String>,
    /// `provider:RecordingSid`.
    pub recording_key: Option<String>,
    #[serde(skip)]
    pub recording_url: Option<String>,
    pub recording_duration_ms: Option<i64>,
    /// `pending`, `stored`, `unreadable`, `missing`, `removed` or `none`.
    pub audio_status: String,
    #[serde(skip)]
    pub audio_path: Option<String>,
    #[serde(skip)]
    pub original_path: Option<String>,
    pub duration_ms: Option<i64>,
    pub sample_rate: Option<i64>,
    pub sha256: Option<String>,
    pub has_speech: Option<bool>,
    /// Comma-separated flags (`number_unconfirmed`, `no_recording`, `audio_unreadable`, …).
    pub flags: String,
    pub received_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
pub(super) struct VoicemailRow {
    id: i64,
    call_id: i64,
    callback_request_id: Option<i64>,
    callback_number: Option<String>,
    number_confirmed: bool,
    caller_id: Option<String>,
    caller_category: Option<String>,
    recording_key: Option<String>,
    recording_url: Option<String>,
    recording_duration_ms: Option<i64>,
    audio_status: String,
    audio_path: Option<String>,
    original_path: Option<String>,
    duration_ms: Option<i64>,
    sample_rate: Option<i64>,
    sha256: Option<String>,
    has_speech: Option<bool>,
    flags: String,
    received_at_ms: i64,
}

impl From<VoicemailRow> for Voicemail {
    fn from(r: VoicemailRow) -> Voicemail {
        Voicemail {
            id: r.id,
            call_id: r.call_id,
            callback_request_id: r.callback_request_id,
            callback_number: r.callback_number,
            number_confirmed: r.number_confirmed,
            caller_id: r.caller_id,
            caller_category: r.caller_category,
            recording_key: r.recording_key,
            recording_url: r.recording_url,
            recording_duration_ms: r.recording_duration_ms,
            audio_status: r.audio_status,
            audio_path: r.audio_path,
            original_path: r.original_path,
            duration_ms: r.duration_ms,
            sample_rate: r.sample_rate,
            sha256: r.sha256,
            has_speech: r.has_speech,
            flags: r.flags,
            received_at: from_ms(r.received_at_ms),
        }
    }
}

pub(super) const VM_COLS: &str = "select id, call_id, callback_request_id, callback_number, number_confirmed, caller_id, \
     caller_category, recording_key, recording_url, recording_duration_ms, audio_status, audio_path, original_path, \
     duration_ms, sample_rate, sha256, has_speech, flags, received_at_ms from voicemails";
pub(super) const START: &str = "insert into voicemails (call_id, callback_number, caller_id, audio_status, received_at_ms) \
     values ($1, $2, $2, 'none', $3) on conflict (call_id) do nothing";
pub(super) const SET_NUMBER: &str =
    "update voicemails set callback_number = $2, number_confirmed = $3 where call_id = $1";
pub(super) const SET_CATEGORY: &str =
    "update voicemails set caller_category = $2 where call_id = $1";
pub(super) const ADD_FLAG: &str = "update voicemails set flags = case when flags = '' then $2 else flags || ',' || $2 end \
     where call_id = $1 and (',' || flags || ',') not like ('%,' || $2 || ',%')";
/// Records the recording's key and URL the first time either callback names it.
pub(super) const SET_RECORDING: &str = "update voicemails set recording_key = $2, recording_url = $3, \
     recording_duration_ms = coalesce($4, recording_duration_ms), \
     audio_status = case when audio_status = 'none' then 'pending' else audio_status end \
     where call_id = $1 and (recording_key is null or recording_key = $2)";

const SET_AUDIO: &str = "update voicemails set audio_status = $2, audio_path = $3, original_path = $4, \
     duration_ms = $5, sample_rate = $6, sha256 = $7, has_speech = $8 where call_id = $1";

const OLD_AUDIO: &str = "select id, call_id, callback_request_id, callback_number, number_confirmed, caller_id, \
     caller_category, recording_key, recording_url, recording_duration_ms, audio_status, audio_path, original_path, \
     duration_ms, sample_rate, sha256, has_speech, flags, received_at_ms from voicemails \
     where received_at_ms < $1 and (audio_path is not null or original_path is not null) \
     order by received_at_ms limit $2";
const AUDIO_REMOVED: &str = "update voicemails set audio_status = 'removed', audio_path = null, original_path = null, \
     flags = case when flags = '' then 'audio_removed' else flags || ',audio_removed' end where id = $1";

/// The result of downloading and checking a recording.
#[derive(Debug, Clone, Default)]
pub struct AudioUpdate {
    /// `stored`, `unreadable` or `missing`.
    pub status: String,
    pub audio_path: Option<String>,
    pub original_path: Option<String>,
    pub duration_ms: Option<i64>,
    pub sample_rate: Option<i64>,
    pub sha256: Option<String>,
    pub has_speech: Option<bool>,
}

/// Voicemails.
#[async_trait::async_trait]
pub trait VoicemailStore {
    /// Creates the call's voicemail if it has none; returns it.
    async fn start_voicemail(
        &self,
        call_id: i64,
        caller_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Voicemail, StoreError>;
    /// Sets the callback number.
    async fn set_voicemail_number(
        &self,
        call_id: i64,
        number: &str,
        confirmed: bool,
    ) -> Result<(), StoreError>;
    /// Sets the caller category.
    async fn set_voicemail_category(&self, call_id: i64, category: &str) -> Result<(), StoreError>;
    /// Adds a flag (once).
    async fn flag_voicemail(&self, call_id: i64, flag: &str) -> Result<(), StoreError>;
    /// Names the recording (`key` = `provider:id`); audio becomes `pending`. False when the voicemail
    /// already has another recording.
    async fn set_voicemail_recording(
        &self,
        call_id: i64,
        key: &str,
        url: &str,
        duration_ms: Option<i64>,
    ) -> Result<bool, StoreError>;
    /// Records what the recording download found.
    async fn set_voicemail_audio(
        &self,
        call_id: i64,
        audio: &AudioUpdate,
    ) -> Result<(), StoreError>;
    /// Voicemails received before `cutoff` that still have audio files, oldest first.
    async fn voicemails_with_audio_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Voicemail>, StoreError>;
    /// Notes that a voicemail's audio files were deleted (retention); the metadata stays.
    async fn mark_audio_removed(&self, id: i64) -> Result<(), StoreError>;
    /// One voicemail by id.
    async fn voicemail(&self, id: i64) -> Result<Option<Voicemail>, StoreError>;
    /// The call's voicemail.
    async fn voicemail_for_call(&self, call_id: i64) -> Result<Option<Voicemail>, StoreError>;
    /// Voicemails, newest first.
    async fn voicemails(&self, limit: i64) -> Result<Vec<Voicemail>, StoreError>;
}

macro_rules! impl_voicemail_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl VoicemailStore for $t {
            async fn start_voicemail(
                &self,
                call_id: i64,
                caller_id: Option<&str>,
                now: DateTime<Utc>,
            ) -> Result<Voicemail, StoreError> {
                sqlx::query(START)
                    .bind(call_id)
                    .bind(caller_id)
                    .bind(to_ms(now))
                    .execute(self.writer())
                    .await?;
                let sql = format!("{VM_COLS} where call_id = $1");
                let row: VoicemailRow = sqlx::query_as(&sql)
                    .bind(call_id)
                    .fetch_one(self.writer())
                    .await?;
                Ok(row.into())
            }

            async fn set_voicemail_number(
                &self,
                call_id: i64,
                number: &str,
                confirmed: bool,
            ) -> Result<(), StoreError> {
                sqlx::query(SET_NUMBER)
                    .bind(call_id)
                    .bind(number)
                    .bind(confirmed)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn set_voicemail_category(
                &self,
                call_id: i64,
                category: &str,
            ) -> Result<(), StoreError> {
                sqlx::query(SET_CATEGORY)
                    .bind(call_id)
                    .bind(category)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn flag_voicemail(&self, call_id: i64, flag: &str) -> Result<(), StoreError> {
                sqlx::query(ADD_FLAG)
                    .bind(call_id)
                    .bind(flag)
                    .execute(self.writer())
                    .await?;
                self.refresh_silent(call_id).await
            }

            async fn set_voicemail_recording(
                &self,
                call_id: i64,
                key: &str,
                url: &str,
                duration_ms: Option<i64>,
            ) -> Result<bool, StoreError> {
                let r = sqlx::query(SET_RECORDING)
                    .bind(call_id)
                    .bind(key)
                    .bind(url)
                    .bind(duration_ms)
                    .execute(self.writer())
                    .await
                    .map_err(|e| {
                        StoreError::unique(
                            e,
                            format!("recording {key} belongs to another voicemail"),
                        )
                    })?;
                self.refresh_silent(call_id).await?;
                Ok(r.rows_affected() == 1)
            }

            async fn set_voicemail_audio(
                &self,
                call_id: i64,
                a: &AudioUpdate,
            ) -> Result<(), StoreError> {
                sqlx::query(SET_AUDIO)
                    .bind(call_id)
                    .bind(&a.status)
                    .bind(&a.audio_path)
                    .bind(&a.original_path)
                    .bind(a.duration_ms)
                    .bind(a.sample_rate)
                    .bind(&a.sha256)
                    .bind(a.has_speech)
                    .execute(self.writer())
                    .await?;
                self.refresh_silent(call_id).await
            }

            async fn voicemails_with_audio_before(
                &self,
                cutoff: DateTime<Utc>,
                limit: i64,
            ) -> Result<Vec<Voicemail>, StoreError> {
                let rows: Vec<VoicemailRow> = sqlx::query_as(OLD_AUDIO)
                    .bind(to_ms(cutoff))
                    .bind(limit)
                    .fetch_all(self.reader())
                    .await?;
                Ok(rows.into_iter().map(Voicemail::from).collect())
            }

            async fn mark_audio_removed(&self, id: i64) -> Result<(), StoreError> {
                sqlx::query(AUDIO_REMOVED)
                    .bind(id)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn voicemail(&self, id: i64) -> Result<Option<Voicemail>, StoreError> {
                let sql = format!("{VM_COLS} where id = $1");
                let row: Option<VoicemailRow> = sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?;
                Ok(row.map(Voicemail::from))
            }

            async fn voicemail_for_call(
                &self,
                call_id: i64,
            ) -> Result<Option<Voicemail>, StoreError> {
                let sql = format!("{VM_COLS} where call_id = $1");
                let row: Option<VoicemailRow> = sqlx::query_as(&sql)
                    .bind(call_id)
                    .fetch_optional(self.reader())
                    .await?;
                Ok(row.map(Voicemail::from))
            }

            async fn voicemails(&self, limit: i64) -> Result<Vec<Voicemail>, StoreError> {
                let sql = format!("{VM_COLS} order by received_at_ms desc, id desc limit $1");
                let rows: Vec<VoicemailRow> = sqlx::query_as(&sql)
                    .bind(limit.clamp(1, 1000))
                    .fetch_all(self.reader())
                    .await?;
                Ok(rows.into_iter().map(Voicemail::from).collect())
            }
        }

        impl $t {
            /// Keeps the voicemail's callback request's message flag current.
            async fn refresh_silent(&self, call_id: i64) -> Result<(), StoreError> {
                sqlx::query(super::callbacks::SILENT_BY_CALL.as_str())
                    .bind(call_id)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }
        }
    };
}

impl_voicemail_store!(super::sqlite::SqliteStore);
impl_voicemail_store!(super::postgres::PgStore);
