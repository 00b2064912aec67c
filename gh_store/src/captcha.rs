//! Captchas: each core keeps 100, each valid for one minute and usable for
//! one answer. Images are 24-bit BMP (every browser shows them) of five
//! digits drawn from a 5x7 font with noise, rendered into caller memory.

/// Captchas per core.
pub const CAPTCHAS_PER_CORE: usize = 100;
/// Lifetime of one captcha, in seconds.
pub const CAPTCHA_LIFETIME: u64 = 60;
/// Digits in an answer.
pub const DIGITS: usize = 5;

const SCALE: usize = 4;
const GLYPH_W: usize = 5;
const GLYPH_H: usize = 7;
const MARGIN: usize = 2;
/// Image width in pixels.
pub const WIDTH: usize = (DIGITS * (GLYPH_W + 1) + 1) * SCALE;
/// Image height in pixels.
pub const HEIGHT: usize = (GLYPH_H + 2 * MARGIN) * SCALE;
const ROW_BYTES: usize = (WIDTH * 3).div_ceil(4) * 4;
const HEADER_LEN: usize = 54;
/// Bytes of one BMP image.
pub const IMAGE_LEN: usize = HEADER_LEN + ROW_BYTES * HEIGHT;

/// 5x7 digits, one byte per row, bit 4 = leftmost column.
const FONT: [[u8; GLYPH_H]; 10] = [
    [0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e],
    [0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e],
    [0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f],
    [0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e],
    [0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02],
    [0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e],
    [0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e],
    [0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
    [0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e],
    [0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c],
];

/// Whether pixel (x, y) (y = 0 at the top) is ink for `answer`.
fn ink(answer: &[u8; DIGITS], x: usize, y: usize) -> bool {
    let (cx, cy) = (x / SCALE, y / SCALE);
    let Some(gy) = cy.checked_sub(MARGIN).filter(|&g| g < GLYPH_H) else {
        return false;
    };
    let Some(col) = cx.checked_sub(1) else {
        return false;
    };
    let (digit_index, gx) = (col / (GLYPH_W + 1), col % (GLYPH_W + 1));
    if gx >= GLYPH_W {
        return false;
    }
    let Some(&digit) = answer.get(digit_index) else {
        return false;
    };
    let row = FONT
        .get(usize::from(digit.wrapping_sub(b'0')))
        .and_then(|g| g.get(gy))
        .copied()
        .unwrap_or(0);
    row & (0x10 >> gx) != 0
}

/// Draws `answer` (ASCII digits) into `out` as a BMP; `noise` seeds the
/// speckles. Returns the image length, or `None` if `out` is too small or
/// the answer is not digits.
pub fn render(answer: &[u8; DIGITS], noise: u64, out: &mut [u8]) -> Option<usize> {
    if !answer.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let image = out.get_mut(..IMAGE_LEN)?;
    image.fill(0);
    let put = |image: &mut [u8], at: usize, bytes: &[u8]| {
        if let Some(dst) = image.get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    };
    put(image, 0, b"BM");
    put(image, 2, &(IMAGE_LEN as u32).to_le_bytes());
    put(image, 10, &(HEADER_LEN as u32).to_le_bytes());
    put(image, 14, &40u32.to_le_bytes());
    put(image, 18, &(WIDTH as u32).to_le_bytes());
    put(image, 22, &(HEIGHT as u32).to_le_bytes());
    put(image, 26, &1u16.to_le_bytes());
    put(image, 28, &24u16.to_le_bytes());
    put(image, 34, &((ROW_BYTES * HEIGHT) as u32).to_le_bytes());
    let mut state = noise | 1;
    for y in 0..HEIGHT {
        // BMP rows run bottom-up.
        let row_start = HEADER_LEN + (HEIGHT - 1 - y) * ROW_BYTES;
        for x in 0..WIDTH {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let speckle = state % 11 == 0;
            let shade = if ink(answer, x, y) != speckle {
                0x20
            } else {
                0xf0
            };
            put(image, row_start + x * 3, &[shade, shade, shade]);
        }
    }
    Some(IMAGE_LEN)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Entry {
    answer: [u8; DIGITS],
    expires: u64,
    live: bool,
}

/// A core's captchas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptchaPool {
    entries: [Entry; CAPTCHAS_PER_CORE],
}

impl Default for CaptchaPool {
    fn default() -> Self {
        Self {
            entries: [Entry::default(); CAPTCHAS_PER_CORE],
        }
    }
}

impl CaptchaPool {
    /// Issues a captcha in the slot `random` picks (a slot whose captcha is
    /// still live is replaced: at most 100 exist). `answer_random` gives the
    /// digits. Returns the slot number and the answer to render.
    pub fn issue(&mut self, random: u64, answer_random: u64, now: u64) -> (usize, [u8; DIGITS]) {
        let slot = (random % CAPTCHAS_PER_CORE as u64) as usize;
        let mut answer = [b'0'; DIGITS];
        let mut value = answer_random;
        for digit in answer.iter_mut() {
            *digit = b'0' + (value % 10) as u8;
            value /= 10;
        }
        if let Some(entry) = self.entries.get_mut(slot) {
            *entry = Entry {
                answer,
                expires: now.saturating_add(CAPTCHA_LIFETIME),
                live: true,
            };
        }
        (slot, answer)
    }

    /// Checks an answer; the captcha is used up whatever the result.
    pub fn verify(&mut self, slot: usize, answer: &[u8], now: u64) -> bool {
        let Some(entry) = self.entries.get_mut(slot) else {
            return false;
        };
        let ok = entry.live && now < entry.expires && answer == entry.answer;
        entry.live = false;
        ok
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;

    #[test]
    fn answers_are_single_use_and_expire() {
        let mut pool = CaptchaPool::default();
        let (slot, answer) = pool.issue(1234, 98_765, 100);
        assert_eq!(slot, 34);
        assert_eq!(&answer, b"56789");
        assert!(!pool.verify(slot, b"00000", 101));
        assert!(!pool.verify(slot, &answer, 101), "used up by the wrong try");
        let (slot, answer) = pool.issue(7, 12_345, 100);
        assert!(!pool.verify(slot, &answer, 160), "one minute only");
        let (slot, answer) = pool.issue(7, 12_345, 100);
        assert!(pool.verify(slot, &answer, 159));
        assert!(!pool.verify(500, &answer, 100));
    }

    #[test]
    fn image_is_a_bmp_showing_the_digits() {
        let mut out = vec![0u8; IMAGE_LEN];
        assert_eq!(render(b"10000", 0, &mut out[..100]), None);
        assert_eq!(render(b"1a000", 0, &mut out), None);
        assert_eq!(render(b"10000", 42, &mut out), Some(IMAGE_LEN));
        assert_eq!(&out[..2], b"BM");
        assert_eq!(
            u32::from_le_bytes(out[18..22].try_into().unwrap()),
            WIDTH as u32
        );
        assert_eq!(
            u32::from_le_bytes(out[22..26].try_into().unwrap()),
            HEIGHT as u32
        );
        // The "1" glyph's stem (column 2 of the first digit) is mostly ink
        // down its height, and the top margin mostly background.
        let pixel = |x: usize, y: usize| out[HEADER_LEN + (HEIGHT - 1 - y) * ROW_BYTES + x * 3];
        let stem_x = (1 + 2) * SCALE + 1;
        let stem_y = (MARGIN + 3) * SCALE;
        let dark = (0..GLYPH_H * SCALE)
            .filter(|dy| pixel(stem_x, MARGIN * SCALE + dy) == 0x20)
            .count();
        assert!(dark > GLYPH_H * SCALE * 3 / 4, "{dark}");
        assert!(pixel(stem_x, stem_y) == 0x20 || pixel(stem_x + 1, stem_y) == 0x20);
        let light = (0..WIDTH).filter(|&x| pixel(x, 1) == 0xf0).count();
        assert!(light > WIDTH * 3 / 4);
    }
}
