//! Stopping a running query from inside its scan: KILL QUERY, timeouts and a client's
//! cancel (the CLI's Ctrl-C) set the query's [`CancelFlag`]; the reading code calls
//! [`checkpoint`] once per page, chunk or GROUP BY window and gives up with the query's
//! error as soon as the flag is set.
//!
//! The flag is carried implicitly: whoever runs a query's work installs its flag for the
//! current thread with [`scoped`] (the query's result stream does so around every batch), and
//! a reader that hands work to another thread passes [`current`] along and installs it there.
//! So the page loops of the storage and TsFile crates need no extra parameter, and code
//! that runs outside any query (flushes, compaction, LOAD) finds no flag and never stops.
//!
//! Cost: [`checkpoint`] is one thread-local access and one relaxed atomic load while the
//! query runs.

use crate::{Error, Result};
use std::cell::RefCell;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

const RUNNING: u8 = 0;
const KILLED: u8 = 1;
const TIMED_OUT: u8 = 2;

/// The state of one running query, shared by whoever may stop it and the threads that
/// read for it.
#[derive(Debug)]
pub struct CancelFlag {
    state: AtomicU8,
    /// The query's id (for the error of a killed query).
    id: String,
}

impl CancelFlag {
    /// A flag for the query `id`, not set.
    pub fn new(id: impl Into<String>) -> Self {
        CancelFlag {
            state: AtomicU8::new(RUNNING),
            id: id.into(),
        }
    }

    /// Marks the query killed (unless it already timed out).
    pub fn kill(&self) {
        let _ = self
            .state
            .compare_exchange(RUNNING, KILLED, Ordering::Release, Ordering::Relaxed);
    }

    /// Marks the query timed out (unless it was already killed).
    pub fn time_out(&self) {
        let _ =
            self.state
                .compare_exchange(RUNNING, TIMED_OUT, Ordering::Release, Ordering::Relaxed);
    }

    /// True once killed or timed out.
    pub fn is_set(&self) -> bool {
        self.state.load(Ordering::Relaxed) != RUNNING
    }

    /// `Err` once the query was killed ([`Error::QueryKilled`], status 715) or timed out
    /// ([`Error::QueryTimeout`], status 712).
    #[inline]
    pub fn check(&self) -> Result<()> {
        match self.state.load(Ordering::Relaxed) {
            RUNNING => Ok(()),
            s => Err(self.error(s)),
        }
    }

    #[cold]
    fn error(&self, state: u8) -> Error {
        if state == TIMED_OUT {
            Error::QueryTimeout
        } else {
            Error::QueryKilled(self.id.clone())
        }
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<CancelFlag>>> = const { RefCell::new(None) };
}

/// `Err` when the query this thread works for was killed or timed out; `Ok` outside a
/// query. Called by reading loops once per page, chunk or window.
#[inline]
pub fn checkpoint() -> Result<()> {
    CURRENT.with(|c| match &*c.borrow() {
        Some(flag) => flag.check(),
        None => Ok(()),
    })
}

/// The flag installed on this thread, to pass to a thread that reads for the same query.
pub fn current() -> Option<Arc<CancelFlag>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Runs `f` with `flag` installed on this thread (`None`: no query), then restores what
/// was installed before (also when `f` panics).
pub fn scoped<R>(flag: Option<Arc<CancelFlag>>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<CancelFlag>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let prev = self.0.take();
            CURRENT.with(|c| *c.borrow_mut() = prev);
        }
    }
    let prev = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), flag));
    let _restore = Restore(prev);
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_follow_the_installed_flag_across_threads() {
        assert!(checkpoint().is_ok(), "no query: never stops");
        let flag = Arc::new(CancelFlag::new("q1"));
        scoped(Some(flag.clone()), || {
            assert!(checkpoint().is_ok());
            // a reader thread gets the flag passed along
            let f = current();
            let t = std::thread::spawn(move || {
                scoped(f, || {
                    while checkpoint().is_ok() {
                        std::thread::yield_now();
                    }
                    checkpoint()
                })
            });
            flag.kill();
            assert!(matches!(t.join().unwrap(), Err(Error::QueryKilled(id)) if id == "q1"));
            assert!(matches!(checkpoint(), Err(Error::QueryKilled(_))));
            // nested scopes restore the outer flag
            scoped(None, || assert!(checkpoint().is_ok()));
            assert!(checkpoint().is_err());
        });
        assert!(checkpoint().is_ok(), "the flag is gone after its scope");
        let late = CancelFlag::new("q2");
        late.time_out();
        late.kill();
        assert!(
            matches!(late.check(), Err(Error::QueryTimeout)),
            "first cause kept"
        );
        assert!(late.is_set());
    }
}
