//! The audit export: every decision that took effect, oldest first, as
//! rows an auditor can read (who decided what, when, on which files, and
//! the receipt that proves it), filtered by kind, dates and decider.
//!
//! The history is read page by page from the sparse `decisions-by-month`
//! index (a decision that took effect carries the month it was claimed in;
//! the index sorts each month by claim time), so an export of any size
//! holds one page in memory, never the whole history. Months partition the
//! index so that no single partition takes every decision's write.
//!
//! Rows written before decisions were filed by month are carried over once
//! per deployment by [`Audit::prepare`], which also notes the first month
//! with decisions in the meta table: an export without a start date begins
//! there.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use countersign_model::files::FileRef;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::DomainError;
use crate::items::{Item, condition_failed, s, unavailable, usable_key};
use crate::ledger::{Entry, KIND, MONTH, month_of};
use crate::outcome::Scope;
use crate::services::Services;
use crate::tables::DECISIONS_BY_MONTH;

/// The meta table row that names the first month with decisions.
const SINCE_ROW: &str = "audit-since";

/// Rows read per Query: one page is what an export holds at a time.
const PAGE: i32 = 500;

/// Which decisions an export holds. Dates are stamps (inclusive).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub kind: Option<String>,
    pub decider: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl Filter {
    /// A filter from what a person typed: dates as `YYYY-MM-DD` (the whole
    /// day, UTC) or RFC 3339 moments; blank fields filter nothing.
    pub fn parse(
        kind: Option<&str>,
        decider: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Self, DomainError> {
        let given = |v: Option<&str>| {
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let from = given(from)
            .map(|t| moment(&t, false).ok_or_else(|| bad_date("from", &t)))
            .transpose()?;
        let to = given(to)
            .map(|t| moment(&t, true).ok_or_else(|| bad_date("to", &t)))
            .transpose()?;
        if let (Some(from), Some(to)) = (&from, &to)
            && from > to
        {
            return Err(DomainError::Invalid(
                "the start date is after the end date".into(),
            ));
        }
        let filter = Filter {
            kind: given(kind),
            decider: given(decider),
            from,
            to,
        };
        for value in [&filter.kind, &filter.decider].into_iter().flatten() {
            if !usable_key(value) {
                return Err(DomainError::Invalid("a filter value is too long".into()));
            }
        }
        Ok(filter)
    }
}

fn bad_date(field: &str, text: &str) -> DomainError {
    let shown: String = text.chars().take(40).collect();
    DomainError::Invalid(format!(
        "`{field}` is not a date (YYYY-MM-DD) or an RFC 3339 time: {shown:?}"
    ))
}

/// A date or moment as a stamp: a date means its first millisecond, or
/// its last when it ends a range.
fn moment(text: &str, end_of_day: bool) -> Option<String> {
    let at = match OffsetDateTime::parse(text, &Rfc3339) {
        Ok(at) => at,
        Err(_) => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let day = time::Date::parse(text, format).ok()?;
            let time = if end_of_day {
                time::Time::from_hms_milli(23, 59, 59, 999).ok()?
            } else {
                time::Time::MIDNIGHT
            };
            day.with_time(time).assume_utc()
        }
    };
    let ms = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()?;
    // Years the stamp format cannot write are not dates anyone means.
    (0..=253_402_300_799_999)
        .contains(&ms)
        .then(|| crate::clock::stamp(ms))
}

/// One decision, as an export row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    /// When it was decided (claimed).
    pub at: String,
    /// The task's kind.
    pub kind: String,
    /// `order`, `signature` or `task`: what `subject` names.
    pub subject_kind: String,
    pub subject: String,
    /// The state (or order status) that waited.
    pub step: String,
    /// The action taken (`advance`, `sign`, a kind's own).
    pub action: String,
    /// `success` or `failure`: what the workflow was told.
    pub outcome: String,
    pub by: String,
    pub comment: Option<String>,
    pub error: Option<String>,
    pub reason: Option<String>,
    /// The files as the decider saw them.
    pub files: Vec<FileRef>,
    pub execution: String,
    pub task: String,
    /// The receipt's id: `GET /receipts/{receipt}`.
    pub receipt: String,
}

