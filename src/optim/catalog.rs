//! What each optimizer computes, for people: its update equations, its
//! paper, and its hyperparameters with their `nabla train` flags and
//! defaults. The defaults are read from the optimizers' own constructors,
//! so the catalog cannot drift from the code that runs.
//!
//! ```
//! use nabla::optim::{OptimizerSpec, describe_optimizer, optimizer_catalog};
//! assert_eq!(optimizer_catalog().len(), OptimizerSpec::NAMES.len());
//! let adam = describe_optimizer("adam").unwrap();
//! let eps = adam.hyperparameters.iter().find(|h| h.name == "eps").unwrap();
//! assert_eq!((eps.flag, eps.default.as_str()), (Some("--eps"), "1e-8"));
//! ```

use std::fmt::Debug;

use super::spec::SGD_DEFAULT_LR;
use super::{
    Adadelta, Adagrad, Adam, AdamW, Adamax, Lbfgs, NAdam, Newton, OptimizerSpec, RmsProp, Sgd,
};

/// One hyperparameter of an optimizer.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Hyperparameter {
    /// Its name: the field of the optimizer's struct, which is also
    /// PyTorch's argument name where PyTorch has the optimizer.
    pub name: &'static str,
    /// The `nabla train` flag that sets it; `None` if only the library can.
    pub flag: Option<&'static str>,
    /// The default, as the optimizer's constructor sets it, in Rust's
    /// `Debug` notation (`0.001`, `1e-8`, `(0.9, 0.999)`, `false`, `None`).
    pub default: String,
    /// What it does.
    pub meaning: &'static str,
}

/// One optimizer: what it computes and how to set it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct OptimizerInfo {
    /// Its name, as in [`OptimizerSpec::NAMES`] and `--optimizer`.
    pub name: &'static str,
    /// The PyTorch class it reproduces, if there is one.
    pub pytorch: Option<&'static str>,
    /// One line on what it is.
    pub summary: &'static str,
    /// The paper or book it comes from.
    pub reference: &'static str,
    /// The symbols of the update that are not hyperparameters.
    pub legend: &'static str,
    /// The update as it runs, one statement per line, in plain Unicode.
    pub update: Vec<&'static str>,
    /// What is easy to get wrong: where eps sits, what the first step does.
    pub notes: Vec<String>,
    /// Every hyperparameter, in the order of the struct's fields.
    pub hyperparameters: Vec<Hyperparameter>,
}

/// Every optimizer of [`OptimizerSpec::NAMES`], in that order.
pub fn optimizer_catalog() -> Vec<OptimizerInfo> {
    OptimizerSpec::NAMES
        .iter()
        .map(|name| describe_optimizer(name).expect("every name has an entry"))
        .collect()
}

/// The entry of the optimizer called `name` (one of [`OptimizerSpec::NAMES`]).
pub fn describe_optimizer(name: &str) -> Option<OptimizerInfo> {
    Some(match name {
        "sgd" => sgd(),
        "adagrad" => adagrad(),
        "adadelta" => adadelta(),
        "rmsprop" => rmsprop(),
        "adam" => adam(),
        "adamw" => adamw(),
        "nadam" => nadam(),
        "adamax" => adamax(),
        "lbfgs" => lbfgs(),
        "newton" => newton(),
        _ => return None,
    })
}

/// A hyperparameter whose default is `value`, written as `Debug` does.
fn param(
    name: &'static str,
    flag: Option<&'static str>,
    value: &impl Debug,
    meaning: &'static str,
) -> Hyperparameter {
    Hyperparameter {
        name,
        flag,
        default: format!("{value:?}"),
        meaning,
    }
}

const MAXIMIZE: &str = "ascend instead of descend: the gradient is negated first";
const COUPLED_DECAY: &str = "L2 penalty: weight_decay·θ is added to the gradient";
const GRADIENT_AND_STEP: &str = "g: the gradient (negated if maximize); t: the step count, from 1";

