//! A definition read as a graph: its states, what kind each is, and the
//! transitions between them (Next, Choice rules and Default, Catch).
//! Only what drawing and following need is read; the engine (or AWS)
//! validates the rest.

use serde_json::{Map, Value};

use crate::FlowError;

/// One level of a definition: the top, a Parallel branch or a Map's
/// item processor.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    pub start: String,
    /// In the order they are reached from `start` (then any unreachable),
    /// so a drawing does not depend on how the JSON object was ordered.
    pub states: Vec<State>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub name: String,
    pub kind: Kind,
    pub transitions: Vec<Transition>,
    /// `End: true` (or Succeed/Fail, which end by their nature).
    pub end: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Task {
        resource: String,
        /// A `.waitForTaskToken` task: someone answers it.
        waits: bool,
    },
    Pass,
    Choice,
    Wait,
    Succeed,
    Fail {
        error: Option<String>,
    },
    Parallel {
        branches: Vec<Machine>,
    },
    Map {
        processor: Box<Machine>,
    },
}

impl Kind {
    /// The ASL type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Task { .. } => "Task",
            Kind::Pass => "Pass",
            Kind::Choice => "Choice",
            Kind::Wait => "Wait",
            Kind::Succeed => "Succeed",
            Kind::Fail { .. } => "Fail",
            Kind::Parallel { .. } => "Parallel",
            Kind::Map { .. } => "Map",
        }
    }

    /// The machines inside a Parallel or Map.
    pub fn inner(&self) -> &[Machine] {
        match self {
            Kind::Parallel { branches } => branches,
            Kind::Map { processor } => std::slice::from_ref(processor),
            _ => &[],
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub to: String,
    pub via: Via,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Via {
    Next,
    /// The Choice rule at this index (0-based) matched.
    Rule(usize),
    Default,
    /// A Catch for these error names.
    Catch(Vec<String>),
}

impl Machine {
    /// Reads a definition (ASL JSON).
    pub fn parse(definition: &str) -> Result<Machine, FlowError> {
        let value: Value =
            serde_json::from_str(definition).map_err(|e| FlowError::NotJson(e.to_string()))?;
        Machine::from_value(&value, None)
    }

    fn from_value(value: &Value, owner: Option<&str>) -> Result<Machine, FlowError> {
        let missing = |field: &'static str| FlowError::Missing {
            field,
            state: owner.map(str::to_owned),
        };
        let start = value
            .get("StartAt")
            .and_then(Value::as_str)
            .ok_or_else(|| missing("StartAt"))?
            .to_owned();
        let states = value
            .get("States")
            .and_then(Value::as_object)
            .ok_or_else(|| missing("States"))?;
        let mut read = Vec::with_capacity(states.len());
        for (name, body) in states {
            read.push(State::from_value(name, body)?);
        }
        Ok(Machine {
            states: reach_order(&start, read),
            start,
        })
    }

    pub fn state(&self, name: &str) -> Option<&State> {
        self.states.iter().find(|s| s.name == name)
    }

    /// The state named `name` at any depth, with the Map and Parallel
    /// states around it, outermost first, each with the machine it is in.
    pub fn find<'a>(&'a self, name: &str) -> Option<Found<'a>> {
        if let Some(state) = self.state(name) {
            return Some(Found {
                state,
                machine: self,
                around: Vec::new(),
            });
        }
        for outer in &self.states {
            for inner in outer.kind.inner() {
                if let Some(mut found) = inner.find(name) {
                    found.around.insert(0, (outer, self));
                    return Some(found);
                }
            }
        }
        None
    }

    /// Every state at every depth.
    pub fn count(&self) -> usize {
        self.states
            .iter()
            .map(|s| 1 + s.kind.inner().iter().map(Machine::count).sum::<usize>())
            .sum()
    }
}

/// Where a state sits.
#[derive(Debug, Clone)]
pub struct Found<'a> {
    pub state: &'a State,
    pub machine: &'a Machine,
    /// The containers, outermost first: (Map or Parallel state, the machine
    /// it is in).
    pub around: Vec<(&'a State, &'a Machine)>,
}

impl State {
    fn from_value(name: &str, body: &Value) -> Result<State, FlowError> {
        let missing = |field: &'static str| FlowError::Missing {
            field,
            state: Some(name.to_owned()),
        };
        let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
        let kind = match body.get("Type").and_then(Value::as_str) {
            Some("Task") => {
                let resource = text("Resource").ok_or_else(|| missing("Resource"))?;
                Kind::Task {
                    waits: resource.ends_with(".waitForTaskToken"),
                    resource,
                }
            }
            Some("Pass") => Kind::Pass,
            Some("Choice") => Kind::Choice,
            Some("Wait") => Kind::Wait,
            Some("Succeed") => Kind::Succeed,
            Some("Fail") => Kind::Fail {
                error: text("Error"),
            },
            Some("Parallel") => {
                let branches = body
                    .get("Branches")
                    .and_then(Value::as_array)
                    .ok_or_else(|| missing("Branches"))?;
                Kind::Parallel {
                    branches: branches
                        .iter()
                        .map(|b| Machine::from_value(b, Some(name)))
                        .collect::<Result<_, _>>()?,
                }
            }
            Some("Map") => {
                let processor = body
                    .get("ItemProcessor")
                    .or_else(|| body.get("Iterator"))
                    .ok_or_else(|| missing("ItemProcessor"))?;
                Kind::Map {
                    processor: Box::new(Machine::from_value(processor, Some(name))?),
                }
            }
            Some(other) => {
                return Err(FlowError::UnknownType {
                    state: name.to_owned(),
                    type_name: other.to_owned(),
                });
            }
            None => return Err(missing("Type")),
        };
        let body = body.as_object().ok_or_else(|| missing("Type"))?;
        let mut transitions = Vec::new();
        if let Some(choices) = body.get("Choices").and_then(Value::as_array) {
            for (rule, choice) in choices.iter().enumerate() {
                if let Some(to) = choice.get("Next").and_then(Value::as_str) {
                    transitions.push(Transition {
                        to: to.to_owned(),
                        via: Via::Rule(rule),
                    });
                }
            }
        }
        if let Some(to) = body.get("Default").and_then(Value::as_str) {
            transitions.push(Transition {
                to: to.to_owned(),
                via: Via::Default,
            });
        }
        if let Some(to) = body.get("Next").and_then(Value::as_str) {
            transitions.push(Transition {
                to: to.to_owned(),
                via: Via::Next,
            });
        }
        transitions.extend(catches(body));
        let end = body.get("End").and_then(Value::as_bool) == Some(true)
            || matches!(kind, Kind::Succeed | Kind::Fail { .. });
        Ok(State {
            name: name.to_owned(),
            kind,
            transitions,
            end,
        })
    }

    /// Where it goes when it succeeds.
    pub fn next(&self) -> Option<&str> {
        self.transitions
            .iter()
            .find(|t| t.via == Via::Next)
            .map(|t| t.to.as_str())
    }

    /// The first Catch that takes `error`, as AWS picks it.
    pub fn catcher(&self, error: &str) -> Option<&str> {
        self.transitions.iter().find_map(|t| match &t.via {
            Via::Catch(errors) if errors.iter().any(|p| catches_error(p, error)) => {
                Some(t.to.as_str())
            }
            _ => None,
        })
    }
}

