//! Worker settings from a Java-style properties file (`--config`), with Kafka Connect's key
//! names where they apply (§3.1): `bootstrap.servers`, `offset.flush.interval.ms`,
//! `offset.flush.timeout.ms`, `key.converter` / `value.converter` / `header.converter` and
//! their `.` sub-configs, `producer.*` / `consumer.*` client defaults for tasks, the Kafka
//! client security keys `security.protocol` / `ssl.*` / `sasl.*` (refused at load when they
//! cannot be honoured; [`crate::dataplane::security`]), and the
//! config providers `config.providers*` (see [`crate::config::providers`]).
//!
//! Keys of Kafka Connect's distributed mode that Raft replaces (`group.id`, `*.storage.topic`,
//! `session.timeout.ms`, …) are accepted and ignored, with one log line, so an existing
//! `connect-distributed.properties` can be reused as is.

pub mod providers;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

pub type Props = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read worker config {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("Invalid value {value} for configuration {key}: {reason}")]
    Invalid { key: String, value: String, reason: String },
}

/// A converter class and its sub-configs (prefix stripped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConverterSpec {
    pub class: String,
    pub config: Props,
}

/// The worker-level settings of the data plane.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub bootstrap_servers: String,
    /// Source offsets are committed, and sinks flushed and committed, this often.
    pub offset_flush_interval: Duration,
    /// How long a final flush may wait for outstanding records and the commit.
    pub offset_flush_timeout: Duration,
    pub key_converter: ConverterSpec,
    pub value_converter: ConverterSpec,
    pub header_converter: ConverterSpec,
    /// `producer.*` without the prefix.
    pub producer: Props,
    /// `consumer.*` without the prefix.
    pub consumer: Props,
    /// The top-level `security.protocol` / `ssl.*` / `sasl.*` keys in librdkafka's terms, for
    /// every Kafka client of the node (see [`crate::dataplane::security`]); the client keys of
    /// all layers (`producer.`, `consumer.`, `admin.`) are checked when the config loads.
    pub client_security: Props,
    /// How often the leader re-reads topic metadata for sink connectors.
    pub metadata_refresh: Duration,
    /// `config.providers` and `config.providers.<name>.*`: resolve `${provider:[path:]key}`
    /// placeholders of the units this node runs (shared: cloning the config is cheap).
    pub providers: std::sync::Arc<crate::config::providers::ConfigProviders>,
}

pub const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";
pub const SIMPLE_HEADER_CONVERTER: &str = "org.apache.kafka.connect.storage.SimpleHeaderConverter";
/// Default `offset.flush.interval.ms`: Kafka Connect's is 60 s; a Raft commit per node per
/// second is cheap, and it bounds re-delivery after a crash to about a second.
pub const DEFAULT_FLUSH_INTERVAL_MS: u64 = 1000;

/// Keys of Kafka Connect's worker config that have no meaning here (Raft replaces them).
const REPLACED_BY_RAFT: &[&str] = &[
    "group.id",
    "config.storage.topic",
    "config.storage.replication.factor",
    "offset.storage.topic",
    "offset.storage.partitions",
    "offset.storage.replication.factor",
    "status.storage.topic",
    "status.storage.partitions",
    "status.storage.replication.factor",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "rebalance.timeout.ms",
    "connect.protocol",
    "worker.sync.timeout.ms",
    "worker.unsync.backoff.ms",
    "plugin.path",
    "plugin.discovery",
    "listeners",
    "rest.advertised.host.name",
    "rest.advertised.port",
    "rest.advertised.listener",
];

impl Default for WorkerConfig {
    fn default() -> Self {
        Self::from_props(&Props::new()).expect("the defaults are valid")
    }
}

