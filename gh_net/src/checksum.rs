//! The Internet checksum (RFC 1071): ones' complement sum of 16-bit big-endian words.
//!
//! Sums are kept unfolded in a `u32` so that several pieces (pseudo-header, header, payload)
//! can be added before the final fold.
//!
//! Every frame GigaHttpd receives or sends is summed once, so the loop reads eight bytes
//! at a time in the machine's byte order into a 64-bit ones' complement accumulator (end-
//! around carry), and folds and byte-swaps once at the end: a ones' complement sum of
//! 16-bit words is the same in any lane width that is a multiple of 16 bits, and the sum
//! of byte-swapped words is the byte-swapped sum (RFC 1071 section 2).

/// Adds `data` to a running sum. An odd trailing byte is padded with a zero byte.
///
/// Pieces after the first must start at an even offset of the checksummed message,
/// which holds for every header/payload split GigaHttpd uses.
#[inline]
pub fn add(sum: u32, data: &[u8]) -> u32 {
    // Segments without data (handshakes, bare ACKs) skip the call: the sum of nothing is 0.
    if data.is_empty() {
        return fold_once(sum);
    }
    // fold_once keeps `sum` below 2^17, so adding a 16-bit value cannot overflow.
    fold_once(sum) + u32::from(sum16(data))
}

/// The sum of `data` (from an even offset of its message) folded to 16 bits, to be kept
/// and added later with [`add_partial`] in place of [`add`]ing the same bytes again.
#[inline]
pub fn partial(data: &[u8]) -> u16 {
    sum16(data)
}

/// Adds a [`partial`] sum to a running sum: the same as [`add`]ing the bytes it was taken
/// of.
#[inline]
pub fn add_partial(sum: u32, part: u16) -> u32 {
    // fold_once keeps `sum` below 2^17, so adding a 16-bit value cannot overflow.
    fold_once(sum) + u32::from(part)
}

/// Ones' complement sum with end-around carry.
#[inline(always)]
fn adc(acc: u64, w: u64) -> u64 {
    let (s, carry) = acc.overflowing_add(w);
    // After a carry `s` is at most 2^64 - 2: adding the carry back cannot overflow.
    s + u64::from(carry)
}

/// `N` bytes in the machine's order, as a `u64` of their width.
#[inline(always)]
fn word<const N: usize>(b: &[u8; N]) -> u64 {
    let mut w = [0u8; 8];
    if let Some(d) = w.get_mut(..N) {
        super::bytes::copy(d, b);
    }
    // Lanes keep each byte's position within its 16-bit word on either byte order.
    if cfg!(target_endian = "little") {
        u64::from_le_bytes(w)
    } else {
        u64::from_be_bytes(w) >> (64 - 8 * N)
    }
}

/// The ones' complement sum of `data` as big-endian 16-bit words, folded to 16 bits.
#[inline]
fn sum16(data: &[u8]) -> u16 {
    let mut acc = 0u64;
    let mut rest = data;
    while let Some((b, r)) = rest.split_first_chunk::<32>() {
        let (w0, b) = b.split_first_chunk::<8>().unwrap_or((&[0; 8], &[]));
        let (w1, b) = b.split_first_chunk::<8>().unwrap_or((&[0; 8], &[]));
        let (w2, b) = b.split_first_chunk::<8>().unwrap_or((&[0; 8], &[]));
        let w3 = b.first_chunk::<8>().unwrap_or(&[0; 8]);
        acc = adc(acc, word(w0));
        acc = adc(acc, word(w1));
        acc = adc(acc, word(w2));
        acc = adc(acc, word(w3));
        rest = r;
    }
    // Under 32 bytes are left (all of an IPv4 header or a bare TCP header): straight-line
    // code, each piece keeping its bytes' positions within their 16-bit words.
    if let Some((b, r)) = rest.split_first_chunk::<16>() {
        let (w0, w1) = b.split_first_chunk::<8>().unwrap_or((&[0; 8], &[]));
        acc = adc(acc, word(w0));
        acc = adc(acc, word(w1.first_chunk::<8>().unwrap_or(&[0; 8])));
        rest = r;
    }
    if let Some((w, r)) = rest.split_first_chunk::<8>() {
        acc = adc(acc, word(w));
        rest = r;
    }
    if let Some((w, r)) = rest.split_first_chunk::<4>() {
        acc = adc(acc, word(w));
        rest = r;
    }
    if let Some((w, r)) = rest.split_first_chunk::<2>() {
        acc = adc(acc, word(w));
        rest = r;
    }
    if let [last] = *rest {
        // The missing byte of the last word is zero.
        acc = adc(acc, word(&[last, 0]));
    }
    let mut s = (acc & 0xffff_ffff) + (acc >> 32);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    // Three folds bring any 33-bit value to 16 bits.
    let s = s as u16;
    if cfg!(target_endian = "little") {
        s.swap_bytes()
    } else {
        s
    }
}

