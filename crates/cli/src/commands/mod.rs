//! The client commands: each sends its request, then prints the answer as a table
//! for people or as the server's JSON with `--json`.

mod audit;
mod keys;
mod operator;
mod tokens;

use serde_json::Value;

use crate::args::{Cli, Command, GlobalArgs};
use crate::client::Client;
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
        Command::Token(command) => {
            tokens::run(&connect(&cli.global)?, command, cli.global.json).await
        }
        Command::Audit(command) => {
            audit::run(&connect(&cli.global)?, command, cli.global.json).await
        }
        Command::Kmip(command) => {
            crate::kmip::run(&connect(&cli.global)?, command, cli.global.json).await
        }
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
