//! Choosing an optimizer by name with hyperparameters given by name, as the
//! command line does; anything not given keeps PyTorch's default.
//!
//! ```
//! use nabla::optim::OptimizerSpec;
//! let spec = OptimizerSpec { lr: Some(0.01), betas: Some((0.8, 0.99)), ..OptimizerSpec::named("adam") };
//! let adam = spec.build().unwrap();
//! assert_eq!(adam.lr(), 0.01);
//! assert!(OptimizerSpec::named("adamm").build().err().unwrap().contains("sgd, adagrad"));
//! ```

use super::{
    Adadelta, Adagrad, Adam, AdamW, Adamax, Lbfgs, LineSearch, Minimizer, NAdam, Newton, RmsProp,
    Sgd,
};

/// An optimizer's name and whichever hyperparameters were given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OptimizerSpec {
    /// One of [`OptimizerSpec::NAMES`].
    pub name: String,
    /// Learning rate (SGD has no PyTorch default; 0.01 is used).
    pub lr: Option<f64>,
    /// SGD, RMSprop.
    pub momentum: Option<f64>,
    /// SGD.
    pub dampening: Option<f64>,
    /// SGD.
    pub nesterov: Option<bool>,
    /// Every optimizer.
    pub weight_decay: Option<f64>,
    /// Adam, AdamW, NAdam, Adamax.
    pub betas: Option<(f64, f64)>,
    /// Adagrad, Adadelta, RMSprop, the Adam family.
    pub eps: Option<f64>,
    /// Adam, AdamW.
    pub amsgrad: Option<bool>,
    /// Adadelta.
    pub rho: Option<f64>,
    /// RMSprop.
    pub alpha: Option<f64>,
    /// RMSprop.
    pub centered: Option<bool>,
    /// Adagrad.
    pub lr_decay: Option<f64>,
    /// Adagrad.
    pub initial_accumulator_value: Option<f64>,
    /// NAdam.
    pub momentum_decay: Option<f64>,
    /// Every first-order optimizer.
    pub maximize: Option<bool>,
    /// L-BFGS: most iterations per step.
    pub max_iter: Option<usize>,
    /// L-BFGS: most loss evaluations per step.
    pub max_eval: Option<usize>,
    /// L-BFGS: stop a step when the largest gradient element is at most this.
    pub tolerance_grad: Option<f64>,
    /// L-BFGS: stop a step when the step or the loss change is below this.
    pub tolerance_change: Option<f64>,
    /// L-BFGS: curvature pairs remembered.
    pub history_size: Option<usize>,
    /// L-BFGS: `strong_wolfe`, or none for a fixed step of `lr`.
    pub line_search: Option<String>,
    /// Newton: λ added to the Hessian's diagonal.
    pub damping: Option<f64>,
}

/// The learning rate used for SGD when none is given (PyTorch requires one).
pub(super) const SGD_DEFAULT_LR: f64 = 0.01;

macro_rules! set {
    ($target:expr, $($field:ident),+ from $spec:expr) => {
        $(if let Some(value) = $spec.$field {
            $target.$field = value;
        })+
    };
}

impl OptimizerSpec {
    /// Every optimizer this builds.
    pub const NAMES: &[&str] = &[
        "sgd", "adagrad", "adadelta", "rmsprop", "adam", "adamw", "nadam", "adamax", "lbfgs",
        "newton",
    ];

    /// The named optimizer with all defaults.
    pub fn named(name: &str) -> OptimizerSpec {
        OptimizerSpec {
            name: name.to_string(),
            ..OptimizerSpec::default()
        }
    }

