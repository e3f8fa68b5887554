//! Java's text forms: `Float.toString` / `Double.toString`, `BigDecimal.toString`,
//! `BigInteger.toByteArray`, the ISO-8601 patterns of `Values`, and base64.

use base64::Engine as _;

/// `Base64.getEncoder()` (standard alphabet, padded, no line breaks), as Jackson's default variant.
pub(crate) fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn base64_into(bytes: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    let n = base64::encoded_len(bytes.len(), true).unwrap_or(0);
    out.resize(start + n, 0);
    let written = base64::engine::general_purpose::STANDARD.encode_slice(bytes, &mut out[start..]).unwrap_or(0);
    out.truncate(start + written);
}

pub(crate) fn base64_decode(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    base64::engine::general_purpose::STANDARD.decode(s)
}

/// Java's `Double.toString(d)` as specified since JDK 19: the shortest decimal that rounds to
/// `d` (which Rust's `{:e}` also produces), except that when that has a single digit, the
/// closest decimal of at most two digits is taken (`4.9E-324`, not `5.0E-324`).
pub(crate) fn java_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    let shortest = format!("{d:e}");
    if single_digit(&shortest) {
        let two = format!("{d:.1e}");
        if two.parse::<f64>() == Ok(d) {
            return java_from_sci(&two);
        }
    }
    java_from_sci(&shortest)
}

/// Java's `Float.toString(f)` (same rules as [`java_double`], for `float`).
pub(crate) fn java_float(f: f32) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    let shortest = format!("{f:e}");
    if single_digit(&shortest) {
        let two = format!("{f:.1e}");
        if two.parse::<f32>() == Ok(f) {
            return java_from_sci(&two);
        }
    }
    java_from_sci(&shortest)
}

/// Whether a `{:e}` form has one significant digit (`5e-324`, `-1e0`).
fn single_digit(sci: &str) -> bool {
    !sci.split('e').next().unwrap_or("").contains('.')
}

/// Rewrites Rust's shortest scientific form (`-1.2345e-5`, `1e10`) as Java prints it: plain
/// notation with at least one fractional digit for 10^-3 <= |x| < 10^7, else `d.dddE±n`.
fn java_from_sci(sci: &str) -> String {
    let (neg, s) = match sci.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, sci),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: String = mant.chars().filter(|c| *c != '.').collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    let mut out = String::with_capacity(digits.len() + 8);
    if neg {
        out.push('-');
    }
    if (-3..7).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        if digits.len() > 1 {
            out.push_str(&digits[1..]);
        } else {
            out.push('0');
        }
        out.push('E');
        out.push_str(&exp.to_string());
    }
    out
}

/// Minimal two's complement form (as `BigInteger.toByteArray()`); empty input means zero.
pub(crate) fn normalize_twos_complement(bytes: &[u8]) -> Vec<u8> {
    let mut i = 0;
    while i + 1 < bytes.len() {
        let (b, next) = (bytes[i], bytes[i + 1]);
        if (b == 0x00 && next & 0x80 == 0) || (b == 0xFF && next & 0x80 != 0) {
            i += 1;
        } else {
            break;
        }
    }
    if bytes.is_empty() {
        vec![0]
    } else {
        bytes[i..].to_vec()
    }
}