/// Parse Java properties text exactly as `java.util.Properties.load(Reader)` reads it:
/// natural lines end at `\n`, `\r` or `\r\n`; blank lines and lines whose first
/// non-whitespace character is `#` or `!` are skipped; whitespace is space, `\t` and `\f`; a
/// line ending in an odd number of backslashes continues on the next one, whose leading
/// whitespace is dropped; the key ends at the first unescaped `=`, `:` or whitespace, then
/// whitespace, at most one `=` or `:`, and whitespace are skipped, and the rest is the value,
/// trailing whitespace included. Keys and values take the escapes `\t` `\n` `\r` `\f`
/// `\uXXXX`, and `\c` → `c` for any other character. The last of duplicate keys wins.
///
/// Where Java throws ("Malformed \uxxxx encoding."), the text is kept as written and a
/// warning names the line; a `\uXXXX` lone surrogate, which a Rust string cannot hold,
/// becomes U+FFFD, also with a warning.
pub fn parse_properties(text: &str) -> Props {
    let mut out = Props::new();
    let mut lines = PropertiesLines { chars: text.chars().peekable(), line: 1 };
    while let Some((line_no, line)) = lines.next_logical() {
        let (key_len, value_start) = split_property(&line);
        let key = unescape_property(&line[..key_len], line_no, "key");
        let value = unescape_property(&line[value_start..], line_no, "value");
        out.insert(key, value);
    }
    out
}

/// Java's properties whitespace (not `char::is_whitespace`).
fn is_properties_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0c')
}

/// `Properties.LineReader` over a string, counting natural lines for warnings.
struct PropertiesLines<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
}

impl PropertiesLines<'_> {
    /// Count the line end `c`, consuming the `\n` of a `\r\n`.
    fn end_line(&mut self, c: char) {
        if c == '\r' && self.chars.peek() == Some(&'\n') {
            self.chars.next();
        }
        self.line += 1;
    }

    /// The next logical line (comments and blank lines skipped, leading whitespace of each
    /// natural line dropped, continuations joined without their backslash) and the number
    /// of the natural line it starts on; `None` at the end.
    fn next_logical(&mut self) -> Option<(usize, Vec<char>)> {
        let mut buf = Vec::new();
        let mut start = self.line;
        let mut skip_space = true;
        let mut appended_line_begin = false;
        let mut preceding_backslash = false;
        loop {
            let Some(c) = self.chars.next() else {
                if buf.is_empty() {
                    return None;
                }
                if preceding_backslash {
                    buf.pop();
                }
                return Some((start, buf));
            };
            if skip_space {
                if is_properties_space(c) {
                    continue;
                }
                if !appended_line_begin && (c == '\r' || c == '\n') {
                    self.end_line(c);
                    continue;
                }
                skip_space = false;
                appended_line_begin = false;
            }
            if buf.is_empty() {
                // Still on a new logical line (as in Java, also after a continuation that
                // added nothing yet).
                start = self.line;
                if c == '#' || c == '!' {
                    loop {
                        match self.chars.next() {
                            None => return None,
                            Some(e @ ('\r' | '\n')) => {
                                self.end_line(e);
                                break;
                            }
                            Some(_) => {}
                        }
                    }
                    skip_space = true;
                    continue;
                }
            }
            if c != '\n' && c != '\r' {
                buf.push(c);
                preceding_backslash = c == '\\' && !preceding_backslash;
                continue;
            }
            if buf.is_empty() {
                self.end_line(c);
                skip_space = true;
                continue;
            }
            if self.chars.peek().is_none() {
                // Java checks for the end of input here, before a continuation.
                self.line += 1;
                if preceding_backslash {
                    buf.pop();
                }
                return Some((start, buf));
            }
            self.end_line(c);
            if !preceding_backslash {
                return Some((start, buf));
            }
            buf.pop();
            skip_space = true;
            appended_line_begin = true;
            preceding_backslash = false;
        }
    }
}

