//! FileStreamSource / FileStreamSink (Kafka Connect §8.1).
//!
//! - The source has exactly one task. It reads `file` (stdin when unset) line by line (`\n`,
//!   `\r\n` or `\r`), at most `batch.size` lines per poll, each line one record with a
//!   non-optional string schema and no key, to `topic`. Source partition `{"filename": file}`,
//!   offset `{"position": <byte offset after the line>}`; a restarted task seeks there. A
//!   missing file is waited for. A last line without its line break waits for it.
//! - The sink has `tasks.max` copies of its config. Every record's value is appended to `file`
//!   (stdout when unset) followed by a newline, as Java's `println(record.value())`. Output
//!   is written in whole lines with O_APPEND, so tasks on one machine sharing a file never
//!   interleave within a line.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::Arc;
use std::time::Duration;

use raftconnect_storage::model::ConfigMap;

use crate::data::{Schema, Value};
use crate::plugin::api::{
    ConnectError, ConnectorInstance, Lifecycle, SinkRecord, SinkTask, SourceOffset, SourcePartition, SourceRecord,
    SourceTask, SourceTaskContext, Task, TaskKind,
};
use crate::plugin::config_def::{key, Check, Config, ConfigKey, ConfigType, DefaultValue, Importance};
use crate::plugin::registry::{ConnectorRuntime, Factory, Plugin, PluginType, KAFKA_VERSION};

/// How long a poll waits when there is no data (Kafka Connect waits 1 s; shorter keeps stops
/// prompt).
const IDLE_WAIT: Duration = Duration::from_millis(100);
/// Bytes read per `read` call.
const READ_CHUNK: usize = 256 * 1024;
/// The longest line the source reads (a record larger than Kafka's default 1 MB message limit
/// could not be sent anyway): a file with no newline, or `/dev/zero`, fails the task with a
/// clear error instead of filling the node's memory.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Bytes one poll reads at most, so a fast input never keeps the task from seeing a stop.
const POLL_BYTES: usize = 8 << 20;
/// Within a batch, the sink writes its buffer out once it holds this much.
const SINK_BUFFER: usize = 256 * 1024;

/// `FileStreamSourceConnector.CONFIG_DEF`.
pub const SOURCE_KEYS: &[ConfigKey] = &[
    key(
        "file",
        ConfigType::String,
        DefaultValue::Null,
        Check::None,
        Importance::High,
        None,
        -1,
        "file",
        "Source filename. If not specified, the standard input will be used",
    ),
    key(
        "topic",
        ConfigType::List,
        DefaultValue::Required,
        Check::NonEmpty,
        Importance::High,
        None,
        -1,
        "topic",
        "The topic to publish data to",
    ),
    key(
        "batch.size",
        ConfigType::Int,
        DefaultValue::Value("2000"),
        Check::None,
        Importance::Low,
        None,
        -1,
        "batch.size",
        "The maximum number of records the source task can read from the file each time it is polled",
    ),
];

/// `FileStreamSinkConnector.CONFIG_DEF`.
pub const SINK_KEYS: &[ConfigKey] = &[key(
    "file",
    ConfigType::String,
    DefaultValue::Null,
    Check::None,
    Importance::High,
    None,
    -1,
    "file",
    "Destination filename. If not specified, the standard output will be used",
)];

pub const SINK: Plugin = Plugin {
    class: "org.apache.kafka.connect.file.FileStreamSinkConnector",
    aliases: &["FileStreamSink", "FileStreamSinkConnector"],
    ty: PluginType::Sink,
    version: KAFKA_VERSION,
    config: SINK_KEYS,
    factory: Factory::Connector(ConnectorRuntime {
        connector: sink,
        task: sink_task,
        task_class: "org.apache.kafka.connect.file.FileStreamSinkTask",
        kind: TaskKind::Sink,
    }),
};

pub const SOURCE: Plugin = Plugin {
    class: "org.apache.kafka.connect.file.FileStreamSourceConnector",
    aliases: &["FileStreamSource", "FileStreamSourceConnector"],
    ty: PluginType::Source,
    version: KAFKA_VERSION,
    config: SOURCE_KEYS,
    factory: Factory::Connector(ConnectorRuntime {
        connector: source,
        task: source_task,
        task_class: "org.apache.kafka.connect.file.FileStreamSourceTask",
        kind: TaskKind::Source,
    }),
};

