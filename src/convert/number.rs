//! `NumberConverter`'s subclasses, `org.apache.kafka.connect.converters.{Short,Integer,Long,
//! Float,Double}Converter`: fixed-width big-endian (Kafka's serializers), read as the optional
//! numeric schema.

use super::{header_via_converter, Converter, DataError, HeaderConverter};
use crate::data::{Schema, SchemaAndValue, Type, Value};
use crate::plugin::registry::{Factory, Plugin, PluginType, KAFKA_VERSION};

/// One numeric converter's registry entries (as converter and as header converter).
macro_rules! number_plugins {
    ($conv:ident, $header:ident, $class:literal, $simple:literal, $pruned:literal, $ty:expr) => {
        pub const $conv: Plugin = Plugin {
            class: $class,
            aliases: &[$simple, $pruned],
            ty: PluginType::Converter,
            version: KAFKA_VERSION,
            config: &[],
            factory: Factory::Converter(|_, _| Ok(Box::new(NumberConverter::new($ty)))),
        };
        pub const $header: Plugin = Plugin {
            class: $class,
            aliases: &[$simple, $pruned],
            ty: PluginType::HeaderConverter,
            version: KAFKA_VERSION,
            config: &[],
            factory: Factory::HeaderConverter(|_| Ok(Box::new(NumberConverter::new($ty)))),
        };
    };
}

number_plugins!(
    SHORT,
    SHORT_HEADER,
    "org.apache.kafka.connect.converters.ShortConverter",
    "ShortConverter",
    "Short",
    Type::Int16
);
number_plugins!(
    INTEGER,
    INTEGER_HEADER,
    "org.apache.kafka.connect.converters.IntegerConverter",
    "IntegerConverter",
    "Integer",
    Type::Int32
);
number_plugins!(
    LONG,
    LONG_HEADER,
    "org.apache.kafka.connect.converters.LongConverter",
    "LongConverter",
    "Long",
    Type::Int64
);
number_plugins!(
    FLOAT,
    FLOAT_HEADER,
    "org.apache.kafka.connect.converters.FloatConverter",
    "FloatConverter",
    "Float",
    Type::Float32
);
number_plugins!(
    DOUBLE,
    DOUBLE_HEADER,
    "org.apache.kafka.connect.converters.DoubleConverter",
    "DoubleConverter",
    "Double",
    Type::Float64
);

/// `NumberConverter` subclasses: Short/Integer/Long/Float/Double converters.
#[derive(Clone, Copy, Debug)]
pub struct NumberConverter {
    ty: Type,
}

impl NumberConverter {
    const fn new(ty: Type) -> NumberConverter {
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
