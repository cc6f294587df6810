//! [`CallControl`] for Twilio: moving a queued call to a freed operator is a REST redirect of the
//! live call to our `connect` webhook, which then answers with a `<Dial>` to that operator.

use super::{Route, TwilioClient, route_path};
use crate::telephony::CallControl;

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

    async fn connect_queued(&self, call_id: &str, operator_id: i64) -> Result<(), String> {
        let url = format!(
            "{}{}",
            self.public_url,
            route_path(&Route::Connect { operator_id })
        );
        self.client
            .redirect_call(call_id, &url)
            .await
            .map_err(|e| e.to_string())
    }
}