    /// Builds the optimizer, or says (in one line) which name or
    /// hyperparameter does not apply.
    pub fn build(&self) -> Result<Box<dyn Minimizer>, String> {
        self.check_applicable()?;
        self.check_ranges()?;
        let s = self;
        Ok(match self.name.as_str() {
            "sgd" => {
                let mut o = Sgd::new(s.lr.unwrap_or(SGD_DEFAULT_LR));
                set!(o, momentum, dampening, nesterov, weight_decay, maximize from s);
                Box::new(o)
            }
            "adagrad" => {
                let mut o = Adagrad::default();
                set!(o, lr, lr_decay, weight_decay, initial_accumulator_value, eps, maximize from s);
                Box::new(o)
            }
            "adadelta" => {
                let mut o = Adadelta::default();
                set!(o, lr, rho, eps, weight_decay, maximize from s);
                Box::new(o)
            }
            "rmsprop" => {
                let mut o = RmsProp::default();
                set!(o, lr, alpha, eps, weight_decay, momentum, centered, maximize from s);
                Box::new(o)
            }
            "adam" => {
                let mut o = Adam::default();
                set!(o, lr, betas, eps, weight_decay, amsgrad, maximize from s);
                Box::new(o)
            }
            "adamw" => {
                let mut o = AdamW::default();
                set!(o, lr, betas, eps, weight_decay, amsgrad, maximize from s);
                Box::new(o)
            }
            "nadam" => {
                let mut o = NAdam::default();
                set!(o, lr, betas, eps, weight_decay, momentum_decay, maximize from s);
                Box::new(o)
            }
            "adamax" => {
                let mut o = Adamax::default();
                set!(o, lr, betas, eps, weight_decay, maximize from s);
                Box::new(o)
            }
            "lbfgs" => {
                let mut o = Lbfgs::new();
                set!(o, lr, max_iter, tolerance_grad, tolerance_change, history_size from s);
                o.max_eval = s.max_eval.or(o.max_eval);
                o.line_search_fn = match s.line_search.as_deref() {
                    None | Some("none") => None,
                    Some(_) => Some(LineSearch::StrongWolfe),
                };
                Box::new(o)
            }
            "newton" => {
                let mut o = Newton::new();
                set!(o, lr, damping from s);
                Box::new(o)
            }
            _ => unreachable!("check_applicable accepts only known names"),
        })
    }

    /// The ranges PyTorch accepts, checked here so a bad value is an error
    /// rather than a failed assertion in the middle of training.
    fn check_ranges(&self) -> Result<(), String> {
        let non_negative = [
            ("lr", self.lr),
            ("momentum", self.momentum),
            ("dampening", self.dampening),
            ("weight_decay", self.weight_decay),
            ("eps", self.eps),
            ("alpha", self.alpha),
            ("lr_decay", self.lr_decay),
            ("initial_accumulator_value", self.initial_accumulator_value),
            ("momentum_decay", self.momentum_decay),
            ("tolerance_grad", self.tolerance_grad),
            ("tolerance_change", self.tolerance_change),
            ("damping", self.damping),
        ];
        for (name, value) in non_negative {
            if let Some(v) = value.filter(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err(format!("{name} must be a finite number ≥ 0, got {v}"));
            }
        }
        for (name, value) in [
            ("max_iter", self.max_iter),
            ("max_eval", self.max_eval),
            ("history_size", self.history_size),
        ] {
            if value == Some(0) {
                return Err(format!("{name} must be at least 1"));
            }
        }
        if let Some(other) = self
            .line_search
            .as_deref()
            .filter(|l| !["strong_wolfe", "none"].contains(l))
        {
            return Err(format!(
                "unknown line search {other:?}; use strong_wolfe or none"
            ));
        }
        if let Some(rho) = self.rho.filter(|r| !(0.0..=1.0).contains(r)) {
            return Err(format!("rho must lie in [0, 1], got {rho}"));
        }
        if let Some((b1, b2)) = self.betas {
            for (i, b) in [b1, b2].into_iter().enumerate() {
                if !(0.0..1.0).contains(&b) {
                    return Err(format!("betas: beta{} must lie in [0, 1), got {b}", i + 1));
                }
            }
        }
        Ok(())
    }

