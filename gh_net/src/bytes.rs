//! Byte copies that cannot panic. Code a GigaHttpd core runs must never reach a panic
//! (`tools/check-no-panic.py` checks the module): `copy_from_slice` panics when the
//! lengths differ, and the kernel's shared instance of it keeps that path even where the
//! caller's lengths are equal.

/// Copies the first `min(dst.len(), src.len())` bytes of `src` to the start of `dst`.
#[inline(always)]
pub fn copy(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

#[cfg(test)]
mod tests {
    use super::copy;

    #[test]
    fn copies_what_both_hold() {
        let mut d = [0u8; 4];
        copy(&mut d, b"ab");
        assert_eq!(d, *b"ab\0\0");
        copy(&mut d, b"wxyz++");
        assert_eq!(d, *b"wxyz");
        copy(&mut d[1..3], b"");
        assert_eq!(d, *b"wxyz");
    }
}
