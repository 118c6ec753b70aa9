//! Choice rules: the comparison operators, their `…Path` variants, type
//! tests, and And / Or / Not.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::path::Path;
use super::{Bindings, StatesError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Numeric,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Equals,
    LessThan,
    GreaterThan,
    LessThanEquals,
    GreaterThanEquals,
    Matches,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeTest {
    Null,
    Present,
    Numeric,
    String,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Value(Value),
    Path(Path),
}

/// A condition tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    Compare {
        variable: Path,
        kind: Kind,
        op: Op,
        operand: Operand,
    },
    Is {
        variable: Path,
        test: TypeTest,
        expected: bool,
    },
}

const COMPARISONS: &[(&str, Kind, Op)] = &[
    ("StringEquals", Kind::String, Op::Equals),
    ("StringLessThan", Kind::String, Op::LessThan),
    ("StringGreaterThan", Kind::String, Op::GreaterThan),
    ("StringLessThanEquals", Kind::String, Op::LessThanEquals),
    (
        "StringGreaterThanEquals",
        Kind::String,
        Op::GreaterThanEquals,
    ),
    ("StringMatches", Kind::String, Op::Matches),
    ("NumericEquals", Kind::Numeric, Op::Equals),
    ("NumericLessThan", Kind::Numeric, Op::LessThan),
    ("NumericGreaterThan", Kind::Numeric, Op::GreaterThan),
    ("NumericLessThanEquals", Kind::Numeric, Op::LessThanEquals),
    (
        "NumericGreaterThanEquals",
        Kind::Numeric,
        Op::GreaterThanEquals,
    ),
    ("BooleanEquals", Kind::Boolean, Op::Equals),
    ("TimestampEquals", Kind::Timestamp, Op::Equals),
    ("TimestampLessThan", Kind::Timestamp, Op::LessThan),
    ("TimestampGreaterThan", Kind::Timestamp, Op::GreaterThan),
    (
        "TimestampLessThanEquals",
        Kind::Timestamp,
        Op::LessThanEquals,
    ),
    (
        "TimestampGreaterThanEquals",
        Kind::Timestamp,
        Op::GreaterThanEquals,
    ),
];

const TYPE_TESTS: &[(&str, TypeTest)] = &[
    ("IsNull", TypeTest::Null),
    ("IsPresent", TypeTest::Present),
    ("IsNumeric", TypeTest::Numeric),
    ("IsString", TypeTest::String),
    ("IsBoolean", TypeTest::Boolean),
    ("IsTimestamp", TypeTest::Timestamp),
];

