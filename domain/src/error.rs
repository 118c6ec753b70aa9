//! The domain's errors. Each says what happened in words a person can act
//! on; causes from AWS are logged where they happen, never shown.

/// Why a domain operation did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// Someone (or an earlier click) decided this task first.
    #[error("already decided by {by} at {at}")]
    AlreadyDecided { by: String, at: String },
    /// The workflow no longer waits for this decision (timed out, stopped).
    #[error("this request expired: the workflow no longer waits for it")]
    Expired,
    /// Nothing waits for a decision now (the order is `status`).
    #[error("nothing waits for a decision now (the status is {status})")]
    NotWaiting { status: String },
    /// Someone else holds this task.
    #[error("claimed by {by}")]
    Claimed { by: String },
    /// A form's values were refused, each problem by field.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Form(Vec<crate::forms::FieldError>),
    /// This person may not make this decision.
    #[error("you may not decide this")]
    Forbidden,
    /// No such order or task.
    #[error("not found")]
    NotFound,
    /// The request itself is wrong (empty reason, no items, …).
    #[error("{0}")]
    Invalid(String),
    /// A sign-in with a wrong name or password. Which of the two is not
    /// said, so that names cannot be probed.
    #[error("wrong name or password")]
    BadCredentials,
    /// Too many failed sign-ins for this account or from this address.
    #[error("too many failed sign-ins; try again in {} minute(s)", retry_after_secs.div_ceil(60))]
    TooManyAttempts { retry_after_secs: u64 },
    /// Too many sign-ins are being checked at once (each costs a core and
    /// 19 MiB for a moment); try again in a second.
    #[error("too many sign-ins at once; try again in a moment")]
    Busy,
    /// A file is larger than this server accepts.
    #[error("the file is too large: at most {} can be attached", countersign_model::files::size_text(*limit))]
    TooLarge { limit: u64 },
    /// AWS did not answer as it should; safe to retry.
    #[error("the service is not answering right now; try again in a moment")]
    Unavailable,
}

impl From<countersign_model::people::UnknownRole> for DomainError {
    fn from(error: countersign_model::people::UnknownRole) -> Self {
        DomainError::Invalid(error.to_string())
    }
}

impl From<Vec<crate::forms::FieldError>> for DomainError {
    fn from(errors: Vec<crate::forms::FieldError>) -> Self {
        DomainError::Form(errors)
    }
}
