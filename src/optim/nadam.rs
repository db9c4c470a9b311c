//! NAdam (Adam with Nesterov momentum), with PyTorch's momentum-decay
//! schedule, coupled or decoupled weight decay and maximization, exactly as
//! `torch.optim.NAdam` (single-tensor path).

use super::adam::lerp;
use super::{Checks, Optimizer, ParamStates, UpdateRule};
use crate::autograd::Gradients;
use crate::nn::Param;
use crate::tensor::Element;

/// `torch.optim.NAdam`. With `g` the gradient (negated if `maximize`), `t`
/// the step count from 1 and `ψ` the momentum decay:
///
/// ```text
/// θ ← θ·(1 − lr·weight_decay)              if decoupled_weight_decay
/// g ← g + weight_decay·θ                    otherwise
/// μ_t   ← β₁·(1 − ½·0.96^(t·ψ))
/// μ_t+1 ← β₁·(1 − ½·0.96^((t+1)·ψ))
/// P ← P·μ_t                                 (P, the product of the μ, starts at 1)
/// m ← β₁·m + (1 − β₁)·g                     (computed as lerp(m, g, 1 − β₁))
/// v ← β₂·v + (1 − β₂)·g²
/// d ← √(v / (1 − β₂ᵗ)) + eps
/// θ ← θ − lr·(1 − μ_t)/(1 − P) · g/d
/// θ ← θ − lr·μ_t+1/(1 − P·μ_t+1) · m/d
/// ```
/// Buffers, in order: `exp_avg` (m) and `exp_avg_sq` (v); the running
/// product `P` (`mu_product`) is the one entry of [`ParamState::scalars`].
///
/// `P` is kept in f64 whatever the parameters' dtype. PyTorch keeps
/// `mu_product` as a one-element tensor of its scalar dtype: float64 when
/// working in float64 (`torch.get_default_dtype()` float64), where this
/// matches PyTorch exactly; float32 otherwise, rounding `P` to float32 at
/// every step. In float32 `P` is therefore kept more precisely here than
/// in PyTorch's float32 tensor, and the step coefficients built from it
/// can differ from PyTorch's in their last float32 bits.
///
/// Dozat (2016), "Incorporating Nesterov Momentum into Adam"; decoupled
/// weight decay: Loshchilov & Hutter (2019).
///
/// [`ParamState::scalars`]: super::ParamState::scalars
#[derive(Clone, Debug)]
pub struct NAdam {
    /// Learning rate (default 2e-3).
    pub lr: f64,
    /// Decay rates of the running averages of the gradient and of its
    /// square (default (0.9, 0.999)); each in [0, 1).
    pub betas: (f64, f64),
    /// Added to the denominator for numerical stability (default 1e-8).
    pub eps: f64,
    /// Weight decay (default 0): an L2 penalty added to the gradient, or
    /// with `decoupled_weight_decay` a shrinking of the weights.
    pub weight_decay: f64,
    /// ψ, how fast the momentum coefficient μ_t grows towards β₁
    /// (default 4e-3).
    pub momentum_decay: f64,
    /// Decay the weights directly (as AdamW) instead of adding the L2
    /// penalty to the gradient (default false).
    pub decoupled_weight_decay: bool,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
    states: ParamStates,
}

impl NAdam {
    /// NAdam with learning rate `lr` and PyTorch's other defaults.
    pub fn new(lr: f64) -> NAdam {
        NAdam {
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            momentum_decay: 4e-3,
            decoupled_weight_decay: false,
            maximize: false,
            states: ParamStates::default(),
        }
    }

    /// With decay rates `beta1` (gradient) and `beta2` (squared gradient).
    pub fn betas(mut self, beta1: f64, beta2: f64) -> NAdam {
        self.betas = (beta1, beta2);
        self
    }

    /// With the stability term `eps`.
    pub fn eps(mut self, eps: f64) -> NAdam {
        self.eps = eps;
        self
    }

    /// With weight decay (an L2 penalty unless decoupled).
    pub fn weight_decay(mut self, weight_decay: f64) -> NAdam {
        self.weight_decay = weight_decay;
        self
    }

    /// With momentum decay ψ.
    pub fn momentum_decay(mut self, momentum_decay: f64) -> NAdam {
        self.momentum_decay = momentum_decay;
        self
    }

    /// With the weight decay decoupled from the gradient, as AdamW.
    pub fn decoupled_weight_decay(mut self, decoupled: bool) -> NAdam {
        self.decoupled_weight_decay = decoupled;
        self
    }

    /// Maximizing instead of minimizing.
    pub fn maximize(mut self, maximize: bool) -> NAdam {
        self.maximize = maximize;
        self
    }

    /// PyTorch's checks, made when stepping (the fields are public).
    fn validate(&self) {
        Checks("NAdam")
            .lr(self.lr)
            .non_negative("eps", self.eps)
            .betas(self.betas)
            .non_negative("weight_decay", self.weight_decay)
            .non_negative("momentum_decay", self.momentum_decay);
    }
}

impl Default for NAdam {
    /// PyTorch's defaults: learning rate 2e-3.
    fn default() -> NAdam {
        NAdam::new(2e-3)
    }
}

impl UpdateRule for NAdam {
    fn buffers(&self) -> usize {
        2
    }