impl Condition {
    /// Parses one rule object (without its `Next`, which the caller takes).
    pub fn parse(rule: &Map<String, Value>, at: &str) -> Result<Self, String> {
        let keys: Vec<&str> = rule
            .keys()
            .map(String::as_str)
            .filter(|k| !matches!(*k, "Next" | "Comment" | "Variable" | "Assign"))
            .collect();
        let [op_key] = keys.as_slice() else {
            return Err(format!(
                "{at}: a choice rule needs exactly one operator, found {keys:?}"
            ));
        };
        let op_key = *op_key;
        let operand = &rule[op_key];
        let children = |list: &Value| -> Result<Vec<Condition>, String> {
            let items = list
                .as_array()
                .filter(|a| !a.is_empty())
                .ok_or_else(|| format!("{at}.{op_key}: must be a non-empty array of rules"))?;
            items
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let map = r
                        .as_object()
                        .ok_or_else(|| format!("{at}.{op_key}[{i}]: must be an object"))?;
                    Condition::parse(map, &format!("{at}.{op_key}[{i}]"))
                })
                .collect()
        };
        match op_key {
            "And" => return Ok(Condition::And(children(operand)?)),
            "Or" => return Ok(Condition::Or(children(operand)?)),
            "Not" => {
                let map = operand
                    .as_object()
                    .ok_or_else(|| format!("{at}.Not: must be an object"))?;
                return Ok(Condition::Not(Box::new(Condition::parse(
                    map,
                    &format!("{at}.Not"),
                )?)));
            }
            _ => {}
        }
        let variable = rule
            .get("Variable")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{at}: '{op_key}' needs a 'Variable' path"))
            .and_then(|v| Path::parse(v).map_err(|e| format!("{at}.Variable: {e}")))?;
        if let Some((_, test)) = TYPE_TESTS.iter().find(|(name, _)| *name == op_key) {
            let expected = operand
                .as_bool()
                .ok_or_else(|| format!("{at}.{op_key}: must be true or false"))?;
            return Ok(Condition::Is {
                variable,
                test: *test,
                expected,
            });
        }
        let (base, is_path) = match op_key.strip_suffix("Path") {
            Some(base) if base != "StringMatches" => (base, true),
            _ => (op_key, false),
        };
        let (_, kind, op) = COMPARISONS
            .iter()
            .find(|(name, _, _)| *name == base)
            .ok_or_else(|| format!("{at}: '{op_key}' is not a choice operator"))?;
        let operand = if is_path {
            let text = operand
                .as_str()
                .ok_or_else(|| format!("{at}.{op_key}: must be a path string"))?;
            Operand::Path(Path::parse(text).map_err(|e| format!("{at}.{op_key}: {e}"))?)
        } else {
            let ok = match kind {
                Kind::String => operand.is_string(),
                Kind::Numeric => operand.is_number(),
                Kind::Boolean => operand.is_boolean(),
                Kind::Timestamp => operand.as_str().and_then(parse_timestamp).is_some(),
            };
            if !ok {
                return Err(format!(
                    "{at}.{op_key}: the value {operand} has the wrong type"
                ));
            }
            Operand::Value(operand.clone())
        };
        Ok(Condition::Compare {
            variable,
            kind: *kind,
            op: *op,
            operand,
        })
    }

    pub fn eval(&self, input: &Value, context: &Bindings) -> Result<bool, StatesError> {
        match self {
            Condition::And(all) => {
                for c in all {
                    if !c.eval(input, context)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Condition::Or(any) => {
                for c in any {
                    if c.eval(input, context)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Condition::Not(c) => Ok(!c.eval(input, context)?),
            Condition::Is {
                variable,
                test,
                expected,
            } => {
                let value = variable.get(input, context);
                let actual = match (test, &value) {
                    (TypeTest::Present, v) => v.is_some(),
                    (_, None) => false,
                    (TypeTest::Null, Some(v)) => v.is_null(),
                    (TypeTest::Numeric, Some(v)) => v.is_number(),
                    (TypeTest::String, Some(v)) => v.is_string(),
                    (TypeTest::Boolean, Some(v)) => v.is_boolean(),
                    (TypeTest::Timestamp, Some(v)) => {
                        v.as_str().and_then(parse_timestamp).is_some()
                    }
                };
                Ok(actual == *expected)
            }
            Condition::Compare {
                variable,
                kind,
                op,
                operand,
            } => {
                let left = variable.get(input, context).ok_or_else(|| {
                    StatesError::runtime(format!(
                        "Invalid path '{}': The choice state's condition path references an invalid value.",
                        variable.as_str()
                    ))
                })?;
                let right = match operand {
                    Operand::Value(v) => v.clone(),
                    Operand::Path(p) => p.get(input, context).ok_or_else(|| {
                        StatesError::runtime(format!(
                            "Invalid path '{}': The choice state's condition path references an invalid value.",
                            p.as_str()
                        ))
                    })?,
                };
                Ok(compare(*kind, *op, &left, &right))
            }
        }
    }
}

fn parse_timestamp(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

fn ordering_holds(op: Op, ord: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        Op::Equals => ord == Equal,
        Op::LessThan => ord == Less,
        Op::GreaterThan => ord == Greater,
        Op::LessThanEquals => ord != Greater,
        Op::GreaterThanEquals => ord != Less,
        Op::Matches => false,
    }
}

/// Compares two values; a value of the wrong type never matches.
fn compare(kind: Kind, op: Op, left: &Value, right: &Value) -> bool {
    match kind {
        Kind::String => match (left.as_str(), right.as_str()) {
            (Some(l), Some(r)) if op == Op::Matches => wildcard_match(r, l),
            (Some(l), Some(r)) => ordering_holds(op, l.cmp(r)),
            _ => false,
        },
        Kind::Numeric => match (left.as_f64(), right.as_f64()) {
            (Some(l), Some(r)) => l.partial_cmp(&r).is_some_and(|o| ordering_holds(op, o)),
            _ => false,
        },
        Kind::Boolean => match (left.as_bool(), right.as_bool()) {
            (Some(l), Some(r)) => l == r,
            _ => false,
        },
        Kind::Timestamp => match (
            left.as_str().and_then(parse_timestamp),
            right.as_str().and_then(parse_timestamp),
        ) {
            (Some(l), Some(r)) => ordering_holds(op, l.cmp(&r)),
            _ => false,
        },
    }
}

/// `*` matches any run of characters; `\*` and `\\` are literal.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    #[derive(PartialEq)]
    enum Tok {
        Star,
        Char(char),
    }
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => toks.push(Tok::Char(chars.next().unwrap_or('\\'))),
            '*' => toks.push(Tok::Star),
            c => toks.push(Tok::Char(c)),
        }
    }
    let text: Vec<char> = text.chars().collect();
    // Classic two-pointer glob match with backtracking to the last star.
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < toks.len() && toks[p] == Tok::Char(text[t]) {
            t += 1;
            p += 1;
        } else if p < toks.len() && toks[p] == Tok::Star {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while p < toks.len() && toks[p] == Tok::Star {
        p += 1;
    }
    p == toks.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn holds(rule: Value, input: Value) -> Result<bool, StatesError> {
        let map = rule.as_object().expect("object").clone();
        Condition::parse(&map, "Choices[0]")
            .expect("parses")
            .eval(&input, &Bindings::default())
    }

    #[test]
    fn comparisons_of_each_kind() {
        let input = json!({"s": "b", "n": 5, "t": "2024-01-02T00:00:00Z", "ok": true, "m": 5});
        assert!(
            holds(
                json!({"Variable": "$.s", "StringEquals": "b"}),
                input.clone()
            )
            .expect("ok")
        );
        assert!(
            holds(
                json!({"Variable": "$.s", "StringGreaterThan": "a"}),
                input.clone()
            )
            .expect("ok")
        );
        assert!(
            holds(
                json!({"Variable": "$.n", "NumericLessThanEquals": 5}),
                input.clone()
            )
            .expect("ok")
        );
        assert!(
            !holds(
                json!({"Variable": "$.n", "NumericGreaterThan": 5}),
                input.clone()
            )
            .expect("ok")
        );
        assert!(
            holds(
                json!({"Variable": "$.n", "NumericEqualsPath": "$.m"}),
                input.clone()
            )
            .expect("ok")
        );
        assert!(
            holds(
                json!({"Variable": "$.ok", "BooleanEquals": true}),
                input.clone()
            )
            .expect("ok")
        );
        assert!(
            holds(
                json!({"Variable": "$.t", "TimestampLessThan": "2024-01-03T00:00:00+00:00"}),
                input.clone()
            )
            .expect("ok")
        );
        // Wrong type: no match, no error.
        assert!(!holds(json!({"Variable": "$.n", "StringEquals": "5"}), input).expect("ok"));
    }

    #[test]
    fn string_matches_uses_wildcards() {
        let input = json!({"f": "log-2024.txt"});
        assert!(
            holds(
                json!({"Variable": "$.f", "StringMatches": "log-*.txt"}),
                input.clone()
            )
            .expect("ok")
        );
        assert!(
            !holds(
                json!({"Variable": "$.f", "StringMatches": "*.csv"}),
                input.clone()
            )
            .expect("ok")
        );
        assert!(holds(json!({"Variable": "$.f", "StringMatches": "*"}), input).expect("ok"));
        assert!(wildcard_match("a\\*b", "a*b"));
        assert!(!wildcard_match("a\\*b", "axb"));
    }

    #[test]
    fn combinators_and_type_tests() {
        let input = json!({"a": 1, "z": null});
        assert!(holds(
            json!({"And": [{"Variable": "$.a", "IsNumeric": true}, {"Not": {"Variable": "$.b", "IsPresent": true}}]}),
            input.clone()
        )
        .expect("ok"));
        assert!(holds(
            json!({"Or": [{"Variable": "$.a", "NumericEquals": 2}, {"Variable": "$.z", "IsNull": true}]}),
            input
        )
        .expect("ok"));
    }

    #[test]
    fn a_missing_variable_is_a_runtime_error() {
        let e = holds(
            json!({"Variable": "$.gone", "StringEquals": "x"}),
            json!({}),
        )
        .expect_err("fails");
        assert_eq!(e.error, "States.Runtime");
    }

    #[test]
    fn malformed_rules_are_refused() {
        for rule in [
            json!({"Variable": "$.a"}),
            json!({"Variable": "$.a", "StringEquals": 1}),
            json!({"Variable": "$.a", "Frobnicate": 1}),
            json!({"And": []}),
            json!({"StringEquals": "x"}),
        ] {
            let map = rule.as_object().expect("object").clone();
            assert!(
                Condition::parse(&map, "r").is_err(),
                "{rule} should be refused"
            );
        }
    }
}
