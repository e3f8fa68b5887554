//! Kafka Connect's data model (`org.apache.kafka.connect.data`). Converters are in
//! `crate::convert`.
//!
//! - [`Schema`], [`Field`], [`Type`], [`Value`], [`SchemaAndValue`]: the Connect data model.
//!   Logical types (Timestamp, Date, Time, Decimal) are schemas with a `name`; their values stay in
//!   their underlying representation: Timestamp = `Int64` millis, Date = `Int32` days since the
//!   epoch, Time = `Int32` millis of the day, Decimal = `Bytes` (the unscaled value, big-endian
//!   two's complement, as `BigInteger.toByteArray()`) with the scale in `parameters["scale"]`.
//! - [`values`]: `Values.convertToString` / `Values.parseString` (SimpleHeaderConverter).
//! - [`java_text`]: Java's `toString` of numbers, `BigDecimal` text, ISO-8601 dates, base64.

pub mod java_text;
pub mod values;

use std::collections::BTreeMap;
use std::fmt;

/// Logical type names (`Schema.name()`), as Kafka's `Timestamp.LOGICAL_NAME` etc.
pub const TIMESTAMP_LOGICAL_NAME: &str = "org.apache.kafka.connect.data.Timestamp";
/// `Date.LOGICAL_NAME`: an `Int32` count of days since 1970-01-01.
pub const DATE_LOGICAL_NAME: &str = "org.apache.kafka.connect.data.Date";
/// `Time.LOGICAL_NAME`: an `Int32` count of milliseconds since midnight.
pub const TIME_LOGICAL_NAME: &str = "org.apache.kafka.connect.data.Time";
/// `Decimal.LOGICAL_NAME`: `Bytes` holding the unscaled two's complement value; `parameters["scale"]`.
pub const DECIMAL_LOGICAL_NAME: &str = "org.apache.kafka.connect.data.Decimal";
/// `Decimal.SCALE_FIELD`.
pub const DECIMAL_SCALE_PARAMETER: &str = "scale";

/// Kafka Connect's `DataException` (and the converters' `ConfigException`s), with Kafka's message
/// where it has one.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct DataError {
    pub message: String,
}

impl DataError {
    pub fn new(message: impl Into<String>) -> DataError {
        DataError { message: message.into() }
    }
}

/// `Schema.Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    String,
    Bytes,
    Array,
    Map,
    Struct,
}

impl Type {
    /// The Java enum constant's name (`Schema.Type.toString()`), e.g. `INT32`, used in Kafka's messages.
    pub fn java_name(self) -> &'static str {
        match self {
            Type::Int8 => "INT8",
            Type::Int16 => "INT16",
            Type::Int32 => "INT32",
            Type::Int64 => "INT64",
            Type::Float32 => "FLOAT32",
            Type::Float64 => "FLOAT64",
            Type::Boolean => "BOOLEAN",
            Type::String => "STRING",
            Type::Bytes => "BYTES",
            Type::Array => "ARRAY",
            Type::Map => "MAP",
            Type::Struct => "STRUCT",
        }
    }

    /// Whether this is a primitive (non-container) type.
    pub fn is_primitive(self) -> bool {
        !matches!(self, Type::Array | Type::Map | Type::Struct)
    }
}

/// Displays as Java's `Schema.Type.toString()` (`INT32`, `STRING`, …).
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.java_name())
    }
}

/// A field of a struct schema.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: String,
    pub schema: Schema,
}

impl Field {
    pub fn new(name: impl Into<String>, schema: Schema) -> Field {
        Field { name: name.into(), schema }
    }
}

/// `ConnectSchema`.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    pub ty: Type,
    pub optional: bool,
    pub name: Option<String>,
    pub version: Option<i32>,
    pub doc: Option<String>,
    /// Kafka keeps insertion order (`LinkedHashMap`); this model keeps them sorted by key, so a
    /// schema with several parameters serializes them in key order.
    pub parameters: Option<BTreeMap<String, String>>,
    pub default: Option<Box<Value>>,
    /// Struct fields.
    pub fields: Vec<Field>,
    /// Map keys.
    pub key: Option<Box<Schema>>,
    /// Map values / array items.
    pub value: Option<Box<Schema>>,
}

