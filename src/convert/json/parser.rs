//! The JSON reader under `JsonConverter.toConnectData`, set up as Kafka's Jackson
//! `ObjectMapper` is: leading zeros allowed, content after the first root value ignored, empty
//! input is `MissingNode`, nesting bounded, numbers kept as their exact text; and Jackson's
//! lenient node accessors (`intValue()`, `longValue()` of a node).

use std::borrow::Cow;

use super::MAX_DEPTH;

/// A parsed JSON node borrowing from the input; numbers keep their text (exact, as Kafka's
/// `BigDecimal`/`BigInteger` nodes).
#[derive(Debug, PartialEq)]
pub(crate) enum JsonNode<'a> {
    Null,
    Bool(bool),
    Num(&'a str),
    Str(Cow<'a, str>),
    Arr(Vec<JsonNode<'a>>),
    /// Members in input order, duplicates included (lookups take the last, as Jackson keeps it).
    Obj(Vec<(Cow<'a, str>, JsonNode<'a>)>),
}

impl<'a> JsonNode<'a> {
    /// `JsonNode.get(name)` (the last duplicate wins, as in Jackson's `ObjectNode`).
    pub(super) fn get(&self, name: &str) -> Option<&JsonNode<'a>> {
        match self {
            JsonNode::Obj(members) => members.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// `JsonNode.getNodeType()`.
    pub(super) fn node_type(&self) -> &'static str {
        match self {
            JsonNode::Null => "NULL",
            JsonNode::Bool(_) => "BOOLEAN",
            JsonNode::Num(_) => "NUMBER",
            JsonNode::Str(_) => "STRING",
            JsonNode::Arr(_) => "ARRAY",
            JsonNode::Obj(_) => "OBJECT",
        }
    }

    /// `JsonNode.intValue()`: 0 for non-numbers.
    pub(super) fn int_value(&self) -> i32 {
        match self {
            JsonNode::Num(n) => int_value(n),
            _ => 0,
        }
    }

    /// `JsonNode.longValue()`: 0 for non-numbers.
    pub(super) fn long_value(&self) -> i64 {
        match self {
            JsonNode::Num(n) => long_value(n),
            _ => 0,
        }
    }
}

/// Object members with duplicate names collapsed as Jackson's `ObjectNode` does (first
/// position, last value).
pub(super) fn dedup_members<'j, 'a>(members: &'j [(Cow<'a, str>, JsonNode<'a>)]) -> Vec<(&'j str, &'j JsonNode<'a>)> {
    let mut out: Vec<(&str, &JsonNode)> = Vec::with_capacity(members.len());
    if members.len() <= 16 {
        for (k, v) in members {
            match out.iter_mut().find(|(n, _)| *n == k.as_ref()) {
                Some(slot) => slot.1 = v,
                None => out.push((k.as_ref(), v)),
            }
        }
    } else {
        let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::with_capacity(members.len());
        for (k, v) in members {
            match index.get(k.as_ref()) {
                Some(&i) => out[i].1 = v,
                None => {
                    index.insert(k.as_ref(), out.len());
                    out.push((k.as_ref(), v));
                }
            }
        }
    }
    out
}

pub(super) fn is_integral(n: &str) -> bool {
    !n.bytes().any(|c| matches!(c, b'.' | b'e' | b'E'))
}

/// Jackson's `isInt()`: an integral number that fits an `int`.
pub(super) fn is_int(n: &str) -> bool {
    is_integral(n) && n.parse::<i32>().is_ok()
}

/// The low 64 bits of an integral literal (as `BigInteger.longValue()`), or the truncated value
/// of a decimal one (`BigDecimal.longValue()`).
pub(super) fn long_value(n: &str) -> i64 {
    if is_integral(n) {
        let (neg, digits) = match n.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, n),
        };
        let mut v: u64 = 0;
        for c in digits.bytes() {
            v = v.wrapping_mul(10).wrapping_add((c - b'0') as u64);
        }
        let v = v as i64;
        if neg {
            v.wrapping_neg()
        } else {
            v
        }
    } else {
        n.parse::<f64>().map(|f| f.trunc() as i64).unwrap_or(0)
    }
}

