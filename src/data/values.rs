//! `org.apache.kafka.connect.data.Values`: `convertToString` and `parseString`, as used by
//! `SimpleHeaderConverter`.
//!
//! `convert_to_string` follows `Values.append`: top-level strings as-is; inside containers strings
//! are quoted with `\` and `"` escaped; bytes base64; arrays `[a,b]`, maps `{k:v}`, structs
//! `{"field":value,…}` (no spaces); numbers as Java prints them; logical values (from the schema:
//! Timestamp/Date/Time → `Values.dateFormatFor` ISO-8601 text in UTC, Decimal → `BigDecimal`
//! text).
//!
//! `parse_string` infers like `Values.parseString`: `true`/`false` → BOOLEAN; `null` → no
//! schema, null; whole numbers → the smallest of INT8/INT16/INT32/INT64 (`1.0` and `1e3` too);
//! other numbers → FLOAT32 when finite as a float, else FLOAT64, else a Decimal; out-of-range
//! integers → Decimal (scale 0); `[…]` arrays and `{…}` maps of embedded values (quoted strings,
//! numbers, booleans, null, nested arrays/maps) with Kafka's numeric schema merging; anything
//! else → STRING (the original text). Not inferred (left as STRING): ISO-8601
//! dates/times/timestamps. Differences in edge cases: the whole (trimmed) string must be one
//! value (Kafka parses a leading number of `12:30x` or `[1] x` and drops the rest); `\"` and
//! `\\` inside quoted embedded strings are unescaped (Kafka keeps the backslash); nesting
//! deeper than 100 levels is not parsed (STRING).

use super::java_text as text;
use super::{
    Schema, SchemaAndValue, Type, Value, DATE_LOGICAL_NAME, DECIMAL_LOGICAL_NAME, TIMESTAMP_LOGICAL_NAME,
    TIME_LOGICAL_NAME,
};

const MILLIS_PER_DAY: i64 = 24 * 60 * 60 * 1000;
/// Nesting limit for parsed header values (deeper input stays a STRING; Kafka's recursion has no
/// limit, and its `StackOverflowError` would be caught and turn the header into BYTES).
const MAX_DEPTH: usize = 100;

/// `Values.convertToString(schema, value)`; `None` for null.
pub(crate) fn convert_to_string(schema: Option<&Schema>, value: &Value) -> Option<String> {
    if value.is_null() {
        return None;
    }
    let mut out = String::new();
    append(&mut out, schema, value, false);
    Some(out)
}

