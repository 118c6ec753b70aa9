//! Reading DynamoDB items, shared by every module that stores rows: the
//! item type, attribute readers, which keys can name a row, and the one
//! way a failed call becomes [`DomainError::Unavailable`] (logged, never
//! shown).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::DomainError;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(item: &Item, key: &str) -> Option<String> {
    item.get(key).and_then(|v| v.as_s().ok()).cloned()
}

pub(crate) fn unavailable(what: &str) -> impl FnOnce(String) -> DomainError + '_ {
    move |error| {
        tracing::error!(%error, "{what} failed");
        DomainError::Unavailable
    }
}

/// A UTC timestamp as something that sorts in time order, whatever its
/// number of fraction digits (the workflow's and ours differ): the date
/// and time to the second, then the fraction as nanoseconds.
pub(crate) fn time_key(at: &str) -> (&str, u32) {
    let (whole, rest) = at.split_at(at.len().min(19));
    let digits: String = rest
        .strip_prefix('.')
        .unwrap_or_default()
        .chars()
        .take_while(char::is_ascii_digit)
        .take(9)
        .collect();
    let nanos = format!("{digits:0<9}").parse().unwrap_or(0);
    (whole, nanos)
}

pub(crate) fn list_of_maps(item: &Item, key: &str) -> Vec<Item> {
    item.get(key)
        .and_then(|v| v.as_l().ok())
        .map(|l| l.iter().filter_map(|v| v.as_m().ok().cloned()).collect())
        .unwrap_or_default()
}

/// Whether `key` can name a row at all. DynamoDB refuses empty keys and
/// keys over 2 KB with an error; such an id names nothing, and must be
/// "not found", not a failure of the service.
pub(crate) fn usable_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 1024
}

/// Whether a DynamoDB call failed on its condition (rather than failing).
pub(crate) fn condition_failed<E, R>(error: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    error.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException")
}
