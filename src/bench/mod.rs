//! The reference workloads: four training runs that nabla, PyTorch and JAX
//! all perform, timed the same way so their figures can be compared.
//!
//! | name | network | loss | optimizer | batch | epochs | rows |
//! |---|---|---|---|---|---|---|
//! | W1 | 2-3-1, sigmoid hidden and output | MSE | SGD lr 0.5 | 4 (full) | 10,000 | the 4 XOR rows |
//! | W2 | 64-32-10 ReLU | cross-entropy | Adam lr 1e-3 | 32 | 20 | 1,797 (`w2`) |
//! | W3 | 784-256-10 ReLU | cross-entropy | Adam lr 1e-3 | 128 | 1 | 60,000 (`w3`) |
//! | W4 | 784-1024-1024-10 ReLU | cross-entropy | Adam lr 1e-3 | 256 | 1 | 60,000 (`w3`) |
//!
//! Every workload is f32, starts from PyTorch's default Linear
//! initialization and uses seed [`SEED`] for the weights and the shuffles.
//! It trains through [`fit`](crate::train::fit), the loop `nabla train`
//! runs, with the layers, losses and optimizers `nabla train` builds: the
//! benchmark measures the library as it is used, with no path of its own.
//!
//! - [`Workload`] and [`WORKLOADS`]: the definitions;
//! - [`generate_data`]: a workload's rows, the XOR table built in or the
//!   synthetic set generated bit-identically to the peers' `gen_data.py`;
//!   [`load_data`]: the same from the `.npy` files `benches/peer-data.sh`
//!   writes, checked ([`check_data_present`] looks for the files first);
//! - [`run`]: a warm-up, then timed repeats of the `fit` call alone, with
//!   the loss before and after and the accuracy measured outside the timing;
//! - [`BenchResult`]: the figures, named as the peers name them;
//! - [`peak_rss_bytes`] and [`reset_peak_rss`]: the process's peak
//!   resident memory (Linux).
//!
//! ```
//! use nabla::bench::{Workload, generate_data, run};
//! let w1 = Workload::named("W1").unwrap();
//! let data = generate_data(w1).unwrap();
//! # let w1 = &Workload { epochs: 20, ..*w1 };
//! let result = run(w1, &data, 1).unwrap();
//! assert!(result.loss_final < result.loss_init);
//! ```

mod data;
mod error;
mod memory;
mod result;
mod timing;
mod workload;

pub use data::{check_data_present, data_files, generate_data, load_data};
pub use error::BenchError;
pub use memory::{peak_rss_bytes, reset_peak_rss};
pub use result::{BenchResult, median};
pub use timing::{WARMUP_STEPS, run};
pub use workload::{DataSource, EVAL_ROWS, SEED, WORKLOADS, Workload};
