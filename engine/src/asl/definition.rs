//! A state machine definition, parsed and checked once at
//! CreateStateMachine. Every error message names the state and field so
//! that `InvalidDefinition` tells the author what to fix.

use std::collections::HashSet;

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::choice::Condition;
use super::path::Path;
use super::template::Template;

/// The whole definition.
#[derive(Debug, Clone)]
pub struct Definition {
    pub machine: Machine,
    /// The execution's time limit (`TimeoutSeconds` at the top level).
    pub timeout_seconds: Option<u64>,
}

/// A set of states with its entry point: the top level, a Parallel branch or
/// a Map iterator.
#[derive(Debug, Clone)]
pub struct Machine {
    pub start_at: String,
    pub states: IndexMap<String, State>,
}

/// InputPath / OutputPath / ItemsPath / ResultPath: absent means `$`,
/// `null` means "nothing" (an empty object, or discard the result).
#[derive(Debug, Clone)]
pub enum PathSetting {
    Default,
    Null,
    Path(Path),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    Next(String),
    End,
    /// Choice, Succeed and Fail decide for themselves.
    None,
}

#[derive(Debug, Clone)]
pub struct State {
    pub input_path: PathSetting,
    pub output_path: PathSetting,
    pub transition: Transition,
    pub kind: StateKind,
}

#[derive(Debug, Clone)]
pub enum StateKind {
    Pass {
        result: Option<Value>,
        parameters: Option<Template>,
        result_path: PathSetting,
    },
    Task(Box<TaskState>),
    Choice {
        choices: Vec<(Condition, String)>,
        default: Option<String>,
    },
    Wait(WaitFor),
    Parallel(Box<ParallelState>),
    Map(Box<MapState>),
    Succeed,
    Fail {
        error: Option<String>,
        cause: Option<String>,
        error_path: Option<Path>,
        cause_path: Option<Path>,
    },
}

impl StateKind {
    /// The name AWS uses in event types (`TaskStateEntered`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            StateKind::Pass { .. } => "Pass",
            StateKind::Task(_) => "Task",
            StateKind::Choice { .. } => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Parallel(_) => "Parallel",
            StateKind::Map(_) => "Map",
            StateKind::Succeed => "Succeed",
            StateKind::Fail { .. } => "Fail",
        }
    }
}

/// What the shared fields of Task, Parallel and Map do with results and
/// errors.
#[derive(Debug, Clone)]
pub struct Outcomes {
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
    pub result_path: PathSetting,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
}

#[derive(Debug, Clone)]
pub struct TaskState {
    pub resource: Resource,
    pub outcomes: Outcomes,
    pub timeout: Option<Seconds>,
    pub heartbeat: Option<Seconds>,
}

#[derive(Debug, Clone)]
pub struct ParallelState {
    pub branches: Vec<Machine>,
    pub outcomes: Outcomes,
}

#[derive(Debug, Clone)]
pub struct MapState {
    pub iterator: Machine,
    pub items_path: PathSetting,
    pub outcomes: Outcomes,
}

#[derive(Debug, Clone)]
pub enum Seconds {
    Fixed(u64),
    Path(Path),
}

#[derive(Debug, Clone)]
pub enum WaitFor {
    Seconds(Seconds),
    Timestamp(String),
    TimestampPath(Path),
}

#[derive(Debug, Clone)]
pub struct Retrier {
    pub errors: Vec<String>,
    pub interval_seconds: f64,
    pub max_attempts: u32,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
}

impl Retrier {
    /// The delay before retry number `attempt` (0-based).
    pub fn delay_ms(&self, attempt: u32) -> u64 {
        let mut secs = self.interval_seconds * self.backoff_rate.powi(attempt as i32);
        if let Some(max) = self.max_delay_seconds {
            secs = secs.min(max);
        }
        (secs * 1000.0) as u64
    }
}

#[derive(Debug, Clone)]
pub struct Catcher {
    pub errors: Vec<String>,
    pub next: String,
    pub result_path: PathSetting,
}

/// The task resources this engine runs. Anything else is refused when the
/// definition is created, naming the resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The DynamoDB API action, as on the wire (`PutItem`).
    pub action: String,
    /// `arn:aws:states:::aws-sdk:dynamodb:…` rather than the optimised
    /// `arn:aws:states:::dynamodb:…`: decides the error name prefix.
    pub aws_sdk: bool,
    /// `.waitForTaskToken`: pause until SendTask* with the task's token.
    pub wait_for_task_token: bool,
    /// As written, for history events.
    pub arn: String,
}

