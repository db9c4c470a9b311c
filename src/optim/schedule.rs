//! Learning-rate schedules, as PyTorch's `torch.optim.lr_scheduler`:
//! step, multi-step, exponential, cosine annealing, linear warm-up,
//! composed by product ([`Schedule::Chain`]) or in sequence
//! ([`Schedule::Sequence`]), and [`ReduceOnPlateau`].
//!
//! A [`Schedule`] gives the factor applied to the base learning rate at an
//! epoch (closed forms, so a resumed run gets the same rates):
//!
//! ```
//! use nabla::optim::Schedule;
//! let warm_then_cosine = Schedule::Sequence {
//!     schedules: vec![
//!         Schedule::Linear { start_factor: 0.1, end_factor: 1.0, total_epochs: 5 },
//!         Schedule::Cosine { t_max: 20, eta_min_factor: 0.0 },
//!     ],
//!     milestones: vec![5],
//! };
//! assert!((warm_then_cosine.factor(0) - 0.1).abs() < 1e-12);
//! assert!((warm_then_cosine.factor(5) - 1.0).abs() < 1e-12);
//! assert!(warm_then_cosine.factor(25).abs() < 1e-12);
//! ```

/// The learning rate at each epoch, as a factor of the base rate.
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    /// Always 1.
    Constant,
    /// `StepLR`: `gamma^⌊epoch / step_size⌋`.
    Step {
        /// Epochs between decays.
        step_size: usize,
        /// Decay factor.
        gamma: f64,
    },
    /// `MultiStepLR`: `gamma^(milestones passed)`.
    MultiStep {
        /// Epochs at which to decay, increasing.
        milestones: Vec<usize>,
        /// Decay factor.
        gamma: f64,
    },
    /// `ExponentialLR`: `gamma^epoch`.
    Exponential {
        /// Decay factor per epoch.
        gamma: f64,
    },
    /// `CosineAnnealingLR` (closed form, Loshchilov & Hutter 2017):
    /// `η_min + (1 − η_min)(1 + cos(π·epoch/t_max))/2`, as factors.
    Cosine {
        /// Epochs of the half cosine.
        t_max: usize,
        /// The final factor `η_min / base`.
        eta_min_factor: f64,
    },
    /// `LinearLR` (linear warm-up): from `start_factor` to `end_factor`
    /// over `total_epochs`, then constant.
    Linear {
        /// Factor at epoch 0.
        start_factor: f64,
        /// Factor from `total_epochs` on.
        end_factor: f64,
        /// Length of the ramp.
        total_epochs: usize,
    },
    /// `ChainedScheduler`: the product of every schedule's factor.
    Chain(Vec<Schedule>),
    /// `SequentialLR`: schedule `i` runs from milestone `i − 1` (epoch 0 for
    /// the first), counting its epochs from there.
    Sequence {
        /// One more schedule than milestones.
        schedules: Vec<Schedule>,
        /// Epochs at which to switch to the next schedule, increasing.
        milestones: Vec<usize>,
    },
}

impl Schedule {
    /// The factor of the base learning rate at `epoch` (from 0).
    #[inline]
    pub fn factor(&self, epoch: usize) -> f64 {
        match self {
            Schedule::Constant => 1.0,
            varying => varying.varying_factor(epoch),
        }
    }

