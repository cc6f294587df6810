//! [`CallControl`] for Twilio: moving a queued call to a freed operator is a REST redirect of the
//! live call to our `connect` webhook, which then answers with a `<Dial>` to that operator.

use super::{Route, TwilioClient, TwilioError, route_path};
use crate::telephony::{CallControl, ControlError, FetchError, RecordingSource};

/// Twilio's error code for a redirect of a call that is over ("Call is not in-progress").
pub const CALL_NOT_IN_PROGRESS: i64 = 21220;

/// The largest recording we download (a 2-minute WAV is about 2 MB).
const MAX_RECORDING_BYTES: usize = 64 << 20;

/// Twilio's call control: the REST client and the public base URL Twilio calls back on.
pub struct TwilioControl {
    pub client: TwilioClient,
    pub public_url: String,
}

#[async_trait::async_trait]
impl CallControl for TwilioControl {
    fn provider(&self) -> &'static str {
        "twilio"
    }

    async fn connect_queued(&self, call_id: &str, operator_id: i64) -> Result<(), ControlError> {
        let url = format!(
            "{}{}",
            self.public_url,
            route_path(&Route::Connect { operator_id })
        );
        self.client
            .redirect_call(call_id, &url)
            .await
            .map_err(|e| match e {
                // 21220 on a redirect: the caller hung up; a 404: Twilio no longer knows the call.
                TwilioError::Http {
                    status: 400,
                    code: Some(CALL_NOT_IN_PROGRESS),
                    ..
                }
                | TwilioError::Http { status: 404, .. } => ControlError::CallOver(e.to_string()),
                e => ControlError::Failed(e.to_string()),
            })
    }
}

fn fetch_error(e: TwilioError) -> FetchError {
    match e {
        TwilioError::Http { status: 404, .. } => FetchError::NotFound,
        e if e.is_retryable() => FetchError::Temporary(e.to_string()),
        e => FetchError::Failed(e.to_string()),
    }
}

#[async_trait::async_trait]
impl RecordingSource for TwilioControl {
    fn provider(&self) -> &'static str {
        "twilio"
    }

    async fn fetch(&self, _recording_id: &str, url: &str) -> Result<Vec<u8>, FetchError> {
        self.client
            .fetch_recording(url, MAX_RECORDING_BYTES)
            .await
            .map_err(fetch_error)
    }

    async fn delete(&self, recording_id: &str) -> Result<(), FetchError> {
        self.client
            .delete_recording(recording_id)
            .await
            .map_err(fetch_error)
    }
}