pub(super) fn int_value(n: &str) -> i32 {
    long_value(n) as i32
}

/// Parses the first JSON value of `input`; `None` for empty/blank input (Jackson's MissingNode).
pub(crate) fn parse_root(input: &[u8]) -> Result<Option<JsonNode<'_>>, String> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut p = Parser { b: input, i: 0, depth: 0 };
    p.skip_ws();
    if p.i >= p.b.len() {
        return Ok(None);
    }
    let first = p.b[p.i];
    let v = p.value()?;
    if !matches!(first, b'{' | b'[' | b'"') {
        // A root-level scalar must be followed by whitespace (Jackson's `_verifyRootSpace`).
        if let Some(&c) = p.b.get(p.i) {
            if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                return Err(format!(
                    "Unexpected character ({}): Expected space separating root-level values at offset {}",
                    describe(c),
                    p.i
                ));
            }
        }
    }
    Ok(Some(v))
}

pub(super) struct Parser<'a> {
    pub(super) b: &'a [u8],
    pub(super) i: usize,
    pub(super) depth: usize,
}

fn describe(c: u8) -> String {
    if c.is_ascii_graphic() {
        format!("'{}' (code {})", c as char, c)
    } else {
        format!("code {c}")
    }
}

impl<'a> Parser<'a> {
    pub(super) fn skip_ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn err_unexpected(&self, expected: &str) -> String {
        match self.b.get(self.i) {
            Some(&c) => format!("Unexpected character ({}): expected {} at offset {}", describe(c), expected, self.i),
            None => format!("Unexpected end-of-input: expected {} at offset {}", expected, self.i),
        }
    }

