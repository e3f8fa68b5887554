//! The real Kafka-protocol broker for data-plane tests: nisshi (kafka-broker.md), one per test
//! on a free port, installed by `scripts/broker.sh install` (which `scripts/test.sh` runs).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::harness::free_port;

/// The broker binary: `$NISSHI_BIN`, else where `scripts/broker.sh install` puts it.
fn binary() -> anyhow::Result<PathBuf> {
    if let Ok(p) = std::env::var("NISSHI_BIN") {
        return Ok(PathBuf::from(p));
    }
    let root = std::env::var("NISSHI_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".local/nisshi"));
    let bin = root.join("bin/nisshi");
    if !bin.exists() {
        bail!("the broker is not installed at {}: run scripts/broker.sh install (scripts/test.sh does)", bin.display());
    }
    Ok(bin)
}

pub struct Broker {
    child: Child,
    pub port: u16,
    bin: PathBuf,
    pub log: PathBuf,
}

/// One record read back from a topic.
#[derive(Debug, Clone)]
pub struct Read {
    pub partition: i32,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
}

impl Broker {
    pub fn start(dir: &Path) -> anyhow::Result<Self> {
        let bin = binary()?;
        let port = free_port();
        let url = format!("tcp://127.0.0.1:{port}");
        let log = dir.join(format!("broker-{port}.log"));
        let out = std::fs::File::create(&log)?;
        let child = Command::new(&bin)
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url])
            .args(["--storage-engine", "memory://nisshi/"])
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("spawn {}", bin.display()))?;
        let b = Broker { child, port, bin, log };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("broker did not listen on {port}: {}", std::fs::read_to_string(&b.log).unwrap_or_default());
            }
            // Polling a port until the broker listens; the state waited on is the open port.
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(b)
    }

    /// A broker with extra `broker` arguments (TLS `--cert`/`--key`, `--authentication`, a
    /// `--storage-engine`; memory unless one is given), on `port` if given (a restart on the
    /// same storage), else on a free one.
    pub fn start_with(dir: &Path, port: Option<u16>, args: &[String]) -> anyhow::Result<Self> {
        let bin = binary()?;
        let port = port.unwrap_or_else(free_port);
        let url = format!("tcp://127.0.0.1:{port}");
        let log = dir.join(format!("broker-{port}.log"));
        let out = std::fs::OpenOptions::new().create(true).append(true).open(&log)?;
        let mut cmd = Command::new(&bin);
        cmd.args(["broker", "--listener-url", &url, "--advertised-listener-url", &url]).args(args);
        if !args.iter().any(|a| a == "--storage-engine") {
            cmd.args(["--storage-engine", "memory://nisshi/"]);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("spawn {}", bin.display()))?;
        let mut b = Broker { child, port, bin, log };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = b.child.try_wait() {
                bail!("broker exited ({status}): {}", std::fs::read_to_string(&b.log).unwrap_or_default());
            }
            if Instant::now() > deadline {
                bail!("broker did not listen on {port}: {}", std::fs::read_to_string(&b.log).unwrap_or_default());
            }
            // Polling a port until the broker listens; the state waited on is the open port.
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(b)
    }

    /// SIGTERM and wait for the exit (a `sqlite://` broker's data survives it).
    pub fn stop(&mut self) {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !matches!(self.child.try_wait(), Ok(Some(_))) {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return;
            }
            // Polling a child process for exit; the state waited on is its exit.
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Run a `nisshi` subcommand (`user create …`, `topic create …`) and return its output.
    pub fn cli(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = Command::new(&self.bin).args(args).output()?;
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        if !out.status.success() {
            bail!("nisshi {}: {text}", args.join(" "));
        }
        Ok(text)
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn create_topic(&self, name: &str, partitions: u32) -> anyhow::Result<()> {
        let out = Command::new(&self.bin)
            .args(["topic", "create", "--broker", &format!("tcp://127.0.0.1:{}", self.port)])
            .args(["--partitions", &partitions.to_string(), name])
            .output()?;
        if !out.status.success() {
            bail!(
                "topic create {name}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// Produce values (no key) to one partition, waiting for every acknowledgement.
    pub fn produce(&self, topic: &str, partition: i32, values: &[String]) -> anyhow::Result<()> {
        let records: Vec<(i32, &str)> = values.iter().map(|v| (partition, v.as_str())).collect();
        self.produce_to(topic, &records)
    }

    /// Produce (partition, value) records (no key), waiting for every acknowledgement.
    pub fn produce_to(&self, topic: &str, records: &[(i32, &str)]) -> anyhow::Result<()> {
        let p: BaseProducer = ClientConfig::new().set("bootstrap.servers", self.bootstrap()).create()?;
        for (partition, v) in records {
            let mut rec = BaseRecord::<(), str>::to(topic).payload(*v).partition(*partition);
            // A full queue waits for deliveries instead of failing the test.
            loop {
                match p.send(rec) {
                    Ok(()) => break,
                    Err((
                        rdkafka::error::KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull),
                        back,
                    )) => {
                        rec = back;
                        p.poll(Duration::from_millis(10));
                    }
                    Err((e, _)) => return Err(e.into()),
                }
            }
            p.poll(Duration::ZERO);
        }
        p.flush(Duration::from_secs(30))?;
        Ok(())
    }

    /// Every record of `topic` (all `partitions`), read from the beginning until `expected`
    /// records were seen or the deadline passed.
    pub fn read_all(
        &self,
        topic: &str,
        partitions: i32,
        expected: usize,
        timeout: Duration,
    ) -> anyhow::Result<Vec<Read>> {
        let c: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", self.bootstrap())
            .set("group.id", "raftconnect-test-reader")
            .set("enable.auto.commit", "false")
            .set("queued.min.messages", "1000000")
            .create()?;
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition_offset(topic, p, Offset::Beginning)?;
        }
        c.assign(&tpl)?;
        let deadline = Instant::now() + timeout;
        let mut out = Vec::with_capacity(expected);
        while out.len() < expected {
            if Instant::now() > deadline {
                bail!("read {} of {expected} records of {topic} before the deadline", out.len());
            }
            if let Some(m) = c.poll(Duration::from_millis(100)) {
                let m = m?;
                out.push(Read {
                    partition: m.partition(),
                    key: m.key().map(<[u8]>::to_vec),
                    value: m.payload().map(<[u8]>::to_vec),
                });
            }
        }
        Ok(out)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
