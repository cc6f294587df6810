//! `X-Twilio-Signature`: proof that a webhook request really comes from our Twilio account.
//!
//! Twilio signs the full URL it requested followed by every POST parameter: the names sorted in
//! byte order, each appended as `name + value` (a repeated name once per value, the values sorted),
//! with no separators. The signature is `base64(HMAC-SHA1(auth token, that string))`. Because
//! Twilio's back end is inconsistent about default ports, [`validate`] accepts the signature over
//! the URL with its port removed or with the default port (443 for https, 80 otherwise) added,
//! exactly like twilio-python's `RequestValidator.validate()`. A JSON body is not signed directly:
//! Twilio adds `bodySHA256=<hex sha256 of the raw body>` to the query and signs the URL alone
//! ([`validate_json`]). The URL must be the one Twilio was given (built from the configured public
//! URL), never one rebuilt from `Host` or `X-Forwarded-*`. See PROVIDERS.md §1.10.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The signature Twilio would send for a form request to `url` exactly as written (no port rewriting).
pub fn expected_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // Sorting the pairs sorts by name, then by value within a repeated name: Twilio's order.
    sorted.sort_unstable();
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes())
        .expect("HMAC accepts a key of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    BASE64.encode(mac.finalize().into_bytes())
}

/// True when `signature` is Twilio's signature of a form request to `url` with `params` (all of
/// them, as received), with the URL's port removed or its default port added.
///
/// An empty auth token never validates.
pub fn validate(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    if auth_token.is_empty() || signature.is_empty() {
        return false;
    }
    let without = equal(
        &expected_signature(auth_token, &remove_port(url), params),
        signature,
    );
    let with = equal(
        &expected_signature(auth_token, &add_port(url), params),
        signature,
    );
    without | with
}

/// True when `signature` is Twilio's signature of a JSON request: the URL's `bodySHA256` query
/// parameter must be the hex SHA-256 of `raw_body` (the bytes as received, never re-serialized),
/// and the signature is over the URL alone.
pub fn validate_json(
    auth_token: &str,
    url_with_body_sha256: &str,
    raw_body: &[u8],
    signature: &str,
) -> bool {
    let Some(claimed) = query_param(url_with_body_sha256, "bodySHA256") else {
        return false;
    };
    let actual = hex::encode(Sha256::digest(raw_body));
    let body_ok = equal(&actual, &claimed);
    let signature_ok = validate(auth_token, url_with_body_sha256, &[], signature);
    body_ok & signature_ok
}

/// Constant-time string comparison (the length is not secret).
fn equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// The first value of query parameter `name` in `url`, percent-decoded.
fn query_param(url: &str, name: &str) -> Option<String> {
    let without_fragment = url.split('#').next().unwrap_or(url);
    let (_, query) = without_fragment.split_once('?')?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Splits `url` into (`scheme://userinfo@host`, optional port, the rest from the path on).
/// Returns `None` when the URL has no `scheme://` authority.
fn split_authority(url: &str) -> Option<(&str, Option<&str>, &str)> {
    let scheme_end = url.find("://")? + 3;
    let authority_end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    let authority = &url[scheme_end..authority_end];
    // The port follows the last ':' after the host (IPv6 hosts are bracketed; userinfo ends with '@').
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let host_and_port = &authority[host_start..];
    let port_colon = match host_and_port.rfind(':') {
        Some(i) if !host_and_port[i..].contains(']') => Some(scheme_end + host_start + i),
        _ => None,
    };
    Some(match port_colon {
        Some(colon) => (
            &url[..colon],
            Some(&url[colon + 1..authority_end]),
            &url[authority_end..],
        ),
        None => (&url[..authority_end], None, &url[authority_end..]),
    })
}

/// `url` without its port (unchanged when it has none).
fn remove_port(url: &str) -> String {
    match split_authority(url) {
        Some((head, Some(_), rest)) => format!("{head}{rest}"),
        _ => url.to_owned(),
    }
}

/// `url` with the scheme's default port added when it has no port (an explicit port is kept).
fn add_port(url: &str) -> String {
    match split_authority(url) {
        Some((head, None, rest)) => {
            let port = if head.to_ascii_lowercase().starts_with("https://") {
                443
            } else {
                80
            };
            format!("{head}:{port}{rest}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn ports_are_removed_and_added_around_the_host_only() {
        assert_eq!(
            remove_port("https://a.example:8443/x?p=1:2"),
            "https://a.example/x?p=1:2"
        );
        assert_eq!(
            add_port("https://a.example/x?p=1:2"),
            "https://a.example:443/x?p=1:2"
        );
        assert_eq!(add_port("http://a.example"), "http://a.example:80");
        assert_eq!(add_port("http://a.example:1234/"), "http://a.example:1234/");
        assert_eq!(
            remove_port("https://u:p@a.example:443/x"),
            "https://u:p@a.example/x"
        );
        assert_eq!(
            add_port("https://u:p@a.example/x"),
            "https://u:p@a.example:443/x"
        );
        assert_eq!(add_port("http://[::1]/x"), "http://[::1]:80/x");
        assert_eq!(remove_port("http://[::1]:8080/x"), "http://[::1]/x");
        assert_eq!(remove_port("not a url"), "not a url");
    }

    #[test]
    fn query_params_are_decoded() {
        assert_eq!(
            query_param("https://a/x?a=1&bodySHA256=ab%63#f", "bodySHA256").as_deref(),
            Some("abc")
        );
        assert_eq!(query_param("https://a/x", "bodySHA256"), None);
    }
}
