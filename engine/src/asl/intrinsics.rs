//! Intrinsic functions (`States.Format(...)` and friends) as they appear in
//! `.$` values of Parameters, ResultSelector and ItemSelector. Parsed when
//! the definition is created; evaluated against the state's input.

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::Digest;

use super::StatesError;
use super::path::Path;

/// One argument of an intrinsic call.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Literal(Value),
    Path(Path),
    Call(Call),
}

/// A parsed call: `States.<name>(<args>)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    name: String,
    args: Vec<Arg>,
}

const KNOWN: &[&str] = &[
    "Format",
    "StringToJson",
    "JsonToString",
    "Array",
    "ArrayPartition",
    "ArrayContains",
    "ArrayRange",
    "ArrayGetItem",
    "ArrayLength",
    "ArrayUnique",
    "Base64Encode",
    "Base64Decode",
    "Hash",
    "JsonMerge",
    "MathRandom",
    "MathAdd",
    "StringSplit",
    "UUID",
];

impl Call {
    /// Parses a whole intrinsic expression.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parser = Parser { text, pos: 0 };
        let call = parser.call()?;
        parser.skip_ws();
        if parser.pos != text.len() {
            return Err(format!(
                "unexpected text after the intrinsic function in '{text}'"
            ));
        }
        Ok(call)
    }

    /// True when `text` looks like an intrinsic call rather than a path.
    pub fn looks_like(text: &str) -> bool {
        text.trim_start().starts_with("States.")
    }

    pub fn eval(&self, input: &Value, context: &Value) -> Result<Value, StatesError> {
        let mut args = Vec::with_capacity(self.args.len());
        for arg in &self.args {
            args.push(match arg {
                Arg::Literal(v) => v.clone(),
                Arg::Path(p) => p.get(input, context).ok_or_else(|| {
                    failure(format!(
                        "The JsonPath '{}' given to States.{} could not be found in the input",
                        p.as_str(),
                        self.name
                    ))
                })?,
                Arg::Call(c) => c.eval(input, context)?,
            });
        }
        apply(&self.name, args)
    }
}

fn failure(cause: String) -> StatesError {
    StatesError::new("States.IntrinsicFailure", cause)
}

fn want_args(name: &str, args: &[Value], n: usize) -> Result<(), StatesError> {
    if args.len() == n {
        Ok(())
    } else {
        Err(failure(format!(
            "States.{name} takes {n} argument(s), {} given",
            args.len()
        )))
    }
}

fn as_str<'a>(name: &str, v: &'a Value) -> Result<&'a str, StatesError> {
    v.as_str()
        .ok_or_else(|| failure(format!("States.{name} expects a string, got {v}")))
}

fn as_int(name: &str, v: &Value) -> Result<i64, StatesError> {
    v.as_i64()
        .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
        .ok_or_else(|| failure(format!("States.{name} expects an integer, got {v}")))
}

fn as_array<'a>(name: &str, v: &'a Value) -> Result<&'a Vec<Value>, StatesError> {
    v.as_array()
        .ok_or_else(|| failure(format!("States.{name} expects an array, got {v}")))
}

