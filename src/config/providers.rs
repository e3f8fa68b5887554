//! Kafka Connect's config providers (KIP-297): `${provider:[path:]key}` placeholders in
//! connector and task configs, resolved with the providers of the worker properties
//! (`config.providers=file,dir,env`, `config.providers.<name>.class`,
//! `config.providers.<name>.param.<key>`).
//!
//! Placeholders are stored and replicated as they are; only the node that runs a unit resolves
//! them, when the unit starts, and keeps the result in memory. Task configs a connector
//! generates from its resolved config are reverse-transformed before they are written (Kafka
//! Connect's `AbstractHerder.reverseTransform`), so resolved values never enter the log.
//!
//! The three providers of Kafka: `FileConfigProvider` (a Java properties file and one of its
//! keys), `DirectoryConfigProvider` (a directory and the name of a file in it; the value is the
//! whole file), `EnvVarConfigProvider` (an environment variable). `allowed.paths` (KIP-993)
//! confines the first two, `allowlist.pattern` the third.
//!
//! Where this differs from Kafka, it fails instead of passing a placeholder on unresolved: a
//! missing file, key, directory entry or variable, a path outside `allowed.paths` and a
//! variable outside `allowlist.pattern` are errors (Kafka leaves the placeholder as it is, with
//! at most a log line), and so are unknown worker keys under `config.providers.`. A provider
//! name that is not configured still leaves its placeholders unchanged, as in Kafka.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::LazyLock;

use raftconnect_storage::model::ConfigMap;
use regex::Regex;

use crate::config::{ConfigError, Props};

pub const FILE_CONFIG_PROVIDER: &str = "org.apache.kafka.common.config.provider.FileConfigProvider";
pub const DIRECTORY_CONFIG_PROVIDER: &str = "org.apache.kafka.common.config.provider.DirectoryConfigProvider";
pub const ENV_VAR_CONFIG_PROVIDER: &str = "org.apache.kafka.common.config.provider.EnvVarConfigProvider";
/// KIP-993: the paths the file and directory providers may read (comma-separated, absolute).
pub const ALLOWED_PATHS: &str = "allowed.paths";
/// The variables the environment provider may read: a regex the whole name must match.
pub const ALLOWLIST_PATTERN: &str = "allowlist.pattern";

/// The worker key listing the providers, and the prefix of their own keys.
pub const PROVIDERS_KEY: &str = "config.providers";
const PREFIX: &str = "config.providers.";

/// `ConfigTransformer.DEFAULT_PATTERN`: `${provider:[path:]key}`.
static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}").expect("the placeholder pattern is valid"));

/// Does `value` hold a `${provider:[path:]key}` placeholder?
pub fn has_placeholder(value: &str) -> bool {
    PLACEHOLDER.is_match(value)
}

/// Why a placeholder could not be resolved. Every message names the config key and the
/// placeholder, and never a resolved value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("Could not resolve {placeholder} in config key {key}: config provider {provider} needs a path (${{{provider}:<path>:<key>}})")]
    NoPath { key: String, placeholder: String, provider: String },
    #[error("Could not resolve {placeholder} in config key {key}: the path {path} is outside the allowed.paths of config provider {provider}")]
    PathNotAllowed { key: String, placeholder: String, provider: String, path: String },
    #[error(
        "Could not resolve {placeholder} in config key {key}: could not read properties from file {path}: {reason}"
    )]
    FileRead { key: String, placeholder: String, path: String, reason: String },
    #[error("Could not resolve {placeholder} in config key {key}: the properties file {path} has no key {name}")]
    FileKeyMissing { key: String, placeholder: String, path: String, name: String },
    #[error("Could not resolve {placeholder} in config key {key}: {path} is not a directory")]
    NotADirectory { key: String, placeholder: String, path: String },
    #[error("Could not resolve {placeholder} in config key {key}: the directory {path} has no regular file {name}")]
    DirFileMissing { key: String, placeholder: String, path: String, name: String },
    #[error(
        "Could not resolve {placeholder} in config key {key}: could not read file {path} for property {name}: {reason}"
    )]
    DirFileRead { key: String, placeholder: String, path: String, name: String, reason: String },
    #[error("Could not resolve {placeholder} in config key {key}: Path is not supported for EnvVarConfigProvider, invalid value '{path}'")]
    EnvPath { key: String, placeholder: String, path: String },
    #[error("Could not resolve {placeholder} in config key {key}: the environment variable {name} is not set")]
    EnvMissing { key: String, placeholder: String, name: String },
    #[error("Could not resolve {placeholder} in config key {key}: the environment variable {name} does not match the allowlist.pattern of config provider {provider}")]
    EnvNotAllowed { key: String, placeholder: String, provider: String, name: String },
}

