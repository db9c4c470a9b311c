//! The four workloads, each a network, a loss, an optimizer and a schedule
//! of batches, written with the types `nabla train` builds from its flags.

use crate::nn::{Activation, Init, LayerSpec, Sequential, build_sequential};
use crate::optim::OptimizerSpec;
use crate::tensor::{DType, Rng};
use crate::train::{FitOptions, LossKind};

/// The seed of every workload's weights and shuffles (the peers' `SEED`).
pub const SEED: u64 = 1234;

/// The loss and accuracy before and after training are measured on the
/// first this many rows (all of them when there are fewer), as the peers do.
pub const EVAL_ROWS: usize = 10_000;

/// Where a workload's rows come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataSource {
    /// The four rows of the XOR truth table (the built-in `xor` dataset).
    Xor,
    /// The peers' synthetic classification set: standard normal float32
    /// features and the labels of a fixed random linear map, generated
    /// bit-identically to `gen_data.py`, or read from the two NumPy files it
    /// writes: `{prefix}_x.npy`, `rows` × the network's input width of
    /// float32, and `{prefix}_y.npy`, `rows` int64 class labels.
    Files {
        /// The files' common prefix (`w2`, `w3`).
        prefix: &'static str,
        /// The rows each file holds.
        rows: usize,
        /// The seed `gen_data.py` draws them with.
        seed: u64,
    },
}

/// One reference workload.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Workload {
    /// `W1` … `W4`.
    pub name: &'static str,
    /// A few words on what it stands for.
    pub title: &'static str,
    /// The widths of the input, the hidden layers and the output.
    pub sizes: &'static [usize],
    /// The activation after each hidden Linear layer.
    pub hidden: Activation,
    /// The activation after the output layer, if any (the logits go
    /// straight into cross-entropy).
    pub output: Option<Activation>,
    /// The loss.
    pub loss: LossKind,
    /// The optimizer's name (as `--optimizer` takes it).
    pub optimizer: &'static str,
    /// The learning rate.
    pub lr: f64,
    /// Rows per batch.
    pub batch: usize,
    /// Passes over the rows.
    pub epochs: usize,
    /// Whether the rows are shuffled every epoch.
    pub shuffle: bool,
    /// Where the rows come from.
    pub data: DataSource,
    /// Timed repeats when none are asked for (the peers' defaults).
    pub default_repeats: usize,
}

/// W1 to W4, as the peers' `common.py` defines them.
pub const WORKLOADS: [Workload; 4] = [
    Workload {
        name: "W1",
        title: "xor",
        sizes: &[2, 3, 1],
        hidden: Activation::Sigmoid,
        output: Some(Activation::Sigmoid),
        loss: LossKind::Mse,
        optimizer: "sgd",
        lr: 0.5,
        batch: 4,
        epochs: 10_000,
        shuffle: false,
        data: DataSource::Xor,
        default_repeats: 5,
    },
    Workload {
        name: "W2",
        title: "digits-size",
        sizes: &[64, 32, 10],
        hidden: Activation::ReLU,
        output: None,
        loss: LossKind::CrossEntropy,
        optimizer: "adam",
        lr: 1e-3,
        batch: 32,
        epochs: 20,
        shuffle: true,
        data: DataSource::Files {
            prefix: "w2",
            rows: 1797,
            seed: 2,
        },
        default_repeats: 5,
    },
    Workload {
        name: "W3",
        title: "mnist-size",
        sizes: &[784, 256, 10],
        hidden: Activation::ReLU,
        output: None,
        loss: LossKind::CrossEntropy,
        optimizer: "adam",
        lr: 1e-3,
        batch: 128,
        epochs: 1,
        shuffle: true,
        data: DataSource::Files {
            prefix: "w3",
            rows: 60_000,
            seed: 3,
        },
        default_repeats: 5,
    },
    Workload {
        name: "W4",
        title: "wide",
        sizes: &[784, 1024, 1024, 10],
        hidden: Activation::ReLU,
        output: None,
        loss: LossKind::CrossEntropy,
        optimizer: "adam",
        lr: 1e-3,
        batch: 256,
        epochs: 1,
        shuffle: true,
        data: DataSource::Files {
            prefix: "w3",
            rows: 60_000,
            seed: 3,
        },
        default_repeats: 3,
    },
];

