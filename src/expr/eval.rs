//! An expression to a tensor, built from tensor ops so that `backward`
//! differentiates it.

use super::{BinaryOp, Expr, Function};
use crate::tensor::{DType, Tensor, shape};

/// Why an expression could not be evaluated with the values given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// The expression uses a variable that has no value.
    #[error("no value given for the variable '{0}'")]
    MissingVariable(String),
    /// Two of the values have different dtypes.
    #[error(
        "the variables' dtypes differ: '{first}' is {first_dtype} but '{other}' is {other_dtype}"
    )]
    MixedDTypes {
        /// The first value's name.
        first: String,
        /// The first value's dtype.
        first_dtype: DType,
        /// The name of a value of another dtype.
        other: String,
        /// Its dtype.
        other_dtype: DType,
    },
    /// A variable's shape does not broadcast with the others'.
    #[error(
        "the variable '{variable}' of shape {shape:?} does not broadcast with the other \
         variables (shape {others:?})"
    )]
    Shapes {
        /// The variable.
        variable: String,
        /// Its shape.
        shape: Vec<usize>,
        /// The broadcast shape of the variables before it (in name order).
        others: Vec<usize>,
    },
}

/// The values of an expression's variables, and the dtype its constants take.
struct Values<'v> {
    values: &'v [(&'v str, &'v Tensor)],
    dtype: DType,
}

impl Values<'_> {
    fn get(&self, name: &str) -> Option<&Tensor> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, t)| t)
    }
}

impl Expr {
    /// Evaluates the expression with tensor ops, taking each variable's
    /// value from `values` (by name; the first wins, and names it does not
    /// use are ignored).
    ///
    /// The values must share one dtype; each constant becomes a scalar of
    /// it (of f64 when `values` is empty). Every op is elementwise and
    /// broadcasts, so the values may have any shapes that broadcast
    /// together, and the result has their broadcast shape: shape `[1]` for
    /// a point, `[n]` for `n` points at once. Gradients flow back to every
    /// value that requires one.
    ///
    /// `a ^ b` is [`Tensor::powf`] when `b` has no variables (its value is
    /// computed first in f64), so `x^4` is differentiable for every `x`;
    /// otherwise it is `exp(b · log(a))`, defined for `a > 0` only.
    ///
    /// ```
    /// use nabla::Tensor;
    /// use nabla::expr::Expr;
    /// let f = Expr::parse("(1 - x)^2 + 100*(y - x^2)^2")?;
    /// let x = Tensor::from_vec(vec![1.0f64, 0.0], &[2]);
    /// let y = Tensor::from_vec(vec![1.0f64, 1.0], &[2]);
    /// assert_eq!(f.eval(&[("x", &x), ("y", &y)])?.to_vec::<f64>(), vec![0.0, 101.0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn eval(&self, values: &[(&str, &Tensor)]) -> Result<Tensor, EvalError> {
        let dtype = match values.split_first() {
            None => DType::F64,
            Some((&(first, value), rest)) => {
                if let Some(&(other, t)) = rest.iter().find(|(_, t)| t.dtype() != value.dtype()) {
                    return Err(EvalError::MixedDTypes {
                        first: first.to_string(),
                        first_dtype: value.dtype(),
                        other: other.to_string(),
                        other_dtype: t.dtype(),
                    });
                }
                value.dtype()
            }
        };
        let values = Values { values, dtype };
        let mut shape = Vec::new();
        for name in self.variables() {
            let value = values
                .get(&name)
                .ok_or_else(|| EvalError::MissingVariable(name.clone()))?;
            shape = shape::broadcast_shapes(&shape, value.shape()).ok_or_else(|| {
                EvalError::Shapes {
                    variable: name.clone(),
                    shape: value.shape().to_vec(),
                    others: shape,
                }
            })?;
        }
        Ok(self.build(&values))
    }

    /// The values at many points at once, without recording gradients:
    /// `columns[k][p]` is variable `names[k]` at point `p` (for plotting).
    pub fn eval_points(
        &self,
        names: &[String],
        columns: &[Vec<f64>],
    ) -> Result<Vec<f64>, EvalError> {
        let tensors: Vec<Tensor> = columns
            .iter()
            .map(|c| Tensor::from_vec(c.clone(), &[c.len()]))
            .collect();
        let values: Vec<(&str, &Tensor)> = names.iter().map(String::as_str).zip(&tensors).collect();
        let points = columns.first().map_or(1, Vec::len);
        crate::no_grad(|| {
            let result = self.eval(&values)?;
            // A constant (or a function of fewer variables) still has one
            // value per point.
            Ok(result.broadcast_to(&[points]).to_vec::<f64>())
        })
    }

    /// The tensor ops of the tree; every variable has a value and the
    /// shapes broadcast.
    fn build(&self, values: &Values<'_>) -> Tensor {
        match self {
            Expr::Number(v) => Tensor::scalar_of(*v, values.dtype),
            Expr::Variable(name) => values
                .get(name)
                .expect("eval checked every variable has a value")
                .clone(),
            Expr::Neg(a) => a.build(values).neg(),
            Expr::Call(function, a) => function.apply(&a.build(values)),
            Expr::Binary(op, a, b) => {
                let a = a.build(values);
                match op {
                    BinaryOp::Add => a + b.build(values),
                    BinaryOp::Sub => a - b.build(values),
                    BinaryOp::Mul => a * b.build(values),
                    BinaryOp::Div => a / b.build(values),
                    BinaryOp::Pow => power(&a, b, values),
                }
            }
        }
    }
}

