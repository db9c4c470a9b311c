//! [`Dropout`] (inverted, seeded, training only) and [`Flatten`].

use std::sync::Mutex;

use super::Module;
use crate::tensor::{DType, Rng, RngState, Tensor};

/// Inverted dropout (Srivastava et al., 2014): in training mode each
/// element is zeroed with probability `p` and the survivors scaled by
/// `1/(1 − p)`, so evaluation needs no rescaling; in evaluation mode it is
/// the identity.
#[derive(Debug)]
pub struct Dropout {
    p: f64,
    training: bool,
    rng: Mutex<Rng>,
}

impl Dropout {
    /// Dropout with probability `p` in `[0, 1)`, its masks drawn from a
    /// generator seeded with `seed`. Starts in training mode.
    pub fn new(p: f64, seed: u64) -> Dropout {
        assert!(
            (0.0..1.0).contains(&p),
            "Dropout: p must lie in [0, 1), got {p}"
        );
        Dropout {
            p,
            training: true,
            rng: Mutex::new(Rng::seed(seed)),
        }
    }

    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.p
    }
}

impl Dropout {
    /// The mask generator, even if a panic poisoned its lock.
    fn rng(&self) -> std::sync::MutexGuard<'_, Rng> {
        self.rng
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Module for Dropout {
    fn rng_states(&self) -> Vec<(String, RngState)> {
        vec![("rng".to_string(), self.rng().state())]
    }

    fn set_rng_state(&mut self, name: &str, state: &RngState) -> bool {
        if name != "rng" {
            return false;
        }
        *self.rng() = Rng::from_state(state);
        true
    }

    fn forward(&self, input: &Tensor) -> Tensor {
        if !self.training || self.p == 0.0 {
            return input.clone();
        }
        let keep_scale = 1.0 / (1.0 - self.p);
        let mut rng = self.rng();
        let mut keep = || {
            if rng.uniform() < self.p {
                0.0
            } else {
                keep_scale
            }
        };
        let n = input.numel();
        let mask = match input.dtype() {
            DType::F32 => Tensor::from_vec((0..n).map(|_| keep() as f32).collect(), input.shape()),
            DType::F64 => Tensor::from_vec((0..n).map(|_| keep()).collect(), input.shape()),
        };
        input * &mask
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    fn describe(&self) -> String {
        format!("Dropout(p={:?}, inplace=False)", self.p)
    }
}

/// Flattens every axis after the first: `[N, d1, d2, …] → [N, d1·d2·…]`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Flatten;

impl Module for Flatten {
    fn forward(&self, input: &Tensor) -> Tensor {
        assert!(
            input.rank() >= 1,
            "Flatten: expects a batch [N, …], got a scalar"
        );
        let rest: usize = input.shape()[1..].iter().product();
        input.reshape(&[input.shape()[0], rest])
    }

    fn describe(&self) -> String {
        "Flatten(start_dim=1, end_dim=-1)".into()
    }
}
