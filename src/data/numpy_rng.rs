//! NumPy-compatible random numbers: the same bits as
//! `numpy.random.default_rng(seed)` for the draws the benchmarks use.
//!
//! The benchmark data sets are defined by a short NumPy recipe: features
//! drawn with `rng.standard_normal((n, d), dtype=np.float32)`, a weight
//! matrix drawn right after them from the same generator, and labels taken
//! as the argmax of the product in f64. [`synthetic_classification`]
//! reproduces that recipe bit for bit, so the data can be rebuilt on a
//! machine without Python.
//!
//! The pieces, each following NumPy's published algorithms:
//!
//! - [`SeedSequence`]: NumPy's entropy pool (four 32-bit words mixed with
//!   multiply–xorshift hashes) and its `generate_state` output;
//! - [`Pcg64`]: the PCG-XSL-RR 128/64 generator, seeded from a seed
//!   sequence as NumPy seeds it, with NumPy's way of splitting a 64-bit draw
//!   into two 32-bit ones, its 24-bit single-precision uniform, and its
//!   single-precision ziggurat normal (256 layers, 32-bit draws);
//! - the ziggurat tables, computed here from the ziggurat's defining
//!   equations (Marsaglia and Tsang's layers of equal area) in double
//!   precision and rounded to single precision, as NumPy's were;
//! - the single-precision `log1p` that NumPy's normal sampler calls for its
//!   tail, computed the way the C library the reference data was made with
//!   computes it (the classic fdlibm single-precision algorithm), so that
//!   the rare tail draws round the same way.
//!
//! ```
//! use nabla::data::numpy_rng::{Pcg64, synthetic_classification};
//! // numpy: np.random.PCG64(2).random_raw()
//! assert_eq!(Pcg64::new(2).next_u64(), 0x42f9_0348_d66b_58c1);
//! let (x, y) = synthetic_classification(5, 3, 2, 2);
//! assert_eq!((x.len(), y.len()), (15, 5));
//! assert!(y.iter().all(|&c| c < 2));
//! ```

use rayon::prelude::*;
use std::sync::OnceLock;

// ---------------------------------------------------------------------------
// SeedSequence
// ---------------------------------------------------------------------------

/// Words in a [`SeedSequence`]'s entropy pool (NumPy's default pool size).
pub const POOL_SIZE: usize = 4;

/// Starting value of the hash constant used while mixing entropy in.
const MIX_INIT: u32 = 0x43b0_d7e5;
/// Factor the mixing hash constant is multiplied by after each use.
const MIX_MULT: u32 = 0x931e_8875;
/// Starting value of the hash constant used while drawing state out.
const DRAW_INIT: u32 = 0x8b51_f9dd;
/// Factor the drawing hash constant is multiplied by after each use.
const DRAW_MULT: u32 = 0x58f3_8ded;
/// Left factor when two pool words are combined.
const COMBINE_LEFT: u32 = 0xca01_f9dd;
/// Right factor when two pool words are combined.
const COMBINE_RIGHT: u32 = 0x4973_f715;

/// A multiply–xorshift hash whose constant advances on every use.
struct Hasher(u32);

impl Hasher {
    /// Hashes `value` with the current constant, then advances the constant
    /// by multiplying it by `mult`.
    fn hash(&mut self, value: u32, mult: u32) -> u32 {
        let mixed = value ^ self.0;
        self.0 = self.0.wrapping_mul(mult);
        let mixed = mixed.wrapping_mul(self.0);
        mixed ^ (mixed >> 16)
    }
}

/// Combines two pool words into one.
fn combine(x: u32, y: u32) -> u32 {
    let r = COMBINE_LEFT
        .wrapping_mul(x)
        .wrapping_sub(COMBINE_RIGHT.wrapping_mul(y));
    r ^ (r >> 16)
}

/// NumPy's `SeedSequence` for a plain integer seed (no spawn key): the
/// seed's 32-bit words are hashed into a pool of [`POOL_SIZE`] words, from
/// which any number of well-mixed state words can be drawn.
///
/// ```
/// use nabla::data::numpy_rng::SeedSequence;
/// // numpy: np.random.SeedSequence(2).pool
/// assert_eq!(SeedSequence::new(2).pool(), [0x18d6f08b, 0x329a72a5, 0xfa311e4e, 0xe1425d1c]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedSequence {
    pool: [u32; POOL_SIZE],
}

