//! Elementwise primitives of one input, each given by its function `f` and
//! its derivative `df` (the rule is then always `∂L/∂x = ∂L/∂y · df(x, y)`).

use crate::autograd::{grads, record};
use crate::tensor::{Element, Storage, Tensor, map_storage};

/// An elementwise function and its derivative, written once for f32 and f64.
pub(crate) trait Unary: Copy + Send + Sync + 'static {
    /// The op's name in the graph.
    const NAME: &'static str;
    /// `y = f(x)`.
    fn f<T: Element>(self, x: T) -> T;
    /// `dy/dx`, given both `x` and `y = f(x)` (whichever is cheaper).
    fn df<T: Element>(self, x: T, y: T) -> T;
}

/// Applies `op` to every element and records `∂L/∂x = ∂L/∂y · df(x, y)`.
pub(crate) fn unary<U: Unary>(x: &Tensor, op: U) -> Tensor {
    let data = map_storage!(x.storage(), v => v.iter().map(|&a| op.f(a)).collect());
    record(U::NAME, data, x.shape(), &[x], |y| {
        let (x, y) = (x.shared_data(), y.data());
        move |g: &Tensor, _: &[bool]| {
            let dx = match (g.storage(), &*x, &*y) {
                (Storage::F32(g), Storage::F32(x), Storage::F32(y)) => {
                    Storage::F32(chain(op, g, x, y))
                }
                (Storage::F64(g), Storage::F64(x), Storage::F64(y)) => {
                    Storage::F64(chain(op, g, x, y))
                }
                _ => panic!("{}: gradient dtype differs from the input's", U::NAME),
            };
            grads![Some(Tensor::from_storage(dx, g.shape()))]
        }
    })
}

fn chain<T: Element, U: Unary>(op: U, g: &[T], x: &[T], y: &[T]) -> Vec<T> {
    g.iter()
        .zip(x)
        .zip(y)
        .map(|((&g, &x), &y)| g * op.df(x, y))
        .collect()
}

macro_rules! unary_op {
    ($ty:ident, $name:literal,
     |$x:ident $(, $s:ident)?| $f:expr, |$dx:ident, $dy:ident $(, $ds:ident)?| $df:expr) => {
        impl Unary for $ty {
            const NAME: &'static str = $name;
            #[allow(unused_variables)]
            fn f<T: Element>(self, $x: T) -> T {
                $(let $s = self;)?
                $f
            }
            #[allow(unused_variables)]
            fn df<T: Element>(self, $dx: T, $dy: T) -> T {
                $(let $ds = self;)?
                $df
            }
        }
    };
}

#[derive(Clone, Copy)]
pub(crate) struct Neg;
#[derive(Clone, Copy)]
pub(crate) struct Exp;
#[derive(Clone, Copy)]
pub(crate) struct Log;
#[derive(Clone, Copy)]
pub(crate) struct Sqrt;
#[derive(Clone, Copy)]
pub(crate) struct Abs;
#[derive(Clone, Copy)]
pub(crate) struct Powf {
    exponent: f64,
}
#[derive(Clone, Copy)]
pub(crate) struct Clamp {
    min: f64,
    max: f64,
}
#[derive(Clone, Copy)]
pub(crate) struct Sigmoid;
#[derive(Clone, Copy)]
pub(crate) struct Tanh;
#[derive(Clone, Copy)]
pub(crate) struct Relu;
#[derive(Clone, Copy)]
pub(crate) struct LeakyRelu {
    slope: f64,
}
#[derive(Clone, Copy)]
pub(crate) struct Elu {
    alpha: f64,
}
#[derive(Clone, Copy)]
pub(crate) struct Gelu;
#[derive(Clone, Copy)]
pub(crate) struct Softplus;
#[derive(Clone, Copy)]
pub(crate) struct Sin;
#[derive(Clone, Copy)]
pub(crate) struct Cos;