#[derive(Default)]
pub struct FileSource {
    config: ConfigMap,
}

impl ConnectorInstance for FileSource {
    fn start(&mut self, config: &ConfigMap) -> Result<(), ConnectError> {
        let topics = Config::new(SOURCE_KEYS, config).list("topic")?;
        if topics.len() != 1 {
            return Err(ConnectError::new(
                "'topic' in FileStreamSourceConnector configuration requires definition of a single topic",
            ));
        }
        self.config = config.clone();
        Ok(())
    }

    /// "Only one input stream makes sense": one task, whatever `tasks.max` says.
    fn task_configs(&mut self, _max_tasks: usize) -> Result<Vec<ConfigMap>, ConnectError> {
        let mut task = ConfigMap::new();
        for key in ["file", "topic"] {
            if let Some(v) = self.config.get(key) {
                task.insert(key.to_string(), v.clone());
            }
        }
        // As Kafka Connect: the batch size is always passed on, its default if not given.
        let batch = Config::new(SOURCE_KEYS, &self.config).int("batch.size")?;
        task.insert("batch.size".to_string(), batch.to_string());
        Ok(vec![task])
    }
}

#[derive(Default)]
pub struct FileSink {
    config: ConfigMap,
}

impl ConnectorInstance for FileSink {
    fn start(&mut self, config: &ConfigMap) -> Result<(), ConnectError> {
        self.config = config.clone();
        Ok(())
    }

    fn task_configs(&mut self, max_tasks: usize) -> Result<Vec<ConfigMap>, ConnectError> {
        Ok((0..max_tasks).map(|_| self.config.clone()).collect())
    }
}

impl Lifecycle for FileSource {}
impl Lifecycle for FileSink {}

enum Input {
    Stdin(std::io::Stdin),
    File(File),
}

impl Input {
    /// Append up to `max` more bytes to `buf`: a file is read into the buffer's spare capacity
    /// (no zero-filling); stdin only when it has data (waiting at most 100 ms, as Java's
    /// `ready()` check keeps the task stoppable), by one `read`.
    fn fill(&mut self, buf: &mut Vec<u8>, max: usize) -> std::io::Result<usize> {
        match self {
            Input::File(f) => f.take(max as u64).read_to_end(buf),
            Input::Stdin(s) => {
                let mut fds = libc::pollfd { fd: libc::STDIN_FILENO, events: libc::POLLIN, revents: 0 };
                // SAFETY: one valid pollfd for the duration of the call.
                let ready = unsafe { libc::poll(&mut fds, 1, 100) };
                if ready <= 0 {
                    return Ok(0);
                }
                let old = buf.len();
                buf.resize(old + max, 0);
                let n = s.read(&mut buf[old..]);
                buf.truncate(old + *n.as_ref().unwrap_or(&0));
                n
            }
        }
    }
}

/// The FileStreamSource task.
pub struct FileSourceTask {
    file: Option<String>,
    topic: Arc<str>,
    batch_size: usize,
    partition: SourcePartition,
    input: Option<Input>,
    /// Byte offset (in the file) of `buf[start]`; None for stdin (no offsets).
    position: Option<u64>,
    buf: Vec<u8>,
    start: usize,
    missing_logged: bool,
    /// The non-optional string schema of every line.
    schema: Arc<Schema>,
}

impl Default for FileSourceTask {
    fn default() -> Self {
        Self {
            file: None,
            topic: Arc::from(""),
            batch_size: 2000,
            partition: Arc::from("{}"),
            input: None,
            position: None,
            buf: Vec::new(),
            start: 0,
            missing_logged: false,
            schema: Arc::new(Schema::string()),
        }
    }
}

