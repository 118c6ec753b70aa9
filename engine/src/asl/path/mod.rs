//! JSONPath as Amazon States Language uses it: `$` for the state's input,
//! `$$` for the context object, `$name` for a workflow variable, then `.name`, `['name']`, `[index]` and the
//! `[*]` / `.*` wildcards. Paths are parsed once, when a definition is
//! created, so a malformed path is an `InvalidDefinition`, not a runtime
//! surprise.

use serde_json::{Map, Value};

use super::Bindings;

mod filter;

use filter::{Filter, split_filter};

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
    /// `[2]`; a negative index counts from the end (`[-1]` is the last).
    Index(i64),
    Wildcard,
    /// `[start:end]`, either end optional, negatives from the end.
    Slice(Option<i64>, Option<i64>),
    /// `[?(@.field op literal)]`, joined by `&&` / `||`.
    Filter(Filter),
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
                if inner.starts_with('?') {
                    // A filter may hold `]` in a string: find its own end.
                    let (filter, tail) = split_filter(after, text)?;
                    segments.push(Segment::Filter(Filter::parse(filter, text)?));
                    rest = tail;
                    continue;
                }
                if inner == "*" {
                    segments.push(Segment::Wildcard);
                } else if let Some((from, to)) = inner.split_once(':') {
                    let bound = |b: &str| -> Result<Option<i64>, String> {
                        let b = b.trim();
                        if b.is_empty() {
                            return Ok(None);
                        }
                        b.parse::<i64>().map(Some).map_err(|_| {
                            format!("the path '{text}' has an unsupported selector '[{inner}]'")
                        })
                    };
                    segments.push(Segment::Slice(bound(from)?, bound(to)?));
                } else {
                    let index = inner.parse::<i64>().map_err(|_| {
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

    /// True for a path that names at most one value (no wildcard, slice or
    /// filter): the only kind allowed where a path says where to write
    /// (ResultPath).
    pub fn is_reference(&self) -> bool {
        self.segments
            .iter()
            .all(|s| matches!(s, Segment::Field(_) | Segment::Index(_)))
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
            return reference(doc, &self.segments).cloned();
        }
        // A path that can match many values gives the array of its matches,
        // empty when nothing matches (AWS: `$.items[*]` of `{}` is `[]`).
        let mut matches = vec![doc];
        for segment in &self.segments {
            let mut next = Vec::new();
            for value in matches {
                step(segment, value, &mut next);
            }
            matches = next;
        }
        Some(Value::Array(matches.into_iter().cloned().collect()))
    }

    /// Why this path names nothing in `input`, in the words AWS's JSONPath
    /// library uses: "Invalid path '$.a.b' : No results for path:
    /// $['a']['b']" when the last step finds nothing, "Missing property in
    /// path $['a']" when an earlier one does.
    pub fn missing(&self, input: &Value, bindings: &Bindings) -> String {
        let mut here = match &self.root {
            Root::Input => Some(input),
            Root::Context => Some(&bindings.context),
            Root::Variable(name) => bindings.variables.get(name),
        };
        let mut walked = String::from("$");
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Field(name) => walked.push_str(&format!("['{name}']")),
                Segment::Index(n) => walked.push_str(&format!("[{n}]")),
                _ => break,
            }
            here = here.and_then(|v| reference(v, std::slice::from_ref(segment)));
            if here.is_none() {
                let last = i + 1 == self.segments.len();
                let why = if last {
                    "No results for path:"
                } else {
                    "Missing property in path"
                };
                return format!("Invalid path '{}' : {why} {walked}", self.text);
            }
        }
        format!(
            "Invalid path '{}' : No results for path: {walked}",
            self.text
        )
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

/// The one value a path without wildcards, slices or filters names.
fn reference<'v>(doc: &'v Value, segments: &[Segment]) -> Option<&'v Value> {
    let mut here = doc;
    for segment in segments {
        here = match (segment, here) {
            (Segment::Field(name), Value::Object(map)) => map.get(name)?,
            (Segment::Index(i), Value::Array(items)) => items.get(position(*i, items.len())?)?,
            _ => return None,
        };
    }
    Some(here)
}