unary_op!(Neg, "neg", |x| -x, |x, y| -T::one());
unary_op!(Exp, "exp", |x| x.exp(), |x, y| y);
unary_op!(Log, "log", |x| x.ln(), |x, y| x.recip());
unary_op!(Sqrt, "sqrt", |x| x.sqrt(), |x, y| T::c(0.5) / y);
unary_op!(Abs, "abs", |x| x.abs(), |x, y| sign(x));
unary_op!(
    Powf,
    "powf",
    |x, s| x.powf(T::c(s.exponent)),
    // x⁰ is constant: its derivative is 0 even at x = 0, where the formula
    // below would give 0·0⁻¹ = NaN.
    |x, y, s| if s.exponent == 0.0 {
        T::zero()
    } else {
        T::c(s.exponent) * x.powf(T::c(s.exponent - 1.0))
    }
);
unary_op!(
    Clamp,
    "clamp",
    |x, s| if x.is_nan() {
        x
    } else {
        x.max(T::c(s.min)).min(T::c(s.max))
    },
    |x, y, s| if x >= T::c(s.min) && x <= T::c(s.max) {
        T::one()
    } else {
        T::zero()
    }
);
unary_op!(Sigmoid, "sigmoid", |x| sigmoid(x), |x, y| y
    * (T::one() - y));
unary_op!(Tanh, "tanh", |x| x.tanh(), |x, y| T::one() - y * y);
unary_op!(
    Relu,
    "relu",
    |x| if x > T::zero() || x.is_nan() {
        x
    } else {
        T::zero()
    },
    |x, y| if x > T::zero() { T::one() } else { T::zero() }
);
unary_op!(
    LeakyRelu,
    "leaky_relu",
    |x, s| if x > T::zero() { x } else { T::c(s.slope) * x },
    |x, y, s| if x > T::zero() {
        T::one()
    } else {
        T::c(s.slope)
    }
);
unary_op!(
    Elu,
    "elu",
    |x, s| if x > T::zero() {
        x
    } else {
        T::c(s.alpha) * x.exp_m1()
    },
    |x, y, s| if x > T::zero() {
        T::one()
    } else {
        T::c(s.alpha) * x.exp()
    }
);
unary_op!(Gelu, "gelu", |x| x * normal_cdf(x), |x, y| normal_cdf(x)
    + x * T::c(FRAC_1_SQRT_2PI) * (T::c(-0.5) * x * x).exp());
unary_op!(
    Softplus,
    "softplus",
    |x| if x > T::c(SOFTPLUS_THRESHOLD) {
        x
    } else {
        x.exp().ln_1p()
    },
    |x, y| if x > T::c(SOFTPLUS_THRESHOLD) {
        T::one()
    } else {
        sigmoid(x)
    }
);
unary_op!(Sin, "sin", |x| x.sin(), |x, y| x.cos());
unary_op!(Cos, "cos", |x| x.cos(), |x, y| -x.sin());

/// Above this input softplus returns its input unchanged, as PyTorch does
/// (`log1p(exp(x))` equals `x` there to working precision).
const SOFTPLUS_THRESHOLD: f64 = 20.0;
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

fn sign<T: Element>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        -T::one()
    } else {
        T::zero()
    }
}

/// `1/(1 + e⁻ˣ)`, as the sigmoid op computes it (and the fused steps).
#[inline(always)]
pub(crate) fn sigmoid<T: Element>(x: T) -> T {
    T::one() / (T::one() + (-x).exp_inline())
}

/// Φ(x), the standard normal CDF, via `erf` (exact GELU, PyTorch's default).
fn normal_cdf<T: Element>(x: T) -> T {
    let x64 = x.to_f64().expect("floats convert to f64");
    T::c(0.5 * (1.0 + libm::erf(x64 * std::f64::consts::FRAC_1_SQRT_2)))
}

impl Tensor {
    /// `-x`. Derivative: −1.
    pub fn neg(&self) -> Tensor {
        unary(self, Neg)
    }

    /// `eˣ`. Derivative: `eˣ`.
    pub fn exp(&self) -> Tensor {
        unary(self, Exp)
    }

    /// Natural logarithm. Derivative: `1/x`.
    pub fn log(&self) -> Tensor {
        unary(self, Log)
    }

    /// `x^p` for a constant `p`. Derivative: `p·x^(p−1)`.
    pub fn powf(&self, exponent: f64) -> Tensor {
        unary(self, Powf { exponent })
    }

    /// `√x`. Derivative: `1/(2√x)`.
    pub fn sqrt(&self) -> Tensor {
        unary(self, Sqrt)
    }

    /// `|x|`. Derivative: `sign(x)`, 0 at 0 (as PyTorch).
    pub fn abs(&self) -> Tensor {
        unary(self, Abs)
    }

