//! Carrying data written by earlier versions over to today's shapes: the
//! waits of orders ([`orders`]) and the signature requests ([`signatures`])
//! that those versions kept in tables of their own, before every human
//! step was a task row. Executions started then go on running their own
//! definitions, so both carry-overs run on every reconciler pass, and each
//! finds nothing once those executions are done.

mod orders;
mod signatures;

pub use orders::order_task;

use crate::services::Services;

/// What one pass over an old table did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Carried {
    /// Rows now in the tasks table (waiting, or closed as they ended).
    pub carried: usize,
    /// Old rows of steps already decided, removed.
    pub removed: usize,
    /// Left for a later pass: a decision on them is still in flight.
    pub left: usize,
}

/// What became of one old row.
enum Step {
    Carried,
    Removed,
    Left,
}

impl Carried {
    /// Counts one old row's step.
    fn count(&mut self, step: Step) {
        match step {
            Step::Carried => self.carried += 1,
            Step::Removed => self.removed += 1,
            Step::Left => self.left += 1,
        }
    }
}

/// Carries rows an earlier version wrote over to the task contract.
/// A handle on [`Services`]; get one with [`Services::migration`].
#[derive(Debug, Clone, Copy)]
pub struct Migration<'a> {
    s: &'a Services,
}

impl Services {
    /// The carry-over of rows earlier versions wrote.
    pub fn migration(&self) -> Migration<'_> {
        Migration { s: self }
    }
}
