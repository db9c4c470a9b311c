//! `nabla::explain`: the hand-worked step equals the engine's, the
//! tutorials' closed forms and finite differences.

use nabla::explain::{
    ExplainError, Explanation, Format, Layer, Loss, Network, Nonlinearity, TOLERANCE, Weights,
};
use nabla::nn::LayerSpec;

fn network(layers: &str, inputs: usize, bias: bool, weights: &Weights) -> Network {
    let specs = LayerSpec::parse_list(layers).expect("a valid stack");
    Network::from_specs(inputs, &specs, bias, weights).expect("within the limits")
}

fn half(target: &[f64]) -> Loss {
    Loss::HalfSquaredError {
        target: target.to_vec(),
    }
}

fn mse(target: &[f64]) -> Loss {
    Loss::MeanSquaredError {
        target: target.to_vec(),
    }
}

fn ce(class: usize) -> Loss {
    Loss::CrossEntropy { class }
}

/// Several stacks, every activation, with and without biases, each loss.
fn cases() -> Vec<(&'static str, Vec<f64>, bool, Loss)> {
    vec![
        ("2,tanh,1,tanh", vec![1.0, 1.0], false, half(&[1.0])),
        ("3,sigmoid,1,sigmoid", vec![0.0, 1.0], true, half(&[1.0])),
        ("4,relu,2", vec![0.5, -1.5, 2.0], true, mse(&[0.3, -0.7])),
        (
            "3,tanh,3,sigmoid,2,identity",
            vec![1.0, 2.0],
            true,
            mse(&[1.0, 0.0]),
        ),
        ("5,relu,4,tanh,3", vec![0.2, -0.4, 0.6, -0.8], true, ce(1)),
        (
            "8,sigmoid,8,tanh,8,relu,8",
            vec![1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 0.1, 0.0],
            true,
            ce(7),
        ),
        (
            "2,sigmoid,2,relu,2,tanh,2",
            vec![3.0],
            false,
            half(&[0.5, -0.5]),
        ),
        ("1", vec![2.0], false, half(&[1.0])),
        ("3,identity,2", vec![1.0, -1.0], false, ce(0)),
    ]
}

#[test]
fn hand_worked_gradients_equal_the_engines() {
    for (layers, inputs, bias, loss) in cases() {
        for seed in 0..4 {
            let net = network(layers, inputs.len(), bias, &Weights::Seeded(seed));
            let step = Explanation::new(net, inputs.clone(), loss.clone(), 0.1)
                .unwrap_or_else(|e| panic!("{layers} seed {seed}: {e}"));
            assert!(step.disagreement() <= TOLERANCE, "{layers} seed {seed}");
            assert!(
                (step.loss - step.engine_loss).abs() <= 1e-12 * step.engine_loss.abs().max(1.0),
                "{layers} seed {seed}: loss {} vs {}",
                step.loss,
                step.engine_loss
            );
            assert_eq!(step.gradients.len(), step.network.parameters().len());
            for g in &step.gradients {
                assert!(
                    (g.hand - g.engine).abs() <= 1e-12 * g.engine.abs().max(1.0),
                    "{layers} seed {seed} {}: hand {} engine {}",
                    g.name,
                    g.hand,
                    g.engine
                );
                assert_eq!(g.hand, g.dl_dz * g.dz_ds * g.ds_dw, "{}", g.name);
                assert_eq!(g.updated, g.value - 0.1 * g.hand, "{}", g.name);
            }
        }
    }
}

#[test]
fn hand_worked_gradients_equal_finite_differences() {
    let h = 1e-6;
    for (layers, inputs, bias, loss) in cases().into_iter().filter(|c| !c.0.contains("relu")) {
        let net = network(layers, inputs.len(), bias, &Weights::Seeded(9));
        let step = Explanation::new(net.clone(), inputs.clone(), loss.clone(), 0.1).unwrap();
        let weights = net.parameters();
        let loss_at = |values: Vec<f64>| {
            let moved = network(layers, inputs.len(), bias, &Weights::Given(values));
            Explanation::new(moved, inputs.clone(), loss.clone(), 0.1)
                .unwrap()
                .loss
        };
        for (p, g) in step.gradients.iter().enumerate() {
            let (mut up, mut down) = (weights.clone(), weights.clone());
            up[p] += h;
            down[p] -= h;
            let numeric = (loss_at(up) - loss_at(down)) / (2.0 * h);
            assert!(
                (numeric - g.hand).abs() < 1e-7,
                "{layers} {}: hand {} finite differences {numeric}",
                g.name,
                g.hand
            );
        }
    }
}

