//! [`BatchNorm1d`]: batch normalization (Ioffe & Szegedy, 2015) over the
//! features of `[N, C]` inputs, as `torch.nn.BatchNorm1d`.

use std::sync::Mutex;

use super::{Module, Param};
use crate::tensor::{DType, Tensor};

/// Normalizes each feature over the batch, then scales and shifts it:
/// `y = (x − μ) / √(σ² + eps) · weight + bias`.
///
/// In training mode μ and σ² are the batch's mean and biased variance, and
/// the running statistics move towards them:
/// `running ← (1 − momentum)·running + momentum·batch`, with the unbiased
/// variance, as PyTorch does. In evaluation mode the running statistics are
/// used. Its `state_dict` holds `weight`, `bias`, `running_mean`,
/// `running_var` and `num_batches_tracked`.
#[derive(Debug)]
pub struct BatchNorm1d {
    /// Scale γ, `[C]`, starting at 1.
    pub weight: Param,
    /// Shift β, `[C]`, starting at 0.
    pub bias: Param,
    /// Added to the variance (default 1e-5).
    pub eps: f64,
    /// Weight of the new batch in the running statistics (default 0.1).
    pub momentum: f64,
    training: bool,
    running: Mutex<RunningStats>,
}

#[derive(Debug, Clone)]
struct RunningStats {
    mean: Tensor,
    var: Tensor,
    batches: u64,
}

impl BatchNorm1d {
    /// Batch normalization of `features` features, PyTorch's defaults.
    pub fn new(features: usize, dtype: DType) -> BatchNorm1d {
        BatchNorm1d {
            weight: Param::new(Tensor::ones(&[features], dtype)),
            bias: Param::new(Tensor::zeros(&[features], dtype)),
            eps: 1e-5,
            momentum: 0.1,
            training: true,
            running: Mutex::new(RunningStats {
                mean: Tensor::zeros(&[features], dtype),
                var: Tensor::ones(&[features], dtype),
                batches: 0,
            }),
        }
    }

    fn stats(&self) -> std::sync::MutexGuard<'_, RunningStats> {
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The running mean `[C]`.
    pub fn running_mean(&self) -> Tensor {
        self.stats().mean.clone()
    }

    /// The running (unbiased) variance `[C]`.
    pub fn running_var(&self) -> Tensor {
        self.stats().var.clone()
    }
}

impl Module for BatchNorm1d {
    fn forward(&self, input: &Tensor) -> Tensor {
        let features = self.weight.numel();
        assert!(
            input.rank() == 2 && input.shape()[1] == features,
            "BatchNorm1d: expects [N, {features}] inputs, got {:?}",
            input.shape()
        );
        let (mean, var) = if self.training {
            let rows = input.shape()[0];
            assert!(
                rows > 1,
                "BatchNorm1d: training needs more than one row per batch, got {rows}"
            );
            let mean = input.mean(&[0], false);
            let var = (input - &mean).square().mean(&[0], false);
            crate::no_grad(|| {
                let mut stats = self.stats();
                let unbiased = &var * (rows as f64 / (rows - 1) as f64);
                stats.mean = &stats.mean * (1.0 - self.momentum) + &mean.detach() * self.momentum;
                stats.var = &stats.var * (1.0 - self.momentum) + &unbiased.detach() * self.momentum;
                stats.batches += 1;
            });
            (mean, var)
        } else {
            let stats = self.stats();
            (stats.mean.clone(), stats.var.clone())
        };
        let normalized = &(input - &mean) / &(var + self.eps).sqrt();
        &(&normalized * self.weight.tensor()) + self.bias.tensor()
    }

    fn parameters(&self) -> Vec<(String, &Param)> {
        vec![("weight".into(), &self.weight), ("bias".into(), &self.bias)]
    }

    fn parameters_mut(&mut self) -> Vec<(String, &mut Param)> {
        vec![
            ("weight".into(), &mut self.weight),
            ("bias".into(), &mut self.bias),
        ]
    }

    fn buffers(&self) -> Vec<(String, Tensor)> {
        let stats = self.stats();
        vec![
            ("running_mean".into(), stats.mean.clone()),
            ("running_var".into(), stats.var.clone()),
            (
                "num_batches_tracked".into(),
                Tensor::scalar_of(stats.batches as f64, DType::F64),
            ),
        ]
    }

    fn set_buffer(&mut self, name: &str, value: &Tensor) -> bool {
        let stats = self
            .running
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let dtype = stats.mean.dtype();
        match name {
            "running_mean" => stats.mean = value.to_dtype(dtype),
            "running_var" => stats.var = value.to_dtype(dtype),
            "num_batches_tracked" => stats.batches = value.item().max(0.0) as u64,
            _ => return false,
        }
        true
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    fn describe(&self) -> String {
        format!(
            "BatchNorm1d({}, eps={}, momentum={}, affine=True, track_running_stats=True)",
            self.weight.numel(),
            super::python_float(self.eps),
            super::python_float(self.momentum)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_normalizes_and_tracks_running_statistics() {
        let bn = BatchNorm1d::new(2, DType::F64);
        let x = Tensor::from_vec(vec![1.0f64, 10.0, 3.0, 20.0, 5.0, 30.0], &[3, 2]);
        let y = bn.forward(&x).to_vec::<f64>();
        // Column 0: mean 3, biased variance 8/3.
        let scale = 1.0 / (8.0f64 / 3.0 + 1e-5).sqrt();
        assert!((y[0] - (-2.0 * scale)).abs() < 1e-12 && y[2].abs() < 1e-12);
        // Running: 0.9·0 + 0.1·3 and 0.9·1 + 0.1·4 (unbiased variance 4).
        let mean = bn.running_mean().to_vec::<f64>();
        let var = bn.running_var().to_vec::<f64>();
        assert!((mean[0] - 0.3).abs() < 1e-12 && (var[0] - 1.3).abs() < 1e-12);
        assert_eq!(bn.buffers()[2].1.item(), 1.0);
    }

    #[test]
    fn training_mode_gradients_pass_gradcheck() {
        let x = Tensor::randn(&[5, 3], DType::F64, &mut crate::Rng::seed(4));
        let report = crate::gradcheck(
            |t| {
                let bn = BatchNorm1d::new(3, DType::F64);
                (bn.forward(&t[0]) * &Tensor::from_vec(vec![1.0f64, -2.0, 0.5], &[3])).tanh()
            },
            &[x],
            &crate::GradcheckOptions::default(),
        );
        assert!(report.passed, "{report}");
    }

    #[test]
    fn evaluation_uses_the_running_statistics() {
        let mut bn = BatchNorm1d::new(1, DType::F64);
        bn.set_training(false);
        let x = Tensor::from_vec(vec![2.0f64], &[1, 1]);
        let y = bn.forward(&x).item();
        assert!((y - 2.0 / (1.0f64 + 1e-5).sqrt()).abs() < 1e-12);
    }
}