impl SeedSequence {
    /// The seed sequence of a non-negative integer seed, as
    /// `numpy.random.SeedSequence(seed)`: the seed is split into 32-bit
    /// words, least significant first (zero is the single word `0`).
    pub fn new(seed: u128) -> Self {
        let mut words = Vec::with_capacity(4);
        let mut rest = seed;
        loop {
            words.push(rest as u32);
            rest >>= 32;
            if rest == 0 {
                break;
            }
        }
        Self::from_words(&words)
    }

    /// The seed sequence of an entropy given as 32-bit words, least
    /// significant first (NumPy's representation of an integer or an array
    /// of `uint32` entropy).
    pub fn from_words(entropy: &[u32]) -> Self {
        let mut hasher = Hasher(MIX_INIT);
        let mut pool = [0u32; POOL_SIZE];
        for (i, slot) in pool.iter_mut().enumerate() {
            let word = entropy.get(i).copied().unwrap_or(0);
            *slot = hasher.hash(word, MIX_MULT);
        }
        // Every word influences every other word.
        for src in 0..POOL_SIZE {
            for dst in 0..POOL_SIZE {
                if src != dst {
                    let h = hasher.hash(pool[src], MIX_MULT);
                    pool[dst] = combine(pool[dst], h);
                }
            }
        }
        // Entropy beyond the pool's size is folded into every word.
        for &word in entropy.iter().skip(POOL_SIZE) {
            for slot in pool.iter_mut() {
                let h = hasher.hash(word, MIX_MULT);
                *slot = combine(*slot, h);
            }
        }
        SeedSequence { pool }
    }

    /// The mixed entropy pool (NumPy's `SeedSequence.pool`).
    pub fn pool(&self) -> [u32; POOL_SIZE] {
        self.pool
    }

    /// `n` state words, as NumPy's `generate_state(n, np.uint32)`.
    pub fn generate_state_u32(&self, n: usize) -> Vec<u32> {
        let mut hasher = Hasher(DRAW_INIT);
        (0..n)
            .map(|i| hasher.hash(self.pool[i % POOL_SIZE], DRAW_MULT))
            .collect()
    }

    /// `n` 64-bit state words, as NumPy's `generate_state(n, np.uint64)`:
    /// pairs of 32-bit words, the first of each pair in the low half.
    pub fn generate_state_u64(&self, n: usize) -> Vec<u64> {
        self.generate_state_u32(2 * n)
            .chunks_exact(2)
            .map(|pair| u64::from(pair[0]) | (u64::from(pair[1]) << 32))
            .collect()
    }
}

// ---------------------------------------------------------------------------
// PCG64
// ---------------------------------------------------------------------------

/// The 128-bit LCG multiplier of PCG's 128-bit generators.
const PCG_MULTIPLIER: u128 = (2_549_297_995_355_413_924u128 << 64) | 4_865_540_595_714_422_341;

/// NumPy's `PCG64` bit generator (PCG-XSL-RR 128/64), together with the
/// single-precision draws of NumPy's `Generator` built on it.
///
/// `Pcg64::new(seed)` is `numpy.random.PCG64(seed)`, so
/// `Pcg64::new(seed).standard_normal_f32()` repeated gives the values of
/// `numpy.random.default_rng(seed).standard_normal(n, dtype=np.float32)`.
///
/// ```
/// use nabla::data::numpy_rng::Pcg64;
/// let mut rng = Pcg64::new(2);
/// // numpy: np.random.default_rng(2).standard_normal(2, dtype=np.float32)
/// assert_eq!(rng.standard_normal_f32(), 1.7045366);
/// assert_eq!(rng.standard_normal_f32(), -0.3020524);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pcg64 {
    state: u128,
    increment: u128,
    /// The upper half of the last 64-bit draw, when its lower half has been
    /// handed out as a 32-bit draw and this half not yet.
    spare: Option<u32>,
}

impl Pcg64 {
    /// `numpy.random.PCG64(seed)`: seeded through [`SeedSequence::new`].
    pub fn new(seed: u64) -> Self {
        Self::from_seed_sequence(&SeedSequence::new(u128::from(seed)))
    }

