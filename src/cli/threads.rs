//! `--threads`, which `nabla train` and `nabla bench` share: the size of
//! rayon's global pool, which the matrix products run on.

use clap::Args as ClapArgs;

use super::Error;

/// How many threads the computation may use.
#[derive(ClapArgs, Clone, Debug, Default)]
pub struct ThreadFlags {
    /// Threads for the matrix products (default: RAYON_NUM_THREADS if set
    /// to a positive number, else every core).
    #[arg(long)]
    pub threads: Option<usize>,
}

impl ThreadFlags {
    /// The thread count: `--threads`, else `RAYON_NUM_THREADS` (when a
    /// positive whole number, as rayon reads it), else the cores available.
    pub fn count(&self) -> Result<usize, Error> {
        match self.threads {
            Some(0) => Err(Error::Usage("--threads must be at least 1".into())),
            Some(n) => Ok(n),
            None => Ok(std::env::var("RAYON_NUM_THREADS")
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|&n| n > 0)
                .unwrap_or_else(|| {
                    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
                })),
        }
    }

    /// Builds rayon's global pool with [`ThreadFlags::count`] threads and
    /// returns the pool's size. Call it before any parallel work: once the
    /// pool exists its size is fixed, and a different count is an error.
    pub fn apply(&self) -> Result<usize, Error> {
        let wanted = self.count()?;
        let built = rayon::ThreadPoolBuilder::new()
            .num_threads(wanted)
            .build_global();
        let actual = rayon::current_num_threads();
        match built {
            Err(e) if actual != wanted => Err(Error::Failed(format!(
                "cannot make a pool of {wanted} threads: {e} (it already has {actual})"
            ))),
            _ => Ok(actual),
        }
    }
}
