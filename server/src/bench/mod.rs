//! `countersign bench`: measurements that print figures, side by side with
//! a reference where there is one. Not tests: nothing here passes or fails
//! on a number.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use serde_json::json;
use tokio::sync::Semaphore;

use crate::embedded::EmbeddedServices;

pub mod dashboard;

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}")]
    Embedded(#[from] crate::embedded::EmbeddedError),
    #[error("{0}")]
    Moto(#[from] crate::moto::MotoError),
    #[error("{backend}: {message}")]
    Call { backend: String, message: String },
}

fn call_error(backend: &str, e: impl std::fmt::Debug) -> BenchError {
    BenchError::Call {
        backend: backend.to_owned(),
        message: format!("{e:?}"),
    }
}

/// One measured run.
#[derive(Debug, Clone)]
pub struct Figures {
    pub backend: String,
    pub executions: usize,
    pub concurrency: usize,
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "engine  {:<9} executions={:<6} concurrency={:<4} {:>9.1} executions/s  start-to-wait p50={:>6.0} ms  p99={:>6.0} ms (1 ms resolution)",
            self.backend,
            self.executions,
            self.concurrency,
            self.per_second,
            self.p50.as_secs_f64() * 1000.0,
            self.p99.as_secs_f64() * 1000.0
        )
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Starts `executions` executions of Pass → putItem → putItem.waitForTaskToken
/// against the services `config` reaches, `concurrency` StartExecution calls at a
/// time. Throughput: executions over the time until every token row is
/// readable. Latency: each execution's ExecutionStarted → TaskSubmitted, by
/// the service's own history timestamps.
pub async fn engine_run(
    backend: &str,
    config: aws_config::SdkConfig,
    executions: usize,
    concurrency: usize,
) -> Result<Figures, BenchError> {
    let sfn = aws_sdk_sfn::Client::new(&config);
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    let suffix = std::process::id();
    let (orders, actions) = (
        format!("bench-orders-{suffix}"),
        format!("bench-actions-{suffix}"),
    );
    for (table, key) in [(&orders, "orderId"), (&actions, "executionId")] {
        ddb.create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(key)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(|e| call_error(backend, e))?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(key)
                    .key_type(KeyType::Hash)
                    .build()
                    .map_err(|e| call_error(backend, e))?,
            )
            .send()
            .await
            .map_err(|e| call_error(backend, e))?;
    }
    let definition = json!({"StartAt": "Pending", "States": {
        "Pending": {"Type": "Pass", "Parameters": {"status": "PENDING", "items.$": "$.items"}, "Next": "Record"},
        "Record": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "Parameters": {
            "TableName": orders, "Item": {"orderId": {"S.$": "$$.Execution.Id"}, "status": {"S.$": "$.status"}}},
            "ResultPath": null, "Next": "Wait"},
        "Wait": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken", "Parameters": {
            "TableName": actions, "Item": {"executionId": {"S.$": "$$.Execution.Id"}, "taskToken": {"S.$": "$$.Task.Token"}}},
            "End": true}
    }});
    let machine = sfn
        .create_state_machine()
        .name(format!("bench-{suffix}"))
        .definition(definition.to_string())
        .role_arn("arn:aws:iam::123456789012:role/bench")
        .send()
        .await
        .map_err(|e| call_error(backend, e))?
        .state_machine_arn()
        .to_owned();

    // Start every execution, `concurrency` StartExecution calls in flight.
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(executions);
    for i in 0..executions {
        let permit = gate
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| call_error(backend, e))?;
        let (sfn, machine, backend) = (sfn.clone(), machine.clone(), backend.to_owned());
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            // Named explicitly: moto gives every unnamed execution the same
            // ARN (ending in ":None").
            sfn.start_execution()
                .state_machine_arn(&machine)
                .name(format!("order-{i}"))
                .input(r#"{"items":["hat","jeans"]}"#)
                .send()
                .await
                .map(|o| o.execution_arn().to_owned())
                .map_err(|e| call_error(&backend, e))
        }));
    }
    let mut arns = Vec::with_capacity(executions);
    for task in tasks {
        arns.push(task.await.map_err(|e| call_error(backend, e))??);
    }
    // Done when every execution's token row is readable: the moment a
    // person could act on it. Counting rows every 20 ms keeps the
    // measurement from loading the service it measures.
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let mut count = 0;
        let mut start_key = None;
        loop {
            let page = ddb
                .scan()
                .table_name(&actions)
                .select(aws_sdk_dynamodb::types::Select::Count)
                .set_exclusive_start_key(start_key)
                .send()
                .await
                .map_err(|e| call_error(backend, e))?;
            count += page.count() as usize;
            start_key = page.last_evaluated_key().cloned();
            if start_key.is_none() {
                break;
            }
        }
        tracing::debug!(backend, count, "executions waiting");
        if count >= executions {
            break;
        }
        if Instant::now() > deadline {
            return Err(call_error(
                backend,
                format!("only {count} of {executions} executions reached their wait"),
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();

    // Each execution's own time from start to waiting, by the service's
    // history timestamps (the same measure on every backend).
    let mut latencies = Vec::with_capacity(executions);
    for arn in &arns {
        let history = sfn
            .get_execution_history()
            .execution_arn(arn)
            .send()
            .await
            .map_err(|e| call_error(backend, e))?;
        let at = |kind: &str| {
            history
                .events()
                .iter()
                .find(|e| e.r#type().as_str() == kind)
                .map(|e| e.timestamp().as_secs_f64())
        };
        if let (Some(start), Some(waiting)) = (at("ExecutionStarted"), at("TaskSubmitted")) {
            latencies.push(Duration::from_secs_f64((waiting - start).max(0.0)));
        }
    }
    latencies.sort();
    Ok(Figures {
        backend: backend.to_owned(),
        executions,
        concurrency,
        per_second: executions as f64 / elapsed.as_secs_f64(),
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
    })
}

/// The engine benchmark: the embedded services, then moto, then the ratio.
pub async fn engine(
    executions: usize,
    moto_executions: usize,
    concurrency: usize,
) -> Result<(), BenchError> {
    let dir = std::env::temp_dir().join(format!("countersign-bench-{}", std::process::id()));
    // Over a socket, as moto is measured.
    let credential = crate::embedded::Credential {
        access_key_id: "bench".into(),
        secret_access_key: countersign_domain::users::generate_password(),
    };
    let socket = crate::embedded::Socket {
        listen: (std::net::Ipv4Addr::LOCALHOST, 0).into(),
        credential: crate::embedded::CredentialSource::Given(credential.clone()),
    };
    let services = EmbeddedServices::start(&dir, Some(socket)).await?;
    let endpoint = services
        .endpoint()
        .map(|(addr, _)| addr)
        .ok_or_else(|| call_error("embedded", "the services opened no socket"))?;
    let config = crate::aws::embedded_config(endpoint, &credential).await;
    let ours = engine_run("embedded", config, executions, concurrency).await;
    services.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    let ours = ours?;
    println!("{ours}");
    if moto_executions == 0 {
        return Ok(());
    }
    let moto_url = crate::moto::start()?;
    let theirs = engine_run(
        "moto",
        crate::aws::local_config(&moto_url).await,
        moto_executions,
        concurrency,
    )
    .await?;
    println!("{theirs}");
    println!(
        "engine  ratio     {:.1}x executions/s (embedded vs moto)",
        ours.per_second / theirs.per_second
    );
    Ok(())
}