impl Workload {
    /// The workload called `name` (`W1`, or `w1`).
    pub fn named(name: &str) -> Option<&'static Workload> {
        WORKLOADS.iter().find(|w| w.name.eq_ignore_ascii_case(name))
    }

    /// The network's input width.
    pub fn inputs(&self) -> usize {
        self.sizes[0]
    }

    /// The number of classes (the output width).
    pub fn outputs(&self) -> usize {
        self.sizes[self.sizes.len() - 1]
    }

    /// The layers after the input, as `--layers` writes them
    /// (`256,relu,10`).
    pub fn layers(&self) -> Vec<LayerSpec> {
        let widths = &self.sizes[1..];
        let mut layers = Vec::new();
        for (i, &width) in widths.iter().enumerate() {
            layers.push(LayerSpec::Linear(width));
            if i + 1 < widths.len() {
                layers.push(LayerSpec::Activation(self.hidden));
            }
        }
        layers.extend(self.output.map(LayerSpec::Activation));
        layers
    }

    /// A freshly initialized f32 network: PyTorch's default Linear
    /// initialization, drawn from [`SEED`].
    pub fn model(&self) -> Sequential {
        build_sequential(
            self.inputs(),
            &self.layers(),
            Init::PyTorchDefault,
            DType::F32,
            &mut Rng::seed(SEED),
        )
    }

    /// The optimizer, every hyperparameter but the learning rate at its
    /// PyTorch default.
    pub fn optimizer(&self) -> OptimizerSpec {
        OptimizerSpec {
            lr: Some(self.lr),
            ..OptimizerSpec::named(self.optimizer)
        }
    }

    /// The training settings: epochs, batch size, shuffling, seed; nothing
    /// else (no clipping, penalties, schedule or early stopping).
    pub fn fit_options(&self) -> FitOptions {
        FitOptions {
            epochs: self.epochs,
            batch_size: Some(self.batch),
            shuffle: self.shuffle,
            seed: SEED,
            ..FitOptions::default()
        }
    }

    /// Optimizer steps over `rows` rows: `epochs · ⌈rows / batch⌉`.
    pub fn steps(&self, rows: usize) -> usize {
        self.epochs * rows.div_ceil(self.batch)
    }

    /// Multiply-adds of one row through the network: Σ in·out over the
    /// Linear layers.
    pub fn macs_per_row(&self) -> usize {
        self.sizes.windows(2).map(|w| w[0] * w[1]).sum()
    }

    /// The work of a whole training run over `rows` rows, counted as the
    /// peers count it: `6 · epochs · rows · Σ in·out` floating-point
    /// operations (forward and backward matrix products).
    pub fn flop(&self, rows: usize) -> f64 {
        6.0 * self.epochs as f64 * rows as f64 * self.macs_per_row() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The peers' `total_flop`: 6 · epochs · n · Σ a·b over consecutive sizes.
    fn peer_total_flop(sizes: &[usize], epochs: usize, n: usize) -> f64 {
        let mac: usize = sizes.iter().zip(&sizes[1..]).map(|(a, b)| a * b).sum();
        6.0 * epochs as f64 * n as f64 * mac as f64
    }

    #[test]
    fn the_flop_count_is_the_peers() {
        for (name, n, expected) in [
            ("W1", 4, 6.0 * 10_000.0 * 4.0 * (2.0 * 3.0 + 3.0)),
            (
                "W2",
                1797,
                6.0 * 20.0 * 1797.0 * (64.0 * 32.0 + 32.0 * 10.0),
            ),
            (
                "W3",
                60_000,
                6.0 * 60_000.0 * (784.0 * 256.0 + 256.0 * 10.0),
            ),
            (
                "W4",
                60_000,
                6.0 * 60_000.0 * (784.0 * 1024.0 + 1024.0 * 1024.0 + 1024.0 * 10.0),
            ),
        ] {
            let w = Workload::named(name).unwrap();
            assert_eq!(w.flop(n), expected, "{name}");
            assert_eq!(w.flop(n), peer_total_flop(w.sizes, w.epochs, n), "{name}");
        }
    }

    #[test]
    fn steps_count_the_ragged_last_batch() {
        let steps: Vec<usize> = WORKLOADS
            .iter()
            .map(|w| match w.data {
                DataSource::Xor => w.steps(4),
                DataSource::Files { rows, .. } => w.steps(rows),
            })
            .collect();
        // 1797 / 32 = 56.2 → 57 per epoch; 60000 / 128 = 468.75 → 469.
        assert_eq!(steps, [10_000, 20 * 57, 469, 235]);
    }

    #[test]
    fn the_layers_read_as_the_train_flags() {
        let text = |w: &Workload| {
            w.layers()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        let stacks: Vec<String> = WORKLOADS.iter().map(text).collect();
        assert_eq!(
            stacks,
            [
                "3,sigmoid,1,sigmoid",
                "32,relu,10",
                "256,relu,10",
                "1024,relu,1024,relu,10"
            ]
        );
        for w in &WORKLOADS {
            assert!(w.optimizer().build().is_ok(), "{}", w.name);
            let params: usize = crate::nn::Module::parameters(&w.model())
                .iter()
                .map(|(_, p)| p.numel())
                .sum();
            let expected: usize = w.sizes.windows(2).map(|s| s[0] * s[1] + s[1]).sum();
            assert_eq!(params, expected, "{}", w.name);
        }
        assert_eq!(Workload::named("w3").map(|w| w.name), Some("W3"));
        assert!(Workload::named("W5").is_none());
    }
}
