//! What the dashboard watches: a change counter, and an execution's events.
//!
//! **The change counter** is one row in the meta table. Everything that
//! changes what a person sees through Countersign (an order placed, a
//! document sent for signing, a decision) bumps it after the change. Each
//! dashboard replica reads it a few times a second and tells its open pages
//! to refresh when it moves, so a decision made on one replica reaches pages
//! served by another: the counter lives in DynamoDB, which they share.
//!
//! **Execution events** are the Step Functions history of an order or a
//! document, reduced to what is safe to show: event type, time, state,
//! resource, error and cause. Inputs, outputs and task parameters are left
//! out, because a waiting task's parameters hold its task token.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sfn::primitives::DateTimeFormat;
use aws_sdk_sfn::types::HistoryEvent;

use crate::DomainError;
use crate::items::unavailable;
use crate::services::Services;
pub use countersign_model::events::{EventsPage, ExecutionEvent};

/// The meta row that counts changes.
pub const CHANGES_KEY: &str = "changes";

/// The change counter the pages watch, and executions' events.
/// A handle on [`Services`]; get one with [`Services::live`].
#[derive(Debug, Clone, Copy)]
pub struct Live<'a> {
    s: &'a Services,
}

impl Services {
    /// The change counter and execution events.
    pub fn live(&self) -> Live<'_> {
        Live { s: self }
    }
}

impl Live<'_> {
    /// Bumps the change counter. A failure is logged, not returned: the
    /// change itself happened, and pages still refresh on their next look.
    pub async fn announce(self) {
        if let Err(e) = self.try_announce().await {
            tracing::warn!(error = %e, "bumping the change counter failed");
        }
    }

    /// Bumps the change counter, saying whether it worked.
    pub async fn try_announce(self) -> Result<(), DomainError> {
        self.s
            .ddb
            .update_item()
            .table_name(&self.s.tables.meta)
            .key("key", AttributeValue::S(CHANGES_KEY.into()))
            .update_expression("ADD #n :one")
            .expression_attribute_names("#n", "n")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable("bumping the change counter")(format!("{e:?}")))
    }

    /// The change counter now (0 before the first change).
    pub async fn changes(self) -> Result<u64, DomainError> {
        let out = self
            .s
            .ddb
            .get_item()
            .table_name(&self.s.tables.meta)
            .key("key", AttributeValue::S(CHANGES_KEY.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("reading the change counter")(format!("{e:?}")))?;
        Ok(out
            .item()
            .and_then(|i| i.get("n"))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0))
    }

    /// A page of an execution's events, oldest first.
    pub async fn execution_events(
        self,
        execution_arn: &str,
        limit: i32,
        page: Option<&str>,
    ) -> Result<EventsPage, DomainError> {
        let out = self
            .s
            .sfn
            .get_execution_history()
            .execution_arn(execution_arn)
            .max_results(limit.clamp(1, 100))
            .set_next_token(page.filter(|p| !p.is_empty()).map(str::to_owned))
            .include_execution_data(false)
            .send()
            .await
            .map_err(|e| {
                let missing = e
                    .as_service_error()
                    .is_some_and(|e| e.is_execution_does_not_exist() || e.is_invalid_arn());
                let bad_page = e.as_service_error().is_some_and(|e| e.is_invalid_token());
                if missing {
                    DomainError::NotFound
                } else if bad_page {
                    DomainError::Invalid("malformed page token".into())
                } else {
                    unavailable("reading an execution's events")(format!("{e:?}"))
                }
            })?;
        Ok(EventsPage {
            events: out.events().iter().map(event_of).collect(),
            next: out.next_token().map(str::to_owned),
        })
    }
}

pub(crate) fn event_of(e: &HistoryEvent) -> ExecutionEvent {
    let state = e
        .state_entered_event_details()
        .map(|d| d.name().to_owned())
        .or_else(|| e.state_exited_event_details().map(|d| d.name().to_owned()))
        .or_else(|| {
            [
                e.map_iteration_started_event_details(),
                e.map_iteration_succeeded_event_details(),
                e.map_iteration_failed_event_details(),
                e.map_iteration_aborted_event_details(),
            ]
            .into_iter()
            .flatten()
            .next()
            .map(|d| format!("{} #{}", d.name().unwrap_or("iteration"), d.index()))
        });
    let resource = e
        .task_scheduled_event_details()
        .map(|d| (d.resource_type(), d.resource()))
        .or_else(|| {
            e.task_succeeded_event_details()
                .map(|d| (d.resource_type(), d.resource()))
        })
        .or_else(|| {
            e.task_failed_event_details()
                .map(|d| (d.resource_type(), d.resource()))
        })
        .or_else(|| {
            e.task_timed_out_event_details()
                .map(|d| (d.resource_type(), d.resource()))
        })
        .map(|(kind, name)| format!("{kind}:{name}"));
    let failure = e
        .task_failed_event_details()
        .map(|d| (d.error(), d.cause()))
        .or_else(|| {
            e.task_timed_out_event_details()
                .map(|d| (d.error(), d.cause()))
        })
        .or_else(|| {
            e.execution_failed_event_details()
                .map(|d| (d.error(), d.cause()))
        })
        .or_else(|| {
            e.execution_timed_out_event_details()
                .map(|d| (d.error(), d.cause()))
        })
        .or_else(|| {
            e.execution_aborted_event_details()
                .map(|d| (d.error(), d.cause()))
        });
    ExecutionEvent {
        id: e.id(),
        previous: e.previous_event_id(),
        kind: e.r#type().as_str().to_owned(),
        at: e
            .timestamp()
            .fmt(DateTimeFormat::DateTime)
            .unwrap_or_default(),
        state,
        resource,
        error: failure.and_then(|f| f.0).map(str::to_owned),
        cause: failure.and_then(|f| f.1).map(str::to_owned),
    }
}
