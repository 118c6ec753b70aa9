//! The embedded DynamoDB, called in-process: every action of the DynamoDB
//! JSON protocol is decoded here and run on dynoxide's `Database`, so that
//! no listener of dynoxide's own (which checks no credentials) is ever
//! open. The front (`super`) answers sockets and in-process SDK clients
//! with [`DynamoDb::http`]; the engine's Task states use
//! [`DynamoDb::call`].

use axum::body::Bytes;
use axum::http::StatusCode;
use countersign_engine::ServiceError;
use dynoxide::DynoxideError;
use serde_json::Value;
use tokio::sync::oneshot;

/// The DynamoDB target prefix of the JSON protocol.
const TARGET_PREFIX: &str = "DynamoDB_20120810.";
const STREAMS_TARGET_PREFIX: &str = "DynamoDBStreams_20120810.";
/// The content type DynamoDB answers with.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// One thread that makes every DynamoDB call, one after the other.
/// dynoxide guards its SQLite connection with a fair mutex that hands the
/// lock to the next waiter's thread on release; with calls arriving from
/// every runtime thread, the lock sat idle while threads woke, and the
/// whole server ran at one core (`countersign bench dashboard`, `top`,
/// perf). Queued to one thread, calls take the lock uncontended, and
/// SQLite's blocking work leaves the async threads alone.
#[derive(Clone)]
pub struct DynamoDb {
    jobs: std::sync::mpsc::Sender<Job>,
}

type Job = Box<dyn FnOnce(&dynoxide::Database) + Send>;

/// Why an action could not be run at all.
enum Failure {
    /// dynoxide refused or failed it, worded as DynamoDB words it.
    Service(DynoxideError),
    /// The body is not JSON.
    NotJson,
    /// JSON, but not the action's shape.
    Shape(String),
    /// No such action.
    Unknown,
    /// The database thread is gone (the services are stopping).
    Stopped,
}

impl Failure {
    fn status(&self) -> u16 {
        match self {
            Failure::Service(e) => e.status_code(),
            Failure::Stopped => 500,
            _ => 400,
        }
    }

    fn code(&self) -> String {
        match self {
            Failure::Service(e) => e.error_type().rsplit('#').next().unwrap_or_default().into(),
            Failure::NotJson => "SerializationException".into(),
            Failure::Shape(_) => "ValidationException".into(),
            Failure::Unknown => "UnknownOperationException".into(),
            Failure::Stopped => "InternalServerError".into(),
        }
    }

    fn message(&self) -> String {
        match self {
            Failure::Service(e) => e.to_string(),
            Failure::NotJson => String::new(),
            Failure::Shape(detail) => format!("1 validation error detected: {detail}"),
            Failure::Unknown => String::new(),
            Failure::Stopped => "the embedded DynamoDB is stopping".into(),
        }
    }

    /// The JSON body DynamoDB sends for this error.
    fn body(&self) -> String {
        match self {
            Failure::Service(e) => e.to_json(),
            other => {
                let mut body = serde_json::json!({
                    "__type": format!("com.amazon.coral.service#{}", other.code()),
                });
                let message = other.message();
                if !message.is_empty() {
                    body["message"] = Value::String(message);
                }
                body.to_string()
            }
        }
    }
}

/// Decodes `request` for one action, runs it, encodes the answer.
fn run<Req, Resp>(
    db: &dynoxide::Database,
    request: Request,
    call: fn(&dynoxide::Database, Req) -> dynoxide::Result<Resp>,
) -> Result<Value, Failure>
where
    Req: serde::de::DeserializeOwned,
    Resp: serde::Serialize,
{
    let request: Req = match request {
        Request::Json(value) => {
            serde_json::from_value(value).map_err(|e| Failure::Shape(e.to_string()))
        }
        Request::Bytes(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            // Tell "not JSON" from "not this action's shape", as DynamoDB does.
            if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_err() {
                return Failure::NotJson;
            }
            Failure::Shape(e.to_string())
        }),
    }?;
    let response = call(db, request).map_err(Failure::Service)?;
    serde_json::to_value(response).map_err(|e| Failure::Shape(e.to_string()))
}

enum Request {
    Json(Value),
    Bytes(Bytes),
}

/// Every action dynoxide implements, by its wire name.
macro_rules! actions {
    ($db:ident, $action:ident, $request:ident; $($name:literal => $method:ident),* $(,)?) => {
        match $action {
            $($name => run($db, $request, |db, r| db.$method(r)),)*
            _ => Err(Failure::Unknown),
        }
    };
}

fn dispatch(db: &dynoxide::Database, action: &str, request: Request) -> Result<Value, Failure> {
    actions!(db, action, request;
        "CreateTable" => create_table,
        "DeleteTable" => delete_table,
        "DescribeTable" => describe_table,
        "ListTables" => list_tables,
        "UpdateTable" => update_table,
        "PutItem" => put_item,
        "GetItem" => get_item,
        "DeleteItem" => delete_item,
        "UpdateItem" => update_item,
        "Query" => query,
        "Scan" => scan,
        "BatchGetItem" => batch_get_item,
        "BatchWriteItem" => batch_write_item,
        "TransactWriteItems" => transact_write_items,
        "TransactGetItems" => transact_get_items,
        "ListStreams" => list_streams,
        "DescribeStream" => describe_stream,
        "GetShardIterator" => get_shard_iterator,
        "GetRecords" => get_records,
        "UpdateTimeToLive" => update_time_to_live,
        "DescribeTimeToLive" => describe_time_to_live,
        "ExecuteStatement" => execute_statement,
        "ExecuteTransaction" => execute_transaction,
        "BatchExecuteStatement" => batch_execute_statement,
        "TagResource" => tag_resource,
        "UntagResource" => untag_resource,
        "ListTagsOfResource" => list_tags_of_resource,
    )
}

impl DynamoDb {
    pub fn start(db: dynoxide::Database) -> Self {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        // Ends when the last sender (the engine's runner, the front) is
        // dropped.
        std::thread::Builder::new()
            .name("dynamodb".into())
            .spawn(move || {
                while let Ok(job) = queue.recv() {
                    job(&db);
                }
            })
            .expect("a thread can be started");
        Self { jobs }
    }

    async fn run(&self, action: String, request: Request) -> Result<Value, Failure> {
        let (done, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(move |db| {
                let _ = done.send(dispatch(db, &action, request));
            }))
            .map_err(|_| Failure::Stopped)?;
        answer.await.unwrap_or(Err(Failure::Stopped))
    }

    /// One action for the engine's Task states.
    pub async fn call(&self, action: &str, request: &Value) -> Result<Value, ServiceError> {
        self.run(action.to_owned(), Request::Json(request.clone()))
            .await
            .map_err(|failure| ServiceError {
                code: failure.code(),
                message: failure.message(),
            })
    }

    /// One request of the wire protocol: `target` is its `X-Amz-Target`.
    /// Answers the status and the JSON body.
    pub async fn http(&self, target: Option<&str>, body: Bytes) -> (StatusCode, String) {
        let action = target.and_then(|t| {
            t.strip_prefix(TARGET_PREFIX)
                .or_else(|| t.strip_prefix(STREAMS_TARGET_PREFIX))
        });
        let result = match action {
            Some(action) => self.run(action.to_owned(), Request::Bytes(body)).await,
            None => Err(Failure::Unknown),
        };
        match result {
            Ok(value) => (StatusCode::OK, value.to_string()),
            Err(failure) => (
                StatusCode::from_u16(failure.status()).unwrap_or(StatusCode::BAD_REQUEST),
                failure.body(),
            ),
        }
    }
}