impl Resource {
    /// The prefix of error names this resource raises
    /// (`DynamoDB.ConditionalCheckFailedException`).
    pub fn error_prefix(&self) -> &'static str {
        if self.aws_sdk { "DynamoDb" } else { "DynamoDB" }
    }

    /// `resourceType` and `resource` as history events spell them.
    pub fn event_names(&self) -> (String, String) {
        let rest = self.arn.trim_start_matches("arn:aws:states:::");
        match rest.split_once(':') {
            Some((kind, resource)) => (kind.to_owned(), resource.to_owned()),
            None => (rest.to_owned(), String::new()),
        }
    }

    fn parse(arn: &str, at: &str) -> Result<Self, String> {
        let refuse = || {
            format!(
                "{at}: the resource '{arn}' is not supported by this engine; it runs DynamoDB tasks \
                 (arn:aws:states:::dynamodb:putItem|getItem|updateItem|deleteItem and \
                 arn:aws:states:::aws-sdk:dynamodb:<action>, optionally .waitForTaskToken)"
            )
        };
        let (base, wait_for_task_token) = match arn.strip_suffix(".waitForTaskToken") {
            Some(base) => (base, true),
            None => (arn, false),
        };
        let (aws_sdk, action) = if let Some(a) = base.strip_prefix("arn:aws:states:::dynamodb:") {
            if !matches!(a, "putItem" | "getItem" | "updateItem" | "deleteItem") {
                return Err(refuse());
            }
            if wait_for_task_token {
                return Err(format!(
                    "{at}: '{arn}': the optimised DynamoDB integration answers at once; use \
                     arn:aws:states:::aws-sdk:dynamodb:{a}.waitForTaskToken to wait for a callback"
                ));
            }
            (false, a)
        } else if let Some(a) = base.strip_prefix("arn:aws:states:::aws-sdk:dynamodb:") {
            const ACTIONS: &[&str] = &[
                "putItem",
                "getItem",
                "updateItem",
                "deleteItem",
                "query",
                "scan",
                "batchGetItem",
                "batchWriteItem",
                "transactGetItems",
                "transactWriteItems",
                "describeTable",
                "listTables",
            ];
            if !ACTIONS.contains(&a) {
                return Err(refuse());
            }
            (true, a)
        } else {
            return Err(refuse());
        };
        let mut chars = action.chars();
        let action = chars
            .next()
            .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
            .unwrap_or_default();
        Ok(Self {
            action,
            aws_sdk,
            wait_for_task_token,
            arn: arn.to_owned(),
        })
    }
}

/// Parses and checks a definition's JSON text.
pub fn parse(text: &str) -> Result<Definition, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("the definition is not valid JSON: {e}"))?;
    let map = value
        .as_object()
        .ok_or_else(|| "the definition must be a JSON object".to_owned())?;
    let mut top = Fields::new(map, "the definition");
    if let Some(lang) = top.opt_str("QueryLanguage")?
        && lang != "JSONPath"
    {
        return Err(format!(
            "QueryLanguage '{lang}' is not supported; use JSONPath"
        ));
    }
    top.ignore(&["Comment", "Version"]);
    let timeout_seconds = top.opt_u64("TimeoutSeconds")?;
    let machine = parse_machine(&mut top, "")?;
    top.finish()?;
    Ok(Definition {
        machine,
        timeout_seconds,
    })
}

fn parse_machine(fields: &mut Fields<'_>, scope: &str) -> Result<Machine, String> {
    let start_at = fields.str("StartAt")?.to_owned();
    let states_value = fields.take("States")?;
    let states_map = states_value
        .as_object()
        .ok_or_else(|| format!("{}: States must be an object", fields.at))?;
    if states_map.is_empty() {
        return Err(format!("{}: States must not be empty", fields.at));
    }
    let mut states = IndexMap::new();
    for (name, body) in states_map {
        if name.is_empty() || name.len() > 80 {
            return Err(format!(
                "{scope}state name '{name}' must be 1 to 80 characters"
            ));
        }
        let at = format!("{scope}state '{name}'");
        let body = body
            .as_object()
            .ok_or_else(|| format!("{at}: must be an object"))?;
        states.insert(name.clone(), parse_state(body, &at)?);
    }
    let machine = Machine { start_at, states };
    check_targets(&machine, scope)?;
    Ok(machine)
}