    /// Seeded from a seed sequence as NumPy does: four 64-bit state words,
    /// the first two (high word first) the initial state, the last two the
    /// stream selector.
    pub fn from_seed_sequence(seq: &SeedSequence) -> Self {
        let w = seq.generate_state_u64(4);
        let init_state = (u128::from(w[0]) << 64) | u128::from(w[1]);
        let stream = (u128::from(w[2]) << 64) | u128::from(w[3]);
        Self::from_state_and_stream(init_state, stream)
    }

    /// PCG's standard seeding for an initial state and a stream selector:
    /// the increment is `2 * stream + 1`, and the state is advanced once
    /// before and once after the initial state is added.
    pub fn from_state_and_stream(init_state: u128, stream: u128) -> Self {
        let mut rng = Pcg64 {
            state: 0,
            increment: (stream << 1) | 1,
            spare: None,
        };
        rng.step();
        rng.state = rng.state.wrapping_add(init_state);
        rng.step();
        rng
    }

    /// The 128-bit LCG state and increment, as NumPy reports them in
    /// `bit_generator.state["state"]`.
    pub fn state(&self) -> (u128, u128) {
        (self.state, self.increment)
    }

    #[inline(always)]
    fn step(&mut self) {
        self.state = self
            .state
            .wrapping_mul(PCG_MULTIPLIER)
            .wrapping_add(self.increment);
    }

    /// The next 64-bit draw (NumPy's `random_raw`): advance the LCG, then
    /// xor the state's halves and rotate right by its top six bits.
    #[inline(always)]
    pub fn next_u64(&mut self) -> u64 {
        self.step();
        let folded = ((self.state >> 64) as u64) ^ (self.state as u64);
        folded.rotate_right((self.state >> 122) as u32)
    }

    /// The next 32-bit draw as NumPy makes it: the lower half of a fresh
    /// 64-bit draw, and on the following call its upper half. As in NumPy,
    /// [`Pcg64::next_u64`] neither uses nor discards a pending upper half.
    #[inline(always)]
    pub fn next_u32(&mut self) -> u32 {
        if let Some(high) = self.spare.take() {
            return high;
        }
        let draw = self.next_u64();
        self.spare = Some((draw >> 32) as u32);
        draw as u32
    }

    /// A uniform `f32` in `[0, 1)` with 24 random bits, as NumPy's
    /// `Generator.random(dtype=np.float32)`.
    #[inline(always)]
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
    }

    /// A standard normal `f32`, as NumPy's
    /// `Generator.standard_normal(dtype=np.float32)`: a 256-layer ziggurat
    /// on 32-bit draws.
    pub fn standard_normal_f32(&mut self) -> f32 {
        self.normal_with(ziggurat())
    }

    /// Fills `out` with standard normal `f32`s, in order (the same values as
    /// calling [`Pcg64::standard_normal_f32`] once per element).
    pub fn fill_standard_normal_f32(&mut self, out: &mut [f32]) {
        let zig = ziggurat();
        for v in out {
            *v = self.normal_with(zig);
        }
    }

    #[inline(always)]
    fn normal_with(&mut self, zig: &Ziggurat) -> f32 {
        loop {
            // Bits 0..8 pick the layer, bit 8 the sign, bits 9..32 the
            // position within the layer.
            let r = self.next_u32();
            let layer = (r & 0xff) as usize;
            let position = r >> 9;
            // Negation as a flip of the sign bit, without a branch (the
            // sign is a coin toss, which a branch predictor cannot learn).
            let magnitude = position as f32 * zig.width[layer];
            let x = f32::from_bits(magnitude.to_bits() ^ ((r & 0x100) << 23));
            if position < zig.inner[layer] {
                return x;
            }
            if let Some(x) = self.normal_edge(zig, layer, position, x) {
                return x;
            }
        }
    }

    /// The rare draws outside a layer's inner rectangle: the tail beyond
    /// the last layer, or a point under the layer's edge that is kept if it
    /// falls under the density. `None` means start over.
    #[cold]
    #[inline(never)]
    fn normal_edge(&mut self, zig: &Ziggurat, layer: usize, position: u32, x: f32) -> Option<f32> {
        if layer == 0 {
            // Marsaglia's tail method: exponential proposals beyond r.
            loop {
                let xx = -TAIL_INV_R_F32 * log1p_f32(-self.next_f32());
                let yy = -log1p_f32(-self.next_f32());
                if yy + yy > xx * xx {
                    let v = TAIL_R_F32 + xx;
                    // The sign comes from bit 8 of the position.
                    return Some(if (position >> 8) & 1 != 0 { -v } else { v });
                }
            }
        }
        let u = self.next_f32();
        let below = (zig.density[layer - 1] - zig.density[layer]) * u + zig.density[layer];
        let xd = f64::from(x);
        // The density is evaluated in double precision.
        if f64::from(below) < libm::exp(-0.5 * xd * xd) {
            Some(x)
        } else {
            None
        }
    }
}