    /// The hyperparameters given that the named optimizer does not have.
    fn check_applicable(&self) -> Result<(), String> {
        let accepted: &[&str] = match self.name.as_str() {
            "sgd" => &[
                "weight_decay",
                "maximize",
                "momentum",
                "dampening",
                "nesterov",
            ],
            "adagrad" => &[
                "weight_decay",
                "maximize",
                "eps",
                "lr_decay",
                "initial_accumulator_value",
            ],
            "adadelta" => &["weight_decay", "maximize", "eps", "rho"],
            "rmsprop" => &[
                "weight_decay",
                "maximize",
                "momentum",
                "eps",
                "alpha",
                "centered",
            ],
            "adam" | "adamw" => &["weight_decay", "maximize", "betas", "eps", "amsgrad"],
            "nadam" => &["weight_decay", "maximize", "betas", "eps", "momentum_decay"],
            "adamax" => &["weight_decay", "maximize", "betas", "eps"],
            "lbfgs" => &[
                "max_iter",
                "max_eval",
                "tolerance_grad",
                "tolerance_change",
                "history_size",
                "line_search",
            ],
            "newton" => &["damping"],
            other => {
                return Err(format!(
                    "unknown optimizer {other:?}; use one of: {}",
                    Self::NAMES.join(", ")
                ));
            }
        };
        let given = [
            ("momentum", self.momentum.is_some()),
            ("dampening", self.dampening.is_some()),
            ("nesterov", self.nesterov.is_some()),
            ("betas", self.betas.is_some()),
            ("eps", self.eps.is_some()),
            ("amsgrad", self.amsgrad.is_some()),
            ("rho", self.rho.is_some()),
            ("alpha", self.alpha.is_some()),
            ("centered", self.centered.is_some()),
            ("lr_decay", self.lr_decay.is_some()),
            (
                "initial_accumulator_value",
                self.initial_accumulator_value.is_some(),
            ),
            ("momentum_decay", self.momentum_decay.is_some()),
            ("weight_decay", self.weight_decay.is_some()),
            ("maximize", self.maximize.is_some()),
            ("max_iter", self.max_iter.is_some()),
            ("max_eval", self.max_eval.is_some()),
            ("tolerance_grad", self.tolerance_grad.is_some()),
            ("tolerance_change", self.tolerance_change.is_some()),
            ("history_size", self.history_size.is_some()),
            ("line_search", self.line_search.is_some()),
            ("damping", self.damping.is_some()),
        ];
        match given
            .iter()
            .find(|(name, set)| *set && !accepted.contains(name))
        {
            Some((name, _)) => Err(format!("{} has no hyperparameter {name}", self.name)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_builds_with_its_defaults() {
        for name in OptimizerSpec::NAMES {
            let optimizer = OptimizerSpec::named(name).build().expect("a known name");
            assert!(optimizer.lr() > 0.0, "{name}");
        }
        assert_eq!(
            OptimizerSpec::named("adadelta")
                .build()
                .expect("known")
                .lr(),
            1.0
        );
    }

    #[test]
    fn values_out_of_range_are_refused() {
        let spec = OptimizerSpec {
            momentum: Some(-1.0),
            ..OptimizerSpec::named("sgd")
        };
        assert_eq!(
            spec.build().err(),
            Some("momentum must be a finite number ≥ 0, got -1".to_string())
        );
        let spec = OptimizerSpec {
            betas: Some((0.9, 1.0)),
            ..OptimizerSpec::named("adam")
        };
        assert_eq!(
            spec.build().err(),
            Some("betas: beta2 must lie in [0, 1), got 1".to_string())
        );
    }

    #[test]
    fn misplaced_hyperparameters_are_refused() {
        let spec = OptimizerSpec {
            rho: Some(0.5),
            ..OptimizerSpec::named("adam")
        };
        assert_eq!(
            spec.build().err(),
            Some("adam has no hyperparameter rho".to_string())
        );
    }
}
