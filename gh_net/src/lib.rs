#![no_std]
//! GigaHttpd engine crate `gh_net` (see Documentation/design.md).
