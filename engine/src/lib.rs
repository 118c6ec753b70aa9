//! A local AWS Step Functions engine.
//!
//! It runs Amazon States Language state machines and serves the Step
//! Functions API (awsJson 1.0), so that `aws-sdk-sfn` and the AWS CLI talk to
//! it as to AWS. It exists because nothing that runs Step Functions can be
//! embedded: the dashboard's default mode must work with no AWS account and
//! no extra service, running the same ASL files that are deployed to AWS.
//!
//! # Layout
//! - `asl`: parsing and validating definitions; paths, payload templates,
//!   intrinsic functions and choice rules (pure, no I/O).
//! - `interpreter`: advances one execution, state by state, producing history
//!   events; its whole state is plain data so it can be stored and resumed.
//! - `store`: durable storage (SQLite in the data directory): definitions,
//!   executions with their interpreter state, history, task tokens.
//! - `engine`: the API operations, the scheduler (one driver per running
//!   execution), timers, and recovery after a restart.
//! - `tasks`: what Task states call (DynamoDB), behind a trait.
//! - `api`: the HTTP face: `X-Amz-Target: AWSStepFunctions.*` dispatch and
//!   AWS-shaped errors.
//! - `error`: the engine's errors, with the AWS error codes they map to.

pub mod api;
pub mod asl;
pub mod engine;
pub mod error;
pub mod interpreter;
pub mod store;
pub mod tasks;

pub use engine::{Engine, EngineConfig};
pub use error::ApiError;
pub use store::Store;
pub use tasks::{DynamoDbHttp, ServiceError, TaskRunner};