// ---------------------------------------------------------------------------
// Ziggurat tables
// ---------------------------------------------------------------------------

/// Layers of the normal ziggurat.
const LAYERS: usize = 256;
/// Where the tail begins: the right edge of the widest layer, chosen so
/// that the 256 regions (255 layers and the base strip with its tail) have
/// equal areas.
const TAIL_R: f64 = 3.654_152_885_361_009;
/// The common area of every region, for the density `exp(-x²/2)`.
const REGION_AREA: f64 = 0.004_928_673_233_974_652;
/// [`TAIL_R`] in single precision.
const TAIL_R_F32: f32 = TAIL_R as f32;
/// `1 / TAIL_R` in single precision.
const TAIL_INV_R_F32: f32 = 0.273_661_237_329_758_3_f64 as f32;
/// Positions are 23-bit integers: layer widths are scaled down by this.
const POSITION_SCALE: f64 = 8_388_608.0;

/// The single-precision ziggurat: for each layer, the position below which
/// a point is inside the layer's inner rectangle (`inner`), the width of
/// one position step (`width`), and the density at the layer's edge
/// (`density`).
struct Ziggurat {
    inner: [u32; LAYERS],
    width: [f32; LAYERS],
    density: [f32; LAYERS],
}

/// The unnormalized normal density.
fn density(x: f64) -> f64 {
    libm::exp(-0.5 * x * x)
}

impl Ziggurat {
    /// Builds the tables from the ziggurat's defining equations, in double
    /// precision, then rounds them as NumPy stores them (`f32` widths and
    /// densities, 23-bit integer thresholds rounded to nearest).
    ///
    /// The layer edges satisfy `x_{i-1} = f⁻¹(f(x_i) + A / x_i)` starting
    /// from the tail edge `r`: each layer `[0, x_i] × [f(x_i), f(x_{i-1})]`
    /// has the area `A` of the base strip plus tail. Edges are stored in
    /// increasing order, index 0 standing for the top (`x = 0`).
    fn build() -> Self {
        let mut edge = [0.0f64; LAYERS];
        edge[LAYERS - 1] = TAIL_R;
        for i in (1..LAYERS - 1).rev() {
            let above = edge[i + 1];
            edge[i] = libm::sqrt(-2.0 * libm::log(density(above) + REGION_AREA / above));
        }
        let mut inner = [0u32; LAYERS];
        let mut width = [0.0f32; LAYERS];
        let mut density_at = [0.0f32; LAYERS];
        for i in 0..LAYERS {
            width[i] = (edge[i] / POSITION_SCALE) as f32;
            density_at[i] = density(edge[i]) as f32;
            if i > 0 {
                inner[i] = (edge[i - 1] / edge[i] * POSITION_SCALE).round_ties_even() as u32;
            }
        }
        // The base strip: a rectangle of width A / f(r) whose part under
        // the density (up to r) is accepted at once; the rest is the tail.
        let f_r = density(TAIL_R);
        inner[0] = (TAIL_R * f_r / REGION_AREA * POSITION_SCALE).round_ties_even() as u32;
        width[0] = (REGION_AREA / f_r / POSITION_SCALE) as f32;
        Ziggurat {
            inner,
            width,
            density: density_at,
        }
    }
}

/// The tables, built on first use.
fn ziggurat() -> &'static Ziggurat {
    static TABLES: OnceLock<Ziggurat> = OnceLock::new();
    TABLES.get_or_init(Ziggurat::build)
}

// ---------------------------------------------------------------------------
// Single-precision log1p, for -1 < x <= 0
// ---------------------------------------------------------------------------

