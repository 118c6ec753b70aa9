//! InputPath, ResultPath and OutputPath, timeouts read from the input, and
//! the context's timestamps.

use serde_json::{Value, json};

use crate::asl::definition::{PathSetting, Seconds};
use crate::asl::{Bindings, StatesError};

pub(super) fn apply_input_path(
    setting: &PathSetting,
    input: &Value,
    ctx: &Bindings,
) -> Result<Value, StatesError> {
    match setting {
        PathSetting::Default => Ok(input.clone()),
        PathSetting::Null => Ok(json!({})),
        PathSetting::Path(p) => p
            .get(input, ctx)
            .ok_or_else(|| StatesError::runtime(p.missing(input, ctx))),
    }
}

pub(super) fn apply_output_path(
    setting: &PathSetting,
    output: &Value,
    ctx: &Bindings,
) -> Result<Value, StatesError> {
    apply_input_path(setting, output, ctx)
}

pub(super) fn apply_result_path(
    setting: &PathSetting,
    input: &Value,
    result: Value,
) -> Result<Value, StatesError> {
    match setting {
        PathSetting::Default => Ok(result),
        PathSetting::Null => Ok(input.clone()),
        PathSetting::Path(p) => p.set(input.clone(), result).map_err(StatesError::runtime),
    }
}

pub(super) fn seconds(
    s: &Seconds,
    input: &Value,
    ctx: &Bindings,
    field: &str,
) -> Result<u64, StatesError> {
    let p = match s {
        Seconds::Fixed(n) => return Ok(*n),
        Seconds::Path(p) => p,
    };
    // AWS's words, recorded: a Wait's SecondsPath has its own, a Task's
    // TimeoutSecondsPath the JSONPath library's.
    let value = p.get(input, ctx).ok_or_else(|| {
        StatesError::runtime(if field == "Seconds" {
            format!(
                "The {field}Path parameter does not reference an input value: {}",
                p.as_str()
            )
        } else {
            p.missing(input, ctx)
        })
    })?;
    match value.as_i64() {
        Some(n) if n < 0 => Err(StatesError::runtime(format!(
            "The {field}Path parameter references a negative value: {} == {n}",
            p.as_str()
        ))),
        Some(n) => Ok(n.unsigned_abs()),
        None => Err(StatesError::runtime(format!(
            "The {field}Path parameter cannot be parsed as a long value: {} == {}",
            p.as_str(),
            shown(&value)
        ))),
    }
}

/// A value as AWS quotes it in a cause: a string bare, anything else as JSON.
pub(super) fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Milliseconds since the epoch as AWS writes context timestamps:
/// `2024-05-01T12:00:00.120Z`, always three fraction digits, so that they
/// sort as strings (inbox indexes rely on it).
pub fn iso(ms: i64) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(FORMAT).ok())
        .unwrap_or_default()
}

/// An ISO-8601 extended offset date-time, as AWS reads Wait timestamps:
/// a `T` between date and time (RFC 3339 would also take a space; AWS
/// refuses it, recorded) and an offset.
pub(super) fn parse_iso(text: &str) -> Option<i64> {
    if text.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}