impl Row {
    /// The column names of [`Row::cells`], in order.
    pub const COLUMNS: [&'static str; 15] = [
        "at",
        "kind",
        "subject_kind",
        "subject",
        "step",
        "action",
        "outcome",
        "by",
        "comment",
        "error",
        "reason",
        "files",
        "execution",
        "task",
        "receipt",
    ];

    /// The row as text cells, files as `name sha256` joined by `; `.
    pub fn cells(&self) -> [String; 15] {
        let files = self
            .files
            .iter()
            .map(|f| format!("{} {}", f.name, f.sha256))
            .collect::<Vec<_>>()
            .join("; ");
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        [
            self.at.clone(),
            self.kind.clone(),
            self.subject_kind.clone(),
            self.subject.clone(),
            self.step.clone(),
            self.action.clone(),
            self.outcome.clone(),
            self.by.clone(),
            text(&self.comment),
            text(&self.error),
            text(&self.reason),
            files,
            self.execution.clone(),
            self.task.clone(),
            self.receipt.clone(),
        ]
    }

    fn of(entry: &Entry) -> Self {
        let (subject, decision) = crate::receipts::decision_of(entry);
        Row {
            at: decision.at,
            kind: entry.kind.clone(),
            subject_kind: subject.kind,
            subject: subject.id,
            step: entry.step.clone(),
            action: decision.action,
            outcome: decision.outcome,
            by: decision.by,
            comment: decision.comment,
            error: decision.error,
            reason: decision.reason,
            files: crate::receipts::files_of(entry),
            execution: entry.execution.clone(),
            task: entry.task_id.clone(),
            receipt: entry.task_id.clone(),
        }
    }
}

/// A month as (year, month), the index's partitions in order.
type Month = (i32, u8);

fn parse_month(text: &str) -> Option<Month> {
    let (year, month) = text.get(..7)?.split_once('-')?;
    let month: u8 = month.parse().ok()?;
    (1..=12)
        .contains(&month)
        .then_some((year.parse().ok()?, month))
}

fn next_month((year, month): Month) -> Month {
    if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    }
}

fn month_key((year, month): Month) -> String {
    format!("{year:04}-{month:02}")
}

/// An export under way: call [`Export::next_page`] until it says `None`.
/// It owns its handle on the services, so that a response body can carry
/// it for as long as the download lasts.
#[derive(Debug)]
pub struct Export {
    s: Services,
    filter: Filter,
    from: String,
    to: String,
    month: Month,
    last: Month,
    start: Option<Item>,
    done: bool,
}

