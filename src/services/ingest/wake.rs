//! Waking the appliers: the writer signals when it defers events, and every applier waiting
//! wakes (on PostgreSQL several apply side by side, each claiming different events).

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

/// A wake-up counter every applier watches, closed when the writer goes away.
#[derive(Debug, Default)]
pub(super) struct Wake {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Bumped by every signal: an applier that saw an older value has work to look at.
    signals: u64,
    closed: bool,
}

/// What a wait ended with.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Woken {
    /// Signalled, or the timeout passed: look for pending events.
    Look,
    /// The writer is gone: the app is shutting down.
    Closed,
}

impl Wake {
    /// Wakes every waiting applier.
    pub(super) fn signal(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.signals = state.signals.wrapping_add(1);
        self.changed.notify_all();
    }

    /// Tells every applier to stop once it has looked one last time.
    pub(super) fn close(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.closed = true;
        self.changed.notify_all();
    }

    /// The signal count now, to wait from.
    pub(super) fn seen(&self) -> u64 {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .signals
    }

    /// Waits until a signal newer than `seen` (updating it), the close, or `timeout`.
    pub(super) fn wait(&self, seen: &mut u64, timeout: Duration) -> Woken {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (state, _) = self
            .changed
            .wait_timeout_while(state, timeout, |s| s.signals == *seen && !s.closed)
            .unwrap_or_else(PoisonError::into_inner);
        *seen = state.signals;
        if state.closed {
            Woken::Closed
        } else {
            Woken::Look
        }
    }

    /// Waits up to `timeout` for the close; returns whether it came.
    pub(super) fn closed_within(&self, timeout: Duration) -> bool {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (state, _) = self
            .changed
            .wait_timeout_while(state, timeout, |s| !s.closed)
            .unwrap_or_else(PoisonError::into_inner);
        state.closed
    }
}

/// Closes the wake when the writer's loop ends, however it ends.
pub(super) struct CloseOnDrop<'a>(pub(super) &'a Wake);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_signal_wakes_every_waiting_applier() {
        let wake = Arc::new(Wake::default());
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let wake = wake.clone();
                let mut seen = wake.seen();
                std::thread::spawn(move || wake.wait(&mut seen, Duration::from_secs(30)))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(50));
        wake.signal();
        for waiter in waiters {
            assert_eq!(waiter.join().unwrap(), Woken::Look);
        }
    }

    #[test]
    fn a_signal_sent_before_the_wait_is_not_missed() {
        let wake = Wake::default();
        let mut seen = wake.seen();
        wake.signal();
        let started = std::time::Instant::now();
        assert_eq!(wake.wait(&mut seen, Duration::from_secs(30)), Woken::Look);
        assert!(started.elapsed() < Duration::from_secs(30));
        assert_eq!(seen, wake.seen());
    }

    #[test]
    fn the_timeout_means_look_and_the_close_means_stop() {
        let wake = Wake::default();
        let mut seen = wake.seen();
        assert_eq!(wake.wait(&mut seen, Duration::from_millis(10)), Woken::Look);
        assert!(!wake.closed_within(Duration::from_millis(10)));
        wake.signal();
        assert!(
            !wake.closed_within(Duration::from_millis(10)),
            "a signal is not the close"
        );
        drop(CloseOnDrop(&wake));
        assert_eq!(wake.wait(&mut seen, Duration::from_secs(30)), Woken::Closed);
        assert!(wake.closed_within(Duration::from_secs(30)));
    }
}
