//! Secrets and confirmations read from the person at the terminal: without echo
//! when standard input is a terminal, else one line of standard input (scripts).
//! Never from an argument, which other users could read in the process list.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use zeroize::Zeroizing;

use crate::failure::Failure;

/// Whether standard input is a terminal.
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Reads one line of standard input without its line ending.
fn read_stdin_line(what: &str) -> anyhow::Result<Zeroizing<String>> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|error| {
            anyhow::Error::new(error).context(Failure::usage(
                format!("cannot read the {what} from standard input"),
                format!("give the {what} on standard input, one line"),
            ))
        })?;
    let trimmed = line.trim_end_matches(['\n', '\r']);
    Ok(Zeroizing::new(trimmed.to_owned()))
}

/// Reads a secret (share or passphrase): from the terminal with echo off after
/// `prompt`, or one line of standard input. An empty answer is refused.
pub fn read_secret(prompt: &str, what: &str) -> anyhow::Result<Zeroizing<String>> {
    let secret = if stdin_is_terminal() {
        let typed = rpassword::prompt_password(prompt).map_err(|error| {
            anyhow::Error::new(error).context(Failure::usage(
                format!("cannot read the {what} from the terminal"),
                format!("pipe the {what} on standard input instead"),
            ))
        })?;
        Zeroizing::new(typed)
    } else {
        read_stdin_line(what)?
    };
    if secret.trim().is_empty() {
        return Err(Failure::usage(
            format!("no {what} given"),
            format!(
                "type or pipe the {what}; it is read from standard input, never from an argument"
            ),
        )
        .into());
    }
    Ok(secret)
}

/// Reads a new passphrase: on a terminal it is asked twice and must match.
pub fn read_new_passphrase(prompt: &str) -> anyhow::Result<Zeroizing<String>> {
    let passphrase = read_secret(prompt, "passphrase")?;
    if stdin_is_terminal() {
        let again = read_secret("The same passphrase again: ", "passphrase")?;
        if again.as_str() != passphrase.as_str() {
            return Err(Failure::usage(
                "the two passphrases differ",
                "run the command again and type the same passphrase twice",
            )
            .into());
        }
    }
    Ok(passphrase)
}

/// Asks a yes/no question on the terminal; only `y` or `yes` is a yes.
pub fn confirm(question: &str) -> anyhow::Result<bool> {
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().ok();
    let answer = read_stdin_line("answer")?;
    let answer = answer.trim().to_ascii_lowercase();
    Ok(answer == "y" || answer == "yes")
}