impl Export {
    /// The next rows, oldest first; `None` once there are no more. Reads
    /// on until it has a row or the history ends, so that a filter that
    /// matches little does not hand back empty pages.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Row>>, DomainError> {
        while !self.done {
            let mut query = self
                .s
                .ddb
                .query()
                .table_name(&self.s.tables.decisions)
                .index_name(DECISIONS_BY_MONTH)
                .key_condition_expression("#month = :month AND #at BETWEEN :from AND :to")
                .expression_attribute_names("#month", MONTH)
                .expression_attribute_names("#at", "at")
                .expression_attribute_values(":month", AttributeValue::S(month_key(self.month)))
                .expression_attribute_values(":from", AttributeValue::S(self.from.clone()))
                .expression_attribute_values(":to", AttributeValue::S(self.to.clone()))
                .set_exclusive_start_key(self.start.take())
                .limit(PAGE);
            let mut conditions = Vec::new();
            if let Some(kind) = &self.filter.kind {
                conditions.push("#kind = :kind");
                query = query
                    .expression_attribute_names("#kind", KIND)
                    .expression_attribute_values(":kind", AttributeValue::S(kind.clone()));
            }
            if let Some(decider) = &self.filter.decider {
                conditions.push("#actor = :actor");
                query = query
                    .expression_attribute_names("#actor", "actor")
                    .expression_attribute_values(":actor", AttributeValue::S(decider.clone()));
            }
            if !conditions.is_empty() {
                query = query.filter_expression(conditions.join(" AND "));
            }
            let out = query
                .send()
                .await
                .map_err(|e| unavailable("reading the decision history")(format!("{e:?}")))?;
            self.start = out.last_evaluated_key().cloned();
            if self.start.is_none() {
                if self.month >= self.last {
                    self.done = true;
                } else {
                    self.month = next_month(self.month);
                }
            }
            let rows: Vec<Row> = out
                .items()
                .iter()
                .filter_map(Entry::from_item)
                .filter(|e| e.applied)
                .map(|e| Row::of(&e))
                .collect();
            if !rows.is_empty() {
                return Ok(Some(rows));
            }
        }
        Ok(None)
    }
}

/// The decision history for auditors. A handle on [`Services`]; get one
/// with [`Services::audit`].
#[derive(Debug, Clone, Copy)]
pub struct Audit<'a> {
    s: &'a Services,
}

impl Services {
    /// The audit export of decisions.
    pub fn audit(&self) -> Audit<'_> {
        Audit { s: self }
    }
}

