//! One query's deadline: the wait for a request slot, every attempt and
//! reading the answers count against it.

use std::time::Duration;

use tokio::time::Instant;

/// When one query must be answered. The wait for a request slot, every
/// attempt and reading the answers count against it.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub(super) at: Instant,
    budget: Duration,
}

impl Deadline {
    /// `budget` from now.
    pub fn after(budget: Duration) -> Self {
        Self { at: Instant::now() + budget, budget }
    }

    /// This deadline, or `wait` from now if that is sooner.
    pub fn within(self, wait: Duration) -> Self {
        let at = self.at.min(Instant::now() + wait);
        Self { at, budget: self.budget.min(wait) }
    }

    /// Time left (zero once passed).
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// The whole budget, for messages.
    pub fn budget(&self) -> Duration {
        self.budget
    }
}
