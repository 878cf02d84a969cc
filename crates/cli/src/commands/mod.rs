//! Every command of the binary, one module per command group and one function
//! per subcommand. The client commands send their request through the `api`
//! crate, then print the answer as a table for people or as the server's JSON
//! with `--json`.

mod agent;
mod audit;
mod ca;
mod keys;
mod kmip;
mod nodes;
mod operator;
mod policies;
mod seal;
mod secrets;
mod server;
mod tokens;
pub mod volume_engine;
mod volumes;

use std::collections::BTreeMap;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::args::{Cli, Command, GlobalArgs, OperatorCommand};
use crate::client::Client;
use crate::failure::Failure;
use crate::prompt;

/// Runs the command `cli` names (but `volume-engine`, which `main` runs
/// outside the async runtime).
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let json = cli.global.json;
    match &cli.command {
        Command::Server(args) => server::run(args).await,
        Command::Status => operator::status(&connect(&cli.global)?, json).await,
        // A migration talks to no server: the server is stopped.
        Command::Operator(OperatorCommand::Migrate(args)) => operator::migrate(args, json).await,
        Command::Operator(command) => operator::run(&connect(&cli.global)?, command, json).await,
        Command::Key(command) => keys::run(&connect(&cli.global)?, command, json).await,
        Command::Secret(command) => secrets::run(&connect(&cli.global)?, command, json).await,
        Command::Volume(command) => volumes::run(&connect(&cli.global)?, command, json).await,
        Command::Token(command) => tokens::run(&connect(&cli.global)?, command, json).await,
        Command::Audit(command) => audit::run(&connect(&cli.global)?, command, json).await,
        Command::Node(command) => nodes::run(&connect(&cli.global)?, command, json).await,
        Command::Policy(command) => policies::run(&connect(&cli.global)?, command, json).await,
        Command::Ca(command) => ca::run(&connect(&cli.global)?, command, json).await,
        Command::Agent(command) => agent::run(command, json).await,
        Command::Kmip(command) => kmip::run(&connect(&cli.global)?, command, json).await,
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

/// An optional text as shown in tables: `-` when absent.
pub fn text(value: Option<&str>) -> String {
    value.unwrap_or("-").to_owned()
}

/// A flag as shown in tables.
pub fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}

/// A time as the API writes it (RFC 3339).
pub fn time(value: OffsetDateTime) -> String {
    value.format(&Rfc3339).unwrap_or_default()
}

/// An optional time: `-` when absent.
pub fn time_or_dash(value: Option<OffsetDateTime>) -> String {
    value.map_or_else(|| "-".to_owned(), time)
}

/// A map as `key=value` pairs separated by commas (empty for none).
pub fn pairs(map: &BTreeMap<String, String>) -> String {
    map.iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Labels as `k=v, k2=v2`, or `-` for none.
pub fn labels_text(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "-".to_owned();
    }
    labels
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Names as `a, b`, or `-` for none.
pub fn names(list: &[String]) -> String {
    if list.is_empty() {
        "-".to_owned()
    } else {
        list.join(", ")
    }
}

/// Labels given on the command line, as a map; a repeated key is a usage error.
pub fn collect_labels(labels: &[(String, String)]) -> anyhow::Result<BTreeMap<String, String>> {
    crate::labels::collect_labels(labels.to_vec()).map_err(|error| {
        anyhow::Error::new(error).context(Failure::usage(
            "the labels were refused",
            "give each label once as --label KEY=VALUE",
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_shown_as_text() {
        assert_eq!(text(Some("db")), "db");
        assert_eq!(text(None), "-");
        assert_eq!(yes_no(true), "yes");
        assert_eq!(yes_no(false), "no");
        let labels = BTreeMap::from([
            ("app".to_owned(), "pg".to_owned()),
            ("team".to_owned(), "ops".to_owned()),
        ]);
        assert_eq!(pairs(&labels), "app=pg,team=ops");
        assert_eq!(labels_text(&labels), "app=pg, team=ops");
        assert_eq!(labels_text(&BTreeMap::new()), "-");
        assert_eq!(names(&["a".to_owned(), "b".to_owned()]), "a, b");
        assert_eq!(names(&[]), "-");
        let when = OffsetDateTime::parse("2026-11-22T18:00:00.5Z", &Rfc3339).unwrap();
        assert_eq!(time(when), "2026-11-22T18:00:00.5Z");
        assert_eq!(time_or_dash(None), "-");
    }
}