    fn update<T: Element>(
        &self,
        step: u64,
        param: &mut [T],
        grad: &[T],
        buffers: &mut [&mut [T]],
        _: usize,
        scalars: &mut Vec<f64>,
    ) {
        let (beta1, beta2) = self.betas;
        let t = step as f64;
        let bias_correction2 = 1.0 - beta2.powf(t);
        let mu = beta1 * (1.0 - 0.5 * 0.96f64.powf(t * self.momentum_decay));
        let mu_next = beta1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * self.momentum_decay));
        if scalars.is_empty() {
            scalars.push(1.0);
        }
        scalars[0] *= mu;
        let mu_product = scalars[0];
        let mu_product_next = mu_product * mu_next;
        let grad_coef = T::c(-self.lr * (1.0 - mu) / (1.0 - mu_product));
        let avg_coef = T::c(-self.lr * mu_next / (1.0 - mu_product_next));
        let (one_minus_beta1, beta2, one_minus_beta2) =
            (T::c(1.0 - beta1), T::c(beta2), T::c(1.0 - beta2));
        let (bias_correction2, eps) = (T::c(bias_correction2), T::c(self.eps));
        let (decay, shrink) = (
            T::c(self.weight_decay),
            T::c(1.0 - self.lr * self.weight_decay),
        );
        let [m, v] = buffers else {
            panic!("NAdam keeps two buffers")
        };
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let mut g = if self.maximize { -g } else { g };
            if self.weight_decay != 0.0 {
                if self.decoupled_weight_decay {
                    *p *= shrink;
                } else {
                    g += decay * *p;
                }
            }
            m[i] = lerp(m[i], g, one_minus_beta1);
            v[i] = v[i] * beta2 + one_minus_beta2 * g * g;
            let denom = (v[i] / bias_correction2).sqrt() + eps;
            *p += grad_coef * (g / denom);
            *p += avg_coef * (m[i] / denom);
        }
    }
}

impl Optimizer for NAdam {
    fn step(&mut self, params: &mut [&mut Param], grads: &Gradients) {
        self.validate();
        ParamStates::apply_own_rule(self, params, grads);
    }

    optimizer_accessors!(|this| this);

    /// The running product `mu_product`.
    fn scalars_per_param(&self) -> usize {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::optim::test_support::linear;

    #[test]
    fn first_step_by_hand() {
        // g = 2: m = 0.2, v = 0.004, d = |g| + eps, and the two terms add
        // up to lr·[(1 − μ₁)/(1 − μ₁) · g + μ₂/(1 − μ₁μ₂) · 0.1·g]/d.
        let (mut p, grads) = linear(&[0.0], &[2.0]);
        let mut opt = NAdam::new(0.1);
        opt.step(&mut [&mut p], &grads);
        let mu1 = 0.9 * (1.0 - 0.5 * 0.96f64.powf(0.004));
        let mu2 = 0.9 * (1.0 - 0.5 * 0.96f64.powf(0.008));
        let d = 2.0 + 1e-8;
        let expected = -0.1 * (2.0 / d) - 0.1 * mu2 / (1.0 - mu1 * mu2) * (0.2 / d);
        assert!(
            (p.item() - expected).abs() < 1e-15,
            "{} vs {expected}",
            p.item()
        );
        // μ₁ ≈ 0.4501, μ₂ ≈ 0.4502: the step is about lr·(1 + 0.0565).
        assert!((p.item() + 0.10565).abs() < 1e-5, "{}", p.item());
        let state = opt.states().get(&p).expect("state");
        assert_eq!(state.scalars, vec![mu1]);
    }

    #[test]
    fn mu_product_accumulates_and_eps_follows_the_root() {
        // Constant gradient: after two steps P = μ₁μ₂. With eps = 1 the
        // denominator is √(v/(1 − β₂ᵗ)) + 1 = |g| + 1.
        let mut p = Param::new(Tensor::from_vec(vec![0.0f64], &[1]));
        let mut opt = NAdam::new(0.1).eps(1.0);
        let mut x = 0.0f64;
        let mut m = 0.0f64;
        let mut product = 1.0f64;
        for t in 1..=2 {
            let grads = (&*p * 3.0).sum_all().backward();
            opt.step(&mut [&mut p], &grads);
            let mu = 0.9 * (1.0 - 0.5 * 0.96f64.powf(t as f64 * 0.004));
            let mu_next = 0.9 * (1.0 - 0.5 * 0.96f64.powf((t + 1) as f64 * 0.004));
            product *= mu;
            m = 0.9 * m + 0.1 * 3.0;
            x -= 0.1 * (1.0 - mu) / (1.0 - product) * 3.0 / 4.0
                + 0.1 * mu_next / (1.0 - product * mu_next) * m / 4.0;
        }
        assert!((p.item() - x).abs() < 1e-12, "{} vs {x}", p.item());
        assert!((opt.states().get(&p).expect("state").scalars[0] - product).abs() < 1e-16);
    }

    #[test]
    fn decoupled_weight_decay_shrinks_the_weights() {
        // Zero gradient: only the decay moves the weight.
        let (mut p, grads) = linear(&[2.0], &[0.0]);
        NAdam::new(0.1)
            .weight_decay(0.5)
            .decoupled_weight_decay(true)
            .step(&mut [&mut p], &grads);
        assert_eq!(p.item(), 2.0 * (1.0 - 0.1 * 0.5));
        let (mut q, grads) = linear(&[2.0], &[0.0]);
        NAdam::new(0.1)
            .weight_decay(0.5)
            .step(&mut [&mut q], &grads);
        assert!(
            q.item() < 1.9,
            "coupled decay feeds 0.5·θ in as the gradient"
        );
    }

    #[test]
    #[should_panic(expected = "NAdam: invalid momentum_decay = -1")]
    fn negative_momentum_decay_is_rejected() {
        let (mut p, grads) = linear(&[1.0], &[1.0]);
        NAdam::default()
            .momentum_decay(-1.0)
            .step(&mut [&mut p], &grads);
    }
}
