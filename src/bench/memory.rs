//! The process's peak resident memory: Linux's `VmHWM`, which writing `5`
//! to `/proc/self/clear_refs` resets to the current resident size, so each
//! workload's peak can be taken on its own. Elsewhere there is no figure.

/// Resets the peak resident memory to the current resident size. `Some(true)`
/// when it was reset, `Some(false)` when the kernel refused (the peak then
/// covers everything since the process started), `None` where there is no
/// such counter (not Linux).
pub fn reset_peak_rss() -> Option<bool> {
    if cfg!(target_os = "linux") {
        Some(std::fs::write("/proc/self/clear_refs", "5").is_ok())
    } else {
        None
    }
}

/// The peak resident memory in bytes since the process started or the
/// last successful [`reset_peak_rss`]; `None` when it cannot be read.
pub fn peak_rss_bytes() -> Option<u64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status_field_bytes(&status, "VmHWM")
}

/// A `Name:   1234 kB` line of `/proc/self/status`, in bytes.
fn status_field_bytes(status: &str, name: &str) -> Option<u64> {
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))?;
    let mut words = line.split_whitespace();
    let value: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => Some(value * 1024),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_status_line() {
        let status = "Name:\tx\nVmPeak:\t 9 kB\nVmHWM:\t    1624 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(status_field_bytes(status, "VmHWM"), Some(1624 * 1024));
        assert_eq!(status_field_bytes(status, "VmSwap"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_peak_is_read_and_covers_what_is_resident() {
        // Every page written, so all 32 MiB are resident.
        let mut held = vec![0u8; 32 << 20];
        for i in (0..held.len()).step_by(4096) {
            held[i] = 1;
        }
        std::hint::black_box(&held);
        let peak = peak_rss_bytes().expect("Linux has VmHWM");
        assert!(peak >= 32 << 20, "{peak}");
    }
}
