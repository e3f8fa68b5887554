//! `org.apache.kafka.connect.converters.BooleanConverter`: one byte 0/1, optional boolean.

use super::{header_via_converter, Converter, DataError, HeaderConverter};
use crate::data::{Schema, SchemaAndValue, Type, Value};
use crate::plugin::registry::{Factory, Plugin, PluginType, KAFKA_VERSION};

pub const CONVERTER: Plugin = Plugin {
    class: "org.apache.kafka.connect.converters.BooleanConverter",
    aliases: &["BooleanConverter", "Boolean"],
    ty: PluginType::Converter,
    version: KAFKA_VERSION,
    config: &[],
    factory: Factory::Converter(|_, _| Ok(Box::new(BooleanConverter))),
};

pub const HEADER_CONVERTER: Plugin = Plugin {
    class: "org.apache.kafka.connect.converters.BooleanConverter",
    aliases: &["BooleanConverter", "Boolean"],
    ty: PluginType::HeaderConverter,
    version: KAFKA_VERSION,
    config: &[],
    factory: Factory::HeaderConverter(|_| Ok(Box::new(BooleanConverter))),
};

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