fn sgd() -> OptimizerInfo {
    let d = Sgd::new(SGD_DEFAULT_LR);
    OptimizerInfo {
        name: "sgd",
        pytorch: Some("torch.optim.SGD"),
        summary: "stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay",
        reference: "Robbins & Monro (1951), \"A Stochastic Approximation Method\"; Nesterov momentum: \
                    Sutskever, Martens, Dahl & Hinton (2013), \"On the importance of initialization and \
                    momentum in deep learning\"",
        legend: "g: the gradient (negated if maximize); b: the momentum buffer",
        update: vec![
            "g ← g + weight_decay·θ",
            "if momentum ≠ 0:",
            "    b ← g                                  at the first step with momentum",
            "    b ← momentum·b + (1 − dampening)·g     at later steps",
            "    g ← g + momentum·b   if nesterov,   else   g ← b",
            "θ ← θ − lr·g",
        ],
        notes: vec![
            "The first momentum step sets b = g: no dampening, and no decay of a zero buffer."
                .into(),
            "The buffer accumulates gradients, not lr·g (PyTorch's form, not Sutskever et al.'s \
             v ← μ·v + lr·g), so changing lr rescales the whole velocity at once."
                .into(),
            "Nesterov momentum needs momentum > 0 and dampening 0.".into(),
            format!("PyTorch's SGD requires lr; nabla uses {SGD_DEFAULT_LR:?} when none is given."),
        ],
        hyperparameters: vec![
            param("lr", Some("--lr"), &d.lr, "step size"),
            param(
                "momentum",
                Some("--momentum"),
                &d.momentum,
                "momentum factor; 0 turns momentum off",
            ),
            param(
                "dampening",
                Some("--dampening"),
                &d.dampening,
                "the new gradient enters the buffer scaled by 1 − dampening (after the first step)",
            ),
            param(
                "weight_decay",
                Some("--weight-decay"),
                &d.weight_decay,
                COUPLED_DECAY,
            ),
            param(
                "nesterov",
                Some("--nesterov"),
                &d.nesterov,
                "Nesterov momentum: step along g + momentum·b",
            ),
            param("maximize", None, &d.maximize, MAXIMIZE),
        ],
    }
}

fn adagrad() -> OptimizerInfo {
    let d = Adagrad::default();
    OptimizerInfo {
        name: "adagrad",
        pytorch: Some("torch.optim.Adagrad"),
        summary: "a step per weight scaled by the root of its summed squared gradients",
        reference: "Duchi, Hazan & Singer (2011), \"Adaptive Subgradient Methods for Online Learning \
                    and Stochastic Optimization\"",
        legend: "g: the gradient (negated if maximize); t: the step count, from 1; s: the running sum of g²",
        update: vec![
            "g ← g + weight_decay·θ",
            "clr ← lr / (1 + (t − 1)·lr_decay)",
            "s ← s + g²                 (s starts at initial_accumulator_value)",
            "θ ← θ − clr·g / (√s + eps)",
        ],
        notes: vec![
            "eps is added after the square root, not under it.".into(),
            "The first step from s = 0 moves each weight by about lr against the sign of its gradient."
                .into(),
            "s only grows, so the steps only shrink.".into(),
        ],
        hyperparameters: vec![
            param("lr", Some("--lr"), &d.lr, "step size"),
            param("lr_decay", Some("--lr-decay"), &d.lr_decay, "the step size at step t is lr/(1 + (t − 1)·lr_decay)"),
            param("weight_decay", Some("--weight-decay"), &d.weight_decay, COUPLED_DECAY),
            param(
                "initial_accumulator_value",
                Some("--initial-accumulator-value"),
                &d.initial_accumulator_value,
                "the value s starts at",
            ),
            param("eps", Some("--eps"), &d.eps, "added to √s in the denominator"),
            param("maximize", None, &d.maximize, MAXIMIZE),
        ],
    }
}

