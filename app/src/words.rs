//! Words and encodings the pages and the server functions share: what a
//! decision did, and results carried in an address after a plain form
//! post. Here rather than in a page, so nothing imports from a page.

use crate::model::{BulkResult, Decision};

/// A short id for reading (the first 8 characters of a UUID).
pub fn short(id: &str) -> String {
    id.get(..8).unwrap_or(id).to_owned()
}

/// What a decision did, in words.
pub fn decided_text(d: &Decision) -> String {
    let what = match d.outcome.as_str() {
        "advance" => "advanced",
        "reject" => "rejected",
        "sign" => "signed",
        "decline" => "declined",
        other => other,
    };
    format!("{} {what} by {}", short(&d.subject), d.by)
}

/// Bulk results travel in the address after a form post without
/// JavaScript: one line a result, `1|0 <tab> order <tab> message`.
pub fn encode_bulk(results: &[BulkResult]) -> String {
    results
        .iter()
        .map(|r| {
            let message = r.message.replace(['\t', '\n'], " ");
            format!("{}\t{}\t{message}", u8::from(r.ok), r.order_id)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn decode_bulk(text: &str) -> Vec<BulkResult> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, '\t');
            let ok = parts.next()? == "1";
            Some(BulkResult {
                ok,
                order_id: parts.next()?.to_owned(),
                message: parts.next()?.to_owned(),
            })
        })
        .take(crate::model::MAX_BULK)
        .collect()
}

/// Percent-encodes all but unreserved characters (RFC 3986): a query
/// value (cursors, results), a path segment, an RFC 5987 `filename*`.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_results_survive_the_address() {
        let results = vec![
            BulkResult {
                order_id: "a".into(),
                message: "a advanced by sam".into(),
                ok: true,
            },
            BulkResult {
                order_id: "b".into(),
                message: "already decided by\tpat\n at noon".into(),
                ok: false,
            },
        ];
        let back = decode_bulk(&encode_bulk(&results));
        assert_eq!(back.len(), 2);
        assert_eq!(back[0], results[0]);
        assert!(!back[1].ok);
        assert_eq!(back[1].message, "already decided by pat  at noon");
    }
}
