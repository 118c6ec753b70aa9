//! Where an answer to a waiting task leads: the states the workflow runs
//! through until it waits again, ends, fails, or reaches a Choice that
//! depends on data. Followed on the definition alone: Pass states are
//! passed over (they only shape data) unless one ends its machine (a
//! named outcome such as "Approved"), other tasks are assumed to succeed,
//! and a Map or Parallel goes on once all its work is done.

use std::fmt;

use crate::graph::{Kind, Machine, State};

/// How the task is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer<'a> {
    /// `SendTaskSuccess`.
    Success,
    /// `SendTaskFailure` with this error name.
    Failure(&'a str),
}

/// The way from an answer to where the workflow stops next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leads {
    pub steps: Vec<Step>,
    pub end: End,
}

/// A state passed through on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub state: String,
    pub how: How,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// It runs.
    Runs,
    /// A Fail state inside a Map or Parallel: the whole of it fails.
    Fails,
    /// The Map or Parallel this answer is inside goes on from here once
    /// every item or branch is done.
    OnceAllDone,
    /// A timer.
    Waits,
}

/// Where it stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// At another task that waits for an answer.
    WaitsAt(String),
    Succeeds,
    Fails {
        error: String,
    },
    /// A Choice whose rules read data the page cannot know.
    DependsOn {
        choice: String,
        options: Vec<String>,
    },
    /// The state is not in this definition (an older version, say).
    Unknown,
}

/// A walk longer than this is a loop (Retry-like cycles through a Choice).
const MAX_STEPS: usize = 64;

/// Follows `answer` from the waiting state `from`.
pub fn leads(machine: &Machine, from: &str, answer: Answer<'_>) -> Leads {
    let Some(found) = machine.find(from) else {
        return Leads {
            steps: Vec::new(),
            end: End::Unknown,
        };
    };
    let mut walk = Walk {
        steps: Vec::new(),
        around: found.around,
    };
    let end = walk.leave(found.state, found.machine, answer);
    Leads {
        steps: walk.steps,
        end,
    }
}

struct Walk<'a> {
    steps: Vec<Step>,
    /// The containers still to climb out of, outermost first.
    around: Vec<(&'a State, &'a Machine)>,
}

impl<'a> Walk<'a> {
    /// Leaves `state` with `answer` and follows on.
    fn leave(&mut self, state: &'a State, machine: &'a Machine, answer: Answer<'_>) -> End {
        let target = match answer {
            Answer::Success => state.next(),
            Answer::Failure(error) => match state.catcher(error) {
                Some(to) => Some(to),
                None => return self.fail(error),
            },
        };
        match target {
            Some(to) => self.enter(to, machine),
            None => self.finish(),
        }
    }

    /// Runs from `name` in `machine` until something stops it.
    fn enter(&mut self, mut name: &'a str, machine: &'a Machine) -> End {
        while self.steps.len() < MAX_STEPS {
            let Some(state) = machine.state(name) else {
                return End::Unknown;
            };
            let next = match &state.kind {
                Kind::Task { waits: true, .. } => return End::WaitsAt(state.name.clone()),
                Kind::Choice => {
                    return End::DependsOn {
                        choice: state.name.clone(),
                        options: state.transitions.iter().map(|t| t.to.clone()).collect(),
                    };
                }
                Kind::Succeed => return self.finish(),
                Kind::Fail { error } => {
                    let error = error.clone().unwrap_or_else(|| "States.Fail".into());
                    if self.around.is_empty() {
                        self.steps.push(Step {
                            state: state.name.clone(),
                            how: How::Runs,
                        });
                        return End::Fails { error };
                    }
                    self.steps.push(Step {
                        state: state.name.clone(),
                        how: How::Fails,
                    });
                    return self.fail(&error);
                }
                // A Pass that ends its machine is a named outcome
                // ("Approved"); others only shape data.
                Kind::Pass if state.end => {
                    self.steps.push(Step {
                        state: state.name.clone(),
                        how: How::Runs,
                    });
                    None
                }
                Kind::Pass => state.next(),
                Kind::Wait => {
                    self.steps.push(Step {
                        state: state.name.clone(),
                        how: How::Waits,
                    });
                    state.next()
                }
                Kind::Task { .. } | Kind::Parallel { .. } | Kind::Map { .. } => {
                    self.steps.push(Step {
                        state: state.name.clone(),
                        how: How::Runs,
                    });
                    state.next()
                }
            };
            match next {
                Some(to) => name = to,
                None => return self.finish(),
            }
        }
        End::Unknown
    }

    /// The current machine ended well: climb out of a Map or Parallel, or
    /// the execution succeeds.
    fn finish(&mut self) -> End {
        match self.around.pop() {
            None => End::Succeeds,
            Some((container, outer)) => {
                self.steps.push(Step {
                    state: container.name.clone(),
                    how: How::OnceAllDone,
                });
                self.leave(container, outer, Answer::Success)
            }
        }
    }

