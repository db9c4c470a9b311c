//! `nabla graph`: the computation graph of one forward and backward pass
//! through a small network, as Graphviz DOT or drawn as SVG.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use clap::Args as ClapArgs;

use super::Error;
use super::gradcheck::size_of_stack;
use crate::autograd::Graph;
use crate::loss::{self, Reduction};
use crate::nn::{Init, LayerSpec, Module, build_sequential};
use crate::{DType, Rng, Tensor};

/// Show the computation graph of one forward and backward pass.
///
/// Builds the network in f64 (PyTorch's default Linear initialization,
/// seeded, in training mode), runs a random batch through it and the loss,
/// backpropagates, and writes the graph in Graphviz DOT, inputs at the
/// top and the loss at the bottom: one box per tensor with its op (or its
/// name: `x`, `target`, parameters such as `0.weight`), its shape, its value
/// and its gradient. Tensors of more than 6 elements show mean, min and
/// max. Graphs of more than 400 tensors are refused: they are unreadable.
#[derive(ClapArgs)]
#[command(
    allow_negative_numbers = true,
    after_help = "Examples:\n  nabla graph                                   # DOT on standard output\n  nabla graph --svg graph.svg                   # drawn without Graphviz\n  nabla graph --layers 3,tanh,2 --loss cross_entropy --batch 4 --out graph.dot\n  nabla graph | dot -Tpng -o graph.png          # with Graphviz installed"
)]
pub struct Args {
    /// Input features.
    #[arg(long, default_value_t = 2)]
    inputs: usize,
    /// The stack after the input: a number is a Linear layer of that width,
    /// a name an activation (sigmoid, tanh, relu, leaky_relu, elu, gelu,
    /// softplus, softmax, log_softmax, identity), `dropout:P` or `batchnorm`.
    #[arg(long, default_value = "2,sigmoid,1,sigmoid", value_delimiter = ',')]
    layers: Vec<String>,
    /// Rows in the random batch.
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// The loss: mse (targets drawn from [0, 1)) or cross_entropy (a random
    /// class per row, one class per output).
    #[arg(long, default_value = "mse")]
    loss: String,
    /// Seed of the weights, the batch and the targets.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write the DOT to this file instead of standard output.
    #[arg(long, value_name = "FILE.dot")]
    out: Option<PathBuf>,
    /// Draw the graph as SVG into this file, laid out in pure Rust (no
    /// Graphviz needed). The DOT is then written only if --out is given.
    #[arg(long, value_name = "FILE.svg")]
    svg: Option<PathBuf>,
}

/// A larger graph is unreadable, and slow to lay out.
const MAX_NODES: usize = 400;
/// Weights of the largest network built.
const MAX_WEIGHTS: usize = 1_000_000;
/// The largest batch × layer width accepted.
const MAX_ACTIVATIONS: usize = 1_000_000;

fn too_big() -> Error {
    Error::Usage(format!(
        "the network is too large to show (at most {MAX_WEIGHTS} weights and {MAX_ACTIVATIONS} \
         activations per layer); use fewer or narrower --layers or a smaller --batch"
    ))
}

/// Checks the arguments and reads the layer stack.
fn checked_layers(args: &Args) -> Result<Vec<LayerSpec>, Error> {
    if args.inputs == 0 || args.batch == 0 {
        return Err(Error::Usage(
            "--inputs and --batch must be at least 1".into(),
        ));
    }
    if args.loss != "mse" && args.loss != "cross_entropy" {
        return Err(Error::Usage(format!(
            "--loss {:?}: use mse or cross_entropy",
            args.loss
        )));
    }
    let layers =
        LayerSpec::parse_words(&args.layers).map_err(|e| Error::Usage(format!("--layers: {e}")))?;
    if args.batch < 2 && layers.contains(&LayerSpec::BatchNorm) {
        return Err(Error::Usage(
            "--layers has batchnorm, which needs a --batch of at least 2 in training".into(),
        ));
    }
    let (weights, widest) = size_of_stack(args.inputs, &layers).ok_or_else(too_big)?;
    if weights > MAX_WEIGHTS
        || args
            .batch
            .checked_mul(widest)
            .is_none_or(|n| n > MAX_ACTIVATIONS)
    {
        return Err(too_big());
    }
    Ok(layers)
}