/// Decimal digits of the magnitude of a big-endian two's complement integer, and its sign.
fn twos_complement_to_digits(bytes: &[u8]) -> (bool, String) {
    if bytes.is_empty() {
        return (false, "0".into());
    }
    let neg = bytes[0] & 0x80 != 0;
    let mut mag: Vec<u8> = bytes.to_vec();
    if neg {
        // magnitude = !x + 1
        for b in mag.iter_mut() {
            *b = !*b;
        }
        for b in mag.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
    }
    // Repeated division by 10^9 over base-256 digits.
    let mut chunks: Vec<u32> = Vec::new();
    let mut cur: Vec<u8> = mag.into_iter().skip_while(|b| *b == 0).collect();
    while !cur.is_empty() {
        let mut rem: u64 = 0;
        let mut next = Vec::with_capacity(cur.len());
        for &b in &cur {
            let acc = (rem << 8) | b as u64;
            let q = acc / 1_000_000_000;
            rem = acc % 1_000_000_000;
            if !(next.is_empty() && q == 0) {
                next.push(q as u8);
            }
        }
        chunks.push(rem as u32);
        cur = next;
    }
    if chunks.is_empty() {
        return (false, "0".into());
    }
    let mut s = chunks.last().unwrap().to_string();
    for c in chunks.iter().rev().skip(1) {
        s.push_str(&format!("{c:09}"));
    }
    (neg, s)
}

/// `new BigDecimal(new BigInteger(unscaled), scale).toString()`.
pub(crate) fn big_decimal_string(unscaled: &[u8], scale: i32) -> String {
    let (neg, digits) = twos_complement_to_digits(unscaled);
    let mut out = String::with_capacity(digits.len() + 8);
    if neg {
        out.push('-');
    }
    let len = digits.len() as i64;
    let adjusted = -(scale as i64) + (len - 1);
    if scale == 0 {
        out.push_str(&digits);
    } else if scale > 0 && adjusted >= -6 {
        let scale = scale as i64;
        if len > scale {
            let point = (len - scale) as usize;
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (scale - len) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if len > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        if adjusted != 0 {
            out.push('E');
            if adjusted > 0 {
                out.push('+');
            }
            out.push_str(&adjusted.to_string());
        }
    }
    out
}

/// A decimal number's text (`BigDecimal(String)` syntax: `-12.50`, `1e3`, `007`) split into sign,
/// significant digits (no leading zeros; "0" for zero) and scale (`digits × 10^-scale`).
pub(crate) struct DecimalText {
    pub neg: bool,
    pub digits: String,
    pub scale: i64,
}

pub(crate) fn parse_decimal_text(text: &str) -> Option<DecimalText> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_part = &text[int_start..i];
    let mut frac_part = "";
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let fs = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_part = &text[fs..i];
    }
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut exp: i64 = 0;
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        let es = i;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let ds = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if ds == i || i - ds > 9 {
            return None;
        }
        exp = text[es..i].parse().ok()?;
    }
    if i != b.len() {
        return None;
    }
    let mut digits: String = int_part.chars().chain(frac_part.chars()).skip_while(|c| *c == '0').collect();
    if digits.is_empty() {
        digits.push('0');
    }
    Some(DecimalText { neg, digits, scale: frac_part.len() as i64 - exp })
}

impl DecimalText {
    /// Whether the value is a whole number.
    pub fn is_integral(&self) -> bool {
        if self.scale <= 0 || self.digits == "0" {
            return true;
        }
        let s = self.scale as usize;
        s <= self.digits.len() && self.digits[self.digits.len() - s..].bytes().all(|c| c == b'0')
    }

    /// The value as an i64, when it is a whole number in range.
    pub fn to_i64(&self) -> Option<i64> {
        if !self.is_integral() {
            return None;
        }
        if self.digits == "0" {
            return Some(0);
        }
        let digits: &str =
            if self.scale > 0 { &self.digits[..self.digits.len() - self.scale as usize] } else { &self.digits };
        if digits.is_empty() {
            return Some(0);
        }
        let zeros = if self.scale < 0 { (-self.scale) as usize } else { 0 };
        if digits.len() + zeros > 19 {
            return None;
        }
        let mut v: i128 = digits.parse().ok()?;
        for _ in 0..zeros {
            v *= 10;
        }
        if self.neg {
            v = -v;
        }
        i64::try_from(v).ok()
    }