impl Audit<'_> {
    /// An export of the decisions `filter` names. Callers check who may
    /// export ([`crate::access::audit_export`]).
    pub async fn export(self, filter: Filter) -> Result<Export, DomainError> {
        let from = match &filter.from {
            Some(from) => from.clone(),
            None => format!("{}-01T00:00:00.000Z", self.prepare().await?),
        };
        let to = filter.to.clone().unwrap_or_else(|| self.s.clock.stamp());
        let (Some(month), Some(last)) = (parse_month(&from), parse_month(&to)) else {
            return Err(DomainError::Invalid("the dates are out of range".into()));
        };
        Ok(Export {
            s: self.s.clone(),
            filter,
            done: from > to,
            from,
            to,
            month,
            last,
            start: None,
        })
    }

    /// Files every decision that took effect before decisions were filed
    /// by month, and notes the first month with any decision; once per
    /// deployment (later calls read the note). Safe on several replicas at
    /// once: each write is conditional and the same whoever makes it.
    /// Returns the first month (`YYYY-MM`).
    pub async fn prepare(self) -> Result<String, DomainError> {
        if let Some(since) = self.since().await? {
            return Ok(since);
        }
        // A decision claimed from now on is no older than this.
        let mut first = month_of(&self.s.clock.stamp()).to_owned();
        let mut filed = 0usize;
        let mut start = None;
        loop {
            let out = self
                .s
                .ddb
                .scan()
                .table_name(&self.s.tables.decisions)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable("reading decisions to file")(format!("{e:?}")))?;
            for item in out.items() {
                let Some(entry) = Entry::from_item(item) else {
                    continue;
                };
                // Unfinished ones included: they may take effect later.
                let month = month_of(&entry.at);
                if parse_month(month).is_some() && month < first.as_str() {
                    first = month.to_owned();
                }
                if entry.applied && !item.contains_key(MONTH) {
                    self.file(item, &entry).await?;
                    filed += 1;
                }
            }
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        let put = self
            .s
            .ddb
            .put_item()
            .table_name(&self.s.tables.meta)
            .item("key", AttributeValue::S(SINCE_ROW.into()))
            .item("month", AttributeValue::S(first.clone()))
            .condition_expression("attribute_not_exists(#k) OR #month > :month")
            .expression_attribute_names("#k", "key")
            .expression_attribute_names("#month", "month")
            .expression_attribute_values(":month", AttributeValue::S(first.clone()))
            .send()
            .await;
        match put {
            Ok(_) => {
                tracing::info!(filed, since = first, "decision history filed by month");
                Ok(first)
            }
            Err(e) if condition_failed(&e) => self.since().await?.ok_or(DomainError::Unavailable),
            Err(e) => Err(unavailable("noting the first month of decisions")(format!(
                "{e:?}"
            ))),
        }
    }

    async fn since(self) -> Result<Option<String>, DomainError> {
        let out = self
            .s
            .ddb
            .get_item()
            .table_name(&self.s.tables.meta)
            .key("key", AttributeValue::S(SINCE_ROW.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("reading the first month of decisions")(format!("{e:?}")))?;
        Ok(out.item().and_then(|item| s(item, "month")))
    }

    /// Files one earlier decision under its month, with its task's kind
    /// when the row does not say it.
    async fn file(self, item: &Item, entry: &Entry) -> Result<(), DomainError> {
        let mut names = HashMap::from([("#month".to_owned(), MONTH.to_owned())]);
        let mut values = HashMap::from([
            (
                ":month".to_owned(),
                AttributeValue::S(month_of(&entry.at).to_owned()),
            ),
            (":true".to_owned(), AttributeValue::Bool(true)),
        ]);
        let mut update = "SET #month = :month".to_owned();
        if !item.contains_key(KIND) {
            let kind = match entry.scope {
                Scope::Task { .. } => self
                    .s
                    .tasks()
                    .row(&entry.task_id)
                    .await?
                    .and_then(|(task, _)| task.kind().map(str::to_owned))
                    .unwrap_or_default(),
                _ => entry.kind.clone(),
            };
            update.push_str(", #kind = :kind");
            names.insert("#kind".into(), KIND.into());
            values.insert(":kind".into(), AttributeValue::S(kind));
        }
        let filed = self
            .s
            .ddb
            .update_item()
            .table_name(&self.s.tables.decisions)
            .key("taskId", AttributeValue::S(entry.task_id.clone()))
            .update_expression(update)
            .condition_expression("applied = :true")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match filed {
            Ok(_) => Ok(()),
            // Claimed again since it was read (it had FAILED): the new
            // claim files itself when it takes effect.
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(unavailable("filing a decision")(format!("{e:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_whole_days_and_moments_are_kept() {
        let filter = Filter::parse(
            Some(" expense "),
            Some(""),
            Some("2026-01-31"),
            Some("2026-02-01"),
        )
        .expect("valid");
        assert_eq!(filter.kind.as_deref(), Some("expense"));
        assert_eq!(filter.decider, None);
        assert_eq!(filter.from.as_deref(), Some("2026-01-31T00:00:00.000Z"));
        assert_eq!(filter.to.as_deref(), Some("2026-02-01T23:59:59.999Z"));
        let moment =
            Filter::parse(None, None, Some("2026-01-31T10:00:00+02:00"), None).expect("valid");
        assert_eq!(moment.from.as_deref(), Some("2026-01-31T08:00:00.000Z"));
    }

    #[test]
    fn bad_dates_and_reversed_ranges_are_refused() {
        for (from, to) in [
            (Some("yesterday"), None),
            (None, Some("2026-13-01")),
            (Some("2026-02-02"), Some("2026-02-01")),
            (Some("-1000-01-01"), None),
        ] {
            assert!(
                matches!(
                    Filter::parse(None, None, from, to),
                    Err(DomainError::Invalid(_))
                ),
                "{from:?}..{to:?}"
            );
        }
    }

    #[test]
    fn months_run_over_the_year_end() {
        assert_eq!(parse_month("2026-12-31T23:59:59.999Z"), Some((2026, 12)));
        assert_eq!(next_month((2026, 12)), (2027, 1));
        assert_eq!(month_key(next_month((2027, 1))), "2027-02");
        assert_eq!(parse_month("2026-00"), None);
    }
}