impl FileSourceTask {
    fn open(&mut self) -> Result<bool, ConnectError> {
        let Some(path) = &self.file else {
            self.input = Some(Input::Stdin(std::io::stdin()));
            self.position = None;
            return Ok(true);
        };
        match File::open(path) {
            Ok(mut f) => {
                let pos = self.position.unwrap_or(0);
                if pos > 0 {
                    f.seek(SeekFrom::Start(pos))
                        .map_err(|e| ConnectError::new(format!("Error seeking in file {path}: {e}")))?;
                    tracing::debug!(file = %path, position = pos, "Skipped to the committed offset.");
                }
                self.position = Some(pos);
                self.input = Some(Input::File(f));
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !self.missing_logged {
                    tracing::warn!(file = %path, "Couldn't find file {path} for FileStreamSourceTask, sleeping to wait for it to be created");
                    self.missing_logged = true;
                }
                Ok(false)
            }
            Err(e) => Err(ConnectError::new(format!("Error while trying to open file {path}: {e}"))),
        }
    }

    /// The next complete line in the buffer, with the length it takes including its break.
    /// A `\r` at the very end of the data may be the first half of `\r\n`: wait for more.
    fn next_line(&self) -> Option<(usize, usize)> {
        let data = &self.buf[self.start..];
        let i = memchr::memchr2(b'\n', b'\r', data)?;
        if data[i] == b'\n' {
            return Some((i, i + 1));
        }
        match data.get(i + 1) {
            None => None,
            Some(b'\n') => Some((i, i + 2)),
            Some(_) => Some((i, i + 1)),
        }
    }
}

impl SourceTask for FileSourceTask {
    fn start(&mut self, context: SourceTaskContext, config: &ConfigMap) -> Result<(), ConnectError> {
        let declared = Config::new(SOURCE_KEYS, config);
        self.file = declared.non_blank("file")?;
        let topic = config.get("topic").map(|t| t.trim()).unwrap_or_default();
        if topic.is_empty() {
            return Err(ConnectError::new("FileStreamSourceTask config missing topic setting"));
        }
        self.topic = Arc::from(topic);
        // Kafka's task reads nothing for a batch size below 1; this one reads one line.
        self.batch_size = usize::try_from(declared.int("batch.size")?).unwrap_or(0).max(1);
        let partition = serde_json::json!({ "filename": self.file });
        self.partition = crate::plugin::api::source_partition(&partition);
        if self.file.is_some() {
            let stored = context.offset(&partition);
            let position = match stored.as_ref().and_then(|o| o.get("position")) {
                None | Some(serde_json::Value::Null) => 0,
                Some(p) => p
                    .as_u64()
                    .ok_or_else(|| ConnectError::new(format!("Offset position is the incorrect type: {p}")))?,
            };
            self.position = Some(position);
        }
        Ok(())
    }

    fn poll(&mut self) -> Result<Vec<SourceRecord>, ConnectError> {
        if self.input.is_none() && !self.open()? {
            std::thread::sleep(IDLE_WAIT);
            return Ok(Vec::new());
        }
        let mut records = Vec::new();
        let now = crate::plugin::api::now_ms();
        let mut read = 0usize;
        loop {
            while records.len() < self.batch_size {
                let Some((len, consumed)) = self.next_line() else { break };
                let bytes = &self.buf[self.start..self.start + len];
                // Java decodes with replacement characters; valid UTF-8 (the usual case) is
                // checked and copied at once.
                let line = match std::str::from_utf8(bytes) {
                    Ok(s) => s.to_owned(),
                    Err(_) => String::from_utf8_lossy(bytes).into_owned(),
                };
                self.start += consumed;
                let offset = match &mut self.position {
                    Some(p) => {
                        *p += consumed as u64;
                        SourceOffset::Counter("position", *p as i64)
                    }
                    None => SourceOffset::null(),
                };
                let mut r = SourceRecord::new(
                    &self.partition,
                    offset,
                    &self.topic,
                    Some(self.schema.clone()),
                    Value::String(line),
                );
                r.timestamp = Some(now);
                records.push(r);
            }
            if records.len() >= self.batch_size {
                return Ok(records);
            }
            // Keep the unfinished line, read more.
            if self.start > 0 {
                self.buf.drain(..self.start);
                self.start = 0;
            }
            if self.buf.len() > MAX_LINE_BYTES {
                return Err(ConnectError::new(format!(
                    "A line of {} longer than {MAX_LINE_BYTES} bytes{}: FileStreamSource reads lines up to that length",
                    self.file.as_deref().unwrap_or("stdin"),
                    self.position.map(|p| format!(" at position {p}")).unwrap_or_default()
                )));
            }
            if read >= POLL_BYTES {
                return Ok(records);
            }
            let old = self.buf.len();
            let input = self.input.as_mut().expect("opened above");
            let n = match input.fill(&mut self.buf, READ_CHUNK) {
                Ok(n) => n,
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(ConnectError::new(format!(
                        "Error reading {}: {e}",
                        self.file.as_deref().unwrap_or("stdin")
                    )));
                }
            };
            if n == 0 {
                if records.is_empty() {
                    std::thread::sleep(IDLE_WAIT);
                }
                return Ok(records);
            }
            read += n;
        }
    }

    fn stop(&mut self) {
        self.input = None;
    }
}

