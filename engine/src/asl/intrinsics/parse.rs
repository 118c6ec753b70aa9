//! Reading an intrinsic call's text: its name, then its arguments
//! (literals, paths, nested calls).

use serde_json::Value;

use super::{Arg, Call, KNOWN};
use crate::asl::path::Path;

pub(super) struct Parser<'a> {
    pub(super) text: &'a str,
    pub(super) pos: usize,
}

impl Parser<'_> {
    pub(super) fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    pub(super) fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.text.len() - trimmed.len();
    }

    pub(super) fn call(&mut self) -> Result<Call, String> {
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

    pub(super) fn arg(&mut self) -> Result<Arg, String> {
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