/// Every `Next`, `Default`, catcher target and `StartAt` names a state of
/// the same machine.
fn check_targets(machine: &Machine, scope: &str) -> Result<(), String> {
    let known: HashSet<&str> = machine.states.keys().map(String::as_str).collect();
    let check = |target: &str, from: &str| {
        if known.contains(target) {
            Ok(())
        } else {
            Err(format!(
                "{from}: the state '{target}' it names does not exist"
            ))
        }
    };
    check(&machine.start_at, &format!("{scope}StartAt"))?;
    for (name, state) in &machine.states {
        let at = format!("{scope}state '{name}'");
        if let Transition::Next(next) = &state.transition {
            check(next, &format!("{at}.Next"))?;
        }
        let catchers = match &state.kind {
            StateKind::Task(t) => &t.outcomes.catch[..],
            StateKind::Parallel(p) => &p.outcomes.catch[..],
            StateKind::Map(m) => &m.outcomes.catch[..],
            StateKind::Choice { choices, default } => {
                for (i, (_, next)) in choices.iter().enumerate() {
                    check(next, &format!("{at}.Choices[{i}].Next"))?;
                }
                if let Some(d) = default {
                    check(d, &format!("{at}.Default"))?;
                }
                &[]
            }
            _ => &[],
        };
        for (i, c) in catchers.iter().enumerate() {
            check(&c.next, &format!("{at}.Catch[{i}].Next"))?;
        }
    }
    Ok(())
}

