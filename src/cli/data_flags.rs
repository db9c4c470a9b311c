//! The data flags `nabla train` and `nabla gradcheck` share: where the rows
//! come from and which column is the target; and the checks that a loss
//! and a network's output width fit the targets.

use std::path::PathBuf;

use clap::Args as ClapArgs;

use super::Error;
use crate::data::{
    BuiltinOptions, CsvOptions, DEFAULT_BUILTIN, Dataset, Scaling, TargetColumn, Targets, Task,
    builtin, load_csv, load_idx_dataset, load_npy_dataset,
};
use crate::train::LossKind;

/// A data file or a built-in dataset, and how to read its targets.
#[derive(ClapArgs, serde::Serialize, Clone, Debug)]
pub struct DataFlags {
    /// The data: a CSV file with a header row, a NumPy `.npy` feature
    /// matrix, or an MNIST `*-images-idx3-ubyte` file (optionally gzipped).
    #[arg(long, conflicts_with = "dataset")]
    pub data: Option<PathBuf>,
    /// The targets of an `.npy` or IDX --data file (`y.npy`, `*-labels-idx1-ubyte`).
    #[arg(long, requires = "data")]
    pub target_file: Option<PathBuf>,
    /// The target column of --data, by name or 0-based index (default: the last).
    #[arg(long)]
    pub target: Option<String>,
    /// The field delimiter of --data.
    #[arg(long, default_value = ",")]
    delimiter: char,
    /// A built-in dataset (see `nabla datasets`).
    #[arg(long)]
    pub dataset: Option<String>,
    /// Classification or regression; by default it follows from --loss, or from the targets.
    #[arg(long, value_parser = ["classification", "regression"])]
    task: Option<String>,
}

impl DataFlags {
    /// Whether --data or --dataset was given.
    pub fn given(&self) -> bool {
        self.data.is_some() || self.dataset.is_some()
    }

    /// `--delimiter`, which must be one ASCII character.
    pub fn delimiter(&self) -> Result<u8, Error> {
        u8::try_from(self.delimiter)
            .map_err(|_| Error::Usage("--delimiter must be one ASCII character".into()))
    }

    /// The task to read the targets for: --task, else the kind of the loss
    /// named, else chosen from the targets.
    pub fn task(&self, loss: Option<&str>) -> Task {
        match self.task.as_deref() {
            Some("classification") => Task::Classification,
            Some("regression") => Task::Regression,
            _ => match loss.and_then(LossKind::from_name) {
                Some(loss) if loss.is_classification() => Task::Classification,
                Some(_) => Task::Regression,
                None => Task::Auto,
            },
        }
    }

    /// The dataset the flags name (the default built-in one if none), read
    /// for `task`, and the task chosen for it, with the reason, in words.
    /// Built-in datasets that draw points are seeded with `seed`.
    pub fn load(&self, task: Task, seed: u64) -> Result<(Dataset, String), Error> {
        let usage = |e: &dyn std::fmt::Display| Error::Usage(e.to_string());
        if let (Some(x), Some(y)) = (&self.data, &self.target_file) {
            let is_npy = x.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy"));
            let loaded = if is_npy {
                load_npy_dataset(x, y, task)
            } else {
                load_idx_dataset(x, y)
            };
            let loaded = loaded.map_err(|e| usage(&e))?;
            return Ok((loaded.dataset, loaded.task.to_string()));
        }
        if let Some(path) = &self.data {
            let target = match &self.target {
                None => TargetColumn::Last,
                Some(t) => match t.parse::<usize>() {
                    Ok(i) => TargetColumn::Index(i),
                    Err(_) => TargetColumn::Name(t.clone()),
                },
            };
            let options = CsvOptions {
                target,
                delimiter: self.delimiter()?,
                task,
            };
            let loaded = load_csv(path, &options).map_err(|e| usage(&e))?;
            return Ok((loaded.dataset, loaded.task.to_string()));
        }
        let name = self.dataset.as_deref().unwrap_or(DEFAULT_BUILTIN);
        let options = BuiltinOptions {
            seed,
            ..BuiltinOptions::default()
        };
        let data = builtin(name, &options).map_err(|e| usage(&e))?;
        let chosen = match data.targets {
            Targets::Classes { .. } => "classification (built-in classes)",
            Targets::Values { .. } => "regression (built-in values)",
        };
        Ok((data, chosen.to_string()))
    }
}