/// Where the key of a logical line ends and where its value starts (`Properties.load0`).
fn split_property(line: &[char]) -> (usize, usize) {
    let mut key_len = 0;
    let mut value_start = line.len();
    let mut has_sep = false;
    let mut preceding_backslash = false;
    while key_len < line.len() {
        let c = line[key_len];
        if !preceding_backslash && (c == '=' || c == ':') {
            value_start = key_len + 1;
            has_sep = true;
            break;
        }
        if !preceding_backslash && is_properties_space(c) {
            value_start = key_len + 1;
            break;
        }
        preceding_backslash = c == '\\' && !preceding_backslash;
        key_len += 1;
    }
    while value_start < line.len() {
        let c = line[value_start];
        if !is_properties_space(c) {
            if !has_sep && (c == '=' || c == ':') {
                has_sep = true;
            } else {
                break;
            }
        }
        value_start += 1;
    }
    (key_len, value_start)
}

/// Resolve the escapes of a key or value (`Properties.loadConvert`); `\uXXXX` are UTF-16
/// code units, so a surrogate pair makes one character. Warnings name the line, never the
/// text (values may be passwords).
fn unescape_property(s: &[char], line_no: usize, what: &'static str) -> String {
    if !s.contains(&'\\') {
        return s.iter().collect();
    }
    let mut out: Vec<u16> = Vec::with_capacity(s.len());
    let mut unit = [0u16; 2];
    let mut push = |out: &mut Vec<u16>, c: char| out.extend_from_slice(c.encode_utf16(&mut unit));
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != '\\' {
            push(&mut out, c);
            continue;
        }
        // The line reader never leaves an unescaped backslash at the end of a line.
        let Some(&e) = s.get(i) else { break };
        i += 1;
        match e {
            'u' => {
                let code = s
                    .get(i..i + 4)
                    .and_then(|hex| hex.iter().try_fold(0u16, |acc, h| h.to_digit(16).map(|d| (acc << 4) | d as u16)));
                match code {
                    Some(code) => {
                        out.push(code);
                        i += 4;
                    }
                    None => {
                        tracing::warn!(
                            line = line_no,
                            part = what,
                            "Malformed \\uxxxx encoding in a properties entry; kept as written."
                        );
                        push(&mut out, '\\');
                        push(&mut out, 'u');
                    }
                }
            }
            't' => push(&mut out, '\t'),
            'r' => push(&mut out, '\r'),
            'n' => push(&mut out, '\n'),
            'f' => push(&mut out, '\x0c'),
            other => push(&mut out, other),
        }
    }
    String::from_utf16(&out).unwrap_or_else(|_| {
        tracing::warn!(
            line = line_no,
            part = what,
            "A \\uXXXX lone surrogate in a properties entry is replaced by U+FFFD."
        );
        String::from_utf16_lossy(&out)
    })
}

fn millis(props: &Props, key: &str, default: u64) -> Result<Duration, ConfigError> {
    match props.get(key) {
        None => Ok(Duration::from_millis(default)),
        Some(v) => v.trim().parse::<u64>().map(Duration::from_millis).map_err(|_| ConfigError::Invalid {
            key: key.into(),
            value: v.clone(),
            reason: "Not a number of type LONG".into(),
        }),
    }
}

/// The entries of `props` under `prefix`, with the prefix stripped.
pub fn with_prefix(props: &Props, prefix: &str) -> Props {
    props.iter().filter_map(|(k, v)| k.strip_prefix(prefix).map(|s| (s.to_string(), v.clone()))).collect()
}

fn converter_spec(props: &Props, key: &str, default: &str) -> ConverterSpec {
    ConverterSpec {
        class: props.get(key).cloned().unwrap_or_else(|| default.to_string()),
        config: with_prefix(props, &format!("{key}.")),
    }
}

