//! Where an order, a document or a signer's request stands, as the
//! built-in workflows write it (`PENDING`, `WAITING`, …): enums, so a comparison cannot misspell
//! one, with the same text on the wire and in the tables.

use serde::{Deserialize, Serialize};

/// An order's status (process-order's states).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    /// Placed; staff have not taken it on.
    Pending,
    /// Taken on; staff have not sent it.
    Processing,
    Sent,
    /// Rejected, or failed on the way.
    Error,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 4] = [
        OrderStatus::Pending,
        OrderStatus::Processing,
        OrderStatus::Sent,
        OrderStatus::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "PENDING",
            OrderStatus::Processing => "PROCESSING",
            OrderStatus::Sent => "SENT",
            OrderStatus::Error => "ERROR",
        }
    }

    /// `None` for text no workflow writes.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the order waits for staff in this status.
    pub fn waits(self) -> bool {
        matches!(self, OrderStatus::Pending | OrderStatus::Processing)
    }
}

/// A document's status (sign-document's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DocumentStatus {
    /// Some signer has not signed yet.
    Waiting,
    /// Everyone signed.
    Signed,
    /// A signer declined.
    Declined,
    /// A request went unanswered in time.
    TimedOut,
}

impl DocumentStatus {
    pub const ALL: [DocumentStatus; 4] = [
        DocumentStatus::Waiting,
        DocumentStatus::Signed,
        DocumentStatus::Declined,
        DocumentStatus::TimedOut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::Waiting => "WAITING",
            DocumentStatus::Signed => "SIGNED",
            DocumentStatus::Declined => "DECLINED",
            DocumentStatus::TimedOut => "TIMED_OUT",
        }
    }

    /// `None` for text no workflow writes.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// One signer's request's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequestStatus {
    Waiting,
    Signed,
    Declined,
    /// Nobody decided in time, or the document ended without it.
    Expired,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 4] = [
        RequestStatus::Waiting,
        RequestStatus::Signed,
        RequestStatus::Declined,
        RequestStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Waiting => "WAITING",
            RequestStatus::Signed => "SIGNED",
            RequestStatus::Declined => "DECLINED",
            RequestStatus::Expired => "EXPIRED",
        }
    }

    /// `None` for text no workflow writes.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for DocumentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_as_written_on_the_wire_and_in_tables() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).ok(),
                Some(format!("\"{}\"", s.as_str()))
            );
        }
        for s in DocumentStatus::ALL {
            assert_eq!(DocumentStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::from_str::<DocumentStatus>(&format!("\"{s}\"")).ok(),
                Some(s)
            );
        }
        for s in RequestStatus::ALL {
            assert_eq!(RequestStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::from_str::<RequestStatus>(&format!("\"{s}\"")).ok(),
                Some(s)
            );
        }
        assert_eq!(DocumentStatus::TimedOut.as_str(), "TIMED_OUT");
        assert_eq!(OrderStatus::parse("pending"), None);
        assert_eq!(RequestStatus::parse(""), None);
    }
}