    /// An error escapes the current machine: its container fails with it
    /// (and may catch it), or the execution fails.
    fn fail(&mut self, error: &str) -> End {
        match self.around.pop() {
            None => End::Fails {
                error: error.to_owned(),
            },
            Some((container, outer)) => self.leave(container, outer, Answer::Failure(error)),
        }
    }
}

impl fmt::Display for Leads {
    /// "Record PROCESSING → waits at Wait for staff: PROCESSING".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            match step.how {
                How::Runs => write!(f, "{} → ", step.state)?,
                How::Fails => write!(f, "{} (fails) → ", step.state)?,
                How::OnceAllDone => write!(f, "once all of {} is done → ", step.state)?,
                How::Waits => write!(f, "{} (a timer) → ", step.state)?,
            }
        }
        match &self.end {
            End::WaitsAt(state) => write!(f, "waits at {state}"),
            End::Succeeds => f.write_str("the workflow ends"),
            End::Fails { error } => write!(f, "the workflow fails ({error})"),
            End::DependsOn { choice, options } => {
                write!(f, "{choice}: then {}", options.join(" or "))
            }
            End::Unknown => f.write_str("not known from the workflow's definition"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(json: &str) -> Machine {
        Machine::parse(json).expect("parses")
    }

    #[test]
    fn success_runs_to_the_next_waiting_task_passing_over_pass_states() {
        let m = machine(
            r#"{"StartAt":"Ask","States":{
                "Ask":{"Type":"Task","Resource":"x.waitForTaskToken","Next":"Record"},
                "Record":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:updateItem","Next":"Shape"},
                "Shape":{"Type":"Pass","Next":"Again"},
                "Again":{"Type":"Task","Resource":"x.waitForTaskToken","End":true}}}"#,
        );
        let way = leads(&m, "Ask", Answer::Success);
        assert_eq!(way.to_string(), "Record → waits at Again");
        assert_eq!(
            leads(&m, "Again", Answer::Success).to_string(),
            "the workflow ends"
        );
    }

    #[test]
    fn a_failure_follows_its_catch_or_fails_the_workflow() {
        let m = machine(
            r#"{"StartAt":"Ask","States":{
                "Ask":{"Type":"Task","Resource":"x.waitForTaskToken","End":true,
                       "Catch":[{"ErrorEquals":["States.Timeout"],"Next":"Late"},
                                {"ErrorEquals":["States.TaskFailed"],"Next":"No"}]},
                "Late":{"Type":"Fail","Error":"Late"},
                "No":{"Type":"Succeed"}}}"#,
        );
        assert_eq!(
            leads(&m, "Ask", Answer::Failure("Rejected")).end,
            End::Succeeds
        );
        let late = leads(&m, "Ask", Answer::Failure("States.Timeout"));
        assert_eq!(late.to_string(), "Late → the workflow fails (Late)");
    }

    #[test]
    fn inside_a_map_a_failure_climbs_out_to_the_maps_catch() {
        let m = machine(
            r#"{"StartAt":"Each","States":{
                "Each":{"Type":"Map","Next":"All signed",
                        "Catch":[{"ErrorEquals":["States.ALL"],"Next":"Declined"}],
                        "ItemProcessor":{"StartAt":"Sign","States":{
                            "Sign":{"Type":"Task","Resource":"x.waitForTaskToken","Next":"Note",
                                    "Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"No"}]},
                            "Note":{"Type":"Task","Resource":"y","End":true},
                            "No":{"Type":"Fail","Error":"Declined"}}}},
                "All signed":{"Type":"Pass","End":true},
                "Declined":{"Type":"Task","Resource":"y","End":true}}}"#,
        );
        assert_eq!(
            leads(&m, "Sign", Answer::Success).to_string(),
            "Note → once all of Each is done → All signed → the workflow ends"
        );
        assert_eq!(
            leads(&m, "Sign", Answer::Failure("Rejected")).to_string(),
            "No (fails) → Declined → the workflow ends"
        );
    }

    #[test]
    fn a_choice_on_data_is_named_with_its_options() {
        let m = machine(
            r#"{"StartAt":"Ask","States":{
                "Ask":{"Type":"Task","Resource":"x.waitForTaskToken","Next":"Big?"},
                "Big?":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":1,"Next":"A"}],"Default":"B"},
                "A":{"Type":"Succeed"},"B":{"Type":"Succeed"}}}"#,
        );
        assert_eq!(
            leads(&m, "Ask", Answer::Success).to_string(),
            "Big?: then A or B"
        );
    }

    #[test]
    fn a_loop_and_a_missing_state_end_as_unknown() {
        let m = machine(
            r#"{"StartAt":"Ask","States":{
                "Ask":{"Type":"Task","Resource":"x.waitForTaskToken","Next":"Spin"},
                "Spin":{"Type":"Task","Resource":"y","Next":"Spin"}}}"#,
        );
        assert_eq!(leads(&m, "Ask", Answer::Success).end, End::Unknown);
        assert_eq!(leads(&m, "Gone", Answer::Success).end, End::Unknown);
    }
}