/// The FileStreamSink task.
#[derive(Default)]
pub struct FileSinkTask {
    file: Option<String>,
    out: Option<File>,
    buf: Vec<u8>,
}

impl FileSinkTask {
    fn write_out(&mut self) -> Result<(), ConnectError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let res = match &mut self.out {
            Some(f) => f.write_all(&self.buf),
            None => {
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(&self.buf).and_then(|()| stdout.flush())
            }
        };
        res.map_err(|e| {
            ConnectError::new(format!("Couldn't write to {}: {e}", self.file.as_deref().unwrap_or("stdout")))
        })?;
        self.buf.clear();
        Ok(())
    }
}

impl SinkTask for FileSinkTask {
    fn start(&mut self, config: &ConfigMap) -> Result<(), ConnectError> {
        self.file = Config::new(SINK_KEYS, config).non_blank("file")?;
        if let Some(path) = &self.file {
            let f = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|e| {
                ConnectError::new(format!("Couldn't find or create file '{path}' for FileStreamSinkTask: {e}"))
            })?;
            self.out = Some(f);
        }
        Ok(())
    }

    fn put(&mut self, records: Vec<SinkRecord>) -> Result<(), ConnectError> {
        for r in &records {
            match &r.value {
                Value::String(s) => self.buf.extend_from_slice(s.as_bytes()),
                other => {
                    use std::fmt::Write as _;
                    let mut s = String::new();
                    let _ = write!(s, "{other}");
                    self.buf.extend_from_slice(s.as_bytes());
                }
            }
            self.buf.push(b'\n');
            if self.buf.len() >= SINK_BUFFER {
                self.write_out()?;
            }
        }
        // Like Kafka Connect's println per record, the batch reaches the file now (one write
        // for the batch), not at the next flush.
        self.write_out()
    }

    fn flush(&mut self) -> Result<(), ConnectError> {
        self.write_out()?;
        if let Some(f) = &mut self.out {
            f.flush().map_err(|e| {
                ConnectError::new(format!("Couldn't flush {}: {e}", self.file.as_deref().unwrap_or("stdout")))
            })?;
        }
        Ok(())
    }

    fn stop(&mut self) {
        let _ = self.write_out();
        self.out = None;
    }
}

pub fn source() -> Box<dyn ConnectorInstance> {
    Box::<FileSource>::default()
}

pub fn sink() -> Box<dyn ConnectorInstance> {
    Box::<FileSink>::default()
}

pub fn source_task() -> Task {
    Task::Source(Box::<FileSourceTask>::default())
}