/// Refuses a destination that cannot be written, before anything is.
fn check_destination(flag: &str, path: &Path) -> Result<(), Error> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if path.file_name().is_none() || path.is_dir() {
        return Err(Error::Usage(format!(
            "{flag} {}: name a file, not a directory",
            path.display()
        )));
    }
    if !parent.is_dir() {
        return Err(Error::Usage(format!(
            "{flag} {}: the directory {} does not exist",
            path.display(),
            parent.display()
        )));
    }
    Ok(())
}

/// One forward and backward pass of the network the arguments describe,
/// traced.
fn trace_one_pass(args: &Args, layers: &[LayerSpec]) -> Graph {
    let out_width =
        LayerSpec::last_linear_width(layers).expect("parse_words guarantees a Linear layer");
    let mut rng = Rng::seed(args.seed);
    let model = build_sequential(
        args.inputs,
        layers,
        Init::PyTorchDefault,
        DType::F64,
        &mut rng,
    );
    let x = Tensor::rand(&[args.batch, args.inputs], DType::F64, &mut rng);
    let output = model.forward(&x);
    let mut names: HashMap<_, _> = model
        .parameters()
        .into_iter()
        .map(|(name, param)| (param.id(), name))
        .collect();
    names.insert(x.id(), "x".to_string());
    let loss = if args.loss == "mse" {
        let target = Tensor::rand(output.shape(), DType::F64, &mut rng);
        names.insert(target.id(), "target".to_string());
        loss::mse(&output, &target, Reduction::Mean)
    } else {
        let classes: Vec<usize> = (0..args.batch)
            .map(|_| rng.below(out_width as u64) as usize)
            .collect();
        loss::cross_entropy(&output, &classes, Reduction::Mean)
    };
    names.insert(output.id(), "output".to_string());
    names.insert(loss.id(), format!("{} loss", args.loss));
    Graph::trace(&loss, &loss.backward_retaining(), &names)
}

#[cfg(feature = "plot")]
fn write_svg(graph: &Graph, path: &Path) -> Result<(), Error> {
    graph
        .save_svg(path)
        .map_err(|e| Error::Usage(format!("--svg: {e}")))
}

#[cfg(not(feature = "plot"))]
fn write_svg(_: &Graph, _: &Path) -> Result<(), Error> {
    Err(Error::Usage(
        "--svg: this nabla was built without the plot feature; write DOT with --out and draw it with Graphviz".into(),
    ))
}

/// Traces one pass and writes its graph.
pub fn run(args: &Args) -> Result<(), Error> {
    let layers = checked_layers(args)?;
    for (flag, path) in [("--out", &args.out), ("--svg", &args.svg)] {
        if let Some(path) = path {
            check_destination(flag, path)?;
        }
    }
    if args.out.is_some() && args.out == args.svg {
        return Err(Error::Usage(
            "--out and --svg name the same file; give each its own".into(),
        ));
    }
    let graph = trace_one_pass(args, &layers);
    if graph.nodes.len() > MAX_NODES {
        return Err(Error::Usage(format!(
            "the graph has {} tensors, more than the {MAX_NODES} that can be read in one picture; use fewer --layers",
            graph.nodes.len()
        )));
    }
    if let Some(path) = &args.svg {
        write_svg(&graph, path)?;
    }
    let dot = graph.to_dot();
    match &args.out {
        Some(path) => crate::io::write_atomically(path, dot.as_bytes())
            .map_err(|e| Error::Usage(format!("--out: {e}")))?,
        None if args.svg.is_none() => print!("{dot}"),
        None => {}
    }
    for path in [&args.out, &args.svg].into_iter().flatten() {
        println!(
            "graph of {} tensors and {} arrows written to {}",
            graph.nodes.len(),
            graph.edges.len(),
            path.display()
        );
    }
    Ok(())
}