/// `ln 2` split in two: a high part with trailing zero bits (so `k * LN2_HI`
/// is exact for small `k`) and the remainder.
const LN2_HI: f32 = f32::from_bits(0x3f31_7180);
const LN2_LO: f32 = f32::from_bits(0x3717_f7d1);
/// Coefficients of the series `(ln((1+s)/(1-s)) - 2s) / s` in powers of
/// `s²`, as tuned for the fdlibm approximation.
const SERIES: [f32; 7] = [
    f32::from_bits(0x3f2a_aaab),
    f32::from_bits(0x3ecc_cccd),
    f32::from_bits(0x3e92_4925),
    f32::from_bits(0x3e63_8e29),
    f32::from_bits(0x3e3a_3325),
    f32::from_bits(0x3e1c_d04f),
    f32::from_bits(0x3e17_8897),
];

/// `ln(1 + x)` in single precision for `-1 < x <= 0`, rounded exactly as
/// the classic fdlibm single-precision `log1pf` rounds it (the C library
/// function NumPy's normal sampler calls for its tail, as shipped by the
/// GNU C library before its correctly rounded version). A correctly rounded
/// result differs from it in about 7% of the inputs used here, so the tail
/// draws need this exact evaluation order to match NumPy's bits.
fn log1p_f32(x: f32) -> f32 {
    debug_assert!(x > -1.0 && x <= 0.0);
    let magnitude = x.to_bits() & 0x7fff_ffff;
    if magnitude < 0x3100_0000 {
        // |x| < 2^-29.
        return if magnitude < 0x2480_0000 {
            x
        } else {
            x - x * x * 0.5
        };
    }
    // Write 1 + x = 2^k (1 + f) with sqrt(2)/2 <= 1 + f < sqrt(2); `c`
    // corrects for the rounding of 1 + x. Small |x| is used directly.
    let (k, f, c, f_is_tiny) = if magnitude <= 0x3e95_f61f {
        (0i32, x, 0.0f32, false)
    } else {
        let u = 1.0 + x;
        let bits = u.to_bits();
        let mut k = (bits >> 23) as i32 - 127;
        let c = (if k > 0 { 1.0 - (u - x) } else { x - (u - 1.0) }) / u;
        let mut mantissa = bits & 0x007f_ffff;
        let normalized = if mantissa < 0x0035_04f7 {
            f32::from_bits(mantissa | 0x3f80_0000)
        } else {
            k += 1;
            let half = f32::from_bits(mantissa | 0x3f00_0000);
            mantissa = (0x0080_0000 - mantissa) >> 2;
            half
        };
        (k, normalized - 1.0, c, mantissa == 0)
    };
    let kf = k as f32;
    let hfsq = 0.5 * f * f;
    if f_is_tiny {
        if f == 0.0 {
            return if k == 0 {
                0.0
            } else {
                kf * LN2_HI + (c + kf * LN2_LO)
            };
        }
        let r = hfsq * (1.0 - 0.666_666_7 * f);
        return if k == 0 {
            f - r
        } else {
            kf * LN2_HI - ((r - (kf * LN2_LO + c)) - f)
        };
    }
    let s = f / (2.0 + f);
    let z = s * s;
    let series = SERIES.iter().rev().fold(0.0f32, |acc, &p| z * (p + acc));
    if k == 0 {
        f - (hfsq - s * (hfsq + series))
    } else {
        kf * LN2_HI - ((hfsq - (s * (hfsq + series) + (kf * LN2_LO + c))) - f)
    }
}

// ---------------------------------------------------------------------------
// The benchmark recipe
// ---------------------------------------------------------------------------

