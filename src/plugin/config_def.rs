//! Kafka Connect's `ConfigDef`: a plugin declares each of its config keys once — name, type,
//! default, bounds, importance, docs, group — and reads its config back through that
//! declaration ([`Config`]), so a default or a bound is written in one place and validation
//! (`PUT …/config/validate`) and the running plugin cannot disagree.

use std::collections::BTreeMap;

use serde::Serialize;

use super::registry::{self, PluginType};

/// `ConfigDef.Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConfigType {
    Boolean,
    String,
    Int,
    Short,
    Long,
    Double,
    List,
    Class,
    Password,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Importance {
    High,
    Medium,
    Low,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Width {
    None,
    Short,
    Medium,
    Long,
}

/// A key's default: none (the key is required), null, or a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultValue {
    Required,
    Null,
    Value(&'static str),
}

/// Value checks beyond the type, with Kafka Connect's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    None,
    AtLeast(i64),
    /// Kafka's `ConfigDef.Range.between`.
    Between(i64, i64),
    OneOf(&'static [&'static str]),
    NonEmpty,
    /// Non-empty and free of ISO control characters (connector names).
    NonEmptyNoControl,
    /// A converter class name, resolved through the registry.
    Converter,
    HeaderConverter,
}

#[derive(Clone, Copy, Debug)]
pub struct ConfigKey {
    pub name: &'static str,
    pub ty: ConfigType,
    pub default: DefaultValue,
    pub check: Check,
    pub importance: Importance,
    pub documentation: &'static str,
    pub group: Option<&'static str>,
    pub order: i32,
    pub width: Width,
    pub display_name: &'static str,
}

/// A key, with the width Kafka Connect's own definitions give its type.
#[allow(clippy::too_many_arguments)]
pub const fn key(
    name: &'static str,
    ty: ConfigType,
    default: DefaultValue,
    check: Check,
    importance: Importance,
    group: Option<&'static str>,
    order: i32,
    display_name: &'static str,
    documentation: &'static str,
) -> ConfigKey {
    let width = match ty {
        ConfigType::Int | ConfigType::Short | ConfigType::Long | ConfigType::Boolean => Width::Short,
        ConfigType::List | ConfigType::Class => Width::Long,
        _ => Width::Medium,
    };
    ConfigKey { name, ty, default, check, importance, documentation, group, order, width, display_name }
}