impl WorkerConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        Self::from_props(&parse_properties(&text))
    }

    pub fn from_props(props: &Props) -> Result<Self, ConfigError> {
        let ignored: Vec<&str> = REPLACED_BY_RAFT.iter().copied().filter(|k| props.contains_key(*k)).collect();
        if !ignored.is_empty() {
            tracing::info!(keys = ?ignored, "Worker config keys that Raft replaces are ignored.");
        }
        let interval = millis(props, "offset.flush.interval.ms", DEFAULT_FLUSH_INTERVAL_MS)?;
        if interval.is_zero() {
            return Err(ConfigError::Invalid {
                key: "offset.flush.interval.ms".into(),
                value: "0".into(),
                reason: "Value must be at least 1".into(),
            });
        }
        let client_security = crate::dataplane::kafka::check_worker_clients(props)?;
        Ok(Self {
            bootstrap_servers: props.get("bootstrap.servers").cloned().unwrap_or_else(|| "localhost:9092".into()),
            offset_flush_interval: interval,
            offset_flush_timeout: millis(props, "offset.flush.timeout.ms", 5000)?,
            key_converter: converter_spec(props, "key.converter", JSON_CONVERTER),
            value_converter: converter_spec(props, "value.converter", JSON_CONVERTER),
            header_converter: converter_spec(props, "header.converter", SIMPLE_HEADER_CONVERTER),
            producer: with_prefix(props, "producer."),
            consumer: with_prefix(props, "consumer."),
            client_security,
            metadata_refresh: millis(props, "metadata.refresh.interval.ms", 2000)?,
            providers: std::sync::Arc::new(crate::config::providers::ConfigProviders::from_worker_props(props)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_java_properties() {
        let p = parse_properties(
            "# comment\n! also\nbootstrap.servers=127.0.0.1:9092\nkey.converter : org.apache.kafka.connect.storage.StringConverter\n\
             value.converter.schemas.enable false\nlong=a,\\\n  b\nempty=\n",
        );
        assert_eq!(p["bootstrap.servers"], "127.0.0.1:9092");
        assert_eq!(p["key.converter"], "org.apache.kafka.connect.storage.StringConverter");
        assert_eq!(p["value.converter.schemas.enable"], "false");
        assert_eq!(p["long"], "a,b");
        assert_eq!(p["empty"], "");
    }

    #[test]
    fn worker_config_defaults_and_prefixes() {
        let c = WorkerConfig::default();
        assert_eq!(c.bootstrap_servers, "localhost:9092");
        assert_eq!(c.offset_flush_interval, Duration::from_millis(1000));
        assert_eq!(c.value_converter.class, JSON_CONVERTER);
        let p = parse_properties(
            "value.converter=org.apache.kafka.connect.storage.StringConverter\nvalue.converter.converter.encoding=UTF-8\n\
             producer.linger.ms=10\nconsumer.fetch.min.bytes=1\noffset.flush.interval.ms=250\ngroup.id=connect-cluster\n",
        );
        let c = WorkerConfig::from_props(&p).unwrap();
        assert_eq!(c.value_converter.config.get("converter.encoding").map(String::as_str), Some("UTF-8"));
        assert_eq!(c.producer.get("linger.ms").map(String::as_str), Some("10"));
        assert_eq!(c.consumer.get("fetch.min.bytes").map(String::as_str), Some("1"));
        assert_eq!(c.offset_flush_interval, Duration::from_millis(250));
        let bad = parse_properties("offset.flush.interval.ms=soon\n");
        assert_eq!(
            WorkerConfig::from_props(&bad).unwrap_err().to_string(),
            "Invalid value soon for configuration offset.flush.interval.ms: Not a number of type LONG"
        );
    }

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn properties_keep_trailing_whitespace_in_values() {
        let p = parse_properties("password=s3cret  \nuser  pw\t\nfeed=a\\\n   b \n");
        assert_eq!(p, props(&[("password", "s3cret  "), ("user", "pw\t"), ("feed", "ab ")]));
    }

    #[test]
    fn properties_separators() {
        let p = parse_properties("a=1\nb:2\nc = 3\nd : 4\ne\t5\nf\x0c=\x0c6\nuser password\n   g    h i\n");
        assert_eq!(p["a"], "1");
        assert_eq!(p["b"], "2");
        assert_eq!(p["c"], "3");
        assert_eq!(p["d"], "4");
        assert_eq!(p["e"], "5");
        assert_eq!(p["f"], "6");
        assert_eq!(p["user"], "password");
        assert_eq!(p["g"], "h i");
        // Only one separator is skipped; later ones belong to the value.
        let p = parse_properties("a==b\nc = :d\ne f=g\nurl=http://h:1/?x=y\n");
        assert_eq!(p["a"], "=b");
        assert_eq!(p["c"], ":d");
        assert_eq!(p["e"], "f=g");
        assert_eq!(p["url"], "http://h:1/?x=y");
    }

    #[test]
    fn properties_password_with_separators_and_commas() {
        // A Basic-auth users file: the whole value is the password.
        let p = parse_properties("alice: p,w=d:x, y \nbob=a:b=c\n");
        assert_eq!(p["alice"], "p,w=d:x, y ");
        assert_eq!(p["bob"], "a:b=c");
    }

    #[test]
    fn properties_escapes_in_keys_and_values() {
        let p = parse_properties(
            "a\\:b=c\nx\\=y=z\nsp\\ ace=v\n\\#not-comment=1\nback\\\\slash=\\\\\ntab=a\\tb\\nc\\rd\\fe\nother=\\q\\\"\\'\n",
        );
        assert_eq!(p["a:b"], "c");
        assert_eq!(p["x=y"], "z");
        assert_eq!(p["sp ace"], "v");
        assert_eq!(p["#not-comment"], "1");
        assert_eq!(p["back\\slash"], "\\");
        assert_eq!(p["tab"], "a\tb\nc\rd\x0ce");
        assert_eq!(p["other"], "q\"'");
    }

    #[test]
    fn properties_unicode_escapes() {
        let p = parse_properties("k\\u00e9y=caf\\u00E9 \\u20ac\nsmile=\\uD83D\\uDE00\nutf8=ünï\n");
        assert_eq!(p["kéy"], "café €");
        assert_eq!(p["smile"], "😀");
        assert_eq!(p["utf8"], "ünï");
        // Java throws "Malformed \uxxxx encoding."; here the text stays as written.
        let p = parse_properties("short=\\u12\nbad=\\u12G4x\nnext=1\n");
        assert_eq!(p["short"], "\\u12");
        assert_eq!(p["bad"], "\\u12G4x");
        assert_eq!(p["next"], "1");
        assert_eq!(parse_properties("lone=\\uD83D!\n")["lone"], "\u{FFFD}!");
    }

    #[test]
    fn properties_continuation_counts_backslashes() {
        // Odd: continues (leading whitespace of the next line dropped).
        let p = parse_properties("odd=a\\\n    b\neven=a\\\\\n    b\nthree=a\\\\\\\n  b\n");
        assert_eq!(p["odd"], "ab");
        assert_eq!(p["even"], "a\\");
        assert_eq!(p["b"], "");
        assert_eq!(p["three"], "a\\b");
        // A continued line that looks like a comment is part of the value.
        let p = parse_properties("k=v\\\n  # not a comment\n!real comment\\\nx=y\n");
        assert_eq!(p, props(&[("k", "v# not a comment"), ("x", "y")]));
        // An empty line ends the continuation; a backslash at the end of input is dropped.
        let p = parse_properties("a=1\\\n\nb=2\\");
        assert_eq!(p, props(&[("a", "1"), ("b", "2")]));
    }

    #[test]
    fn properties_line_endings_comments_and_duplicates() {
        let p = parse_properties("# c\r\n  ! c2\r\na=1\r\nb=2\rc=3\\\r\n  4\r\n\r\n\t\x0c\r\nd\r\na=5");
        assert_eq!(p, props(&[("a", "5"), ("b", "2"), ("c", "34"), ("d", "")]));
        let p = parse_properties("empty=\nbare\nspaced =   \n=novalue-key\n");
        assert_eq!(p, props(&[("", "novalue-key"), ("bare", ""), ("empty", ""), ("spaced", "")]));
        // A comment only at the start of a logical line; `#` elsewhere is text.
        let p = parse_properties("k=v # not a comment\nk2#x=y\n");
        assert_eq!(p["k"], "v # not a comment");
        assert_eq!(p["k2#x"], "y");
    }
}
