//! The workflow behind a task, an order or a document, drawn on the server
//! as SVG with the path its execution took, and where each answer to the
//! waiting task leads. Reading the definition and history is the domain's
//! (with its access rules); drawing and following are `countersign-flow`'s.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What a page shows of a workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowCard {
    /// The top level, as SVG markup.
    pub svg: String,
    /// Each Map or Parallel drawn on its own, at any depth.
    pub insides: Vec<Inside>,
    /// Where each answer leads, for a task that waits.
    pub leads: Vec<Lead>,
    /// False when the history was too long to read whole (the marks may
    /// miss its latest steps).
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inside {
    /// The element id the state's box links to.
    pub id: String,
    pub state: String,
    /// One drawing for a Map, one per branch for a Parallel.
    pub svgs: Vec<String>,
}

/// Where one answer leads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lead {
    /// The action's name (`approve`, `reject`, …).
    pub action: String,
    pub label: String,
    /// "Record PROCESSING → waits at Wait for staff: PROCESSING".
    pub text: String,
}

impl FlowCard {
    pub fn lead(&self, action: &str) -> Option<&Lead> {
        self.leads.iter().find(|l| l.action == action)
    }
}

/// A task's workflow and where each of its actions leads.
///
/// Who may call it: anyone who may see the task.
#[server(endpoint = "tasks/flow")]
pub async fn task_flow(task_id: String) -> Result<FlowCard, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        let (task, standing) =
            countersign_domain::access::task_progress(&services.domain, &user, &task_id).await?;
        let mut card = drawn(&standing)?;
        if task.status == countersign_model::tasks::Status::Open {
            card.leads = leads_of(&standing, &task)?;
        }
        Ok(card)
    })
    .await
}

/// An order's workflow, and where approving or rejecting its waiting step
/// leads.
///
/// Who may call it: staff.
#[server(endpoint = "orders/flow")]
pub async fn order_flow(order_id: String) -> Result<FlowCard, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        let domain = &services.domain;
        let standing = countersign_domain::access::order_progress(domain, &user, &order_id).await?;
        let mut card = drawn(&standing)?;
        let (_, pending) = countersign_domain::access::order(domain, &user, &order_id).await?;
        if let Some(pending) = pending {
            let task = domain.tasks().get(&user, &pending.task_id).await?;
            card.leads = leads_of(&standing, &task)?;
        }
        Ok(card)
    })
    .await
}

/// A document's signing workflow.
///
/// Who may call it: staff.
#[server(endpoint = "signatures/flow")]
pub async fn document_flow(document_id: String) -> Result<FlowCard, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        let standing =
            countersign_domain::access::document_progress(&services.domain, &user, &document_id)
                .await?;
        drawn(&standing)
    })
    .await
}

#[cfg(feature = "ssr")]
fn parse(definition: &str) -> Result<countersign_flow::Machine, AppError> {
    countersign_flow::Machine::parse(definition).map_err(|e| {
        tracing::warn!(error = %e, "a workflow definition could not be drawn");
        AppError::Unavailable
    })
}

#[cfg(feature = "ssr")]
fn drawn(standing: &countersign_domain::progress::Standing) -> Result<FlowCard, AppError> {
    use countersign_flow::{Drawing, Trace, draw};
    let machine = parse(&standing.definition)?;
    let trace = Trace::of(&standing.events);
    let svg = Drawing {
        id: "flow",
        title: &format!("The workflow {}", standing.name),
        machine: &machine,
        trace: &trace,
    }
    .svg();
    let mut insides = Vec::new();
    let mut levels = vec![&machine];
    while let Some(level) = levels.pop() {
        for (state, inner) in draw::insides(level) {
            let id = format!("inside-{}", draw::slug(&state.name));
            let svgs = inner
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    Drawing {
                        id: &format!("{id}-{i}"),
                        title: &format!("Inside {}", state.name),
                        machine: m,
                        trace: &trace,
                    }
                    .svg()
                })
                .collect();
            insides.push(Inside {
                id,
                state: state.name.clone(),
                svgs,
            });
            levels.extend(inner);
        }
    }
    Ok(FlowCard {
        svg,
        insides,
        leads: Vec::new(),
        complete: standing.complete,
    })
}

/// Where each of a task's actions leads from the state it waits in
/// (none when the workflow does not say which state that is).
#[cfg(feature = "ssr")]
fn leads_of(
    standing: &countersign_domain::progress::Standing,
    task: &countersign_model::tasks::Task,
) -> Result<Vec<Lead>, AppError> {
    let (Some(state), Some(spec)) = (task.state.as_deref(), task.spec()) else {
        return Ok(Vec::new());
    };
    let machine = parse(&standing.definition)?;
    Ok(spec
        .actions
        .iter()
        .map(|action| lead(&machine, state, action))
        .collect())
}

#[cfg(feature = "ssr")]
fn lead(
    machine: &countersign_flow::Machine,
    state: &str,
    action: &countersign_model::tasks::Action,
) -> Lead {
    use countersign_flow::{Answer, leads};
    use countersign_model::tasks::ActionOutcome;
    let answer = match action.outcome {
        ActionOutcome::Success => Answer::Success,
        ActionOutcome::Failure => Answer::Failure(action.error_name()),
    };
    Lead {
        action: action.name.clone(),
        label: action.label.clone(),
        text: leads(machine, state, answer).to_string(),
    }
}
