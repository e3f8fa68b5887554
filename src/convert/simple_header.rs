//! `org.apache.kafka.connect.storage.SimpleHeaderConverter` (the worker default):
//! `Values.convertToString` / `Values.parseString`. Deviation: header bytes that are not UTF-8
//! come back as BYTES (Java would decode them lossily and parse the result; its own fallback for
//! unparsable input is BYTES too).

use super::{DataError, HeaderConverter};
use crate::data::{values, Schema, SchemaAndValue, Value};
use crate::plugin::registry::{Factory, Plugin, PluginType, KAFKA_VERSION};

pub const HEADER_CONVERTER: Plugin = Plugin {
    class: "org.apache.kafka.connect.storage.SimpleHeaderConverter",
    aliases: &["SimpleHeaderConverter", "Simple"],
    ty: PluginType::HeaderConverter,
    version: KAFKA_VERSION,
    config: &[],
    factory: Factory::HeaderConverter(|_| Ok(Box::new(SimpleHeaderConverter))),
};

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