    pub(super) fn value(&mut self) -> Result<JsonNode<'a>, String> {
        match self.b.get(self.i) {
            None => Err(self.err_unexpected("a value")),
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => Ok(JsonNode::Str(self.string()?)),
            Some(b't') => self.literal("true", JsonNode::Bool(true)),
            Some(b'f') => self.literal("false", JsonNode::Bool(false)),
            Some(b'n') => self.literal("null", JsonNode::Null),
            Some(c) if *c == b'-' || c.is_ascii_digit() => self.number(),
            Some(_) => Err(self.err_unexpected(
                "a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
            )),
        }
    }

    fn literal(&mut self, word: &str, v: JsonNode<'a>) -> Result<JsonNode<'a>, String> {
        let end = self.i + word.len();
        let ok = self.b.get(self.i..end) == Some(word.as_bytes())
            && !self.b.get(end).is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$') || *c >= 0x80);
        if !ok {
            let tok_end = self.b[self.i..]
                .iter()
                .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$')))
                .map_or(self.b.len(), |p| self.i + p);
            let tok = String::from_utf8_lossy(&self.b[self.i..tok_end.max(self.i + 1).min(self.b.len())]);
            return Err(format!(
                "Unrecognized token '{tok}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false') at offset {}",
                self.i
            ));
        }
        self.i = end;
        Ok(v)
    }

    fn number(&mut self) -> Result<JsonNode<'a>, String> {
        let start = self.i;
        if self.b[self.i] == b'-' {
            self.i += 1;
        }
        let ds = self.i;
        while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        if self.i == ds {
            return Err(self.err_unexpected("digit for a valid numeric value"));
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            let fs = self.i;
            while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
                self.i += 1;
            }
            if self.i == fs {
                return Err(self.err_unexpected("digit for a decimal point"));
            }
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            let es = self.i;
            while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
                self.i += 1;
            }
            if self.i == es {
                return Err(self.err_unexpected("digit for an exponent"));
            }
        }
        // The slice is ASCII digits and signs only.
        Ok(JsonNode::Num(std::str::from_utf8(&self.b[start..self.i]).unwrap_or("0")))
    }

    fn string(&mut self) -> Result<Cow<'a, str>, String> {
        self.i += 1; // opening quote
        let start = self.i;
        // Fast path: no escapes.
        while let Some(&c) = self.b.get(self.i) {
            match c {
                b'"' => {
                    let s = std::str::from_utf8(&self.b[start..self.i])
                        .map_err(|e| format!("Invalid UTF-8 in a string at offset {}", start + e.valid_up_to()))?;
                    self.i += 1;
                    return Ok(Cow::Borrowed(s));
                }
                b'\\' => break,
                c if c < 0x20 => {
                    return Err(format!(
                        "Illegal unquoted character (CTRL-CHAR, code {c}): has to be escaped using backslash to be included in string value at offset {}",
                        self.i
                    ))
                }
                _ => self.i += 1,
            }
        }
        let mut buf: Vec<u8> = self.b[start..self.i].to_vec();
        loop {
            let Some(&c) = self.b.get(self.i) else {
                return Err(format!(
                    "Unexpected end-of-input: was expecting closing quote for a string value at offset {}",
                    self.i
                ));
            };
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.b.get(self.i) else {
                        return Err(format!("Unexpected end-of-input in character escape sequence at offset {}", self.i));
                    };
                    self.i += 1;
                    match e {
                        b'"' => buf.push(b'"'),
                        b'\\' => buf.push(b'\\'),
                        b'/' => buf.push(b'/'),
                        b'b' => buf.push(0x08),
                        b'f' => buf.push(0x0C),
                        b'n' => buf.push(b'\n'),
                        b'r' => buf.push(b'\r'),
                        b't' => buf.push(b'\t'),
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xD800..0xDC00).contains(&cp) && self.b.get(self.i..self.i + 2) == Some(b"\\u") {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                } else {
                                    self.i = save;
                                }
                            }
                            let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                            let mut tmp = [0u8; 4];
                            buf.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                        }
                        other => {
                            return Err(format!(
                                "Unrecognized character escape ({}) at offset {}",
                                describe(other),
                                self.i - 1
                            ))
                        }
                    }
                }
                c if c < 0x20 => {
                    return Err(format!(
                        "Illegal unquoted character (CTRL-CHAR, code {c}): has to be escaped using backslash to be included in string value at offset {}",
                        self.i - 1
                    ))
                }
                c => buf.push(c),
            }
        }
        String::from_utf8(buf)
            .map(Cow::Owned)
            .map_err(|_| format!("Invalid UTF-8 in a string starting at offset {start}"))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .b
            .get(self.i..self.i + 4)
            .ok_or_else(|| "Unexpected end-of-input in character escape sequence".to_string())?;
        let s = std::str::from_utf8(digits).map_err(|_| "Unexpected character in a \\u escape".to_string())?;
        let v = u32::from_str_radix(s, 16)
            .map_err(|_| format!("Unexpected character ('{s}'): expected a hex-digit for character escape sequence"))?;
        self.i += 4;
        Ok(v)
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("Document nesting depth ({}) exceeds the maximum allowed ({MAX_DEPTH})", self.depth));
        }
        Ok(())
    }

    fn array(&mut self) -> Result<JsonNode<'a>, String> {
        self.enter()?;
        self.i += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.b.get(self.i) == Some(&b']') {
            self.i += 1;
            self.depth -= 1;
            return Ok(JsonNode::Arr(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value()?);
            self.skip_ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    break;
                }
                _ => return Err(self.err_unexpected("comma or ']' to close the array")),
            }
        }
        self.depth -= 1;
        Ok(JsonNode::Arr(items))
    }

    fn object(&mut self) -> Result<JsonNode<'a>, String> {
        self.enter()?;
        self.i += 1;
        let mut members = Vec::new();
        self.skip_ws();
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
            self.depth -= 1;
            return Ok(JsonNode::Obj(members));
        }
        loop {
            self.skip_ws();
            if self.b.get(self.i) != Some(&b'"') {
                return Err(self.err_unexpected("double-quote to start a field name"));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.b.get(self.i) != Some(&b':') {
                return Err(self.err_unexpected("a colon to separate a field name and its value"));
            }
            self.i += 1;
            self.skip_ws();
            let v = self.value()?;
            members.push((key, v));
            self.skip_ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    break;
                }
                _ => return Err(self.err_unexpected("comma or '}' to close the object")),
            }
        }
        self.depth -= 1;
        Ok(JsonNode::Obj(members))
    }
}