fn append(out: &mut String, schema: Option<&Schema>, value: &Value, embedded: bool) {
    if let Some(name) = schema.and_then(|s| s.name.as_deref()) {
        match (name, value) {
            (TIMESTAMP_LOGICAL_NAME, Value::Int64(ms)) => return out.push_str(&text::iso8601_for_millis(*ms)),
            (TIME_LOGICAL_NAME, Value::Int32(ms)) => return out.push_str(&text::iso8601_for_millis(*ms as i64)),
            (DATE_LOGICAL_NAME, Value::Int32(days)) => {
                return out.push_str(&text::iso8601_for_millis(*days as i64 * MILLIS_PER_DAY))
            }
            (DECIMAL_LOGICAL_NAME, Value::Bytes(b)) => {
                if let Some(scale) = schema.and_then(|s| s.decimal_scale().ok()) {
                    return out.push_str(&text::big_decimal_string(b, scale));
                }
            }
            _ => {}
        }
    }
    match value {
        Value::Null => out.push_str("null"),
        Value::String(s) => {
            if embedded {
                out.push('"');
                for c in s.chars() {
                    if c == '\\' || c == '"' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            } else {
                out.push_str(s);
            }
        }
        Value::Bytes(b) => {
            if embedded {
                out.push('"');
                out.push_str(&text::base64(b));
                out.push('"');
            } else {
                out.push_str(&text::base64(b));
            }
        }
        Value::Array(items) => {
            let item_schema = schema.and_then(|s| s.value.as_deref());
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, item_schema, v, true);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            let (ks, vs) = (schema.and_then(|s| s.key.as_deref()), schema.and_then(|s| s.value.as_deref()));
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, ks, k, true);
                out.push(':');
                append(out, vs, v, true);
            }
            out.push('}');
        }
        Value::Struct(fields) => {
            out.push('{');
            match schema.filter(|s| s.ty == Type::Struct) {
                Some(s) => {
                    for (i, f) in s.fields.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        append(out, None, &Value::String(f.name.clone()), true);
                        out.push(':');
                        let v = fields.iter().find(|(n, _)| *n == f.name).map_or(&Value::Null, |(_, v)| v);
                        append(out, Some(&f.schema), v, true);
                    }
                }
                None => {
                    for (i, (n, v)) in fields.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        append(out, None, &Value::String(n.clone()), true);
                        out.push(':');
                        append(out, None, v, true);
                    }
                }
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// `Values.parseString(value)` (see the module docs for what is inferred).
pub(crate) fn parse_string(s: &str) -> SchemaAndValue {
    let string = || SchemaAndValue { schema: Some(Schema::string()), value: Value::String(s.to_string()) };
    // Java's String.trim(): strips chars <= ' '.
    let t = s.trim_matches(|c: char| c <= ' ');
    if t.is_empty() {
        return string();
    }
    match t {
        "null" => return SchemaAndValue::NULL,
        "true" => return SchemaAndValue { schema: Some(Schema::of(Type::Boolean)), value: Value::Boolean(true) },
        "false" => return SchemaAndValue { schema: Some(Schema::of(Type::Boolean)), value: Value::Boolean(false) },
        _ => {}
    }
    let first = t.as_bytes()[0];
    if first == b'[' || first == b'{' {
        let mut p = EmbeddedParser { b: t.as_bytes(), s: t, i: 0, depth: 0 };
        if let Ok(Some((schema, value))) = p.embedded() {
            p.skip_ws();
            if p.i == p.b.len() {
                return SchemaAndValue { schema: Some(schema), value };
            }
        }
        return string();
    }
    if first.is_ascii_digit() || first == b'+' || first == b'-' {
        if let Some((schema, value)) = parse_number(t) {
            return SchemaAndValue { schema: Some(schema), value };
        }
    }
    string()
}

/// `ValueParser.parseAsNumber`.
fn parse_number(t: &str) -> Option<(Schema, Value)> {
    let d = text::parse_decimal_text(t)?;
    if let Some(n) = d.to_i64() {
        return Some(if let Ok(v) = i8::try_from(n) {
            (Schema::of(Type::Int8), Value::Int8(v))
        } else if let Ok(v) = i16::try_from(n) {
            (Schema::of(Type::Int16), Value::Int16(v))
        } else if let Ok(v) = i32::try_from(n) {
            (Schema::of(Type::Int32), Value::Int32(v))
        } else {
            (Schema::of(Type::Int64), Value::Int64(n))
        });
    }
    if d.scale != 0 {
        if let Ok(f) = t.parse::<f32>() {
            if f.is_finite() {
                return Some((Schema::of(Type::Float32), Value::Float32(f)));
            }
        }
        if let Ok(f) = t.parse::<f64>() {
            if f.is_finite() {
                return Some((Schema::of(Type::Float64), Value::Float64(f)));
            }
        }
    }
    let scale = i32::try_from(d.scale).ok()?;
    Some((Schema::decimal(scale, false), Value::Bytes(d.unscaled_at(d.scale)?)))
}

struct EmbeddedParser<'a> {
    b: &'a [u8],
    s: &'a str,
    i: usize,
    depth: usize,
}

type Parsed = Option<(Schema, Value)>;