/// KIP-993's `AllowedPaths`: `None` allows every path.
#[derive(Debug, Clone)]
struct AllowedPaths(Option<Vec<PathBuf>>);

impl AllowedPaths {
    fn parse(key: &str, value: Option<&str>) -> Result<Self, ConfigError> {
        let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
            return Ok(Self(None));
        };
        let mut paths = Vec::new();
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let path = normalize(Path::new(entry));
            let invalid = |reason: String| ConfigError::Invalid { key: key.into(), value: value.into(), reason };
            if !path.is_absolute() {
                return Err(invalid(format!("Path {} is not absolute", path.display())));
            }
            if !path.exists() {
                return Err(invalid(format!("Path {} does not exist", path.display())));
            }
            paths.push(path);
        }
        Ok(Self(Some(paths)))
    }

    /// `parseUntrustedPath`: the path to read, or `None` if it is outside the allowed paths.
    fn check(&self, path: &str) -> Option<PathBuf> {
        match &self.0 {
            None => Some(PathBuf::from(path)),
            Some(allowed) => {
                let normalized = normalize(Path::new(path));
                allowed.iter().any(|a| normalized.starts_with(a)).then_some(normalized)
            }
        }
    }
}

/// Java's `Path.normalize`: drop `.`, fold `name/..`, lexically (no file system access).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    let mut names = 0usize;
    for c in path.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => out.push(c.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir if names > 0 => {
                out.pop();
                names -= 1;
            }
            // `/..` is `/`; a relative path keeps its leading `..`.
            Component::ParentDir if out.has_root() => {}
            Component::ParentDir => out.push(".."),
            Component::Normal(n) => {
                out.push(n);
                names += 1;
            }
        }
    }
    out
}

enum Kind {
    File(AllowedPaths),
    Dir(AllowedPaths),
    /// The variables of this process the allowlist admits, read once when the worker config
    /// is loaded (as Kafka's provider does), and the names of those it does not.
    Env {
        pattern: Option<String>,
        vars: HashMap<String, String>,
        refused: BTreeSet<String>,
    },
}

struct Provider {
    class: &'static str,
    kind: Kind,
}

/// The config providers of this worker (`config.providers`), by name.
#[derive(Default)]
pub struct ConfigProviders {
    providers: BTreeMap<String, Provider>,
}

/// Names, classes and parameters; never a variable's value.
impl fmt::Debug for ConfigProviders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (name, p) in &self.providers {
            let params = match &p.kind {
                Kind::File(a) | Kind::Dir(a) => format!("{ALLOWED_PATHS}={:?}", a.0),
                Kind::Env { pattern, vars, .. } => format!("{ALLOWLIST_PATTERN}={pattern:?}, {} variables", vars.len()),
            };
            m.entry(name, &format_args!("{} ({params})", p.class));
        }
        m.finish()
    }
}

fn list(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// One `${provider:[path:]key}` occurrence.
struct Placeholder<'a> {
    text: &'a str,
    provider: &'a str,
    path: &'a str,
    name: &'a str,
}

fn placeholders(value: &str) -> impl Iterator<Item = (std::ops::Range<usize>, Placeholder<'_>)> {
    PLACEHOLDER.captures_iter(value).map(|c| {
        let whole = c.get(0).expect("group 0 always matches");
        let group = |i: usize| c.get(i).map(|m| m.as_str()).unwrap_or("");
        let p = Placeholder { text: whole.as_str(), provider: group(1), path: group(3), name: group(4) };
        (whole.range(), p)
    })
}

