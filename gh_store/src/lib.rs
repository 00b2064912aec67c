#![no_std]
//! GigaHttpd engine crate `gh_store` (see Documentation/design.md).
