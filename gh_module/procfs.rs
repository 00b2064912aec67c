// SPDX-License-Identifier: GPL-2.0

//! A safe owner for a `/proc` directory of read-only `seq_file` files.
//!
//! [`ProcDir`] owns the data its files show, so no file can outlive what it reads:
//! dropping the directory first removes it (procfs waits for readers still inside a
//! `show`), then frees the data.

use core::ffi::c_void;
use core::fmt;
use core::ptr::NonNull;

use kernel::ffi::c_int;
use kernel::prelude::*;

use crate::bindings;

/// One read-only file of a [`ProcDir`] whose data is a `T`.
pub(crate) trait ProcFile<T> {
    /// The file's name inside the directory.
    const NAME: &'static CStr;

    /// Writes the whole file.
    fn show(data: &T, out: &mut dyn fmt::Write) -> fmt::Result;
}

/// A file of a [`ProcDir`] that also takes writes: one command or setting per write.
pub(crate) trait ProcWrite<T>: ProcFile<T> {
    /// Acts on one write; an error is returned to the writer and must change nothing.
    fn write(data: &T, input: &str) -> Result;
}

/// Longest write a [`ProcWrite`] file accepts.
const MAX_WRITE: usize = 256;

/// A directory under `/proc`, removed with everything in it when dropped.
pub(crate) struct ProcDir<T: Sync> {
    name: &'static CStr,
    // The files reach the data through a raw pointer; it is freed after they are removed.
    data: KBox<T>,
    entry: NonNull<bindings::proc_dir_entry>,
    // The operations of writable files, which must outlive them like the data.
    ops: KVec<KBox<bindings::proc_ops>>,
}

// SAFETY: the entry pointer is only used to add files and is removed by name; the
// data is shared with readers through `&T`, which `T: Sync` allows, and is dropped by
// whichever thread drops the directory, which `T: Send` allows.
unsafe impl<T: Send + Sync> Send for ProcDir<T> {}
// SAFETY: as above; `&ProcDir` only hands out `&T`.
unsafe impl<T: Sync> Sync for ProcDir<T> {}

impl<T: Sync> ProcDir<T> {
    /// Creates `/proc/<name>` owning `data`. Fails if the directory already exists.
    /// (`proc_mkdir` reports no reason; an existing entry is the one that can happen.)
    pub(crate) fn new(name: &'static CStr, data: T) -> Result<Self> {
        let data = KBox::new(data, GFP_KERNEL)?;
        // SAFETY: `name` is NUL-terminated and static; a null parent means `/proc`.
        let entry = unsafe { bindings::proc_mkdir(name.as_char_ptr(), core::ptr::null_mut()) };
        let entry = NonNull::new(entry).ok_or(EEXIST)?;
        Ok(Self {
            name,
            data,
            entry,
            ops: KVec::new(),
        })
    }

    /// The data the files show.
    pub(crate) fn data(&self) -> &T {
        &self.data
    }

    /// Adds the file `F`, readable by all and writable by root.
    pub(crate) fn add_writable<F: ProcWrite<T>>(&mut self) -> Result {
        let ops = KBox::new(
            bindings::proc_ops {
                proc_open: Some(open_trampoline::<T, F>),
                proc_read: Some(bindings::seq_read),
                proc_lseek: Some(bindings::seq_lseek),
                proc_release: Some(bindings::single_release),
                proc_write: Some(write_trampoline::<T, F>),
                ..Default::default()
            },
            GFP_KERNEL,
        )?;
        let data: *const T = &*self.data;
        // Kept before the file exists: the box does not move, and a file never points at
        // operations that a failed push would have freed.
        let ops_ptr: *const bindings::proc_ops = &*ops;
        self.ops.push(ops, GFP_KERNEL)?;
        // SAFETY: as in `add`; the operations stay in `self.ops` until the directory is
        // removed.
        let file = unsafe {
            bindings::proc_create_data(
                F::NAME.as_char_ptr(),
                0o644,
                self.entry.as_ptr(),
                ops_ptr,
                data.cast_mut().cast::<c_void>(),
            )
        };
        if file.is_null() {
            return Err(ENOMEM);
        }
        Ok(())
    }