/// The benchmarks' synthetic classification data, bit-identical to
///
/// ```python
/// rng = np.random.default_rng(seed)
/// x = rng.standard_normal((rows, features), dtype=np.float32)
/// w = rng.standard_normal((features, classes), dtype=np.float32)
/// y = np.argmax(x.astype(np.float64) @ w.astype(np.float64), axis=1)
/// ```
///
/// Returns `x` (`rows × features`, row-major) and `y` (one class index per
/// row, the first of equal maxima). The product is summed in f64 in a
/// different order from NumPy's BLAS; the labels agree unless two classes'
/// scores tie to within rounding, which the benchmark sets never do.
///
/// # Panics
///
/// If `classes` is 0 while `rows` is not (there is no class to pick).
pub fn synthetic_classification(
    rows: usize,
    features: usize,
    classes: usize,
    seed: u64,
) -> (Vec<f32>, Vec<usize>) {
    assert!(
        classes > 0 || rows == 0,
        "synthetic_classification: {rows} rows need at least one class"
    );
    let mut rng = Pcg64::new(seed);
    let mut x = vec![0.0f32; rows * features];
    rng.fill_standard_normal_f32(&mut x);
    let mut w = vec![0.0f32; features * classes];
    rng.fill_standard_normal_f32(&mut w);
    let w: Vec<f64> = w.into_iter().map(f64::from).collect();
    let labels = if features == 0 {
        vec![0; rows]
    } else {
        x.par_chunks(features)
            .map_init(
                || vec![0.0f64; classes],
                |scores, row| {
                    scores.fill(0.0);
                    for (&xk, wk) in row.iter().zip(w.chunks_exact(classes)) {
                        let xk = f64::from(xk);
                        for (s, &wkc) in scores.iter_mut().zip(wk) {
                            *s += xk * wkc;
                        }
                    }
                    first_argmax(scores)
                },
            )
            .collect()
    };
    (x, labels)
}

