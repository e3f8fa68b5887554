//! `org.apache.kafka.connect.json.JsonConverter`.
//!
//! Output is byte for byte what Kafka's converter writes through Jackson's `ObjectMapper`:
//! compact, object members in the order `JsonConverter.asJsonSchema` / `convertToJson` insert
//! them, strings escaped as Jackson escapes them (`\"`, `\\`, `\b \t \n \f \r`, other control
//! characters as `\u00XX` with upper-case hex, nothing else), floats as Java's
//! `Float.toString`/`Double.toString` (`1.0`, `1.0E10`; NaN/Infinity as quoted strings, as
//! Jackson's default `QUOTE_NON_NUMERIC_NUMBERS`), bytes as padded standard base64.
//!
//! Schema JSON member order (from `asJsonSchema`): `type`, then `items` (array) or `keys`,
//! `values` (map) or `fields` (struct), then `optional`, `name`, `version`, `doc`, `parameters`,
//! `default`. A struct field entry is the field schema's object with `"field":"<name>"` appended
//! last (`asJsonSchema(field.schema()).deepCopy().put("field", name)`), e.g.
//! `{"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"ts"}`.
//!
//! The common envelopes of plain primitive schemas are precomputed (`{"schema":{"type":"string",
//! "optional":false},"payload":`), so the source path writes straight into one `Vec<u8>`;
//! no JSON tree is built in either direction except the parsed input. `schemas.cache.size` is
//! validated and otherwise unused: there is no per-schema cache to bound. On the read side an
//! envelope in exactly that compact primitive form skips the schema parse (only the payload is
//! parsed); every other input takes the general path, with the same result.
//!
//! Measured (release, `bench_string_envelope` below, 60-byte line, 2-core VM with a concurrent
//! build): string envelope `from_connect` ≈ 45–57 ns/record, `to_connect` ≈ 115 ns/record
//! (≈ 400 ns without the fast path); a 2-field struct with a Timestamp field `from_connect`
//! ≈ 230 ns/record (its schema JSON is rebuilt per record).
//!
//! Reading (`to_connect`) follows Kafka's Jackson setup: leading zeros allowed, content after the
//! first root value ignored (Jackson's default `FAIL_ON_TRAILING_TOKENS=false`; a root number or
//! literal must still be followed by whitespace), empty or blank input is Jackson's
//! `MissingNode`, nesting deeper than 1000 is refused, floats are kept exact (Kafka's
//! `USE_BIG_DECIMAL_FOR_FLOATS`). Jackson's lenient node accessors are kept: a payload of the wrong
//! JSON type for a primitive schema reads as Kafka reads it (`intValue()` of a string is 0,
//! `textValue()` of a number is null, …). Logical types stay in their underlying representation
//! (see the `data` module docs) instead of `java.util.Date` / `BigDecimal`.

use std::collections::BTreeMap;

mod parser;
#[cfg(test)]
mod tests;

use super::header_via_converter;
use parser::{dedup_members, int_value, is_int, is_integral, long_value, parse_root, JsonNode, Parser};

use super::{Converter, DataError, HeaderConverter};
use crate::data::java_text as text;
use crate::data::{
    Schema, SchemaAndValue, Type, Value, DATE_LOGICAL_NAME, DECIMAL_LOGICAL_NAME, TIMESTAMP_LOGICAL_NAME,
    TIME_LOGICAL_NAME,
};
use crate::plugin::config_def::{key, Check, Config, ConfigKey, ConfigType, DefaultValue, Importance};
use crate::plugin::registry::{Factory, Plugin, PluginType, KAFKA_VERSION};

/// `JsonConverterConfig`.
pub const KEYS: &[ConfigKey] = &[
    key(
        "schemas.enable",
        ConfigType::Boolean,
        DefaultValue::Value("true"),
        Check::None,
        Importance::High,
        Some("Schemas"),
        1,
        "Enable Schemas",
        "Include schemas within each of the serialized values and keys.",
    ),
    key(
        "schemas.cache.size",
        ConfigType::Int,
        DefaultValue::Value("1000"),
        Check::None,
        Importance::High,
        Some("Schemas"),
        2,
        "Schema Cache Size",
        "The maximum number of schemas that can be cached in this converter instance.",
    ),
    key(
        "replace.null.with.default",
        ConfigType::Boolean,
        DefaultValue::Value("true"),
        Check::None,
        Importance::Low,
        Some("Schemas"),
        3,
        "Replace null with default",
        "Whether to replace fields that have a default value and that are null to the default value.",
    ),
];

const CLASS: &str = "org.apache.kafka.connect.json.JsonConverter";

pub const CONVERTER: Plugin = Plugin {
    class: CLASS,
    aliases: &["JsonConverter", "Json"],
    ty: PluginType::Converter,
    version: KAFKA_VERSION,
    config: KEYS,
    factory: Factory::Converter(|c, _| Ok(Box::new(JsonConverter::new(c)?))),
};

pub const HEADER_CONVERTER: Plugin = Plugin {
    class: CLASS,
    aliases: &["JsonConverter", "Json"],
    ty: PluginType::HeaderConverter,
    version: KAFKA_VERSION,
    config: KEYS,
    factory: Factory::HeaderConverter(|c| Ok(Box::new(JsonConverter::new(c)?))),
};

