//! Where the server may send a browser: paths on this site only. Every
//! redirect goes through [`to`], so no address from a request (a `next`
//! parameter, a `Referer`) can send a person to another site.

/// A path on this site, not another site's address: `/x` but not `//x`
/// or `/\x` (which browsers read as another host), and nothing with
/// control characters.
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.chars().any(char::is_control)
}

/// Redirects the current server-function call to `path` if it is local,
/// else to the start page.
#[cfg(feature = "ssr")]
pub fn to(path: &str) {
    let path = if is_local_path(path) { path } else { "/" };
    leptos_axum::redirect(path);
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn only_local_paths_are_followed() {
        assert!(is_local_path("/inbox"));
        assert!(is_local_path("/orders/1?x=2"));
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "inbox",
            "/a\nb",
            "",
        ] {
            assert!(!is_local_path(bad), "{bad}");
        }
    }
}
