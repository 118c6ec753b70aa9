//! What each intrinsic function does with its arguments, and the errors
//! it raises (`States.IntrinsicFailure`).

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::Digest;

use crate::asl::StatesError;

pub(super) fn failure(cause: String) -> StatesError {
    StatesError::new("States.IntrinsicFailure", cause)
}

pub(super) fn want_args(name: &str, args: &[Value], n: usize) -> Result<(), StatesError> {
    if args.len() == n {
        Ok(())
    } else {
        Err(failure(format!(
            "States.{name} takes {n} argument(s), {} given",
            args.len()
        )))
    }
}

pub(super) fn as_str<'a>(name: &str, v: &'a Value) -> Result<&'a str, StatesError> {
    v.as_str()
        .ok_or_else(|| failure(format!("States.{name} expects a string, got {v}")))
}

pub(super) fn as_int(name: &str, v: &Value) -> Result<i64, StatesError> {
    v.as_i64()
        .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
        .ok_or_else(|| failure(format!("States.{name} expects an integer, got {v}")))
}

/// A number as AWS's intrinsics take one where an integer is due:
/// non-integers are rounded half up, as Java's `Math.round` does (AWS
/// records `1.5` → 2 and `-1.5` → -1 for `States.MathAdd`).
pub(super) fn as_rounded(name: &str, v: &Value) -> Result<i64, StatesError> {
    if let Some(i) = v.as_i64() {
        return Ok(i);
    }
    v.as_f64()
        .filter(|f| f.is_finite() && f.abs() < 9.0e15)
        .map(|f| (f + 0.5).floor() as i64)
        .ok_or_else(|| failure(format!("States.{name} expects a number, got {v}")))
}

/// A value as `States.Format` writes it into its text. AWS renders with
/// Java's `toString`, so an object is `{a=1, b=[]}` and a string inside one
/// is bare; a string argument itself goes in as it is.
fn format_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(format_text).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{k}={}", format_text(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        other => other.to_string(),
    }
}

/// serde_json reads `-0` as the float -0.0, where AWS's parser reads the
/// integer 0 (recorded: `States.StringToJson('-0')` is `0`).
fn without_negative_zero(v: Value) -> Value {
    match v {
        Value::Number(n)
            if n.as_f64() == Some(0.0) && n.as_f64().is_some_and(f64::is_sign_negative) =>
        {
            json!(0)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(without_negative_zero).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k, without_negative_zero(v)))
                .collect(),
        ),
        other => other,
    }
}

pub(super) fn as_array<'a>(name: &str, v: &'a Value) -> Result<&'a Vec<Value>, StatesError> {
    v.as_array()
        .ok_or_else(|| failure(format!("States.{name} expects an array, got {v}")))
}

