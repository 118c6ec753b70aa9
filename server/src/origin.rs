//! Which origins may change state through the dashboard's pages and server
//! functions. A browser sends `Origin` (or at least `Referer`) on every
//! cross-site POST and a page elsewhere cannot forge them, so comparing
//! them with this site's own origin stops forms on other sites from acting
//! with our visitors' cookies.
//!
//! Origins are compared whole (scheme, host and port, default ports
//! filled in). With `--public-url` only that origin is this site. Without
//! it the `Host` header is not trusted (any client may send any); this
//! site is then the address the server listens on and the loopback names
//! (`localhost`, `127.0.0.1`, `[::1]`), over http, on the listening port.

use std::net::{IpAddr, SocketAddr};

use axum::http::{HeaderMap, header};

/// `scheme://host:port`, lower case, default port filled in; IPv6 hosts
/// keep their brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// The origin of a URL or a bare origin (`https://a.example/x?y`);
    /// `None` for anything else, `null` included.
    pub fn parse(url: &str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let authority = rest.split(['/', '?', '#']).next()?;
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (address, after) = v6.split_once(']')?;
                let port = match after {
                    "" => None,
                    _ => Some(after.strip_prefix(':')?),
                };
                (format!("[{address}]"), port)
            }
            None => match authority.rsplit_once(':') {
                Some((host, port)) => (host.to_owned(), Some(port)),
                None => (authority.to_owned(), None),
            },
        };
        let port = match port {
            Some(port) => port.parse().ok()?,
            None => default_port,
        };
        if host.is_empty() {
            return None;
        }
        Some(Self {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

/// The origins that are this site.
#[derive(Debug, Clone)]
pub enum SiteOrigins {
    /// `--public-url`.
    Public(Origin),
    /// No public URL: the listening address and loopback names.
    Local(SocketAddr),
    /// Neither known (a router built without a listener): nothing passes.
    Unknown,
}

impl SiteOrigins {
    pub fn new(public_url: Option<&str>, listen: Option<SocketAddr>) -> Self {
        match (public_url.and_then(Origin::parse), listen) {
            (Some(origin), _) => Self::Public(origin),
            (None, Some(listen)) => Self::Local(listen),
            (None, None) => Self::Unknown,
        }
    }

    pub fn admits(&self, origin: &Origin) -> bool {
        match self {
            Self::Public(expected) => origin == expected,
            Self::Local(listen) => {
                let host = origin.host.trim_start_matches('[').trim_end_matches(']');
                let named = host == "localhost"
                    || host
                        .parse::<IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback() || ip == listen.ip());
                origin.scheme == "http" && origin.port == listen.port() && named
            }
            Self::Unknown => false,
        }
    }

    /// Whether the request's `Origin`, or else its `Referer`'s, is this site.
    pub fn admits_request(&self, headers: &HeaderMap) -> bool {
        let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
        let origin = match text(header::ORIGIN) {
            Some(origin) => Origin::parse(origin),
            None => text(header::REFERER).and_then(Origin::parse),
        };
        origin.is_some_and(|origin| self.admits(&origin))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().expect("header"));
        }
        map
    }

    #[test]
    fn origins_are_parsed_whole() {
        let o = |s| Origin::parse(s);
        assert_eq!(o("HTTPS://A.example"), o("https://a.example:443/x"));
        assert_ne!(o("http://a.example"), o("https://a.example"));
        assert_ne!(o("http://a.example"), o("http://a.example:8080"));
        assert_eq!(o("http://[::1]:3000/p"), o("http://[::1]:3000"));
        for bad in [
            "null",
            "",
            "ftp://a",
            "http://",
            "http://a:x",
            "http://u@evil.example",
        ] {
            assert_eq!(o(bad), None, "{bad}");
        }
    }

    #[test]
    fn without_a_public_url_only_the_listening_address_and_loopback_names_pass() {
        let site = SiteOrigins::new(None, Some("127.0.0.1:3000".parse().expect("addr")));
        for ok in [
            "http://127.0.0.1:3000",
            "http://localhost:3000",
            "http://[::1]:3000",
        ] {
            assert!(site.admits_request(&headers(&[("origin", ok)])), "{ok}");
        }
        assert!(site.admits_request(&headers(&[("referer", "http://127.0.0.1:3000/inbox?x=1")])));
        for bad in [
            // The Host header is not trusted: whatever it says.
            vec![("host", "evil.example"), ("origin", "http://evil.example")],
            vec![("origin", "https://127.0.0.1:3000")],
            vec![("origin", "http://127.0.0.1:3001")],
            vec![("origin", "http://127.0.0.1:3000.evil.example")],
            vec![("origin", "null")],
            vec![("referer", "http://127.0.0.1:3000.evil.example/")],
            vec![("host", "127.0.0.1:3000")],
        ] {
            assert!(!site.admits_request(&headers(&bad)), "{bad:?}");
        }
        let lan = SiteOrigins::new(None, Some("192.168.1.5:3000".parse().expect("addr")));
        assert!(lan.admits_request(&headers(&[("origin", "http://192.168.1.5:3000")])));
        assert!(!lan.admits_request(&headers(&[("origin", "http://192.168.1.6:3000")])));
    }

    #[test]
    fn a_public_url_must_match_exactly() {
        let site = SiteOrigins::new(Some("https://approvals.example/"), None);
        assert!(site.admits_request(&headers(&[("origin", "https://approvals.example")])));
        assert!(site.admits_request(&headers(&[("origin", "https://approvals.example:443")])));
        for bad in [
            "http://approvals.example",
            "https://approvals.example:8443",
            "https://evil.example",
        ] {
            assert!(!site.admits_request(&headers(&[("origin", bad)])), "{bad}");
        }
        assert!(!SiteOrigins::Unknown.admits_request(&headers(&[("origin", "http://x")])));
    }
}
