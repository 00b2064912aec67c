// SPDX-License-Identifier: GPL-2.0

//! Module parameters declared from Rust.
//!
//! `module_param_named()` in C emits a `struct kernel_param` into the `__param` section
//! and `parm`/`parmtype` strings into `.modinfo`; [`gh_param!`] emits the same from Rust.
//! Every parameter is a string (`charp`): the kernel stores it, and `gh_proc::params`
//! parses and validates it at load, so `insmod` values and later `/proc` writes go
//! through one parser.

use core::cell::UnsafeCell;
use core::ffi::c_void;

use kernel::ffi::c_char;
use kernel::str::CStr;

use crate::bindings;

/// Storage for one `charp` parameter: the kernel writes the pointer while parsing
/// `insmod` arguments, before `init` runs, and frees the string when the module goes.
#[repr(transparent)]
pub(crate) struct CharpParam(UnsafeCell<*mut c_char>);

// SAFETY: the pointer is written only by the kernel's parameter parser before the
// module's init runs; the parameter is read-only in sysfs (0444), so afterwards it is
// only read.
unsafe impl Sync for CharpParam {}

impl CharpParam {
    /// An unset parameter.
    pub(crate) const fn new() -> Self {
        Self(UnsafeCell::new(core::ptr::null_mut()))
    }

    /// The address the kernel's `param_ops_charp` writes to.
    pub(crate) const fn as_arg(&'static self) -> *mut c_void {
        self.0.get().cast()
    }

    /// The value given to `insmod`, if any.
    pub(crate) fn value(&'static self) -> Option<&'static CStr> {
        // SAFETY: see the `Sync` impl: nothing writes the pointer after load.
        let ptr = unsafe { *self.0.get() };
        if ptr.is_null() {
            return None;
        }
        // SAFETY: `param_ops_charp` stores a NUL-terminated copy of the argument that
        // lives until the module is freed.
        Some(unsafe { CStr::from_char_ptr(ptr) })
    }
}

/// A `struct kernel_param` that may live in a `static`.
#[repr(transparent)]
pub(crate) struct KernelParam(pub(crate) bindings::kernel_param);

// SAFETY: the descriptor is immutable; its pointers refer to statics of this module and
// to the kernel's `param_ops_charp`, which outlive it.
unsafe impl Sync for KernelParam {}

/// Copies a string into a byte array of exactly its length (for `.modinfo` strings).
pub(crate) const fn modinfo_bytes<const N: usize>(text: &str) -> [u8; N] {
    let bytes = text.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

extern "C" {
    /// This module, `THIS_MODULE` in C (only its address is used).
    pub(crate) static __this_module: kernel::types::Opaque<bindings::module>;
}

/// Declares a `charp` module parameter `$name` stored in the static `$store`, with a
/// `modinfo` description.
macro_rules! gh_param {
    ($store:ident, $name:literal, $desc:literal) => {
        pub(crate) static $store: $crate::param::CharpParam = $crate::param::CharpParam::new();

        const _: () = {
            #[link_section = "__param"]
            #[used]
            static PARAM: $crate::param::KernelParam =
                $crate::param::KernelParam($crate::bindings::kernel_param {
                    name: ::kernel::c_str!($name).as_char_ptr(),
                    // SAFETY: only the address of `__this_module` is taken; the kernel
                    // builds it when it loads the module.
                    mod_: unsafe { $crate::param::__this_module.get().cast() },
                    ops: ::core::ptr::addr_of!($crate::bindings::param_ops_charp),
                    perm: 0o444,
                    level: -1,
                    flags: 0,
                    __bindgen_anon_1: $crate::bindings::kernel_param__bindgen_ty_1 {
                        arg: $store.as_arg(),
                    },
                });

            const PARM: &str = concat!("parm=", $name, ":", $desc, "\0");
            #[link_section = ".modinfo"]
            #[used]
            static PARM_INFO: [u8; PARM.len()] = $crate::param::modinfo_bytes(PARM);

            const TYPE: &str = concat!("parmtype=", $name, ":charp\0");
            #[link_section = ".modinfo"]
            #[used]
            static TYPE_INFO: [u8; TYPE.len()] = $crate::param::modinfo_bytes(TYPE);
        };
    };
}
pub(crate) use gh_param;
