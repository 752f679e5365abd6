//! A sliding-window counter: at most `limit` events per `window` per key. Time is passed in, so the
//! rule is pure and testable; callers keep one limiter per purpose (failed sign-ins, API calls...).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct SlidingWindow {
    limit: u32,
    window: Duration,
    events: HashMap<String, VecDeque<Instant>>,
}

/// Keys kept before idle ones are swept, so an attacker cycling keys cannot grow memory without bound.
const SWEEP_ABOVE: usize = 10_000;

impl SlidingWindow {
    pub fn new(limit: u32, window: Duration) -> Self {
        SlidingWindow { limit, window, events: HashMap::new() }
    }

    /// `Some(retry_after)` when the key has used its allowance, `None` when another event is allowed.
    pub fn blocked(&mut self, key: &str, now: Instant) -> Option<Duration> {
        let window = self.window;
        let queue = self.events.get_mut(key)?;
        while queue.front().is_some_and(|t| now.duration_since(*t) >= window) {
            queue.pop_front();
        }
        if queue.len() as u64 >= u64::from(self.limit) {
            let oldest = *queue.front()?;
            Some(window.saturating_sub(now.duration_since(oldest)).max(Duration::from_secs(1)))
        } else {
            None
        }
    }

    pub fn record(&mut self, key: &str, now: Instant) {
        if self.events.len() >= SWEEP_ABOVE {
            let window = self.window;
            self.events.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        self.events.entry(key.to_owned()).or_default().push_back(now);
    }

    pub fn clear(&mut self, key: &str) {
        self.events.remove(key);
    }

    /// Takes back the most recent event of `key` (an attempt that turned out to be fine).
    pub fn forget_latest(&mut self, key: &str) {
        if let Some(queue) = self.events.get_mut(key) {
            queue.pop_back();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_limit_and_recovers_after_window() {
        let start = Instant::now();
        let mut w = SlidingWindow::new(3, Duration::from_secs(60));
        for i in 0..3 {
            assert_eq!(w.blocked("k", start + Duration::from_secs(i)), None);
            w.record("k", start + Duration::from_secs(i));
        }
        let retry = w.blocked("k", start + Duration::from_secs(10)).expect("blocked");
        assert_eq!(retry, Duration::from_secs(50));
        assert_eq!(w.blocked("other", start), None, "keys are independent");
        assert_eq!(w.blocked("k", start + Duration::from_secs(61)), None, "the oldest event left the window");
        w.clear("k");
        assert_eq!(w.blocked("k", start + Duration::from_secs(10)), None);
    }

    #[test]
    fn memory_is_bounded_by_sweeping_idle_keys() {
        let start = Instant::now();
        let mut w = SlidingWindow::new(1, Duration::from_secs(1));
        for i in 0..(SWEEP_ABOVE + 10) {
            w.record(&format!("k{i}"), start + Duration::from_secs(2 * i as u64));
        }
        assert!(w.events.len() < 20);
    }
}