fn parse_state(body: &Map<String, Value>, at: &str) -> Result<State, String> {
    let mut f = Fields::new(body, at);
    f.ignore(&["Comment"]);
    let type_name = f.str("Type")?.to_owned();
    const TYPES: &[&str] = &[
        "Pass", "Task", "Choice", "Wait", "Parallel", "Map", "Succeed", "Fail",
    ];
    if !TYPES.contains(&type_name.as_str()) {
        return Err(format!(
            "{at}: '{type_name}' is not a state type ({})",
            TYPES.join(", ")
        ));
    }
    let mut state = State {
        input_path: PathSetting::Default,
        output_path: PathSetting::Default,
        transition: Transition::None,
        kind: StateKind::Succeed,
    };
    let flows = !matches!(type_name.as_str(), "Choice" | "Succeed" | "Fail");
    if type_name != "Fail" {
        state.input_path = f.path_setting("InputPath")?;
        state.output_path = f.path_setting("OutputPath")?;
    }
    if flows {
        let next = f.opt_str("Next")?.map(str::to_owned);
        let end = f.opt_bool("End")?.unwrap_or(false);
        state.transition = match (next, end) {
            (Some(n), false) => Transition::Next(n),
            (None, true) => Transition::End,
            (Some(_), true) => return Err(format!("{at}: has both Next and End")),
            (None, false) => return Err(format!("{at}: needs Next or \"End\": true")),
        };
    }
    state.kind = match type_name.as_str() {
        "Pass" => StateKind::Pass {
            result: f.opt("Result"),
            parameters: f.template("Parameters")?,
            result_path: f.result_path()?,
        },
        "Task" => {
            let resource = Resource::parse(f.str("Resource")?, at)?;
            let timeout = f.seconds("TimeoutSeconds", "TimeoutSecondsPath")?;
            let heartbeat = f.seconds("HeartbeatSeconds", "HeartbeatSecondsPath")?;
            if let (Some(Seconds::Fixed(t)), Some(Seconds::Fixed(h))) = (&timeout, &heartbeat)
                && h >= t
            {
                return Err(format!(
                    "{at}: HeartbeatSeconds must be less than TimeoutSeconds"
                ));
            }
            let outcomes = f.outcomes("Parameters")?;
            StateKind::Task(Box::new(TaskState {
                resource,
                outcomes,
                timeout,
                heartbeat,
            }))
        }
        "Choice" => {
            let list = f.take("Choices")?;
            let rules = list
                .as_array()
                .filter(|a| !a.is_empty())
                .ok_or_else(|| format!("{at}: Choices must be a non-empty array"))?;
            let mut choices = Vec::new();
            for (i, rule) in rules.iter().enumerate() {
                let rat = format!("{at}.Choices[{i}]");
                let map = rule
                    .as_object()
                    .ok_or_else(|| format!("{rat}: must be an object"))?;
                let next = map
                    .get("Next")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("{rat}: needs Next"))?;
                choices.push((Condition::parse(map, &rat)?, next.to_owned()));
            }
            StateKind::Choice {
                choices,
                default: f.opt_str("Default")?.map(str::to_owned),
            }
        }
        "Wait" => {
            let seconds = f.seconds("Seconds", "SecondsPath")?;
            let timestamp = f.opt_str("Timestamp")?.map(str::to_owned);
            let timestamp_path = f.opt_path("TimestampPath")?;
            match (seconds, timestamp, timestamp_path) {
                (Some(s), None, None) => StateKind::Wait(WaitFor::Seconds(s)),
                (None, Some(t), None) => {
                    time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339)
                        .map_err(|_| {
                            format!("{at}.Timestamp: '{t}' is not an RFC 3339 timestamp")
                        })?;
                    StateKind::Wait(WaitFor::Timestamp(t))
                }
                (None, None, Some(p)) => StateKind::Wait(WaitFor::TimestampPath(p)),
                _ => {
                    return Err(format!(
                        "{at}: needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath"
                    ));
                }
            }
        }
        "Parallel" => {
            let list = f.take("Branches")?;
            let items = list
                .as_array()
                .filter(|a| !a.is_empty())
                .ok_or_else(|| format!("{at}: Branches must be a non-empty array"))?;
            let mut branches = Vec::new();
            for (i, b) in items.iter().enumerate() {
                let bat = format!("{at}.Branches[{i}]");
                let map = b
                    .as_object()
                    .ok_or_else(|| format!("{bat}: must be an object"))?;
                let mut bf = Fields::new(map, &bat);
                bf.ignore(&["Comment"]);
                let machine = parse_machine(&mut bf, &format!("{bat}: "))?;
                bf.finish()?;
                branches.push(machine);
            }
            let outcomes = f.outcomes("Parameters")?;
            StateKind::Parallel(Box::new(ParallelState { branches, outcomes }))
        }
        "Map" => {
            let (key, value) = match (f.opt("ItemProcessor"), f.opt("Iterator")) {
                (Some(v), None) => ("ItemProcessor", v),
                (None, Some(v)) => ("Iterator", v),
                _ => {
                    return Err(format!(
                        "{at}: needs exactly one of ItemProcessor or Iterator"
                    ));
                }
            };
            let iat = format!("{at}.{key}");
            let map = value
                .as_object()
                .ok_or_else(|| format!("{iat}: must be an object"))?;
            let mut pf = Fields::new(map, &iat);
            pf.ignore(&["Comment"]);
            if let Some(config) = pf.opt("ProcessorConfig")
                && config
                    .get("Mode")
                    .and_then(Value::as_str)
                    .is_some_and(|m| m != "INLINE")
            {
                return Err(format!(
                    "{iat}.ProcessorConfig: only INLINE mode is supported"
                ));
            }
            let iterator = parse_machine(&mut pf, &format!("{iat}: "))?;
            pf.finish()?;
            let items_path = f.path_setting("ItemsPath")?;
            // Accepted and honoured as "all at once": results do not depend on it.
            let _ = f.opt_u64("MaxConcurrency")?;
            let selector_key = if f.has("ItemSelector") {
                "ItemSelector"
            } else {
                "Parameters"
            };
            let outcomes = f.outcomes(selector_key)?;
            StateKind::Map(Box::new(MapState {
                iterator,
                items_path,
                outcomes,
            }))
        }
        "Succeed" => StateKind::Succeed,
        "Fail" => {
            let error = f.opt_str("Error")?.map(str::to_owned);
            let cause = f.opt_str("Cause")?.map(str::to_owned);
            let error_path = f.opt_path("ErrorPath")?;
            let cause_path = f.opt_path("CausePath")?;
            if error.is_some() && error_path.is_some() || cause.is_some() && cause_path.is_some() {
                return Err(format!(
                    "{at}: give Error or ErrorPath (and Cause or CausePath), not both"
                ));
            }
            StateKind::Fail {
                error,
                cause,
                error_path,
                cause_path,
            }
        }
        other => return Err(format!("{at}: '{other}' is not a state type")),
    };
    f.finish()?;
    Ok(state)
}

