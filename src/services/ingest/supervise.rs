//! Keeping the ingest threads running: a panic restarts the thread's loop, and a flag says
//! whether the thread is still there (the readiness probe reads it).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Marks a thread alive for as long as it runs: dropped when the thread ends, however it ends.
pub(super) struct Alive<'a>(&'a AtomicBool);

impl<'a> Alive<'a> {
    pub(super) fn mark(flag: &'a AtomicBool) -> Self {
        flag.store(true, Ordering::Release);
        Self(flag)
    }
}

impl Drop for Alive<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// How long a restarted thread waits first, so a panic that repeats does not spin.
const RESTART_AFTER: Duration = Duration::from_millis(100);

/// Runs `body` until it returns, starting it again whenever it panics: a bug met by one batch
/// must not stop every later webhook from being acknowledged or applied.
pub(super) fn supervise(name: &str, mut body: impl FnMut()) {
    loop {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(&mut body)) {
            Ok(()) => return,
            Err(_) => {
                tracing::error!(thread = name, "the thread panicked; starting it again");
                std::thread::sleep(RESTART_AFTER);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_that_panics_is_started_again() {
        let mut runs = 0;
        supervise("test", || {
            runs += 1;
            assert!(runs >= 3, "a bug met by run {runs}");
        });
        assert_eq!(runs, 3);
    }
}
