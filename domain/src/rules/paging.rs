//! Pagination bounds for every list: a client gets a bounded page whatever it asks for.

/// Items per page when the client does not say.
pub const DEFAULT_LIMIT: u32 = 50;
/// The most items one page may hold.
pub const MAX_LIMIT: u32 = 500;

/// The page size to use: the default when absent, at least 1, at most `MAX_LIMIT`.
pub fn clamp_limit(requested: Option<u32>) -> u32 {
    requested.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
}

/// The offset to read from: 0 when absent, and never beyond what the database can bind (i64).
pub fn clamp_offset(requested: Option<u64>) -> u64 {
    requested.unwrap_or(0).min(i64::MAX as u64)
}

/// The offset of the next page, or `None` when this page reached the end.
pub fn next_offset(offset: u64, returned: usize, total: u64) -> Option<u64> {
    let next = offset.saturating_add(returned as u64);
    (returned > 0 && next < total).then_some(next)
}

#[cfg(test)]
mod offset_tests {
    use super::*;

    #[test]
    fn huge_offsets_are_clamped_and_never_overflow() {
        assert_eq!(clamp_offset(None), 0);
        assert_eq!(clamp_offset(Some(u64::MAX)), i64::MAX as u64);
        assert_eq!(next_offset(u64::MAX - 1, 5, u64::MAX), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_bounded() {
        assert_eq!(clamp_limit(None), 50);
        assert_eq!(clamp_limit(Some(0)), 1);
        assert_eq!(clamp_limit(Some(20)), 20);
        assert_eq!(clamp_limit(Some(10_000)), 500);
    }

    #[test]
    fn next_page() {
        assert_eq!(next_offset(0, 50, 120), Some(50));
        assert_eq!(next_offset(100, 20, 120), None);
        assert_eq!(next_offset(500, 0, 120), None);
    }
}