fn adadelta() -> OptimizerInfo {
    let d = Adadelta::default();
    OptimizerInfo {
        name: "adadelta",
        pytorch: Some("torch.optim.Adadelta"),
        summary: "steps sized by the ratio of running RMS of past updates to running RMS of gradients",
        reference: "Zeiler (2012), \"ADADELTA: An Adaptive Learning Rate Method\"",
        legend: "g: the gradient (negated if maximize); v: the running average of g²; \
                 u: the running average of squared updates",
        update: vec![
            "g ← g + weight_decay·θ",
            "v ← ρ·v + (1 − ρ)·g²",
            "Δ ← √(u + eps) / √(v + eps) · g",
            "u ← ρ·u + (1 − ρ)·Δ²",
            "θ ← θ − lr·Δ",
        ],
        notes: vec![
            "eps is added under both square roots (unlike Adagrad and RMSprop).".into(),
            "u starts at 0, so the first step is about √eps/√(1 − ρ) per weight against the sign of \
             its gradient (0.0032 with the defaults), whatever the gradient's size."
                .into(),
            "lr only scales Δ (the paper has no learning rate); PyTorch's default is 1.".into(),
        ],
        hyperparameters: vec![
            param("lr", Some("--lr"), &d.lr, "scale of the step"),
            param("rho", Some("--rho"), &d.rho, "decay rate ρ of both running averages, in [0, 1]"),
            param("eps", Some("--eps"), &d.eps, "added under both square roots"),
            param("weight_decay", Some("--weight-decay"), &d.weight_decay, COUPLED_DECAY),
            param("maximize", None, &d.maximize, MAXIMIZE),
        ],
    }
}

fn rmsprop() -> OptimizerInfo {
    let d = RmsProp::default();
    OptimizerInfo {
        name: "rmsprop",
        pytorch: Some("torch.optim.RMSprop"),
        summary: "steps scaled by a running RMS of the gradient, optionally centered and with momentum",
        reference: "Tieleman & Hinton (2012), \"Lecture 6.5 — RMSprop\", COURSERA: Neural Networks for \
                    Machine Learning; centered: Graves (2013), \"Generating Sequences With Recurrent \
                    Neural Networks\"",
        legend: "g: the gradient (negated if maximize); v: the running average of g²; \
                 ḡ: the running average of g; b: the momentum buffer",
        update: vec![
            "g ← g + weight_decay·θ",
            "v ← α·v + (1 − α)·g²",
            "if centered:",
            "    ḡ ← α·ḡ + (1 − α)·g",
            "    d ← √(v − ḡ²) + eps",
            "else:",
            "    d ← √v + eps",
            "if momentum > 0:",
            "    b ← momentum·b + g/d",
            "    θ ← θ − lr·b",
            "else:",
            "    θ ← θ − lr·g/d",
        ],
        notes: vec![
            "eps is added after the square root (TensorFlow adds it under).".into(),
            "There is no bias correction: v starts at 0, so the first step is about \
             lr/√(1 − α) per weight (10·lr with α = 0.99)."
                .into(),
            "The momentum buffer starts at 0, so the first momentum step is b = g/d.".into(),
        ],
        hyperparameters: vec![
            param("lr", Some("--lr"), &d.lr, "step size"),
            param(
                "alpha",
                Some("--alpha"),
                &d.alpha,
                "smoothing constant α of the running averages",
            ),
            param(
                "eps",
                Some("--eps"),
                &d.eps,
                "added to the root in the denominator",
            ),
            param(
                "weight_decay",
                Some("--weight-decay"),
                &d.weight_decay,
                COUPLED_DECAY,
            ),
            param(
                "momentum",
                Some("--momentum"),
                &d.momentum,
                "momentum factor; 0 turns momentum off",
            ),
            param(
                "centered",
                Some("--centered"),
                &d.centered,
                "divide by the gradient's running standard deviation instead of its RMS",
            ),
            param("maximize", None, &d.maximize, MAXIMIZE),
        ],
    }
}

/// Adam's and AdamW's update, after AdamW's decay.
const ADAM_MOMENTS: [&str; 5] = [
    "m ← β₁·m + (1 − β₁)·g",
    "v ← β₂·v + (1 − β₂)·g²",
    "if amsgrad:",
    "    v_max ← max(v_max, v), and v_max replaces v below",
    "θ ← θ − lr/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + eps)",
];

/// What Adam and AdamW share.
fn adam_notes() -> Vec<String> {
    vec![
        "eps is added after the bias-corrected square root √v/√(1 − β₂ᵗ), not to v.".into(),
        "m and v start at 0 and are bias-corrected, so the first step moves each weight by about \
         lr against the sign of its gradient."
            .into(),
    ]
}

