//! The `nabla` command line: each subcommand parses its arguments and calls
//! the library. Errors are one line on stderr; exit codes are 0 (success),
//! 2 (usage or input error) and 1 (anything else, such as a failed check).

mod bench;
mod config;
mod data_flags;
mod explain;
mod gradcheck;
mod graph;
mod history;
mod minimize;
mod optimizer_flags;
mod optimizers;
mod plots;
mod predict;
mod report;
mod surface;
mod threads;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Why a command stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The arguments or the input are wrong: exit code 2.
    #[error("{0}")]
    Usage(String),
    /// The command ran and found a failure: exit code 1.
    #[error("{0}")]
    Failed(String),
}

#[derive(Parser)]
#[command(
    name = "nabla",
    version,
    about = "Backpropagation you can read and train with."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Train(Box<train::Args>),
    /// List the built-in datasets.
    Datasets,
    Predict(predict::PredictArgs),
    Eval(predict::EvalArgs),
    Inspect(predict::InspectArgs),
    Gradcheck(Box<gradcheck::Args>),
    Minimize(Box<minimize::Args>),
    Graph(graph::Args),
    Optimizers(optimizers::Args),
    Explain(explain::Args),
    Surface(Box<surface::Args>),
    Bench(bench::Args),
}

/// Lets a closed pipe end the process quietly, as it ends any other command
/// in `nabla predict … | head`: Rust ignores SIGPIPE, which makes the next
/// `print!` panic, so the default action is restored. Files are written
/// atomically, so a run cut short this way leaves none half-written.
#[cfg(unix)]
fn die_on_closed_pipe() {
    // SAFETY: at the start of `main`, before any thread is spawned, and
    // SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Parses the process arguments, runs the command, and reports the outcome.
pub fn main() -> ExitCode {
    #[cfg(unix)]
    die_on_closed_pipe();
    let argv = match config::expand(std::env::args_os().collect()) {
        Ok(argv) => argv,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let cli = Cli::parse_from(argv);
    let result = match cli.command {
        Command::Train(args) => train::run(&args),
        Command::Datasets => {
            for d in crate::data::BUILTINS {
                println!("{:<8} {}", d.name, d.description);
            }
            Ok(())
        }
        Command::Gradcheck(args) => gradcheck::run(&args),
        Command::Minimize(args) => minimize::run(&args),
        Command::Graph(args) => graph::run(&args),
        Command::Optimizers(args) => optimizers::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Surface(args) => surface::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Predict(args) => predict::predict(&args),
        Command::Eval(args) => predict::eval(&args),
        Command::Inspect(args) => predict::inspect(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(match error {
                Error::Usage(_) => 2,
                Error::Failed(_) => 1,
            })
        }
    }
}

/// Makes the output directory `dir` (the `--out` of `train` and
/// `surface`) if it is missing, before any work, or says in one line why
/// it cannot be.
fn make_out_dir(dir: &std::path::Path) -> Result<(), Error> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::Usage(format!(
            "--out {} is a file, not a directory; name a directory to write into",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::Usage(format!(
            "--out {}: cannot make the directory: {e}",
            dir.display()
        ))
    })
}
