//! Click-to-call callbacks through Zadarma: [`ZadarmaDialer`] implements [`CallbackDialer`].
//!
//! An operator clicks "call back" on a request; we ask Zadarma to call the operator's PBX
//! extension and, once it answers, the caller (`GET /v1/request/callback/?from=EXT&to=NUMBER`,
//! PROVIDERS.md §2.5). `from` must be an extension of our Zadarma PBX: Zadarma then shows the
//! PBX's number to the caller, so an operator reached by a phone number or SIP URI cannot be
//! dialed this way ([`DialError::NotConfigured`]). `to` is the caller's E.164 number without the
//! `+`. With `predicted`, Zadarma calls the caller first and rings the extension only once they
//! answer. Zadarma's answer carries no call id: the dialer returns the synthetic id
//! [`callback_call_id`] and the call's fate arrives later as NOTIFY_OUT_START / NOTIFY_OUT_END
//! for the extension. The caller's number never appears in a log line or an error.

use super::rest::{ZadarmaClient, ZadarmaError};
use crate::domain::operator::ContactKind;
use crate::domain::phone::{mask, mask_in_text};
use crate::telephony::{CallbackDial, CallbackDialer, DialError};

/// Places click-to-call callbacks with Zadarma's `request/callback` API.
#[derive(Debug, Clone)]
pub struct ZadarmaDialer {
    pub client: ZadarmaClient,
    /// Call the caller first and ring the operator only once they answer.
    pub predicted: bool,
}

impl ZadarmaDialer {
    pub fn new(client: ZadarmaClient, predicted: bool) -> Self {
        ZadarmaDialer { client, predicted }
    }
}

/// The start of every [`callback_call_id`].
pub const CALLBACK_ID_PREFIX: &str = "zadarma-callback-";

/// The provider call id returned for an attempt (Zadarma's answer has none).
pub fn callback_call_id(attempt_id: i64) -> String {
    format!("{CALLBACK_ID_PREFIX}{attempt_id}")
}

/// The `from` (the operator's extension) and `to` (the caller's digits) of a callback request.
pub fn callback_params(d: &CallbackDial) -> Result<(String, String), DialError> {
    let operator = &d.operator;
    let extension = operator.contact.trim();
    if operator.kind != ContactKind::Extension
        || extension.is_empty()
        || !extension.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(DialError::NotConfigured(format!(
            "operator {} is reached by {} `{}`; Zadarma callbacks need a PBX extension",
            operator.operator_id,
            operator.kind,
            mask(&operator.contact)
        )));
    }
    let caller = d.caller.trim();
    let to = caller.strip_prefix('+').unwrap_or(caller);
    if !(8..=15).contains(&to.len()) || !to.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DialError::Refused(format!(
            "the caller's number {} is not an international number",
            mask(caller)
        )));
    }
    Ok((extension.to_owned(), to.to_owned()))
}

/// A failed callback request as a [`DialError`]: `Unavailable` when a retry may help (timeouts,
/// transport errors, 5xx, 429), `Refused` otherwise (4xx, Zadarma's refusals); numbers masked.
pub fn dial_error(e: ZadarmaError) -> DialError {
    let text = mask_in_text(&e.to_string());
    if e.is_retryable() {
        DialError::Unavailable(text)
    } else {
        DialError::Refused(text)
    }
}

#[async_trait::async_trait]
impl CallbackDialer for ZadarmaDialer {
    fn provider(&self) -> &'static str {
        "zadarma"
    }

    async fn dial(&self, d: &CallbackDial) -> Result<String, DialError> {
        let (extension, to) = callback_params(d)?;
        match self
            .client
            .request_callback(&extension, &to, self.predicted)
            .await
        {
            Ok(()) => {
                let call_id = callback_call_id(d.attempt_id);
                tracing::info!(
                    attempt = d.attempt_id,
                    operator = d.operator.operator_id,
                    extension = %extension,
                    caller = %mask(&to),
                    predicted = self.predicted,
                    call_id = %call_id,
                    "click-to-call requested from Zadarma"
                );
                Ok(call_id)
            }
            Err(e) => {
                let error = dial_error(e);
                tracing::warn!(
                    attempt = d.attempt_id,
                    operator = d.operator.operator_id,
                    caller = %mask(&to),
                    error = %error,
                    "click-to-call failed"
                );
                Err(error)
            }
        }
    }
}