/// Kafka's `ConfigDef.Type.LIST` of a value: comma-separated, each item trimmed, empty items
/// dropped (an empty or blank value is the empty list).
pub fn parse_list(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// What `ConfigDef.convertToString` shows of a PASSWORD value: `Password.toString()`.
pub const HIDDEN: &str = "[hidden]";

/// `ConfigException`'s message for a value: "Invalid value {value} for configuration {name}: {reason}".
pub fn invalid(name: &str, value: &str, reason: &str) -> String {
    format!("Invalid value {value} for configuration {name}: {reason}")
}

/// The errors of one key's value, as `ConfigDef.validate` reports them.
///
/// A value holding a config-provider placeholder (`${provider:[path:]key}`) is not checked
/// here: placeholders are resolved only on the node that runs the unit, when it starts, and
/// the plugin reads the resolved value there through [`Config`] (a bad one fails the unit).
pub fn check_value(k: &ConfigKey, value: Option<&str>) -> Vec<String> {
    let Some(raw) = value else {
        return match k.default {
            DefaultValue::Required => {
                vec![format!("Missing required configuration \"{}\" which has no default value.", k.name)]
            }
            _ => Vec::new(),
        };
    };
    if crate::config::providers::has_placeholder(raw) {
        return Vec::new();
    }
    check_resolved(k, raw)
}

/// [`check_value`] of a given value with no placeholder in it.
fn check_resolved(k: &ConfigKey, raw: &str) -> Vec<String> {
    let trimmed = raw.trim();
    // A PASSWORD value appears in messages as `Password.toString()` does.
    let shown = if k.ty == ConfigType::Password { HIDDEN } else { raw };
    let type_error = match k.ty {
        ConfigType::Int => trimmed.parse::<i32>().err().map(|_| "Not a number of type INT"),
        ConfigType::Short => trimmed.parse::<i16>().err().map(|_| "Not a number of type SHORT"),
        ConfigType::Long => trimmed.parse::<i64>().err().map(|_| "Not a number of type LONG"),
        ConfigType::Double => trimmed.parse::<f64>().err().map(|_| "Not a number of type DOUBLE"),
        ConfigType::Boolean => (!trimmed.eq_ignore_ascii_case("true") && !trimmed.eq_ignore_ascii_case("false"))
            .then_some("Expected value to be either true or false"),
        _ => None,
    };
    if let Some(reason) = type_error {
        return vec![invalid(k.name, shown, reason)];
    }
    let error = match k.check {
        Check::None => None,
        Check::AtLeast(min) => match trimmed.parse::<i64>() {
            Ok(v) if v < min => Some(format!("Value must be at least {min}")),
            _ => None,
        },
        Check::Between(min, max) => match trimmed.parse::<i64>() {
            Ok(v) if v < min => Some(format!("Value must be at least {min}")),
            Ok(v) if v > max => Some(format!("Value must be no more than {max}")),
            _ => None,
        },
        Check::OneOf(allowed) => {
            (!allowed.contains(&trimmed)).then(|| format!("String must be one of: {}", allowed.join(", ")))
        }
        Check::NonEmpty => trimmed.is_empty().then(|| "String must be non-empty".to_string()),
        Check::NonEmptyNoControl => {
            if raw.is_empty() {
                Some("String may not be empty".to_string())
            } else {
                let controls: Vec<String> =
                    raw.chars().filter(|c| c.is_control()).map(|c| (c as u32).to_string()).collect();
                (!controls.is_empty()).then(|| {
                    format!(
                        "String may not contain control sequences but had the following ASCII chars: {}",
                        controls.join(", ")
                    )
                })
            }
        }
        Check::Converter => registry::find(trimmed, |t| t == PluginType::Converter)
            .is_none()
            .then(|| format!("Class {trimmed} could not be found.")),
        Check::HeaderConverter => registry::find(trimmed, |t| t == PluginType::HeaderConverter)
            .is_none()
            .then(|| format!("Class {trimmed} could not be found.")),
    };
    error.map(|reason| vec![invalid(k.name, shown, &reason)]).unwrap_or_default()
}

/// A config value that its declaration refuses (or a key the plugin never declared), with
/// Kafka's `ConfigException` message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// A plugin's config read through its declared keys: every getter checks the value (or the
/// declared default) against the key's type and bounds, with Kafka's messages.
#[derive(Clone, Copy)]
pub struct Config<'a> {
    keys: &'static [ConfigKey],
    values: &'a BTreeMap<String, String>,
}

impl<'a> Config<'a> {
    pub fn new(keys: &'static [ConfigKey], values: &'a BTreeMap<String, String>) -> Self {
        Self { keys, values }
    }