/// `JsonConverterConfig.DecimalFormat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecimalFormat {
    /// Decimals as base64 of the unscaled two's complement bytes (the default).
    Base64,
    /// Decimals as JSON numbers (`BigDecimal.toString()`).
    Numeric,
}

const ENVELOPE_ERROR: &str = "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.";
const DESERIALIZE_ERROR: &str = "Converting byte[] to Kafka Connect data failed due to serialization error: ";
const MAX_DEPTH: usize = 1000;

/// `JsonConverter` (also a header converter, as in Kafka).
#[derive(Clone, Debug)]
pub struct JsonConverter {
    schemas_enable: bool,
    decimal_format: DecimalFormat,
    replace_null_with_default: bool,
    schemas_cache_size: i32,
}

impl Default for JsonConverter {
    fn default() -> Self {
        JsonConverter {
            schemas_enable: true,
            decimal_format: DecimalFormat::Base64,
            replace_null_with_default: true,
            schemas_cache_size: 1000,
        }
    }
}

impl JsonConverter {
    /// Configures from the converter's sub-configs (prefix stripped): `schemas.enable`,
    /// `schemas.cache.size`, `decimal.format`, `replace.null.with.default`, with Kafka's
    /// `ConfigException` messages for bad values.
    pub fn new(config: &BTreeMap<String, String>) -> Result<JsonConverter, DataError> {
        let decimal_format = match config.get("decimal.format") {
            None => DecimalFormat::Base64,
            Some(v) if v.eq_ignore_ascii_case("BASE64") => DecimalFormat::Base64,
            Some(v) if v.eq_ignore_ascii_case("NUMERIC") => DecimalFormat::Numeric,
            Some(v) => {
                return Err(DataError::new(format!(
                    "Invalid value {v} for configuration decimal.format: String must be one of (case insensitive): BASE64, NUMERIC"
                )))
            }
        };
        let declared = Config::new(KEYS, config);
        Ok(JsonConverter {
            schemas_enable: declared.boolean("schemas.enable")?,
            schemas_cache_size: declared.int("schemas.cache.size")?,
            decimal_format,
            replace_null_with_default: declared.boolean("replace.null.with.default")?,
        })
    }

    /// A converter with defaults except `schemas.enable`.
    pub fn with_schemas(schemas_enable: bool) -> JsonConverter {
        JsonConverter { schemas_enable, ..JsonConverter::default() }
    }

    pub fn schemas_enabled(&self) -> bool {
        self.schemas_enable
    }

    pub fn schemas_cache_size(&self) -> i32 {
        self.schemas_cache_size
    }

    /// `asJsonSchema(schema)` serialized.
    pub fn schema_json(&self, schema: &Schema) -> Result<Vec<u8>, DataError> {
        let mut out = Vec::with_capacity(64);
        self.write_schema(&mut out, schema)?;
        Ok(out)
    }

    /// `fromConnectData` into a caller's buffer (appends; returns false for a null result, i.e.
    /// no schema and a null value). Lets a hot loop reuse one allocation.
    pub fn write_connect_data(
        &self,
        out: &mut Vec<u8>,
        schema: Option<&Schema>,
        value: &Value,
    ) -> Result<bool, DataError> {
        if schema.is_none() && value.is_null() {
            return Ok(false);
        }
        if self.schemas_enable {
            match schema {
                Some(s) if s.is_plain_primitive() => out.extend_from_slice(envelope_prefix(s.ty, s.optional)),
                Some(s) => {
                    out.extend_from_slice(b"{\"schema\":");
                    self.write_schema(out, s)?;
                    out.extend_from_slice(b",\"payload\":");
                }
                None => out.extend_from_slice(b"{\"schema\":null,\"payload\":"),
            }
            self.write_value(out, schema, value, 0)?;
            out.push(b'}');
        } else {
            self.write_value(out, schema, value, 0)?;
        }
        Ok(true)
    }

    fn write_schema(&self, out: &mut Vec<u8>, schema: &Schema) -> Result<(), DataError> {
        if schema.is_plain_primitive() {
            out.extend_from_slice(plain_schema_json(schema.ty, schema.optional));
            return Ok(());
        }
        out.push(b'{');
        self.write_schema_members(out, schema)?;
        out.push(b'}');
        Ok(())
    }

