//! Password hashing for user accounts: SHA-256, HMAC-SHA256 and
//! PBKDF2-HMAC-SHA256 (RFC 8018), a slow salted standard hash.

pub mod hmac;
pub mod pbkdf2;
pub mod sha256;
