//! The Internet checksum (RFC 1071): ones' complement sum of 16-bit big-endian words.
//!
//! Sums are kept unfolded in a `u32` so that several pieces (pseudo-header, header, payload)
//! can be added before the final fold.

/// Adds `data` to a running sum. An odd trailing byte is padded with a zero byte.
///
/// Pieces after the first must start at an even offset of the checksummed message,
/// which holds for every header/payload split GigaHttpd uses.
pub fn add(mut sum: u32, data: &[u8]) -> u32 {
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        if let [hi, lo] = *w {
            sum = fold_once(sum).wrapping_add(u32::from(u16::from_be_bytes([hi, lo])));
        }
    }
    if let [last] = *words.remainder() {
        sum = fold_once(sum).wrapping_add(u32::from(last) << 8);
    }
    sum
}

/// Keeps the running sum far from overflow by moving carries back into the low half.
fn fold_once(sum: u32) -> u32 {
    (sum & 0xffff) + (sum >> 16)
}

/// Folds a running sum and complements it: the value written into a header field.
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
pub fn pseudo_header(src: [u8; 4], dst: [u8; 4], protocol: u8, length: u16) -> u32 {
    let sum = add(0, &src);
    let sum = add(sum, &dst);
    sum + u32::from(protocol) + u32::from(length)
}

#[cfg(test)]
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
    fn long_input_of_ones_does_not_overflow() {
        let data = [0xffu8; 70_000];
        assert_eq!(of(&data), 0);
    }
}