/// `base ^ exponent`: [`Tensor::powf`] for a constant exponent (computed in
/// f64), else `exp(exponent · log(base))`.
fn power(base: &Tensor, exponent: &Expr, values: &Values<'_>) -> Tensor {
    if exponent.is_constant() {
        let in_f64 = Values {
            values: &[],
            dtype: DType::F64,
        };
        base.powf(exponent.build(&in_f64).item())
    } else {
        (exponent.build(values) * base.log()).exp()
    }
}

impl Function {
    /// The function applied elementwise to `x`, as the tensor op of the
    /// same name.
    pub fn apply(self, x: &Tensor) -> Tensor {
        match self {
            Function::Exp => x.exp(),
            Function::Log => x.log(),
            Function::Sqrt => x.sqrt(),
            Function::Abs => x.abs(),
            Function::Sin => x.sin(),
            Function::Cos => x.cos(),
            Function::Tanh => x.tanh(),
            Function::Sigmoid => x.sigmoid(),
            Function::Relu => x.relu(),
            Function::Softplus => x.softplus(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, x: f64) -> f64 {
        let x = Tensor::scalar(x);
        Expr::parse(text)
            .unwrap()
            .eval(&[("x", &x)])
            .unwrap()
            .item()
    }

    #[test]
    fn values_match_the_arithmetic() {
        assert_eq!(at("1 + 2 * 3 - 4 / 8", 0.0), 6.5);
        assert_eq!(at("2^3^2", 0.0), 512.0);
        assert_eq!(at("-x^2", 3.0), -9.0);
        assert_eq!(at("x^-2", 2.0), 0.25);
        assert_eq!(at("x^(1/2)", 9.0), 3.0);
        assert_eq!(at("(-2)^3", 0.0), -8.0);
        assert_eq!(at("x^3", -2.0), -8.0);
        assert!((at("2^x", 3.0) - 8.0).abs() < 1e-14);
        assert!((at("x^x", 2.0) - 4.0).abs() < 1e-14);
        assert_eq!(at("relu(x) + abs(x)", -1.5), 1.5);
        assert_eq!(at("sigmoid(x) + tanh(x) + sin(x)", 0.0), 0.5);
        assert_eq!(at("cos(x) + exp(x) + log(x + 1) + sqrt(x)", 0.0), 2.0);
        assert_eq!(at("softplus(x)", 30.0), 30.0);
    }

    #[test]
    fn constants_take_the_dtype_of_the_values() {
        let x = Tensor::from_vec(vec![1.5f32], &[1]);
        let y = Expr::parse("2 * x + 0.1")
            .unwrap()
            .eval(&[("x", &x)])
            .unwrap();
        assert_eq!(y.dtype(), DType::F32);
        assert_eq!(y.to_vec::<f32>(), vec![2.0f32 * 1.5 + 0.1]);
        let constant = Expr::parse("2^0.5").unwrap().eval(&[]).unwrap();
        assert_eq!((constant.dtype(), constant.shape()), (DType::F64, &[][..]));
        assert_eq!(constant.item(), 2f64.sqrt());
    }

    #[test]
    fn errors_name_the_variable() {
        let f = Expr::parse("x + y * z").unwrap();
        let x = Tensor::from_vec(vec![1.0f64, 2.0], &[2]);
        let y3 = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3]);
        let x32 = Tensor::from_vec(vec![1.0f32], &[1]);
        assert_eq!(
            f.eval(&[("x", &x), ("z", &x)]).unwrap_err().to_string(),
            "no value given for the variable 'y'"
        );
        assert_eq!(
            f.eval(&[("x", &x), ("y", &x), ("z", &x32)])
                .unwrap_err()
                .to_string(),
            "the variables' dtypes differ: 'x' is f64 but 'z' is f32"
        );
        assert_eq!(
            f.eval(&[("x", &x), ("y", &y3), ("z", &x)]).unwrap_err(),
            EvalError::Shapes {
                variable: "y".into(),
                shape: vec![3],
                others: vec![2],
            }
        );
    }
}