impl ConfigProviders {
    /// The providers the worker properties configure. Refuses, naming the key, a listed name
    /// without a `.class`, an unknown class, an unknown parameter, an invalid `allowed.paths` or
    /// `allowlist.pattern`, and any `config.providers.*` key of a provider that is not listed.
    pub fn from_worker_props(props: &Props) -> Result<Self, ConfigError> {
        let env: Vec<(String, String)> =
            std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect();
        Self::with_env(props, env)
    }

    /// [`Self::from_worker_props`] with the given environment instead of the process's.
    fn with_env(props: &Props, env: Vec<(String, String)>) -> Result<Self, ConfigError> {
        let listed = props.get(PROVIDERS_KEY).map(|v| list(v)).unwrap_or_default();
        let mut params: BTreeMap<&str, BTreeMap<&str, (&str, &str)>> = BTreeMap::new();
        for (key, value) in props.iter().filter(|(k, _)| k.starts_with(PREFIX)) {
            let rest = &key[PREFIX.len()..];
            // The longest listed name the key is under (names may contain dots).
            let owner = listed
                .iter()
                .filter(|n| rest.strip_prefix(n.as_str()).is_some_and(|r| r.starts_with('.')))
                .max_by_key(|n| n.len());
            let Some(name) = owner else {
                return Err(ConfigError::Invalid {
                    key: key.clone(),
                    value: value.clone(),
                    reason: format!(
                        "the key belongs to no config provider listed in {PROVIDERS_KEY} ({})",
                        listed.join(",")
                    ),
                });
            };
            let sub = &rest[name.len() + 1..];
            if sub == "class" {
                continue;
            }
            match sub.strip_prefix("param.") {
                Some(param) if !param.is_empty() => {
                    params.entry(name.as_str()).or_default().insert(param, (key.as_str(), value.as_str()));
                }
                _ => {
                    return Err(ConfigError::Invalid {
                        key: key.clone(),
                        value: value.clone(),
                        reason: format!(
                            "unknown key of config provider {name}: expected {PREFIX}{name}.class or {PREFIX}{name}.param.<name>"
                        ),
                    })
                }
            }
        }

        let mut providers = BTreeMap::new();
        for name in &listed {
            let class_key = format!("{PREFIX}{name}.class");
            let Some(class) = props.get(&class_key).map(|c| c.trim()) else {
                return Err(ConfigError::Invalid {
                    key: PROVIDERS_KEY.into(),
                    value: props[PROVIDERS_KEY].clone(),
                    reason: format!("Missing required configuration \"{class_key}\" which has no default value."),
                });
            };
            let mine = params.remove(name.as_str()).unwrap_or_default();
            let (class, accepted): (&'static str, &str) = match class {
                FILE_CONFIG_PROVIDER => (FILE_CONFIG_PROVIDER, ALLOWED_PATHS),
                DIRECTORY_CONFIG_PROVIDER => (DIRECTORY_CONFIG_PROVIDER, ALLOWED_PATHS),
                ENV_VAR_CONFIG_PROVIDER => (ENV_VAR_CONFIG_PROVIDER, ALLOWLIST_PATTERN),
                other => {
                    return Err(ConfigError::Invalid {
                        key: class_key,
                        value: other.into(),
                        reason: format!(
                            "Class {other} could not be found; the config providers available are {FILE_CONFIG_PROVIDER}, {DIRECTORY_CONFIG_PROVIDER} and {ENV_VAR_CONFIG_PROVIDER}"
                        ),
                    })
                }
            };
            if let Some((param, (key, value))) = mine.iter().find(|(p, _)| **p != accepted) {
                return Err(ConfigError::Invalid {
                    key: (*key).into(),
                    value: (*value).into(),
                    reason: format!("unknown parameter {param} of {class}, which accepts only {accepted}"),
                });
            }
            let param = |p: &str| mine.get(p).copied();
            let kind = match class {
                FILE_CONFIG_PROVIDER | DIRECTORY_CONFIG_PROVIDER => {
                    let key = format!("{PREFIX}{name}.param.{ALLOWED_PATHS}");
                    let allowed = AllowedPaths::parse(&key, param(ALLOWED_PATHS).map(|(_, v)| v))?;
                    if class == FILE_CONFIG_PROVIDER {
                        Kind::File(allowed)
                    } else {
                        Kind::Dir(allowed)
                    }
                }
                _ => {
                    let pattern = param(ALLOWLIST_PATTERN).map(|(_, v)| v.to_string());
                    // Java's `Matcher.matches()`: the whole name must match.
                    let re = Regex::new(&format!("^(?:{})$", pattern.as_deref().unwrap_or(".*"))).map_err(|e| {
                        ConfigError::Invalid {
                            key: format!("{PREFIX}{name}.param.{ALLOWLIST_PATTERN}"),
                            value: pattern.clone().unwrap_or_default(),
                            reason: format!("not a valid regular expression: {e}"),
                        }
                    })?;
                    let mut vars = HashMap::new();
                    let mut refused = BTreeSet::new();
                    for (k, v) in &env {
                        if re.is_match(k) {
                            vars.insert(k.clone(), v.clone());
                        } else {
                            refused.insert(k.clone());
                        }
                    }
                    Kind::Env { pattern, vars, refused }
                }
            };
            providers.insert(name.clone(), Provider { class, kind });
        }
        if !providers.is_empty() {
            tracing::info!(providers = ?providers.keys().collect::<Vec<_>>(), "Config providers configured.");
        }
        Ok(Self { providers })
    }

    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    /// The configured provider names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.providers.keys().map(String::as_str)
    }

    /// Resolve every placeholder of `config` (Kafka's `ConfigTransformer.transform`): a value
    /// may hold several, with literal text around them; a replaced value is not scanned again.
    /// A placeholder of a provider that is not configured stays as it is (with a WARN).
    pub fn resolve(&self, config: &ConfigMap) -> Result<ConfigMap, ProviderError> {
        // Each properties file is read once per call, whatever number of keys refer to it.
        let mut files: HashMap<PathBuf, ConfigMap> = HashMap::new();
        let mut warned: BTreeSet<(&str, &str)> = BTreeSet::new();
        let mut out = ConfigMap::new();
        for (key, value) in config {
            let mut resolved = String::new();
            let mut last = 0;
            for (range, p) in placeholders(value) {
                let Some(provider) = self.providers.get(p.provider) else {
                    if warned.insert((key.as_str(), p.provider)) {
                        tracing::warn!(
                            key = %key,
                            provider = %p.provider,
                            "A config value refers to a config provider that is not configured (config.providers); the placeholder is left as it is."
                        );
                    }
                    continue;
                };
                resolved.push_str(&value[last..range.start]);
                resolved.push_str(&provider.lookup(p.provider, &p, key, &mut files)?);
                last = range.end;
            }
            resolved.push_str(&value[last..]);
            out.insert(key.clone(), resolved);
        }
        Ok(out)
    }

    /// Kafka Connect's `AbstractHerder.reverseTransform`: in every task config, each key whose
    /// value in the raw connector config holds a placeholder gets that raw value back, so task
    /// configs generated from the resolved config carry placeholders, not resolved values.
    ///
    /// As in Kafka, that holds for every task config with such a key, also when the connector
    /// put another value there (logged at DEBUG: the task then resolves the placeholder).
    pub fn reverse_transform(raw: &ConfigMap, resolved: &ConfigMap, task_configs: Vec<ConfigMap>) -> Vec<ConfigMap> {
        let keys: Vec<(&String, &String)> = raw.iter().filter(|(_, v)| has_placeholder(v)).collect();
        if keys.is_empty() {
            return task_configs;
        }
        task_configs
            .into_iter()
            .map(|mut task| {
                for (key, raw_value) in &keys {
                    if let Some(v) = task.get_mut(*key) {
                        if resolved.get(*key) != Some(v) && v != *raw_value {
                            tracing::debug!(
                                key = %key,
                                "A task config value differs from its connector's resolved value; it is replaced by the connector's placeholder."
                            );
                        }
                        v.clone_from(raw_value);
                    }
                }
                task
            })
            .collect()
    }
}

