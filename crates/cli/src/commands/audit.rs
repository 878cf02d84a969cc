//! `cryptainer audit ...`: the tamper-evident audit log.

use reqwest::Method;
use serde_json::Value;

use super::{field, items};
use crate::args::AuditCommand;
use crate::client::{Auth, Client, print_json};
use crate::failure::Failure;
use crate::table::Table;

/// Runs an audit command.
pub async fn run(client: &Client, command: &AuditCommand, json: bool) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify => {
            let report = client
                .call(
                    Method::POST,
                    &["v1", "audit", "verify"],
                    &[],
                    None,
                    Auth::Token,
                )
                .await?;
            if json {
                print_json(&report)?;
            }
            verdict(&report, json)
        }
        AuditCommand::List { after, limit } => {
            let query = [("after", after.to_string()), ("limit", limit.to_string())];
            let list = client
                .call(
                    Method::GET,
                    &["v1", "audit", "records"],
                    &query,
                    None,
                    Auth::Token,
                )
                .await?;
            if json {
                return print_json(&list);
            }
            print!("{}", record_table(&list, *limit));
            Ok(())
        }
    }
}

/// Exit 0 with a summary when the log is intact, a failure naming the first bad
/// record otherwise (its message is the server's).
fn verdict(report: &Value, json: bool) -> anyhow::Result<()> {
    let message = report
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("the server gave no message");
    if report.get("ok").and_then(Value::as_bool) == Some(true) {
        if !json {
            println!(
                "The audit log is intact: {} records verified. {message}",
                field(report, "records")
            );
        }
        return Ok(());
    }
    Err(Failure::failed(
        format!("the audit log is NOT intact: {message}"),
        format!(
            "records up to {} are intact; compare the database with a backup and find out who \
             had write access to it; `cryptainer audit list --after {}` shows what follows",
            field(report, "last_good_seq"),
            field(report, "last_good_seq")
        ),
    )
    .into())
}

fn record_table(list: &Value, limit: u32) -> String {
    let records = items(list, "records");
    if records.is_empty() {
        return "No records.\n".to_owned();
    }
    let mut table = Table::new(&[
        "SEQ",
        "TIME",
        "PRINCIPAL",
        "TENANT",
        "OPERATION",
        "OBJECT",
        "RESULT",
        "REMOTE",
    ]);
    for record in records {
        if record.get("undecodable").and_then(Value::as_bool) == Some(true) {
            table.row(vec![
                field(record, "seq"),
                "(undecodable record)".to_owned(),
            ]);
            continue;
        }
        table.row(vec![
            field(record, "seq"),
            field(record, "time"),
            field(record, "principal"),
            field(record, "tenant"),
            field(record, "operation"),
            field(record, "object_id"),
            field(record, "result"),
            field(record, "remote"),
        ]);
    }
    let mut out = table.render();
    if u32::try_from(records.len()).is_ok_and(|shown| shown >= limit) {
        let last = records
            .last()
            .map(|record| field(record, "seq"))
            .unwrap_or_default();
        out.push_str(&format!(
            "More may follow: `cryptainer audit list --after {last}`.\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_intact_log_passes() {
        let report = json!({"ok": true, "records": 12, "last_good_seq": 12, "problem": null,
                            "message": "all 12 records verified"});
        assert!(verdict(&report, false).is_ok());
    }

    #[test]
    fn a_tampered_log_fails_with_the_servers_message() {
        let report = json!({"ok": false, "records": 12, "last_good_seq": 11,
                            "problem": {"kind": "altered", "seq": 12},
                            "message": "record 12 was altered"});
        let error = verdict(&report, false).unwrap_err();
        let failure = error.downcast_ref::<Failure>().unwrap();
        assert_eq!(failure.exit, crate::failure::Exit::Failed);
        assert_eq!(
            failure.message,
            "the audit log is NOT intact: record 12 was altered"
        );
        assert!(failure.hint.as_deref().unwrap().contains("up to 11"));
    }

    #[test]
    fn records_are_listed_with_a_pointer_to_the_next_page() {
        let list = json!({"records": [
            {"seq": 1, "time": "2026-11-22T18:00:00Z", "principal": "tok_a", "tenant": "default",
             "operation": "key.create", "object_id": "k1", "result": "ok", "remote": "127.0.0.1:5000"},
            {"seq": 2, "undecodable": true}
        ]});
        assert_eq!(
            record_table(&list, 2),
            "SEQ  TIME                  PRINCIPAL  TENANT   OPERATION   OBJECT  RESULT  REMOTE\n\
             1    2026-11-22T18:00:00Z  tok_a      default  key.create  k1      ok      127.0.0.1:5000\n\
             2    (undecodable record)\n\
             More may follow: `cryptainer audit list --after 2`.\n"
        );
    }
}