fn apply(name: &str, args: Vec<Value>) -> Result<Value, StatesError> {
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
                        match value {
                            Value::String(s) => out.push_str(s),
                            other => out.push_str(&other.to_string()),
                        }
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
            serde_json::from_str(as_str(name, &args[0])?)
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
                "SHA-256" => Ok(Value::String(hex(&sha2::Sha256::digest(data.as_bytes())))),
                "SHA-384" => Ok(Value::String(hex(&sha2::Sha384::digest(data.as_bytes())))),
                "SHA-512" => Ok(Value::String(hex(&sha2::Sha512::digest(data.as_bytes())))),
                other => Err(failure(format!(
                    "States.Hash: the algorithm '{other}' is not supported here (SHA-256, SHA-384, SHA-512 are)"
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
            let (start, end) = (as_int(name, &args[0])?, as_int(name, &args[1])?);
            if end <= start {
                return Err(failure("States.MathRandom needs start < end".into()));
            }
            Ok(json!(rand::random_range(start..end)))
        }
        "MathAdd" => {
            want_args(name, &args, 2)?;
            let sum = as_int(name, &args[0])?
                .checked_add(as_int(name, &args[1])?)
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

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.text.len() - trimmed.len();
    }

    fn call(&mut self) -> Result<Call, String> {
        self.skip_ws();
        let rest = self.rest();
        let Some(after) = rest.strip_prefix("States.") else {
            return Err(format!("expected 'States.' at '{rest}'"));
        };
        let name_len = after
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(after.len());
        let name = after[..name_len].to_owned();
        if !KNOWN.contains(&name.as_str()) {
            return Err(format!("'States.{name}' is not an intrinsic function"));
        }
        self.pos += "States.".len() + name_len;
        self.skip_ws();
        if !self.rest().starts_with('(') {
            return Err(format!("expected '(' after States.{name}"));
        }
        self.pos += 1;
        let mut args = Vec::new();
        self.skip_ws();
        if self.rest().starts_with(')') {
            self.pos += 1;
            return Ok(Call { name, args });
        }
        loop {
            args.push(self.arg()?);
            self.skip_ws();
            match self.rest().chars().next() {
                Some(',') => self.pos += 1,
                Some(')') => {
                    self.pos += 1;
                    return Ok(Call { name, args });
                }
                _ => {
                    return Err(format!(
                        "expected ',' or ')' in the arguments of States.{name}"
                    ));
                }
            }
        }
    }

    fn arg(&mut self) -> Result<Arg, String> {
        self.skip_ws();
        let rest = self.text[self.pos..].to_owned();
        let rest = rest.as_str();
        if rest.starts_with('\'') {
            let mut out = String::new();
            let mut escaped = false;
            for (i, c) in rest.char_indices().skip(1) {
                if escaped {
                    // Keep the backslash before braces: States.Format reads
                    // it to tell a literal '{' from a placeholder.
                    if c == '{' || c == '}' {
                        out.push('\\');
                    }
                    out.push(c);
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '\'' {
                    self.pos += i + 1;
                    return Ok(Arg::Literal(Value::String(out)));
                } else {
                    out.push(c);
                }
            }
            return Err("an intrinsic function has an unclosed string".into());
        }
        if rest.starts_with("States.") {
            return Ok(Arg::Call(self.call()?));
        }
        let end = rest.find([',', ')']).unwrap_or(rest.len());
        let token = rest[..end].trim();
        self.pos += end;
        if token.starts_with('$') {
            return Path::parse(token).map(Arg::Path);
        }
        match token {
            "true" => Ok(Arg::Literal(Value::Bool(true))),
            "false" => Ok(Arg::Literal(Value::Bool(false))),
            "null" => Ok(Arg::Literal(Value::Null)),
            _ => serde_json::from_str::<serde_json::Number>(token)
                .map(|n| Arg::Literal(Value::Number(n)))
                .map_err(|_| format!("'{token}' is not a valid intrinsic function argument")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(text: &str, input: Value) -> Result<Value, StatesError> {
        Call::parse(text).expect("parses").eval(&input, &json!({}))
    }

    #[test]
    fn format_fills_placeholders_and_keeps_escaped_braces() {
        assert_eq!(
            eval(
                "States.Format('Hello {} from {}', $.name, 'x')",
                json!({"name": "Bob"})
            )
            .expect("ok"),
            json!("Hello Bob from x")
        );
        assert_eq!(
            eval("States.Format('a \\{\\} {}', 3)", json!({})).expect("ok"),
            json!("a {} 3")
        );
        assert!(eval("States.Format('{} {}', 1)", json!({})).is_err());
    }

    #[test]
    fn json_round_trips_and_arrays() {
        assert_eq!(
            eval("States.StringToJson($.s)", json!({"s": "{\"a\":1}"})).expect("ok"),
            json!({"a": 1})
        );
        assert_eq!(
            eval("States.JsonToString($)", json!({"a": 1})).expect("ok"),
            json!("{\"a\":1}")
        );
        assert_eq!(
            eval("States.Array(1, 'two', $.x)", json!({"x": null})).expect("ok"),
            json!([1, "two", null])
        );
        assert_eq!(
            eval("States.ArrayPartition(States.Array(1,2,3), 2)", json!({})).expect("ok"),
            json!([[1, 2], [3]])
        );
        assert_eq!(
            eval("States.ArrayRange(1, 9, 4)", json!({})).expect("ok"),
            json!([1, 5, 9])
        );
        assert_eq!(
            eval("States.ArrayLength(States.Array(1,1))", json!({})).expect("ok"),
            json!(2)
        );
        assert_eq!(
            eval("States.ArrayUnique(States.Array(1,1,2))", json!({})).expect("ok"),
            json!([1, 2])
        );
        assert_eq!(
            eval("States.ArrayContains(States.Array(1,2), 2)", json!({})).expect("ok"),
            json!(true)
        );
        assert_eq!(
            eval("States.ArrayGetItem(States.Array(5,6), 1)", json!({})).expect("ok"),
            json!(6)
        );
    }

    #[test]
    fn math_strings_and_hashes() {
        assert_eq!(
            eval("States.MathAdd($.n, -3)", json!({"n": 10})).expect("ok"),
            json!(7)
        );
        assert_eq!(
            eval("States.StringSplit('a,b;c', ',;')", json!({})).expect("ok"),
            json!(["a", "b", "c"])
        );
        assert_eq!(
            eval("States.Base64Decode(States.Base64Encode('hi'))", json!({})).expect("ok"),
            json!("hi")
        );
        assert_eq!(
            eval("States.Hash('abc', 'SHA-256')", json!({})).expect("ok"),
            json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        let r = eval("States.MathRandom(1, 3)", json!({})).expect("ok");
        assert!(r == json!(1) || r == json!(2));
        assert_eq!(
            eval("States.UUID()", json!({}))
                .expect("ok")
                .as_str()
                .map(str::len),
            Some(36)
        );
    }

    #[test]
    fn failures_are_intrinsic_failures() {
        let e = eval("States.MathAdd('a', 1)", json!({})).expect_err("fails");
        assert_eq!(e.error, "States.IntrinsicFailure");
        let e = eval("States.Format($.missing)", json!({})).expect_err("fails");
        assert_eq!(e.error, "States.IntrinsicFailure");
    }

    #[test]
    fn unknown_functions_and_bad_syntax_are_refused_when_parsing() {
        assert!(Call::parse("States.Nope(1)").is_err());
        assert!(Call::parse("States.Format('x'").is_err());
        assert!(Call::parse("States.Format('x') extra").is_err());
    }
}
