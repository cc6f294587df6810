//! The `Signature` header of Zadarma's notifications (placeholder until the full module lands).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

fn get<'a>(params: &'a [(String, String)], name: &str) -> &'a str {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The string the event's signature is computed over.
pub fn signature_string(params: &[(String, String)]) -> Option<String> {
    let f = |n: &str| get(params, n);
    Some(match f("event") {
        "NOTIFY_START" | "NOTIFY_INTERNAL" | "NOTIFY_END" | "NOTIFY_IVR" => {
            format!("{}{}{}", f("caller_id"), f("called_did"), f("call_start"))
        }
        "NOTIFY_ANSWER" => format!("{}{}{}", f("caller_id"), f("destination"), f("call_start")),
        "NOTIFY_OUT_START" | "NOTIFY_OUT_END" => {
            format!("{}{}{}", f("internal"), f("destination"), f("call_start"))
        }
        "NOTIFY_RECORD" => format!("{}{}", f("pbx_call_id"), f("call_id_with_rec")),
        _ => return None,
    })
}

/// base64 of the lowercase hex HMAC-SHA1.
pub fn sign(secret: &str, s: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(s.as_bytes());
    BASE64.encode(hex::encode(mac.finalize().into_bytes()))
}

/// True when `header` is the event's signature.
pub fn verify(secret: &str, params: &[(String, String)], header: &str) -> bool {
    if secret.is_empty() || header.is_empty() {
        return false;
    }
    let Some(s) = signature_string(params) else {
        return false;
    };
    sign(secret, &s)
        .as_bytes()
        .ct_eq(header.trim().as_bytes())
        .into()
}