fn adam() -> OptimizerInfo {
    let d = Adam::default();
    let mut notes = adam_notes();
    notes.push(
        "weight_decay here is an L2 penalty, rescaled by √v like the gradient; for decay that is \
         not, use adamw."
            .into(),
    );
    OptimizerInfo {
        name: "adam",
        pytorch: Some("torch.optim.Adam"),
        summary: "adaptive moment estimation: bias-corrected running averages of the gradient and of its square",
        reference: "Kingma & Ba (2015), \"Adam: A Method for Stochastic Optimization\"; AMSGrad: Reddi, \
                    Kale & Kumar (2018), \"On the Convergence of Adam and Beyond\"",
        legend: GRADIENT_AND_STEP,
        update: [
            &[
                "θ ← θ·(1 − lr·weight_decay)       if decoupled_weight_decay",
                "g ← g + weight_decay·θ             otherwise",
            ][..],
            &ADAM_MOMENTS,
        ]
        .concat(),
        notes,
        hyperparameters: vec![
            param("lr", Some("--lr"), &d.lr, "step size"),
            param(
                "betas",
                Some("--betas"),
                &d.betas,
                "(β₁, β₂): decay rates of m and v, each in [0, 1)",
            ),
            param(
                "eps",
                Some("--eps"),
                &d.eps,
                "added to the bias-corrected √v",
            ),
            param(
                "weight_decay",
                Some("--weight-decay"),
                &d.weight_decay,
                "L2 penalty added to the gradient (or, decoupled, a shrinking of θ)",
            ),
            param(
                "amsgrad",
                Some("--amsgrad"),
                &d.amsgrad,
                "divide by the running maximum of v",
            ),
            param("maximize", None, &d.maximize, MAXIMIZE),
            param(
                "decoupled_weight_decay",
                None,
                &d.decoupled_weight_decay,
                "shrink θ directly, as AdamW",
            ),
        ],
    }
}

fn adamw() -> OptimizerInfo {
    let d = AdamW::default();
    let mut notes = adam_notes();
    notes.push(
        "The decay is decoupled: θ shrinks by the factor 1 − lr·weight_decay before the update, and \
         the gradient gets no L2 term, so the decay is not rescaled by √v."
            .into(),
    );
    OptimizerInfo {
        name: "adamw",
        pytorch: Some("torch.optim.AdamW"),
        summary: "Adam with decoupled weight decay",
        reference: "Loshchilov & Hutter (2019), \"Decoupled Weight Decay Regularization\"",
        legend: GRADIENT_AND_STEP,
        update: [&["θ ← θ·(1 − lr·weight_decay)"][..], &ADAM_MOMENTS].concat(),
        notes,
        hyperparameters: vec![
            param("lr", Some("--lr"), &d.lr, "step size"),
            param(
                "betas",
                Some("--betas"),
                &d.betas,
                "(β₁, β₂): decay rates of m and v, each in [0, 1)",
            ),
            param(
                "eps",
                Some("--eps"),
                &d.eps,
                "added to the bias-corrected √v",
            ),
            param(
                "weight_decay",
                Some("--weight-decay"),
                &d.weight_decay,
                "decoupled decay: θ shrinks by lr·weight_decay each step",
            ),
            param(
                "amsgrad",
                Some("--amsgrad"),
                &d.amsgrad,
                "divide by the running maximum of v",
            ),
            param("maximize", None, &d.maximize, MAXIMIZE),
        ],
    }
}