    /// Limits every element to `[min, max]` (NaN stays NaN). Derivative: 1
    /// inside the closed interval, 0 outside (as PyTorch).
    pub fn clamp(&self, min: f64, max: f64) -> Tensor {
        assert!(min <= max, "clamp: min {min} exceeds max {max}");
        unary(self, Clamp { min, max })
    }

    /// `σ(x) = 1/(1 + e⁻ˣ)`. Derivative: `σ(x)(1 − σ(x))`.
    pub fn sigmoid(&self) -> Tensor {
        unary(self, Sigmoid)
    }

    /// Hyperbolic tangent. Derivative: `1 − tanh²(x)`.
    pub fn tanh(&self) -> Tensor {
        unary(self, Tanh)
    }

    /// `max(x, 0)` (NaN stays NaN). Derivative: 1 for `x > 0`, else 0.
    pub fn relu(&self) -> Tensor {
        unary(self, Relu)
    }

    /// `x` for `x > 0`, else `slope·x`. Derivative: 1 or `slope`.
    pub fn leaky_relu(&self, slope: f64) -> Tensor {
        unary(self, LeakyRelu { slope })
    }

    /// `x` for `x > 0`, else `α(eˣ − 1)`. Derivative: 1 or `α·eˣ`.
    pub fn elu(&self, alpha: f64) -> Tensor {
        unary(self, Elu { alpha })
    }

    /// Exact GELU, `x·Φ(x)`. Derivative: `Φ(x) + x·φ(x)`.
    pub fn gelu(&self) -> Tensor {
        unary(self, Gelu)
    }

    /// `ln(1 + eˣ)`, returning `x` above 20 as PyTorch does. Derivative: `σ(x)`.
    pub fn softplus(&self) -> Tensor {
        unary(self, Softplus)
    }

    /// Sine (radians). Derivative: `cos x`.
    pub fn sin(&self) -> Tensor {
        unary(self, Sin)
    }

    /// Cosine (radians). Derivative: `−sin x`.
    pub fn cos(&self) -> Tensor {
        unary(self, Cos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: Tensor) -> Vec<f64> {
        t.to_vec()
    }

    #[test]
    fn forward_values_match_their_definitions() {
        let x = Tensor::from_vec(vec![-2.0f64, 0.0, 1.5], &[3]);
        assert_eq!(values(x.relu()), vec![0.0, 0.0, 1.5]);
        assert_eq!(values(x.leaky_relu(0.1)), vec![-0.2, 0.0, 1.5]);
        assert_eq!(values(x.clamp(-1.0, 1.0)), vec![-1.0, 0.0, 1.0]);
        assert_eq!(values(x.abs()), vec![2.0, 0.0, 1.5]);
        assert_eq!(values(x.sigmoid())[1], 0.5);
        assert_eq!(values(x.sin()), vec![(-2.0f64).sin(), 0.0, 1.5f64.sin()]);
        assert_eq!(values(x.cos()), vec![(-2.0f64).cos(), 1.0, 1.5f64.cos()]);
        // x·Φ(x) with Φ from the error function, as PyTorch computes it.
        let gelu = values(x.gelu());
        assert!((gelu[0] - -0.045_500_263_896_358_42).abs() < 1e-15);
        assert!((gelu[2] - 1.399_789_198_096_713).abs() < 1e-15);
    }

    #[test]
    fn nan_passes_through_relu_and_clamp_and_x_to_the_zero_has_gradient_zero() {
        let x = Tensor::from_vec(vec![f64::NAN], &[1]);
        assert!(x.relu().item().is_nan());
        assert!(x.clamp(-1.0, 1.0).item().is_nan());
        let zero = Tensor::from_vec(vec![0.0f64], &[1]).with_requires_grad(true);
        let y = zero.powf(0.0).sum_all();
        assert_eq!(y.item(), 1.0);
        assert_eq!(y.backward()[&zero].item(), 0.0);
    }

    #[test]
    fn softplus_and_sigmoid_are_stable_at_the_extremes() {
        let x = Tensor::from_vec(vec![-1000.0f32, 1000.0], &[2]);
        assert_eq!(x.softplus().to_vec::<f32>(), vec![0.0, 1000.0]);
        assert_eq!(x.sigmoid().to_vec::<f32>(), vec![0.0, 1.0]);
    }
}
