// SPDX-License-Identifier: GPL-2.0

//! GigaHttpd's Linux-side worker: a kernel thread bound to CPU 0 that runs a periodic
//! job (the watchdog) until the module unloads. Taken cores never call into Linux; what
//! needs Linux runs here.

use core::ffi::c_void;

use kernel::ffi::c_int;
use kernel::prelude::*;

use crate::bindings;

/// How often the job runs.
const PERIOD_MS: u32 = 100;

/// A periodic job over shared data `T`.
pub(crate) trait Job: Sync {
    /// Runs once per period, in the worker thread.
    fn tick(&self);
}

/// The running worker thread; dropping it stops the thread and waits for it.
pub(crate) struct Worker {
    task: *mut bindings::task_struct,
}

// SAFETY: the task pointer is only passed to `kthread_stop`, from any thread.
unsafe impl Send for Worker {}
// SAFETY: `&Worker` gives no access to the task.
unsafe impl Sync for Worker {}

impl Worker {
    /// Starts the worker on CPU 0 running `job.tick()` every period.
    ///
    /// # Safety
    ///
    /// `job` must stay valid until the returned `Worker` is dropped.
    pub(crate) unsafe fn start<J: Job>(job: *const J) -> Result<Self> {
        // SAFETY: creates a stopped kernel thread; the name is a NUL-terminated format with
        // no conversions.
        let task = unsafe {
            bindings::kthread_create_on_node(
                Some(run::<J>),
                job.cast_mut().cast::<c_void>(),
                -1,
                kernel::c_str!("gigahttpd").as_char_ptr(),
            )
        };
        // Error pointers are the top 4095 addresses.
        if task.is_null() || task as usize >= usize::MAX - 4095 {
            return Err(ENOMEM);
        }
        // SAFETY: the thread has not run yet, so it may be bound; then it is started.
        unsafe {
            bindings::kthread_bind(task, 0);
            bindings::wake_up_process(task);
        }
        Ok(Self { task })
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // SAFETY: the thread was created by `start` and is stopped once; this waits until
        // it has returned from `run`.
        unsafe { bindings::kthread_stop(self.task) };
    }
}

unsafe extern "C" fn run<J: Job>(data: *mut c_void) -> c_int {
    // SAFETY: `Worker::start`'s caller keeps the job alive until `kthread_stop` returns.
    let job = unsafe { &*(data as *const J) };
    // SAFETY: called from the kthread itself.
    while !unsafe { bindings::kthread_should_stop() } {
        // SAFETY: sleeping in a kernel thread.
        unsafe { bindings::msleep_interruptible(PERIOD_MS) };
        job.tick();
    }
    0
}