/// An index as a position in an array of `len`, negatives from the end.
fn position(index: i64, len: usize) -> Option<usize> {
    if index >= 0 {
        usize::try_from(index).ok()
    } else {
        len.checked_sub(usize::try_from(index.unsigned_abs()).ok()?)
    }
}

/// Adds to `out` what `segment` selects in `value`.
fn step<'v>(segment: &Segment, value: &'v Value, out: &mut Vec<&'v Value>) {
    match (segment, value) {
        (Segment::Field(name), Value::Object(map)) => out.extend(map.get(name)),
        (Segment::Index(i), Value::Array(items)) => {
            out.extend(position(*i, items.len()).and_then(|p| items.get(p)));
        }
        (Segment::Wildcard, Value::Array(items)) => out.extend(items.iter()),
        (Segment::Wildcard, Value::Object(map)) => out.extend(map.values()),
        (Segment::Slice(from, to), Value::Array(items)) => {
            let len = items.len() as i64;
            let clamp = |b: i64| if b < 0 { (len + b).max(0) } else { b.min(len) };
            let start = from.map_or(0, clamp);
            let end = to.map_or(len, clamp);
            if start < end {
                out.extend(&items[start as usize..end as usize]);
            }
        }
        (Segment::Filter(filter), Value::Array(items)) => {
            out.extend(items.iter().filter(|item| filter.holds(item)));
        }
        _ => {}
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
            Value::Array(items) => match position(*i, items.len()) {
                Some(p) if p < items.len() => set_in(&mut items[p], rest, value),
                _ => Err(format!("index {i} is out of range")),
            },
            _ => Err(format!("index {i} is out of range")),
        },
        Segment::Wildcard | Segment::Slice(..) | Segment::Filter(_) => {
            Err("only a field or an index can be written to".into())
        }
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
    fn slices_filters_and_negative_indexes_select_as_aws_does() {
        let doc = json!({"users": [
            {"name": "ann", "status": 0, "year": 1997},
            {"name": "bob", "status": 1, "year": 2001},
            {"name": "cy", "status": 0}
        ], "arr": [1, 2, 3, 4, 5]});
        assert_eq!(get("$.arr[1:3]", doc.clone()), Some(json!([2, 3])));
        assert_eq!(get("$.arr[:2]", doc.clone()), Some(json!([1, 2])));
        assert_eq!(get("$.arr[3:]", doc.clone()), Some(json!([4, 5])));
        assert_eq!(get("$.arr[-2:]", doc.clone()), Some(json!([4, 5])));
        assert_eq!(get("$.arr[-1]", doc.clone()), Some(json!(5)));
        assert_eq!(
            get("$.users[?(@.status == 0)].name", doc.clone()),
            Some(json!(["ann", "cy"]))
        );
        assert_eq!(
            get(
                "$.users[?(@.year > 1999 || @.name == 'cy')].name",
                doc.clone()
            ),
            Some(json!(["bob", "cy"]))
        );
        assert_eq!(
            get("$.users[?(@.year && @.status != 1)].name", doc.clone()),
            Some(json!(["ann"]))
        );
        // Recorded from AWS: a wildcard or slice over nothing is `[]`.
        assert_eq!(get("$.items[1:]", json!({})), Some(json!([])));
        assert_eq!(get("$.items[*].v", json!({})), Some(json!([])));
    }

    #[test]
    fn says_why_a_path_found_nothing_as_aws_does() {
        let why = |p: &str, doc: Value| {
            Path::parse(p)
                .expect("valid")
                .missing(&doc, &Bindings::default())
        };
        assert_eq!(
            why("$.NoSuchInputPath", json!({})),
            "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"
        );
        assert_eq!(
            why("$.no.such.result.path", json!({})),
            "Invalid path '$.no.such.result.path' : Missing property in path $['no']"
        );
        assert_eq!(
            why("$.a.b", json!({"a": {}})),
            "Invalid path '$.a.b' : No results for path: $['a']['b']"
        );
    }

    #[test]
    fn refuses_malformed_paths() {
        for bad in [
            "a.b",
            "$.",
            "$[",
            "$[x]",
            "$.a[?(b)]",
            "$.a[?(@.b == nope)]",
            "$['a",
        ] {
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