impl EmbeddedParser<'_> {
    fn skip_ws(&mut self) {
        while self.b.get(self.i).is_some_and(|c| *c <= b' ') {
            self.i += 1;
        }
    }

    /// One embedded value; `Ok(None)` is a null literal.
    fn embedded(&mut self) -> Result<Parsed, ()> {
        self.skip_ws();
        match self.b.get(self.i) {
            None => Err(()),
            Some(b'"') => {
                self.i += 1;
                let mut out = String::new();
                let mut chars = self.s[self.i..].char_indices();
                loop {
                    let Some((off, c)) = chars.next() else { return Err(()) };
                    match c {
                        '"' => {
                            self.i += off + 1;
                            break;
                        }
                        '\\' => match chars.next() {
                            Some((_, e)) => out.push(e),
                            None => return Err(()),
                        },
                        c => out.push(c),
                    }
                }
                Ok(Some((Schema::string(), Value::String(out))))
            }
            Some(b'[') => self.array(),
            Some(b'{') => self.map(),
            Some(_) => {
                let start = self.i;
                while self.b.get(self.i).is_some_and(|c| !matches!(c, b':' | b',' | b'{' | b'}' | b'[' | b']' | b'"')) {
                    self.i += 1;
                }
                let token = self.s[start..self.i].trim_matches(|c: char| c <= ' ');
                match token {
                    "null" => Ok(None),
                    "true" => Ok(Some((Schema::of(Type::Boolean), Value::Boolean(true)))),
                    "false" => Ok(Some((Schema::of(Type::Boolean), Value::Boolean(false)))),
                    t if t.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-') => {
                        parse_number(t).map(Some).ok_or(())
                    }
                    _ => Err(()),
                }
            }
        }
    }

    fn enter(&mut self) -> Result<(), ()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(());
        }
        self.i += 1;
        Ok(())
    }

    fn array(&mut self) -> Result<Parsed, ()> {
        self.enter()?;
        let mut items = Vec::new();
        let mut merger = Merger::default();
        loop {
            self.skip_ws();
            match self.b.get(self.i) {
                None => return Err(()),
                Some(b']') => {
                    self.i += 1;
                    break;
                }
                Some(b',') => return Err(()),
                _ => {}
            }
            let e = self.embedded()?;
            match e {
                Some((s, v)) => {
                    merger.merge(&s);
                    items.push(v);
                }
                None => items.push(Value::Null),
            }
            self.skip_ws();
            match self.b.get(self.i) {
                Some(b']') => {}
                Some(b',') => self.i += 1,
                _ => return Err(()),
            }
        }
        self.depth -= 1;
        let schema = match merger.common() {
            Some(common) => {
                let items = items.into_iter().map(|v| align(common, v)).collect::<Result<Vec<_>, ()>>()?;
                return Ok(Some((Schema::array(common.clone()), Value::Array(items))));
            }
            None => Schema::of(Type::Array),
        };
        Ok(Some((schema, Value::Array(items))))
    }

    fn map(&mut self) -> Result<Parsed, ()> {
        self.enter()?;
        let mut entries = Vec::new();
        let (mut keys, mut values) = (Merger::default(), Merger::default());
        loop {
            self.skip_ws();
            match self.b.get(self.i) {
                None => return Err(()),
                Some(b'}') => {
                    self.i += 1;
                    break;
                }
                Some(b',') => return Err(()),
                _ => {}
            }
            let Some((ks, k)) = self.embedded()? else { return Err(()) };
            self.skip_ws();
            if self.b.get(self.i) != Some(&b':') {
                return Err(());
            }
            self.i += 1;
            let v = self.embedded()?;
            self.skip_ws();
            if self.b.get(self.i) == Some(&b',') {
                self.i += 1;
            }
            keys.merge(&ks);
            match v {
                Some((vs, v)) => {
                    values.merge(&vs);
                    entries.push((k, v));
                }
                None => entries.push((k, Value::Null)),
            }
        }
        self.depth -= 1;
        let (schema, entries) = match (keys.common(), values.common()) {
            (Some(k), Some(v)) => (
                Schema::map(k.clone(), v.clone()),
                entries.into_iter().map(|(a, b)| Ok((align(k, a)?, align(v, b)?))).collect::<Result<Vec<_>, ()>>()?,
            ),
            (Some(k), None) => (
                Schema { key: Some(Box::new(k.clone())), ..Schema::of(Type::Map) },
                entries.into_iter().map(|(a, b)| Ok((align(k, a)?, b))).collect::<Result<Vec<_>, ()>>()?,
            ),
            _ => (Schema::of(Type::Map), entries),
        };
        Ok(Some((schema, Value::Map(entries))))
    }
}

/// `Values.SchemaMerger`.
#[derive(Default)]
struct Merger {
    common: Option<Schema>,
    incompatible: bool,
}

impl Merger {
    fn merge(&mut self, s: &Schema) {
        if self.incompatible {
            return;
        }
        self.common = match self.common.take() {
            None => Some(s.clone()),
            Some(prev) => {
                let merged = merge_schemas(prev, s);
                self.incompatible = merged.is_none();
                merged
            }
        };
    }

    fn common(&self) -> Option<&Schema> {
        self.common.as_ref()
    }
}

