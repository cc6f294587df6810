//! Signing requests to Zadarma's REST API (PROVIDERS.md §2.5, the official PHP client's
//! `lib/Client.php` `call` and `getAuthHeader`).
//!
//! The client adds `format=json` to the parameters, sorts them by name (PHP `ksort`) and
//! form-encodes them as PHP's `http_build_query($params, '', '&', PHP_QUERY_RFC1738)` does:
//! `urlencode` of each name and value, which keeps `A-Za-z0-9_.-`, writes a space as `+` and
//! everything else as `%XX` in uppercase hex (`~` included). The header is
//! `Authorization: {key}:{signature}` with signature
//! `base64(hex(HMAC-SHA1(secret, method . paramsStr . md5_hex(paramsStr))))`, where `method` is the
//! path with the version and the trailing slash (`/v1/request/callback/`) and both hex digests are
//! lowercase. The same `paramsStr` is sent: as the query of a GET, as the form body otherwise. The
//! signature covers no timestamp or nonce, so the secret is the whole protection: it never leaves
//! this module except inside the HMAC.

use md5::{Digest, Md5};

use super::signature::sign;

/// Appends `s` encoded as PHP's `urlencode` (RFC 1738 form encoding) to `out`.
fn urlencode_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0x0f) as usize] as char);
            }
        }
    }
}

/// The parameters sorted by name (byte order; a stable sort keeps repeated names in their order)
/// and encoded as PHP's `http_build_query(..., PHP_QUERY_RFC1738)`.
pub fn params_string(params: &[(&str, &str)]) -> String {
    let mut sorted: Vec<(&str, &str)> = params.to_vec();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::new();
    for (i, (name, value)) in sorted.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        urlencode_into(&mut out, name);
        out.push('=');
        urlencode_into(&mut out, value);
    }
    out
}

/// The parameters as the client sends them: the caller's, with `format=json` added (replacing any
/// `format` given), sorted by name.
pub fn with_format(params: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = params
        .iter()
        .filter(|(name, _)| *name != "format")
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    all.push(("format".into(), "json".into()));
    all.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    all
}

/// The signature of a request to `method` (the path, e.g. `/v1/request/callback/`) whose sent
/// parameters encode as `params_str` (from [`params_string`], `format=json` included).
pub fn signature_for(secret: &str, method: &str, params_str: &str) -> String {
    let md5_hex = hex::encode(Md5::digest(params_str.as_bytes()));
    sign(secret, &format!("{method}{params_str}{md5_hex}"))
}

/// The `Authorization` header value `{key}:{signature}` for a request to `method` with `params`
/// (without `format`: it is added here, as the official client does).
pub fn auth_header(key: &str, secret: &str, method: &str, params: &[(&str, &str)]) -> String {
    let sent = with_format(params);
    let borrowed: Vec<(&str, &str)> = sent.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let params_str = params_string(&borrowed);
    format!("{key}:{}", signature_for(secret, method, &params_str))
}
