//! Integration tests: real `raftconnect` processes over real sockets.

mod broker;
mod harness;
mod netns;

mod bad_input;
mod cluster;
mod conformance;
mod create_during_failover;
mod dataplane;
mod kafka_tls;
mod openapi;
mod partition;
mod providers;
mod runtime;
mod scale;
mod security;