/// Checks that `data` has the feature columns `feature_names`, and renumbers
/// its classes as `labels` numbers them (a class not among them is an
/// error). `origin` names the data and `reference` what it must match, in
/// the messages: "{origin}: class "x" does not occur in {reference} (a, b)".
pub fn conform(
    data: &mut Dataset,
    feature_names: &[String],
    labels: Option<&[String]>,
    origin: &str,
    reference: &str,
) -> Result<(), Error> {
    if data.feature_names != feature_names {
        return Err(Error::Usage(format!(
            "{origin}: its feature columns ({}) differ from {reference}'s ({})",
            data.feature_names.join(", "),
            feature_names.join(", ")
        )));
    }
    if let (Some(known), Targets::Classes { indices, names }) = (labels, &mut data.targets) {
        for index in indices.iter_mut() {
            let label = &names[*index];
            *index = known.iter().position(|k| k == label).ok_or_else(|| {
                Error::Usage(format!(
                    "{origin}: class {label:?} does not occur in {reference} ({})",
                    known.join(", ")
                ))
            })?;
        }
        *names = known.to_vec();
    }
    Ok(())
}

/// The feature scaling `--scale` names.
pub fn parse_scaling(text: &str) -> Result<Scaling, Error> {
    text.parse().map_err(|_| {
        Error::Usage(format!(
            "--scale: unknown scaling {text:?}; use one of {}",
            Scaling::NAMES.join(", ")
        ))
    })
}

/// The loss called `name`.
pub fn parse_loss(name: &str) -> Result<LossKind, Error> {
    LossKind::from_name(name).ok_or_else(|| {
        Error::Usage(format!(
            "unknown loss {name:?}; use one of: {}",
            LossKind::NAMES.join(", ")
        ))
    })
}

/// The loss `--loss` names, or without one the default for the targets
/// (cross_entropy for classes, mse for values); a loss that needs classes
/// is refused for real-valued targets.
pub fn loss_for(name: Option<&str>, data: &Dataset) -> Result<LossKind, Error> {
    let loss = match name {
        None if data.class_names().is_some() => LossKind::CrossEntropy,
        None => LossKind::Mse,
        Some(name) => parse_loss(name)?,
    };
    if loss.is_classification() && data.class_names().is_none() {
        return Err(Error::Usage(format!(
            "--loss {}: the targets are real values, but this loss needs classes; use mse, mae or huber, or --task classification",
            loss.name()
        )));
    }
    Ok(loss)
}

/// The outputs a network needs for `data`: one per class, or one per
/// target value.
pub fn output_width(data: &Dataset) -> usize {
    match &data.targets {
        Targets::Classes { names, .. } => names.len(),
        Targets::Values { outputs, .. } => *outputs,
    }
}

/// Whether a network whose last Linear layer has width `last_width` fits
/// the targets of `data` under `loss` (a single output also fits two
/// classes, except for cross_entropy and nll); if not, what is wrong.
pub fn output_mismatch(
    loss: LossKind,
    data: &Dataset,
    last_width: Option<usize>,
) -> Option<String> {
    let classes = data.class_names().map(<[String]>::len);
    let binary_single_output = classes == Some(2)
        && last_width == Some(1)
        && loss != LossKind::CrossEntropy
        && loss != LossKind::Nll;
    if last_width == Some(output_width(data)) || binary_single_output {
        return None;
    }
    let what = match classes {
        Some(n) => format!("{n} classes"),
        None => format!("{} target value(s) per row", output_width(data)),
    };
    Some(format!(
        "the last Linear layer has width {}, but the data has {what}",
        last_width.unwrap_or(0)
    ))
}
