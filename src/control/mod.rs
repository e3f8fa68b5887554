//! What only the Raft leader runs: the planner that places connectors and tasks on nodes
//! ([`planner`]), the spread of sink topic-partitions over tasks ([`sink_partitions`]) and the
//! check of a connector command before it is proposed ([`proposal_check`]). Every other node
//! executes what these write, in `crate::worker`.

pub mod planner;
pub mod proposal_check;
pub mod sink_partitions;