fn catches(body: &Map<String, Value>) -> Vec<Transition> {
    let Some(list) = body.get("Catch").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|c| {
            let to = c.get("Next")?.as_str()?.to_owned();
            let errors = c
                .get("ErrorEquals")?
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            Some(Transition {
                to,
                via: Via::Catch(errors),
            })
        })
        .collect()
}

/// Whether an `ErrorEquals` entry takes an error: `States.ALL` takes all,
/// `States.TaskFailed` all but `States.Timeout` (AWS's error-handling rules).
pub fn catches_error(pattern: &str, error: &str) -> bool {
    pattern == error
        || pattern == "States.ALL"
        || (pattern == "States.TaskFailed" && error != "States.Timeout")
}

/// Orders states breadth-first from `start` along their transitions, then
/// the unreachable ones by name.
fn reach_order(start: &str, mut states: Vec<State>) -> Vec<State> {
    states.sort_by(|a, b| a.name.cmp(&b.name));
    let mut order: Vec<State> = Vec::with_capacity(states.len());
    let mut queue = std::collections::VecDeque::from([start.to_owned()]);
    while let Some(name) = queue.pop_front() {
        let Some(at) = states.iter().position(|s| s.name == name) else {
            continue;
        };
        let state = states.remove(at);
        queue.extend(state.transitions.iter().map(|t| t.to.clone()));
        order.push(state);
    }
    order.extend(states);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    const MACHINE: &str = r#"{
        "StartAt": "Ask",
        "States": {
            "Done": {"Type": "Succeed"},
            "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                    "Next": "Which", "Catch": [{"ErrorEquals": ["Nope"], "Next": "Failed"}]},
            "Which": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": true, "Next": "Done"}],
                      "Default": "Each"},
            "Each": {"Type": "Map", "ItemProcessor": {"StartAt": "One", "States": {"One": {"Type": "Pass", "End": true}}},
                     "End": true},
            "Failed": {"Type": "Fail", "Error": "Nope"}
        }
    }"#;

    #[test]
    fn states_come_in_the_order_they_are_reached() {
        let m = Machine::parse(MACHINE).expect("parses");
        let names: Vec<_> = m.states.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Ask", "Which", "Failed", "Done", "Each"]);
        assert_eq!(m.count(), 6);
    }

    #[test]
    fn transitions_name_how_they_are_taken() {
        let m = Machine::parse(MACHINE).expect("parses");
        let ask = m.state("Ask").expect("Ask");
        assert!(matches!(ask.kind, Kind::Task { waits: true, .. }));
        assert_eq!(ask.next(), Some("Which"));
        assert_eq!(ask.catcher("Nope"), Some("Failed"));
        assert_eq!(ask.catcher("Other"), None);
        let which = m.state("Which").expect("Which");
        assert_eq!(which.transitions[0].via, Via::Rule(0));
        assert_eq!(which.transitions[1].via, Via::Default);
        assert!(m.state("Failed").expect("Failed").end);
    }

    #[test]
    fn nested_states_are_found_with_their_container() {
        let m = Machine::parse(MACHINE).expect("parses");
        let found = m.find("One").expect("One");
        assert_eq!(found.around.len(), 1);
        assert_eq!(found.around[0].0.name, "Each");
        assert!(m.find("Nowhere").is_none());
    }

    #[test]
    fn task_failed_takes_everything_but_a_timeout() {
        assert!(catches_error("States.TaskFailed", "Rejected"));
        assert!(!catches_error("States.TaskFailed", "States.Timeout"));
        assert!(catches_error("States.ALL", "States.Timeout"));
        assert!(!catches_error("Expense.Rejected", "Rejected"));
    }

    #[test]
    fn a_broken_definition_says_what_is_missing() {
        assert!(matches!(
            Machine::parse("[]"),
            Err(FlowError::Missing {
                field: "StartAt",
                ..
            })
        ));
        assert!(matches!(
            Machine::parse(r#"{"StartAt":"A","States":{"A":{"Type":"Dance"}}}"#),
            Err(FlowError::UnknownType { .. })
        ));
        assert!(matches!(Machine::parse("{"), Err(FlowError::NotJson(_))));
    }
}
