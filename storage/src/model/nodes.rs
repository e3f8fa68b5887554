//! The node registry ([`NodeRecord`]) and the cluster-scoped log levels ([`LoggerLevel`]).
//! Which nodes vote is Raft's membership, not this registry.

use serde::{Deserialize, Serialize};

use super::{DirtyKeys, Key, NodeId, Rejection, Response, State};

/// The node registry entry. Role (voter/learner) comes from the Raft membership, not from here.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct NodeRecord {
    pub rest_url: String,
    /// Identity of the data directory the node runs from; an id is never reused by another one.
    pub incarnation: String,
    /// Set when the node announced a graceful leave.
    pub leaving: bool,
    pub registered_index: u64,
}

/// A cluster-scoped log level, and the log index of the entry that set it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LoggerLevel {
    pub level: String,
    pub index: u64,
}

impl State {
    /// `Command::RegisterNode`: a new node, or the same data directory again (its URL may have
    /// changed, and it is no longer leaving). Another data directory under a known id is refused.
    pub(super) fn register_node(
        &mut self,
        index: u64,
        id: NodeId,
        rest_url: &str,
        incarnation: &str,
        dirty: &mut DirtyKeys,
    ) -> Response {
        if let Some(existing) = self.nodes.get_mut(&id) {
            if existing.incarnation != incarnation {
                return Response::Rejected(Rejection::IncarnationMismatch { id });
            }
            existing.rest_url = rest_url.to_string();
            existing.leaving = false;
        } else {
            self.nodes.insert(
                id,
                NodeRecord {
                    rest_url: rest_url.to_string(),
                    incarnation: incarnation.to_string(),
                    leaving: false,
                    registered_index: index,
                },
            );
        }
        dirty.insert(Key::Node(id));
        Response::Applied
    }

    /// `Command::MarkNodeLeaving`.
    pub(super) fn mark_node_leaving(&mut self, id: NodeId, dirty: &mut DirtyKeys) -> Response {
        match self.nodes.get_mut(&id) {
            Some(n) => {
                n.leaving = true;
                dirty.insert(Key::Node(id));
                Response::Applied
            }
            None => Response::Rejected(Rejection::UnknownNode { id }),
        }
    }

    /// `Command::ForgetNode`.
    pub(super) fn forget_node(&mut self, id: NodeId, dirty: &mut DirtyKeys) -> Response {
        if self.nodes.remove(&id).is_none() {
            return Response::Rejected(Rejection::UnknownNode { id });
        }
        dirty.insert(Key::Node(id));
        Response::Applied
    }

    /// `Command::SetLoggerLevel`.
    pub(super) fn set_logger_level(
        &mut self,
        index: u64,
        logger: &str,
        level: &str,
        dirty: &mut DirtyKeys,
    ) -> Response {
        self.loggers.insert(logger.to_string(), LoggerLevel { level: level.to_string(), index });
        dirty.insert(Key::Logger(logger.to_string()));
        Response::Applied
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::*;
    use crate::model::Command;

    #[test]
    fn register_node_with_a_different_incarnation_is_rejected() {
        let mut s = State::default();
        let reg = |url: &str, inc: &str| Command::RegisterNode { id: 7, rest_url: url.into(), incarnation: inc.into() };
        assert_eq!(apply_at(&mut s, 1, reg("http://a:8083", "dir-1")).0, Response::Applied);
        apply_at(&mut s, 2, Command::MarkNodeLeaving { id: 7 });
        assert!(s.nodes[&7].leaving);
        let before = s.clone();

        let (r, dirty) = apply_at(&mut s, 3, reg("http://b:8083", "dir-2"));
        assert_eq!(r, Response::Rejected(Rejection::IncarnationMismatch { id: 7 }));
        assert!(dirty.is_empty());
        assert_eq!(s, before);

        // Same incarnation: URL updated, leaving cleared, registration index kept.
        assert_eq!(apply_at(&mut s, 4, reg("http://c:8083", "dir-1")).0, Response::Applied);
        let n = &s.nodes[&7];
        assert_eq!((n.rest_url.as_str(), n.leaving, n.registered_index), ("http://c:8083", false, 1));
    }
}
