//! Form fields drawn from a kind's descriptor (start forms and action
//! forms alike): one labelled input per field, named `values[NAME]`, with
//! its problem from the server beside it.

use countersign_model::forms::{Field, FieldType};
use leptos::prelude::*;

use crate::error::{AppError, FieldProblem};

/// The field problems a refused form came back with.
pub fn problems(error: Option<&AppError>) -> Vec<FieldProblem> {
    match error {
        Some(AppError::Form { fields }) => fields.clone(),
        _ => Vec::new(),
    }
}

/// A context or form value as text.
pub fn plain(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "—".to_owned(),
        other => other.to_string(),
    }
}

/// The inputs of a form described by data, each with its problem (if the
/// server refused it) right under it.
#[component]
pub fn FormFields(fields: Vec<Field>, errors: Vec<FieldProblem>, prefix: String) -> impl IntoView {
    fields
        .into_iter()
        .map(|field| {
            let id = format!("{prefix}-{}", field.name);
            let name = format!("values[{}]", field.name);
            let problem = errors
                .iter()
                .find(|e| e.field == field.name)
                .map(|e| e.message.clone());
            let error_id = format!("{id}-error");
            let invalid = problem.is_some().then_some("true");
            let described = problem.is_some().then(|| error_id.clone());
            let required = field.required;
            let input = match field.kind {
                FieldType::Choice => view! {
                    <select id=id.clone() name=name required=required aria-invalid=invalid aria-describedby=described.clone()>
                        {(!required).then(|| view! { <option value="">"—"</option> })}
                        {field.options.iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                    </select>
                }
                .into_any(),
                FieldType::Boolean => view! {
                    <input type="checkbox" id=id.clone() name=name value="true" aria-invalid=invalid aria-describedby=described.clone() />
                }
                .into_any(),
                kind => {
                    let (kind_attr, mode) = match kind {
                        FieldType::Number => ("number", None),
                        FieldType::Money => ("text", Some("decimal")),
                        FieldType::Date => ("date", None),
                        _ => ("text", None),
                    };
                    let step = (kind == FieldType::Number).then_some("any");
                    view! {
                        <input
                            type=kind_attr
                            inputmode=mode
                            step=step
                            id=id.clone()
                            name=name
                            required=required
                            maxlength=field.max_length.map(|m| m.to_string())
                            aria-invalid=invalid
                            aria-describedby=described.clone()
                        />
                    }
                    .into_any()
                }
            };
            view! {
                <p class="field">
                    <label for=id.clone()>{field.label.clone()} {required.then_some(" (required)")}</label>
                    {input}
                    {field.help.clone().map(|h| view! { <span class="muted">{h}</span> })}
                    {problem.map(|p| view! { <span class="field-error" id=error_id role="alert">{p}</span> })}
                </p>
            }
        })
        .collect_view()
}
