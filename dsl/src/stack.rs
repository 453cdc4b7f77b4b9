//! Deep recursion on a thread of its own with a large stack. Parsing, checking and formatting
//! recurse once per nesting level of the rule text; the depth bounds keep that finite, and this
//! keeps it far from any caller's stack limit (a test harness thread has 2 MiB).

use std::sync::Mutex;

/// Stack of the worker thread: address space only, pages are touched as the recursion needs.
pub const STACK_BYTES: usize = 256 << 20;

/// Runs `f` on a large-stack thread and returns its result; when no thread can be had, runs it
/// here. A panic in `f` is resumed in the caller, as if `f` had run here.
pub fn on_large_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let job = Mutex::new(Some(f));
    let take = || job.lock().ok().and_then(|mut j| j.take());
    let spawned = std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("vigil-deep".into())
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, || take().map(|f| f()));
        match handle {
            Ok(h) => Some(h.join()),
            Err(_) => None,
        }
    });
    match spawned {
        Some(Ok(Some(result))) => result,
        Some(Err(panic)) => std::panic::resume_unwind(panic),
        // No thread could be started (or it found no job): run here.
        Some(Ok(None)) | None => match take() {
            Some(f) => f(),
            None => unreachable_job(),
        },
    }
}

/// The job is taken exactly once: by the thread (which then returned it) or by the fallback.
fn unreachable_job() -> ! {
    panic!("on_large_stack: the job ran neither on the thread nor here")
}