/// The index of the first largest value.
fn first_argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate().skip(1) {
        if v > values[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    //! Expected values were printed by NumPy 2.4 (`numpy.random`), except
    //! where a comment says otherwise.
    use super::*;

    /// FNV-1a (64-bit) of a byte stream: an exact, dependency-free checksum.
    fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
        bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }

    fn f32_checksum(values: &[f32]) -> u64 {
        fnv1a(values.iter().flat_map(|v| v.to_le_bytes()))
    }

    /// Labels hashed as the little-endian 64-bit integers NumPy stores.
    fn label_checksum(labels: &[usize]) -> u64 {
        fnv1a(labels.iter().flat_map(|&c| (c as u64).to_le_bytes()))
    }

    fn bits(values: &[f32]) -> Vec<u32> {
        values.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn seed_sequence_pools_match_numpy() {
        // np.random.SeedSequence(seed).pool
        let cases: [(u128, [u32; 4]); 7] = [
            (0, [0xfe40eb07, 0x4f363a36, 0x4eb2009d, 0xc89a7aa7]),
            (2, [0x18d6f08b, 0x329a72a5, 0xfa311e4e, 0xe1425d1c]),
            (1 << 32, [0xe0f3eff2, 0xdccd2c4e, 0x17f18c20, 0x9b8cb8db]),
            (
                (1 << 40) + 5,
                [0x9d1074f4, 0xcce4e184, 0xceb91484, 0xbbf9d350],
            ),
            (
                u128::from(u64::MAX),
                [0xfaf3ecf4, 0xfa0f8930, 0xe9f89a67, 0x0e23d1f9],
            ),
            (
                (1 << 100) + 7,
                [0x02e319a0, 0x6672a91f, 0xff9d6154, 0x4fb7e522],
            ),
            (
                (1 << 127) + (3 << 70) + 11,
                [0x1d5c7f55, 0x3a26ad02, 0x77ab9628, 0x173f4946],
            ),
        ];
        for (seed, pool) in cases {
            assert_eq!(SeedSequence::new(seed).pool(), pool, "seed {seed}");
        }
        // More entropy words than the pool holds:
        // np.random.SeedSequence(np.arange(1, 8, dtype=np.uint32)).pool
        assert_eq!(
            SeedSequence::from_words(&[1, 2, 3, 4, 5, 6, 7]).pool(),
            [0x805639a5, 0x634d9240, 0xcfe278af, 0x1c1f7132]
        );
    }

    #[test]
    fn seed_sequence_state_matches_numpy() {
        let seq = SeedSequence::new(2);
        // generate_state(8, np.uint32) and generate_state(4, np.uint64)
        assert_eq!(
            seq.generate_state_u32(8),
            [
                0xa8ed588b, 0x8c8ea222, 0x6ee114ca, 0x55aa58f3, 0xa1c415d2, 0x2dd7052b, 0x965c6df7,
                0xe8d687cf
            ]
        );
        assert_eq!(
            seq.generate_state_u64(4),
            [
                0x8c8ea222a8ed588b,
                0x55aa58f36ee114ca,
                0x2dd7052ba1c415d2,
                0xe8d687cf965c6df7
            ]
        );
    }

    #[test]
    fn pcg64_seeding_and_raw_draws_match_numpy() {
        let mut rng = Pcg64::new(2);
        // np.random.PCG64(2).state["state"]
        assert_eq!(
            rng.state(),
            (
                139_756_322_654_377_766_727_085_075_210_351_969_228,
                121_863_417_007_658_695_389_390_353_187_995_180_015
            )
        );
        // np.random.PCG64(2).random_raw(4)
        let raw: Vec<u64> = (0..4).map(|_| rng.next_u64()).collect();
        assert_eq!(
            raw,
            [
                0x42f90348d66b58c1,
                0x4c69ea631bfb7164,
                0xd071191f69efb11e,
                0x1787cd9d73866ffd
            ]
        );
        // np.random.PCG64(seed).random_raw()
        for (seed, first) in [
            (0u64, 0xa30febcfd9c2825f_u64),
            (1, 0x8306bdf37922e4ff),
            (1 << 32, 0xe3c5ebe285ac1625),
            ((1 << 40) + 5, 0x01369aef039fedeb),
            (u64::MAX, 0xae163a7a8c47568f),
        ] {
            assert_eq!(Pcg64::new(seed).next_u64(), first, "seed {seed}");
        }
    }

    #[test]
    fn next_u32_hands_out_the_low_half_then_the_high_half() {
        // default_rng(2).integers(0, 2**32, 6, dtype=np.uint64)
        let mut rng = Pcg64::new(2);
        let draws: Vec<u32> = (0..6).map(|_| rng.next_u32()).collect();
        assert_eq!(
            draws,
            [
                0xd66b58c1, 0x42f90348, 0x1bfb7164, 0x4c69ea63, 0x69efb11e, 0xd071191f
            ]
        );
    }

    #[test]
    fn next_f32_matches_numpy() {
        // default_rng(2).random(4, dtype=np.float32).view(np.uint32)
        let mut rng = Pcg64::new(2);
        let draws: Vec<f32> = (0..4).map(|_| rng.next_f32()).collect();
        assert_eq!(
            bits(&draws),
            [0x3f566b58, 0x3e85f206, 0x3ddfdb88, 0x3e98d3d4]
        );
    }

    #[test]
    fn first_normals_match_numpy() {
        // default_rng(2).standard_normal(8, dtype=np.float32).view(np.uint32)
        let mut rng = Pcg64::new(2);
        let normals: Vec<f32> = (0..8).map(|_| rng.standard_normal_f32()).collect();
        assert_eq!(
            bits(&normals),
            [
                0x3fda2e41, 0xbe9aa69d, 0xbe16d3f5, 0x3eccea06, 0xbeaa549d, 0xbf29bc4b, 0xbfbfc92c,
                0xbe23b13f
            ]
        );
        let mut filled = [0.0f32; 8];
        Pcg64::new(2).fill_standard_normal_f32(&mut filled);
        assert_eq!(bits(&filled), bits(&normals));
    }

    #[test]
    fn ziggurat_tables_match_numpys() {
        let zig = Ziggurat::build();
        // Checksum of NumPy's compiled `ki_float`, `wi_float` and
        // `fi_float` tables (read from its object file), in that order.
        let bytes = zig
            .inner
            .iter()
            .flat_map(|k| k.to_le_bytes())
            .chain(zig.width.iter().flat_map(|w| w.to_le_bytes()))
            .chain(zig.density.iter().flat_map(|f| f.to_le_bytes()))
            .collect::<Vec<u8>>();
        assert_eq!(fnv1a(bytes), 0x6b26_3d4e_f28c_7f70);
        // A few entries, for a readable failure.
        assert_eq!(
            (zig.inner[0], zig.inner[1], zig.inner[128], zig.inner[255]),
            (0x7799ec, 0, 0x7f6f68, 0x78d2d2)
        );
        assert_eq!(
            (
                zig.width[0].to_bits(),
                zig.width[128].to_bits(),
                zig.width[255].to_bits()
            ),
            (0x34fa49dc, 0x3444861b, 0x34e9dda4)
        );
        assert_eq!(
            (
                zig.density[0],
                zig.density[128].to_bits(),
                zig.density[255].to_bits()
            ),
            (1.0, 0x3e9d8a84, 0x3aa5302e)
        );
        // NumPy's single-precision tail constants.
        assert_eq!(TAIL_R_F32.to_bits(), 0x4069dda4);
        assert_eq!(TAIL_INV_R_F32.to_bits(), 0x3e8c1d53);
    }

    #[test]
    fn log1p_rounds_like_the_c_library_numpy_called() {
        // Expected values from glibc 2.36's log1pf. The first input is one
        // where it is not correctly rounded (that would be 0xba7ad6b7); the
        // second one where the musl-derived log1pf differs (0xbc6946e1).
        let at = |k: u32| log1p_f32(-(k as f32 / 16_777_216.0)).to_bits();
        assert_eq!(at(0x3eae), 0xba7ad6b6);
        assert_eq!(at(0x39e7f), 0xbc6946e2);
        assert_eq!(log1p_f32(0.0).to_bits(), 0);
        assert_eq!(log1p_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        // Every input the normal sampler can pass: -k / 2^24 for all 24-bit
        // k. Checksum of glibc 2.36's log1pf over the same inputs.
        let all = (0u32..1 << 24).flat_map(|k| {
            log1p_f32(-(k as f32 * (1.0 / 16_777_216.0)))
                .to_bits()
                .to_le_bytes()
        });
        assert_eq!(fnv1a(all), 0x8007_6d1a_16cd_68c7);
    }

    #[test]
    fn w2_data_is_bit_identical_to_numpys() {
        // gen_data.py's "w2": make(1797, 64, 10, seed=2).
        let (x, y) = synthetic_classification(1797, 64, 10, 2);
        assert_eq!((x.len(), y.len()), (1797 * 64, 1797));
        // Two of its 31 tail draws (|x| > r).
        assert_eq!(
            (x[2710].to_bits(), x[2828].to_bits()),
            (0xc077b0c5, 0x4081da6e)
        );
        assert_eq!(
            y[..20],
            [0, 1, 2, 5, 1, 6, 0, 8, 4, 9, 4, 0, 4, 4, 1, 0, 8, 7, 8, 2]
        );
        // Checksums of the data in w2_x.npy and w2_y.npy.
        assert_eq!(f32_checksum(&x), 0x2b0e_f9f9_b517_ee28);
        assert_eq!(label_checksum(&y), 0x287e_b715_27cd_262e);
    }

    #[test]
    #[ignore = "draws 47 million normals; run with --release --ignored"]
    fn w3_data_is_bit_identical_to_numpys() {
        // gen_data.py's "w3": make(60000, 784, 10, seed=3).
        let (x, y) = synthetic_classification(60_000, 784, 10, 3);
        // Checksums of the data in w3_x.npy and w3_y.npy.
        assert_eq!(f32_checksum(&x), 0x3b95_1e2e_0511_4dce);
        assert_eq!(label_checksum(&y), 0x0a52_f90a_54ad_bdab);
    }

    #[test]
    fn degenerate_shapes() {
        let (x, y) = synthetic_classification(0, 5, 3, 1);
        assert!(x.is_empty() && y.is_empty());
        let (x, y) = synthetic_classification(0, 5, 0, 1);
        assert!(x.is_empty() && y.is_empty());
        // No features: every score is 0 and the first class wins.
        let (x, y) = synthetic_classification(4, 0, 3, 1);
        assert!(x.is_empty());
        assert_eq!(y, [0, 0, 0, 0]);
        let (_, y) = synthetic_classification(4, 2, 1, 1);
        assert_eq!(y, [0, 0, 0, 0]);
    }

    #[test]
    #[should_panic(expected = "need at least one class")]
    fn rows_without_classes_panic() {
        synthetic_classification(2, 3, 0, 1);
    }

    #[test]
    fn argmax_takes_the_first_of_equal_maxima() {
        assert_eq!(first_argmax(&[1.0, 3.0, 3.0, 2.0]), 1);
        assert_eq!(first_argmax(&[0.0]), 0);
        assert_eq!(first_argmax(&[-1.0, -2.0]), 0);
    }
}