fn nadam() -> OptimizerInfo {
    let d = NAdam::default();
    OptimizerInfo {
        name: "nadam",
        pytorch: Some("torch.optim.NAdam"),
        summary: "Adam with Nesterov momentum and a momentum coefficient that warms up",
        reference: "Dozat (2016), \"Incorporating Nesterov Momentum into Adam\"; decoupled weight decay: \
                    Loshchilov & Hutter (2019)",
        legend: "g: the gradient (negated if maximize); t: the step count, from 1; \
                 ψ: momentum_decay; P: the product of the μ so far, starting at 1",
        update: vec![
            "θ ← θ·(1 − lr·weight_decay)       if decoupled_weight_decay",
            "g ← g + weight_decay·θ             otherwise",
            "μ_t   ← β₁·(1 − ½·0.96^(t·ψ))",
            "μ_t+1 ← β₁·(1 − ½·0.96^((t+1)·ψ))",
            "P ← P·μ_t",
            "m ← β₁·m + (1 − β₁)·g",
            "v ← β₂·v + (1 − β₂)·g²",
            "d ← √(v/(1 − β₂ᵗ)) + eps",
            "θ ← θ − lr·(1 − μ_t)/(1 − P) · g/d − lr·μ_t+1/(1 − P·μ_t+1) · m/d",
        ],
        notes: vec![
            "The momentum coefficient μ_t starts near β₁/2 and rises slowly towards β₁ \
             (with the defaults μ₁ ≈ 0.450, μ₁₀₀₀ ≈ 0.518, μ₁₀₀₀₀ ≈ 0.812)."
                .into(),
            "eps is added after the bias-corrected square root, as in Adam.".into(),
            "The first step moves each weight by about 1.06·lr against the sign of its gradient."
                .into(),
            "P is kept in f64 whatever the parameters' dtype.".into(),
        ],
        hyperparameters: vec![
            param("lr", Some("--lr"), &d.lr, "step size"),
            param(
                "betas",
                Some("--betas"),
                &d.betas,
                "(β₁, β₂): decay rates of m and v, each in [0, 1)",
            ),
            param(
                "eps",
                Some("--eps"),
                &d.eps,
                "added to the bias-corrected √v",
            ),
            param(
                "weight_decay",
                Some("--weight-decay"),
                &d.weight_decay,
                "L2 penalty added to the gradient (or, decoupled, a shrinking of θ)",
            ),
            param(
                "momentum_decay",
                None,
                &d.momentum_decay,
                "ψ: how fast μ_t rises towards β₁",
            ),
            param(
                "decoupled_weight_decay",
                None,
                &d.decoupled_weight_decay,
                "shrink θ directly, as AdamW",
            ),
            param("maximize", None, &d.maximize, MAXIMIZE),
        ],
    }
}

fn adamax() -> OptimizerInfo {
    let d = Adamax::default();
    OptimizerInfo {
        name: "adamax",
        pytorch: Some("torch.optim.Adamax"),
        summary: "Adam with the infinity norm: steps scaled by a decaying maximum of |g|",
        reference: "Kingma & Ba (2015), \"Adam: A Method for Stochastic Optimization\", §7.1",
        legend: GRADIENT_AND_STEP,
        update: vec![
            "g ← g + weight_decay·θ",
            "m ← β₁·m + (1 − β₁)·g",
            "u ← max(β₂·u, |g| + eps)",
            "θ ← θ − lr/(1 − β₁ᵗ) · m/u",
        ],
        notes: vec![
            "eps is added to |g| inside the maximum, not to the denominator.".into(),
            "Only m is bias-corrected; the first step moves each weight by about lr against the sign \
             of its gradient."
                .into(),
        ],
        hyperparameters: vec![
            param("lr", Some("--lr"), &d.lr, "step size"),
            param("betas", Some("--betas"), &d.betas, "(β₁, β₂): decay rates of m and u, each in [0, 1)"),
            param("eps", Some("--eps"), &d.eps, "added to |g| inside the maximum"),
            param("weight_decay", Some("--weight-decay"), &d.weight_decay, COUPLED_DECAY),
            param("maximize", None, &d.maximize, MAXIMIZE),
        ],
    }
}