/// Keeps the running sum far from overflow by moving carries back into the low half.
#[inline]
fn fold_once(sum: u32) -> u32 {
    (sum & 0xffff) + (sum >> 16)
}

/// Folds a running sum and complements it: the value written into a header field.
#[inline]
pub fn finish(sum: u32) -> u16 {
    let mut s = sum;
    while s > 0xffff {
        s = fold_once(s);
    }
    // `s` now fits in 16 bits.
    !(s as u16)
}

/// Checksum of one contiguous message.
pub fn of(data: &[u8]) -> u16 {
    finish(add(0, data))
}

/// Sum of the IPv4 pseudo-header that TCP checksums cover (RFC 9293 section 3.1).
#[inline]
pub fn pseudo_header(src: [u8; 4], dst: [u8; 4], protocol: u8, length: u16) -> u32 {
    let word = |[a, b, c, d]: [u8; 4]| {
        u32::from(u16::from_be_bytes([a, b])) + u32::from(u16::from_be_bytes([c, d]))
    };
    word(src) + word(dst) + u32::from(protocol) + u32::from(length)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // Worked example of RFC 1071 section 3: sum 0xddf2, checksum 0x220d.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(of(&data), !0xddf2);
    }

    #[test]
    fn verifying_a_filled_message_gives_zero() {
        let mut msg = [
            0x45u8, 0, 0, 0x54, 0x12, 0x34, 0x40, 0, 0x40, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        let c = of(&msg);
        msg[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(of(&msg), 0);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(of(&[0xab]), of(&[0xab, 0x00]));
    }

    #[test]
    fn pieces_add_up_to_the_whole() {
        let data: [u8; 9] = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        assert_eq!(finish(add(add(0, &data[..4]), &data[4..])), of(&data));
    }

    #[test]
    fn a_kept_partial_sum_adds_as_its_bytes() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut buf = [0u8; 300];
        for b in buf.iter_mut() {
            *b = next() as u8;
        }
        for len in 0..=buf.len() {
            let sum = next() as u32 >> (next() % 32);
            let data = &buf[..len];
            assert_eq!(
                add_partial(sum, partial(data)),
                add(sum, data),
                "{len} bytes"
            );
        }
    }

    /// RFC 1071 word by word, as the checksum was first written: the reference.
    fn reference(mut sum: u32, data: &[u8]) -> u32 {
        let mut words = data.chunks_exact(2);
        for w in &mut words {
            sum = fold_once(sum) + u32::from(u16::from_be_bytes([w[0], w[1]]));
        }
        if let [last] = *words.remainder() {
            sum = fold_once(sum) + (u32::from(last) << 8);
        }
        sum
    }

    #[test]
    fn matches_the_reference_at_every_length_and_alignment() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut buf = [0u8; 320];
        for round in 0..4 {
            for b in buf.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = match round {
                    0 => x as u8,
                    1 => 0xff,
                    2 => 0,
                    _ => 0xf0 | (x as u8 & 0x0f),
                };
            }
            for align in 0..8 {
                for len in 0..300 {
                    let data = &buf[align..align + len];
                    for start in [0u32, 1, 0xffff, 0x1_fffe, 0x2_3456] {
                        assert_eq!(
                            finish(add(start, data)),
                            finish(reference(start, data)),
                            "round {round} align {align} len {len} start {start:#x}"
                        );
                    }
                    // Pieces split at even offsets add up like the whole.
                    let cut = (len / 3) & !1;
                    assert_eq!(
                        finish(add(add(7, &data[..cut]), &data[cut..])),
                        finish(reference(7, data))
                    );
                }
            }
        }
    }

    #[test]
    fn long_input_of_ones_does_not_overflow() {
        let data = [0xffu8; 70_000];
        assert_eq!(of(&data), 0);
    }
}