impl Schema {
    /// A required schema of `ty`, everything else unset.
    pub fn of(ty: Type) -> Schema {
        Schema {
            ty,
            optional: false,
            name: None,
            version: None,
            doc: None,
            parameters: None,
            default: None,
            fields: Vec::new(),
            key: None,
            value: None,
        }
    }
    /// An optional schema of `ty`, everything else unset.
    pub fn optional(ty: Type) -> Schema {
        Schema { optional: true, ..Schema::of(ty) }
    }
    /// `Schema.STRING_SCHEMA`.
    pub fn string() -> Schema {
        Schema::of(Type::String)
    }
    /// `Schema.INT32_SCHEMA`.
    pub fn int32() -> Schema {
        Schema::of(Type::Int32)
    }
    /// `Schema.INT64_SCHEMA`.
    pub fn int64() -> Schema {
        Schema::of(Type::Int64)
    }
    /// `Schema.BYTES_SCHEMA`.
    pub fn bytes() -> Schema {
        Schema::of(Type::Bytes)
    }
    /// `Schema.OPTIONAL_STRING_SCHEMA`.
    pub fn optional_string() -> Schema {
        Schema::optional(Type::String)
    }
    /// `Schema.OPTIONAL_BYTES_SCHEMA`.
    pub fn optional_bytes() -> Schema {
        Schema::optional(Type::Bytes)
    }
    /// A required struct schema with these fields.
    pub fn structure(fields: Vec<Field>) -> Schema {
        Schema { fields, ..Schema::of(Type::Struct) }
    }
    /// A required array schema.
    pub fn array(items: Schema) -> Schema {
        Schema { value: Some(Box::new(items)), ..Schema::of(Type::Array) }
    }
    /// A required map schema.
    pub fn map(key: Schema, value: Schema) -> Schema {
        Schema { key: Some(Box::new(key)), value: Some(Box::new(value)), ..Schema::of(Type::Map) }
    }
    /// `Timestamp.SCHEMA` (`optional` false) / `Timestamp.builder().optional()`: int64, version 1.
    pub fn timestamp(optional: bool) -> Schema {
        Schema { optional, name: Some(TIMESTAMP_LOGICAL_NAME.into()), version: Some(1), ..Schema::of(Type::Int64) }
    }
    /// `Date.SCHEMA`-like: int32 days, version 1.
    pub fn date(optional: bool) -> Schema {
        Schema { optional, name: Some(DATE_LOGICAL_NAME.into()), version: Some(1), ..Schema::of(Type::Int32) }
    }
    /// `Time.SCHEMA`-like: int32 millis of the day, version 1.
    pub fn time(optional: bool) -> Schema {
        Schema { optional, name: Some(TIME_LOGICAL_NAME.into()), version: Some(1), ..Schema::of(Type::Int32) }
    }
    /// `Decimal.schema(scale)`-like: bytes, version 1, `parameters {"scale": scale}`.
    pub fn decimal(scale: i32, optional: bool) -> Schema {
        let mut p = BTreeMap::new();
        p.insert(DECIMAL_SCALE_PARAMETER.to_string(), scale.to_string());
        Schema {
            optional,
            name: Some(DECIMAL_LOGICAL_NAME.into()),
            version: Some(1),
            parameters: Some(p),
            ..Schema::of(Type::Bytes)
        }
    }