fn lbfgs() -> OptimizerInfo {
    let d = Lbfgs::new();
    OptimizerInfo {
        name: "lbfgs",
        pytorch: Some("torch.optim.LBFGS"),
        summary: "limited-memory BFGS: quasi-Newton directions from the last history_size steps, \
                  optionally with a strong-Wolfe line search",
        reference: "Liu & Nocedal (1989), \"On the limited memory BFGS method for large scale \
                    optimization\"; Nocedal & Wright, Numerical Optimization, 2nd ed., Algorithms 7.4 \
                    and 7.5 (two-loop recursion, L-BFGS) and 3.5 and 3.6 (strong-Wolfe line search)",
        legend: "θ, g: all parameters and their gradient, flattened into one vector; \
                 (yᵢ, sᵢ, ρᵢ): the remembered curvature pairs, oldest first",
        update: vec![
            "nothing if max|g| ≤ tolerance_grad; else up to max_iter iterations of:",
            "    if this is the first iteration ever:  d ← −g,  H₀ ← 1",
            "    else:",
            "        y ← g − g_prev,  s ← t·d",
            "        if y·s > 1e-10:  remember (y, s, ρ = 1/(y·s)), forgetting the oldest",
            "                         beyond history_size;  H₀ ← (y·s)/(y·y)",
            "        q ← −g",
            "        for each pair, newest first:  αᵢ ← ρᵢ·(sᵢ·q),  q ← q − αᵢ·yᵢ",
            "        d ← H₀·q",
            "        for each pair, oldest first:  βᵢ ← ρᵢ·(yᵢ·d),  d ← d + (αᵢ − βᵢ)·sᵢ",
            "    t ← min(1, 1/‖g‖₁)·lr on the first iteration ever, else lr",
            "    stop if g·d > −tolerance_change (d is no descent direction)",
            "    t ← the strong-Wolfe step from t, if line_search_fn is strong_wolfe",
            "    θ ← θ + t·d",
            "    stop if max|g| ≤ tolerance_grad, max_eval evaluations are spent,",
            "         max|t·d| ≤ tolerance_change or |Δloss| < tolerance_change",
        ],
        notes: vec![
            "One step re-evaluates the loss wherever it needs to; in nabla train each batch is one \
             step, so use --batch-size full."
                .into(),
            "The memory (pairs, d, t, H₀, the last gradient) persists across steps, as in PyTorch."
                .into(),
            "Strong Wolfe: sufficient decrease with c₁ = 1e-4, curvature with c₂ = 0.9, at most 25 \
             evaluations per search (bracketing, then zoom by cubic interpolation)."
                .into(),
            "max_eval None means max_iter·5/4 (integer division): 25 with the defaults.".into(),
            "The flat vectors are kept in f64 whatever the parameters' dtype.".into(),
        ],
        hyperparameters: vec![
            param(
                "lr",
                Some("--lr"),
                &d.lr,
                "the step length tried first (the whole step without a line search)",
            ),
            param(
                "max_iter",
                Some("--max-iter"),
                &d.max_iter,
                "most iterations per step",
            ),
            param(
                "max_eval",
                Some("--max-eval"),
                &d.max_eval,
                "most loss evaluations per step (None: max_iter·5/4)",
            ),
            param(
                "tolerance_grad",
                Some("--tolerance-grad"),
                &d.tolerance_grad,
                "stop when the largest gradient element is at most this",
            ),
            param(
                "tolerance_change",
                Some("--tolerance-change"),
                &d.tolerance_change,
                "stop when the step, the loss change or the slope is below this",
            ),
            param(
                "history_size",
                Some("--history-size"),
                &d.history_size,
                "curvature pairs remembered",
            ),
            param(
                "line_search_fn",
                Some("--line-search"),
                &d.line_search_fn,
                "Some(StrongWolfe) (strong_wolfe) or None: a fixed step of lr",
            ),
        ],
    }
}

