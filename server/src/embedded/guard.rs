//! What stands between the embedded services' socket and the data: the
//! services hold every task token and the dashboard's own tables, so a
//! request is answered only if
//! - it names a loopback `Host` (a web page that resolved its own name to
//!   127.0.0.1, DNS rebinding, is refused),
//! - it is not a CORS preflight, and no answer carries CORS headers (no
//!   page in a browser can read an answer),
//! - it is signed with AWS Signature Version 4 by the one credential.
//!
//! The signature is checked by computing it again, as AWS does: the
//! canonical request is built here from the headers the client signed, and
//! `aws-sigv4` derives the key and the signature.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use countersign_domain::api_keys::{same, sha256_hex};
use http_body_util::BodyExt;

use super::credential::Credential;

/// The largest body the services take (DynamoDB's own limit).
const MAX_BODY: usize = 16 * 1024 * 1024;
/// How far a request's time may be from ours (AWS allows 15 minutes).
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// Why a request is refused, each answered as AWS answers it.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not a loopback `Host`.
    Host,
    /// A CORS preflight.
    Preflight,
    /// No signature, or one by another access key.
    UnknownClient,
    /// Signed, but not by the secret (or not this request, or too old).
    BadSignature(&'static str),
    TooLarge,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            Refusal::Host => (
                StatusCode::FORBIDDEN,
                "AccessDeniedException",
                "only loopback host names are served",
            ),
            Refusal::Preflight => (
                StatusCode::FORBIDDEN,
                "AccessDeniedException",
                "cross-origin requests are not served",
            ),
            Refusal::UnknownClient => (
                StatusCode::BAD_REQUEST,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
            Refusal::BadSignature(why) => {
                (StatusCode::BAD_REQUEST, "InvalidSignatureException", why)
            }
            Refusal::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                "the request body is too large",
            ),
        };
        let body = serde_json::json!({
            "__type": format!("com.amazon.coral.service#{code}"),
            "message": message,
        });
        (
            status,
            [(header::CONTENT_TYPE, super::dynamodb::CONTENT_TYPE)],
            body.to_string(),
        )
            .into_response()
    }
}

/// The middleware: checks, then hands the request on with its body.
pub async fn guard(
    State(credential): State<Arc<Credential>>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    if !loopback_host(&parts.headers) {
        return Refusal::Host.into_response();
    }
    if parts.method == Method::OPTIONS {
        return Refusal::Preflight.into_response();
    }
    let body = match http_body_util::Limited::new(body, MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return Refusal::TooLarge.into_response(),
    };
    if let Err(refusal) = verify(
        &credential,
        &parts.method,
        &parts.uri,
        &parts.headers,
        &body,
        SystemTime::now(),
    ) {
        return refusal.into_response();
    }
    let mut response = next.run(Request::from_parts(parts, Body::from(body))).await;
    let cors: Vec<_> = response
        .headers()
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for name in cors {
        response.headers_mut().remove(name);
    }
    response
}

/// `localhost`, `*.localhost` or a loopback address, with any port.
pub fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        // [::1]:port
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let name = name.to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=…,
/// SignedHeaders=…, Signature=…`.
struct Authorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

fn authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (name, value) = part.trim().split_once('=')?;
        match name {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed_headers = Some(value),
            "Signature" => signature = Some(value),
            _ => return None,
        }
    }
    let mut scope = credential?.split('/');
    let found = Authorization {
        access_key_id: scope.next()?,
        date: scope.next()?,
        region: scope.next()?,
        service: scope.next()?,
        signed_headers: signed_headers?,
        signature: signature?,
    };
    (scope.next()? == "aws4_request" && scope.next().is_none()).then_some(found)
}

/// `20261201T100000Z` as a time.
fn amz_time(text: &str) -> Option<SystemTime> {
    let digits = |range: std::ops::Range<usize>| text.get(range)?.parse::<u32>().ok();
    if text.len() != 16 || text.as_bytes()[8] != b'T' || !text.ends_with('Z') {
        return None;
    }
    let month = u8::try_from(digits(4..6)?).ok()?;
    let date = time::Date::from_calendar_date(
        i32::try_from(digits(0..4)?).ok()?,
        time::Month::try_from(month).ok()?,
        u8::try_from(digits(6..8)?).ok()?,
    )
    .ok()?;
    let clock = time::Time::from_hms(
        u8::try_from(digits(9..11)?).ok()?,
        u8::try_from(digits(11..13)?).ok()?,
        u8::try_from(digits(13..15)?).ok()?,
    )
    .ok()?;
    Some(
        time::PrimitiveDateTime::new(date, clock)
            .assume_utc()
            .into(),
    )
}