    /// The struct field called `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The default value, if any (a `Some(Null)` default counts as none, as Java's null).
    pub(crate) fn default_value(&self) -> Option<&Value> {
        match self.default.as_deref() {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    /// True when only `ty` and `optional` are set (the schemas the JSON fast path precomputes).
    pub(crate) fn is_plain_primitive(&self) -> bool {
        self.ty.is_primitive()
            && self.name.is_none()
            && self.version.is_none()
            && self.doc.is_none()
            && self.parameters.is_none()
            && self.default.is_none()
    }

    pub(crate) fn logical_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// `Decimal.scale(schema)`.
    pub(crate) fn decimal_scale(&self) -> Result<i32, DataError> {
        let s = self
            .parameters
            .as_ref()
            .and_then(|p| p.get(DECIMAL_SCALE_PARAMETER))
            .ok_or_else(|| DataError::new("Invalid Decimal schema: scale parameter not found."))?;
        s.trim()
            .parse::<i32>()
            .map_err(|_| DataError::new(format!("Invalid scale parameter found in Decimal schema: {s}")))
    }
}

/// A Connect value. Struct values carry their field names (in schema order when produced by a
/// converter); their schema travels separately, as in [`SchemaAndValue`].
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    Int8(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Float32(f32),
    Float64(f64),
    String(String),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Struct(Vec<(String, Value)>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The Java class Kafka would see for this value, as `Class.toString()` prints it
    /// (`class java.lang.Integer`), for Kafka's "Invalid type for …" messages.
    pub fn java_class(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Boolean(_) => "class java.lang.Boolean",
            Value::Int8(_) => "class java.lang.Byte",
            Value::Int16(_) => "class java.lang.Short",
            Value::Int32(_) => "class java.lang.Integer",
            Value::Int64(_) => "class java.lang.Long",
            Value::Float32(_) => "class java.lang.Float",
            Value::Float64(_) => "class java.lang.Double",
            Value::String(_) => "class java.lang.String",
            Value::Bytes(_) => "class [B",
            Value::Array(_) => "class java.util.ArrayList",
            Value::Map(_) => "class java.util.HashMap",
            Value::Struct(_) => "class org.apache.kafka.connect.data.Struct",
        }
    }

    /// The struct field `name` (`Struct.get(name)`), `None` if absent or not a struct.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Struct(fields) => fields.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Java's `toString()` of the value, as `FileStreamSink` prints it with `println(record.value())`:
/// strings as-is; numbers as Java prints them (`Float.toString`/`Double.toString`: `1.0`,
/// `1.0E10`, `NaN`, `Infinity`); `true`/`false`; `null`; arrays `[a, b]` (`AbstractCollection`);
/// maps `{k=v, k2=v2}` (`AbstractMap`); structs `Struct{a=1,b=x}` (Kafka's `Struct.toString`,
/// null fields omitted).
///
/// Deviations: **bytes print as base64** (Java would print a useless `[B@1b6d3586` identity);
/// logical values print their underlying number (Java prints a `java.util.Date`'s `toString()` or
/// a `BigDecimal`) because a `Value` carries no schema.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Boolean(b) => f.write_str(if *b { "true" } else { "false" }),
            Value::Int8(n) => write!(f, "{n}"),
            Value::Int16(n) => write!(f, "{n}"),
            Value::Int32(n) => write!(f, "{n}"),
            Value::Int64(n) => write!(f, "{n}"),
            Value::Float32(x) => f.write_str(&java_text::java_float(*x)),
            Value::Float64(x) => f.write_str(&java_text::java_double(*x)),
            Value::String(s) => f.write_str(s),
            Value::Bytes(b) => f.write_str(&java_text::base64(b)),
            Value::Array(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    fmt::Display::fmt(v, f)?;
                }
                f.write_str("]")
            }
            Value::Map(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}={v}")?;
                }
                f.write_str("}")
            }
            Value::Struct(fields) => {
                f.write_str("Struct{")?;
                let mut first = true;
                for (name, v) in fields {
                    if v.is_null() {
                        continue;
                    }
                    if !first {
                        f.write_str(",")?;
                    }
                    first = false;
                    write!(f, "{name}={v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// `SchemaAndValue`.
#[derive(Clone, Debug, PartialEq)]
pub struct SchemaAndValue {
    pub schema: Option<Schema>,
    pub value: Value,
}

impl SchemaAndValue {
    /// `SchemaAndValue.NULL`: no schema, null value.
    pub const NULL: SchemaAndValue = SchemaAndValue { schema: None, value: Value::Null };

    pub fn new(schema: Option<Schema>, value: Value) -> SchemaAndValue {
        SchemaAndValue { schema, value }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_primitives_like_java() {
        assert_eq!(Value::String("a b".into()).to_string(), "a b");
        assert_eq!(Value::Null.to_string(), "null");
        assert_eq!(Value::Boolean(true).to_string(), "true");
        assert_eq!(Value::Int8(-3).to_string(), "-3");
        assert_eq!(Value::Int64(i64::MIN).to_string(), "-9223372036854775808");
        assert_eq!(Value::Float64(1.0).to_string(), "1.0");
        assert_eq!(Value::Float64(0.1).to_string(), "0.1");
        assert_eq!(Value::Float64(1e10).to_string(), "1.0E10");
        assert_eq!(Value::Float64(1.5e-7).to_string(), "1.5E-7");
        assert_eq!(Value::Float64(1234567.0).to_string(), "1234567.0");
        assert_eq!(Value::Float64(12345678.0).to_string(), "1.2345678E7");
        assert_eq!(Value::Float64(0.001).to_string(), "0.001");
        assert_eq!(Value::Float64(0.0001).to_string(), "1.0E-4");
        assert_eq!(Value::Float64(-0.0).to_string(), "-0.0");
        assert_eq!(Value::Float64(f64::NAN).to_string(), "NaN");
        assert_eq!(Value::Float64(f64::NEG_INFINITY).to_string(), "-Infinity");
        assert_eq!(Value::Float32(0.1).to_string(), "0.1");
        assert_eq!(Value::Float32(3.4028235e38).to_string(), "3.4028235E38");
        assert_eq!(Value::Bytes(b"hi!".to_vec()).to_string(), "aGkh");
    }

    #[test]
    fn display_containers_like_java() {
        let arr = Value::Array(vec![Value::String("a".into()), Value::Int32(1), Value::Null]);
        assert_eq!(arr.to_string(), "[a, 1, null]");
        assert_eq!(Value::Array(vec![]).to_string(), "[]");
        let map = Value::Map(vec![
            (Value::String("k".into()), Value::Int32(1)),
            (Value::String("k2".into()), Value::String("v2".into())),
        ]);
        assert_eq!(map.to_string(), "{k=1, k2=v2}");
        let st = Value::Struct(vec![
            ("a".into(), Value::Int32(1)),
            ("gone".into(), Value::Null),
            ("b".into(), Value::String("x".into())),
            ("c".into(), Value::Array(vec![Value::Boolean(false), Value::Float64(2.5)])),
        ]);
        assert_eq!(st.to_string(), "Struct{a=1,b=x,c=[false, 2.5]}");
        assert_eq!(Value::Struct(vec![]).to_string(), "Struct{}");
    }

    #[test]
    fn schema_constructors() {
        assert_eq!(Schema::string(), Schema::of(Type::String));
        assert!(!Schema::string().optional);
        assert!(Schema::optional_bytes().optional);
        let s = Schema::map(Schema::string(), Schema::int32());
        assert_eq!(s.key.as_deref(), Some(&Schema::string()));
        assert_eq!(s.value.as_deref(), Some(&Schema::int32()));
        assert_eq!(Type::Float32.to_string(), "FLOAT32");
        assert_eq!(Schema::decimal(2, false).decimal_scale().unwrap(), 2);
    }
}