    /// The unscaled value at `target` scale as minimal two's complement bytes, if exact.
    pub fn unscaled_at(&self, target: i64) -> Option<Vec<u8>> {
        let mut digits = self.digits.clone();
        if target >= self.scale {
            let add = (target - self.scale) as usize;
            if add > 10_000 {
                return None;
            }
            if digits != "0" {
                digits.extend(std::iter::repeat_n('0', add));
            }
        } else {
            let drop = (self.scale - target) as usize;
            if digits != "0" {
                if drop > digits.len() || !digits[digits.len() - drop..].bytes().all(|c| c == b'0') {
                    return None;
                }
                digits.truncate(digits.len() - drop);
                if digits.is_empty() {
                    digits.push('0');
                }
            }
        }
        Some(digits_to_twos_complement(self.neg, &digits))
    }
}

/// Decimal digits (magnitude) and sign → `BigInteger.toByteArray()`.
pub(crate) fn digits_to_twos_complement(neg: bool, digits: &str) -> Vec<u8> {
    // Little-endian base-256 accumulator.
    let mut mag: Vec<u8> = Vec::with_capacity(digits.len() / 2 + 1);
    for d in digits.bytes() {
        let mut carry = (d - b'0') as u32;
        for b in mag.iter_mut() {
            let v = *b as u32 * 10 + carry;
            *b = v as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            mag.push(carry as u8);
            carry >>= 8;
        }
    }
    while mag.last() == Some(&0) {
        mag.pop();
    }
    if mag.is_empty() {
        return vec![0];
    }
    mag.reverse(); // big-endian magnitude
    if !neg {
        if mag[0] & 0x80 != 0 {
            mag.insert(0, 0);
        }
        return mag;
    }
    for b in mag.iter_mut() {
        *b = !*b;
    }
    for b in mag.iter_mut().rev() {
        let (v, carry) = b.overflowing_add(1);
        *b = v;
        if !carry {
            break;
        }
    }
    if mag[0] & 0x80 == 0 {
        mag.insert(0, 0xFF);
    }
    normalize_twos_complement(&mag)
}

const MILLIS_PER_DAY: i64 = 24 * 60 * 60 * 1000;

/// `Values.dateFormatFor(date).format(date)` in UTC: `HH:mm:ss.SSS'Z'` below one day,
/// `yyyy-MM-dd` on whole days, else `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`.
pub(crate) fn iso8601_for_millis(millis: i64) -> String {
    let days = millis.div_euclid(MILLIS_PER_DAY);
    let ms = millis.rem_euclid(MILLIS_PER_DAY);
    let time = format!("{:02}:{:02}:{:02}.{:03}Z", ms / 3_600_000, (ms / 60_000) % 60, (ms / 1000) % 60, ms % 1000);
    if millis < MILLIS_PER_DAY {
        return time;
    }
    let (y, m, d) = civil_from_days(days);
    if ms == 0 {
        format!("{y:04}-{m:02}-{d:02}")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{time}")
    }
}

