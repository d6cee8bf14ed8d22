//! Circuit breaker: an install (any key) whose calls keep failing is
//! switched off until someone re-enables it, with the reason and its last
//! failures kept for the merchant and the author. In memory for now.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::failure::CallFailure;

/// When to open and what to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that switch a key off. One failure can be a
    /// fluke; five in a row with no success in between is a broken install.
    pub threshold: u32,
    /// Failures kept per key, newest last: enough to see a pattern, bounded memory.
    pub keep_failures: usize,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            threshold: 5,
            keep_failures: 20,
        }
    }
}

/// One failed call as the merchant and the author see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureRecord {
    /// The failure's stable code, e.g. `out_of_fuel`.
    pub code: String,
    /// Human-readable detail.
    pub message: String,
    /// When it happened, Unix milliseconds.
    pub at_ms: i64,
}

impl FailureRecord {
    /// Records a call failure at `at_ms`.
    pub fn from_failure(failure: &CallFailure, at_ms: i64) -> Self {
        FailureRecord {
            code: failure.code().to_string(),
            message: failure.error().to_string(),
            at_ms,
        }
    }
}

/// Whether calls for a key go through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Switched off; calls are skipped until [`CircuitBreaker::reset`].
    Open {
        /// Why it was switched off.
        reason: String,
        /// When, Unix milliseconds.
        since_ms: i64,
    },
}

/// Everything known about one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakerStatus {
    /// Open or closed.
    pub state: BreakerState,
    /// Failures since the last success or reset.
    pub consecutive_failures: u32,
    /// The last failures, oldest first.
    pub recent_failures: Vec<FailureRecord>,
}

#[derive(Debug)]
struct Entry {
    state: BreakerState,
    consecutive: u32,
    recent: VecDeque<FailureRecord>,
}

impl Entry {
    fn new() -> Self {
        Entry {
            state: BreakerState::Closed,
            consecutive: 0,
            recent: VecDeque::new(),
        }
    }
}

/// Breakers for many keys (install ids later).
#[derive(Debug)]
pub struct CircuitBreaker<K = String> {
    config: BreakerConfig,
    entries: Mutex<HashMap<K, Entry>>,
}

impl<K: Eq + Hash + Clone> CircuitBreaker<K> {
    /// An empty set of breakers, all closed.
    pub fn new(config: BreakerConfig) -> Self {
        CircuitBreaker {
            config,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<K, Entry>> {
        // The map stays consistent even if a holder panicked: every update is one assignment.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A call succeeded: the consecutive count starts again. An open
    /// breaker stays open until [`CircuitBreaker::reset`].
    pub fn record_success(&self, key: &K) {
        if let Some(entry) = self.entries().get_mut(key) {
            entry.consecutive = 0;
        }
    }

    /// A call failed. Returns `true` when this failure switched the key off.
    pub fn record_failure(&self, key: &K, failure: FailureRecord) -> bool {
        let mut entries = self.entries();
        let entry = entries.entry(key.clone()).or_insert_with(Entry::new);
        entry.consecutive = entry.consecutive.saturating_add(1);
        let opens = entry.state == BreakerState::Closed && entry.consecutive >= self.config.threshold;
        if opens {
            entry.state = BreakerState::Open {
                reason: format!(
                    "switched off after {} consecutive failures; last: {}: {}",
                    entry.consecutive, failure.code, failure.message
                ),
                since_ms: failure.at_ms,
            };
        }
        entry.recent.push_back(failure);
        while entry.recent.len() > self.config.keep_failures {
            entry.recent.pop_front();
        }
        opens
    }

    /// `true` while the key is switched off.
    pub fn is_open(&self, key: &K) -> bool {
        self.entries().get(key).is_some_and(|e| e.state != BreakerState::Closed)
    }

    /// Re-enables the key; its failure history is kept.
    pub fn reset(&self, key: &K) {
        if let Some(entry) = self.entries().get_mut(key) {
            entry.state = BreakerState::Closed;
            entry.consecutive = 0;
        }
    }

    /// State, count and recent failures of a key (closed and empty if unknown).
    pub fn status(&self, key: &K) -> BreakerStatus {
        match self.entries().get(key) {
            Some(entry) => BreakerStatus {
                state: entry.state.clone(),
                consecutive_failures: entry.consecutive,
                recent_failures: entry.recent.iter().cloned().collect(),
            },
            None => BreakerStatus {
                state: BreakerState::Closed,
                consecutive_failures: 0,
                recent_failures: Vec::new(),
            },
        }
    }
}

impl<K: Eq + Hash + Clone> Default for CircuitBreaker<K> {
    fn default() -> Self {
        CircuitBreaker::new(BreakerConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(at_ms: i64) -> FailureRecord {
        FailureRecord {
            code: "trap".into(),
            message: format!("boom {at_ms}"),
            at_ms,
        }
    }

    fn breaker() -> CircuitBreaker<&'static str> {
        CircuitBreaker::new(BreakerConfig {
            threshold: 3,
            keep_failures: 2,
        })
    }

    #[test]
    fn consecutive_failures_open_the_breaker_once() {
        let b = breaker();
        assert!(!b.record_failure(&"a", failure(1)));
        assert!(!b.record_failure(&"a", failure(2)));
        assert!(b.record_failure(&"a", failure(3)));
        assert!(b.is_open(&"a"));
        assert!(!b.record_failure(&"a", failure(4)), "already open");
        let status = b.status(&"a");
        assert!(matches!(&status.state, BreakerState::Open { reason, since_ms: 3 } if reason.contains("boom 3")));
        assert_eq!(status.recent_failures, vec![failure(3), failure(4)]);
        assert!(!b.is_open(&"b"), "keys are independent");
    }

    #[test]
    fn a_success_resets_the_count() {
        let b = breaker();
        b.record_failure(&"a", failure(1));
        b.record_failure(&"a", failure(2));
        b.record_success(&"a");
        assert!(!b.record_failure(&"a", failure(3)));
        assert_eq!(b.status(&"a").consecutive_failures, 1);
        assert!(!b.is_open(&"a"));
    }

    #[test]
    fn reset_re_enables_and_keeps_history() {
        let b = breaker();
        for at in 0..3 {
            b.record_failure(&"a", failure(at));
        }
        b.reset(&"a");
        let status = b.status(&"a");
        assert_eq!(status.state, BreakerState::Closed);
        assert_eq!(status.consecutive_failures, 0);
        assert_eq!(status.recent_failures.len(), 2);
    }
}