    /// Adds the read-only file `F`.
    pub(crate) fn add<F: ProcFile<T>>(&self) -> Result {
        let data: *const T = &*self.data;
        // SAFETY: the name is static and NUL-terminated, the parent entry is alive (it is
        // removed only in `drop`), and `data` outlives the file for the same reason.
        let file = unsafe {
            bindings::proc_create_single_data(
                F::NAME.as_char_ptr(),
                0o444,
                self.entry.as_ptr(),
                Some(show_trampoline::<T, F>),
                data.cast_mut().cast::<c_void>(),
            )
        };
        if file.is_null() {
            return Err(ENOMEM);
        }
        Ok(())
    }
}

impl<T: Sync> Drop for ProcDir<T> {
    fn drop(&mut self) {
        // SAFETY: removes the directory this value created, and its files; it returns
        // once no reader is inside a `show`, so the data may be freed afterwards.
        unsafe { bindings::remove_proc_subtree(self.name.as_char_ptr(), core::ptr::null_mut()) };
    }
}

/// `seq_file` show callback for file `F`: `m->private` is the `*const T` given at creation.
unsafe extern "C" fn show_trampoline<T, F: ProcFile<T>>(
    m: *mut bindings::seq_file,
    _v: *mut c_void,
) -> c_int {
    // SAFETY: `single_open` passes a valid seq_file whose `private` is the data pointer
    // given to `proc_create_single_data`, alive until the directory is removed.
    let data = unsafe { &*((*m).private as *const T) };
    // A full buffer makes `seq_file` call again with a larger one, so a write error here
    // is not an error of the file.
    let _ = F::show(data, &mut SeqWriter(m));
    0
}

/// `open` of a writable file: a `seq_file` over `F::show`, with the file's data.
unsafe extern "C" fn open_trampoline<T, F: ProcFile<T>>(
    inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: procfs calls this with the file's inode, whose private data is the pointer
    // given to `proc_create_data`.
    unsafe { bindings::single_open(file, Some(show_trampoline::<T, F>), (*inode).i_private) }
}

/// `write` of a writable file: copies at most `MAX_WRITE` bytes and hands them to `F`.
unsafe extern "C" fn write_trampoline<T, F: ProcWrite<T>>(
    file: *mut bindings::file,
    buf: *const kernel::ffi::c_char,
    count: usize,
    _pos: *mut bindings::loff_t,
) -> isize {
    if count > MAX_WRITE {
        pr_info!("{}: refused: longer than {} bytes\n", F::NAME, MAX_WRITE);
        return EINVAL.to_errno() as isize;
    }
    let mut bytes = [0u8; MAX_WRITE];
    let Some(input) = bytes.get_mut(..count) else {
        return EINVAL.to_errno() as isize;
    };
    let reader = kernel::uaccess::UserSlice::new(buf as usize, count).reader();
    if let Err(e) = { reader }.read_slice(input) {
        return e.to_errno() as isize;
    }
    let Ok(text) = core::str::from_utf8(input) else {
        pr_info!("{}: refused: not UTF-8 text\n", F::NAME);
        return EINVAL.to_errno() as isize;
    };
    // SAFETY: `single_open` made `private_data` the seq_file, whose `private` is the data
    // pointer, alive until the directory is removed.
    let data =
        unsafe { &*((*(*file).private_data.cast::<bindings::seq_file>()).private as *const T) };
    match F::write(data, text) {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// [`fmt::Write`] into a `seq_file` buffer.
struct SeqWriter(*mut bindings::seq_file);

impl fmt::Write for SeqWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // SAFETY: the seq_file is valid for the duration of the show callback that
        // created this writer, and `s` is valid for `s.len()` bytes.
        let rc = unsafe { bindings::seq_write(self.0, s.as_ptr().cast(), s.len()) };
        if rc == 0 {
            Ok(())
        } else {
            Err(fmt::Error)
        }
    }
}
