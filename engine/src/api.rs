//! The Step Functions API over HTTP: awsJson 1.0, one POST per call, the
//! operation in `X-Amz-Target: AWSStepFunctions.<Operation>`, errors as
//! `{"__type": …, "message": …}` so that SDKs raise their typed errors.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::engine::Engine;
use crate::error::ApiError;
use crate::interpreter::Event;
use crate::store::{ExecutionRow, MachineRow};

/// The `X-Amz-Target` prefix of every Step Functions operation.
pub const TARGET_PREFIX: &str = "AWSStepFunctions.";

const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// Answers one API request.
pub async fn handle(engine: &Engine, headers: &HeaderMap, body: &Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(operation) = target.strip_prefix(TARGET_PREFIX) else {
        return error_response(&ApiError::UnknownOperation(format!(
            "Unknown operation '{target}'"
        )));
    };
    let request = if body.is_empty() {
        Ok(Value::Object(Map::new()))
    } else {
        serde_json::from_slice::<Value>(body).map_err(|e| {
            ApiError::SerializationFailed(format!("the request body is not JSON: {e}"))
        })
    };
    let result = match request {
        Ok(Value::Object(request)) => dispatch(engine, operation, &Request(request)).await,
        Ok(_) => Err(ApiError::SerializationFailed(
            "the request body must be a JSON object".into(),
        )),
        Err(e) => Err(e),
    };
    match result {
        Ok(value) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, CONTENT_TYPE)],
            value.to_string(),
        )
            .into_response(),
        Err(error) => error_response(&error),
    }
}

fn error_response(error: &ApiError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = json!({"__type": error.code(), "message": error.to_string()});
    (
        status,
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        body.to_string(),
    )
        .into_response()
}

struct Request(Map<String, Value>);

impl Request {
    fn opt_str(&self, key: &str) -> Result<Option<&str>, ApiError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::SerializationFailed(format!(
                "'{key}' must be a string"
            ))),
        }
    }

    fn str(&self, key: &str) -> Result<&str, ApiError> {
        self.opt_str(key)?.ok_or_else(|| {
            ApiError::Validation(format!(
                "1 validation error detected: '{key}' must not be null"
            ))
        })
    }

    fn opt_usize(&self, key: &str) -> Result<Option<usize>, ApiError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().map(|n| Some(n as usize)).ok_or_else(|| {
                ApiError::SerializationFailed(format!("'{key}' must be a whole number"))
            }),
        }
    }

    fn bool_or(&self, key: &str, default: bool) -> Result<bool, ApiError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(ApiError::SerializationFailed(format!(
                "'{key}' must be true or false"
            ))),
        }
    }
}

