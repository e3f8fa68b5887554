//! Node wiring: the node's identity in its data directory ([`identity`]), the HTTP(S) listener
//! ([`serve`]) and starting and stopping a node ([`server`]).

pub mod identity;
pub mod serve;
pub mod server;
