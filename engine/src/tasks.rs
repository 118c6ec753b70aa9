//! What Task states call. The engine knows DynamoDB actions only; the
//! [`TaskRunner`] trait lets tests substitute a fake, and [`DynamoDbHttp`]
//! speaks DynamoDB's JSON protocol to any endpoint that does (the embedded
//! dynoxide in practice).

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// An error a service returned: its code (`ConditionalCheckFailedException`)
/// and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    pub code: String,
    pub message: String,
}

/// Performs one DynamoDB action with its request as it goes on the wire.
#[async_trait::async_trait]
pub trait TaskRunner: Send + Sync + 'static {
    async fn dynamodb(&self, action: &str, request: &Value) -> Result<Value, ServiceError>;
}

/// DynamoDB over HTTP (`X-Amz-Target: DynamoDB_20120810.<Action>`).
#[derive(Clone)]
pub struct DynamoDbHttp {
    client: Client<HttpConnector, Full<Bytes>>,
    endpoint: Arc<str>,
}

impl DynamoDbHttp {
    /// `endpoint` like `http://127.0.0.1:8000/`.
    pub fn new(endpoint: &str) -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            endpoint: endpoint.into(),
        }
    }
}

/// How long one DynamoDB call of a Task state may take, whichever runner
/// makes it (the engine enforces it).
pub const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn transport(message: impl std::fmt::Display) -> ServiceError {
    ServiceError {
        code: "InternalServerError".into(),
        message: format!("DynamoDB could not be reached: {message}"),
    }
}

#[async_trait::async_trait]
impl TaskRunner for DynamoDbHttp {
    async fn dynamodb(&self, action: &str, request: &Value) -> Result<Value, ServiceError> {
        let body = serde_json::to_vec(request).map_err(transport)?;
        // The stand-in checks that a request looks signed, not the
        // signature: loopback callers are trusted.
        let req = hyper::Request::post(&*self.endpoint)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("DynamoDB_20120810.{action}"))
            .header("x-amz-date", "20260101T000000Z")
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=countersign/20260101/us-east-1/dynamodb/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=00",
            )
            .body(Full::new(Bytes::from(body)))
            .map_err(transport)?;
        let response = self.client.request(req).await.map_err(transport)?;
        let ok = response.status().is_success();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(transport)?
            .to_bytes();
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if ok {
            return Ok(value);
        }
        let code = value
            .get("__type")
            .and_then(Value::as_str)
            .map(|t| t.rsplit('#').next().unwrap_or(t).to_owned())
            .unwrap_or_else(|| "InternalServerError".into());
        let message = value
            .get("message")
            .or_else(|| value.get("Message"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Err(ServiceError { code, message })
    }
}