    fn write_schema_members(&self, out: &mut Vec<u8>, schema: &Schema) -> Result<(), DataError> {
        out.extend_from_slice(b"\"type\":\"");
        out.extend_from_slice(json_type_name(schema.ty).as_bytes());
        out.push(b'"');
        match schema.ty {
            Type::Array => {
                out.extend_from_slice(b",\"items\":");
                self.write_opt_schema(out, schema.value.as_deref())?;
            }
            Type::Map => {
                out.extend_from_slice(b",\"keys\":");
                self.write_opt_schema(out, schema.key.as_deref())?;
                out.extend_from_slice(b",\"values\":");
                self.write_opt_schema(out, schema.value.as_deref())?;
            }
            Type::Struct => {
                out.extend_from_slice(b",\"fields\":[");
                for (i, field) in schema.fields.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.push(b'{');
                    self.write_schema_members(out, &field.schema)?;
                    out.extend_from_slice(b",\"field\":");
                    write_json_string(out, &field.name);
                    out.push(b'}');
                }
                out.push(b']');
            }
            _ => {}
        }
        out.extend_from_slice(if schema.optional { b",\"optional\":true" } else { b",\"optional\":false" });
        if let Some(name) = &schema.name {
            out.extend_from_slice(b",\"name\":");
            write_json_string(out, name);
        }
        if let Some(v) = schema.version {
            out.extend_from_slice(b",\"version\":");
            write_i64(out, v as i64);
        }
        if let Some(doc) = &schema.doc {
            out.extend_from_slice(b",\"doc\":");
            write_json_string(out, doc);
        }
        if let Some(params) = &schema.parameters {
            out.extend_from_slice(b",\"parameters\":{");
            for (i, (k, v)) in params.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json_string(out, k);
                out.push(b':');
                write_json_string(out, v);
            }
            out.push(b'}');
        }
        if let Some(d) = schema.default_value() {
            out.extend_from_slice(b",\"default\":");
            self.write_value(out, Some(schema), d, 0)?;
        }
        Ok(())
    }

    fn write_opt_schema(&self, out: &mut Vec<u8>, schema: Option<&Schema>) -> Result<(), DataError> {
        match schema {
            Some(s) => self.write_schema(out, s),
            None => {
                out.extend_from_slice(b"null");
                Ok(())
            }
        }
    }

    /// `convertToJson(schema, value)`.
    fn write_value(
        &self,
        out: &mut Vec<u8>,
        schema: Option<&Schema>,
        value: &Value,
        depth: usize,
    ) -> Result<(), DataError> {
        if depth > MAX_DEPTH {
            return Err(DataError::new(format!("Value nesting depth exceeds the maximum allowed ({MAX_DEPTH})")));
        }
        if value.is_null() {
            return self.write_null(out, schema, depth);
        }
        let ty = match schema {
            Some(s) => {
                if s.name.is_some() && self.write_logical(out, s, value)? {
                    return Ok(());
                }
                s.ty
            }
            None => value_type(value),
        };
        match (ty, value) {
            (Type::Int8, Value::Int8(n)) => write_i64(out, *n as i64),
            (Type::Int16, Value::Int16(n)) => write_i64(out, *n as i64),
            (Type::Int32, Value::Int32(n)) => write_i64(out, *n as i64),
            (Type::Int64, Value::Int64(n)) => write_i64(out, *n),
            (Type::Float32, Value::Float32(x)) => write_java_number(out, x.is_finite(), &text::java_float(*x)),
            (Type::Float64, Value::Float64(x)) => write_java_number(out, x.is_finite(), &text::java_double(*x)),
            (Type::Boolean, Value::Boolean(b)) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            (Type::String, Value::String(s)) => write_json_string(out, s),
            (Type::Bytes, Value::Bytes(b)) => {
                out.push(b'"');
                text::base64_into(b, out);
                out.push(b'"');
            }
            (Type::Array, Value::Array(items)) => self.write_array(out, schema, items, depth)?,
            (Type::Map, Value::Map(entries)) => self.write_map(out, schema, entries, depth)?,
            (Type::Struct, Value::Struct(fields)) => self.write_struct(out, schema, fields, depth)?,
            (ty, v) => return Err(type_error(ty, v)),
        }
        Ok(())
    }

    fn write_null(&self, out: &mut Vec<u8>, schema: Option<&Schema>, depth: usize) -> Result<(), DataError> {
        let Some(s) = schema else {
            out.extend_from_slice(b"null");
            return Ok(());
        };
        if let (Some(d), true) = (s.default_value(), self.replace_null_with_default) {
            return self.write_value(out, Some(s), d, depth + 1);
        }
        if s.optional {
            out.extend_from_slice(b"null");
            return Ok(());
        }
        Err(DataError::new("Conversion error: null value for field that is required and has no default value"))
    }

    /// The logical converters' `toJson`; false when the schema's name is not a logical type.
    #[inline(never)]
    fn write_logical(&self, out: &mut Vec<u8>, s: &Schema, value: &Value) -> Result<bool, DataError> {
        let Some(name) = s.logical_name() else { return Ok(false) };
        match name {
            DECIMAL_LOGICAL_NAME => {
                let Value::Bytes(b) = value else {
                    return Err(DataError::new(format!(
                        "Invalid type for Decimal, expected BigDecimal but was {}",
                        value.java_class()
                    )));
                };
                match self.decimal_format {
                    DecimalFormat::Numeric => {
                        let scale = s.decimal_scale()?;
                        out.extend_from_slice(text::big_decimal_string(b, scale).as_bytes());
                    }
                    DecimalFormat::Base64 => {
                        out.push(b'"');
                        text::base64_into(&text::normalize_twos_complement(b), out);
                        out.push(b'"');
                    }
                }
            }
            DATE_LOGICAL_NAME | TIME_LOGICAL_NAME | TIMESTAMP_LOGICAL_NAME => match (name, value) {
                (TIMESTAMP_LOGICAL_NAME, Value::Int64(n)) => write_i64(out, *n),
                (DATE_LOGICAL_NAME | TIME_LOGICAL_NAME, Value::Int32(n)) => write_i64(out, *n as i64),
                _ => {
                    let what = match name {
                        DATE_LOGICAL_NAME => "Date",
                        TIME_LOGICAL_NAME => "Time",
                        _ => "Timestamp",
                    };
                    return Err(DataError::new(format!(
                        "Invalid type for {what}, expected Date but was {}",
                        value.java_class()
                    )));
                }
            },
            _ => return Ok(false),
        }
        Ok(true)
    }

    #[inline(never)]
    fn write_array(
        &self,
        out: &mut Vec<u8>,
        schema: Option<&Schema>,
        items: &[Value],
        depth: usize,
    ) -> Result<(), DataError> {
        let item_schema = schema.and_then(|s| s.value.as_deref());
        out.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            self.write_value(out, item_schema, item, depth + 1)?;
        }
        out.push(b']');
        Ok(())
    }

    #[inline(never)]
    fn write_map(
        &self,
        out: &mut Vec<u8>,
        schema: Option<&Schema>,
        entries: &[(Value, Value)],
        depth: usize,
    ) -> Result<(), DataError> {
        let key_schema = schema.and_then(|s| s.key.as_deref());
        let value_schema = schema.and_then(|s| s.value.as_deref());
        let object_mode = match key_schema {
            Some(k) => k.ty == Type::String,
            None => schema.is_some() || entries.iter().all(|(k, _)| matches!(k, Value::String(_))),
        };
        if !object_mode {
            out.push(b'[');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.push(b'[');
                self.write_value(out, key_schema, k, depth + 1)?;
                out.push(b',');
                self.write_value(out, value_schema, v, depth + 1)?;
                out.push(b']');
            }
            out.push(b']');
            return Ok(());
        }
        out.push(b'{');
        for (i, (k, v)) in entries.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match k {
                Value::String(s) => write_json_string(out, s),
                Value::Null => {
                    // convertToJson(keySchema, null) → NullNode, whose asText() is "null".
                    self.write_null(&mut Vec::new(), key_schema, depth + 1)?;
                    write_json_string(out, "null");
                }
                other => return Err(type_error(Type::String, other)),
            }
            out.push(b':');
            self.write_value(out, value_schema, v, depth + 1)?;
        }
        out.push(b'}');
        Ok(())
    }

    #[inline(never)]
    fn write_struct(
        &self,
        out: &mut Vec<u8>,
        schema: Option<&Schema>,
        fields: &[(String, Value)],
        depth: usize,
    ) -> Result<(), DataError> {
        out.push(b'{');
        let Some(s) = schema else {
            // Kafka's Struct always has a schema; a schemaless struct value is written as an
            // object of its fields.
            for (i, (n, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json_string(out, n);
                out.push(b':');
                self.write_value(out, None, v, depth + 1)?;
            }
            out.push(b'}');
            return Ok(());
        };
        if fields.len() > s.fields.len() {
            return Err(DataError::new("Mismatching schema."));
        }
        let mut found = 0;
        for (i, f) in s.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let v = match fields.get(i) {
                Some((n, v)) if *n == f.name => Some(v),
                _ => fields.iter().find(|(n, _)| *n == f.name).map(|(_, v)| v),
            };
            if v.is_some() {
                found += 1;
            }
            write_json_string(out, &f.name);
            out.push(b':');
            self.write_value(out, Some(&f.schema), v.unwrap_or(&Value::Null), depth + 1)?;
        }
        if found < fields.len() {
            return Err(DataError::new("Mismatching schema."));
        }
        out.push(b'}');
        Ok(())
    }

    /// `toConnectData`.
    fn read(&self, bytes: Option<&[u8]>) -> Result<SchemaAndValue, DataError> {
        let Some(bytes) = bytes else {
            return Ok(SchemaAndValue::NULL);
        };
        if self.schemas_enable {
            if let Some(sv) = self.read_compact_primitive_envelope(bytes) {
                return sv;
            }
        }
        let root = parse_root(bytes).map_err(|e| DataError::new(format!("{DESERIALIZE_ERROR}{e}")))?;
        if !self.schemas_enable {
            return match root {
                None => Ok(SchemaAndValue::NULL),
                Some(j) => Ok(SchemaAndValue { schema: None, value: self.to_connect_value(None, Some(&j))? }),
            };
        }
        let Some(JsonNode::Obj(members)) = root else {
            return Err(DataError::new(ENVELOPE_ERROR));
        };
        let (mut schema_j, mut payload_j) = (None, None);
        for (k, v) in &members {
            match k.as_ref() {
                "schema" => schema_j = Some(v),
                "payload" => payload_j = Some(v),
                _ => return Err(DataError::new(ENVELOPE_ERROR)),
            }
        }
        let (Some(schema_j), Some(payload_j)) = (schema_j, payload_j) else {
            return Err(DataError::new(ENVELOPE_ERROR));
        };
        let schema = self.as_connect_schema(schema_j, 0)?;
        let value = self.to_connect_value(schema.as_ref(), Some(payload_j))?;
        Ok(SchemaAndValue { schema, value })
    }

    /// The sink-side fast path: an envelope exactly as `from_connect` (and Kafka) writes it for a
    /// plain primitive schema, `{"schema":{"type":"string","optional":false},"payload":…}`. Only
    /// the payload is parsed; any other shape (whitespace, member order, metadata) returns `None`
    /// and takes the general path, which gives the same result.
    fn read_compact_primitive_envelope(&self, bytes: &[u8]) -> Option<Result<SchemaAndValue, DataError>> {
        let rest = bytes.strip_prefix(b"{\"schema\":{\"type\":\"")?;
        let q = rest.iter().position(|c| *c == b'"')?;
        let ty = match &rest[..q] {
            b"string" => Type::String,
            b"int64" => Type::Int64,
            b"int32" => Type::Int32,
            b"bytes" => Type::Bytes,
            b"boolean" => Type::Boolean,
            b"double" => Type::Float64,
            b"float" => Type::Float32,
            b"int16" => Type::Int16,
            b"int8" => Type::Int8,
            _ => return None,
        };
        let rest = rest[q..].strip_prefix(b"\",\"optional\":")?;
        let (optional, rest) = match rest.strip_prefix(b"false") {
            Some(r) => (false, r),
            None => (true, rest.strip_prefix(b"true")?),
        };
        let rest = rest.strip_prefix(b"},\"payload\":")?;
        let start = bytes.len() - rest.len();
        let mut p = Parser { b: bytes, i: start, depth: 1 };
        p.skip_ws();
        let payload = p.value().ok()?;
        p.skip_ws();
        if p.b.get(p.i) != Some(&b'}') {
            return None;
        }
        let schema = if optional { Schema::optional(ty) } else { Schema::of(ty) };
        Some(
            self.to_connect_value(Some(&schema), Some(&payload))
                .map(|value| SchemaAndValue { schema: Some(schema), value }),
        )
    }

    /// `asConnectSchema(jsonSchema)`.
    fn as_connect_schema(&self, j: &JsonNode, depth: usize) -> Result<Option<Schema>, DataError> {
        Ok(self.schema_box(j, depth)?.map(|b| *b))
    }

    // The recursive path is kept to small frames so that 1000 nested schemas fit a 2 MiB stack
    // even in unoptimized builds.
    fn schema_box(&self, j: &JsonNode, depth: usize) -> Result<Option<Box<Schema>>, DataError> {
        if matches!(j, JsonNode::Null) {
            return Ok(None);
        }
        if depth > MAX_DEPTH {
            return Err(DataError::new(format!("Schema nesting depth exceeds the maximum allowed ({MAX_DEPTH})")));
        }
        let mut schema = new_schema_box(schema_type(j)?);
        match schema.ty {
            Type::Array => schema.value = self.array_items_schema(j, depth)?,
            Type::Map => self.map_schemas(j, &mut schema, depth)?,
            Type::Struct => schema.fields = self.struct_fields(j, depth)?,
            _ => {}
        }
        self.schema_metadata(j, &mut schema)?;
        Ok(Some(schema))
    }

    #[inline(never)]
    fn array_items_schema(&self, j: &JsonNode, depth: usize) -> Result<Option<Box<Schema>>, DataError> {
        match j.get("items") {
            None | Some(JsonNode::Null) => Err(DataError::new("Array schema did not specify the element type")),
            Some(items) => self.schema_box(items, depth + 1),
        }
    }

    #[inline(never)]
    fn map_schemas(&self, j: &JsonNode, schema: &mut Schema, depth: usize) -> Result<(), DataError> {
        let keys = j.get("keys").ok_or_else(|| DataError::new("Map schema did not specify the key type"))?;
        let values = j.get("values").ok_or_else(|| DataError::new("Map schema did not specify the value type"))?;
        schema.key = self.schema_box(keys, depth + 1)?;
        schema.value = self.schema_box(values, depth + 1)?;
        Ok(())
    }

    #[inline(never)]
    fn struct_fields(&self, j: &JsonNode, depth: usize) -> Result<Vec<crate::data::Field>, DataError> {
        let Some(JsonNode::Arr(fields)) = j.get("fields") else {
            return Err(DataError::new("Struct schema's \"fields\" argument is not an array."));
        };
        let mut out: Vec<crate::data::Field> = Vec::with_capacity(fields.len());
        for f in fields {
            let name = match f.get("field") {
                Some(JsonNode::Str(s)) => s.to_string(),
                _ => return Err(DataError::new("Struct schema's field name not specified properly")),
            };
            if out.iter().any(|x| x.name == name) {
                return Err(DataError::new(format!("Cannot create field because of field name duplication {name}")));
            }
            let Some(fs) = self.schema_box(f, depth + 1)? else {
                return Err(DataError::new("Struct schema's field name not specified properly"));
            };
            out.push(crate::data::Field { name, schema: *fs });
        }
        Ok(out)
    }

    /// `optional`, `name`, `version`, `doc`, `parameters`, `default`.
    #[inline(never)]
    fn schema_metadata(&self, j: &JsonNode, schema: &mut Schema) -> Result<(), DataError> {
        schema.optional = matches!(j.get("optional"), Some(JsonNode::Bool(true)));
        if let Some(JsonNode::Str(n)) = j.get("name") {
            schema.name = Some(n.to_string());
        }
        if let Some(JsonNode::Num(n)) = j.get("version") {
            if is_integral(n) {
                schema.version = Some(int_value(n));
            }
        }
        if let Some(JsonNode::Str(d)) = j.get("doc") {
            schema.doc = Some(d.to_string());
        }
        if let Some(JsonNode::Obj(params)) = j.get("parameters") {
            let mut map = BTreeMap::new();
            for (k, v) in params {
                let JsonNode::Str(v) = v else {
                    return Err(DataError::new("Schema parameters must have string values."));
                };
                map.insert(k.to_string(), v.to_string());
            }
            schema.parameters = Some(map);
        }
        if let Some(d) = j.get("default") {
            let v = self.to_connect_value(Some(schema), Some(d))?;
            if !v.is_null() {
                schema.default = Some(Box::new(v));
            }
        }
        Ok(())
    }

    /// `convertToConnect(schema, jsonValue)`; `None` is a missing node.
    fn to_connect_value(&self, schema: Option<&Schema>, j: Option<&JsonNode>) -> Result<Value, DataError> {
        let Some(s) = schema else {
            return infer_value(j);
        };
        let j = match j {
            None | Some(JsonNode::Null) => return self.null_to_connect(s),
            Some(j) => j,
        };
        if s.name.is_some() {
            if let Some(v) = logical_to_connect(s, j) {
                return v;
            }
        }
        Ok(match s.ty {
            Type::Boolean => Value::Boolean(matches!(j, JsonNode::Bool(true))),
            Type::Int8 => Value::Int8(j.int_value() as i8),
            Type::Int16 => Value::Int16(j.int_value() as i16),
            Type::Int32 => Value::Int32(j.int_value()),
            Type::Int64 => Value::Int64(j.long_value()),
            Type::Float32 => Value::Float32(match j {
                JsonNode::Num(n) => n.parse().unwrap_or(0.0),
                _ => 0.0,
            }),
            Type::Float64 => Value::Float64(match j {
                JsonNode::Num(n) => n.parse().unwrap_or(0.0),
                _ => 0.0,
            }),
            Type::Bytes => match j {
                JsonNode::Str(b64) => {
                    Value::Bytes(text::base64_decode(b64).map_err(|_| DataError::new("Invalid bytes field"))?)
                }
                _ => Value::Null,
            },
            Type::String => match j {
                JsonNode::Str(t) => Value::String(t.to_string()),
                _ => Value::Null,
            },
            Type::Array => return self.array_to_connect(s, j),
            Type::Map => return self.map_to_connect(s, j),
            Type::Struct => return self.struct_to_connect(s, j),
        })
    }

    fn null_to_connect(&self, s: &Schema) -> Result<Value, DataError> {
        if let (Some(d), true) = (s.default_value(), self.replace_null_with_default) {
            return Ok(d.clone());
        }
        if s.optional {
            return Ok(Value::Null);
        }
        Err(DataError::new(format!("Invalid null value for required {} field", s.ty.java_name())))
    }

    #[inline(never)]
    fn array_to_connect(&self, s: &Schema, j: &JsonNode) -> Result<Value, DataError> {
        let item_schema = s.value.as_deref();
        let mut out = Vec::new();
        match j {
            JsonNode::Arr(items) => {
                out.reserve(items.len());
                for i in items {
                    out.push(self.to_connect_value(item_schema, Some(i))?);
                }
            }
            JsonNode::Obj(members) => {
                for (_, v) in dedup_members(members) {
                    out.push(self.to_connect_value(item_schema, Some(v))?);
                }
            }
            _ => {}
        }
        Ok(Value::Array(out))
    }

    #[inline(never)]
    fn map_to_connect(&self, s: &Schema, j: &JsonNode) -> Result<Value, DataError> {
        let key_schema = s.key.as_deref();
        let value_schema = s.value.as_deref();
        if key_schema.is_none_or(|k| k.ty == Type::String) {
            let JsonNode::Obj(members) = j else {
                return Err(found_error("Maps with string fields should be encoded as JSON objects, but found ", j));
            };
            let mut out = Vec::with_capacity(members.len());
            for (k, v) in dedup_members(members) {
                out.push((Value::String(k.to_string()), self.to_connect_value(value_schema, Some(v))?));
            }
            return Ok(Value::Map(out));
        }
        let JsonNode::Arr(entries) = j else {
            return Err(found_error(
                "Maps with non-string fields should be encoded as JSON array of tuples, but found ",
                j,
            ));
        };
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let JsonNode::Arr(pair) = e else {
                return Err(found_error("Found invalid map entry instead of array tuple: ", e));
            };
            if pair.len() != 2 {
                return Err(DataError::new(format!(
                    "Found invalid map entry, expected length 2 but found :{}",
                    pair.len()
                )));
            }
            let k = self.to_connect_value(key_schema, Some(&pair[0]))?;
            let v = self.to_connect_value(value_schema, Some(&pair[1]))?;
            out.push((k, v));
        }
        Ok(Value::Map(out))
    }

    #[inline(never)]
    fn struct_to_connect(&self, s: &Schema, j: &JsonNode) -> Result<Value, DataError> {
        if !matches!(j, JsonNode::Obj(_)) {
            return Err(found_error("Structs should be encoded as JSON objects, but found ", j));
        }
        let mut out = Vec::with_capacity(s.fields.len());
        for f in &s.fields {
            let v = self.to_connect_value(Some(&f.schema), j.get(&f.name))?;
            out.push((f.name.clone(), v));
        }
        Ok(Value::Struct(out))
    }
}

