//! What an execution's history says about each state: entered, left,
//! failed, and which transitions were taken. Read from event kinds and the
//! `previous` links Step Functions records, so interleaved Map iterations
//! and Parallel branches are attributed correctly.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use countersign_model::events::ExecutionEvent;

/// How a state stands in one execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Not reached.
    Untouched,
    /// Entered and left.
    Taken,
    /// Entered and not yet left: the execution is here.
    Here,
    /// A task in it failed or timed out, or it is a Fail state reached.
    Failed,
}

impl Mark {
    pub fn as_str(self) -> &'static str {
        match self {
            Mark::Untouched => "untouched",
            Mark::Taken => "taken",
            Mark::Here => "here",
            Mark::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trace {
    entered: BTreeMap<String, u32>,
    exited: BTreeMap<String, u32>,
    failed: BTreeSet<String>,
    /// (from, to, whether it left through a Catch).
    edges: BTreeSet<(String, String, bool)>,
}

impl Trace {
    /// Reads events in any order (ids tie them together).
    pub fn of(events: &[ExecutionEvent]) -> Trace {
        let by_id: HashMap<i64, &ExecutionEvent> = events.iter().map(|e| (e.id, e)).collect();
        let mut trace = Trace::default();
        for event in events {
            let kind = event.kind.as_str();
            if kind.ends_with("StateEntered") {
                let Some(name) = &event.state else { continue };
                *trace.entered.entry(name.clone()).or_default() += 1;
                if kind == "FailStateEntered" {
                    trace.failed.insert(name.clone());
                }
                // Step Functions links a state's entry to the exit of the
                // one before it in the same thread, and that exit to a
                // failure when a Catch took it.
                if let Some(before) = by_id.get(&event.previous)
                    && before.kind.ends_with("StateExited")
                    && let Some(from) = &before.state
                {
                    let caught = by_id
                        .get(&before.previous)
                        .is_some_and(|e| is_failure(&e.kind));
                    trace.edges.insert((from.clone(), name.clone(), caught));
                }
            } else if kind.ends_with("StateExited") {
                if let Some(name) = &event.state {
                    *trace.exited.entry(name.clone()).or_default() += 1;
                }
            } else if is_failure(kind)
                && let Some(name) = entered_before(&by_id, event)
            {
                trace.failed.insert(name);
            }
        }
        // A timed-out or aborted execution leaves its open states failed.
        if events
            .iter()
            .any(|e| e.kind == "ExecutionTimedOut" || e.kind == "ExecutionAborted")
        {
            let open: Vec<String> = trace
                .entered
                .keys()
                .filter(|n| trace.mark(n) == Mark::Here)
                .cloned()
                .collect();
            trace.failed.extend(open);
        }
        trace
    }

    pub fn mark(&self, state: &str) -> Mark {
        let entered = self.entered.get(state).copied().unwrap_or(0);
        let exited = self.exited.get(state).copied().unwrap_or(0);
        if self.failed.contains(state) {
            Mark::Failed
        } else if entered > exited {
            Mark::Here
        } else if entered > 0 {
            Mark::Taken
        } else {
            Mark::Untouched
        }
    }

    /// Whether the execution went from `from` straight to `to`, through a
    /// Catch (`caught`) or not.
    pub fn took(&self, from: &str, to: &str, caught: bool) -> bool {
        self.edges
            .contains(&(from.to_owned(), to.to_owned(), caught))
    }

    /// States the execution has reached, in name order.
    pub fn reached(&self) -> impl Iterator<Item = &str> {
        self.entered.keys().map(String::as_str)
    }
}

/// Event kinds that say a state's work failed. The execution's own end
/// is left out: it follows a failure already attributed.
fn is_failure(kind: &str) -> bool {
    !kind.starts_with("Execution")
        && !kind.starts_with("MapIteration")
        && (kind.ends_with("Failed") || kind.ends_with("TimedOut"))
}

/// The state whose entry this event follows, through `previous` links.
fn entered_before(by_id: &HashMap<i64, &ExecutionEvent>, event: &ExecutionEvent) -> Option<String> {
    let mut at = by_id.get(&event.previous)?;
    // A history is at most 25,000 events; the bound only guards a cycle.
    for _ in 0..25_000 {
        if at.kind.ends_with("StateEntered") {
            return at.state.clone();
        }
        at = by_id.get(&at.previous)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: i64, previous: i64, kind: &str, state: Option<&str>) -> ExecutionEvent {
        ExecutionEvent {
            id,
            previous,
            kind: kind.into(),
            at: String::new(),
            state: state.map(str::to_owned),
            resource: None,
            error: None,
            cause: None,
        }
    }

    #[test]
    fn a_caught_failure_marks_the_task_and_the_edge_to_its_catcher() {
        let events = [
            event(1, 0, "ExecutionStarted", None),
            event(2, 1, "TaskStateEntered", Some("Ask")),
            event(3, 2, "TaskScheduled", None),
            event(4, 3, "TaskStarted", None),
            event(5, 4, "TaskFailed", None),
            event(6, 5, "TaskStateExited", Some("Ask")),
            event(7, 6, "PassStateEntered", Some("Rejected")),
        ];
        let trace = Trace::of(&events);
        assert_eq!(trace.mark("Ask"), Mark::Failed);
        assert_eq!(trace.mark("Rejected"), Mark::Here);
        assert_eq!(trace.mark("Approved"), Mark::Untouched);
        assert!(trace.took("Ask", "Rejected", true));
        assert!(!trace.took("Ask", "Rejected", false), "not through Next");
        assert!(!trace.took("Ask", "Approved", false));
    }

    #[test]
    fn interleaved_iterations_count_each_entry() {
        let events = [
            event(1, 0, "MapIterationStarted", Some("Each #0")),
            event(2, 0, "MapIterationStarted", Some("Each #1")),
            event(3, 1, "PassStateEntered", Some("One")),
            event(4, 2, "PassStateEntered", Some("One")),
            event(5, 3, "PassStateExited", Some("One")),
        ];
        let trace = Trace::of(&events);
        assert_eq!(
            trace.mark("One"),
            Mark::Here,
            "one iteration is still in it"
        );
    }

    #[test]
    fn a_timed_out_execution_fails_where_it_stood() {
        let events = [
            event(1, 0, "TaskStateEntered", Some("Ask")),
            event(2, 1, "ExecutionTimedOut", None),
        ];
        assert_eq!(Trace::of(&events).mark("Ask"), Mark::Failed);
    }
}
