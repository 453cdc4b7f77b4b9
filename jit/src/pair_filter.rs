//! Which pairs of key ids a two-column table may have a row for: one bit per hash of the
//! pair, set for every pair some row has. Native code tests a lookup's two keys against it
//! before it calls: `item_pairs[oc, code at d]` over a day's lines finds a row for few pairs,
//! though each key alone is in some row for many of them.
//!
//! A clear bit is exact (no row has the pair); a set bit may be another pair's (the call
//! then answers). At most one bit in sixteen is set, so at most about one call in sixteen is
//! wasted on a pair whose keys are each in some row.

/// The bits, and how to find a pair's bit (see [`PairFilter::place`]).
#[derive(Debug, Clone)]
pub struct PairFilter {
    bits: Vec<u8>,
    /// The hash's top `width` bits pick the bit: 64 - width is the shift.
    width: u32,
}

/// Multiplies the pair's word: its top bits mix both ids (Fibonacci hashing).
pub const MIX: u64 = 0x9E37_79B9_7F4A_7C15;

impl PairFilter {
    /// The filter of `pairs` (first key id, second key id).
    pub fn new(pairs: &[(u32, u32)]) -> PairFilter {
        // 16 bits a pair, at least 4,096 (half a kilobyte): a few kilobytes for a
        // catalogue's pairs table, and next to no false hits for a small one.
        let want = (pairs.len().saturating_mul(16)).max(4096);
        let width = want.next_power_of_two().trailing_zeros();
        let mut filter = PairFilter {
            bits: vec![0; 1 << (width - 3)],
            width,
        };
        for &(k1, k2) in pairs {
            let at = filter.place(k1 as u64, k2 as u64);
            if let Some(byte) = filter.bits.get_mut(at >> 3) {
                *byte |= 1 << (at & 7);
            }
        }
        filter
    }

    /// The bit of a pair, as native code computes it from the two key words: the top
    /// `width` bits of `(k1 << 32 | k2) * MIX`. Key ids fit in 32 bits, so two pairs of ids
    /// share a word only if they are the same pair.
    pub fn place(&self, k1: u64, k2: u64) -> usize {
        ((k1 << 32 | k2).wrapping_mul(MIX) >> self.shift()) as usize
    }

    /// Whether some row may have the pair (false: certainly none).
    pub fn may_have(&self, k1: u32, k2: u32) -> bool {
        let at = self.place(k1 as u64, k2 as u64);
        self.bits
            .get(at >> 3)
            .is_some_and(|b| b >> (at & 7) & 1 == 1)
    }

    /// The right shift that leaves the hash's top `width` bits (between 6 and 63).
    pub fn shift(&self) -> u32 {
        64 - self.width
    }

    /// Where the bits are (they must outlive native code that reads them).
    pub fn address(&self) -> usize {
        self.bits.as_ptr() as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pair_it_was_built_from_may_be_there_and_most_others_are_not() {
        let pairs: Vec<(u32, u32)> = (1..400).map(|i| (i, (i * 7919) % 1000 + 1)).collect();
        let filter = PairFilter::new(&pairs);
        assert!(pairs.iter().all(|&(a, b)| filter.may_have(a, b)));
        // Swapped pairs and neighbours are other pairs: few of them pass.
        let others: Vec<(u32, u32)> = pairs
            .iter()
            .flat_map(|&(a, b)| [(b, a), (a, b + 1), (a + 1, b)])
            .filter(|p| !pairs.contains(p))
            .collect();
        let passed = others
            .iter()
            .filter(|&&(a, b)| filter.may_have(a, b))
            .count();
        assert!(
            passed * 5 < others.len(),
            "{passed} of {} passed",
            others.len()
        );
    }

    #[test]
    fn an_empty_table_has_no_pair() {
        let filter = PairFilter::new(&[]);
        assert!(!(0..100).any(|k| filter.may_have(k, k + 1)));
        assert_eq!(filter.shift(), 52);
    }
}