pub fn sink_task() -> Task {
    Task::Sink(Box::<FileSinkTask>::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(stored: Option<serde_json::Value>) -> SourceTaskContext {
        SourceTaskContext { connector: "c".into(), task: 0, offsets: Box::new(move |_| stored.clone()) }
    }

    fn config(file: &std::path::Path, batch: usize) -> ConfigMap {
        [("file", file.to_str().unwrap().to_string()), ("topic", "t".to_string()), ("batch.size", batch.to_string())]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    fn lines(records: &[SourceRecord]) -> Vec<(String, u64)> {
        records
            .iter()
            .map(|r| {
                let Value::String(s) = &r.value else { panic!("not a string") };
                (s.clone(), r.source_offset.get_i64("position").unwrap() as u64)
            })
            .collect()
    }

    #[test]
    fn reads_lines_with_every_break_and_byte_positions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.txt");
        std::fs::write(&path, "a\nbb\r\nccc\rdd").unwrap();
        let mut t = FileSourceTask::default();
        t.start(ctx(None), &config(&path, 10)).unwrap();
        let got = lines(&t.poll().unwrap());
        assert_eq!(got, vec![("a".into(), 2), ("bb".into(), 6), ("ccc".into(), 10)]);
        assert_eq!(t.poll().unwrap().len(), 0, "an unfinished line waits for its break");
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"\n").unwrap();
        assert_eq!(lines(&t.poll().unwrap()), vec![("dd".into(), 13)]);
    }

    #[test]
    fn a_trailing_carriage_return_waits_for_a_possible_line_feed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.txt");
        std::fs::write(&path, "x\r").unwrap();
        let mut t = FileSourceTask::default();
        t.start(ctx(None), &config(&path, 10)).unwrap();
        assert!(t.poll().unwrap().is_empty());
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"\n").unwrap();
        assert_eq!(lines(&t.poll().unwrap()), vec![("x".into(), 3)]);
    }

    #[test]
    fn resumes_at_the_committed_position_and_honours_batch_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.txt");
        std::fs::write(&path, "l1\nl2\nl3\nl4\n").unwrap();
        let mut t = FileSourceTask::default();
        t.start(ctx(Some(serde_json::json!({"position": 6}))), &config(&path, 1)).unwrap();
        assert_eq!(lines(&t.poll().unwrap()), vec![("l3".into(), 9)]);
        assert_eq!(lines(&t.poll().unwrap()), vec![("l4".into(), 12)]);
        let r = &t.poll().unwrap();
        assert!(r.is_empty());
        assert_eq!(t.partition.as_ref(), format!("{{\"filename\":{:?}}}", path.to_str().unwrap()));
    }

    #[test]
    fn a_missing_file_is_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("later.txt");
        let mut t = FileSourceTask::default();
        t.start(ctx(None), &config(&path, 10)).unwrap();
        assert!(t.poll().unwrap().is_empty());
        std::fs::write(&path, "hello\n").unwrap();
        assert_eq!(lines(&t.poll().unwrap()), vec![("hello".into(), 6)]);
    }

    #[test]
    fn dev_zero_fails_the_task_with_a_clear_error_instead_of_filling_memory() {
        let mut t = FileSourceTask::default();
        t.start(ctx(None), &config(std::path::Path::new("/dev/zero"), 10)).unwrap();
        let mut polls = 0;
        let err = loop {
            polls += 1;
            match t.poll() {
                Ok(r) => assert!(r.is_empty() && polls < 100, "no line ever ends in /dev/zero"),
                Err(e) => break e,
            }
        };
        assert!(err.to_string().contains("longer than 1048576 bytes"), "{err}");
        assert!(t.buf.capacity() < 4 * MAX_LINE_BYTES, "buffer stayed bounded: {}", t.buf.capacity());
    }

    #[test]
    fn one_poll_reads_a_bounded_amount() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.txt");
        // 20 MiB of 1 KiB lines.
        let line = format!("{}\n", "x".repeat(1023));
        std::fs::write(&path, line.repeat(20 << 10)).unwrap();
        let mut t = FileSourceTask::default();
        t.start(ctx(None), &config(&path, 1_000_000)).unwrap();
        let first = t.poll().unwrap().len();
        assert!(first > 0 && first <= (POLL_BYTES >> 10) + 1, "{first} lines in one poll");
        let mut total = first;
        while total < 20 << 10 {
            let n = t.poll().unwrap().len();
            assert!(n > 0);
            total += n;
        }
        assert_eq!(total, 20 << 10);
    }

    #[test]
    fn sink_appends_values_as_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        std::fs::write(&path, "old\n").unwrap();
        let mut t = FileSinkTask::default();
        let cfg: ConfigMap = [("file".to_string(), path.to_str().unwrap().to_string())].into_iter().collect();
        t.start(&cfg).unwrap();
        let rec = |v: Value| SinkRecord::schemaless(0, Value::Null, v);
        t.put(vec![rec(Value::String("a".into())), rec(Value::Int64(7)), rec(Value::Null)]).unwrap();
        t.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\na\n7\nnull\n");
    }
}