fn numeric_rank(t: Type) -> Option<u8> {
    Some(match t {
        Type::Int8 => 0,
        Type::Int16 => 1,
        Type::Int32 => 2,
        Type::Int64 => 3,
        Type::Float32 => 4,
        Type::Float64 => 5,
        _ => return None,
    })
}

/// `Values.mergeSchemas`: numeric types widen; the same type keeps one of them.
fn merge_schemas(prev: Schema, new: &Schema) -> Option<Schema> {
    if prev.ty != new.ty {
        let (a, b) = (numeric_rank(prev.ty)?, numeric_rank(new.ty)?);
        return Some(if a >= b { prev } else { new.clone() });
    }
    if prev.optional == new.optional {
        return Some(if prev.optional { prev } else { new.clone() });
    }
    if prev != *new {
        return None;
    }
    Some(prev)
}

/// `Values.convertTo(schema, null, value)` for the merged element schemas.
fn align(schema: &Schema, v: Value) -> Result<Value, ()> {
    if v.is_null() {
        return if schema.optional { Ok(Value::Null) } else { Err(()) };
    }
    let as_f64 = |v: &Value| -> Option<f64> {
        Some(match v {
            Value::Int8(n) => *n as f64,
            Value::Int16(n) => *n as f64,
            Value::Int32(n) => *n as f64,
            Value::Int64(n) => *n as f64,
            Value::Float32(n) => *n as f64,
            Value::Float64(n) => *n,
            _ => return None,
        })
    };
    let as_i64 = |v: &Value| -> Option<i64> {
        Some(match v {
            Value::Int8(n) => *n as i64,
            Value::Int16(n) => *n as i64,
            Value::Int32(n) => *n as i64,
            Value::Int64(n) => *n,
            Value::Float32(n) => *n as i64,
            Value::Float64(n) => *n as i64,
            _ => return None,
        })
    };
    Ok(match schema.ty {
        Type::Int8 => as_i64(&v).map_or(v, |n| Value::Int8(n as i8)),
        Type::Int16 => as_i64(&v).map_or(v, |n| Value::Int16(n as i16)),
        Type::Int32 => as_i64(&v).map_or(v, |n| Value::Int32(n as i32)),
        Type::Int64 => as_i64(&v).map_or(v, Value::Int64),
        Type::Float32 => match v {
            Value::Int64(n) => Value::Float32(n as f32),
            other => as_f64(&other).map_or(other, |f| Value::Float32(f as f32)),
        },
        Type::Float64 => as_f64(&v).map_or(v, Value::Float64),
        _ => v,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Field;

    fn p(s: &str) -> (Option<Schema>, Value) {
        let r = parse_string(s);
        (r.schema, r.value)
    }

    #[test]
    fn to_string_forms() {
        assert_eq!(convert_to_string(None, &Value::Null), None);
        assert_eq!(convert_to_string(None, &Value::String("a\"b".into())).unwrap(), "a\"b");
        assert_eq!(convert_to_string(None, &Value::Float64(2.0)).unwrap(), "2.0");
        assert_eq!(convert_to_string(None, &Value::Bytes(b"ab".to_vec())).unwrap(), "YWI=");
        let arr = Value::Array(vec![Value::String("x\"y".into()), Value::Int32(1), Value::Null]);
        assert_eq!(convert_to_string(None, &arr).unwrap(), r#"["x\"y",1,null]"#);
        let map = Value::Map(vec![(Value::String("k".into()), Value::Boolean(true))]);
        assert_eq!(convert_to_string(None, &map).unwrap(), r#"{"k":true}"#);
        let schema =
            Schema::structure(vec![Field::new("a", Schema::int32()), Field::new("b", Schema::optional_string())]);
        let st = Value::Struct(vec![("a".into(), Value::Int32(1))]);
        assert_eq!(convert_to_string(Some(&schema), &st).unwrap(), r#"{"a":1,"b":null}"#);
        assert_eq!(
            convert_to_string(Some(&Schema::timestamp(false)), &Value::Int64(1_700_000_000_123)).unwrap(),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(convert_to_string(Some(&Schema::date(false)), &Value::Int32(19_000)).unwrap(), "2022-01-08");
        let dec = Value::Bytes(text::digits_to_twos_complement(true, "1050"));
        assert_eq!(convert_to_string(Some(&Schema::decimal(2, false)), &dec).unwrap(), "-10.50");
    }

    #[test]
    fn parse_inference() {
        let s = |t: Type| Some(Schema::of(t));
        assert_eq!(p("true"), (s(Type::Boolean), Value::Boolean(true)));
        assert_eq!(p(" false "), (s(Type::Boolean), Value::Boolean(false)));
        assert_eq!(p("null"), (None, Value::Null));
        assert_eq!(p("12"), (s(Type::Int8), Value::Int8(12)));
        assert_eq!(p("-128"), (s(Type::Int8), Value::Int8(-128)));
        assert_eq!(p("300"), (s(Type::Int16), Value::Int16(300)));
        assert_eq!(p("70000"), (s(Type::Int32), Value::Int32(70000)));
        assert_eq!(p("5000000000"), (s(Type::Int64), Value::Int64(5_000_000_000)));
        assert_eq!(p("1.0"), (s(Type::Int8), Value::Int8(1)));
        assert_eq!(p("1e3"), (s(Type::Int16), Value::Int16(1000)));
        assert_eq!(p("1.5"), (s(Type::Float32), Value::Float32(1.5)));
        assert_eq!(p("1e300"), (s(Type::Float64), Value::Float64(1e300)));
        assert_eq!(p("0.00"), (s(Type::Int8), Value::Int8(0)));
        let (schema, v) = p("123456789012345678901234567890");
        assert_eq!(schema, Some(Schema::decimal(0, false)));
        assert_eq!(v, Value::Bytes(text::digits_to_twos_complement(false, "123456789012345678901234567890")));
        assert_eq!(p(""), (Some(Schema::string()), Value::String("".into())));
        assert_eq!(p("hello world"), (Some(Schema::string()), Value::String("hello world".into())));
        assert_eq!(p("12:30x"), (Some(Schema::string()), Value::String("12:30x".into())));
        assert_eq!(p("2024-01-01"), (Some(Schema::string()), Value::String("2024-01-01".into())));
        assert_eq!(p("true}"), (Some(Schema::string()), Value::String("true}".into())));
    }

    #[test]
    fn parse_containers() {
        assert_eq!(
            p("[1, 2, 300]"),
            (
                Some(Schema::array(Schema::of(Type::Int16))),
                Value::Array(vec![Value::Int16(1), Value::Int16(2), Value::Int16(300)])
            )
        );
        assert_eq!(
            p(r#"["a","b\"c"]"#),
            (
                Some(Schema::array(Schema::string())),
                Value::Array(vec![Value::String("a".into()), Value::String("b\"c".into())])
            )
        );
        assert_eq!(p("[]"), (Some(Schema::of(Type::Array)), Value::Array(vec![])));
        let deep = "[".repeat(101) + &"]".repeat(101);
        assert_eq!(p(&deep), (Some(Schema::string()), Value::String(deep.clone())));
        let ok = "[".repeat(100) + &"]".repeat(100);
        assert_eq!(p(&ok).0.map(|s| s.ty), Some(Type::Array));
        // Mixed types: no common schema.
        assert_eq!(
            p(r#"[1,"x"]"#),
            (Some(Schema::of(Type::Array)), Value::Array(vec![Value::Int8(1), Value::String("x".into())]))
        );
        // An unquoted word inside is not an embedded value → the whole thing is a string.
        assert_eq!(p("[a, b]"), (Some(Schema::string()), Value::String("[a, b]".into())));
        // null next to a required common schema cannot be aligned → string.
        assert_eq!(p("[1,null]"), (Some(Schema::string()), Value::String("[1,null]".into())));
        assert_eq!(
            p(r#"{"a":1,"b":2.5}"#),
            (
                Some(Schema::map(Schema::string(), Schema::of(Type::Float32))),
                Value::Map(vec![
                    (Value::String("a".into()), Value::Float32(1.0)),
                    (Value::String("b".into()), Value::Float32(2.5))
                ])
            )
        );
        // Round trip of a header value through its string form.
        let v = Value::Map(vec![(Value::String("k".into()), Value::Array(vec![Value::Int8(1), Value::Int8(2)]))]);
        let s = convert_to_string(None, &v).unwrap();
        assert_eq!(s, r#"{"k":[1,2]}"#);
        assert_eq!(parse_string(&s).value, v);
    }
}
