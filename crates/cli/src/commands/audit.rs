//! `cryptainer audit ...`: the tamper-evident audit log.

use api::audit::{
    AuditEntry, AuditQuery, AuditRecords, AuditReport, ListAuditRecords, VerifyAudit,
};

use super::text;
use crate::args::AuditCommand;
use crate::client::{Client, print_answer};
use crate::failure::Failure;
use crate::table::Table;

/// Runs an audit command.
pub async fn run(client: &Client, command: &AuditCommand, json: bool) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify => verify(client, json).await,
        AuditCommand::List { after, limit } => list(client, *after, *limit, json).await,
    }
}

/// `cryptainer audit verify`: exits 1 when the log was altered, with `--json`
/// too.
async fn verify(client: &Client, json: bool) -> anyhow::Result<()> {
    let answer = client.call(&VerifyAudit).await?;
    if json {
        print_answer(&answer)?;
    }
    verdict(&client.decode(&answer)?, json)
}

/// `cryptainer audit list`.
async fn list(client: &Client, after: u64, limit: u32, json: bool) -> anyhow::Result<()> {
    let query = AuditQuery {
        after: Some(after),
        limit: Some(limit),
    };
    client
        .show(&ListAuditRecords(&query), json, |list| {
            print!("{}", record_table(&list, limit));
            Ok(())
        })
        .await
}

/// Exit 0 with a summary when the log is intact, a failure naming the first bad
/// record otherwise (its message is the server's).
fn verdict(report: &AuditReport, json: bool) -> anyhow::Result<()> {
    let message = &report.message;
    if report.ok {
        if !json {
            println!(
                "The audit log is intact: {} records verified. {message}",
                report.records
            );
        }
        return Ok(());
    }
    Err(Failure::failed(
        format!("the audit log is NOT intact: {message}"),
        format!(
            "records up to {} are intact; compare the database with a backup and find out who \
             had write access to it; `cryptainer audit list --after {}` shows what follows",
            report.last_good_seq, report.last_good_seq
        ),
    )
    .into())
}

fn record_table(list: &AuditRecords, limit: u32) -> String {
    let records = &list.records;
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
    let seq = |entry: &AuditEntry| match entry {
        AuditEntry::Record(record) => record.seq,
        AuditEntry::Undecodable { seq, .. } => *seq,
    };
    for entry in records {
        match entry {
            AuditEntry::Undecodable { seq, .. } => {
                table.row(vec![seq.to_string(), "(undecodable record)".to_owned()]);
            }
            AuditEntry::Record(record) => table.row(vec![
                record.seq.to_string(),
                record.time.clone(),
                record.principal.clone(),
                text(record.tenant.as_deref()),
                record.operation.clone(),
                text(record.object_id.as_deref()),
                record.result.clone(),
                text(record.remote.as_deref()),
            ]),
        }
    }
    let mut out = table.render();
    if u32::try_from(records.len()).is_ok_and(|shown| shown >= limit) {
        let last = records
            .last()
            .map(|entry| seq(entry).to_string())
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
    use api::audit::{AuditProblem, AuditRecord};

    fn report(ok: bool, last_good_seq: u64, message: &str) -> AuditReport {
        AuditReport {
            ok,
            records: 12,
            last_good_seq,
            last_checkpoint: None,
            problem: (!ok).then(|| AuditProblem {
                kind: "altered".to_owned(),
                at: std::collections::BTreeMap::from([("seq".to_owned(), 12)]),
            }),
            message: message.to_owned(),
        }
    }

    #[test]
    fn an_intact_log_passes() {
        assert!(verdict(&report(true, 12, "all 12 records verified"), false).is_ok());
    }

    #[test]
    fn a_tampered_log_fails_with_the_servers_message() {
        let error = verdict(&report(false, 11, "record 12 was altered"), false).unwrap_err();
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
        let list = AuditRecords {
            records: vec![
                AuditEntry::Record(Box::new(AuditRecord {
                    seq: 1,
                    time: "2026-11-22T18:00:00Z".to_owned(),
                    principal: "tok_a".to_owned(),
                    tenant: Some("default".to_owned()),
                    operation: "key.create".to_owned(),
                    object_id: Some("k1".to_owned()),
                    result: "ok".to_owned(),
                    remote: Some("127.0.0.1:5000".to_owned()),
                    hmacs: std::collections::BTreeMap::new(),
                    prev_hash: "00".to_owned(),
                    hash: "11".to_owned(),
                })),
                AuditEntry::Undecodable {
                    seq: 2,
                    undecodable: true,
                },
            ],
        };
        assert_eq!(
            record_table(&list, 2),
            "SEQ  TIME                  PRINCIPAL  TENANT   OPERATION   OBJECT  RESULT  REMOTE\n\
             1    2026-11-22T18:00:00Z  tok_a      default  key.create  k1      ok      127.0.0.1:5000\n\
             2    (undecodable record)\n\
             More may follow: `cryptainer audit list --after 2`.\n"
        );
    }
}
