//! The client commands: each sends its request, then prints the answer as a table
//! for people or as the server's JSON with `--json`.

mod audit;
mod keys;
mod operator;
mod secrets;
mod tokens;
mod volumes;

use serde_json::Value;

use crate::args::{Cli, Command, GlobalArgs};
use crate::client::Client;
use crate::failure::Failure;
use crate::prompt;
use crate::server_cmd;

/// Runs the command `cli` names.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Server(args) => server_cmd::run(args).await,
        Command::Status => operator::status(&connect(&cli.global)?, cli.global.json).await,
        Command::Operator(command) => {
            operator::run(&connect(&cli.global)?, command, cli.global.json).await
        }
        Command::Key(command) => keys::run(&connect(&cli.global)?, command, cli.global.json).await,
        Command::Secret(command) => {
            secrets::run(&connect(&cli.global)?, command, cli.global.json).await
        }
        Command::Volume(command) => {
            volumes::run(&connect(&cli.global)?, command, cli.global.json).await
        }
        Command::Token(command) => {
            tokens::run(&connect(&cli.global)?, command, cli.global.json).await
        }
        Command::Audit(command) => {
            audit::run(&connect(&cli.global)?, command, cli.global.json).await
        }
        Command::Node(command) => {
            crate::node::run(&connect(&cli.global)?, command, cli.global.json).await
        }
        Command::Policy(command) => {
            crate::policy_cmd::run(&connect(&cli.global)?, command, cli.global.json).await
        }
        Command::Ca(command) => {
            crate::ca::run(&connect(&cli.global)?, command, cli.global.json).await
        }
        Command::Agent(command) => crate::agent::run(command, cli.global.json).await,
        Command::Kmip(command) => {
            crate::kmip::run(&connect(&cli.global)?, command, cli.global.json).await
        }
    }
}

/// Asks before an action that cannot be undone: on a terminal the user answers
/// `question`; otherwise `--yes` is required. `action` completes "refusing
/// to ..." and `consequence` says why confirmation is needed.
pub fn confirm_irreversible(
    yes: bool,
    action: &str,
    consequence: &str,
    question: &str,
) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    if !prompt::stdin_is_terminal() {
        return Err(Failure::usage(
            format!("refusing to {action} without confirmation"),
            format!("{consequence}; pass --yes to confirm"),
        )
        .into());
    }
    if prompt::confirm(question)? {
        Ok(())
    } else {
        Err(Failure::usage(
            format!("did not {action}"),
            "answer y to go ahead, or pass --yes",
        )
        .into())
    }
}

fn connect(global: &GlobalArgs) -> anyhow::Result<Client> {
    Client::new(global)
}

/// A field of a JSON object as display text: strings as they are, numbers and
/// booleans written out, `-` for null or missing.
pub fn field(value: &Value, name: &str) -> String {
    display(value.get(name))
}

/// A JSON value as display text.
pub fn display(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Bool(true)) => "yes".to_owned(),
        Some(Value::Bool(false)) => "no".to_owned(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| display(Some(item)))
            .collect::<Vec<_>>()
            .join(","),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(key, item)| format!("{key}={}", display(Some(item))))
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}

/// The items of an array field, empty when missing.
pub fn items<'a>(value: &'a Value, name: &str) -> &'a [Value] {
    value
        .get(name)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_shown_as_text() {
        let value = json!({"s": "db", "n": 3, "b": true, "z": null,
                           "a": ["x", "y"], "o": {"app": "pg", "team": "ops"}});
        assert_eq!(field(&value, "s"), "db");
        assert_eq!(field(&value, "n"), "3");
        assert_eq!(field(&value, "b"), "yes");
        assert_eq!(field(&value, "z"), "-");
        assert_eq!(field(&value, "missing"), "-");
        assert_eq!(field(&value, "a"), "x,y");
        assert_eq!(field(&value, "o"), "app=pg,team=ops");
        assert!(items(&value, "missing").is_empty());
        assert_eq!(items(&value, "a").len(), 2);
    }
}
