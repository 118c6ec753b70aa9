//! Where an execution stands: the definition it runs (the one it started
//! with, through `DescribeStateMachineForExecution`, so an updated machine
//! does not redraw an older run) and its history, reduced as in
//! [`crate::live`] to what is safe to show. Pages draw the workflow and say
//! where each answer leads from these two.

use crate::DomainError;
use crate::items::unavailable;
use crate::live::{ExecutionEvent, event_of};
use crate::services::Services;

/// Step Functions keeps at most 25,000 events an execution; a drawing
/// needs far fewer to be right for any workflow a person waits in, and a
/// page must not read a huge history on every refresh.
pub const MAX_EVENTS: usize = 5_000;

/// An execution's definition and events.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    /// The state machine's name.
    pub name: String,
    pub definition: String,
    /// Oldest first.
    pub events: Vec<ExecutionEvent>,
    /// False when the history was longer than [`MAX_EVENTS`].
    pub complete: bool,
}

/// A handle on [`Services`]; get one with [`Services::progress`].
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    s: &'a Services,
}

impl Services {
    /// Executions' definitions and histories.
    pub fn progress(&self) -> Progress<'_> {
        Progress { s: self }
    }
}

impl Progress<'_> {
    /// The execution's definition and history. The caller has checked that
    /// the reader may see what the execution belongs to.
    pub async fn of(self, execution_arn: &str) -> Result<Standing, DomainError> {
        let machine = self
            .s
            .sfn
            .describe_state_machine_for_execution()
            .execution_arn(execution_arn)
            .send()
            .await
            .map_err(|e| {
                let missing = e
                    .as_service_error()
                    .is_some_and(|e| e.is_execution_does_not_exist() || e.is_invalid_arn());
                if missing {
                    DomainError::NotFound
                } else {
                    unavailable("reading an execution's definition")(format!("{e:?}"))
                }
            })?;
        let mut events = Vec::new();
        let mut page: Option<String> = None;
        loop {
            let out = self
                .s
                .sfn
                .get_execution_history()
                .execution_arn(execution_arn)
                .max_results(1000)
                .set_next_token(page.take())
                .include_execution_data(false)
                .send()
                .await
                .map_err(|e| unavailable("reading an execution's history")(format!("{e:?}")))?;
            events.extend(out.events().iter().map(event_of));
            page = out.next_token().map(str::to_owned);
            if page.is_none() || events.len() >= MAX_EVENTS {
                break;
            }
        }
        events.truncate(MAX_EVENTS);
        Ok(Standing {
            name: machine.name().to_owned(),
            definition: machine.definition().to_owned(),
            complete: page.is_none(),
            events,
        })
    }
}