    /// The value given, else the declared default; `None` for a null default. Checked.
    fn raw(&self, name: &str) -> Result<Option<&'a str>, ConfigError> {
        let Some(k) = self.keys.iter().find(|k| k.name == name) else {
            return Err(ConfigError(format!("Unknown configuration '{name}'")));
        };
        let value = match (self.values.get(name), k.default) {
            (Some(v), _) => Some(v.as_str()),
            (None, DefaultValue::Value(d)) => Some(d),
            (None, DefaultValue::Null) => None,
            (None, DefaultValue::Required) => {
                return Err(ConfigError(format!(
                    "Missing required configuration \"{name}\" which has no default value."
                )))
            }
        };
        if let Some(v) = value {
            if let Some(e) = check_resolved(k, v).into_iter().next() {
                return Err(ConfigError(e));
            }
        }
        Ok(value)
    }

    /// A STRING (or CLASS, PASSWORD) value, trimmed as Kafka trims it; `None` for a null default.
    pub fn string(&self, name: &str) -> Result<Option<String>, ConfigError> {
        Ok(self.raw(name)?.map(|v| v.trim().to_string()))
    }

    /// A STRING value that is neither null nor blank: `None` otherwise.
    pub fn non_blank(&self, name: &str) -> Result<Option<String>, ConfigError> {
        Ok(self.string(name)?.filter(|v| !v.is_empty()))
    }

    fn number<T: std::str::FromStr>(&self, name: &str) -> Result<T, ConfigError> {
        let v = self.raw(name)?.ok_or_else(|| ConfigError(format!("Configuration {name} has no value")))?;
        v.trim().parse().map_err(|_| ConfigError(invalid(name, v, "Not a number")))
    }

    pub fn int(&self, name: &str) -> Result<i32, ConfigError> {
        self.number(name)
    }

    pub fn long(&self, name: &str) -> Result<i64, ConfigError> {
        self.number(name)
    }

    /// An INT or LONG that its declared bounds keep at zero or more, as a `usize`.
    pub fn count(&self, name: &str) -> Result<usize, ConfigError> {
        let n = self.long(name)?;
        usize::try_from(n).map_err(|_| ConfigError(invalid(name, &n.to_string(), "Value must be at least 0")))
    }

    pub fn boolean(&self, name: &str) -> Result<bool, ConfigError> {
        let v = self.raw(name)?.ok_or_else(|| ConfigError(format!("Configuration {name} has no value")))?;
        Ok(v.trim().eq_ignore_ascii_case("true"))
    }

    /// A LIST value ([`parse_list`]); a null default is the empty list.
    pub fn list(&self, name: &str) -> Result<Vec<String>, ConfigError> {
        Ok(self.raw(name)?.map(parse_list).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use Check as C;
    use ConfigType as T;
    use DefaultValue as D;
    use Importance as I;

    const KEYS: &[ConfigKey] = &[
        key("size", T::Int, D::Value("2000"), C::Between(1, 10), I::Low, None, -1, "size", ""),
        key("name", T::String, D::Required, C::NonEmpty, I::High, None, -1, "name", ""),
        key("file", T::String, D::Null, C::None, I::High, None, -1, "file", ""),
        key("on", T::Boolean, D::Value("false"), C::None, I::Low, None, -1, "on", ""),
        key("items", T::List, D::Value(""), C::None, I::Low, None, -1, "items", ""),
    ];

    fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn getters_read_the_declared_default_and_bounds() {
        let empty = config(&[]);
        let c = Config::new(KEYS, &empty);
        // The declared default is read, and checked against the declared bounds like a value.
        assert_eq!(
            c.int("size").unwrap_err().0,
            "Invalid value 2000 for configuration size: Value must be no more than 10"
        );
        assert_eq!(
            c.string("name").unwrap_err().0,
            "Missing required configuration \"name\" which has no default value."
        );
        assert_eq!(c.string("file").unwrap(), None);
        assert!(!c.boolean("on").unwrap());
        assert!(c.list("items").unwrap().is_empty());
        assert_eq!(c.int("undeclared").unwrap_err().0, "Unknown configuration 'undeclared'");

        let given = config(&[("size", " 7 "), ("name", "x"), ("on", "TRUE"), ("items", "a, ,b ,")]);
        let c = Config::new(KEYS, &given);
        assert_eq!(c.int("size").unwrap(), 7);
        assert_eq!(c.count("size").unwrap(), 7);
        assert_eq!(c.string("name").unwrap().as_deref(), Some("x"));
        assert!(c.boolean("on").unwrap());
        assert_eq!(c.list("items").unwrap(), vec!["a", "b"]);

        let bad = config(&[("size", "0"), ("on", "yes")]);
        let c = Config::new(KEYS, &bad);
        assert_eq!(c.int("size").unwrap_err().0, "Invalid value 0 for configuration size: Value must be at least 1");
        assert_eq!(
            c.boolean("on").unwrap_err().0,
            "Invalid value yes for configuration on: Expected value to be either true or false"
        );
    }

    /// The getters and validation give one answer: a value validation accepts is read without
    /// error, and one it refuses is refused with the same message.
    #[test]
    fn getters_agree_with_validation() {
        for v in ["0", "1", "10", "11", "x", " 5"] {
            let values = config(&[("size", v)]);
            let checked = check_value(&KEYS[0], Some(v));
            let read = Config::new(KEYS, &values).int("size");
            assert_eq!(checked.first().cloned(), read.err().map(|e| e.0), "size={v}");
        }
    }
}