#[inline(never)]
fn new_schema_box(ty: Type) -> Box<Schema> {
    Box::new(Schema::of(ty))
}

/// The schema's `type` (`Schema must contain 'type' field` / `Unknown schema type: …`).
#[inline(never)]
fn schema_type(j: &JsonNode) -> Result<Type, DataError> {
    let name = match j.get("type") {
        Some(JsonNode::Str(s)) => s.as_ref(),
        _ => return Err(DataError::new("Schema must contain 'type' field")),
    };
    Ok(match name {
        "boolean" => Type::Boolean,
        "int8" => Type::Int8,
        "int16" => Type::Int16,
        "int32" => Type::Int32,
        "int64" => Type::Int64,
        "float" => Type::Float32,
        "double" => Type::Float64,
        "bytes" => Type::Bytes,
        "string" => Type::String,
        "array" => Type::Array,
        "map" => Type::Map,
        "struct" => Type::Struct,
        other => return Err(DataError::new(format!("Unknown schema type: {other}"))),
    })
}

#[cold]
#[inline(never)]
fn type_error(ty: Type, v: &Value) -> DataError {
    DataError::new(format!("Invalid type for {}: {}", ty.java_name(), v.java_class()))
}

#[cold]
#[inline(never)]
fn found_error(prefix: &str, j: &JsonNode) -> DataError {
    DataError::new(format!("{prefix}{}", j.node_type()))
}

