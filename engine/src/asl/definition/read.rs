//! Parsing and checking a definition's JSON, state by state.

use std::collections::HashSet;

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::fields::Fields;
use super::{
    Amount, Batcher, ChoiceRule, Definition, Machine, MapState, ParallelState, PathSetting,
    Resource, Seconds, State, StateKind, TaskState, Transition, WaitFor,
};
use crate::asl::choice::Condition;

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
                for (i, rule) in choices.iter().enumerate() {
                    check(&rule.next, &format!("{at}.Choices[{i}].Next"))?;
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
        assign: None,
        kind: StateKind::Succeed,
    };
    if matches!(
        type_name.as_str(),
        "Pass" | "Task" | "Map" | "Parallel" | "Choice" | "Wait"
    ) {
        state.assign = f.assign()?;
    }
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
                let assign = match map.get("Assign") {
                    None => None,
                    Some(_) => {
                        let mut rf = Fields::new(map, &rat);
                        rf.ignore(&["Next", "Comment", "Variable"]);
                        rf.assign()?
                    }
                };
                choices.push(ChoiceRule {
                    condition: Condition::parse(map, &rat)?,
                    next: next.to_owned(),
                    assign,
                });
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
            if let Some(config) = pf.opt("ProcessorConfig") {
                // A Distributed Map without ItemReader or ResultWriter gives
                // the same results as an inline one; it runs as one here.
                let mode = config
                    .get("Mode")
                    .and_then(Value::as_str)
                    .unwrap_or("INLINE");
                if !matches!(mode, "INLINE" | "DISTRIBUTED") {
                    return Err(format!(
                        "{iat}.ProcessorConfig: Mode must be INLINE or DISTRIBUTED"
                    ));
                }
            }
            let iterator = parse_machine(&mut pf, &format!("{iat}: "))?;
            pf.finish()?;
            for unsupported in ["ItemReader", "ResultWriter"] {
                if f.has(unsupported) {
                    return Err(format!(
                        "{at}.{unsupported}: reading items from or writing results to S3 is not supported by this engine"
                    ));
                }
            }
            let items_path = f.path_setting("ItemsPath")?;
            f.ignore(&["Label"]);
            let max_concurrency_path = f.amount("MaxConcurrency", "MaxConcurrencyPath")?;
            let tolerated_count = f.amount("ToleratedFailureCount", "ToleratedFailureCountPath")?;
            let tolerated_percentage = f.amount(
                "ToleratedFailurePercentage",
                "ToleratedFailurePercentagePath",
            )?;
            if let Some(Amount::Fixed(n)) = &tolerated_count
                && (*n < 0.0 || n.fract() != 0.0)
            {
                return Err(format!(
                    "{at}.ToleratedFailureCount: must be a whole number, 0 or more"
                ));
            }
            if let Some(Amount::Fixed(p)) = &tolerated_percentage
                && !(0.0..=100.0).contains(p)
            {
                return Err(format!(
                    "{at}.ToleratedFailurePercentage: must be between 0 and 100"
                ));
            }
            let batcher = match f.opt("ItemBatcher") {
                None => None,
                Some(b) => {
                    let bat = format!("{at}.ItemBatcher");
                    let map = b
                        .as_object()
                        .ok_or_else(|| format!("{bat}: must be an object"))?;
                    let mut bf = Fields::new(map, &bat);
                    let max_items = bf.amount("MaxItemsPerBatch", "MaxItemsPerBatchPath")?;
                    // A size limit in bytes cannot change which items go
                    // together here; accepted.
                    let _ = bf.amount("MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath")?;
                    let batch_input = bf.template("BatchInput")?;
                    bf.finish()?;
                    Some(Batcher {
                        max_items,
                        batch_input,
                    })
                }
            };
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
                max_concurrency_path: max_concurrency_path.and_then(|a| match a {
                    Amount::Path(p) => Some(p),
                    Amount::Fixed(_) => None,
                }),
                tolerated_count,
                tolerated_percentage,
                batcher,
            }))
        }
        "Succeed" => StateKind::Succeed,
        "Fail" => {
            let error = f.opt_str("Error")?.map(str::to_owned);
            let cause = f.opt_str("Cause")?.map(str::to_owned);
            let error_path = f.opt_path_or_call("ErrorPath")?;
            let cause_path = f.opt_path_or_call("CausePath")?;
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
