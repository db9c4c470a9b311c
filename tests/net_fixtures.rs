//! Backpropagation through whole networks against PyTorch: for every case
//! in `tests/fixtures/net` (written by PyTorch in float64), load the
//! PyTorch-written initial weights, rebuild the `torch.nn.Sequential` from
//! plain ops, and reproduce its output and every parameter's gradient.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nabla::{Tensor, io};
use serde_json::Value;

const RELATIVE_TOLERANCE: f64 = 1e-10;
/// Gradients that are exactly zero in PyTorch (dead ReLUs) may come out as
/// a rounding-level residue here; below this they count as equal.
const ABSOLUTE_FLOOR: f64 = 1e-15;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/net")
}

fn floats(value: &Value) -> Vec<f64> {
    match value {
        Value::Array(items) => items.iter().flat_map(floats).collect(),
        Value::Number(n) => vec![n.as_f64().expect("a finite number")],
        other => panic!("expected numbers, found {other}"),
    }
}

fn dims(value: &Value) -> Vec<usize> {
    match value {
        Value::Array(items) => {
            let mut shape = vec![items.len()];
            if let Some(first) = items.first() {
                shape.extend(dims(first));
            }
            shape
        }
        _ => vec![],
    }
}

fn tensor(value: &Value) -> Tensor {
    Tensor::from_vec(floats(value), &dims(value))
}

fn assert_close(what: &str, actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{what}: element count");
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        let error = (a - e).abs();
        assert!(
            error <= RELATIVE_TOLERANCE * e.abs() || error <= ABSOLUTE_FLOOR,
            "{what}[{i}]: nabla {a:e}, PyTorch {e:e} (relative error {:e})",
            error / e.abs()
        );
    }
}

/// The forward pass of the fixture's `Sequential`, from its layer strings.
fn forward(architecture: &[Value], params: &BTreeMap<String, Tensor>, x: &Tensor) -> Tensor {
    let mut h = x.clone();
    for (index, layer) in architecture.iter().enumerate() {
        let layer = layer.as_str().expect("a layer description");
        h = match layer.split('(').next() {
            // PyTorch's Linear: x·Wᵀ + b with W stored [out, in].
            Some("Linear") => {
                let w = &params[&format!("{index}.weight")];
                let b = &params[&format!("{index}.bias")];
                &h.matmul_t(w, false, true) + b
            }
            Some("Sigmoid") => h.sigmoid(),
            Some("Tanh") => h.tanh(),
            Some("ReLU") => h.relu(),
            _ => panic!("layer {layer} is not used by the fixtures"),
        };
    }
    h
}

fn loss(kind: &str, output: &Tensor, y: &Value) -> Tensor {
    match kind {
        "mse" => (output - &tensor(y)).square().mean_all(),
        // Cross-entropy from logits with class indices, mean over rows.
        "cross_entropy" => {
            let classes: Vec<usize> = floats(y).iter().map(|&c| c as usize).collect();
            -output.log_softmax(1).gather(1, &classes).mean_all()
        }
        other => panic!("loss {other} is not used by the fixtures"),
    }
}

#[test]
fn outputs_and_gradients_at_init_match_pytorch() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("the fixtures are in the repository")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 3, "every network fixture is replayed");
    for case in cases {
        let fixture: Value =
            serde_json::from_str(&std::fs::read_to_string(&case).expect("readable"))
                .expect("valid JSON");
        let name = fixture["name"].as_str().expect("a name");
        let weights_file =
            fixture_dir().join(fixture["init_safetensors"].as_str().expect("a file name"));
        let params: BTreeMap<String, Tensor> = io::load_safetensors(&weights_file)
            .expect("PyTorch-written weights load")
            .into_iter()
            .map(|(k, t)| (k, t.with_requires_grad(true)))
            .collect();
        for (param_name, value) in fixture["init"].as_object().expect("named init tensors") {
            assert_eq!(
                params[param_name].to_vec::<f64>(),
                floats(value),
                "{name}: {param_name} as loaded"
            );
        }

        let architecture = fixture["architecture"].as_array().expect("layers");
        let output = forward(architecture, &params, &tensor(&fixture["X"]));
        assert_close(
            &format!("{name}: output_at_init"),
            &output.to_vec::<f64>(),
            &floats(&fixture["output_at_init"]),
        );

        let loss = loss(
            fixture["loss"].as_str().expect("a loss"),
            &output,
            &fixture["y"],
        );
        let loss_value = fixture["loss_before_step"][0]
            .as_f64()
            .expect("the first loss");
        assert_close(&format!("{name}: loss"), &[loss.item()], &[loss_value]);

        let grads = loss.backward();
        let expected = fixture["grad_at_init"]
            .as_object()
            .expect("named gradients");
        assert_eq!(
            expected.len(),
            params.len(),
            "{name}: one gradient per parameter"
        );
        for (param_name, value) in expected {
            let grad = &grads[&params[param_name]];
            assert_eq!(
                grad.shape(),
                params[param_name].shape(),
                "{name}: {param_name} gradient shape"
            );
            assert_close(
                &format!("{name}: grad {param_name}"),
                &grad.to_vec::<f64>(),
                &floats(value),
            );
        }
    }
}
