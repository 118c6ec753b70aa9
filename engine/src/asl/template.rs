//! Payload templates: Parameters, ResultSelector, ItemSelector. Keys ending
//! in `.$` take their value from a path or an intrinsic function; all other
//! values are copied as written.

use serde_json::{Map, Value};

use super::intrinsics::Call;
use super::path::Path;
use super::{Bindings, StatesError};

#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    Literal(Value),
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
    Path(Path),
    Intrinsic(Call),
}

impl Template {
    /// Compiles a template; `field` names it in error messages.
    pub fn parse(value: &Value, field: &str) -> Result<Self, String> {
        match value {
            Value::Object(map) => {
                let mut fields = Vec::with_capacity(map.len());
                for (key, v) in map {
                    if let Some(name) = key.strip_suffix(".$") {
                        let Value::String(expr) = v else {
                            return Err(format!(
                                "{field}: the value of '{key}' must be a path or an intrinsic function string"
                            ));
                        };
                        let compiled = if Call::looks_like(expr) {
                            Template::Intrinsic(
                                Call::parse(expr).map_err(|e| format!("{field}.{key}: {e}"))?,
                            )
                        } else {
                            Template::Path(
                                Path::parse(expr).map_err(|e| format!("{field}.{key}: {e}"))?,
                            )
                        };
                        fields.push((name.to_owned(), compiled));
                    } else {
                        fields.push((key.clone(), Template::parse(v, &format!("{field}.{key}"))?));
                    }
                }
                Ok(Template::Object(fields))
            }
            Value::Array(items) => Ok(Template::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Template::parse(v, &format!("{field}[{i}]")))
                    .collect::<Result<_, _>>()?,
            )),
            other => Ok(Template::Literal(other.clone())),
        }
    }

    pub fn eval(&self, input: &Value, context: &Bindings) -> Result<Value, StatesError> {
        match self {
            Template::Literal(v) => Ok(v.clone()),
            Template::Array(items) => Ok(Value::Array(
                items
                    .iter()
                    .map(|t| t.eval(input, context))
                    .collect::<Result<_, _>>()?,
            )),
            Template::Object(fields) => {
                let mut out = Map::with_capacity(fields.len());
                for (key, template) in fields {
                    let value = match template {
                        Template::Path(path) => path.get(input, context).ok_or_else(|| {
                            StatesError::runtime(format!(
                                "The JSONPath '{}' specified for the field '{key}.$' could not be found in the input '{input}'",
                                path.as_str()
                            ))
                        })?,
                        other => other.eval(input, context)?,
                    };
                    out.insert(key.clone(), value);
                }
                Ok(Value::Object(out))
            }
            Template::Path(path) => path.get(input, context).ok_or_else(|| {
                StatesError::runtime(format!("the path '{}' found nothing", path.as_str()))
            }),
            Template::Intrinsic(call) => call.eval(input, context),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_dollar_keys_from_input_context_and_intrinsics() {
        let t = Template::parse(
            &json!({
                "TableName": "orders",
                "Item": {"orderId": {"S.$": "$$.Execution.Id"}, "items": {"SS.$": "$.items"}},
                "greeting.$": "States.Format('hi {}', $.who)",
                "list": [{"x.$": "$.who"}]
            }),
            "Parameters",
        )
        .expect("parses");
        let out = t
            .eval(
                &json!({"items": ["hat"], "who": "Bob"}),
                &Bindings::context(json!({"Execution": {"Id": "arn:x"}})),
            )
            .expect("evaluates");
        assert_eq!(
            out,
            json!({
                "TableName": "orders",
                "Item": {"orderId": {"S": "arn:x"}, "items": {"SS": ["hat"]}},
                "greeting": "hi Bob",
                "list": [{"x": "Bob"}]
            })
        );
    }

    #[test]
    fn a_missing_path_is_a_runtime_error_naming_the_field() {
        let t = Template::parse(&json!({"a.$": "$.nope"}), "Parameters").expect("parses");
        let e = t.eval(&json!({}), &Bindings::default()).expect_err("fails");
        assert_eq!(e.error, "States.Runtime");
        assert!(e.cause.contains("'a.$'"), "{}", e.cause);
    }

    #[test]
    fn a_non_string_dollar_value_is_refused() {
        assert!(Template::parse(&json!({"a.$": 3}), "Parameters").is_err());
    }
}
