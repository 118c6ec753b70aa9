//! Filters in paths, `[?(@.field op literal)]`, as AWS's JSONPath library
//! reads them: comparisons with `==`, `!=`, `<`, `<=`, `>`, `>=`, a bare
//! `@.field` for "is present", joined by `&&` and `||`.

use serde_json::Value;

use super::{Path, Segment, reference};

/// A filter expression: its `||` alternatives, each a list of `&&` tests.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Filter(Vec<Vec<Test>>);

/// One test in a filter: a path below `@`, and what it is compared with
/// (`None`: the path only has to name something).
#[derive(Debug, Clone, PartialEq)]
struct Test {
    path: Vec<Segment>,
    compare: Option<(Op, Value)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Splits `[?(...)]`'s body (after the `[`) from what follows its `]`,
/// minding quotes and parentheses.
pub(super) fn split_filter<'t>(after: &'t str, text: &str) -> Result<(&'t str, &'t str), String> {
    let body = after
        .trim_start()
        .strip_prefix('?')
        .map(str::trim_start)
        .and_then(|b| b.strip_prefix('('))
        .ok_or_else(|| format!("the path '{text}' has a filter without '?(…)'"))?;
    let mut depth = 1;
    let mut quote: Option<char> = None;
    for (i, c) in body.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    let tail = body[i + 1..].trim_start();
                    let tail = tail
                        .strip_prefix(']')
                        .ok_or_else(|| format!("the path '{text}' expects ']' after a filter"))?;
                    return Ok((&body[..i], tail));
                }
            }
            _ => {}
        }
    }
    Err(format!("the path '{text}' has an unclosed filter"))
}

impl Filter {
    pub(super) fn parse(body: &str, text: &str) -> Result<Self, String> {
        let alternatives = body
            .split("||")
            .map(|alt| {
                alt.split("&&")
                    .map(|t| Test::parse(t.trim(), text))
                    .collect()
            })
            .collect::<Result<Vec<Vec<Test>>, String>>()?;
        Ok(Self(alternatives))
    }

    pub(super) fn holds(&self, item: &Value) -> bool {
        self.0
            .iter()
            .any(|all| all.iter().all(|test| test.holds(item)))
    }
}

impl Test {
    fn parse(test: &str, text: &str) -> Result<Self, String> {
        let bad = || format!("the path '{text}' has an unsupported filter test '{test}'");
        const OPS: [(&str, Op); 6] = [
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("<", Op::Lt),
            (">", Op::Gt),
        ];
        let (left, compare) = match OPS
            .iter()
            .find_map(|(s, op)| test.split_once(s).map(|(l, r)| (l.trim(), *op, r.trim())))
        {
            Some((left, op, right)) => {
                let literal = serde_json::from_str::<Value>(right)
                    .ok()
                    .or_else(|| {
                        right
                            .strip_prefix('\'')
                            .and_then(|r| r.strip_suffix('\''))
                            .map(|s| Value::String(s.to_owned()))
                    })
                    .ok_or_else(bad)?;
                (left, Some((op, literal)))
            }
            None => (test, None),
        };
        let below = left.strip_prefix('@').ok_or_else(bad)?;
        let path = Path::parse(&format!("${below}")).map_err(|_| bad())?;
        if !path.is_reference() {
            return Err(bad());
        }
        Ok(Self {
            path: path.segments,
            compare,
        })
    }

    fn holds(&self, item: &Value) -> bool {
        let Some(found) = reference(item, &self.path) else {
            return false;
        };
        let Some((op, literal)) = &self.compare else {
            return true;
        };
        let order = match (found, literal) {
            (Value::Number(a), Value::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
            (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
            (a, b) => (a == b).then_some(std::cmp::Ordering::Equal),
        };
        match op {
            Op::Eq => order == Some(std::cmp::Ordering::Equal),
            Op::Ne => order != Some(std::cmp::Ordering::Equal),
            Op::Lt => order == Some(std::cmp::Ordering::Less),
            Op::Le => matches!(
                order,
                Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
            ),
            Op::Gt => order == Some(std::cmp::Ordering::Greater),
            Op::Ge => matches!(
                order,
                Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)
            ),
        }
    }
}
