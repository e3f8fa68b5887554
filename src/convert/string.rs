//! `org.apache.kafka.connect.storage.StringConverter`: `converter.encoding` UTF-8 (default),
//! US-ASCII or ISO-8859-1 (Java's aliases accepted).

use std::collections::BTreeMap;

use super::{header_via_converter, Converter, DataError, HeaderConverter};
use crate::data::{Schema, SchemaAndValue, Value};
use crate::plugin::config_def::{key, Check, Config, ConfigKey, ConfigType, DefaultValue, Importance};
use crate::plugin::registry::{Factory, Plugin, PluginType, KAFKA_VERSION};

/// `StringConverterConfig`.
pub const KEYS: &[ConfigKey] = &[key(
    "converter.encoding",
    ConfigType::String,
    DefaultValue::Value("UTF-8"),
    Check::None,
    Importance::High,
    Some("Converter"),
    1,
    "Encoding",
    "The name of the Java character set to use for encoding strings as byte arrays.",
)];

pub const CONVERTER: Plugin = Plugin {
    class: "org.apache.kafka.connect.storage.StringConverter",
    aliases: &["StringConverter", "String"],
    ty: PluginType::Converter,
    version: KAFKA_VERSION,
    config: KEYS,
    factory: Factory::Converter(|c, _| Ok(Box::new(StringConverter::new(c)?))),
};

pub const HEADER_CONVERTER: Plugin = Plugin {
    class: "org.apache.kafka.connect.storage.StringConverter",
    aliases: &["StringConverter", "String"],
    ty: PluginType::HeaderConverter,
    version: KAFKA_VERSION,
    config: KEYS,
    factory: Factory::HeaderConverter(|c| Ok(Box::new(StringConverter::new(c)?))),
};

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
        let name = Config::new(KEYS, config).string("converter.encoding")?.unwrap_or_default();
        let encoding = match name.to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" | "unicode-1-1-utf-8" => Encoding::Utf8,
            "us-ascii" | "ascii" | "us" | "iso646-us" | "ascii7" | "646" | "cp367" | "csascii" | "default"
            | "ibm367" | "iso-ir-6" | "iso_646.irv:1983" | "ansi_x3.4-1968" | "ansi_x3.4-1986" => Encoding::Ascii,
            "iso-8859-1" | "iso8859-1" | "iso8859_1" | "iso_8859_1" | "iso_8859-1" | "iso_8859-1:1987" | "latin1"
            | "l1" | "8859_1" | "cp819" | "ibm819" | "ibm-819" | "819" | "csisolatin1" | "iso-ir-100" => {
                Encoding::Latin1
            }
            _ => return Err(DataError::new(format!("Unsupported encoding {name}"))),
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
