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

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::convert::{config_bool, config_int, Converter, DataError, HeaderConverter};
use super::text;
use super::{
    Schema, SchemaAndValue, Type, Value, DATE_LOGICAL_NAME, DECIMAL_LOGICAL_NAME, TIMESTAMP_LOGICAL_NAME,
    TIME_LOGICAL_NAME,
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
        Ok(JsonConverter {
            schemas_enable: config_bool(config, "schemas.enable", true)?,
            schemas_cache_size: config_int(config, "schemas.cache.size", 1000)?,
            decimal_format,
            replace_null_with_default: config_bool(config, "replace.null.with.default", true)?,
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
        let Some(J::Obj(members)) = root else {
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
    fn as_connect_schema(&self, j: &J, depth: usize) -> Result<Option<Schema>, DataError> {
        Ok(self.schema_box(j, depth)?.map(|b| *b))
    }

    // The recursive path is kept to small frames so that 1000 nested schemas fit a 2 MiB stack
    // even in unoptimized builds.
    fn schema_box(&self, j: &J, depth: usize) -> Result<Option<Box<Schema>>, DataError> {
        if matches!(j, J::Null) {
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
    fn array_items_schema(&self, j: &J, depth: usize) -> Result<Option<Box<Schema>>, DataError> {
        match j.get("items") {
            None | Some(J::Null) => Err(DataError::new("Array schema did not specify the element type")),
            Some(items) => self.schema_box(items, depth + 1),
        }
    }

    #[inline(never)]
    fn map_schemas(&self, j: &J, schema: &mut Schema, depth: usize) -> Result<(), DataError> {
        let keys = j.get("keys").ok_or_else(|| DataError::new("Map schema did not specify the key type"))?;
        let values = j.get("values").ok_or_else(|| DataError::new("Map schema did not specify the value type"))?;
        schema.key = self.schema_box(keys, depth + 1)?;
        schema.value = self.schema_box(values, depth + 1)?;
        Ok(())
    }

    #[inline(never)]
    fn struct_fields(&self, j: &J, depth: usize) -> Result<Vec<super::Field>, DataError> {
        let Some(J::Arr(fields)) = j.get("fields") else {
            return Err(DataError::new("Struct schema's \"fields\" argument is not an array."));
        };
        let mut out: Vec<super::Field> = Vec::with_capacity(fields.len());
        for f in fields {
            let name = match f.get("field") {
                Some(J::Str(s)) => s.to_string(),
                _ => return Err(DataError::new("Struct schema's field name not specified properly")),
            };
            if out.iter().any(|x| x.name == name) {
                return Err(DataError::new(format!("Cannot create field because of field name duplication {name}")));
            }
            let Some(fs) = self.schema_box(f, depth + 1)? else {
                return Err(DataError::new("Struct schema's field name not specified properly"));
            };
            out.push(super::Field { name, schema: *fs });
        }
        Ok(out)
    }

    /// `optional`, `name`, `version`, `doc`, `parameters`, `default`.
    #[inline(never)]
    fn schema_metadata(&self, j: &J, schema: &mut Schema) -> Result<(), DataError> {
        schema.optional = matches!(j.get("optional"), Some(J::Bool(true)));
        if let Some(J::Str(n)) = j.get("name") {
            schema.name = Some(n.to_string());
        }
        if let Some(J::Num(n)) = j.get("version") {
            if is_integral(n) {
                schema.version = Some(int_value(n));
            }
        }
        if let Some(J::Str(d)) = j.get("doc") {
            schema.doc = Some(d.to_string());
        }
        if let Some(J::Obj(params)) = j.get("parameters") {
            let mut map = BTreeMap::new();
            for (k, v) in params {
                let J::Str(v) = v else {
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
    fn to_connect_value(&self, schema: Option<&Schema>, j: Option<&J>) -> Result<Value, DataError> {
        let Some(s) = schema else {
            return infer_value(j);
        };
        let j = match j {
            None | Some(J::Null) => return self.null_to_connect(s),
            Some(j) => j,
        };
        if s.name.is_some() {
            if let Some(v) = logical_to_connect(s, j) {
                return v;
            }
        }
        Ok(match s.ty {
            Type::Boolean => Value::Boolean(matches!(j, J::Bool(true))),
            Type::Int8 => Value::Int8(j.int_value() as i8),
            Type::Int16 => Value::Int16(j.int_value() as i16),
            Type::Int32 => Value::Int32(j.int_value()),
            Type::Int64 => Value::Int64(j.long_value()),
            Type::Float32 => Value::Float32(match j {
                J::Num(n) => n.parse().unwrap_or(0.0),
                _ => 0.0,
            }),
            Type::Float64 => Value::Float64(match j {
                J::Num(n) => n.parse().unwrap_or(0.0),
                _ => 0.0,
            }),
            Type::Bytes => match j {
                J::Str(b64) => {
                    Value::Bytes(text::base64_decode(b64).map_err(|_| DataError::new("Invalid bytes field"))?)
                }
                _ => Value::Null,
            },
            Type::String => match j {
                J::Str(t) => Value::String(t.to_string()),
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
    fn array_to_connect(&self, s: &Schema, j: &J) -> Result<Value, DataError> {
        let item_schema = s.value.as_deref();
        let mut out = Vec::new();
        match j {
            J::Arr(items) => {
                out.reserve(items.len());
                for i in items {
                    out.push(self.to_connect_value(item_schema, Some(i))?);
                }
            }
            J::Obj(members) => {
                for (_, v) in dedup_members(members) {
                    out.push(self.to_connect_value(item_schema, Some(v))?);
                }
            }
            _ => {}
        }
        Ok(Value::Array(out))
    }

    #[inline(never)]
    fn map_to_connect(&self, s: &Schema, j: &J) -> Result<Value, DataError> {
        let key_schema = s.key.as_deref();
        let value_schema = s.value.as_deref();
        if key_schema.is_none_or(|k| k.ty == Type::String) {
            let J::Obj(members) = j else {
                return Err(found_error("Maps with string fields should be encoded as JSON objects, but found ", j));
            };
            let mut out = Vec::with_capacity(members.len());
            for (k, v) in dedup_members(members) {
                out.push((Value::String(k.to_string()), self.to_connect_value(value_schema, Some(v))?));
            }
            return Ok(Value::Map(out));
        }
        let J::Arr(entries) = j else {
            return Err(found_error(
                "Maps with non-string fields should be encoded as JSON array of tuples, but found ",
                j,
            ));
        };
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let J::Arr(pair) = e else {
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
    fn struct_to_connect(&self, s: &Schema, j: &J) -> Result<Value, DataError> {
        if !matches!(j, J::Obj(_)) {
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
fn schema_type(j: &J) -> Result<Type, DataError> {
    let name = match j.get("type") {
        Some(J::Str(s)) => s.as_ref(),
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
fn found_error(prefix: &str, j: &J) -> DataError {
    DataError::new(format!("{prefix}{}", j.node_type()))
}

/// `convertToConnect(null, jsonValue)`: the schemaless inference.
fn infer_value(j: Option<&J>) -> Result<Value, DataError> {
    Ok(match j {
        None | Some(J::Null) => Value::Null,
        Some(J::Bool(b)) => Value::Boolean(*b),
        Some(J::Num(n)) => {
            if is_integral(n) {
                Value::Int64(long_value(n))
            } else {
                Value::Float64(n.parse().unwrap_or(0.0))
            }
        }
        Some(J::Str(s)) => Value::String(s.to_string()),
        Some(J::Arr(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                out.push(infer_value(Some(i))?);
            }
            Value::Array(out)
        }
        Some(J::Obj(members)) => {
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
fn logical_to_connect(s: &Schema, j: &J) -> Option<Result<Value, DataError>> {
    Some(match s.logical_name()? {
        DECIMAL_LOGICAL_NAME => match j {
            J::Num(n) => (|| {
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
            J::Str(b64) => (|| {
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
            J::Num(n) if is_int(n) => Ok(Value::Int32(int_value(n))),
            other => Err(DataError::new(format!(
                "Invalid type for {}, underlying representation should be integer but was {}",
                if name == DATE_LOGICAL_NAME { "Date" } else { "Time" },
                other.node_type()
            ))),
        },
        TIMESTAMP_LOGICAL_NAME => match j {
            J::Num(n) if is_integral(n) => Ok(Value::Int64(long_value(n))),
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

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// A parsed JSON node borrowing from the input; numbers keep their text (exact, as Kafka's
/// `BigDecimal`/`BigInteger` nodes).
#[derive(Debug, PartialEq)]
pub(crate) enum J<'a> {
    Null,
    Bool(bool),
    Num(&'a str),
    Str(Cow<'a, str>),
    Arr(Vec<J<'a>>),
    /// Members in input order, duplicates included (lookups take the last, as Jackson keeps it).
    Obj(Vec<(Cow<'a, str>, J<'a>)>),
}

impl<'a> J<'a> {
    /// `JsonNode.get(name)` (the last duplicate wins, as in Jackson's `ObjectNode`).
    fn get(&self, name: &str) -> Option<&J<'a>> {
        match self {
            J::Obj(members) => members.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// `JsonNode.getNodeType()`.
    fn node_type(&self) -> &'static str {
        match self {
            J::Null => "NULL",
            J::Bool(_) => "BOOLEAN",
            J::Num(_) => "NUMBER",
            J::Str(_) => "STRING",
            J::Arr(_) => "ARRAY",
            J::Obj(_) => "OBJECT",
        }
    }

    /// `JsonNode.intValue()`: 0 for non-numbers.
    fn int_value(&self) -> i32 {
        match self {
            J::Num(n) => int_value(n),
            _ => 0,
        }
    }

    /// `JsonNode.longValue()`: 0 for non-numbers.
    fn long_value(&self) -> i64 {
        match self {
            J::Num(n) => long_value(n),
            _ => 0,
        }
    }
}

/// Object members with duplicate names collapsed as Jackson's `ObjectNode` does (first
/// position, last value).
fn dedup_members<'j, 'a>(members: &'j [(Cow<'a, str>, J<'a>)]) -> Vec<(&'j str, &'j J<'a>)> {
    let mut out: Vec<(&str, &J)> = Vec::with_capacity(members.len());
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

fn is_integral(n: &str) -> bool {
    !n.bytes().any(|c| matches!(c, b'.' | b'e' | b'E'))
}

/// Jackson's `isInt()`: an integral number that fits an `int`.
fn is_int(n: &str) -> bool {
    is_integral(n) && n.parse::<i32>().is_ok()
}

/// The low 64 bits of an integral literal (as `BigInteger.longValue()`), or the truncated value
/// of a decimal one (`BigDecimal.longValue()`).
fn long_value(n: &str) -> i64 {
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

fn int_value(n: &str) -> i32 {
    long_value(n) as i32
}

/// Parses the first JSON value of `input`; `None` for empty/blank input (Jackson's MissingNode).
pub(crate) fn parse_root(input: &[u8]) -> Result<Option<J<'_>>, String> {
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

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    depth: usize,
}

fn describe(c: u8) -> String {
    if c.is_ascii_graphic() {
        format!("'{}' (code {})", c as char, c)
    } else {
        format!("code {c}")
    }
}

impl<'a> Parser<'a> {
    fn skip_ws(&mut self) {
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

    fn value(&mut self) -> Result<J<'a>, String> {
        match self.b.get(self.i) {
            None => Err(self.err_unexpected("a value")),
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => Ok(J::Str(self.string()?)),
            Some(b't') => self.literal("true", J::Bool(true)),
            Some(b'f') => self.literal("false", J::Bool(false)),
            Some(b'n') => self.literal("null", J::Null),
            Some(c) if *c == b'-' || c.is_ascii_digit() => self.number(),
            Some(_) => Err(self.err_unexpected(
                "a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
            )),
        }
    }

    fn literal(&mut self, word: &str, v: J<'a>) -> Result<J<'a>, String> {
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

    fn number(&mut self) -> Result<J<'a>, String> {
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
        Ok(J::Num(std::str::from_utf8(&self.b[start..self.i]).unwrap_or("0")))
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

    fn array(&mut self) -> Result<J<'a>, String> {
        self.enter()?;
        self.i += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.b.get(self.i) == Some(&b']') {
            self.i += 1;
            self.depth -= 1;
            return Ok(J::Arr(items));
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
        Ok(J::Arr(items))
    }

    fn object(&mut self) -> Result<J<'a>, String> {
        self.enter()?;
        self.i += 1;
        let mut members = Vec::new();
        self.skip_ws();
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
            self.depth -= 1;
            return Ok(J::Obj(members));
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
        Ok(J::Obj(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Field, Schema, Type, Value};

    fn cfg(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn enc(c: &JsonConverter, schema: Option<&Schema>, v: &Value) -> String {
        String::from_utf8(c.from_connect("t", schema, v).unwrap().expect("bytes")).unwrap()
    }

    fn dec(c: &JsonConverter, s: &str) -> SchemaAndValue {
        c.to_connect("t", Some(s.as_bytes())).unwrap()
    }

    // The expected strings below follow JsonConverter.asJsonSchema / convertToJson member
    // insertion order (Jackson ObjectNode = LinkedHashMap) and Jackson's compact output.

    #[test]
    fn envelope_string() {
        let c = JsonConverter::default();
        let s = enc(&c, Some(&Schema::string()), &Value::String("foo".into()));
        assert_eq!(s, r#"{"schema":{"type":"string","optional":false},"payload":"foo"}"#);
        let s = enc(&c, Some(&Schema::optional_string()), &Value::Null);
        assert_eq!(s, r#"{"schema":{"type":"string","optional":true},"payload":null}"#);
    }

    #[test]
    fn compact_envelope_fast_path_matches_general_path() {
        let c = JsonConverter::default();
        for (schema, v) in [
            (Schema::string(), Value::String("a \"q\" \u{1}".into())),
            (Schema::optional_string(), Value::Null),
            (Schema::int64(), Value::Int64(-5)),
            (Schema::optional(Type::Int8), Value::Int8(3)),
            (Schema::of(Type::Float32), Value::Float32(0.5)),
            (Schema::optional_bytes(), Value::Bytes(vec![1, 2])),
            (Schema::of(Type::Boolean), Value::Boolean(false)),
        ] {
            let b = c.from_connect("t", Some(&schema), &v).unwrap().unwrap();
            let fast = c.to_connect("t", Some(&b)).unwrap();
            assert_eq!(fast, SchemaAndValue { schema: Some(schema.clone()), value: v.clone() });
            // The same document spaced out takes the general path.
            let spaced = String::from_utf8(b.clone()).unwrap().replacen(",\"payload\":", ", \"payload\" : ", 1);
            assert_eq!(c.to_connect("t", Some(spaced.as_bytes())).unwrap(), fast);
        }
        // Extra members after the payload are refused, whatever the path.
        let e = c
            .to_connect("t", Some(br#"{"schema":{"type":"string","optional":false},"payload":"x","extra":1}"#))
            .unwrap_err();
        assert!(e.message.starts_with("JsonConverter with schemas.enable requires"));
        // A required null payload fails the same way.
        let e =
            c.to_connect("t", Some(br#"{"schema":{"type":"string","optional":false},"payload":null}"#)).unwrap_err();
        assert_eq!(e.message, "Invalid null value for required STRING field");
        // Broken payload JSON falls back to the general path and its error.
        let e = c.to_connect("t", Some(br#"{"schema":{"type":"string","optional":false},"payload":"x}"#)).unwrap_err();
        assert!(e.message.starts_with("Converting byte[] to Kafka Connect data failed due to serialization error: "));
    }

    #[test]
    fn envelope_primitives() {
        let c = JsonConverter::default();
        assert_eq!(
            enc(&c, Some(&Schema::int32()), &Value::Int32(-42)),
            r#"{"schema":{"type":"int32","optional":false},"payload":-42}"#
        );
        assert_eq!(
            enc(&c, Some(&Schema::int64()), &Value::Int64(i64::MAX)),
            r#"{"schema":{"type":"int64","optional":false},"payload":9223372036854775807}"#
        );
        assert_eq!(
            enc(&c, Some(&Schema::of(Type::Boolean)), &Value::Boolean(true)),
            r#"{"schema":{"type":"boolean","optional":false},"payload":true}"#
        );
        assert_eq!(
            enc(&c, Some(&Schema::bytes()), &Value::Bytes(vec![0, 1, 2, 0xFF])),
            r#"{"schema":{"type":"bytes","optional":false},"payload":"AAEC/w=="}"#
        );
        assert_eq!(
            enc(&c, Some(&Schema::optional(Type::Float64)), &Value::Float64(12.0)),
            r#"{"schema":{"type":"double","optional":true},"payload":12.0}"#
        );
        assert_eq!(
            enc(&c, Some(&Schema::of(Type::Float32)), &Value::Float32(1e10)),
            r#"{"schema":{"type":"float","optional":false},"payload":1.0E10}"#
        );
        assert_eq!(
            enc(&c, Some(&Schema::of(Type::Float64)), &Value::Float64(f64::NAN)),
            r#"{"schema":{"type":"double","optional":false},"payload":"NaN"}"#
        );
        assert_eq!(
            enc(&c, Some(&Schema::of(Type::Int8)), &Value::Int8(7)),
            r#"{"schema":{"type":"int8","optional":false},"payload":7}"#
        );
        assert_eq!(
            enc(&c, Some(&Schema::optional(Type::Int16)), &Value::Int16(300)),
            r#"{"schema":{"type":"int16","optional":true},"payload":300}"#
        );
    }

    #[test]
    fn envelope_struct_with_optional_timestamp() {
        // The kafkatest transformations test: HoistField$Value(content) + InsertField$Value
        // (timestamp.field) on FileStreamSource lines.
        let c = JsonConverter::default();
        let schema = Schema::structure(vec![
            Field::new("content", Schema::string()),
            Field::new("the_timestamp", Schema::timestamp(true)),
        ]);
        let v = Value::Struct(vec![
            ("content".into(), Value::String("hello".into())),
            ("the_timestamp".into(), Value::Int64(1_700_000_000_123)),
        ]);
        let s = enc(&c, Some(&schema), &v);
        assert_eq!(
            s,
            concat!(
                r#"{"schema":{"type":"struct","fields":["#,
                r#"{"type":"string","optional":false,"field":"content"},"#,
                r#"{"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"the_timestamp"}"#,
                r#"],"optional":false},"payload":{"content":"hello","the_timestamp":1700000000123}}"#
            )
        );
        // Same JSON (order aside) as the kafkatest's expected_schema.
        let parsed: serde_json::Value = serde_json::from_str(&s).unwrap();
        let expected: serde_json::Value = serde_json::from_str(
            r#"{"type":"struct","fields":[{"field":"content","type":"string","optional":false},{"field":"the_timestamp","name":"org.apache.kafka.connect.data.Timestamp","type":"int64","version":1,"optional":true}],"optional":false}"#,
        )
        .unwrap();
        assert_eq!(parsed["schema"], expected);
        // Round trip.
        let back = dec(&c, &s);
        assert_eq!(back.schema.as_ref(), Some(&schema));
        assert_eq!(back.value, v);
        // A null optional field.
        let v2 = Value::Struct(vec![("content".into(), Value::String("x".into()))]);
        assert!(enc(&c, Some(&schema), &v2).ends_with(r#""payload":{"content":"x","the_timestamp":null}}"#));
    }

    #[test]
    fn envelope_array_and_maps() {
        let c = JsonConverter::default();
        let schema = Schema::array(Schema::int32());
        let v = Value::Array(vec![Value::Int32(1), Value::Int32(2)]);
        let s = enc(&c, Some(&schema), &v);
        assert_eq!(
            s,
            r#"{"schema":{"type":"array","items":{"type":"int32","optional":false},"optional":false},"payload":[1,2]}"#
        );
        assert_eq!(dec(&c, &s), SchemaAndValue { schema: Some(schema), value: v });

        let schema = Schema::map(Schema::string(), Schema::int32());
        let v = Value::Map(vec![
            (Value::String("a".into()), Value::Int32(1)),
            (Value::String("b".into()), Value::Int32(2)),
        ]);
        let s = enc(&c, Some(&schema), &v);
        assert_eq!(
            s,
            r#"{"schema":{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int32","optional":false},"optional":false},"payload":{"a":1,"b":2}}"#
        );
        assert_eq!(dec(&c, &s), SchemaAndValue { schema: Some(schema), value: v });

        let schema = Schema::map(Schema::int32(), Schema::optional_string());
        let v = Value::Map(vec![(Value::Int32(1), Value::String("x".into())), (Value::Int32(2), Value::Null)]);
        let s = enc(&c, Some(&schema), &v);
        assert_eq!(
            s,
            r#"{"schema":{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"string","optional":true},"optional":false},"payload":[[1,"x"],[2,null]]}"#
        );
        assert_eq!(dec(&c, &s), SchemaAndValue { schema: Some(schema), value: v });
    }

    #[test]
    fn schema_metadata_order_and_defaults() {
        let c = JsonConverter::default();
        let mut params = BTreeMap::new();
        params.insert("k".to_string(), "v".to_string());
        let schema = Schema {
            name: Some("n".into()),
            version: Some(3),
            doc: Some("d\"oc".into()),
            parameters: Some(params),
            default: Some(Box::new(Value::String("dflt".into()))),
            ..Schema::optional_string()
        };
        let s = enc(&c, Some(&schema), &Value::Null);
        assert_eq!(
            s,
            r#"{"schema":{"type":"string","optional":true,"name":"n","version":3,"doc":"d\"oc","parameters":{"k":"v"},"default":"dflt"},"payload":"dflt"}"#
        );
        let back = dec(&c, &s);
        assert_eq!(back.schema.as_ref(), Some(&schema));
        assert_eq!(back.value, Value::String("dflt".into()));

        // replace.null.with.default=false keeps the null.
        let c2 = JsonConverter::new(&cfg(&[("replace.null.with.default", "false")])).unwrap();
        assert!(enc(&c2, Some(&schema), &Value::Null).ends_with(r#""payload":null}"#));
        let back = dec(&c2, &s.replace(r#""payload":"dflt""#, r#""payload":null"#));
        assert_eq!(back.value, Value::Null);
    }

    #[test]
    fn decimals() {
        let schema = Schema::decimal(2, false);
        let v = Value::Bytes(text::digits_to_twos_complement(false, "12345")); // 123.45
        let c = JsonConverter::default();
        let s = enc(&c, Some(&schema), &v);
        assert_eq!(
            s,
            r#"{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":"MDk="}"#
        );
        assert_eq!(dec(&c, &s).value, v);
        let n = JsonConverter::new(&cfg(&[("decimal.format", "numeric")])).unwrap();
        let s = enc(&n, Some(&schema), &v);
        assert!(s.ends_with(r#""payload":123.45}"#), "{s}");
        assert_eq!(dec(&n, &s).value, v);
        assert_eq!(
            dec(&n, &s.replace("123.45", "123.4")).value,
            Value::Bytes(text::digits_to_twos_complement(false, "12340"))
        );
    }

    #[test]
    fn string_escaping_like_jackson() {
        let c = JsonConverter::with_schemas(false);
        let s = enc(&c, Some(&Schema::string()), &Value::String("a\"b\\c\n\t\u{1}\u{1f}\u{7f}/é😀".into()));
        assert_eq!(s, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001F\u{7f}/é😀\"");
        let back = dec(&c, &s);
        assert_eq!(back.value, Value::String("a\"b\\c\n\t\u{1}\u{1f}\u{7f}/é😀".into()));
        assert_eq!(dec(&c, r#""\ud83d\ude00\/""#).value, Value::String("😀/".into()));
    }

    #[test]
    fn schemas_disabled_bare_output_and_inference() {
        let c = JsonConverter::new(&cfg(&[("schemas.enable", "false")])).unwrap();
        assert_eq!(enc(&c, Some(&Schema::string()), &Value::String("foo".into())), r#""foo""#);
        assert_eq!(enc(&c, Some(&Schema::int64()), &Value::Int64(5)), "5");
        assert_eq!(enc(&c, Some(&Schema::optional_string()), &Value::Null), "null");
        assert_eq!(c.from_connect("t", None, &Value::Null).unwrap(), None);
        let v = dec(&c, r#"{"a":1,"b":[1.5,"x",true,null],"c":{"d":-7}}"#);
        assert_eq!(v.schema, None);
        assert_eq!(
            v.value,
            Value::Map(vec![
                (Value::String("a".into()), Value::Int64(1)),
                (
                    Value::String("b".into()),
                    Value::Array(vec![
                        Value::Float64(1.5),
                        Value::String("x".into()),
                        Value::Boolean(true),
                        Value::Null
                    ])
                ),
                (Value::String("c".into()), Value::Map(vec![(Value::String("d".into()), Value::Int64(-7))])),
            ])
        );
        assert_eq!(dec(&c, "null"), SchemaAndValue::NULL);
        assert_eq!(dec(&c, ""), SchemaAndValue::NULL);
        assert_eq!(dec(&c, " 007 ").value, Value::Int64(7));
        // Content after the first root value is ignored, as Jackson's readTree does.
        assert_eq!(dec(&c, "{} trailing").value, Value::Map(vec![]));
        // Schemaless maps: all-string keys → object, otherwise pairs.
        let m = Value::Map(vec![(Value::String("k".into()), Value::Int32(1))]);
        assert_eq!(enc(&c, None, &m), r#"{"k":1}"#);
        let m = Value::Map(vec![(Value::Int32(1), Value::Int32(2))]);
        assert_eq!(enc(&c, None, &m), "[[1,2]]");
    }

    #[test]
    fn schema_none_with_schemas_enabled() {
        let c = JsonConverter::default();
        assert_eq!(enc(&c, None, &Value::Int32(5)), r#"{"schema":null,"payload":5}"#);
        assert_eq!(c.from_connect("t", None, &Value::Null).unwrap(), None);
        let back = dec(&c, r#"{"schema":null,"payload":5}"#);
        assert_eq!(back, SchemaAndValue { schema: None, value: Value::Int64(5) });
        assert_eq!(c.to_connect("t", None).unwrap(), SchemaAndValue::NULL);
    }

    #[test]
    fn envelope_errors() {
        let c = JsonConverter::default();
        for bad in [r#"{"payload":1}"#, r#"{"schema":null,"payload":1,"x":2}"#, "5", "[]", "", r#""s""#] {
            let e = c.to_connect("t", Some(bad.as_bytes())).unwrap_err();
            assert_eq!(
                e.message,
                "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.",
                "{bad}"
            );
        }
        // Duplicate keys still make exactly two fields (last one wins).
        let v = dec(&c, r#"{"schema":null,"schema":{"type":"int32"},"payload":3}"#);
        assert_eq!(v.value, Value::Int32(3));
        for bad in ["{", "hello", "[1,]", "{\"a\" 1}", "123abc", "tru", "\"\u{1}\"", "01.", "[1 2]", "\"\\x\""] {
            let e = c.to_connect("t", Some(bad.as_bytes())).unwrap_err();
            assert!(
                e.message.starts_with("Converting byte[] to Kafka Connect data failed due to serialization error: "),
                "{bad}: {}",
                e.message
            );
        }
        let e = c.to_connect("t", Some(b"\"\xff\"")).unwrap_err();
        assert!(e.message.starts_with("Converting byte[] to Kafka Connect data failed due to serialization error: "));
        let deep = "[".repeat(1001) + &"]".repeat(1001);
        assert!(JsonConverter::with_schemas(false).to_connect("t", Some(deep.as_bytes())).is_err());
        // 1000 levels (Jackson's limit) convert both ways on a 2 MiB test thread, even unoptimized.
        let ok = "[".repeat(1000) + &"]".repeat(1000);
        let c = JsonConverter::with_schemas(false);
        let v = c.to_connect("t", Some(ok.as_bytes())).unwrap().value;
        assert_eq!(c.from_connect("t", None, &v).unwrap().unwrap(), ok.as_bytes());
        // In an envelope the schema objects (one per array, plus the item schema) sit one level
        // deeper.
        let inner = "[".repeat(998) + &"]".repeat(998);
        let v = c.to_connect("t", Some(inner.as_bytes())).unwrap().value;
        let schema = (0..997).fold(Schema::array(Schema::optional_string()), |s, _| Schema::array(s));
        let enveloped = JsonConverter::default().from_connect("t", Some(&schema), &v).unwrap().unwrap();
        assert_eq!(JsonConverter::default().to_connect("t", Some(&enveloped)).unwrap().value, v);
    }

    #[test]
    fn conversion_errors() {
        let c = JsonConverter::default();
        let e = c.from_connect("t", Some(&Schema::string()), &Value::Null).unwrap_err();
        assert_eq!(e.message, "Conversion error: null value for field that is required and has no default value");
        let e = c.from_connect("t", Some(&Schema::string()), &Value::Int32(1)).unwrap_err();
        assert_eq!(e.message, "Invalid type for STRING: class java.lang.Integer");
        let e = c.from_connect("t", Some(&Schema::int32()), &Value::Int64(1)).unwrap_err();
        assert_eq!(e.message, "Invalid type for INT32: class java.lang.Long");
        let e =
            c.to_connect("t", Some(br#"{"schema":{"type":"string","optional":false},"payload":null}"#)).unwrap_err();
        assert_eq!(e.message, "Invalid null value for required STRING field");
        let e = c.to_connect("t", Some(br#"{"schema":{"optional":false},"payload":1}"#)).unwrap_err();
        assert_eq!(e.message, "Schema must contain 'type' field");
        let e = c.to_connect("t", Some(br#"{"schema":{"type":"uuid"},"payload":1}"#)).unwrap_err();
        assert_eq!(e.message, "Unknown schema type: uuid");
        let e = c.to_connect("t", Some(br#"{"schema":{"type":"struct","fields":[]},"payload":[]}"#)).unwrap_err();
        assert_eq!(e.message, "Structs should be encoded as JSON objects, but found ARRAY");
        let e = c
            .to_connect(
                "t",
                Some(br#"{"schema":{"type":"map","keys":{"type":"int8"},"values":{"type":"int8"}},"payload":{}}"#),
            )
            .unwrap_err();
        assert_eq!(
            e.message,
            "Maps with non-string fields should be encoded as JSON array of tuples, but found OBJECT"
        );
        let e = c
            .to_connect(
                "t",
                Some(br#"{"schema":{"type":"int64","name":"org.apache.kafka.connect.data.Timestamp"},"payload":"x"}"#),
            )
            .unwrap_err();
        assert_eq!(
            e.message,
            "Invalid type for Timestamp, underlying representation should be integral but was STRING"
        );
    }

    #[test]
    fn lenient_primitive_reads_like_jackson() {
        let c = JsonConverter::default();
        assert_eq!(dec(&c, r#"{"schema":{"type":"int32"},"payload":1.9}"#).value, Value::Int32(1));
        assert_eq!(dec(&c, r#"{"schema":{"type":"int8"},"payload":300}"#).value, Value::Int8(44));
        assert_eq!(dec(&c, r#"{"schema":{"type":"int32"},"payload":"12"}"#).value, Value::Int32(0));
        assert_eq!(dec(&c, r#"{"schema":{"type":"string"},"payload":12}"#).value, Value::Null);
        assert_eq!(dec(&c, r#"{"schema":{"type":"float"},"payload":0.1}"#).value, Value::Float32(0.1));
    }

    #[test]
    fn config_errors() {
        let e = JsonConverter::new(&cfg(&[("schemas.enable", "maybe")])).unwrap_err();
        assert_eq!(
            e.message,
            "Invalid value maybe for configuration schemas.enable: Expected value to be either true or false"
        );
        let e = JsonConverter::new(&cfg(&[("schemas.cache.size", "x")])).unwrap_err();
        assert_eq!(e.message, "Invalid value x for configuration schemas.cache.size: Not a number of type INT");
        let e = JsonConverter::new(&cfg(&[("decimal.format", "hex")])).unwrap_err();
        assert_eq!(e.message, "Invalid value hex for configuration decimal.format: String must be one of (case insensitive): BASE64, NUMERIC");
        assert!(!JsonConverter::new(&cfg(&[("schemas.enable", " FALSE ")])).unwrap().schemas_enabled());
    }

    /// Measures the source/sink hot paths (figures in the module docs). Run:
    /// `cargo test --release --lib data::json::tests::bench -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bench_string_envelope() {
        let c = JsonConverter::default();
        let schema = Schema::string();
        let line = Value::String("a typical FileStreamSource line of some 60 bytes of text....".into());
        let n = 2_000_000;
        let t = std::time::Instant::now();
        let mut total = 0usize;
        for _ in 0..n {
            let b = c.from_connect("t", Some(&schema), std::hint::black_box(&line)).unwrap().unwrap();
            total += b.len();
        }
        let per = t.elapsed().as_nanos() as f64 / n as f64;
        println!("JsonConverter envelope string from_connect: {per:.1} ns/record ({total} bytes)");
        let bytes = c.from_connect("t", Some(&schema), &line).unwrap().unwrap();
        let t = std::time::Instant::now();
        for _ in 0..n {
            let v = c.to_connect("t", Some(std::hint::black_box(&bytes))).unwrap();
            std::hint::black_box(v);
        }
        let per = t.elapsed().as_nanos() as f64 / n as f64;
        println!("JsonConverter envelope string to_connect: {per:.1} ns/record");
        let st =
            Schema::structure(vec![Field::new("content", Schema::string()), Field::new("ts", Schema::timestamp(true))]);
        let sv = Value::Struct(vec![("content".into(), line.clone()), ("ts".into(), Value::Int64(1_700_000_000_000))]);
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(c.from_connect("t", Some(&st), std::hint::black_box(&sv)).unwrap());
        }
        let per = t.elapsed().as_nanos() as f64 / n as f64;
        println!("JsonConverter envelope struct from_connect: {per:.1} ns/record");
    }
}
