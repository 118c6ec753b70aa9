//! Intrinsic functions (`States.Format(...)` and friends) as they appear in
//! `.$` values of Parameters, ResultSelector and ItemSelector. Parsed when
//! the definition is created; evaluated against the state's input.
//!
//! # Layout
//! - `mod.rs`: a call and its arguments, evaluated against the input.
//! - `parse`: reading a call's text.
//! - `functions`: what each function does.

use serde_json::Value;

use super::path::Path;
use super::{Bindings, StatesError};

mod functions;
mod parse;

use functions::{apply, failure};
use parse::Parser;

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

    pub fn eval(&self, input: &Value, context: &Bindings) -> Result<Value, StatesError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(text: &str, input: Value) -> Result<Value, StatesError> {
        Call::parse(text)
            .expect("parses")
            .eval(&input, &Bindings::default())
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

    // The cases below follow executions recorded against AWS (LocalStack's
    // AWS-validated snapshots of its intrinsic-function tests).
    #[test]
    fn math_rounds_non_integers_half_up_as_aws_does() {
        let add = |a: f64, b: f64| eval("States.MathAdd($.a, $.b)", json!({"a": a, "b": b}));
        for (a, b, sum) in [
            (1.49, 1.5, 3),
            (1.5, 1.51, 4),
            (-1.49, -1.5, -2),
            (-1.5, -1.51, -3),
            (0.5, 0.0, 1),
            (2.5, 0.0, 3),
            (-0.5, 0.0, 0),
            (-2.5, 0.0, -2),
            (-0.5, 0.5, 1),
        ] {
            assert_eq!(add(a, b).expect("adds"), json!(sum), "{a} + {b}");
        }
        let r = eval("States.MathRandom(12.5, 44.51)", json!({})).expect("ok");
        assert!((13..45).contains(&r.as_i64().expect("an integer")), "{r}");
        let seeded = || eval("States.MathRandom(0, 999, 3)", json!({})).expect("ok");
        assert_eq!(seeded(), seeded(), "a seed gives the same number");
    }

    #[test]
    fn format_writes_objects_and_arrays_as_aws_does() {
        assert_eq!(
            eval(
                "States.Format('fst={} and snd={}.', $.a, $.b)",
                json!({"a": {"Arg1": 1, "Arg2": []}, "b": null})
            )
            .expect("ok"),
            json!("fst={Arg1=1, Arg2=[]} and snd=null.")
        );
        assert_eq!(
            eval(
                "States.Format('{}', $.a)",
                json!({"a": [1, "x", {"k": true}]})
            )
            .expect("ok"),
            json!("[1, x, {k=true}]")
        );
        assert_eq!(
            eval(
                "States.Format('{} {}', $.s, 1.1)",
                json!({"s": "{\"A\": 1}"})
            )
            .expect("ok"),
            json!("{\"A\": 1} 1.1"),
            "a string argument goes in as it is"
        );
    }

    #[test]
    fn hash_knows_every_algorithm_aws_does() {
        for (algorithm, hex) in [
            ("MD5", "812f45842bc6d66ee14572ce20db8e86"),
            ("SHA-1", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
            (
                "SHA-256",
                "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3",
            ),
            (
                "SHA-384",
                "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562",
            ),
            (
                "SHA-512",
                "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4",
            ),
        ] {
            assert_eq!(
                eval(
                    "States.Hash($.d, $.a)",
                    json!({"d": "input data", "a": algorithm})
                )
                .expect("hashes"),
                json!(hex),
                "{algorithm}"
            );
        }
        let e = eval("States.Hash('x', 'SHA-3')", json!({})).expect_err("unknown");
        assert_eq!(e.error, "States.IntrinsicFailure");
    }

    #[test]
    fn string_to_json_of_a_blank_string_is_null() {
        for blank in ["", " "] {
            assert_eq!(
                eval("States.StringToJson($.s)", json!({"s": blank})).expect("ok"),
                Value::Null
            );
        }
        assert_eq!(
            eval("States.StringToJson($.s)", json!({"s": "-0"})).expect("ok"),
            json!(0)
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
