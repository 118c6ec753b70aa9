//! Forms described by data: the fields a kind's start form or a task's
//! decision asks for, and their checks on the server. The same field list
//! renders the form and validates what comes back, so a value the page
//! would refuse is refused here too, with JavaScript off or from a script.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest text value kept, whatever a field allows.
pub const MAX_TEXT_VALUE: usize = 2000;

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    Number,
    /// A decimal amount with at most two fraction digits, kept as text so
    /// that no binary rounding creeps in ("1200.50").
    Money,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// One of `options`.
    Choice,
    Boolean,
}

/// One field of a form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Field {
    /// The key its value is stored under (letters, digits, `_`, `-`).
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default)]
    pub required: bool,
    /// Smallest number, amount or date allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Value>,
    /// Largest number, amount or date allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// The choices of a `choice` field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// A line under the field saying what it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// Why one field's value was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field's name (or the unknown name that was sent).
    pub field: String,
    pub problem: Problem,
}

/// What is wrong with a value, so that each page words it its own way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "code")]
pub enum Problem {
    Required,
    /// No such field in this form.
    Unknown,
    NotANumber,
    /// Not an amount with at most two decimals.
    NotMoney,
    /// Not a `YYYY-MM-DD` date.
    NotADate,
    NotABoolean,
    NotAChoice {
        options: Vec<String>,
    },
    TooSmall {
        min: String,
    },
    TooLarge {
        max: String,
    },
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let field = &self.field;
        match &self.problem {
            Problem::Required => write!(f, "{field}: required"),
            Problem::Unknown => write!(f, "{field}: no such field"),
            Problem::NotANumber => write!(f, "{field}: not a number"),
            Problem::NotMoney => write!(f, "{field}: an amount like 12.50 is expected"),
            Problem::NotADate => write!(f, "{field}: a date like 2026-12-31 is expected"),
            Problem::NotABoolean => write!(f, "{field}: yes or no is expected"),
            Problem::NotAChoice { options } => {
                write!(f, "{field}: one of {} is expected", options.join(", "))
            }
            Problem::TooSmall { min } => write!(f, "{field}: at least {min}"),
            Problem::TooLarge { max } => write!(f, "{field}: at most {max}"),
            Problem::TooShort { min } => write!(f, "{field}: at least {min} characters"),
            Problem::TooLong { max } => write!(f, "{field}: at most {max} characters"),
        }
    }
}

