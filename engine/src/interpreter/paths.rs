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
        PathSetting::Path(p) => p.get(input, ctx).ok_or_else(|| {
            StatesError::runtime(format!(
                "Invalid path '{}' : No results for path: $['{}']",
                p.as_str(),
                p.as_str().trim_start_matches("$.")
            ))
        }),
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
    match s {
        Seconds::Fixed(n) => Ok(*n),
        Seconds::Path(p) => p.get(input, ctx).and_then(|v| v.as_u64()).ok_or_else(|| {
            StatesError::runtime(format!(
                "The {field}Path '{}' does not name a whole number of seconds",
                p.as_str()
            ))
        }),
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

pub(super) fn parse_iso(text: &str) -> Option<i64> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}