/// `convertToConnect(null, jsonValue)`: the schemaless inference.
fn infer_value(j: Option<&JsonNode>) -> Result<Value, DataError> {
    Ok(match j {
        None | Some(JsonNode::Null) => Value::Null,
        Some(JsonNode::Bool(b)) => Value::Boolean(*b),
        Some(JsonNode::Num(n)) => {
            if is_integral(n) {
                Value::Int64(long_value(n))
            } else {
                Value::Float64(n.parse().unwrap_or(0.0))
            }
        }
        Some(JsonNode::Str(s)) => Value::String(s.to_string()),
        Some(JsonNode::Arr(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                out.push(infer_value(Some(i))?);
            }
            Value::Array(out)
        }
        Some(JsonNode::Obj(members)) => {
            let mut out = Vec::with_capacity(members.len());
            for (k, v) in dedup_members(members) {
                out.push((Value::String(k.to_string()), infer_value(Some(v))?));
            }
            Value::Map(out)
        }
    })
}

/// The logical converters' `toConnect`; `None` when the schema's name is not a logical type.
#[inline(never)]
fn logical_to_connect(s: &Schema, j: &JsonNode) -> Option<Result<Value, DataError>> {
    Some(match s.logical_name()? {
        DECIMAL_LOGICAL_NAME => match j {
            JsonNode::Num(n) => (|| {
                let scale = s.decimal_scale()?;
                let d = text::parse_decimal_text(n)
                    .ok_or_else(|| DataError::new(format!("Invalid value for Decimal: {n}")))?;
                let bytes = d.unscaled_at(scale as i64).ok_or_else(|| {
                    DataError::new(format!(
                        "BigDecimal has mismatching scale value for given Decimal schema: {n} (scale {scale})"
                    ))
                })?;
                Ok(Value::Bytes(bytes))
            })(),
            JsonNode::Str(b64) => (|| {
                let bytes = text::base64_decode(b64).map_err(|_| DataError::new("Invalid bytes for Decimal field"))?;
                s.decimal_scale().map_err(|_| DataError::new("Invalid bytes for Decimal field"))?;
                Ok(Value::Bytes(text::normalize_twos_complement(&bytes)))
            })(),
            other => Err(found_error(
                "Invalid type for Decimal, underlying representation should be numeric or bytes but was ",
                other,
            )),
        },
        name @ (DATE_LOGICAL_NAME | TIME_LOGICAL_NAME) => match j {
            JsonNode::Num(n) if is_int(n) => Ok(Value::Int32(int_value(n))),
            other => Err(DataError::new(format!(
                "Invalid type for {}, underlying representation should be integer but was {}",
                if name == DATE_LOGICAL_NAME { "Date" } else { "Time" },
                other.node_type()
            ))),
        },
        TIMESTAMP_LOGICAL_NAME => match j {
            JsonNode::Num(n) if is_integral(n) => Ok(Value::Int64(long_value(n))),
            other => Err(found_error(
                "Invalid type for Timestamp, underlying representation should be integral but was ",
                other,
            )),
        },
        _ => return None,
    })
}

