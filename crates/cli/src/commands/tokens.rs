//! `cryptainer token ...`: API tokens (admin).

use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{field, items};
use crate::args::TokenCommand;
use crate::client::{Auth, Client, SecretJson, print_json};
use crate::table::Table;

/// Runs a token command.
pub async fn run(client: &Client, command: &TokenCommand, json: bool) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            role,
            tenants,
            ttl,
            name,
        } => {
            let mut body = json!({ "role": role.as_str(), "ttl_secs": ttl.as_secs() });
            if let Some(object) = body.as_object_mut() {
                if !tenants.is_empty() {
                    object.insert("tenants".to_owned(), json!(tenants));
                }
                if let Some(name) = name {
                    object.insert("display_name".to_owned(), Value::String(name.clone()));
                }
            }
            let created = SecretJson(
                client
                    .call(
                        Method::POST,
                        &["v1", "auth", "tokens"],
                        &[],
                        Some(&body),
                        Auth::Token,
                    )
                    .await?,
            );
            if json {
                return print_json(&created);
            }
            println!("Token:    {}", field(&created, "token"));
            println!("ID:       {}", field(&created, "id"));
            println!("Role:     {}", field(&created, "role"));
            println!("Tenants:  {}", field(&created, "tenants"));
            println!("Expires:  {}", field(&created, "expires_at"));
            println!(
                "\nThe token is shown ONCE: give it to its user over a private channel. Revoke it \
                 with `cryptainer token revoke {}`.",
                field(&created, "id")
            );
            Ok(())
        }
        TokenCommand::List => {
            let list = client
                .call(
                    Method::GET,
                    &["v1", "auth", "tokens"],
                    &[],
                    None,
                    Auth::Token,
                )
                .await?;
            if json {
                return print_json(&list);
            }
            print!("{}", token_table(&list, OffsetDateTime::now_utc()));
            Ok(())
        }
        TokenCommand::Revoke { id } => {
            let info = client
                .call(
                    Method::DELETE,
                    &["v1", "auth", "tokens", id],
                    &[],
                    None,
                    Auth::Token,
                )
                .await?;
            if json {
                return print_json(&info);
            }
            println!(
                "Revoked token {} ({}, {}).",
                field(&info, "id"),
                field(&info, "role"),
                field(&info, "display_name")
            );
            Ok(())
        }
    }
}

/// Whether a token is usable at `now`.
fn token_status(token: &Value, now: OffsetDateTime) -> &'static str {
    if token
        .get("revoked_at")
        .is_some_and(|value| !value.is_null())
    {
        return "revoked";
    }
    let expires = token
        .get("expires_at")
        .and_then(Value::as_str)
        .and_then(|text| OffsetDateTime::parse(text, &Rfc3339).ok());
    match expires {
        Some(expires) if expires <= now => "expired",
        Some(_) => "active",
        None => "unknown",
    }
}

fn token_table(list: &Value, now: OffsetDateTime) -> String {
    let tokens = items(list, "tokens");
    if tokens.is_empty() {
        return "No tokens.\n".to_owned();
    }
    let mut table = Table::new(&[
        "ID", "ROLE", "TENANTS", "NAME", "STATUS", "CREATED", "EXPIRES",
    ]);
    for token in tokens {
        table.row(vec![
            field(token, "id"),
            field(token, "role"),
            field(token, "tenants"),
            field(token, "display_name"),
            token_status(token, now).to_owned(),
            field(token, "created_at"),
            field(token, "expires_at"),
        ]);
    }
    table.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_table_tells_active_expired_and_revoked_apart() {
        let now = OffsetDateTime::parse("2026-11-23T00:00:00Z", &Rfc3339).unwrap();
        let token = |id: &str, expires: &str, revoked: Value| {
            json!({"id": id, "role": "operator", "tenants": ["default", "b"], "display_name": "ci",
                   "created_at": "2026-11-22T00:00:00Z", "expires_at": expires, "revoked_at": revoked})
        };
        let list = json!({"tokens": [
            token("tok_a", "2026-11-24T00:00:00Z", Value::Null),
            token("tok_b", "2026-11-22T12:00:00Z", Value::Null),
            token("tok_c", "2026-11-24T00:00:00Z", json!("2026-11-22T13:00:00Z")),
        ]});
        assert_eq!(
            token_table(&list, now),
            "ID     ROLE      TENANTS    NAME  STATUS   CREATED               EXPIRES\n\
             tok_a  operator  default,b  ci    active   2026-11-22T00:00:00Z  2026-11-24T00:00:00Z\n\
             tok_b  operator  default,b  ci    expired  2026-11-22T00:00:00Z  2026-11-22T12:00:00Z\n\
             tok_c  operator  default,b  ci    revoked  2026-11-22T00:00:00Z  2026-11-24T00:00:00Z\n"
        );
        assert_eq!(token_table(&json!({"tokens": []}), now), "No tokens.\n");
    }
}
