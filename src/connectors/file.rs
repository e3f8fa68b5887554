//! FileStreamSource / FileStreamSink (Kafka Connect §8.1): task configs with Kafka Connect's
//! semantics (the source has exactly one task; the sink has `tasks.max` copies). Moving data
//! comes with the data plane; until then their tasks start and idle.

use raftconnect_storage::model::ConfigMap;

use super::{ConnectError, ConnectorInstance, Lifecycle, TaskInstance};

#[derive(Default)]
pub struct FileSource {
    config: ConfigMap,
}

impl ConnectorInstance for FileSource {
    fn start(&mut self, config: &ConfigMap) -> Result<(), ConnectError> {
        let topics: Vec<&str> = config
            .get("topic")
            .map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).collect())
            .unwrap_or_default();
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
        // As Kafka Connect: the batch size is always passed on, 2000 by default.
        let batch = self.config.get("batch.size").cloned().unwrap_or_else(|| "2000".to_string());
        task.insert("batch.size".to_string(), batch);
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

/// A FileStream task before the data plane exists: it starts and idles.
#[derive(Default)]
pub struct IdleTask;

impl TaskInstance for IdleTask {
    fn start(&mut self, _config: &ConfigMap) -> Result<(), ConnectError> {
        tracing::warn!("FileStream task started, but the Kafka data plane does not exist yet: it moves no data.");
        Ok(())
    }
}

impl Lifecycle for FileSource {}
impl Lifecycle for FileSink {}
impl Lifecycle for IdleTask {}

pub fn source() -> Box<dyn ConnectorInstance> {
    Box::<FileSource>::default()
}

pub fn sink() -> Box<dyn ConnectorInstance> {
    Box::<FileSink>::default()
}

pub fn task() -> Box<dyn TaskInstance> {
    Box::<IdleTask>::default()
}
