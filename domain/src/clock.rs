//! The time decisions and the reconciler go by. In production it is the
//! system clock; tests move it forward (a lease running out, a reconciler
//! pass "a minute later") instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

/// The system clock, plus an offset that only tests change. Cheap to clone;
/// clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// Now, in milliseconds since 1970.
    pub fn now_ms(&self) -> i64 {
        let system = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        i64::try_from(system).unwrap_or(i64::MAX) + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Now as a stamp (see [`stamp`]).
    pub fn stamp(&self) -> String {
        stamp(self.now_ms())
    }
}

/// A moment as RFC 3339 in UTC with exactly three fraction digits, so that
/// stamps compare as strings in time order (a variable number of digits
/// would sort `10:00:00.5Z` before `10:00:00Z`).
pub fn stamp(ms: i64) -> String {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_sort_in_time_order_and_the_clock_moves_when_told() {
        assert_eq!(stamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(stamp(1_500), "1970-01-01T00:00:01.500Z");
        assert!(stamp(999) < stamp(1_000));
        let clock = Clock::system();
        let shared = clock.clone();
        let before = clock.now_ms();
        shared.advance(std::time::Duration::from_secs(60));
        assert!(clock.now_ms() >= before + 60_000);
    }
}