fn newton() -> OptimizerInfo {
    let d = Newton::new();
    OptimizerInfo {
        name: "newton",
        pytorch: None,
        summary: "damped Newton's method: the Hessian by finite differences of the gradient, \
                  solved by Cholesky factorization; for small networks",
        reference: "Nocedal & Wright, Numerical Optimization, 2nd ed., §3.3 and §3.4 (Newton's method \
                    with Hessian modification) and §8.1 (finite differences)",
        legend: "θ, ∇f: all parameters and their gradient, flattened into one vector of n elements; \
                 eᵢ: the i-th unit vector",
        update: vec![
            "hᵢ ← fd_step·max(1, |θᵢ|)",
            "column i of H ← (∇f(θ + hᵢ·eᵢ) − ∇f(θ − hᵢ·eᵢ)) / 2hᵢ",
            "H ← (H + Hᵀ)/2",
            "λ ← damping",
            "if H + λI is not positive definite (its Cholesky factorization fails):",
            "    β ← max|Hᵢⱼ| (1 if H = 0),  m ← minᵢ (Hᵢᵢ − Σⱼ≠ᵢ |Hᵢⱼ|)",
            "    λ ← max(2·damping, β − m), doubled until the factorization succeeds",
            "θ ← θ − lr·(H + λI)⁻¹·∇f(θ)",
        ],
        notes: vec![
            "With lr 1 and damping 0, one step lands on the minimum of a quadratic.".into(),
            format!(
                "Each step evaluates the gradient 1 + 2n times; more than {} weights is refused.",
                Newton::MAX_PARAMS
            ),
            "fd_step None means ∛ε of each element's dtype: about 6e-6 in f64, 5e-3 in f32.".into(),
            "When the damping has to be raised, every eigenvalue of H + λI is at least β, so the \
             step is never longer than lr·‖∇f‖/max|Hᵢⱼ|: a cautious, gradient-like step."
                .into(),
        ],
        hyperparameters: vec![
            param(
                "lr",
                Some("--lr"),
                &d.lr,
                "scale of the step (1: the full Newton step)",
            ),
            param(
                "damping",
                Some("--damping"),
                &d.damping,
                "λ ≥ 0 added to the Hessian's diagonal",
            ),
            param(
                "fd_step",
                None,
                &d.fd_step,
                "relative finite-difference step (None: ∛ε of the dtype)",
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The top-level `field: value` pairs of a struct's `Debug` text.
    fn debug_fields(text: &str) -> Vec<(String, String)> {
        let body = &text[text.find('{').expect("a struct") + 1..text.rfind('}').expect("a struct")];
        let (mut fields, mut depth, mut start) = (Vec::new(), 0, 0);
        for (i, c) in body.char_indices() {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                ',' if depth == 0 => {
                    fields.push(&body[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        fields.push(&body[start..]);
        fields
            .into_iter()
            .filter_map(|f| f.split_once(": "))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect()
    }

    /// The optimizer `nabla train --optimizer NAME` builds with no other flags.
    fn default_debug(name: &str) -> String {
        match name {
            "sgd" => format!("{:?}", Sgd::new(SGD_DEFAULT_LR)),
            "adagrad" => format!("{:?}", Adagrad::default()),
            "adadelta" => format!("{:?}", Adadelta::default()),
            "rmsprop" => format!("{:?}", RmsProp::default()),
            "adam" => format!("{:?}", Adam::default()),
            "adamw" => format!("{:?}", AdamW::default()),
            "nadam" => format!("{:?}", NAdam::default()),
            "adamax" => format!("{:?}", Adamax::default()),
            "lbfgs" => format!("{:?}", Lbfgs::default()),
            "newton" => format!("{:?}", Newton::default()),
            other => panic!("no optimizer {other}"),
        }
    }

    #[test]
    fn every_name_has_an_entry_in_order() {
        let names: Vec<&str> = optimizer_catalog().iter().map(|o| o.name).collect();
        assert_eq!(names, OptimizerSpec::NAMES);
        assert!(describe_optimizer("adamm").is_none());
    }

    #[test]
    fn every_field_is_listed_with_its_real_default() {
        for info in optimizer_catalog() {
            let fields: Vec<(String, String)> = debug_fields(&default_debug(info.name))
                .into_iter()
                .filter(|(name, _)| name != "states" && name != "state")
                .collect();
            let listed: Vec<(String, String)> = info
                .hyperparameters
                .iter()
                .map(|h| (h.name.to_string(), h.default.clone()))
                .collect();
            assert_eq!(listed, fields, "{}", info.name);
        }
    }

    #[test]
    fn the_learning_rate_is_what_the_spec_builds() {
        for info in optimizer_catalog() {
            let built = OptimizerSpec::named(info.name)
                .build()
                .expect("a known name");
            let lr = info
                .hyperparameters
                .iter()
                .find(|h| h.name == "lr")
                .expect("an lr");
            assert_eq!(lr.default, format!("{:?}", built.lr()), "{}", info.name);
        }
    }

    #[test]
    fn every_entry_has_its_equations_and_a_reference() {
        for info in optimizer_catalog() {
            assert!(
                info.update.iter().any(|l| l.contains("θ ←")),
                "{}",
                info.name
            );
            assert!(
                !info.reference.is_empty() && !info.notes.is_empty(),
                "{}",
                info.name
            );
        }
    }
}
