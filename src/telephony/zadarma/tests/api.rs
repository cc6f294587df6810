//! REST request signing: the worked example of PROVIDERS.md §2.5 and the encoding of PHP's
//! `http_build_query(..., PHP_QUERY_RFC1738)` (values computed with PHP's `urlencode` rules).

use crate::telephony::zadarma::api::{auth_header, params_string, signature_for, with_format};

#[test]
fn worked_example_of_providers_md() {
    let params = [("to", "79001234567"), ("from", "100")];
    assert_eq!(
        auth_header("KEY", "SECRET", "/v1/request/callback/", &params),
        "KEY:Nzk0OGM3YzYwMjBhNjkxOGI1NWVmYmY4MGY3MTIzNWUzYzExYjI1MQ=="
    );
    let sent = with_format(&params);
    let pairs: Vec<(&str, &str)> = sent.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(params_string(&pairs), "format=json&from=100&to=79001234567");
}

#[test]
fn format_is_added_once_and_replaces_a_given_format() {
    let sent = with_format(&[("format", "xml"), ("a", "1")]);
    assert_eq!(
        sent,
        vec![
            ("a".to_string(), "1".to_string()),
            ("format".into(), "json".into())
        ]
    );
    assert_eq!(
        auth_header("KEY", "SECRET", "/v1/info/balance/", &[("format", "xml")]),
        auth_header("KEY", "SECRET", "/v1/info/balance/", &[])
    );
}

#[test]
fn the_signature_depends_on_method_params_and_secret() {
    let base = signature_for("SECRET", "/v1/info/balance/", "format=json");
    assert_ne!(
        base,
        signature_for("SECRET", "/v1/info/balance", "format=json")
    );
    assert_ne!(
        base,
        signature_for("SECRET", "/v1/info/balance/", "format=xml")
    );
    assert_ne!(
        base,
        signature_for("SECRET2", "/v1/info/balance/", "format=json")
    );
}

#[test]
fn params_string_encodes_like_php_urlencode() {
    let table = [
        ("a b", "a+b"),
        ("Привет", "%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82"),
        ("a+b", "a%2Bb"),
        ("a~b", "a%7Eb"),
        ("a*b", "a%2Ab"),
        ("x_y.z-0", "x_y.z-0"),
        ("a&b=c/d", "a%26b%3Dc%2Fd"),
        ("+79001234567", "%2B79001234567"),
        ("", ""),
    ];
    for (value, encoded) in table {
        assert_eq!(
            params_string(&[("v", value)]),
            format!("v={encoded}"),
            "{value:?}"
        );
    }
    // Names are encoded too.
    assert_eq!(params_string(&[("a b", "1")]), "a+b=1");
}

#[test]
fn params_are_sorted_by_name_in_byte_order() {
    let params = [
        ("to", "2"),
        ("b", "x"),
        ("B", "y"),
        ("from", "1"),
        ("a_b", "z"),
    ];
    assert_eq!(params_string(&params), "B=y&a_b=z&b=x&from=1&to=2");
    assert_eq!(params_string(&[]), "");
}