impl Converter for JsonConverter {
    fn from_connect(&self, _topic: &str, schema: Option<&Schema>, value: &Value) -> Result<Option<Vec<u8>>, DataError> {
        if schema.is_none() && value.is_null() {
            return Ok(None);
        }
        let estimate = match value {
            Value::String(s) => s.len() + s.len() / 16 + 8,
            Value::Bytes(b) => b.len() / 3 * 4 + 8,
            _ => 64,
        } + if self.schemas_enable { 64 } else { 0 };
        let mut out = Vec::with_capacity(estimate);
        self.write_connect_data(&mut out, schema, value)?;
        Ok(Some(out))
    }

    fn to_connect(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<SchemaAndValue, DataError> {
        self.read(bytes)
    }
}

header_via_converter!(JsonConverter);

/// The JSON `type` name of a schema type (`JsonSchema.*_TYPE_NAME`).
fn json_type_name(ty: Type) -> &'static str {
    match ty {
        Type::Boolean => "boolean",
        Type::Int8 => "int8",
        Type::Int16 => "int16",
        Type::Int32 => "int32",
        Type::Int64 => "int64",
        Type::Float32 => "float",
        Type::Float64 => "double",
        Type::Bytes => "bytes",
        Type::String => "string",
        Type::Array => "array",
        Type::Map => "map",
        Type::Struct => "struct",
    }
}

