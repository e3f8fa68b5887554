//! Log levels changeable at run time (`/admin/loggers`, KIP-495/KIP-976): Kafka Connect's level
//! names over tracing's `EnvFilter`, applied through a reload handle installed by the binary.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Kafka Connect's (log4j's) level names.
pub const LEVELS: [&str; 6] = ["DEBUG", "ERROR", "FATAL", "INFO", "TRACE", "WARN"];

/// Loggers that stay quieter than the root unless set explicitly.
const BASE_DIRECTIVES: &str = "openraft=warn,tower_http=warn";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggerLevel {
    pub level: String,
    /// Milliseconds since the epoch of the last explicit change; None for the startup level.
    pub last_modified: Option<i64>,
}

type Apply = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

pub struct LogControl {
    levels: Mutex<BTreeMap<String, LoggerLevel>>,
    apply: Apply,
}

/// `FATAL` has no tracing equivalent: it is `error`.
fn tracing_level(level: &str) -> &'static str {
    match level {
        "TRACE" => "trace",
        "DEBUG" => "debug",
        "INFO" => "info",
        "WARN" => "warn",
        _ => "error",
    }
}

/// Logger names are tracing targets; Java-style dots become Rust path separators.
fn target(name: &str) -> String {
    name.replace('.', "::")
}

impl std::fmt::Debug for LogControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogControl").field("levels", &*self.lock()).finish()
    }
}

impl LogControl {
    pub fn new(root_level: &str, apply: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static) -> Self {
        let levels = BTreeMap::from([(
            "root".to_string(),
            LoggerLevel { level: root_level.to_ascii_uppercase(), last_modified: None },
        )]);
        Self { levels: Mutex::new(levels), apply: Box::new(apply) }
    }

    /// A control that records levels but changes nothing (library use, tests).
    pub fn detached() -> Self {
        Self::new("INFO", |_| Ok(()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, LoggerLevel>> {
        self.levels.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every explicitly set logger and `root`.
    pub fn all(&self) -> BTreeMap<String, LoggerLevel> {
        self.lock().clone()
    }

    /// The level of `name`: its own, else its nearest set ancestor's, else root's.
    pub fn effective(&self, name: &str) -> LoggerLevel {
        let levels = self.lock();
        if let Some(l) = levels.get(name) {
            return l.clone();
        }
        let mut best: Option<&LoggerLevel> = None;
        let mut best_len = 0;
        for (k, v) in levels.iter() {
            if k != "root" && name.starts_with(&format!("{k}.")) && k.len() > best_len {
                best = Some(v);
                best_len = k.len();
            }
        }
        let level = best.or_else(|| levels.get("root")).map(|l| l.level.clone()).unwrap_or_else(|| "INFO".into());
        LoggerLevel { level, last_modified: None }
    }

    /// Set `name` (and its explicitly set descendants) to `level`; returns the affected loggers.
    pub fn set(&self, name: &str, level: &str) -> Result<Vec<String>, String> {
        let level = level.to_ascii_uppercase();
        if !LEVELS.contains(&level.as_str()) {
            return Err(format!("invalid log level '{level}'."));
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
        let directives = {
            let mut levels = self.lock();
            let mut affected: Vec<String> =
                levels.keys().filter(|k| name == "root" || k.starts_with(&format!("{name}."))).cloned().collect();
            if !affected.iter().any(|k| k == name) {
                affected.push(name.to_string());
            }
            for k in &affected {
                levels.insert(k.clone(), LoggerLevel { level: level.clone(), last_modified: Some(now) });
            }
            affected.sort();
            let root = levels.get("root").map(|l| tracing_level(&l.level)).unwrap_or("info");
            let mut d = format!("{root},{BASE_DIRECTIVES}");
            for (k, v) in levels.iter().filter(|(k, _)| k.as_str() != "root") {
                d.push_str(&format!(",{}={}", target(k), tracing_level(&v.level)));
            }
            (d, affected)
        };
        (self.apply)(&directives.0)?;
        Ok(directives.1)
    }

    /// The filter directives to start with for a root level.
    pub fn initial_directives(root_level: &str) -> String {
        format!("{},{BASE_DIRECTIVES}", tracing_level(&root_level.to_ascii_uppercase()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn levels_apply_to_descendants_and_produce_directives() {
        let seen = Arc::new(Mutex::new(String::new()));
        let s2 = seen.clone();
        let c = LogControl::new("INFO", move |d| {
            *s2.lock().unwrap() = d.to_string();
            Ok(())
        });
        assert_eq!(c.set("raftconnect.rest.connectors", "debug").unwrap(), vec!["raftconnect.rest.connectors"]);
        assert_eq!(c.set("raftconnect", "WARN").unwrap(), vec!["raftconnect", "raftconnect.rest.connectors"]);
        assert_eq!(c.effective("raftconnect.rest.connectors").level, "WARN");
        assert_eq!(c.effective("raftconnect.server").level, "WARN");
        assert_eq!(c.effective("other").level, "INFO");
        assert!(seen.lock().unwrap().contains("raftconnect::rest::connectors=warn"));
        assert_eq!(c.set("x", "loud").unwrap_err(), "invalid log level 'LOUD'.");
    }
}
