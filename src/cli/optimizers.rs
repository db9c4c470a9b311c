//! `nabla optimizers`: each optimizer's update equations, hyperparameters
//! and defaults, from the library's catalog.

use clap::Args as ClapArgs;

use super::Error;
use crate::optim::{OptimizerInfo, OptimizerSpec, describe_optimizer, optimizer_catalog};

/// List the optimizers, or show one: its update, its hyperparameters with
/// their flags and defaults, and its paper.
#[derive(ClapArgs)]
#[command(
    after_help = "Examples:\n  nabla optimizers\n  nabla optimizers adam\n  nabla optimizers lbfgs --json"
)]
pub struct Args {
    /// The optimizer to show in full (default: list them all).
    name: Option<String>,
    /// Print JSON: the optimizer's entry, or an array of every entry.
    #[arg(long)]
    json: bool,
}

/// Prints the list or the one optimizer asked for.
pub fn run(args: &Args) -> Result<(), Error> {
    let Some(name) = &args.name else {
        let catalog = optimizer_catalog();
        if args.json {
            println!("{}", to_json(&catalog));
        } else {
            print!("{}", list(&catalog));
        }
        return Ok(());
    };
    let info = describe_optimizer(name).ok_or_else(|| {
        Error::Usage(format!(
            "unknown optimizer {name:?}; use one of: {}",
            OptimizerSpec::NAMES.join(", ")
        ))
    })?;
    if args.json {
        println!("{}", to_json(&info));
    } else {
        print!("{}", full(&info));
    }
    Ok(())
}

fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).expect("the catalog serializes")
}

/// One entry per optimizer: its name, its summary and its flags.
fn list(catalog: &[OptimizerInfo]) -> String {
    let mut text = String::new();
    for info in catalog {
        let flags: Vec<&str> = info.hyperparameters.iter().filter_map(|h| h.flag).collect();
        text.push_str(&format!("{:<9} {}\n", info.name, info.summary));
        text.push_str(&format!("{:<9} {}\n", "", flags.join(" ")));
    }
    text.push_str(
        "\n`nabla optimizers NAME` shows one optimizer's update equations and defaults.\n",
    );
    text
}

/// Everything about one optimizer.
fn full(info: &OptimizerInfo) -> String {
    let mut text = match info.pytorch {
        Some(class) => format!("{}: {} (as {class})\n", info.name, info.summary),
        None => format!("{}: {}\n", info.name, info.summary),
    };
    text.push_str("\nUpdate, each step:\n");
    for line in &info.update {
        text.push_str(&format!("  {line}\n"));
    }
    text.push_str(&format!("  with {}\n", info.legend));
    text.push_str("\nNotes:\n");
    for note in &info.notes {
        text.push_str(&format!("  - {note}\n"));
    }
    text.push_str("\nHyperparameters (a dash: set through the library only):\n");
    let rows: Vec<[&str; 4]> = info
        .hyperparameters
        .iter()
        .map(|h| [h.name, h.flag.unwrap_or("-"), &h.default, h.meaning])
        .collect();
    let header = ["name", "flag", "default", "meaning"];
    let width = |column: usize| {
        rows.iter()
            .map(|r| r[column].chars().count())
            .chain([header[column].len()])
            .max()
            .unwrap_or(0)
    };
    let (name_width, flag_width, default_width) = (width(0), width(1), width(2));
    for row in std::iter::once(header).chain(rows) {
        text.push_str(&format!(
            "  {:<name_width$}  {:<flag_width$}  {:<default_width$}  {}\n",
            row[0], row[1], row[2], row[3]
        ));
    }
    text.push_str(&format!("\nReference: {}\n", info.reference));
    text
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::super::Cli;
    use super::super::optimizer_flags::OptimizerFlags;
    use crate::optim::optimizer_catalog;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        flags: OptimizerFlags,
    }

    /// A value each flag accepts (none for switches).
    fn sample(flag: &str) -> Option<&'static str> {
        match flag {
            "--nesterov" | "--amsgrad" | "--centered" => None,
            "--betas" => Some("0.9,0.999"),
            "--line-search" => Some("strong_wolfe"),
            _ => Some("1"),
        }
    }

    #[test]
    fn every_listed_flag_sets_that_optimizer() {
        let train = Cli::command();
        let train = train.find_subcommand("train").expect("nabla train");
        for info in optimizer_catalog() {
            for flag in info.hyperparameters.iter().filter_map(|h| h.flag) {
                assert!(
                    train
                        .get_arguments()
                        .any(|a| a.get_long() == flag.strip_prefix("--")),
                    "{flag} is not a flag of nabla train"
                );
                let mut argv = vec!["x", "--optimizer", info.name, flag];
                argv.extend(sample(flag));
                let parsed = Flags::try_parse_from(&argv).expect("the flag parses");
                if let Err(e) = parsed.flags.spec("sgd") {
                    panic!("{argv:?}: {e}");
                }
            }
        }
    }
}