/// The field names a form may use: plain keys, safe in a JSON path and an
/// HTML name.
pub fn usable_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The checked values of `fields`, typed (numbers as JSON numbers,
/// booleans as booleans, money and dates as text), or every problem found.
///
/// Values may come typed (a REST caller's JSON) or as text (an HTML form):
/// both are accepted. An empty text counts as absent. A boolean field that
/// is absent is `false` (an unticked checkbox sends nothing).
pub fn validate(
    fields: &[Field],
    given: &BTreeMap<String, Value>,
) -> Result<BTreeMap<String, Value>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut values = BTreeMap::new();
    for name in given.keys() {
        if !fields.iter().any(|f| &f.name == name) {
            errors.push(FieldError {
                field: name.clone(),
                problem: Problem::Unknown,
            });
        }
    }
    for field in fields {
        let raw = given.get(&field.name).filter(|v| !is_blank(v));
        let Some(raw) = raw else {
            if field.kind == FieldType::Boolean {
                values.insert(field.name.clone(), Value::Bool(false));
            } else if field.required {
                errors.push(FieldError {
                    field: field.name.clone(),
                    problem: Problem::Required,
                });
            }
            continue;
        };
        match check(field, raw) {
            Ok(value) => {
                if field.required && value == Value::Bool(false) {
                    // A required checkbox is one that must be ticked.
                    errors.push(FieldError {
                        field: field.name.clone(),
                        problem: Problem::Required,
                    });
                }
                values.insert(field.name.clone(), value);
            }
            Err(problem) => errors.push(FieldError {
                field: field.name.clone(),
                problem,
            }),
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn check(field: &Field, raw: &Value) -> Result<Value, Problem> {
    match field.kind {
        FieldType::Text => {
            let text = text_of(raw).ok_or(Problem::TooLong { max: 0 })?;
            let length = text.chars().count();
            let max = field
                .max_length
                .unwrap_or(MAX_TEXT_VALUE)
                .min(MAX_TEXT_VALUE);
            if let Some(min) = field.min_length.filter(|&m| length < m) {
                return Err(Problem::TooShort { min });
            }
            if length > max {
                return Err(Problem::TooLong { max });
            }
            Ok(Value::String(text))
        }
        FieldType::Number => {
            let number = match raw {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            }
            .filter(|n| n.is_finite())
            .ok_or(Problem::NotANumber)?;
            bounds(field, number, |v| v.as_f64())?;
            Ok(serde_json::Number::from_f64(number)
                .map(|n| {
                    // Whole numbers stay integers in the output.
                    if number.fract() == 0.0 && number.abs() < 9e15 {
                        Value::from(number as i64)
                    } else {
                        Value::Number(n)
                    }
                })
                .unwrap_or(Value::Null))
        }
        FieldType::Money => {
            let text = text_of(raw).ok_or(Problem::NotMoney)?;
            let amount = cents(&text).ok_or(Problem::NotMoney)?;
            bounds(field, amount as f64, |v| {
                text_of(v).and_then(|t| cents(&t)).map(|c| c as f64)
            })?;
            Ok(Value::String(format_cents(amount)))
        }
        FieldType::Date => {
            let text = text_of(raw).ok_or(Problem::NotADate)?;
            if !is_date(&text) {
                return Err(Problem::NotADate);
            }
            // ISO dates compare as text.
            if let Some(min) = field.min.as_ref().and_then(text_of)
                && text < min
            {
                return Err(Problem::TooSmall { min });
            }
            if let Some(max) = field.max.as_ref().and_then(text_of)
                && text > max
            {
                return Err(Problem::TooLarge { max });
            }
            Ok(Value::String(text))
        }
        FieldType::Choice => {
            let text = text_of(raw).unwrap_or_default();
            if field.options.contains(&text) {
                Ok(Value::String(text))
            } else {
                Err(Problem::NotAChoice {
                    options: field.options.clone(),
                })
            }
        }
        FieldType::Boolean => match raw {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            // What a checkbox sends, and what people type.
            Value::String(s) => match s.trim() {
                "on" | "true" | "yes" | "1" => Ok(Value::Bool(true)),
                "false" | "no" | "0" | "off" => Ok(Value::Bool(false)),
                _ => Err(Problem::NotABoolean),
            },
            _ => Err(Problem::NotABoolean),
        },
    }
}

/// Checks `value` against the field's `min` and `max`, read by `read`.
fn bounds(field: &Field, value: f64, read: impl Fn(&Value) -> Option<f64>) -> Result<(), Problem> {
    if let Some(min) = field.min.as_ref()
        && let Some(limit) = read(min)
        && value < limit
    {
        return Err(Problem::TooSmall {
            min: text_of(min).unwrap_or_default(),
        });
    }
    if let Some(max) = field.max.as_ref()
        && let Some(limit) = read(max)
        && value > limit
    {
        return Err(Problem::TooLarge {
            max: text_of(max).unwrap_or_default(),
        });
    }
    Ok(())
}

/// An amount in cents: digits, optionally `.` and one or two digits; no
/// sign, no exponent, at most 13 whole digits.
fn cents(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 13 || !digits(whole) {
        return None;
    }
    if fraction.len() > 2 || !digits(fraction) || (text.contains('.') && fraction.is_empty()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = format!("{fraction:0<2}").parse().ok()?;
    Some(whole * 100 + fraction)
}

fn format_cents(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// `YYYY-MM-DD` naming a real day (proleptic Gregorian, years 0001-9999).
fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    if !digits(0..4) || !digits(5..7) || !digits(8..10) {
        return false;
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().unwrap_or(0);
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1 && (1..=days).contains(&day)
}

/// Checks that a form's own description makes sense (for descriptors and
/// task rows): names usable and distinct, choices given, limits typed.
pub fn check_fields(fields: &[Field]) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for field in fields {
        if !usable_name(&field.name) {
            return Err(format!("the field name {:?} is not usable", field.name));
        }
        if !seen.insert(&field.name) {
            return Err(format!("the field {:?} is there twice", field.name));
        }
        if field.kind == FieldType::Choice && field.options.is_empty() {
            return Err(format!("the choice field {:?} has no options", field.name));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(value: Value) -> Field {
        serde_json::from_value(value).expect("a field")
    }

    fn given(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn values_are_typed_and_each_problem_is_named_by_field() {
        let fields = vec![
            field(
                json!({"name": "amount", "label": "Amount", "type": "money", "required": true, "min": "0.01", "max": "100000"}),
            ),
            field(json!({"name": "count", "label": "Count", "type": "number", "max": 10})),
            field(json!({"name": "day", "label": "Day", "type": "date", "min": "2026-01-01"})),
            field(
                json!({"name": "currency", "label": "Currency", "type": "choice", "options": ["EUR", "USD"]}),
            ),
            field(json!({"name": "urgent", "label": "Urgent", "type": "boolean"})),
            field(json!({"name": "why", "label": "Why", "type": "text", "maxLength": 5})),
        ];
        let ok = validate(
            &fields,
            &given(&[
                ("amount", json!("1200.5")),
                ("count", json!("3")),
                ("day", json!("2026-02-28")),
                ("currency", json!("EUR")),
                ("urgent", json!("on")),
                ("why", json!(" trip ")),
            ]),
        )
        .expect("valid");
        assert_eq!(ok["amount"], json!("1200.50"));
        assert_eq!(ok["count"], json!(3));
        assert_eq!(ok["urgent"], json!(true));
        assert_eq!(ok["why"], json!("trip"));

        let errors = validate(
            &fields,
            &given(&[
                ("amount", json!("12.345")),
                ("count", json!(11)),
                ("day", json!("2026-02-30")),
                ("currency", json!("GBP")),
                ("why", json!("too long")),
                ("other", json!("x")),
            ]),
        )
        .expect_err("invalid");
        let problem = |name: &str| {
            errors
                .iter()
                .find(|e| e.field == name)
                .map(|e| e.problem.clone())
        };
        assert_eq!(problem("amount"), Some(Problem::NotMoney));
        assert_eq!(
            problem("count"),
            Some(Problem::TooLarge { max: "10".into() })
        );
        assert_eq!(problem("day"), Some(Problem::NotADate));
        assert!(matches!(
            problem("currency"),
            Some(Problem::NotAChoice { .. })
        ));
        assert_eq!(problem("why"), Some(Problem::TooLong { max: 5 }));
        assert_eq!(problem("other"), Some(Problem::Unknown));
        assert_eq!(problem("urgent"), None);

        let missing = validate(&fields, &BTreeMap::new()).expect_err("amount is required");
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].problem, Problem::Required);
        assert_eq!(
            validate(&fields, &given(&[("amount", json!("0.00"))])).expect_err("too small")[0]
                .problem,
            Problem::TooSmall { min: "0.01".into() }
        );
    }

    #[test]
    fn money_is_exact_and_refuses_signs_exponents_and_stray_dots() {
        assert_eq!(cents("0.1"), Some(10));
        assert_eq!(cents("12"), Some(1200));
        for bad in ["-1", "1e3", "1.", ".5", "1.234", "１", "", "1,5"] {
            assert_eq!(cents(bad), None, "{bad:?}");
        }
        assert_eq!(format_cents(120050), "1200.50");
    }

    #[test]
    fn dates_name_real_days() {
        for good in ["2026-12-31", "2024-02-29", "2000-02-29", "0001-01-01"] {
            assert!(is_date(good), "{good}");
        }
        for bad in [
            "2026-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "0000-01-01",
            "2026-04-31",
            "２０２６-01-01",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
    }
}
