//! `cryptainer-bench`: load generator for the Cryptainer HTTPS API.
//!
//! It starts the real server in development mode in a scratch directory,
//! drives it with concurrent HTTPS clients, reads the server's memory from
//! `/proc`, and prints what the benchmark issue asks for next to its targets.
//! See `bench/README.md`.
#![forbid(unsafe_code)]

mod api;
mod client;
mod kmip;
mod latency;
mod load;
mod report;
mod seals;
mod server;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Load generator for the Cryptainer HTTPS API.
#[derive(Parser, Debug)]
#[command(name = "cryptainer-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start a dev server and measure creates/s, gets/s, latency and memory
    /// at a small and a large store size.
    Api(api::ApiArgs),
    /// Start a dev server and measure KMIP Get, Create and Encrypt over mutual
    /// TLS at 1 and 16 connections, memory with 1,000 idle connections, and
    /// the same operations against pykmip-server when it is installed.
    Kmip(kmip::KmipArgs),
    /// For each seal kind (passphrase, shamir, PKCS#11 on SoftHSM2, TPM 2.0 on
    /// swtpm, a second Cryptainer over KMIP): time from start to unsealed, and
    /// create and get throughput, as ratios against the passphrase seal.
    Seals(seals::SealArgs),
}

/// Runs the benchmark until it ends or Ctrl-C. On Ctrl-C the benchmark's
/// future is dropped, which stops the server and deletes its data directory
/// (which holds gigabytes after a full fill).
async fn run_interruptible(args: &api::ApiArgs) -> anyhow::Result<report::Report> {
    tokio::select! {
        result = api::run(args) => result,
        signal = tokio::signal::ctrl_c() => {
            signal?;
            Err(anyhow::anyhow!("interrupted; the server was stopped and its data deleted"))
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::Seals(args) => match runtime.block_on(seals::run(&args)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        },
        Command::Kmip(args) => match runtime.block_on(kmip::run(&args)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        },
        Command::Api(args) => match runtime.block_on(run_interruptible(&args)) {
            Ok(report) => {
                if args.json {
                    match serde_json::to_string_pretty(&report) {
                        Ok(json) => println!("{json}"),
                        Err(error) => {
                            eprintln!("error: cannot encode the report: {error}");
                            return ExitCode::FAILURE;
                        }
                    }
                } else {
                    print!("{}", report.to_table());
                }
                // Missed targets are a result, not a failure of the tool.
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        },
    }
}
