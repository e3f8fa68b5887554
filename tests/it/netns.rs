//! Hosts for tests that cut the network between nodes: one network namespace per node, each
//! with a veth into a bridge in the test's own namespace (iproute2; the tests run as root).
//! Cutting a node sets its veth down: both directions, for the other nodes and for the test;
//! nothing is refused, packets are lost, as in a real partition. Healing sets it up again.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{bail, Context, Result};

static NEXT: AtomicU32 = AtomicU32::new(0);

pub struct Net {
    tag: String,
    subnet: u32,
    nodes: Vec<u64>,
}

fn ip(args: &[&str]) -> Result<()> {
    let out = Command::new("ip").args(args).output().context("run ip (iproute2)")?;
    if !out.status.success() {
        bail!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

impl Net {
    /// A bridge and one namespace per node id (ids up to 250).
    pub fn new(nodes: &[u64]) -> Result<Self> {
        let k = NEXT.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        // Interface names have at most 15 bytes: "rc<pid%10000><k>v<id>".
        let tag = format!("rc{}{k}", pid % 10_000);
        let subnet = (pid * 7 + k) % 200 + 20;
        let net = Self { tag, subnet, nodes: nodes.to_vec() };
        net.create().with_context(|| format!("creating the test network {}", net.tag))?;
        Ok(net)
    }

    fn bridge(&self) -> String {
        format!("{}b", self.tag)
    }

    fn veth(&self, id: u64) -> String {
        format!("{}v{id}", self.tag)
    }

    pub fn ns(&self, id: u64) -> String {
        format!("{}n{id}", self.tag)
    }

    /// The address node `id` listens on.
    pub fn host(&self, id: u64) -> String {
        format!("10.213.{}.{id}", self.subnet)
    }

    fn create(&self) -> Result<()> {
        let br = self.bridge();
        ip(&["link", "add", &br, "type", "bridge"])?;
        ip(&["addr", "add", &format!("10.213.{}.254/24", self.subnet), "dev", &br])?;
        ip(&["link", "set", &br, "up"])?;
        for id in &self.nodes {
            let (ns, veth) = (self.ns(*id), self.veth(*id));
            ip(&["netns", "add", &ns])?;
            ip(&["link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns])?;
            ip(&["link", "set", &veth, "master", &br])?;
            ip(&["link", "set", &veth, "up"])?;
            ip(&["-n", &ns, "addr", "add", &format!("{}/24", self.host(*id)), "dev", "eth0"])?;
            ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        }
        Ok(())
    }

    /// Cut node `id` off from everyone.
    pub fn cut(&self, id: u64) -> Result<()> {
        ip(&["link", "set", &self.veth(id), "down"])
    }

    pub fn heal(&self, id: u64) -> Result<()> {
        ip(&["link", "set", &self.veth(id), "up"])
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        // Deleting a namespace deletes its end of the veth, and so the pair.
        for id in &self.nodes {
            let _ = ip(&["netns", "del", &self.ns(*id)]);
        }
        let _ = ip(&["link", "del", &self.bridge()]);
    }
}
