//! # nabla
//!
//! Backpropagation you can read and train with: a define-by-run,
//! reverse-mode automatic differentiation engine over n-dimensional `f32`
//! and `f64` tensors.
//!
//! ```
//! use nabla::Tensor;
//! // ŷ = w·x + b, J = (ŷ − y)²
//! let w = Tensor::from_vec(vec![0.5f64], &[1]).with_requires_grad(true);
//! let b = Tensor::from_vec(vec![0.1f64], &[1]).with_requires_grad(true);
//! let (x, y) = (2.0, 3.0);
//! let residual = &(&w * x + &b) - y; // r = ŷ − y = −1.9
//! let loss = residual.square().sum_all();
//! let grads = loss.backward();
//! assert!((grads[&w].item() - 2.0 * -1.9 * x).abs() < 1e-12); // ∂J/∂w = 2·r·x
//! assert!((grads[&b].item() - 2.0 * -1.9).abs() < 1e-12);     // ∂J/∂b = 2·r
//! ```
//!
//! Modules: [`tensor`] (the array type, creation, random numbers, GEMM),
//! [`autograd`] (recording, `backward`, `no_grad`, `gradcheck`, `Graph`), [`ops`]
//! (every primitive with its backward rule, and the composites), [`nn`]
//! (layers, initializers, weights by name), [`loss`], [`optim`]
//! (optimizers, clipping, regularization, schedules, checkpoints), [`expr`]
//! (expressions such as `x^4 - 3*x^3 + 2`, parsed and evaluated with
//! tensor ops), [`explain`] (one training step worked out by hand), [`io`]
//! (safetensors files), [`bench`](mod@bench) (the reference workloads that `nabla
//! bench` times against PyTorch and JAX) and, with the `plot` feature, `viz` (charts, and
//! computation graphs as SVG).

#![warn(missing_docs)]

pub mod autograd;
pub mod bench;
#[cfg(feature = "cli")]
pub mod cli;
pub mod data;
pub mod explain;
pub mod expr;
pub mod io;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod nn;
pub mod ops;
pub mod optim;
pub mod tensor;
pub mod train;
#[cfg(feature = "plot")]
pub mod viz;

pub use autograd::{
    GradcheckOptions, GradcheckReport, Gradients, NoGradGuard, gradcheck, is_grad_enabled, no_grad,
    no_grad_guard,
};
pub use tensor::{DType, Element, Rng, RngState, Storage, Tensor, TensorId, live_tensor_count};
