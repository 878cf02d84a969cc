//! `cryptainer token ...`: API tokens (admin).

use std::time::Duration;

use api::tokens::{CreateToken, CreateTokenRequest, ListTokens, RevokeToken, TokenInfo, TokenList};
use time::OffsetDateTime;

use super::time;
use crate::args::{Role, TokenCommand};
use crate::client::Client;
use crate::table::Table;

/// Runs a token command.
pub async fn run(client: &Client, command: &TokenCommand, json: bool) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            role,
            tenants,
            ttl,
            name,
        } => create(client, *role, tenants, *ttl, name.as_deref(), json).await,
        TokenCommand::List => list(client, json).await,
        TokenCommand::Revoke { id } => revoke(client, id, json).await,
    }
}

/// `cryptainer token create`: prints the token's secret, once.
async fn create(
    client: &Client,
    role: Role,
    tenants: &[String],
    ttl: Duration,
    name: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    let request = CreateTokenRequest {
        role: role.wire().as_str().to_owned(),
        tenants: (!tenants.is_empty()).then(|| tenants.to_vec()),
        ttl_secs: Some(ttl.as_secs()),
        display_name: name.map(str::to_owned),
    };
    client
        .show(&CreateToken(&request), json, |created| {
            println!("Token:    {}", created.token.expose_secret());
            println!("ID:       {}", created.info.id);
            println!("Role:     {}", created.info.role.as_str());
            println!("Tenants:  {}", created.info.tenants.join(","));
            println!("Expires:  {}", time(created.info.expires_at));
            println!(
                "\nThe token is shown ONCE: give it to its user over a private channel. Revoke it \
                 with `cryptainer token revoke {}`.",
                created.info.id
            );
            Ok(())
        })
        .await
}

/// `cryptainer token list`.
async fn list(client: &Client, json: bool) -> anyhow::Result<()> {
    client
        .show(&ListTokens, json, |list| {
            print!("{}", token_table(&list, OffsetDateTime::now_utc()));
            Ok(())
        })
        .await
}

/// `cryptainer token revoke`.
async fn revoke(client: &Client, id: &str, json: bool) -> anyhow::Result<()> {
    client
        .show(&RevokeToken { id }, json, |info| {
            println!(
                "Revoked token {} ({}, {}).",
                info.id,
                info.role.as_str(),
                info.display_name
            );
            Ok(())
        })
        .await
}

/// Whether a token is usable at `now`.
fn token_status(token: &TokenInfo, now: OffsetDateTime) -> &'static str {
    if token.revoked_at.is_some() {
        "revoked"
    } else if token.expires_at <= now {
        "expired"
    } else {
        "active"
    }
}

fn token_table(list: &TokenList, now: OffsetDateTime) -> String {
    if list.tokens.is_empty() {
        return "No tokens.\n".to_owned();
    }
    let mut table = Table::new(&[
        "ID", "ROLE", "TENANTS", "NAME", "STATUS", "CREATED", "EXPIRES",
    ]);
    for token in &list.tokens {
        table.row(vec![
            token.id.clone(),
            token.role.as_str().to_owned(),
            token.tenants.join(","),
            token.display_name.clone(),
            token_status(token, now).to_owned(),
            time(token.created_at),
            time(token.expires_at),
        ]);
    }
    table.render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::format_description::well_known::Rfc3339;

    fn at(text: &str) -> OffsetDateTime {
        OffsetDateTime::parse(text, &Rfc3339).unwrap()
    }

    #[test]
    fn the_token_table_tells_active_expired_and_revoked_apart() {
        let now = at("2026-11-23T00:00:00Z");
        let token = |id: &str, expires: &str, revoked: Option<&str>| TokenInfo {
            id: id.to_owned(),
            role: api::tokens::Role::Operator,
            tenants: vec!["default".to_owned(), "b".to_owned()],
            display_name: "ci".to_owned(),
            created_at: at("2026-11-22T00:00:00Z"),
            expires_at: at(expires),
            revoked_at: revoked.map(at),
        };
        let list = TokenList {
            tokens: vec![
                token("tok_a", "2026-11-24T00:00:00Z", None),
                token("tok_b", "2026-11-22T12:00:00Z", None),
                token(
                    "tok_c",
                    "2026-11-24T00:00:00Z",
                    Some("2026-11-22T13:00:00Z"),
                ),
            ],
        };
        assert_eq!(
            token_table(&list, now),
            "ID     ROLE      TENANTS    NAME  STATUS   CREATED               EXPIRES\n\
             tok_a  operator  default,b  ci    active   2026-11-22T00:00:00Z  2026-11-24T00:00:00Z\n\
             tok_b  operator  default,b  ci    expired  2026-11-22T00:00:00Z  2026-11-22T12:00:00Z\n\
             tok_c  operator  default,b  ci    revoked  2026-11-22T00:00:00Z  2026-11-24T00:00:00Z\n"
        );
        assert_eq!(
            token_table(&TokenList { tokens: Vec::new() }, now),
            "No tokens.\n"
        );
    }
}
