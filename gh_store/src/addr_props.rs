//! Property tests of the address forms over many deterministic random values.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

extern crate std;

use super::addr::{AddrError, BlockAddr, BLOCK_SIZE, CPU_BITS, INDEX_BITS};
use std::string::{String, ToString};
use std::vec::Vec;

/// xorshift64*: deterministic so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn every_random_block_round_trips_through_both_forms() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let raw = rng.next();
        let cpu = (raw as u32) & ((1 << CPU_BITS) - 1);
        let index = ((raw >> 14) as u32) & ((1 << INDEX_BITS) - 1);
        let offset = ((raw >> 34) % BLOCK_SIZE) as u32;
        let b = BlockAddr::new(cpu, index).unwrap();
        assert_eq!((b.cpu(), b.index()), (cpu, index));
        let long = b.to_string();
        assert_eq!(long.len(), 9);
        assert_eq!(BlockAddr::parse(&long), Ok(b));
        assert_eq!(BlockAddr::parse(&b.short().to_string()), Ok(b));
        assert_eq!(BlockAddr::from_raw(b.raw()), Ok(b));
        let d = b.at(offset).unwrap();
        assert_eq!((d.block(), d.offset()), (b, offset));
        assert_eq!(d.raw() >> 56, 0);
        // Any 64-bit value is a block address or refused, never wrapped.
        match BlockAddr::from_raw(raw) {
            Ok(a) => assert_eq!(a.raw(), raw),
            Err(e) => assert_eq!(e, AddrError::OutOfRange),
        }
    }
}

#[test]
fn random_text_is_refused_or_names_exactly_what_it_says() {
    let alphabet = b"0123456789abcdefABCDEFg: x";
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        let len = (rng.next() % 14) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize])
            .collect();
        let text = String::from_utf8(bytes).unwrap();
        if let Ok(a) = BlockAddr::parse(&text) {
            let lower = text.to_lowercase();
            match lower.split_once(':') {
                Some((c, i)) => {
                    assert_eq!(u64::from_str_radix(c, 16).unwrap(), u64::from(a.cpu()));
                    assert_eq!(u64::from_str_radix(i, 16).unwrap(), u64::from(a.index()));
                }
                None => assert_eq!(a.to_string(), lower),
            }
        }
    }
}
