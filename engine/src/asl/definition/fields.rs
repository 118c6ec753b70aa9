//! Reading one JSON object's fields, remembering which were read.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{Amount, Catcher, Outcomes, PathSetting, Retrier, Seconds};
use crate::asl::path::Path;
use crate::asl::template::Template;

/// Reads fields from a JSON object and remembers which were read, so that
/// anything left over (a typo, an unsupported feature) is reported.
pub(super) struct Fields<'a> {
    map: &'a Map<String, Value>,
    pub(super) at: String,
    used: HashSet<&'a str>,
}

impl<'a> Fields<'a> {
    pub(super) fn new(map: &'a Map<String, Value>, at: &str) -> Self {
        Self {
            map,
            at: at.to_owned(),
            used: HashSet::new(),
        }
    }

    pub(super) fn mark(&mut self, key: &str) -> Option<&'a Value> {
        let (k, v) = self.map.get_key_value(key)?;
        self.used.insert(k.as_str());
        Some(v)
    }

    pub(super) fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    pub(super) fn ignore(&mut self, keys: &[&str]) {
        for k in keys {
            self.mark(k);
        }
    }

    pub(super) fn opt(&mut self, key: &str) -> Option<Value> {
        self.mark(key).cloned()
    }

    pub(super) fn take(&mut self, key: &str) -> Result<&'a Value, String> {
        self.mark(key)
            .ok_or_else(|| format!("{}: {key} is required", self.at))
    }

    pub(super) fn str(&mut self, key: &str) -> Result<&'a str, String> {
        let at = self.at.clone();
        self.take(key)?
            .as_str()
            .ok_or_else(|| format!("{at}.{key}: must be a string"))
    }

    pub(super) fn opt_str(&mut self, key: &str) -> Result<Option<&'a str>, String> {
        match self.mark(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(format!("{}.{key}: must be a string", self.at)),
        }
    }

    pub(super) fn opt_bool(&mut self, key: &str) -> Result<Option<bool>, String> {
        match self.mark(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(format!("{}.{key}: must be true or false", self.at)),
        }
    }

    pub(super) fn opt_u64(&mut self, key: &str) -> Result<Option<u64>, String> {
        match self.mark(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .filter(|n| *n <= 99_999_999)
                .map(Some)
                .ok_or_else(|| format!("{}.{key}: must be a whole number of seconds", self.at)),
        }
    }

    pub(super) fn opt_f64(&mut self, key: &str) -> Result<Option<f64>, String> {
        match self.mark(key) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|n| *n >= 0.0)
                .map(Some)
                .ok_or_else(|| format!("{}.{key}: must be a non-negative number", self.at)),
        }
    }

    pub(super) fn opt_path(&mut self, key: &str) -> Result<Option<Path>, String> {
        match self.opt_str(key)? {
            None => Ok(None),
            Some(s) => Path::parse(s)
                .map(Some)
                .map_err(|e| format!("{}.{key}: {e}", self.at)),
        }
    }

    /// A field that takes a path or an intrinsic function (a Fail state's
    /// ErrorPath and CausePath).
    pub(super) fn opt_path_or_call(&mut self, key: &str) -> Result<Option<Template>, String> {
        let at = format!("{}.{key}", self.at);
        match self.opt_str(key)? {
            None => Ok(None),
            Some(s) if crate::asl::intrinsics::Call::looks_like(s) => {
                crate::asl::intrinsics::Call::parse(s)
                    .map(|c| Some(Template::Intrinsic(c)))
                    .map_err(|e| format!("{at}: {e}"))
            }
            Some(s) => Path::parse(s)
                .map(|p| Some(Template::Path(p)))
                .map_err(|e| format!("{at}: {e}")),
        }
    }

    pub(super) fn path_setting(&mut self, key: &str) -> Result<PathSetting, String> {
        match self.mark(key) {
            None => Ok(PathSetting::Default),
            Some(Value::Null) => Ok(PathSetting::Null),
            Some(Value::String(s)) => Path::parse(s)
                .map(PathSetting::Path)
                .map_err(|e| format!("{}.{key}: {e}", self.at)),
            Some(_) => Err(format!("{}.{key}: must be a path string or null", self.at)),
        }
    }

    pub(super) fn result_path(&mut self) -> Result<PathSetting, String> {
        let setting = self.path_setting("ResultPath")?;
        if let PathSetting::Path(p) = &setting
            && (!p.is_reference() || *p.root() != crate::asl::path::Root::Input)
        {
            return Err(format!(
                "{}.ResultPath: '{}' must be a plain path into the input (no wildcards, no $$)",
                self.at,
                p.as_str()
            ));
        }
        Ok(setting)
    }

    pub(super) fn template(&mut self, key: &str) -> Result<Option<Template>, String> {
        match self.mark(key) {
            None => Ok(None),
            Some(v) => Template::parse(v, &format!("{}.{key}", self.at)).map(Some),
        }
    }

    /// `Assign`: an object whose keys are variable names (a `.$` suffix
    /// takes the value from a path or intrinsic function, as in a template).
    pub(super) fn assign(&mut self) -> Result<Option<Template>, String> {
        let Some(value) = self.mark("Assign") else {
            return Ok(None);
        };
        let at = format!("{}.Assign", self.at);
        let map = value
            .as_object()
            .ok_or_else(|| format!("{at}: must be an object of variable names"))?;
        for key in map.keys() {
            check_variable_name(key.strip_suffix(".$").unwrap_or(key), &at)?;
        }
        Template::parse(value, &at).map(Some)
    }

    /// A number given as `fixed` or read at run time from `path`.
    pub(super) fn amount(&mut self, fixed: &str, path: &str) -> Result<Option<Amount>, String> {
        match (self.opt_f64(fixed)?, self.opt_path(path)?) {
            (Some(_), Some(_)) => Err(format!("{}: give {fixed} or {path}, not both", self.at)),
            (Some(n), None) => Ok(Some(Amount::Fixed(n))),
            (None, Some(p)) => Ok(Some(Amount::Path(p))),
            (None, None) => Ok(None),
        }
    }

    pub(super) fn seconds(&mut self, fixed: &str, path: &str) -> Result<Option<Seconds>, String> {
        match (self.opt_u64(fixed)?, self.opt_path(path)?) {
            (Some(_), Some(_)) => Err(format!("{}: give {fixed} or {path}, not both", self.at)),
            (Some(n), None) => Ok(Some(Seconds::Fixed(n))),
            (None, Some(p)) => Ok(Some(Seconds::Path(p))),
            (None, None) => Ok(None),
        }
    }

    pub(super) fn outcomes(&mut self, parameters_key: &str) -> Result<Outcomes, String> {
        Ok(Outcomes {
            parameters: self.template(parameters_key)?,
            result_selector: self.template("ResultSelector")?,
            result_path: self.result_path()?,
            retry: self.retriers()?,
            catch: self.catchers()?,
        })
    }

    pub(super) fn error_list(
        &self,
        entry: &Map<String, Value>,
        at: &str,
    ) -> Result<Vec<String>, String> {
        let list = entry
            .get("ErrorEquals")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| format!("{at}: ErrorEquals must be a non-empty array"))?;
        let errors: Vec<String> = list
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| format!("{at}: ErrorEquals must hold strings"))?;
        if errors.iter().any(|e| e == "States.ALL") && errors.len() > 1 {
            return Err(format!("{at}: States.ALL must appear alone in ErrorEquals"));
        }
        Ok(errors)
    }

    pub(super) fn retriers(&mut self) -> Result<Vec<Retrier>, String> {
        let Some(list) = self.mark("Retry") else {
            return Ok(Vec::new());
        };
        let items = list
            .as_array()
            .ok_or_else(|| format!("{}.Retry: must be an array", self.at))?;
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let at = format!("{}.Retry[{i}]", self.at);
            let map = item
                .as_object()
                .ok_or_else(|| format!("{at}: must be an object"))?;
            let errors = self.error_list(map, &at)?;
            if errors.iter().any(|e| e == "States.ALL") && i + 1 != items.len() {
                return Err(format!("{at}: a States.ALL retrier must come last"));
            }
            let mut rf = Fields::new(map, &at);
            rf.ignore(&["ErrorEquals", "Comment", "JitterStrategy"]);
            let retrier = Retrier {
                errors,
                interval_seconds: rf.opt_f64("IntervalSeconds")?.unwrap_or(1.0),
                max_attempts: rf.opt_u64("MaxAttempts")?.unwrap_or(3) as u32,
                backoff_rate: rf.opt_f64("BackoffRate")?.unwrap_or(2.0),
                max_delay_seconds: rf.opt_f64("MaxDelaySeconds")?,
            };
            if retrier.backoff_rate < 1.0 {
                return Err(format!("{at}.BackoffRate: must be at least 1.0"));
            }
            rf.finish()?;
            out.push(retrier);
        }
        Ok(out)
    }

    pub(super) fn catchers(&mut self) -> Result<Vec<Catcher>, String> {
        let Some(list) = self.mark("Catch") else {
            return Ok(Vec::new());
        };
        let items = list
            .as_array()
            .ok_or_else(|| format!("{}.Catch: must be an array", self.at))?;
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let at = format!("{}.Catch[{i}]", self.at);
            let map = item
                .as_object()
                .ok_or_else(|| format!("{at}: must be an object"))?;
            let errors = self.error_list(map, &at)?;
            if errors.iter().any(|e| e == "States.ALL") && i + 1 != items.len() {
                return Err(format!("{at}: a States.ALL catcher must come last"));
            }
            let mut cf = Fields::new(map, &at);
            cf.ignore(&["ErrorEquals", "Comment"]);
            let next = cf.str("Next")?.to_owned();
            let result_path = cf.result_path()?;
            let assign = cf.assign()?;
            cf.finish()?;
            out.push(Catcher {
                errors,
                next,
                result_path,
                assign,
            });
        }
        Ok(out)
    }

    pub(super) fn finish(self) -> Result<(), String> {
        let mut unknown: Vec<&str> = self
            .map
            .keys()
            .map(String::as_str)
            .filter(|k| !self.used.contains(k))
            .collect();
        unknown.sort_unstable();
        match unknown.as_slice() {
            [] => Ok(()),
            [one] => Err(format!(
                "{}: the field '{one}' is not supported here",
                self.at
            )),
            many => Err(format!(
                "{}: the fields {many:?} are not supported here",
                self.at
            )),
        }
    }
}

/// AWS's rule for variable names: a letter or `_` first, then letters,
/// digits and `_`, at most 80 characters; `states` is reserved.
pub(super) fn check_variable_name(name: &str, at: &str) -> Result<(), String> {
    let well_formed = name.chars().count() <= 80
        && name.starts_with(|c: char| c.is_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !well_formed {
        return Err(format!(
            "{at}: '{name}' is not a variable name (a letter or '_' first, then letters, digits or '_', at most 80)"
        ));
    }
    if name == "states" {
        return Err(format!("{at}: 'states' is a reserved variable name"));
    }
    Ok(())
}