pub(super) fn apply(name: &str, args: Vec<Value>) -> Result<Value, StatesError> {
    match name {
        "Format" => {
            let template = as_str(name, args.first().unwrap_or(&Value::Null))?;
            let mut out = String::new();
            let mut rest = args.iter().skip(1);
            let mut chars = template.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(next) = chars.next() {
                            out.push(next);
                        }
                    }
                    '{' if chars.peek() == Some(&'}') => {
                        chars.next();
                        let value = rest.next().ok_or_else(|| {
                            failure("States.Format has more placeholders than arguments".into())
                        })?;
                        out.push_str(&format_text(value));
                    }
                    other => out.push(other),
                }
            }
            if rest.next().is_some() {
                return Err(failure(
                    "States.Format has more arguments than placeholders".into(),
                ));
            }
            Ok(Value::String(out))
        }
        "StringToJson" => {
            want_args(name, &args, 1)?;
            let text = as_str(name, &args[0])?;
            // AWS answers null for an empty or blank string.
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            serde_json::from_str(text)
                .map(without_negative_zero)
                .map_err(|e| failure(format!("States.StringToJson: not JSON: {e}")))
        }
        "JsonToString" => {
            want_args(name, &args, 1)?;
            Ok(Value::String(args[0].to_string()))
        }
        "Array" => Ok(Value::Array(args)),
        "ArrayPartition" => {
            want_args(name, &args, 2)?;
            let items = as_array(name, &args[0])?;
            let size = as_int(name, &args[1])?;
            if size <= 0 {
                return Err(failure(
                    "States.ArrayPartition needs a chunk size above 0".into(),
                ));
            }
            Ok(Value::Array(
                items
                    .chunks(size as usize)
                    .map(|c| Value::Array(c.to_vec()))
                    .collect(),
            ))
        }
        "ArrayContains" => {
            want_args(name, &args, 2)?;
            Ok(Value::Bool(as_array(name, &args[0])?.contains(&args[1])))
        }
        "ArrayRange" => {
            want_args(name, &args, 3)?;
            let (start, end, step) = (
                as_int(name, &args[0])?,
                as_int(name, &args[1])?,
                as_int(name, &args[2])?,
            );
            if step == 0 {
                return Err(failure("States.ArrayRange needs a non-zero step".into()));
            }
            let mut out = Vec::new();
            let mut i = start;
            while (step > 0 && i <= end) || (step < 0 && i >= end) {
                out.push(json!(i));
                if out.len() > 1000 {
                    return Err(failure("States.ArrayRange makes at most 1000 items".into()));
                }
                i += step;
            }
            Ok(Value::Array(out))
        }
        "ArrayGetItem" => {
            want_args(name, &args, 2)?;
            let items = as_array(name, &args[0])?;
            let index = as_int(name, &args[1])?;
            usize::try_from(index)
                .ok()
                .and_then(|i| items.get(i))
                .cloned()
                .ok_or_else(|| failure(format!("States.ArrayGetItem: no item at index {index}")))
        }
        "ArrayLength" => {
            want_args(name, &args, 1)?;
            Ok(json!(as_array(name, &args[0])?.len()))
        }
        "ArrayUnique" => {
            want_args(name, &args, 1)?;
            let mut out: Vec<Value> = Vec::new();
            for item in as_array(name, &args[0])? {
                if !out.contains(item) {
                    out.push(item.clone());
                }
            }
            Ok(Value::Array(out))
        }
        "Base64Encode" => {
            want_args(name, &args, 1)?;
            Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(as_str(name, &args[0])?),
            ))
        }
        "Base64Decode" => {
            want_args(name, &args, 1)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(as_str(name, &args[0])?)
                .map_err(|e| failure(format!("States.Base64Decode: {e}")))?;
            String::from_utf8(bytes)
                .map(Value::String)
                .map_err(|_| failure("States.Base64Decode: the result is not UTF-8".into()))
        }
        "Hash" => {
            want_args(name, &args, 2)?;
            let data = match &args[0] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let algorithm = as_str(name, &args[1])?;
            let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
            match algorithm {
                "MD5" => Ok(Value::String(format!(
                    "{:x}",
                    md5::compute(data.as_bytes())
                ))),
                "SHA-1" => Ok(Value::String(hex(&sha1::Sha1::digest(data.as_bytes())))),
                "SHA-256" => Ok(Value::String(hex(&sha2::Sha256::digest(data.as_bytes())))),
                "SHA-384" => Ok(Value::String(hex(&sha2::Sha384::digest(data.as_bytes())))),
                "SHA-512" => Ok(Value::String(hex(&sha2::Sha512::digest(data.as_bytes())))),
                other => Err(failure(format!(
                    "States.Hash: the algorithm '{other}' is not supported (MD5, SHA-1, SHA-256, SHA-384 and SHA-512 are)"
                ))),
            }
        }
        "JsonMerge" => {
            want_args(name, &args, 3)?;
            if args[2] != Value::Bool(false) {
                return Err(failure(
                    "States.JsonMerge supports only a shallow merge (false)".into(),
                ));
            }
            match (&args[0], &args[1]) {
                (Value::Object(a), Value::Object(b)) => {
                    let mut out = a.clone();
                    for (k, v) in b {
                        out.insert(k.clone(), v.clone());
                    }
                    Ok(Value::Object(out))
                }
                _ => Err(failure("States.JsonMerge expects two objects".into())),
            }
        }
        "MathRandom" => {
            if !(2..=3).contains(&args.len()) {
                return Err(failure("States.MathRandom takes 2 or 3 arguments".into()));
            }
            let (start, end) = (as_rounded(name, &args[0])?, as_rounded(name, &args[1])?);
            if end <= start {
                return Err(failure("States.MathRandom needs start < end".into()));
            }
            // A seed makes the number the same on every run, as AWS's does
            // (AWS's own generator is Java's, so the numbers differ).
            match args.get(2) {
                Some(seed) => {
                    use rand::{Rng as _, SeedableRng as _};
                    let seed = as_rounded(name, seed)?;
                    let mut rng = rand::rngs::StdRng::seed_from_u64(seed as u64);
                    Ok(json!(rng.random_range(start..end)))
                }
                None => Ok(json!(rand::random_range(start..end))),
            }
        }
        "MathAdd" => {
            want_args(name, &args, 2)?;
            let sum = as_rounded(name, &args[0])?
                .checked_add(as_rounded(name, &args[1])?)
                .ok_or_else(|| failure("States.MathAdd overflowed".into()))?;
            Ok(json!(sum))
        }
        "StringSplit" => {
            want_args(name, &args, 2)?;
            let text = as_str(name, &args[0])?;
            let separators: Vec<char> = as_str(name, &args[1])?.chars().collect();
            Ok(Value::Array(
                text.split(|c| separators.contains(&c))
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_owned()))
                    .collect(),
            ))
        }
        "UUID" => {
            want_args(name, &args, 0)?;
            Ok(Value::String(uuid::Uuid::new_v4().to_string()))
        }
        other => Err(failure(format!(
            "States.{other} is not an intrinsic function"
        ))),
    }
}
