//! The Step Functions API's errors, by the names AWS gives them, so that an
//! SDK maps each to its typed error.

/// Why an API call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    #[error("{0}")]
    InvalidDefinition(String),
    #[error("{0}")]
    InvalidName(String),
    #[error("{0}")]
    InvalidArn(String),
    #[error("{0}")]
    StateMachineAlreadyExists(String),
    #[error("{0}")]
    StateMachineDoesNotExist(String),
    #[error("{0}")]
    ExecutionAlreadyExists(String),
    #[error("{0}")]
    ExecutionDoesNotExist(String),
    #[error("{0}")]
    InvalidExecutionInput(String),
    #[error("{0}")]
    InvalidToken(String),
    #[error("{0}")]
    TaskDoesNotExist(String),
    #[error("{0}")]
    TaskTimedOut(String),
    #[error("{0}")]
    InvalidOutput(String),
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    UnknownOperation(String),
    #[error("{0}")]
    SerializationFailed(String),
    /// A fault of the engine itself (storage); the detail is logged.
    #[error("internal error")]
    Internal,
}

impl ApiError {
    /// The `__type` AWS sends for this error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidDefinition(_) => "InvalidDefinition",
            ApiError::InvalidName(_) => "InvalidName",
            ApiError::InvalidArn(_) => "InvalidArn",
            ApiError::StateMachineAlreadyExists(_) => "StateMachineAlreadyExists",
            ApiError::StateMachineDoesNotExist(_) => "StateMachineDoesNotExist",
            ApiError::ExecutionAlreadyExists(_) => "ExecutionAlreadyExists",
            ApiError::ExecutionDoesNotExist(_) => "ExecutionDoesNotExist",
            ApiError::InvalidExecutionInput(_) => "InvalidExecutionInput",
            ApiError::InvalidToken(_) => "InvalidToken",
            ApiError::TaskDoesNotExist(_) => "TaskDoesNotExist",
            ApiError::TaskTimedOut(_) => "TaskTimedOut",
            ApiError::InvalidOutput(_) => "InvalidOutput",
            ApiError::Validation(_) => "ValidationException",
            ApiError::UnknownOperation(_) => "UnknownOperationException",
            ApiError::SerializationFailed(_) => "SerializationException",
            ApiError::Internal => "InternalFailure",
        }
    }

    /// HTTP status: 400 for the caller's mistakes, 500 for ours.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Internal => 500,
            _ => 400,
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "engine storage failed");
        ApiError::Internal
    }
}
