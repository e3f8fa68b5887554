//! `org.apache.kafka.connect.converters.ByteArrayConverter`: pass-through, BYTES or no schema.

use super::{header_via_converter, Converter, DataError, HeaderConverter};
use crate::data::{Schema, SchemaAndValue, Type, Value};
use crate::plugin::registry::{Factory, Plugin, PluginType, KAFKA_VERSION};

pub const CONVERTER: Plugin = Plugin {
    class: "org.apache.kafka.connect.converters.ByteArrayConverter",
    aliases: &["ByteArrayConverter", "ByteArray"],
    ty: PluginType::Converter,
    version: KAFKA_VERSION,
    config: &[],
    factory: Factory::Converter(|_, _| Ok(Box::new(ByteArrayConverter))),
};

pub const HEADER_CONVERTER: Plugin = Plugin {
    class: "org.apache.kafka.connect.converters.ByteArrayConverter",
    aliases: &["ByteArrayConverter", "ByteArray"],
    ty: PluginType::HeaderConverter,
    version: KAFKA_VERSION,
    config: &[],
    factory: Factory::HeaderConverter(|_| Ok(Box::new(ByteArrayConverter))),
};

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
