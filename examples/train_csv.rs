//! Training on a CSV file from Rust: load, split, scale, train, evaluate.
//!
//! Run: `cargo run --release --example train_csv [FILE.csv]` (default: the iris data)

use nabla::data::{CsvOptions, Scaler, Scaling, SplitOptions, load_csv, split};
use nabla::nn::{Init, LayerSpec, build_sequential};
use nabla::optim::Adam;
use nabla::train::{Evaluation, FitOptions, LossKind, evaluate, fit};
use nabla::{DType, Rng};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv").into());
    let loaded = load_csv(&path, &CsvOptions::default())?;
    println!(
        "{path}: {} rows, task {}",
        loaded.dataset.len(),
        loaded.task
    );
    let data = loaded.dataset;

    let parts = split(
        &data,
        &SplitOptions {
            test: 0.2,
            validation: 0.0,
            seed: 0,
            stratify: true,
        },
    )?;
    let (train, _, test) = parts.datasets(&data);
    let scaler = Scaler::fit_dataset(Scaling::Standard, &train);
    let (train, test) = (
        scaler.transform_dataset(&train)?,
        scaler.transform_dataset(&test)?,
    );

    let classes = data.class_names().map_or(1, <[String]>::len);
    let layers = LayerSpec::parse_list(&format!("16,tanh,{classes}"))?;
    let mut model = build_sequential(
        data.width(),
        &layers,
        Init::PyTorchDefault,
        DType::F32,
        &mut Rng::seed(0),
    );
    let options = FitOptions {
        epochs: 150,
        batch_size: Some(16),
        ..FitOptions::default()
    };
    let loss = if data.class_names().is_some() {
        LossKind::CrossEntropy
    } else {
        LossKind::Mse
    };
    fit(
        &mut model,
        &mut Adam::new(0.01),
        loss,
        &train,
        None,
        &options,
        |_| {},
    )?;

    match evaluate(&model, loss, &test).1 {
        Evaluation::Classification(c) => {
            println!("test accuracy {:.1}%", 100.0 * c.accuracy());
            assert!(c.accuracy() > 0.9, "iris is easy: expected over 90%");
        }
        Evaluation::Regression(r) => println!("test MSE {:.4}, R² {:.3}", r.mse, r.r2),
    }
    Ok(())
}

/// `cargo test` runs the example too, so its checks are part of the suite.
#[test]
fn checks_hold() {
    main().expect("the example runs");
}
