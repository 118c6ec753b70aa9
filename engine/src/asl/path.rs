//! JSONPath as Amazon States Language uses it: `$` for the state's input,
//! `$$` for the context object, `$name` for a workflow variable, then `.name`, `['name']`, `[index]` and the
//! `[*]` / `.*` wildcards. Paths are parsed once, when a definition is
//! created, so a malformed path is an `InvalidDefinition`, not a runtime
//! surprise.

use serde_json::{Map, Value};

use super::Bindings;

/// Which document a path reads from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// `$`: the state's input.
    Input,
    /// `$$`: the context object (execution, state, task token, map item).
    Context,
    /// `$name`: a workflow variable (set by some state's `Assign`).
    Variable(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Field(String),
    Index(usize),
    Wildcard,
}

/// A parsed path.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    root: Root,
    segments: Vec<Segment>,
    text: String,
}

impl Path {
    /// Parses `text`; the error says what is wrong and where.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (root, mut rest) = if let Some(rest) = text.strip_prefix("$$") {
            (Root::Context, rest)
        } else if let Some(rest) = text.strip_prefix('$') {
            // A name right after the `$` (a letter or `_` first) is a variable.
            let name_len = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if name_len > 0 && rest.starts_with(|c: char| c.is_alphabetic() || c == '_') {
                (
                    Root::Variable(rest[..name_len].to_owned()),
                    &rest[name_len..],
                )
            } else {
                (Root::Input, rest)
            }
        } else {
            return Err(format!("the path '{text}' must start with '$'"));
        };
        let mut segments = Vec::new();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('.') {
                if let Some(after_star) = after.strip_prefix('*') {
                    segments.push(Segment::Wildcard);
                    rest = after_star;
                    continue;
                }
                let end = after.find(['.', '[']).unwrap_or(after.len());
                let name = &after[..end];
                if name.is_empty() {
                    return Err(format!("the path '{text}' has an empty field name"));
                }
                segments.push(Segment::Field(name.to_owned()));
                rest = &after[end..];
            } else if let Some(after) = rest.strip_prefix('[') {
                let close = after
                    .find(']')
                    .ok_or_else(|| format!("the path '{text}' has an unclosed '['"))?;
                let inner = after[..close].trim();
                // A quoted name may itself contain ']': look for the quote first.
                if let Some(q) = inner.chars().next().filter(|c| *c == '\'' || *c == '"') {
                    let body = &after[1..];
                    let end = body
                        .find(q)
                        .ok_or_else(|| format!("the path '{text}' has an unclosed quote"))?;
                    let name = &body[..end];
                    let tail = body[end + 1..].trim_start();
                    let tail = tail.strip_prefix(']').ok_or_else(|| {
                        format!("the path '{text}' expects ']' after a quoted name")
                    })?;
                    segments.push(Segment::Field(name.to_owned()));
                    rest = tail;
                    continue;
                }
                if inner == "*" {
                    segments.push(Segment::Wildcard);
                } else {
                    let index = inner.parse::<usize>().map_err(|_| {
                        format!("the path '{text}' has an unsupported selector '[{inner}]'")
                    })?;
                    segments.push(Segment::Index(index));
                }
                rest = &after[close + 1..];
            } else {
                return Err(format!(
                    "the path '{text}' has an unexpected character at '{rest}'"
                ));
            }
        }
        Ok(Self {
            root,
            segments,
            text: text.to_owned(),
        })
    }

    pub fn root(&self) -> &Root {
        &self.root
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True for a path that names at most one value (no wildcard): the only
    /// kind allowed where a path says where to write (ResultPath).
    pub fn is_reference(&self) -> bool {
        !self.segments.contains(&Segment::Wildcard)
    }

    /// The value the path selects, `None` if it names nothing. With a
    /// wildcard the result is the array of every match.
    pub fn get(&self, input: &Value, bindings: &Bindings) -> Option<Value> {
        let doc = match &self.root {
            Root::Input => input,
            Root::Context => &bindings.context,
            Root::Variable(name) => bindings.variables.get(name)?,
        };
        if self.is_reference() {
            let mut here = doc;
            for segment in &self.segments {
                here = match (segment, here) {
                    (Segment::Field(name), Value::Object(map)) => map.get(name)?,
                    (Segment::Index(i), Value::Array(items)) => items.get(*i)?,
                    _ => return None,
                };
            }
            return Some(here.clone());
        }
        let mut matches = vec![doc];
        for segment in &self.segments {
            let mut next = Vec::new();
            for value in matches {
                match (segment, value) {
                    (Segment::Field(name), Value::Object(map)) => next.extend(map.get(name)),
                    (Segment::Index(i), Value::Array(items)) => next.extend(items.get(*i)),
                    (Segment::Wildcard, Value::Array(items)) => next.extend(items.iter()),
                    (Segment::Wildcard, Value::Object(map)) => next.extend(map.values()),
                    _ => {}
                }
            }
            matches = next;
        }
        Some(Value::Array(matches.into_iter().cloned().collect()))
    }

    /// Writes `value` at this path inside `target`, creating objects on the
    /// way. `$` alone replaces the whole document.
    pub fn set(&self, target: Value, value: Value) -> Result<Value, String> {
        if self.segments.is_empty() {
            return Ok(value);
        }
        let mut target = target;
        set_in(&mut target, &self.segments, value)
            .map_err(|why| format!("Unable to apply ResultPath '{}': {why}", self.text))?;
        Ok(target)
    }
}

