//! The optimizer flags `nabla train` and `nabla minimize` share: the name
//! and every hyperparameter under PyTorch's name.

use clap::Args as ClapArgs;

use super::Error;
use crate::optim::{Minimizer, OptimizerSpec};

/// An optimizer and its hyperparameters; any not given keeps PyTorch's default.
#[derive(ClapArgs, serde::Serialize, Clone, Debug)]
pub struct OptimizerFlags {
    /// The optimizer: sgd, adagrad, adadelta, rmsprop, adam, adamw, nadam,
    /// adamax, lbfgs or newton (default: adam for train, sgd for minimize).
    #[arg(long)]
    pub optimizer: Option<String>,
    /// Learning rate (default: the optimizer's PyTorch default; 0.01 for sgd).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Momentum (sgd, rmsprop).
    #[arg(long)]
    momentum: Option<f64>,
    /// Dampening (sgd).
    #[arg(long)]
    dampening: Option<f64>,
    /// Nesterov momentum (sgd).
    #[arg(long)]
    nesterov: bool,
    /// Adam's betas, as β1,β2 (e.g. 0.9,0.999).
    #[arg(long)]
    betas: Option<String>,
    /// Epsilon of the adaptive optimizers.
    #[arg(long)]
    eps: Option<f64>,
    /// Weight decay (coupled, or decoupled for adamw).
    #[arg(long)]
    weight_decay: Option<f64>,
    /// AMSGrad (adam, adamw).
    #[arg(long)]
    amsgrad: bool,
    /// Rho (adadelta).
    #[arg(long)]
    rho: Option<f64>,
    /// Alpha (rmsprop).
    #[arg(long)]
    alpha: Option<f64>,
    /// Centered RMSprop.
    #[arg(long)]
    centered: bool,
    /// Learning-rate decay (adagrad).
    #[arg(long)]
    lr_decay: Option<f64>,
    /// Initial accumulator value (adagrad).
    #[arg(long)]
    initial_accumulator_value: Option<f64>,
    /// Most iterations per step (lbfgs; default 20).
    #[arg(long)]
    max_iter: Option<usize>,
    /// Most loss evaluations per step (lbfgs; default max_iter·5/4).
    #[arg(long)]
    max_eval: Option<usize>,
    /// End a step when the largest gradient element is at most this (lbfgs; default 1e-7).
    #[arg(long)]
    tolerance_grad: Option<f64>,
    /// End a step when the step or the loss change is below this (lbfgs; default 1e-9).
    #[arg(long)]
    tolerance_change: Option<f64>,
    /// Curvature pairs remembered (lbfgs; default 100).
    #[arg(long)]
    history_size: Option<usize>,
    /// Line search (lbfgs): strong_wolfe, or none for a fixed step of --lr.
    #[arg(long, value_parser = ["strong_wolfe", "none"])]
    line_search: Option<String>,
    /// λ added to the Hessian's diagonal (newton; default 0).
    #[arg(long)]
    damping: Option<f64>,
}

impl OptimizerFlags {
    /// The optimizer's name, or `default` when none was given.
    pub fn name<'a>(&'a self, default: &'a str) -> &'a str {
        self.optimizer.as_deref().unwrap_or(default)
    }

    /// The optimizer the flags describe, checked (a usage error names the
    /// flag or value at fault).
    pub fn spec(&self, default: &str) -> Result<OptimizerSpec, Error> {
        let spec = OptimizerSpec {
            name: self.name(default).to_string(),
            lr: self.lr,
            momentum: self.momentum,
            dampening: self.dampening,
            nesterov: self.nesterov.then_some(true),
            weight_decay: self.weight_decay,
            betas: self.betas.as_deref().map(parse_betas).transpose()?,
            eps: self.eps,
            amsgrad: self.amsgrad.then_some(true),
            rho: self.rho,
            alpha: self.alpha,
            centered: self.centered.then_some(true),
            lr_decay: self.lr_decay,
            initial_accumulator_value: self.initial_accumulator_value,
            max_iter: self.max_iter,
            max_eval: self.max_eval,
            tolerance_grad: self.tolerance_grad,
            tolerance_change: self.tolerance_change,
            history_size: self.history_size,
            line_search: self.line_search.clone(),
            damping: self.damping,
            ..OptimizerSpec::default()
        };
        build(&spec)?;
        Ok(spec)
    }
}

/// Builds a checked spec's optimizer.
pub fn build(spec: &OptimizerSpec) -> Result<Box<dyn Minimizer>, Error> {
    spec.build()
        .map_err(|e| Error::Usage(format!("--optimizer: {e}")))
}

/// Reads `--betas B1,B2`.
fn parse_betas(text: &str) -> Result<(f64, f64), Error> {
    let values: Vec<Option<f64>> = text.split(',').map(|v| v.trim().parse().ok()).collect();
    match values.as_slice() {
        [Some(b1), Some(b2)] => Ok((*b1, *b2)),
        _ => Err(Error::Usage(format!(
            "--betas: expected two numbers like 0.9,0.999, got {text:?}"
        ))),
    }
}
