//! Converters (`org.apache.kafka.connect.storage.Converter`) and header converters
//! (`HeaderConverter`): the traits, the factories by class name or alias, and the simple
//! converters. JsonConverter lives in [`super::json`].
//!
//! - StringConverter: `converter.encoding` UTF-8 (default), US-ASCII or ISO-8859-1 (Java's
//!   aliases accepted; unmappable characters become `?` as `String.getBytes` does); others are a
//!   `DataError`. Writes `value.toString()` ([`Value`]'s `Display`); reads an optional string
//!   schema. Deviation: bytes that are not valid in the encoding are a `DataError` (Java
//!   substitutes U+FFFD).
//! - ByteArrayConverter: pass-through, BYTES or no schema; reads an optional bytes schema.
//! - Short/Integer/Long/Float/Double converters: fixed-width big-endian (Kafka's serializers);
//!   read as the optional numeric schema. BooleanConverter: one byte 0/1, optional boolean.
//! - SimpleHeaderConverter: `Values.convertToString` / `Values.parseString` (see `values`).
//!   Deviation: header bytes that are not UTF-8 come back as BYTES (Java would decode them
//!   lossily and parse the result; its own fallback for unparsable input is BYTES too).

use std::collections::BTreeMap;

use super::json::JsonConverter;
use super::values;
use super::{Schema, SchemaAndValue, Type, Value};

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

// `from_*` names taking `&self` are Kafka's (fromConnectData, fromConnectHeader).
#[allow(clippy::wrong_self_convention)]
pub trait Converter: Send + Sync {
    /// Kafka Connect's fromConnectData: None means null bytes (tombstone).
    fn from_connect(&self, topic: &str, schema: Option<&Schema>, value: &Value) -> Result<Option<Vec<u8>>, DataError>;
    /// `from_connect` of a value the caller gives up: a converter that can reuse its buffer
    /// (a UTF-8 string, bytes) saves a copy on the hot path.
    fn from_connect_owned(
        &self,
        topic: &str,
        schema: Option<&Schema>,
        value: Value,
    ) -> Result<Option<Vec<u8>>, DataError> {
        self.from_connect(topic, schema, &value)
    }
    /// toConnectData: None bytes → SchemaAndValue{schema: None (or per converter), value: Null}.
    fn to_connect(&self, topic: &str, bytes: Option<&[u8]>) -> Result<SchemaAndValue, DataError>;
}