/// Reads fields from a JSON object and remembers which were read, so that
/// anything left over (a typo, an unsupported feature) is reported.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    at: String,
    used: HashSet<&'a str>,
}

impl<'a> Fields<'a> {
    fn new(map: &'a Map<String, Value>, at: &str) -> Self {
        Self {
            map,
            at: at.to_owned(),
            used: HashSet::new(),
        }
    }

    fn mark(&mut self, key: &str) -> Option<&'a Value> {
        let (k, v) = self.map.get_key_value(key)?;
        self.used.insert(k.as_str());
        Some(v)
    }

    fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    fn ignore(&mut self, keys: &[&str]) {
        for k in keys {
            self.mark(k);
        }
    }

    fn opt(&mut self, key: &str) -> Option<Value> {
        self.mark(key).cloned()
    }

    fn take(&mut self, key: &str) -> Result<&'a Value, String> {
        self.mark(key)
            .ok_or_else(|| format!("{}: {key} is required", self.at))
    }

    fn str(&mut self, key: &str) -> Result<&'a str, String> {
        let at = self.at.clone();
        self.take(key)?
            .as_str()
            .ok_or_else(|| format!("{at}.{key}: must be a string"))
    }

    fn opt_str(&mut self, key: &str) -> Result<Option<&'a str>, String> {
        match self.mark(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(format!("{}.{key}: must be a string", self.at)),
        }
    }

    fn opt_bool(&mut self, key: &str) -> Result<Option<bool>, String> {
        match self.mark(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(format!("{}.{key}: must be true or false", self.at)),
        }
    }

    fn opt_u64(&mut self, key: &str) -> Result<Option<u64>, String> {
        match self.mark(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .filter(|n| *n <= 99_999_999)
                .map(Some)
                .ok_or_else(|| format!("{}.{key}: must be a whole number of seconds", self.at)),
        }
    }

    fn opt_f64(&mut self, key: &str) -> Result<Option<f64>, String> {
        match self.mark(key) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|n| *n >= 0.0)
                .map(Some)
                .ok_or_else(|| format!("{}.{key}: must be a non-negative number", self.at)),
        }
    }

    fn opt_path(&mut self, key: &str) -> Result<Option<Path>, String> {
        match self.opt_str(key)? {
            None => Ok(None),
            Some(s) => Path::parse(s)
                .map(Some)
                .map_err(|e| format!("{}.{key}: {e}", self.at)),
        }
    }

    fn path_setting(&mut self, key: &str) -> Result<PathSetting, String> {
        match self.mark(key) {
            None => Ok(PathSetting::Default),
            Some(Value::Null) => Ok(PathSetting::Null),
            Some(Value::String(s)) => Path::parse(s)
                .map(PathSetting::Path)
                .map_err(|e| format!("{}.{key}: {e}", self.at)),
            Some(_) => Err(format!("{}.{key}: must be a path string or null", self.at)),
        }
    }

    fn result_path(&mut self) -> Result<PathSetting, String> {
        let setting = self.path_setting("ResultPath")?;
        if let PathSetting::Path(p) = &setting
            && (!p.is_reference() || p.root() != super::path::Root::Input)
        {
            return Err(format!(
                "{}.ResultPath: '{}' must be a plain path into the input (no wildcards, no $$)",
                self.at,
                p.as_str()
            ));
        }
        Ok(setting)
    }

    fn template(&mut self, key: &str) -> Result<Option<Template>, String> {
        match self.mark(key) {
            None => Ok(None),
            Some(v) => Template::parse(v, &format!("{}.{key}", self.at)).map(Some),
        }
    }

    fn seconds(&mut self, fixed: &str, path: &str) -> Result<Option<Seconds>, String> {
        match (self.opt_u64(fixed)?, self.opt_path(path)?) {
            (Some(_), Some(_)) => Err(format!("{}: give {fixed} or {path}, not both", self.at)),
            (Some(n), None) => Ok(Some(Seconds::Fixed(n))),
            (None, Some(p)) => Ok(Some(Seconds::Path(p))),
            (None, None) => Ok(None),
        }
    }

    fn outcomes(&mut self, parameters_key: &str) -> Result<Outcomes, String> {
        Ok(Outcomes {
            parameters: self.template(parameters_key)?,
            result_selector: self.template("ResultSelector")?,
            result_path: self.result_path()?,
            retry: self.retriers()?,
            catch: self.catchers()?,
        })
    }

    fn error_list(&self, entry: &Map<String, Value>, at: &str) -> Result<Vec<String>, String> {
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

    fn retriers(&mut self) -> Result<Vec<Retrier>, String> {
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

    fn catchers(&mut self) -> Result<Vec<Catcher>, String> {
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
            cf.finish()?;
            out.push(Catcher {
                errors,
                next,
                result_path,
            });
        }
        Ok(out)
    }

    fn finish(self) -> Result<(), String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn refuse(text: &str, expect: &str) {
        let e = parse(text).expect_err("must be refused");
        assert!(e.contains(expect), "'{e}' should mention '{expect}'");
    }

    #[test]
    fn accepts_every_state_type() {
        let d = parse(
            r#"{"StartAt":"P","TimeoutSeconds":30,"States":{
              "P":{"Type":"Pass","Result":{"a":1},"ResultPath":"$.r","Next":"C"},
              "C":{"Type":"Choice","Choices":[{"Variable":"$.r.a","NumericEquals":1,"Next":"W"}],"Default":"F"},
              "W":{"Type":"Wait","Seconds":1,"Next":"T"},
              "T":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken",
                   "Parameters":{"TableName":"t","Item":{"k":{"S.$":"$$.Task.Token"}}},
                   "TimeoutSeconds":10,"HeartbeatSeconds":5,
                   "Retry":[{"ErrorEquals":["States.Timeout"],"MaxAttempts":1}],
                   "Catch":[{"ErrorEquals":["States.ALL"],"Next":"F","ResultPath":"$.error"}],"Next":"Par"},
              "Par":{"Type":"Parallel","Branches":[{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}],"Next":"M"},
              "M":{"Type":"Map","ItemsPath":"$.xs","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"Next":"S"},
              "S":{"Type":"Succeed"},
              "F":{"Type":"Fail","Error":"E","Cause":"c"}}}"#,
        )
        .expect("valid");
        assert_eq!(d.timeout_seconds, Some(30));
        assert_eq!(d.machine.states.len(), 8);
    }

    #[test]
    fn refuses_with_a_message_that_names_the_problem() {
        refuse("nope", "not valid JSON");
        refuse(
            r#"{"StartAt":"X","States":{"A":{"Type":"Succeed"}}}"#,
            "'X'",
        );
        refuse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}"#,
            "'B'",
        );
        refuse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass"}}}"#,
            "needs Next",
        );
        refuse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Bogus"}}}"#,
            "'Bogus'",
        );
        refuse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Reslt":1}}}"#,
            "'Reslt'",
        );
        refuse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","End":true}}}"#,
            "arn:aws:lambda:us-east-1:1:function:f",
        );
        refuse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem.waitForTaskToken","End":true}}}"#,
            "aws-sdk:dynamodb:putItem.waitForTaskToken",
        );
        refuse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"ResultPath":"$.a[*]"}}}"#,
            "ResultPath",
        );
        refuse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:getItem","End":true,
               "Catch":[{"ErrorEquals":["States.ALL"],"Next":"A"},{"ErrorEquals":["X"],"Next":"A"}]}}}"#,
            "must come last",
        );
        refuse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Wait","End":true}}}"#,
            "exactly one of Seconds",
        );
        refuse(
            r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"Z","States":{"A":{"Type":"Succeed"}}}]}}}"#,
            "Branches[0]",
        );
    }

    #[test]
    fn resources_map_to_dynamodb_actions() {
        let r = Resource::parse(
            "arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken",
            "x",
        )
        .expect("ok");
        assert_eq!(r.action, "UpdateItem");
        assert!(r.aws_sdk && r.wait_for_task_token);
        assert_eq!(
            r.event_names(),
            (
                "aws-sdk".into(),
                "dynamodb:updateItem.waitForTaskToken".into()
            )
        );
        let r = Resource::parse("arn:aws:states:::dynamodb:putItem", "x").expect("ok");
        assert_eq!(r.error_prefix(), "DynamoDB");
        assert_eq!(r.event_names(), ("dynamodb".into(), "putItem".into()));
    }
}
