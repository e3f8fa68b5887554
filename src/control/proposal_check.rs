//! The leader's check of a connector command before it proposes it (installed by the server):
//! the same validation as `PUT …/config/validate`, and a create of an existing name refused.

use raftconnect_storage::{Command, State};

use crate::plugin::validation::check_connector_config;

/// The leader's check before it proposes a connector command (installed by the server).
pub fn check_proposal(cmd: &Command, state: &State) -> Result<(), (u16, String)> {
    match cmd {
        Command::CreateConnector { name, config, .. } => {
            if state.connectors.contains_key(name) {
                return Err((409, format!("Connector {name} already exists")));
            }
            check_connector_config(config).map(|_| ()).map_err(|m| (400, m))
        }
        Command::PutConnector { config, .. } => check_connector_config(config).map(|_| ()).map_err(|m| (400, m)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use raftconnect_storage::model::{ConfigMap, TargetState};

    use super::*;

    fn create(name: &str, config: ConfigMap) -> Command {
        Command::CreateConnector {
            name: name.into(),
            request_id: "r".into(),
            config,
            target_state: TargetState::Running,
            source_offsets: Vec::new(),
            sink_offsets: Vec::new(),
        }
    }

    #[test]
    fn creates_are_validated_and_names_unique() {
        let config: ConfigMap = [("name", "p"), ("connector.class", "MockSource")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let empty = State::default();
        assert_eq!(check_proposal(&create("p", config.clone()), &empty), Ok(()));
        let mut bad = config.clone();
        bad.insert("tasks.max".into(), "0".into());
        let (code, message) = check_proposal(&create("p", bad), &empty).unwrap_err();
        assert_eq!(code, 400);
        assert!(message.contains("Invalid value 0 for configuration tasks.max"), "{message}");
    }
}