/// A header's value as SigV4 canonicalises it: every value of the name,
/// trimmed, inner runs of spaces made one, joined by commas.
fn canonical_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<String> = headers
        .get_all(name)
        .iter()
        .map(|v| {
            v.to_str()
                .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .collect::<Result<_, _>>()
        .ok()?;
    (!values.is_empty()).then(|| values.join(","))
}

/// The query string sorted by name then value, as the client signed it
/// (clients send it already encoded the canonical way).
fn canonical_query(query: Option<&str>) -> String {
    let mut pairs: Vec<(&str, &str)> = query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    pairs.sort_unstable();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Checks the request's signature against `credential` at `now`.
pub fn verify(
    credential: &Credential,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &Bytes,
    now: SystemTime,
) -> Result<(), Refusal> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(authorization)
        .ok_or(Refusal::UnknownClient)?;
    if !same(
        auth.access_key_id.as_bytes(),
        credential.access_key_id.as_bytes(),
    ) {
        return Err(Refusal::UnknownClient);
    }
    let stamp = canonical_value(headers, "x-amz-date")
        .ok_or(Refusal::BadSignature("the request has no X-Amz-Date"))?;
    let at = amz_time(&stamp).ok_or(Refusal::BadSignature("X-Amz-Date is malformed"))?;
    let skew = now.duration_since(at).unwrap_or_else(|e| e.duration());
    if skew > MAX_SKEW {
        return Err(Refusal::BadSignature(
            "Signature expired: the request time is more than 15 minutes from the server's",
        ));
    }
    if !stamp.starts_with(auth.date) || auth.date.len() != 8 {
        return Err(Refusal::BadSignature(
            "the credential scope's date is not the request's",
        ));
    }
    let names: Vec<&str> = auth.signed_headers.split(';').collect();
    if !names.contains(&"host") {
        return Err(Refusal::BadSignature("the Host header must be signed"));
    }
    let mut canonical_headers = String::new();
    for name in &names {
        let value = canonical_value(headers, name)
            .ok_or(Refusal::BadSignature("a signed header is missing"))?;
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(&value);
        canonical_headers.push('\n');
    }
    let path = if uri.path().is_empty() {
        "/"
    } else {
        uri.path()
    };
    let canonical_request = format!(
        "{method}\n{path}\n{}\n{canonical_headers}\n{}\n{}",
        canonical_query(uri.query()),
        auth.signed_headers,
        sha256_hex(body),
    );
    let scope = format!(
        "{}/{}/{}/aws4_request",
        auth.date, auth.region, auth.service
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let key = aws_sigv4::sign::v4::generate_signing_key(
        &credential.secret_access_key,
        at,
        auth.region,
        auth.service,
    );
    let expected = aws_sigv4::sign::v4::calculate_signature(key, string_to_sign.as_bytes());
    if same(expected.as_bytes(), auth.signature.as_bytes()) {
        Ok(())
    } else {
        Err(Refusal::BadSignature(
            "The request signature does not match the one computed with the secret access key",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_only() {
        let host = |h: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, h.parse().expect("header"));
            loopback_host(&headers)
        };
        for ok in [
            "127.0.0.1:4600",
            "localhost",
            "LOCALHOST:1",
            "[::1]:9",
            "127.9.9.9",
        ] {
            assert!(host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "127.0.0.1.evil.example",
            "10.0.0.1:4600",
            "localhost.evil.example",
            "[::2]:1",
        ] {
            assert!(!host(bad), "{bad}");
        }
        assert!(!loopback_host(&HeaderMap::new()));
    }

    #[test]
    fn the_aws_example_signature_verifies() {
        // The worked example of AWS's SigV4 documentation (IAM ListUsers,
        // 2015-08-30), with its published key and signature.
        let credential = Credential {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        };
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "iam.amazonaws.com".parse().expect("h"));
        headers.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8"
                .parse()
                .expect("h"),
        );
        headers.insert("x-amz-date", "20150830T123600Z".parse().expect("h"));
        headers.insert(
            header::AUTHORIZATION,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
                .parse()
                .expect("h"),
        );
        let uri: axum::http::Uri = "/?Action=ListUsers&Version=2010-05-08".parse().expect("u");
        let at = amz_time("20150830T123600Z").expect("time");
        let check = |headers: &HeaderMap, body: &[u8], now| {
            verify(
                &credential,
                &Method::GET,
                &uri,
                headers,
                &Bytes::copy_from_slice(body),
                now,
            )
        };
        assert_eq!(check(&headers, b"", at), Ok(()));
        assert!(matches!(
            check(&headers, b"x", at),
            Err(Refusal::BadSignature(_))
        ));
        assert!(matches!(
            check(&headers, b"", at + Duration::from_secs(16 * 60)),
            Err(Refusal::BadSignature(_))
        ));
        let mut other = headers.clone();
        other.insert(header::HOST, "elsewhere".parse().expect("h"));
        assert!(matches!(
            check(&other, b"", at),
            Err(Refusal::BadSignature(_))
        ));
        let mut unsigned = headers.clone();
        unsigned.remove(header::AUTHORIZATION);
        assert_eq!(check(&unsigned, b"", at), Err(Refusal::UnknownClient));
        let wrong_key = Credential {
            access_key_id: "AKIDOTHER".into(),
            ..credential.clone()
        };
        assert_eq!(
            verify(&wrong_key, &Method::GET, &uri, &headers, &Bytes::new(), at),
            Err(Refusal::UnknownClient)
        );
    }
}
