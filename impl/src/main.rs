//! `paxos-impl`: runs the model-checked Multi-Paxos on threads (`run`), or one replica per process
//! over TCP (`init`, `serve`, `client`). See `paxos-impl --help`.
//!
//! Exit codes: 0 when the run passed, 1 when a check failed (agreement, a client giving up, a
//! replica failing), 2 for invalid arguments or a refused data directory (one line on stderr).

mod cli;

use clap::error::ErrorKind;
use clap::Parser;
use cli::args::{Cli, Command};
use std::process::ExitCode;

/// Messages and states are allocated in one replica's thread and freed in another's; mimalloc
/// does that faster than glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return ExitCode::from(2);
        }
        Err(e) => {
            let rendered = e.render().to_string();
            let line = rendered
                .lines()
                .next()
                .unwrap_or("error: invalid arguments");
            eprintln!("{line}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Run(args) => match cli::run(args) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(
                e @ (cli::RunError::Config(_)
                | cli::RunError::Usage(_)
                | cli::RunError::Cluster(paxos_impl::ClusterError::Config(_))),
            ) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        },
        Command::Serve(args) => match cli::serve::serve(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e @ cli::serve::ServeFailure::Refused(_)) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        },
        Command::Client(args) => match cli::client::client(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e @ cli::client::ClientFailure::Usage(_)) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        },
        Command::Init(args) => {
            let identity = paxos_impl::storage::Identity {
                cluster: args.cluster,
                replica: args.id,
            };
            match paxos_impl::storage::data_dir::init(&args.data_dir, &identity) {
                Ok(()) => {
                    println!(
                        "initialized {} for replica {} of cluster '{}'",
                        args.data_dir.display(),
                        identity.replica,
                        identity.cluster
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}
