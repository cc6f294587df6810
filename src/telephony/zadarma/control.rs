//! Moving a queued Zadarma caller to a freed operator. Zadarma has no API call that redirects a
//! live call; a caller in Perezvon's hold queue is in a `wait_dtmf` hold of a few seconds
//! (`zadarma.hold_tick_secs`), and the tick that ends it finds the call `connecting` and rings
//! the reserved operator. So the move itself asks nothing of the provider.

use crate::telephony::{CallControl, ControlError};

/// [`CallControl`] for Zadarma calls.
#[derive(Debug, Clone, Copy, Default)]
pub struct ZadarmaControl;

#[async_trait::async_trait]
impl CallControl for ZadarmaControl {
    fn provider(&self) -> &'static str {
        "zadarma"
    }

    async fn connect_queued(&self, _call_id: &str, operator_id: i64) -> Result<(), ControlError> {
        tracing::debug!(
            operator = operator_id,
            "Zadarma caller reserved for an operator: connected at the next hold tick"
        );
        Ok(())
    }
}