#[allow(clippy::wrong_self_convention)]
pub trait HeaderConverter: Send + Sync {
    fn from_connect_header(
        &self,
        topic: &str,
        key: &str,
        schema: Option<&Schema>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>, DataError>;
    fn to_connect_header(&self, topic: &str, key: &str, bytes: Option<&[u8]>) -> Result<SchemaAndValue, DataError>;
}

const JSON: &str = "org.apache.kafka.connect.json.JsonConverter";
const STRING: &str = "org.apache.kafka.connect.storage.StringConverter";
const BYTE_ARRAY: &str = "org.apache.kafka.connect.converters.ByteArrayConverter";
const SHORT: &str = "org.apache.kafka.connect.converters.ShortConverter";
const INTEGER: &str = "org.apache.kafka.connect.converters.IntegerConverter";
const LONG: &str = "org.apache.kafka.connect.converters.LongConverter";
const FLOAT: &str = "org.apache.kafka.connect.converters.FloatConverter";
const DOUBLE: &str = "org.apache.kafka.connect.converters.DoubleConverter";
const BOOLEAN: &str = "org.apache.kafka.connect.converters.BooleanConverter";
const SIMPLE_HEADER: &str = "org.apache.kafka.connect.storage.SimpleHeaderConverter";

/// The converter classes this crate provides (Java class names), for listings and messages.
pub const CONVERTER_CLASSES: &[&str] = &[JSON, STRING, BYTE_ARRAY, SHORT, INTEGER, LONG, FLOAT, DOUBLE, BOOLEAN];
/// The header converter classes this crate provides.
pub const HEADER_CONVERTER_CLASSES: &[&str] =
    &[SIMPLE_HEADER, JSON, STRING, BYTE_ARRAY, SHORT, INTEGER, LONG, FLOAT, DOUBLE, BOOLEAN];

/// Resolves a class name or alias (the simple name, or the simple name without its `Converter` /
/// `HeaderConverter` suffix, as Kafka's `PluginUtils` aliases) to one of `classes`.
fn resolve(class: &str, classes: &[&'static str], suffix: &str) -> Option<&'static str> {
    let class = class.trim();
    classes.iter().copied().find(|full| {
        let simple = full.rsplit('.').next().unwrap_or(full);
        let pruned = match simple.rfind(suffix) {
            Some(p) if p > 0 => &simple[..p],
            _ => simple,
        };
        class == *full || class == simple || class == pruned
    })
}

/// `class` is the Java class name or alias (org.apache.kafka.connect.json.JsonConverter / JsonConverter,
/// org.apache.kafka.connect.storage.StringConverter / StringConverter, org.apache.kafka.connect.converters.ByteArrayConverter / ByteArrayConverter;
/// optionally the numeric converters org.apache.kafka.connect.converters.{Short,Integer,Long,Float,Double,Boolean}Converter).
/// `config` holds the converter's sub-configs with the prefix already stripped (e.g. "schemas.enable" → "false", "converter.encoding").
/// `is_key` as in Kafka's configure(configs, isKey) (no built-in converter behaves differently for keys).
/// Unknown class → DataError with a clear message naming the class.
/// Bad config values (schemas.enable=maybe) → DataError.
pub fn converter(
    class: &str,
    config: &BTreeMap<String, String>,
    is_key: bool,
) -> Result<Box<dyn Converter>, DataError> {
    let _ = is_key;
    let Some(full) = resolve(class, CONVERTER_CLASSES, "Converter") else {
        return Err(DataError::new(format!(
            "Failed to find any class that implements Converter and which name matches {}, available converters are: {}",
            class.trim(),
            CONVERTER_CLASSES.join(", ")
        )));
    };
    Ok(match full {
        JSON => Box::new(JsonConverter::new(config)?),
        STRING => Box::new(StringConverter::new(config)?),
        BYTE_ARRAY => Box::new(ByteArrayConverter),
        BOOLEAN => Box::new(BooleanConverter),
        _ => Box::new(NumberConverter::for_class(full)),
    })
}

/// SimpleHeaderConverter (default), StringConverter, JsonConverter, ByteArrayConverter (and the
/// numeric/boolean converters) as header converters.
pub fn header_converter(class: &str, config: &BTreeMap<String, String>) -> Result<Box<dyn HeaderConverter>, DataError> {
    let Some(full) = resolve(class, HEADER_CONVERTER_CLASSES, "HeaderConverter")
        .or_else(|| resolve(class, HEADER_CONVERTER_CLASSES, "Converter"))
    else {
        return Err(DataError::new(format!(
            "Failed to find any class that implements HeaderConverter and which name matches {}, available header converters are: {}",
            class.trim(),
            HEADER_CONVERTER_CLASSES.join(", ")
        )));
    };
    Ok(match full {
        SIMPLE_HEADER => Box::new(SimpleHeaderConverter),
        JSON => Box::new(JsonConverter::new(config)?),
        STRING => Box::new(StringConverter::new(config)?),
        BYTE_ARRAY => Box::new(ByteArrayConverter),
        BOOLEAN => Box::new(BooleanConverter),
        _ => Box::new(NumberConverter::for_class(full)),
    })
}

/// A `ConfigDef` BOOLEAN: trimmed, case-insensitive `true`/`false`.
pub(crate) fn config_bool(config: &BTreeMap<String, String>, key: &str, default: bool) -> Result<bool, DataError> {
    match config.get(key) {
        None => Ok(default),
        Some(v) if v.trim().eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.trim().eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(DataError::new(format!(
            "Invalid value {v} for configuration {key}: Expected value to be either true or false"
        ))),
    }
}

/// A `ConfigDef` INT: trimmed `Integer.parseInt`.
pub(crate) fn config_int(config: &BTreeMap<String, String>, key: &str, default: i32) -> Result<i32, DataError> {
    match config.get(key) {
        None => Ok(default),
        Some(v) => v.trim().parse::<i32>().map_err(|_| {
            DataError::new(format!("Invalid value {v} for configuration {key}: Not a number of type INT"))
        }),
    }
}

macro_rules! header_via_converter {
    ($t:ty) => {
        impl HeaderConverter for $t {
            fn from_connect_header(
                &self,
                topic: &str,
                _key: &str,
                schema: Option<&Schema>,
                value: &Value,
            ) -> Result<Option<Vec<u8>>, DataError> {
                self.from_connect(topic, schema, value)
            }
            fn to_connect_header(
                &self,
                topic: &str,
                _key: &str,
                bytes: Option<&[u8]>,
            ) -> Result<SchemaAndValue, DataError> {
                self.to_connect(topic, bytes)
            }
        }
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Ascii,
    Latin1,
}

/// `org.apache.kafka.connect.storage.StringConverter`.
#[derive(Clone, Debug)]
pub struct StringConverter {
    encoding: Encoding,
}

impl StringConverter {
    pub fn new(config: &BTreeMap<String, String>) -> Result<StringConverter, DataError> {
        let encoding = match config.get("converter.encoding") {
            None => Encoding::Utf8,
            Some(name) => {
                let n = name.trim().to_ascii_lowercase();
                match n.as_str() {
                    "utf-8" | "utf8" | "unicode-1-1-utf-8" => Encoding::Utf8,
                    "us-ascii" | "ascii" | "us" | "iso646-us" | "ascii7" | "646" | "cp367" | "csascii" | "default"
                    | "ibm367" | "iso-ir-6" | "iso_646.irv:1983" | "ansi_x3.4-1968" | "ansi_x3.4-1986" => {
                        Encoding::Ascii
                    }
                    "iso-8859-1" | "iso8859-1" | "iso8859_1" | "iso_8859_1" | "iso_8859-1" | "iso_8859-1:1987"
                    | "latin1" | "l1" | "8859_1" | "cp819" | "ibm819" | "ibm-819" | "819" | "csisolatin1"
                    | "iso-ir-100" => Encoding::Latin1,
                    _ => return Err(DataError::new(format!("Unsupported encoding {name}"))),
                }
            }
        };
        Ok(StringConverter { encoding })
    }

    fn encode(&self, s: &str) -> Vec<u8> {
        match self.encoding {
            Encoding::Utf8 => s.as_bytes().to_vec(),
            Encoding::Ascii => s.chars().map(|c| if c.is_ascii() { c as u8 } else { b'?' }).collect(),
            Encoding::Latin1 => s.chars().map(|c| if (c as u32) < 0x100 { c as u32 as u8 } else { b'?' }).collect(),
        }
    }
}

impl Default for StringConverter {
    fn default() -> Self {
        StringConverter { encoding: Encoding::Utf8 }
    }
}

impl Converter for StringConverter {
    fn from_connect(
        &self,
        _topic: &str,
        _schema: Option<&Schema>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>, DataError> {
        Ok(match value {
            Value::Null => None,
            Value::String(s) => Some(self.encode(s)),
            other => Some(self.encode(&other.to_string())),
        })
    }

    fn from_connect_owned(
        &self,
        topic: &str,
        schema: Option<&Schema>,
        value: Value,
    ) -> Result<Option<Vec<u8>>, DataError> {
        match (value, self.encoding) {
            (Value::String(s), Encoding::Utf8) => Ok(Some(s.into_bytes())),
            (other, _) => self.from_connect(topic, schema, &other),
        }
    }

    fn to_connect(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<SchemaAndValue, DataError> {
        let value = match bytes {
            None => Value::Null,
            Some(b) => Value::String(match self.encoding {
                Encoding::Utf8 => std::str::from_utf8(b)
                    .map_err(|e| {
                        DataError::new(format!(
                            "Failed to deserialize string: invalid UTF-8 at byte {}",
                            e.valid_up_to()
                        ))
                    })?
                    .to_string(),
                Encoding::Ascii => {
                    if let Some(p) = b.iter().position(|c| !c.is_ascii()) {
                        return Err(DataError::new(format!(
                            "Failed to deserialize string: invalid US-ASCII at byte {p}"
                        )));
                    }
                    b.iter().map(|c| *c as char).collect()
                }
                Encoding::Latin1 => b.iter().map(|c| *c as char).collect(),
            }),
        };
        Ok(SchemaAndValue { schema: Some(Schema::optional_string()), value })
    }
}
header_via_converter!(StringConverter);

/// `org.apache.kafka.connect.converters.ByteArrayConverter`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ByteArrayConverter;

impl Converter for ByteArrayConverter {
    fn from_connect(&self, _topic: &str, schema: Option<&Schema>, value: &Value) -> Result<Option<Vec<u8>>, DataError> {
        if let Some(s) = schema {
            if s.ty != Type::Bytes {
                return Err(DataError::new(format!("Invalid schema type for ByteArrayConverter: {}", s.ty)));
            }
        }
        match value {
            Value::Null => Ok(None),
            Value::Bytes(b) => Ok(Some(b.clone())),
            other => Err(DataError::new(format!(
                "ByteArrayConverter is not compatible with objects of type {}",
                other.java_class()
            ))),
        }
    }

    fn to_connect(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<SchemaAndValue, DataError> {
        Ok(SchemaAndValue {
            schema: Some(Schema::optional_bytes()),
            value: bytes.map_or(Value::Null, |b| Value::Bytes(b.to_vec())),
        })
    }
}
header_via_converter!(ByteArrayConverter);

/// `NumberConverter` subclasses: Short/Integer/Long/Float/Double converters.
#[derive(Clone, Copy, Debug)]
pub struct NumberConverter {
    ty: Type,
}

impl NumberConverter {
    fn for_class(full: &str) -> NumberConverter {
        let ty = match full {
            SHORT => Type::Int16,
            INTEGER => Type::Int32,
            LONG => Type::Int64,
            FLOAT => Type::Float32,
            _ => Type::Float64,
        };
        NumberConverter { ty }
    }

    /// (typeName, deserializer name, width)
    fn names(&self) -> (&'static str, &'static str, usize) {
        match self.ty {
            Type::Int16 => ("short", "ShortDeserializer", 2),
            Type::Int32 => ("integer", "IntegerDeserializer", 4),
            Type::Int64 => ("long", "LongDeserializer", 8),
            Type::Float32 => ("float", "Deserializer", 4),
            _ => ("double", "DoubleDeserializer", 8),
        }
    }
}

impl Converter for NumberConverter {
    fn from_connect(
        &self,
        _topic: &str,
        _schema: Option<&Schema>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>, DataError> {
        Ok(Some(match (self.ty, value) {
            (_, Value::Null) => return Ok(None),
            (Type::Int16, Value::Int16(n)) => n.to_be_bytes().to_vec(),
            (Type::Int32, Value::Int32(n)) => n.to_be_bytes().to_vec(),
            (Type::Int64, Value::Int64(n)) => n.to_be_bytes().to_vec(),
            (Type::Float32, Value::Float32(n)) => n.to_bits().to_be_bytes().to_vec(),
            (Type::Float64, Value::Float64(n)) => n.to_bits().to_be_bytes().to_vec(),
            (_, other) => {
                return Err(DataError::new(format!(
                    "Failed to serialize to {} (was {}): ",
                    self.names().0,
                    other.java_class()
                )))
            }
        }))
    }

    fn to_connect(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<SchemaAndValue, DataError> {
        let schema = Some(Schema::optional(self.ty));
        let Some(b) = bytes else {
            return Ok(SchemaAndValue { schema, value: Value::Null });
        };
        let (type_name, deser, width) = self.names();
        if b.len() != width {
            return Err(DataError::new(format!(
                "Failed to deserialize {type_name}: Size of data received by {deser} is not {width}"
            )));
        }
        let value = match self.ty {
            Type::Int16 => Value::Int16(i16::from_be_bytes([b[0], b[1]])),
            Type::Int32 => Value::Int32(i32::from_be_bytes([b[0], b[1], b[2], b[3]])),
            Type::Int64 => Value::Int64(i64::from_be_bytes(b.try_into().unwrap_or([0; 8]))),
            Type::Float32 => Value::Float32(f32::from_bits(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))),
            _ => Value::Float64(f64::from_bits(u64::from_be_bytes(b.try_into().unwrap_or([0; 8])))),
        };
        Ok(SchemaAndValue { schema, value })
    }
}
header_via_converter!(NumberConverter);

/// `org.apache.kafka.connect.converters.BooleanConverter`.
#[derive(Clone, Copy, Debug, Default)]
pub struct BooleanConverter;

impl Converter for BooleanConverter {
    fn from_connect(&self, _topic: &str, schema: Option<&Schema>, value: &Value) -> Result<Option<Vec<u8>>, DataError> {
        if let Some(s) = schema {
            if s.ty != Type::Boolean {
                return Err(DataError::new(format!("Invalid schema type for BooleanConverter: {}", s.ty)));
            }
        }
        match value {
            Value::Null => Ok(None),
            Value::Boolean(b) => Ok(Some(vec![u8::from(*b)])),
            other => Err(DataError::new(format!(
                "BooleanConverter is not compatible with objects of type {}",
                other.java_class()
            ))),
        }
    }

    fn to_connect(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<SchemaAndValue, DataError> {
        let value = match bytes {
            None => Value::Null,
            Some([0]) => Value::Boolean(false),
            Some([1]) => Value::Boolean(true),
            Some([b]) => {
                return Err(DataError::new(format!(
                    "Failed to deserialize boolean: Unexpected byte received by BooleanDeserializer: {}",
                    *b as i8
                )))
            }
            Some(_) => {
                return Err(DataError::new(
                    "Failed to deserialize boolean: Size of data received by BooleanDeserializer is not 1",
                ))
            }
        };
        Ok(SchemaAndValue { schema: Some(Schema::optional(Type::Boolean)), value })
    }
}
header_via_converter!(BooleanConverter);

/// `org.apache.kafka.connect.storage.SimpleHeaderConverter` (the worker default).
#[derive(Clone, Copy, Debug, Default)]
pub struct SimpleHeaderConverter;

impl HeaderConverter for SimpleHeaderConverter {
    fn from_connect_header(
        &self,
        _topic: &str,
        _key: &str,
        schema: Option<&Schema>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>, DataError> {
        Ok(match value {
            Value::Null => None,
            Value::String(s) => Some(s.as_bytes().to_vec()),
            other => values::convert_to_string(schema, other).map(String::into_bytes),
        })
    }

    fn to_connect_header(&self, _topic: &str, _key: &str, bytes: Option<&[u8]>) -> Result<SchemaAndValue, DataError> {
        let Some(b) = bytes else {
            return Ok(SchemaAndValue::NULL);
        };
        Ok(match std::str::from_utf8(b) {
            Ok(s) => values::parse_string(s),
            Err(_) => SchemaAndValue { schema: Some(Schema::bytes()), value: Value::Bytes(b.to_vec()) },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Field;

    fn none() -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    fn cfg(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn factory_names_and_aliases() {
        for name in [
            "org.apache.kafka.connect.json.JsonConverter",
            "JsonConverter",
            "Json",
            "org.apache.kafka.connect.storage.StringConverter",
            "StringConverter",
            " org.apache.kafka.connect.converters.ByteArrayConverter ",
            "ByteArrayConverter",
            "org.apache.kafka.connect.converters.LongConverter",
            "IntegerConverter",
            "BooleanConverter",
        ] {
            assert!(converter(name, &none(), false).is_ok(), "{name}");
        }
        let e = converter("com.example.AvroConverter", &none(), false).err().unwrap();
        assert!(e.message.contains("com.example.AvroConverter"), "{}", e.message);
        assert!(e.message.starts_with("Failed to find any class that implements Converter and which name matches"));
        for name in [
            "org.apache.kafka.connect.storage.SimpleHeaderConverter",
            "SimpleHeaderConverter",
            "Simple",
            "JsonConverter",
            "StringConverter",
            "ByteArrayConverter",
        ] {
            assert!(header_converter(name, &none()).is_ok(), "{name}");
        }
        let e = header_converter("Nope", &none()).err().unwrap();
        assert!(e.message.contains("Nope"));
        let e = converter("JsonConverter", &cfg(&[("schemas.enable", "maybe")]), false).err().unwrap();
        assert_eq!(
            e.message,
            "Invalid value maybe for configuration schemas.enable: Expected value to be either true or false"
        );
        let e = converter("StringConverter", &cfg(&[("converter.encoding", "EBCDIC-42")]), true).err().unwrap();
        assert_eq!(e.message, "Unsupported encoding EBCDIC-42");
    }

    #[test]
    fn json_via_factory_round_trip() {
        let c = converter("JsonConverter", &none(), false).unwrap();
        let b = c.from_connect("t", Some(&Schema::string()), &Value::String("foo".into())).unwrap().unwrap();
        assert_eq!(b, br#"{"schema":{"type":"string","optional":false},"payload":"foo"}"#);
        let back = c.to_connect("t", Some(&b)).unwrap();
        assert_eq!(back, SchemaAndValue { schema: Some(Schema::string()), value: Value::String("foo".into()) });
        let c = converter("JsonConverter", &cfg(&[("schemas.enable", "false")]), true).unwrap();
        let b = c.from_connect("t", Some(&Schema::string()), &Value::String("foo".into())).unwrap().unwrap();
        assert_eq!(b, br#""foo""#);
        assert_eq!(
            c.to_connect("t", Some(&b)).unwrap(),
            SchemaAndValue { schema: None, value: Value::String("foo".into()) }
        );
        assert_eq!(c.to_connect("t", None).unwrap(), SchemaAndValue::NULL);
    }

    #[test]
    fn string_converter() {
        let c = converter("StringConverter", &none(), false).unwrap();
        assert_eq!(
            c.from_connect("t", Some(&Schema::string()), &Value::String("héllo".into())).unwrap().unwrap(),
            "héllo".as_bytes()
        );
        assert_eq!(c.from_connect("t", None, &Value::Null).unwrap(), None);
        assert_eq!(c.from_connect("t", None, &Value::Int32(42)).unwrap().unwrap(), b"42");
        assert_eq!(c.from_connect("t", None, &Value::Float64(1.0)).unwrap().unwrap(), b"1.0");
        let st = Value::Struct(vec![("a".into(), Value::Int32(1)), ("b".into(), Value::String("x".into()))]);
        assert_eq!(c.from_connect("t", None, &st).unwrap().unwrap(), b"Struct{a=1,b=x}");
        let back = c.to_connect("t", Some("héllo".as_bytes())).unwrap();
        assert_eq!(
            back,
            SchemaAndValue { schema: Some(Schema::optional_string()), value: Value::String("héllo".into()) }
        );
        assert_eq!(
            c.to_connect("t", None).unwrap(),
            SchemaAndValue { schema: Some(Schema::optional_string()), value: Value::Null }
        );
        assert!(c
            .to_connect("t", Some(b"\xff\xfe"))
            .unwrap_err()
            .message
            .starts_with("Failed to deserialize string: "));
        let l1 = converter("StringConverter", &cfg(&[("converter.encoding", "ISO-8859-1")]), false).unwrap();
        assert_eq!(l1.from_connect("t", None, &Value::String("é€".into())).unwrap().unwrap(), vec![0xE9, b'?']);
        assert_eq!(l1.to_connect("t", Some(&[0xE9])).unwrap().value, Value::String("é".into()));
        let utf8 = converter("StringConverter", &cfg(&[("converter.encoding", "utf8")]), false).unwrap();
        assert_eq!(utf8.to_connect("t", Some(b"x")).unwrap().value, Value::String("x".into()));
    }

    #[test]
    fn byte_array_converter() {
        let c = converter("ByteArrayConverter", &none(), false).unwrap();
        let v = Value::Bytes(vec![1, 2, 3]);
        assert_eq!(c.from_connect("t", Some(&Schema::bytes()), &v).unwrap().unwrap(), vec![1, 2, 3]);
        assert_eq!(c.from_connect("t", None, &v).unwrap().unwrap(), vec![1, 2, 3]);
        assert_eq!(c.from_connect("t", None, &Value::Null).unwrap(), None);
        let e = c.from_connect("t", Some(&Schema::string()), &Value::String("x".into())).unwrap_err();
        assert_eq!(e.message, "Invalid schema type for ByteArrayConverter: STRING");
        let e = c.from_connect("t", None, &Value::String("x".into())).unwrap_err();
        assert_eq!(e.message, "ByteArrayConverter is not compatible with objects of type class java.lang.String");
        assert_eq!(
            c.to_connect("t", Some(&[9])).unwrap(),
            SchemaAndValue { schema: Some(Schema::optional_bytes()), value: Value::Bytes(vec![9]) }
        );
        assert_eq!(
            c.to_connect("t", None).unwrap(),
            SchemaAndValue { schema: Some(Schema::optional_bytes()), value: Value::Null }
        );
    }

    #[test]
    fn number_and_boolean_converters() {
        let cases: Vec<(&str, Value, Vec<u8>, Type)> = vec![
            ("ShortConverter", Value::Int16(-2), vec![0xFF, 0xFE], Type::Int16),
            ("IntegerConverter", Value::Int32(258), vec![0, 0, 1, 2], Type::Int32),
            ("LongConverter", Value::Int64(1), vec![0, 0, 0, 0, 0, 0, 0, 1], Type::Int64),
            ("FloatConverter", Value::Float32(1.0), vec![0x3F, 0x80, 0, 0], Type::Float32),
            ("DoubleConverter", Value::Float64(2.0), vec![0x40, 0, 0, 0, 0, 0, 0, 0], Type::Float64),
            ("BooleanConverter", Value::Boolean(true), vec![1], Type::Boolean),
        ];
        for (name, v, bytes, ty) in cases {
            let c = converter(name, &none(), false).unwrap();
            assert_eq!(c.from_connect("t", None, &v).unwrap().unwrap(), bytes, "{name}");
            assert_eq!(
                c.to_connect("t", Some(&bytes)).unwrap(),
                SchemaAndValue { schema: Some(Schema::optional(ty)), value: v },
                "{name}"
            );
            assert_eq!(c.from_connect("t", None, &Value::Null).unwrap(), None);
            assert_eq!(c.to_connect("t", None).unwrap().value, Value::Null);
        }
        let c = converter("IntegerConverter", &none(), false).unwrap();
        assert_eq!(
            c.from_connect("t", None, &Value::Int64(1)).unwrap_err().message,
            "Failed to serialize to integer (was class java.lang.Long): "
        );
        assert_eq!(
            c.to_connect("t", Some(&[1, 2])).unwrap_err().message,
            "Failed to deserialize integer: Size of data received by IntegerDeserializer is not 4"
        );
        let b = converter("BooleanConverter", &none(), false).unwrap();
        assert_eq!(
            b.from_connect("t", Some(&Schema::int32()), &Value::Boolean(true)).unwrap_err().message,
            "Invalid schema type for BooleanConverter: INT32"
        );
        assert!(b.to_connect("t", Some(&[2])).is_err());
    }

    #[test]
    fn simple_header_converter() {
        let h = header_converter("SimpleHeaderConverter", &none()).unwrap();
        let round = |schema: Option<&Schema>, v: Value| {
            let b = h.from_connect_header("t", "k", schema, &v).unwrap();
            h.to_connect_header("t", "k", b.as_deref()).unwrap()
        };
        assert_eq!(
            round(Some(&Schema::string()), Value::String("hello".into())),
            SchemaAndValue { schema: Some(Schema::string()), value: Value::String("hello".into()) }
        );
        assert_eq!(
            round(Some(&Schema::int32()), Value::Int32(42)),
            SchemaAndValue { schema: Some(Schema::of(Type::Int8)), value: Value::Int8(42) }
        );
        assert_eq!(round(Some(&Schema::int64()), Value::Int64(1 << 40)).value, Value::Int64(1 << 40));
        assert_eq!(round(None, Value::Boolean(false)).value, Value::Boolean(false));
        assert_eq!(
            round(None, Value::Float64(2.5)),
            SchemaAndValue { schema: Some(Schema::of(Type::Float32)), value: Value::Float32(2.5) }
        );
        assert_eq!(round(None, Value::Null), SchemaAndValue::NULL);
        assert_eq!(h.from_connect_header("t", "k", None, &Value::Int16(-5)).unwrap().unwrap(), b"-5");
        let schema = Schema::structure(vec![Field::new("a", Schema::int32())]);
        assert_eq!(
            h.from_connect_header("t", "k", Some(&schema), &Value::Struct(vec![("a".into(), Value::Int32(1))]))
                .unwrap()
                .unwrap(),
            br#"{"a":1}"#
        );
        assert_eq!(
            h.to_connect_header("t", "k", Some(b"\xff")).unwrap(),
            SchemaAndValue { schema: Some(Schema::bytes()), value: Value::Bytes(vec![0xFF]) }
        );
        assert_eq!(h.to_connect_header("t", "k", Some(b"null")).unwrap(), SchemaAndValue::NULL);
        // Other converters work as header converters too.
        let j = header_converter("JsonConverter", &cfg(&[("schemas.enable", "false")])).unwrap();
        assert_eq!(j.from_connect_header("t", "k", None, &Value::Int32(3)).unwrap().unwrap(), b"3");
        assert_eq!(j.to_connect_header("t", "k", Some(b"3")).unwrap().value, Value::Int64(3));
        let s = header_converter("StringConverter", &none()).unwrap();
        assert_eq!(s.to_connect_header("t", "k", Some(b"3")).unwrap().value, Value::String("3".into()));
    }

    /// Measured ≈ 25–30 ns/record (release, 60-byte line: one allocation + copy). Run:
    /// `cargo test --release --lib data::convert::tests::bench -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bench_string_converter() {
        let c = converter("StringConverter", &none(), false).unwrap();
        let line = Value::String("a typical FileStreamSource line of some 60 bytes of text....".into());
        let n = 2_000_000;
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(c.from_connect("t", None, std::hint::black_box(&line)).unwrap());
        }
        println!("StringConverter from_connect: {:.1} ns/record", t.elapsed().as_nanos() as f64 / n as f64);
    }
}