macro_rules! plain_schemas {
    ($ty:expr, $optional:expr, $wrap:ident) => {
        match ($ty, $optional) {
            (Type::Boolean, false) => $wrap!("boolean", "false"),
            (Type::Boolean, true) => $wrap!("boolean", "true"),
            (Type::Int8, false) => $wrap!("int8", "false"),
            (Type::Int8, true) => $wrap!("int8", "true"),
            (Type::Int16, false) => $wrap!("int16", "false"),
            (Type::Int16, true) => $wrap!("int16", "true"),
            (Type::Int32, false) => $wrap!("int32", "false"),
            (Type::Int32, true) => $wrap!("int32", "true"),
            (Type::Int64, false) => $wrap!("int64", "false"),
            (Type::Int64, true) => $wrap!("int64", "true"),
            (Type::Float32, false) => $wrap!("float", "false"),
            (Type::Float32, true) => $wrap!("float", "true"),
            (Type::Float64, false) => $wrap!("double", "false"),
            (Type::Float64, true) => $wrap!("double", "true"),
            (Type::Bytes, false) => $wrap!("bytes", "false"),
            (Type::Bytes, true) => $wrap!("bytes", "true"),
            (Type::String, false) => $wrap!("string", "false"),
            (Type::String, true) => $wrap!("string", "true"),
            // Containers never take this path (is_plain_primitive).
            (Type::Array, _) => $wrap!("array", "false"),
            (Type::Map, _) => $wrap!("map", "false"),
            (Type::Struct, _) => $wrap!("struct", "false"),
        }
    };
}

