//! A median of day gaps in bounded memory: a histogram of whole days, so a shop's million
//! customers (or a product's buyers) are counted in a fixed 29 KB whatever their number.

/// Gaps longer than this count as this long: ten years is "never" for every rule here, and the
/// clamp keeps the histogram small. A median is exact as long as it lies below the clamp.
pub const MAX_GAP_DAYS: u32 = 3650;

const BUCKETS: usize = MAX_GAP_DAYS as usize + 1;

/// How many gaps of each length (0..=[`MAX_GAP_DAYS`] days) were seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapHistogram {
    counts: Vec<u64>,
    total: u64,
}

impl Default for GapHistogram {
    fn default() -> Self {
        Self {
            counts: vec![0; BUCKETS],
            total: 0,
        }
    }
}

impl GapHistogram {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one gap of `days` (longer ones are clamped to [`MAX_GAP_DAYS`]).
    pub fn add(&mut self, days: u32) {
        let bucket = days.min(MAX_GAP_DAYS) as usize;
        if let Some(count) = self.counts.get_mut(bucket) {
            *count += 1;
            self.total += 1;
        }
    }

    /// Adds everything `other` counted (to merge partial runs).
    pub fn merge(&mut self, other: &GapHistogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
    }

    /// How many gaps were counted.
    pub fn len(&self) -> u64 {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The median gap in days (the mean of the two middle gaps when their number is even, so it
    /// may end in `.5`); `None` before any gap.
    pub fn median(&self) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        // 0-based ranks of the two middle gaps (the same rank when the number is odd).
        let lower = (self.total - 1) / 2;
        let upper = self.total / 2;
        let (mut low_value, mut seen) = (None, 0u64);
        for (days, count) in (0u32..).zip(&self.counts) {
            seen += count;
            if low_value.is_none() && seen > lower {
                low_value = Some(days);
            }
            if seen > upper {
                return low_value.map(|low| (f64::from(low) + f64::from(days)) / 2.0);
            }
        }
        None
    }
}

/// The median of a few values (sorted here), `None` when there are none.
pub(super) fn median_of(values: &mut [u32]) -> Option<f64> {
    values.sort_unstable();
    let n = values.len();
    let low = values.get(n.checked_sub(1)? / 2)?;
    let high = values.get(n / 2)?;
    Some((f64::from(*low) + f64::from(*high)) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(gaps: &[u32]) -> GapHistogram {
        let mut h = GapHistogram::new();
        for g in gaps {
            h.add(*g);
        }
        h
    }

    #[test]
    fn an_empty_histogram_has_no_median() {
        assert_eq!(GapHistogram::new().median(), None);
        assert!(GapHistogram::new().is_empty());
    }

    #[test]
    fn the_median_of_an_odd_count_is_the_middle_gap() {
        assert_eq!(histogram(&[30, 10, 20]).median(), Some(20.0));
        assert_eq!(histogram(&[7]).median(), Some(7.0));
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(histogram(&[10, 40, 20, 30]).median(), Some(25.0));
        assert_eq!(histogram(&[10, 11]).median(), Some(10.5));
        assert_eq!(histogram(&[0, 0]).median(), Some(0.0));
    }

    #[test]
    fn gaps_beyond_ten_years_are_clamped() {
        let h = histogram(&[5000, 9000, 4000]);
        assert_eq!(h.median(), Some(f64::from(MAX_GAP_DAYS)));
        assert_eq!(h.len(), 3);
    }

    #[test]
    fn merged_histograms_give_the_median_of_all_gaps() {
        let mut a = histogram(&[1, 2, 3]);
        a.merge(&histogram(&[100, 200]));
        assert_eq!(a.median(), Some(3.0));
        assert_eq!(a.len(), 5);
    }

    #[test]
    fn the_median_of_a_slice_agrees_with_the_histogram() {
        assert_eq!(median_of(&mut []), None);
        assert_eq!(median_of(&mut [9, 1, 5]), Some(5.0));
        assert_eq!(median_of(&mut [9, 1, 5, 2]), Some(3.5));
    }
}
