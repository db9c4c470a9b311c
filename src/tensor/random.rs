//! A seeded random number generator whose streams are the same on every
//! machine and every run: ChaCha8 for the bits, and our own conversions to
//! floats, so a dependency update cannot change a seeded result.

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng as _, SeedableRng};

/// A seeded, portable random number generator.
///
/// ```
/// use nabla::Rng;
/// let (mut a, mut b) = (Rng::seed(7), Rng::seed(7));
/// assert_eq!(a.normal(), b.normal());
/// ```
#[derive(Clone, Debug)]
pub struct Rng {
    chacha: ChaCha8Rng,
    spare_normal: Option<f64>,
}

/// Where a [`Rng`] is in its stream: enough to continue it exactly (what a
/// checkpoint saves).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RngState {
    seed: [u8; 32],
    stream: u64,
    word_pos: u128,
    spare_normal: Option<f64>,
}

impl Rng {
    /// The generator's position, to continue it later with [`Rng::from_state`].
    pub fn state(&self) -> RngState {
        RngState {
            seed: self.chacha.get_seed(),
            stream: self.chacha.get_stream(),
            word_pos: self.chacha.get_word_pos(),
            spare_normal: self.spare_normal,
        }
    }

    /// A generator that continues exactly where `state` was taken.
    pub fn from_state(state: &RngState) -> Rng {
        let mut chacha = ChaCha8Rng::from_seed(state.seed);
        chacha.set_stream(state.stream);
        chacha.set_word_pos(state.word_pos);
        Rng {
            chacha,
            spare_normal: state.spare_normal,
        }
    }

    /// A generator whose whole stream is determined by `seed`.
    pub fn seed(seed: u64) -> Rng {
        Rng {
            chacha: ChaCha8Rng::seed_from_u64(seed),
            spare_normal: None,
        }
    }

    /// 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.chacha.next_u64()
    }

    /// Uniform in `[0, 1)`, with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform_in(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Standard normal, by the Box–Muller transform (values come in pairs).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        // 1 - uniform() lies in (0, 1], so the logarithm is finite.
        let radius = (-2.0 * (1.0 - self.uniform()).ln()).sqrt();
        let angle = std::f64::consts::TAU * self.uniform();
        self.spare_normal = Some(radius * angle.sin());
        radius * angle.cos()
    }

    /// Uniform integer in `0..n` (`n > 0`), without modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below: the range 0..0 is empty");
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }

    /// Shuffles a slice in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restored_state_continues_the_stream() {
        let mut rng = Rng::seed(3);
        rng.normal();
        rng.shuffle(&mut [1, 2, 3]);
        let json = serde_json::to_string(&rng.state()).expect("serializes");
        let state: RngState = serde_json::from_str(&json).expect("parses");
        let mut restored = Rng::from_state(&state);
        for _ in 0..5 {
            assert_eq!(rng.normal().to_bits(), restored.normal().to_bits());
            assert_eq!(rng.next_u64(), restored.next_u64());
        }
    }

    #[test]
    fn streams_are_fixed_by_the_seed() {
        let mut rng = Rng::seed(42);
        let first: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        let mut again = Rng::seed(42);
        assert_eq!(first, (0..3).map(|_| again.next_u64()).collect::<Vec<_>>());
        assert_ne!(first[0], Rng::seed(43).next_u64());
    }

    #[test]
    fn normals_have_unit_moments() {
        let mut rng = Rng::seed(1);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "variance {var}");
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut items: Vec<usize> = (0..100).collect();
        Rng::seed(3).shuffle(&mut items);
        assert_ne!(items, (0..100).collect::<Vec<_>>());
        items.sort_unstable();
        assert_eq!(items, (0..100).collect::<Vec<_>>());
    }
}
