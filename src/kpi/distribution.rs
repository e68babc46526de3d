//! Medians and 90th percentiles beside the averages. Percentiles interpolate linearly between
//! the two nearest ranks, as a spreadsheet's MEDIAN and PERCENTILE.INC (and numpy's default)
//! do, so a figure pasted beside the raw times checks out: the median of 1, 2, 3 and 4 hours
//! is 2.5 hours.

use serde::{Deserialize, Serialize};

/// A set of durations (seconds on each ticket's own clock) summarised.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// Tickets measured.
    pub count: u64,
    pub mean_seconds: Option<f64>,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
}

impl Distribution {
    /// Summarises `values` (reordered in place, not sorted: a year's times are a million, and
    /// selecting the ranks is linear where sorting is not).
    pub fn of(values: &mut [i64]) -> Distribution {
        let sum: i128 = values.iter().map(|&v| i128::from(v)).sum();
        Distribution {
            count: values.len() as u64,
            mean_seconds: (!values.is_empty()).then(|| sum as f64 / values.len() as f64),
            median_seconds: quantile(values, 0.5),
            p90_seconds: quantile(values, 0.9),
        }
    }
}

/// The `p` quantile (0 to 1) of `values` in any order, interpolated between the nearest ranks as a spreadsheet's PERCENTILE.INC; reorders
/// them (`select_nth_unstable`), in linear time.
pub fn quantile(values: &mut [i64], p: f64) -> Option<f64> {
    let last = values.len().checked_sub(1)?;
    let rank = p.clamp(0.0, 1.0) * last as f64;
    let (low, high) = (rank.floor() as usize, (rank.ceil() as usize).min(last));
    let (_, &mut a, above) = values.select_nth_unstable(low);
    // Everything after the low rank is at least as large: its least is the next rank's value.
    let b = if high > low { above.iter().copied().min().unwrap_or(a) } else { a };
    let (a, b) = (a as f64, b as f64);
    Some(a + (b - a) * (rank - low as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `p` quantile (0 to 1) of sorted `values`, interpolated between the nearest ranks.
    /// (The oracle `quantile` is checked against.)
    fn percentile(sorted: &[i64], p: f64) -> Option<f64> {
        let last = sorted.len().checked_sub(1)?;
        let rank = p.clamp(0.0, 1.0) * last as f64;
        let (low, high) = (rank.floor() as usize, (rank.ceil() as usize).min(last));
        let (a, b) = (sorted[low] as f64, sorted[high] as f64);
        Some(a + (b - a) * (rank - low as f64))
    }

    #[test]
    fn median_and_p90_match_a_spreadsheet() {
        // MEDIAN(1,2,3,4) = 2.5; PERCENTILE.INC({1..10}, 0.9) = 9.1.
        let d = Distribution::of(&mut [4, 2, 3, 1]);
        assert_eq!((d.count, d.median_seconds, d.mean_seconds), (4, Some(2.5), Some(2.5)));
        let d = Distribution::of(&mut (1..=10).rev().collect::<Vec<i64>>());
        assert!((d.p90_seconds.unwrap_or_default() - 9.1).abs() < 1e-9);
        assert_eq!(d.median_seconds, Some(5.5));
        let one = Distribution::of(&mut [7]);
        assert_eq!((one.median_seconds, one.p90_seconds), (Some(7.0), Some(7.0)));
        assert_eq!(Distribution::of(&mut []), Distribution::default());
        assert_eq!(percentile(&[1, 2, 3], 0.5), Some(2.0));
    }

    #[test]
    fn quantile_unsorted_is_percentile_sorted() {
        let mut rng = 0x5EEDu64;
        for len in [1usize, 2, 3, 4, 5, 10, 11, 101, 1000] {
            let values: Vec<i64> = (0..len)
                .map(|_| {
                    rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    (rng >> 40) as i64 % 500 - 100
                })
                .collect();
            let mut sorted = values.clone();
            sorted.sort_unstable();
            for p in [0.0, 0.1, 0.5, 0.9, 0.95, 1.0] {
                assert_eq!(quantile(&mut values.clone(), p), percentile(&sorted, p), "{len} values, p {p}");
            }
        }
        assert_eq!(quantile(&mut [], 0.5), None);
    }
}