/// Days since 1970-01-01 → proleptic Gregorian (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_number_text() {
        assert_eq!(java_double(100.0), "100.0");
        assert_eq!(java_double(123.456), "123.456");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(9999999.0), "9999999.0");
        assert_eq!(java_double(1e-3), "0.001");
        assert_eq!(java_double(0.00123), "0.00123");
        assert_eq!(java_double(-2.5e-5), "-2.5E-5");
        assert_eq!(java_double(1.7976931348623157e308), "1.7976931348623157E308");
        assert_eq!(java_double(4.9e-324), "4.9E-324");
        assert_eq!(java_double(1e23), "1.0E23");
        assert_eq!(java_double(2e-3), "0.002");
        assert_eq!(java_double(-1.0), "-1.0");
        assert_eq!(java_float(1.4e-45), "1.4E-45");
        assert_eq!(java_float(3.0), "3.0");
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(java_float(1.1), "1.1");
        assert_eq!(java_float(1e-10), "1.0E-10");
    }

    #[test]
    fn big_decimal_text() {
        // 12345 with various scales, as BigDecimal.toString prints them.
        let u = digits_to_twos_complement(false, "12345");
        assert_eq!(big_decimal_string(&u, 0), "12345");
        assert_eq!(big_decimal_string(&u, 2), "123.45");
        assert_eq!(big_decimal_string(&u, 5), "0.12345");
        assert_eq!(big_decimal_string(&u, 7), "0.0012345");
        assert_eq!(big_decimal_string(&u, 10), "0.0000012345");
        assert_eq!(big_decimal_string(&u, 11), "1.2345E-7");
        assert_eq!(big_decimal_string(&u, 12), "1.2345E-8");
        assert_eq!(big_decimal_string(&u, -3), "1.2345E+7");
        let n = digits_to_twos_complement(true, "150");
        assert_eq!(big_decimal_string(&n, 2), "-1.50");
        assert_eq!(big_decimal_string(&[0], 3), "0.000");
        // A value wider than 128 bits.
        let big = "123456789012345678901234567890123456789012345";
        assert_eq!(big_decimal_string(&digits_to_twos_complement(true, big), 0), format!("-{big}"));
    }

    #[test]
    fn twos_complement_like_big_integer() {
        assert_eq!(digits_to_twos_complement(false, "0"), vec![0]);
        assert_eq!(digits_to_twos_complement(false, "127"), vec![0x7F]);
        assert_eq!(digits_to_twos_complement(false, "128"), vec![0x00, 0x80]);
        assert_eq!(digits_to_twos_complement(true, "1"), vec![0xFF]);
        assert_eq!(digits_to_twos_complement(true, "128"), vec![0x80]);
        assert_eq!(digits_to_twos_complement(true, "129"), vec![0xFF, 0x7F]);
        assert_eq!(digits_to_twos_complement(true, "256"), vec![0xFF, 0x00]);
        assert_eq!(normalize_twos_complement(&[0, 0, 1]), vec![1]);
        assert_eq!(normalize_twos_complement(&[0xFF, 0xFF, 0x80]), vec![0x80]);
    }

    #[test]
    fn decimal_text_parsing() {
        let d = parse_decimal_text("-12.50").unwrap();
        assert!(d.neg);
        assert_eq!((d.digits.as_str(), d.scale), ("1250", 2));
        assert_eq!(d.unscaled_at(3).unwrap(), digits_to_twos_complement(true, "12500"));
        assert_eq!(d.unscaled_at(1).unwrap(), digits_to_twos_complement(true, "125"));
        assert!(d.unscaled_at(0).is_none());
        assert_eq!(parse_decimal_text("1e3").unwrap().to_i64(), Some(1000));
        assert_eq!(parse_decimal_text("1.0").unwrap().to_i64(), Some(1));
        assert_eq!(parse_decimal_text("007").unwrap().to_i64(), Some(7));
        assert_eq!(parse_decimal_text("1.5").unwrap().to_i64(), None);
        assert_eq!(parse_decimal_text("0.00").unwrap().to_i64(), Some(0));
        assert_eq!(parse_decimal_text("-0.0e5").unwrap().to_i64(), Some(0));
        assert_eq!(parse_decimal_text("-9223372036854775808").unwrap().to_i64(), Some(i64::MIN));
        assert_eq!(parse_decimal_text("9223372036854775808").unwrap().to_i64(), None);
        assert!(parse_decimal_text("1e").is_none());
        assert!(parse_decimal_text(".").is_none());
        assert!(parse_decimal_text("1x").is_none());
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601_for_millis(0), "00:00:00.000Z");
        assert_eq!(iso8601_for_millis(45_296_789), "12:34:56.789Z");
        assert_eq!(iso8601_for_millis(19_000 * MILLIS_PER_DAY), "2022-01-08");
        assert_eq!(iso8601_for_millis(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