    /// [`Schedule::factor`] of a schedule other than the constant one.
    fn varying_factor(&self, epoch: usize) -> f64 {
        match self {
            Schedule::Constant => 1.0,
            Schedule::Step { step_size, gamma } => gamma.powi((epoch / (*step_size).max(1)) as i32),
            Schedule::MultiStep { milestones, gamma } => {
                gamma.powi(milestones.iter().filter(|&&m| m <= epoch).count() as i32)
            }
            Schedule::Exponential { gamma } => gamma.powi(epoch as i32),
            Schedule::Cosine {
                t_max,
                eta_min_factor,
            } => {
                let t_max = (*t_max).max(1) as f64;
                let progress = std::f64::consts::PI * epoch as f64 / t_max;
                eta_min_factor + (1.0 - eta_min_factor) * (1.0 + progress.cos()) / 2.0
            }
            Schedule::Linear {
                start_factor,
                end_factor,
                total_epochs,
            } => {
                let total = (*total_epochs).max(1) as f64;
                start_factor + (end_factor - start_factor) * (epoch as f64).min(total) / total
            }
            Schedule::Chain(schedules) => schedules.iter().map(|s| s.factor(epoch)).product(),
            Schedule::Sequence {
                schedules,
                milestones,
            } => {
                assert_eq!(
                    schedules.len(),
                    milestones.len() + 1,
                    "Sequence: needs one more schedule than milestones"
                );
                let passed = milestones.iter().filter(|&&m| m <= epoch).count();
                let start = if passed == 0 {
                    0
                } else {
                    milestones[passed - 1]
                };
                schedules[passed].factor(epoch - start)
            }
        }
    }
}

/// `ReduceLROnPlateau` in `min` mode with a relative threshold: multiplies
/// the learning rate by `factor` when the monitored loss has not improved
/// by more than `threshold` (relative) for `patience` epochs, then waits
/// `cooldown` epochs; never goes below `min_lr`.
#[derive(Clone, Debug)]
pub struct ReduceOnPlateau {
    /// Multiplier on a plateau (default 0.1).
    pub factor: f64,
    /// Epochs without improvement tolerated (default 10).
    pub patience: usize,
    /// Relative improvement that counts (default 1e-4).
    pub threshold: f64,
    /// Epochs to wait after a reduction (default 0).
    pub cooldown: usize,
    /// Lower bound of the learning rate (default 0).
    pub min_lr: f64,
    best: f64,
    bad_epochs: usize,
    cooldown_left: usize,
}

impl Default for ReduceOnPlateau {
    fn default() -> Self {
        ReduceOnPlateau {
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            best: f64::INFINITY,
            bad_epochs: 0,
            cooldown_left: 0,
        }
    }
}

impl ReduceOnPlateau {
    /// Records this epoch's loss and returns the learning rate to use next.
    pub fn step(&mut self, loss: f64, lr: f64) -> f64 {
        if loss < self.best * (1.0 - self.threshold) {
            self.best = loss;
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
        }
        if self.cooldown_left > 0 {
            self.cooldown_left -= 1;
            self.bad_epochs = 0;
        }
        if self.bad_epochs > self.patience {
            self.bad_epochs = 0;
            self.cooldown_left = self.cooldown;
            // PyTorch skips reductions smaller than 1e-8.
            let reduced = (lr * self.factor).max(self.min_lr);
            if lr - reduced > 1e-8 {
                return reduced;
            }
        }
        lr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_forms_match_pytorch_definitions() {
        let step = Schedule::Step {
            step_size: 3,
            gamma: 0.5,
        };
        assert_eq!(
            (0..7).map(|e| step.factor(e)).collect::<Vec<_>>(),
            vec![1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
        );
        let multi = Schedule::MultiStep {
            milestones: vec![2, 5],
            gamma: 0.1,
        };
        assert_eq!(multi.factor(1), 1.0);
        assert!((multi.factor(5) - 0.01).abs() < 1e-15);
        let cosine = Schedule::Cosine {
            t_max: 10,
            eta_min_factor: 0.0,
        };
        assert!((cosine.factor(5) - 0.5).abs() < 1e-15);
        let chained = Schedule::Chain(vec![Schedule::Exponential { gamma: 0.9 }, step]);
        assert!((chained.factor(3) - 0.9f64.powi(3) * 0.5).abs() < 1e-15);
    }

    #[test]
    fn plateau_reduces_after_patience() {
        let mut plateau = ReduceOnPlateau {
            patience: 2,
            ..ReduceOnPlateau::default()
        };
        let mut lr = 1.0;
        for loss in [1.0, 0.9, 0.9, 0.9] {
            lr = plateau.step(loss, lr);
        }
        assert_eq!(lr, 1.0, "two bad epochs are within patience");
        lr = plateau.step(0.9, lr);
        assert!((lr - 0.1).abs() < 1e-15);
    }
}