/// The tutorial's 2-2-1 tanh network without biases, by the closed forms:
/// `∂L/∂w⁽²⁾₁ⱼ = (ŷ − t)(1 − ŷ²)z⁽¹⁾ⱼ` and
/// `∂L/∂w⁽¹⁾ᵢⱼ = (ŷ − t)(1 − ŷ²)w⁽²⁾₁ᵢ(1 − (z⁽¹⁾ᵢ)²)xⱼ`.
#[test]
fn the_tutorial_network_follows_the_closed_forms() {
    let w1 = [[0.1, 0.2], [0.3, 0.4]];
    let w2 = [0.5, 0.6];
    let x = [1.0, 1.0];
    let t = 1.0;
    let given = vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    let net = network("2,tanh,1,tanh", 2, false, &Weights::Given(given));
    let step = Explanation::new(net, x.to_vec(), half(&[t]), 0.1).unwrap();

    let z1: Vec<f64> = w1
        .iter()
        .map(|r| (r[0] * x[0] + r[1] * x[1]).tanh())
        .collect();
    let y = (w2[0] * z1[0] + w2[1] * z1[1]).tanh();
    let delta = (y - t) * (1.0 - y * y);
    let mut expected = Vec::new();
    for i in 0..2 {
        for xj in x {
            expected.push(delta * w2[i] * (1.0 - z1[i] * z1[i]) * xj);
        }
    }
    expected.extend(z1.iter().map(|z| delta * z));

    assert!((step.outputs()[0] - y).abs() < 1e-15);
    assert!((step.loss - 0.5 * (t - y) * (t - y)).abs() < 1e-15);
    for (g, e) in step.gradients.iter().zip(&expected) {
        assert!((g.hand - e).abs() < 1e-15, "{}: {} vs {e}", g.name, g.hand);
    }
    let names: Vec<&str> = step.gradients.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "0.weight[0,0]",
            "0.weight[0,1]",
            "0.weight[1,0]",
            "0.weight[1,1]",
            "2.weight[0,0]",
            "2.weight[0,1]"
        ]
    );
    assert!(step.loss_after < step.loss);
}

#[test]
fn a_network_built_from_layers_names_its_parameters_like_sequential() {
    let layers = vec![
        Layer {
            weight: vec![vec![0.5, -0.5]],
            bias: Some(vec![0.1]),
            activation: None,
        },
        Layer {
            weight: vec![vec![2.0], vec![-1.0]],
            bias: None,
            activation: Some(Nonlinearity::Sigmoid),
        },
    ];
    let net = Network::new(2, layers).unwrap();
    assert_eq!(net.module_index(1), 1);
    assert_eq!(net.seed(), None);
    let step = Explanation::new(net, vec![1.0, 2.0], ce(1), 0.5).unwrap();
    let names: Vec<&str> = step.gradients.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "0.weight[0,0]",
            "0.weight[0,1]",
            "0.bias[0]",
            "1.weight[0,0]",
            "1.weight[1,0]"
        ]
    );
    assert!(step.disagreement() <= TOLERANCE);
}

#[test]
fn examples_that_do_not_fit_are_refused() {
    let net = || network("2,tanh,1", 2, false, &Weights::Seeded(0));
    assert_eq!(
        Explanation::new(net(), vec![1.0], half(&[1.0]), 0.1).unwrap_err(),
        ExplainError::InputCount {
            expected: 2,
            got: 1
        }
    );
    assert_eq!(
        Explanation::new(net(), vec![1.0, 1.0], half(&[1.0, 2.0]), 0.1).unwrap_err(),
        ExplainError::TargetCount {
            expected: 1,
            got: 2
        }
    );
    for lr in [0.0, -0.1, f64::NAN, f64::INFINITY] {
        let error = Explanation::new(net(), vec![1.0, 1.0], half(&[1.0]), lr).unwrap_err();
        assert!(error.to_string().contains("learning rate"), "{error}");
    }
    let error = Explanation::new(net(), vec![1.0, 1.0], ce(0), 0.1).unwrap_err();
    assert!(error.to_string().contains("at least 2 outputs"), "{error}");
    let huge = network("1", 1, false, &Weights::Given(vec![1e300]));
    let error = Explanation::new(huge, vec![1e300], half(&[0.0]), 0.1).unwrap_err();
    assert!(error.to_string().contains("overflows"), "{error}");
    let ragged = vec![Layer {
        weight: vec![vec![1.0, 2.0], vec![3.0]],
        bias: None,
        activation: None,
    }];
    assert!(matches!(
        Network::new(2, ragged),
        Err(ExplainError::Shape { layer: 1, .. })
    ));
}

#[test]
fn every_format_writes_the_whole_step() {
    let net = network("2,tanh,1,tanh", 2, true, &Weights::Seeded(0));
    let step = Explanation::new(net, vec![1.0, 1.0], half(&[1.0]), 0.1).unwrap();
    let text = step.render(Format::Text, 4);
    for part in [
        "Forward pass",
        "s⁽¹⁾₁ = w⁽¹⁾₁₁·x₁ + w⁽¹⁾₁₂·x₂ + b⁽¹⁾₁",
        "∂L/∂w⁽²⁾₁₂ = ∂L/∂z⁽²⁾₁·∂z⁽²⁾₁/∂s⁽²⁾₁·∂s⁽²⁾₁/∂w⁽²⁾₁₂",
        "∂L/∂b⁽¹⁾₂",
        "2.bias[0]",
    ] {
        assert!(text.contains(part), "{part} missing from:\n{text}");
    }
    let markdown = step.render(Format::Markdown, 4);
    assert!(markdown.contains("\\frac{\\partial L}{\\partial w^{(2)}_{12}}"));
    let latex = step.render(Format::Latex, 4);
    assert!(latex.is_ascii());
    assert_eq!(
        latex.matches("\\begin{").count(),
        latex.matches("\\end{").count()
    );
}