fn set_in(here: &mut Value, segments: &[Segment], value: Value) -> Result<(), String> {
    let Some((first, rest)) = segments.split_first() else {
        *here = value;
        return Ok(());
    };
    match first {
        Segment::Field(name) => {
            if !here.is_object() {
                if here.is_null() {
                    *here = Value::Object(Map::new());
                } else {
                    return Err(format!("'{name}' cannot be set on a non-object value"));
                }
            }
            let Value::Object(map) = here else {
                return Err("unreachable: not an object".into());
            };
            let slot = map.entry(name.clone()).or_insert(Value::Null);
            set_in(slot, rest, value)
        }
        Segment::Index(i) => match here {
            Value::Array(items) if *i < items.len() => set_in(&mut items[*i], rest, value),
            _ => Err(format!("index {i} is out of range")),
        },
        Segment::Wildcard => Err("a wildcard cannot be written to".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn get(path: &str, input: Value) -> Option<Value> {
        Path::parse(path).expect("valid").get(
            &input,
            &Bindings::context(json!({"Execution": {"Id": "x"}})),
        )
    }

    #[test]
    fn reads_fields_indices_and_quoted_names() {
        let doc = json!({"a": {"b": [10, {"c d": 3}]}});
        assert_eq!(get("$", doc.clone()), Some(doc.clone()));
        assert_eq!(get("$.a.b[0]", doc.clone()), Some(json!(10)));
        assert_eq!(get("$.a.b[1]['c d']", doc.clone()), Some(json!(3)));
        assert_eq!(get("$['a'][\"b\"][0]", doc.clone()), Some(json!(10)));
        assert_eq!(get("$.a.missing", doc.clone()), None);
        assert_eq!(get("$.a.b[7]", doc), None);
    }

    #[test]
    fn reads_the_context_with_a_double_dollar() {
        assert_eq!(get("$$.Execution.Id", json!({})), Some(json!("x")));
    }

    #[test]
    fn reads_a_variable_by_its_name() {
        let mut bindings = Bindings::default();
        bindings
            .variables
            .insert("order_1".into(), json!({"items": [{"n": 1}]}));
        let read = |p: &str| Path::parse(p).expect("valid").get(&json!({}), &bindings);
        assert_eq!(read("$order_1.items[0].n"), Some(json!(1)));
        assert_eq!(read("$order_1"), Some(json!({"items": [{"n": 1}]})));
        assert_eq!(read("$unset"), None);
        assert_eq!(
            Path::parse("$order_1").expect("valid").root(),
            &Root::Variable("order_1".into())
        );
    }

    #[test]
    fn wildcards_collect_every_match() {
        let doc = json!({"items": [{"n": 1}, {"n": 2}, {"m": 3}]});
        assert_eq!(get("$.items[*].n", doc.clone()), Some(json!([1, 2])));
        assert_eq!(get("$.items.*.m", doc), Some(json!([3])));
    }

    #[test]
    fn refuses_malformed_paths() {
        for bad in ["a.b", "$.", "$[", "$[x]", "$.a[?(@.b)]", "$['a"] {
            assert!(Path::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn writes_create_missing_objects_and_keep_siblings() {
        let path = Path::parse("$.result.inner").expect("valid");
        let out = path.set(json!({"keep": 1}), json!("v")).expect("set");
        assert_eq!(out, json!({"keep": 1, "result": {"inner": "v"}}));
        let root = Path::parse("$").expect("valid");
        assert_eq!(root.set(json!({"a": 1}), json!(2)).expect("set"), json!(2));
        assert!(path.set(json!({"result": 5}), json!(1)).is_err());
    }
}
