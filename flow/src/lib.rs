//! A workflow as people see it: its ASL definition read as a graph
//! ([`graph`]), what an execution's history says about each state
//! ([`trace`]), where each answer to a waiting task leads ([`leads`]), and
//! the whole drawn as SVG on the server ([`draw`]).
//!
//! # Layout
//! - `graph`: states, kinds and transitions of a definition;
//! - `trace`: entered, left, failed and transitions taken, from events;
//! - `leads`: the way from an answer to where the workflow stops next;
//! - `draw`: one level of a machine as SVG, laid out by dagre.

pub mod draw;
pub mod graph;
pub mod leads;
pub mod trace;

pub use draw::Drawing;
pub use graph::Machine;
pub use leads::{Answer, Leads, leads};
pub use trace::{Mark, Trace};

/// Why a definition could not be read as a graph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    #[error("the definition is not JSON: {0}")]
    NotJson(String),
    #[error("the definition has no {field}{}", state.as_ref().map(|s| format!(" in state '{s}'")).unwrap_or_default())]
    Missing {
        field: &'static str,
        state: Option<String>,
    },
    #[error("state '{state}' has an unknown Type '{type_name}'")]
    UnknownType { state: String, type_name: String },
}