/// Epoch seconds with milliseconds, as awsJson encodes timestamps.
fn seconds(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

fn with_next(mut body: Value, next: Option<String>) -> Value {
    if let Some(n) = next {
        body["nextToken"] = json!(n);
    }
    body
}

fn machine_summary(m: &MachineRow) -> Value {
    json!({"stateMachineArn": m.arn, "name": m.name, "type": "STANDARD", "creationDate": seconds(m.created_ms)})
}

fn execution_summary(e: &ExecutionRow) -> Value {
    let mut v = json!({
        "executionArn": e.arn,
        "stateMachineArn": e.machine_arn,
        "name": e.name,
        "status": e.status,
        "startDate": seconds(e.start_ms),
    });
    if let Some(stop) = e.stop_ms {
        v["stopDate"] = seconds(stop);
    }
    v
}

fn event_json(e: &Event, include_data: bool) -> Value {
    let mut v = json!({
        "timestamp": seconds(e.timestamp_ms),
        "type": e.kind,
        "id": e.id,
        "previousEventId": e.previous_event_id,
    });
    if let Some((key, details)) = &e.details {
        let mut details = details.clone();
        if !include_data && let Value::Object(map) = &mut details {
            for field in ["input", "output", "parameters"] {
                map.remove(field);
            }
        }
        v[key] = details;
    }
    v
}

async fn dispatch(engine: &Engine, operation: &str, r: &Request) -> Result<Value, ApiError> {
    match operation {
        "CreateStateMachine" => {
            let m = engine.create_state_machine(
                r.str("name")?,
                r.str("definition")?,
                r.str("roleArn")?,
                r.opt_str("type")?,
            )?;
            Ok(json!({"stateMachineArn": m.arn, "creationDate": seconds(m.created_ms)}))
        }
        "DescribeStateMachine" => {
            let m = engine.describe_state_machine(r.str("stateMachineArn")?)?;
            Ok(json!({
                "stateMachineArn": m.arn,
                "name": m.name,
                "status": "ACTIVE",
                "definition": m.definition,
                "roleArn": m.role_arn,
                "type": "STANDARD",
                "creationDate": seconds(m.created_ms),
            }))
        }
        "ListStateMachines" => {
            let page =
                engine.list_state_machines(r.opt_usize("maxResults")?, r.opt_str("nextToken")?)?;
            Ok(with_next(
                json!({"stateMachines": page.items.iter().map(machine_summary).collect::<Vec<_>>()}),
                page.next_token,
            ))
        }
        "UpdateStateMachine" => {
            let at = engine.update_state_machine(
                r.str("stateMachineArn")?,
                r.opt_str("definition")?,
                r.opt_str("roleArn")?,
            )?;
            Ok(json!({"updateDate": seconds(at)}))
        }
        "DeleteStateMachine" => {
            engine.delete_state_machine(r.str("stateMachineArn")?)?;
            Ok(json!({}))
        }
        "StartExecution" => {
            let e = engine
                .start_execution(
                    r.str("stateMachineArn")?,
                    r.opt_str("name")?,
                    r.opt_str("input")?,
                )
                .await?;
            Ok(json!({"executionArn": e.arn, "startDate": seconds(e.start_ms)}))
        }
        "DescribeExecution" => {
            let e = engine.describe_execution(r.str("executionArn")?)?;
            let mut v = execution_summary(&e);
            v["input"] = json!(e.input);
            v["inputDetails"] = json!({"included": true});
            if let Some(output) = &e.output {
                v["output"] = json!(output);
                v["outputDetails"] = json!({"included": true});
            }
            if let Some(error) = &e.error {
                v["error"] = json!(error);
            }
            if let Some(cause) = &e.cause {
                v["cause"] = json!(cause);
            }
            Ok(v)
        }
        // The definition an execution runs: the one it started with, even
        // when its machine was updated since (as AWS keeps it).
        "DescribeStateMachineForExecution" => {
            let e = engine.describe_execution(r.str("executionArn")?)?;
            let name = e.machine_arn.rsplit(':').next().unwrap_or_default();
            Ok(json!({
                "stateMachineArn": e.machine_arn,
                "name": name,
                "definition": e.definition,
                "roleArn": e.role_arn,
                "updateDate": seconds(e.start_ms),
            }))
        }
        "ListExecutions" => {
            let page = engine.list_executions(
                r.str("stateMachineArn")?,
                r.opt_str("statusFilter")?,
                r.opt_usize("maxResults")?,
                r.opt_str("nextToken")?,
            )?;
            Ok(with_next(
                json!({"executions": page.items.iter().map(execution_summary).collect::<Vec<_>>()}),
                page.next_token,
            ))
        }
        "GetExecutionHistory" => {
            let include = r.bool_or("includeExecutionData", true)?;
            let page = engine.execution_history(
                r.str("executionArn")?,
                r.opt_usize("maxResults")?,
                r.opt_str("nextToken")?,
                r.bool_or("reverseOrder", false)?,
            )?;
            Ok(with_next(
                json!({"events": page.items.iter().map(|e| event_json(e, include)).collect::<Vec<_>>()}),
                page.next_token,
            ))
        }
        "StopExecution" => {
            let at = engine
                .stop_execution(
                    r.str("executionArn")?,
                    r.opt_str("error")?,
                    r.opt_str("cause")?,
                )
                .await?;
            Ok(json!({"stopDate": seconds(at)}))
        }
        "SendTaskSuccess" => {
            engine
                .send_task_success(r.str("taskToken")?, r.str("output")?)
                .await?;
            Ok(json!({}))
        }
        "SendTaskFailure" => {
            engine
                .send_task_failure(
                    r.str("taskToken")?,
                    r.opt_str("error")?,
                    r.opt_str("cause")?,
                )
                .await?;
            Ok(json!({}))
        }
        "SendTaskHeartbeat" => {
            engine.send_task_heartbeat(r.str("taskToken")?).await?;
            Ok(json!({}))
        }
        other => Err(ApiError::UnknownOperation(format!(
            "The operation '{other}' is not supported by this engine"
        ))),
    }
}