macro_rules! schema_only {
    ($t:literal, $o:literal) => {
        concat!("{\"type\":\"", $t, "\",\"optional\":", $o, "}").as_bytes()
    };
}

macro_rules! envelope {
    ($t:literal, $o:literal) => {
        concat!("{\"schema\":{\"type\":\"", $t, "\",\"optional\":", $o, "},\"payload\":").as_bytes()
    };
}

/// `{"type":"<t>","optional":<o>}` for a schema with nothing else set.
fn plain_schema_json(ty: Type, optional: bool) -> &'static [u8] {
    plain_schemas!(ty, optional, schema_only)
}

/// `{"schema":{"type":"<t>","optional":<o>},"payload":` for a schema with nothing else set.
fn envelope_prefix(ty: Type, optional: bool) -> &'static [u8] {
    plain_schemas!(ty, optional, envelope)
}

fn value_type(v: &Value) -> Type {
    match v {
        Value::Null | Value::String(_) => Type::String,
        Value::Boolean(_) => Type::Boolean,
        Value::Int8(_) => Type::Int8,
        Value::Int16(_) => Type::Int16,
        Value::Int32(_) => Type::Int32,
        Value::Int64(_) => Type::Int64,
        Value::Float32(_) => Type::Float32,
        Value::Float64(_) => Type::Float64,
        Value::Bytes(_) => Type::Bytes,
        Value::Array(_) => Type::Array,
        Value::Map(_) => Type::Map,
        Value::Struct(_) => Type::Struct,
    }
}

fn write_java_number(out: &mut Vec<u8>, finite: bool, text: &str) {
    if finite {
        out.extend_from_slice(text.as_bytes());
    } else {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
}

pub(crate) fn write_i64(out: &mut Vec<u8>, n: i64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[i..]);
}

/// Jackson's escape table: 0 = as is, `u` = `\u00XX`, else the character after the backslash.
static ESCAPES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0A] = b'n';
    t[0x0C] = b'f';
    t[0x0D] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// A JSON string literal as Jackson writes it.
pub(crate) fn write_json_string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let e = ESCAPES[b as usize];
        if e == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if e == b'u' {
            out.extend_from_slice(b"\\u00");
            out.push(HEX_UPPER[(b >> 4) as usize]);
            out.push(HEX_UPPER[(b & 0xF) as usize]);
        } else {
            out.push(b'\\');
            out.push(e);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}
