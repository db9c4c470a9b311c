//! [`LbfgsState`] as named tensors, so a checkpoint of an L-BFGS run
//! resumes bit for bit.

use std::collections::BTreeMap;

use super::LbfgsState;
use super::OptimizerStateError;
use super::checkpoint::step_count;
use crate::nn::StateError;
use crate::tensor::Tensor;

const FUNC_EVALS: &str = "lbfgs.func_evals";
const N_ITER: &str = "lbfgs.n_iter";
const T: &str = "lbfgs.t";
const H_DIAG: &str = "lbfgs.h_diag";
const PREV_LOSS: &str = "lbfgs.prev_loss";
const D: &str = "lbfgs.d";
const PREV_FLAT_GRAD: &str = "lbfgs.prev_flat_grad";
const OLD_DIRS: &str = "lbfgs.old_dirs";
const OLD_STPS: &str = "lbfgs.old_stps";
const RO: &str = "lbfgs.ro";

impl LbfgsState {
    /// The memory as f64 tensors named `lbfgs.<PyTorch's name>`: the
    /// counters, `t`, `h_diag` and `prev_loss` as scalars, `d` and
    /// `prev_flat_grad` flat, the curvature pairs stacked into `[k, n]`
    /// matrices. Empty parts are left out.
    pub fn to_tensors(&self) -> BTreeMap<String, Tensor> {
        let mut tensors = BTreeMap::new();
        let mut put = |name: &str, tensor: Tensor| {
            tensors.insert(name.to_string(), tensor);
        };
        put(FUNC_EVALS, Tensor::scalar(self.func_evals as f64));
        put(N_ITER, Tensor::scalar(self.n_iter as f64));
        put(T, Tensor::scalar(self.t));
        put(H_DIAG, Tensor::scalar(self.h_diag));
        if let Some(loss) = self.prev_loss {
            put(PREV_LOSS, Tensor::scalar(loss));
        }
        for (name, vector) in [(D, &self.d), (PREV_FLAT_GRAD, &self.prev_flat_grad)] {
            if !vector.is_empty() {
                put(name, Tensor::from_vec(vector.clone(), &[vector.len()]));
            }
        }
        if !self.ro.is_empty() {
            let k = self.ro.len();
            let stack = |rows: &std::collections::VecDeque<Vec<f64>>| {
                let n = rows.front().map_or(0, Vec::len);
                Tensor::from_vec(rows.iter().flatten().copied().collect(), &[k, n])
            };
            put(OLD_DIRS, stack(&self.old_dirs));
            put(OLD_STPS, stack(&self.old_stps));
            put(
                RO,
                Tensor::from_vec(self.ro.iter().copied().collect(), &[k]),
            );
        }
        tensors
    }

    /// Reads what [`LbfgsState::to_tensors`] wrote, for `count` parameter
    /// elements in all, checking every name and shape.
    pub fn from_tensors(
        tensors: &BTreeMap<String, Tensor>,
        count: usize,
    ) -> Result<LbfgsState, OptimizerStateError> {
        if let Some(extra) = tensors.keys().find(|name| {
            ![
                FUNC_EVALS,
                N_ITER,
                T,
                H_DIAG,
                PREV_LOSS,
                D,
                PREV_FLAT_GRAD,
                OLD_DIRS,
                OLD_STPS,
                RO,
            ]
            .contains(&name.as_str())
        }) {
            return Err(StateError::Unexpected(extra.clone()).into());
        }
        let get = |name: &str| tensors.get(name);
        let required = |name: &str| {
            get(name)
                .ok_or_else(|| OptimizerStateError::from(StateError::Missing(name.to_string())))
        };
        let shaped = |name: &str, tensor: &Tensor, expected: &[usize]| {
            if tensor.shape() == expected {
                Ok(tensor.to_vec::<f64>())
            } else {
                Err(OptimizerStateError::from(StateError::Shape {
                    name: name.to_string(),
                    expected: expected.to_vec(),
                    found: tensor.shape().to_vec(),
                }))
            }
        };
        let scalar = |name: &str, tensor: &Tensor| shaped(name, tensor, &[]).map(|v| v[0]);

        let func_evals = step_count(FUNC_EVALS, required(FUNC_EVALS)?)?;
        let n_iter = step_count(N_ITER, required(N_ITER)?)?;
        let t = scalar(T, required(T)?)?;
        let h_diag = scalar(H_DIAG, required(H_DIAG)?)?;
        let prev_loss = get(PREV_LOSS).map(|l| scalar(PREV_LOSS, l)).transpose()?;
        let flat = |name: &str| -> Result<Vec<f64>, OptimizerStateError> {
            match (get(name), n_iter) {
                (None, 0) => Ok(Vec::new()),
                (None, _) => Err(StateError::Missing(name.to_string()).into()),
                (Some(v), _) => shaped(name, v, &[count]),
            }
        };
        let d = flat(D)?;
        let prev_flat_grad = flat(PREV_FLAT_GRAD)?;
        let (mut old_dirs, mut old_stps, mut ro) = Default::default();
        if let Some(r) = get(RO) {
            let k = r.shape().first().copied().unwrap_or(0);
            ro = shaped(RO, r, &[k])?.into_iter().collect();
            let rows = |name: &str| -> Result<_, OptimizerStateError> {
                let values = shaped(name, required(name)?, &[k, count])?;
                Ok(values.chunks(count.max(1)).map(<[f64]>::to_vec).collect())
            };
            old_dirs = rows(OLD_DIRS)?;
            old_stps = rows(OLD_STPS)?;
        } else if let Some(name) = [OLD_DIRS, OLD_STPS].into_iter().find(|n| get(n).is_some()) {
            return Err(StateError::Unexpected(name.to_string()).into());
        }
        Ok(LbfgsState {
            func_evals,
            n_iter,
            d,
            t,
            old_dirs,
            old_stps,
            ro,
            h_diag,
            prev_flat_grad,
            prev_loss,
        })
    }
}