impl Provider {
    fn lookup(
        &self,
        provider: &str,
        p: &Placeholder<'_>,
        key: &str,
        files: &mut HashMap<PathBuf, ConfigMap>,
    ) -> Result<String, ProviderError> {
        let placeholder = || p.text.to_string();
        let need_path = || {
            if p.path.is_empty() {
                Err(ProviderError::NoPath { key: key.into(), placeholder: placeholder(), provider: provider.into() })
            } else {
                Ok(())
            }
        };
        let not_allowed = || ProviderError::PathNotAllowed {
            key: key.into(),
            placeholder: placeholder(),
            provider: provider.into(),
            path: p.path.into(),
        };
        match &self.kind {
            Kind::File(allowed) => {
                need_path()?;
                let path = allowed.check(p.path).ok_or_else(not_allowed)?;
                if !files.contains_key(&path) {
                    let text = std::fs::read_to_string(&path).map_err(|e| ProviderError::FileRead {
                        key: key.into(),
                        placeholder: placeholder(),
                        path: p.path.into(),
                        reason: e.to_string(),
                    })?;
                    files.insert(path.clone(), crate::config::parse_properties(&text));
                }
                files[&path].get(p.name).cloned().ok_or_else(|| ProviderError::FileKeyMissing {
                    key: key.into(),
                    placeholder: placeholder(),
                    path: p.path.into(),
                    name: p.name.into(),
                })
            }
            Kind::Dir(allowed) => {
                need_path()?;
                let dir = allowed.check(p.path).ok_or_else(not_allowed)?;
                if !dir.is_dir() {
                    return Err(ProviderError::NotADirectory {
                        key: key.into(),
                        placeholder: placeholder(),
                        path: p.path.into(),
                    });
                }
                let missing = || ProviderError::DirFileMissing {
                    key: key.into(),
                    placeholder: placeholder(),
                    path: p.path.into(),
                    name: p.name.into(),
                };
                // Kafka lists the directory and takes the regular file of that name: a name is
                // one path component, never a way out of the directory.
                let mut parts = Path::new(p.name).components();
                if !matches!((parts.next(), parts.next()), (Some(Component::Normal(n)), None) if n == p.name) {
                    return Err(missing());
                }
                let file = dir.join(p.name);
                if !std::fs::metadata(&file).is_ok_and(|m| m.is_file()) {
                    return Err(missing());
                }
                // The whole content, untrimmed; malformed UTF-8 replaced, as Java's `new String`.
                let bytes = std::fs::read(&file).map_err(|e| ProviderError::DirFileRead {
                    key: key.into(),
                    placeholder: placeholder(),
                    path: file.display().to_string(),
                    name: p.name.into(),
                    reason: e.to_string(),
                })?;
                Ok(String::from_utf8_lossy(&bytes).into_owned())
            }
            Kind::Env { vars, refused, .. } => {
                if !p.path.is_empty() {
                    return Err(ProviderError::EnvPath {
                        key: key.into(),
                        placeholder: placeholder(),
                        path: p.path.into(),
                    });
                }
                if let Some(v) = vars.get(p.name) {
                    return Ok(v.clone());
                }
                if refused.contains(p.name) {
                    return Err(ProviderError::EnvNotAllowed {
                        key: key.into(),
                        placeholder: placeholder(),
                        provider: provider.into(),
                        name: p.name.into(),
                    });
                }
                Err(ProviderError::EnvMissing { key: key.into(), placeholder: placeholder(), name: p.name.into() })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_properties;

    fn cfg(pairs: &[(&str, &str)]) -> ConfigMap {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn providers(text: &str, vars: &[(&str, &str)]) -> Result<ConfigProviders, ConfigError> {
        ConfigProviders::with_env(&parse_properties(text), env(vars))
    }

    fn all_three(allowed: Option<&Path>) -> String {
        let mut text = format!(
            "config.providers=file,dir,env\nconfig.providers.file.class={FILE_CONFIG_PROVIDER}\n\
             config.providers.dir.class={DIRECTORY_CONFIG_PROVIDER}\nconfig.providers.env.class={ENV_VAR_CONFIG_PROVIDER}\n"
        );
        if let Some(a) = allowed {
            text.push_str(&format!(
                "config.providers.file.param.allowed.paths={0}\nconfig.providers.dir.param.allowed.paths={0}\n",
                a.display()
            ));
        }
        text
    }

    /// A temporary directory with `secrets.properties` and a `dir/` of files.
    fn secrets() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("secrets.properties"), "token=s3cr3t-token\nuser = alice\n# x=y\n").unwrap();
        std::fs::create_dir(d.path().join("dir")).unwrap();
        std::fs::write(d.path().join("dir").join("password"), "  hunter2 \n").unwrap();
        std::fs::create_dir(d.path().join("dir").join("sub")).unwrap();
        d
    }

    #[test]
    fn placeholder_syntax_is_kafkas() {
        assert!(has_placeholder("${file:/etc/x.properties:key}"));
        assert!(has_placeholder("${env:HOME}"));
        assert!(has_placeholder("jdbc:x?user=${env:U}&p=${file:/a:b}"));
        assert!(!has_placeholder("${nocolon}"));
        assert!(!has_placeholder("$file:/a:b}"));
        assert!(!has_placeholder("plain"));
        let ps: Vec<(String, String, String)> = placeholders("${a:b}${c:/p/q:r}${env::V}")
            .map(|(_, p)| (p.provider.to_string(), p.path.to_string(), p.name.to_string()))
            .collect();
        assert_eq!(
            ps,
            [("a", "", "b"), ("c", "/p/q", "r"), ("env", "", "V")].map(|(a, b, c)| (
                a.to_string(),
                b.to_string(),
                c.to_string()
            ))
        );
    }

    #[test]
    fn resolves_file_dir_and_env_with_literal_text_and_several_placeholders() {
        let d = secrets();
        let p = providers(&all_three(None), &[("DB_HOST", "db.local")]).unwrap();
        let file = d.path().join("secrets.properties");
        let dir = d.path().join("dir");
        let config = cfg(&[
            ("plain", "as is"),
            ("token", &format!("${{file:{}:token}}", file.display())),
            ("url", &format!("jdbc://${{env:DB_HOST}}/x?u=${{file:{0}:user}}&t=${{file:{0}:token}};", file.display())),
            ("password", &format!("${{dir:{}:password}}", dir.display())),
        ]);
        let r = p.resolve(&config).unwrap();
        assert_eq!(r["plain"], "as is");
        assert_eq!(r["token"], "s3cr3t-token");
        assert_eq!(r["url"], "jdbc://db.local/x?u=alice&t=s3cr3t-token;");
        // The whole file, not trimmed (DirectoryConfigProvider).
        assert_eq!(r["password"], "  hunter2 \n");
        // A resolved value is not scanned again.
        let p2 = providers(&all_three(None), &[("NESTED", "${env:DB_HOST}"), ("DB_HOST", "h")]).unwrap();
        assert_eq!(p2.resolve(&cfg(&[("k", "${env:NESTED}")])).unwrap()["k"], "${env:DB_HOST}");
    }

    #[test]
    fn an_unconfigured_provider_leaves_the_placeholder_unchanged() {
        let p = providers(&all_three(None), &[("A", "1")]).unwrap();
        let r = p.resolve(&cfg(&[("k", "x ${vault:secret/db:password} ${env:A} y")])).unwrap();
        assert_eq!(r["k"], "x ${vault:secret/db:password} 1 y");
        let none = ConfigProviders::default();
        assert_eq!(none.resolve(&cfg(&[("k", "${env:A}")])).unwrap()["k"], "${env:A}");
    }

    #[test]
    fn missing_file_key_dir_entry_and_variable_are_errors_naming_key_and_placeholder() {
        let d = secrets();
        let p = providers(&all_three(None), &[]).unwrap();
        let file = d.path().join("secrets.properties").display().to_string();
        let dir = d.path().join("dir").display().to_string();
        let cases = [
            (format!("${{file:{file}:nope}}"), "has no key nope"),
            (format!("${{file:{file}.missing:token}}"), "could not read properties from file"),
            (format!("${{dir:{dir}:nope}}"), "has no regular file nope"),
            (format!("${{dir:{dir}:sub}}"), "has no regular file sub"),
            (format!("${{dir:{dir}:../secrets.properties}}"), "has no regular file ../secrets.properties"),
            (format!("${{dir:{file}:password}}"), "is not a directory"),
            ("${env:NOT_SET_ANYWHERE}".to_string(), "the environment variable NOT_SET_ANYWHERE is not set"),
            ("${env:/x:HOME}".to_string(), "Path is not supported for EnvVarConfigProvider, invalid value '/x'"),
            ("${file:token}".to_string(), "config provider file needs a path"),
        ];
        for (placeholder, expected) in cases {
            // Another key resolves to a secret first: no error may show it.
            let config = cfg(&[("a.ok", &format!("${{file:{file}:token}}")), ("b.bad", &format!("pre {placeholder}"))]);
            let e = p.resolve(&config).unwrap_err().to_string();
            assert!(e.contains(expected), "{e}");
            assert!(e.contains("config key b.bad"), "{e}");
            assert!(e.contains(&placeholder), "{e}");
            assert!(!e.contains("s3cr3t") && !e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn allowed_paths_confine_file_and_dir_providers() {
        let d = secrets();
        let allowed = d.path().join("dir");
        let p = providers(&all_three(Some(&allowed)), &[]).unwrap();
        let inside = format!("${{dir:{}:password}}", allowed.display());
        assert_eq!(p.resolve(&cfg(&[("k", &inside)])).unwrap()["k"], "  hunter2 \n");
        // Outside, also through `..`, and a relative path: refused.
        for path in [
            d.path().join("secrets.properties").display().to_string(),
            format!("{}/../secrets.properties", allowed.display()),
            "secrets.properties".to_string(),
        ] {
            let e = p.resolve(&cfg(&[("k", &format!("${{file:{path}:token}}"))])).unwrap_err();
            assert!(matches!(e, ProviderError::PathNotAllowed { .. }), "{e}");
            assert!(e.to_string().contains("outside the allowed.paths of config provider file"), "{e}");
            assert!(!e.to_string().contains("s3cr3t"), "{e}");
        }
        let e = p.resolve(&cfg(&[("k", &format!("${{dir:{}:password}}", d.path().display()))])).unwrap_err();
        assert!(matches!(e, ProviderError::PathNotAllowed { .. }), "{e}");
        // `allowed.paths` must be absolute and exist.
        for bad in ["relative/dir", "/no/such/dir/anywhere"] {
            let text = format!(
                "config.providers=file\nconfig.providers.file.class={FILE_CONFIG_PROVIDER}\nconfig.providers.file.param.allowed.paths={bad}\n"
            );
            let e = providers(&text, &[]).unwrap_err().to_string();
            assert!(e.contains("config.providers.file.param.allowed.paths"), "{e}");
        }
    }

    #[test]
    fn env_allowlist_pattern_must_match_the_whole_name() {
        let text = format!(
            "config.providers=env\nconfig.providers.env.class={ENV_VAR_CONFIG_PROVIDER}\nconfig.providers.env.param.allowlist.pattern=APP_.*\n"
        );
        let p = providers(&text, &[("APP_TOKEN", "t0k3n"), ("HOME_SECRET", "h0me"), ("MY_APP_X", "x")]).unwrap();
        assert_eq!(p.resolve(&cfg(&[("k", "${env:APP_TOKEN}")])).unwrap()["k"], "t0k3n");
        for name in ["HOME_SECRET", "MY_APP_X"] {
            let e = p.resolve(&cfg(&[("k", &format!("${{env:{name}}}"))])).unwrap_err();
            assert!(matches!(e, ProviderError::EnvNotAllowed { .. }), "{e}");
            assert!(!e.to_string().contains("h0me") && !e.to_string().contains("t0k3n"), "{e}");
        }
        // Default `.*`: everything set is allowed.
        let text = format!("config.providers=env\nconfig.providers.env.class={ENV_VAR_CONFIG_PROVIDER}\n");
        let p = providers(&text, &[("HOME_SECRET", "h0me")]).unwrap();
        assert_eq!(p.resolve(&cfg(&[("k", "${env:HOME_SECRET}")])).unwrap()["k"], "h0me");
        // An invalid pattern is refused at load.
        let text = format!(
            "config.providers=env\nconfig.providers.env.class={ENV_VAR_CONFIG_PROVIDER}\nconfig.providers.env.param.allowlist.pattern=(\n"
        );
        assert!(providers(&text, &[])
            .unwrap_err()
            .to_string()
            .contains("config.providers.env.param.allowlist.pattern"));
    }

    #[test]
    fn worker_keys_are_checked_at_load() {
        let refused = |text: &str, key: &str| {
            let e = providers(text, &[]).expect_err(text).to_string();
            assert!(e.contains(key), "{key} not in {e}");
        };
        refused("config.providers=file\n", "config.providers.file.class");
        refused(
            "config.providers=file\nconfig.providers.file.class=com.example.Vault\n",
            "config.providers.file.class",
        );
        refused(
            &format!("config.providers=env\nconfig.providers.env.class={ENV_VAR_CONFIG_PROVIDER}\nconfig.providers.env.param.allowed.paths=/tmp\n"),
            "config.providers.env.param.allowed.paths",
        );
        refused(
            &format!("config.providers=file\nconfig.providers.file.class={FILE_CONFIG_PROVIDER}\nconfig.providers.file.param.allowlist.pattern=x\n"),
            "config.providers.file.param.allowlist.pattern",
        );
        refused(
            &format!("config.providers=file\nconfig.providers.file.class={FILE_CONFIG_PROVIDER}\nconfig.providers.file.colour=red\n"),
            "config.providers.file.colour",
        );
        refused(&format!("config.providers.env.class={ENV_VAR_CONFIG_PROVIDER}\n"), "config.providers.env.class");
        // None configured: fine, and nothing resolves.
        assert!(providers("bootstrap.servers=x:9092\n", &[]).unwrap().is_empty());
        // Names with dots, and Debug shows no variable values.
        let p = providers(
            &format!("config.providers=my.env, file\nconfig.providers.my.env.class={ENV_VAR_CONFIG_PROVIDER}\nconfig.providers.file.class={FILE_CONFIG_PROVIDER}\n"),
            &[("V", "v4lue")],
        )
        .unwrap();
        assert_eq!(p.names().collect::<Vec<_>>(), ["file", "my.env"]);
        assert_eq!(p.resolve(&cfg(&[("k", "${my.env:V}")])).unwrap()["k"], "v4lue");
        let debug = format!("{p:?}");
        assert!(debug.contains(ENV_VAR_CONFIG_PROVIDER) && !debug.contains("v4lue"), "{debug}");
    }

    #[test]
    fn normalize_is_lexical_like_javas() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(normalize(Path::new("/../a")), PathBuf::from("/a"));
        assert_eq!(normalize(Path::new("../a/../../b")), PathBuf::from("../../b"));
        // `starts_with` is per component: /a/bc is not under /a/b.
        let allowed = AllowedPaths(Some(vec![PathBuf::from("/a/b")]));
        assert!(allowed.check("/a/b/c").is_some());
        assert!(allowed.check("/a/bc").is_none());
        assert!(allowed.check("/a/b/../x").is_none());
    }

    #[test]
    fn reverse_transform_puts_placeholders_back_into_task_configs() {
        let raw = cfg(&[
            ("connector.class", "Mock"),
            ("token", "${file:/s.properties:token}"),
            ("url", "http://${env:HOST}/x"),
            ("unresolved", "${vault:a:b}"),
        ]);
        let resolved = cfg(&[
            ("connector.class", "Mock"),
            ("token", "s3cr3t"),
            ("url", "http://h/x"),
            ("unresolved", "${vault:a:b}"),
        ]);
        let tasks = vec![
            // The connector copied its resolved config.
            resolved.clone(),
            // A task config with its own value for a placeholder key, and one without the key.
            cfg(&[("token", "derived-s3cr3t"), ("task.id", "1")]),
            cfg(&[("task.id", "2")]),
        ];
        let out = ConfigProviders::reverse_transform(&raw, &resolved, tasks);
        assert_eq!(out[0], raw);
        assert_eq!(out[1], cfg(&[("token", "${file:/s.properties:token}"), ("task.id", "1")]));
        assert_eq!(out[2], cfg(&[("task.id", "2")]));
        assert!(out.iter().all(|t| t.values().all(|v| !v.contains("s3cr3t"))));
        // Without placeholders, task configs are left alone.
        let plain = cfg(&[("token", "inline")]);
        assert_eq!(ConfigProviders::reverse_transform(&plain, &plain, vec![plain.clone()]), vec![plain.clone()]);
    }
}
