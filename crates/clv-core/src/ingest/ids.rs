//! Customer ids: one text arena instead of a heap allocation per id, and an
//! interner over it.
//!
//! Why: a 10M-row file has about a million distinct ids; boxing each one cost
//! more than parsing the rows they came from (measured: 0.28 s of a 0.6 s
//! ingest), and a table of `u32` indices into one arena is a quarter of the
//! size of a map of boxed strings.

use hashbrown::HashTable;
use rustc_hash::FxHasher;
use std::hash::Hasher;

/// Ids in order, stored back to back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdList {
    text: String,
    /// `ends[i]` is where id `i` ends in `text`; it starts where `i − 1` ends.
    ends: Vec<usize>,
}

impl IdList {
    /// Number of ids.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// No ids.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Id `i` (0-based, in the order pushed), byte-exact. Panics when
    /// `i >= len()`.
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    /// The id pushed last; `None` when empty.
    pub fn last(&self) -> Option<&str> {
        self.len().checked_sub(1).map(|i| self.get(i))
    }

    /// Append `id` as the next index. Duplicates are not checked: an id pushed twice
    /// has two indices.
    pub fn push(&mut self, id: &str) {
        self.text.push_str(id);
        self.ends.push(self.text.len());
    }

    /// The ids in index order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + Clone + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

fn hash(id: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(id);
    h.finish()
}

/// Assigns each distinct id (or any other text value) an index, in order of
/// first appearance.
#[derive(Debug, Default)]
pub struct Interner {
    list: IdList,
    /// One [`Entry`] per id: growing the table reads only the table, never
    /// the ids or a side list of hashes (a million ids grow it twenty times).
    table: HashTable<Entry>,
}

/// (index, 32 bits of the id's hash, [`inline_key`]). A short id is found
/// from the table alone: comparing against the arena cost two cache misses
/// per lookup (its end offsets, then its text), a third of a time-ordered
/// file's ingest, where every row looks up a customer seen days before.
type Entry = (u32, u32, u64);

/// An id of up to 7 bytes, whole, with its length in the top byte (so it is
/// the id); a longer one's first 7 bytes under 0xFF, which no short id has —
/// a filter in front of the comparison with the arena.
fn inline_key(id: &[u8]) -> u64 {
    let n = id.len().min(7);
    let mut bytes = [0u8; 8];
    bytes[..n].copy_from_slice(&id[..n]);
    bytes[7] = if id.len() <= 7 { id.len() as u8 } else { 0xFF };
    u64::from_le_bytes(bytes)
}

/// The table's hash, rebuilt from the 32 bits it keeps: hashbrown takes
/// buckets from the low bits and its tag from the top seven.
fn table_hash(h32: u32) -> u64 {
    u64::from(h32) << 32 | u64::from(h32)
}

impl Interner {
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// The index of `id`, adding it if it is new.
    pub fn intern(&mut self, id: &str) -> u32 {
        // Both halves folded: FxHash's good bits are its top ones, and on
        // wasm32 its hash has only 32 (the top half is zero there).
        let h = hash(id.as_bytes());
        let h32 = (h ^ (h >> 32)) as u32;
        let key = inline_key(id.as_bytes());
        let short = id.len() <= 7;
        let Interner { list, table } = self;
        let same = |&(i, h, k): &Entry| h == h32 && k == key && (short || list.get(i as usize) == id);
        if let Some(&(i, _, _)) = table.find(table_hash(h32), same) {
            return i;
        }
        let i = list.len() as u32;
        list.push(id);
        table.insert_unique(table_hash(h32), (i, h32, key), |&(_, h, _)| table_hash(h));
        i
    }

    pub fn ids(&self) -> &IdList {
        &self.list
    }

    pub fn into_ids(self) -> IdList {
        self.list
    }
}

/// An id that stands for "no customer" (guest checkouts, database nulls):
/// `NULL`, `-`, `N/A`, `none`, empty… Kept as an id it would make all
/// guests one customer with hundreds of repeat purchases.
pub fn is_placeholder_id(id: &str) -> bool {
    let t = id.trim();
    // Real ids are nearly always longer or start with a digit: decided
    // without allocating.
    if t.len() > 9 || t.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    // Compared without lower-casing into a new string: that was an
    // allocation per run of a customer, i.e. per row of a time-ordered file.
    PLACEHOLDER_IDS.iter().any(|p| t.eq_ignore_ascii_case(p))
}

/// What [`is_placeholder_id`] reads as "no customer", in lower case.
pub(crate) const PLACEHOLDER_IDS: [&str; 13] =
    ["", "null", "(null)", "none", "nil", "na", "n/a", "#n/a", "nan", "-", "--", "undefined", "unknown"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_seen_order_and_byte_exact_ids() {
        let mut t = Interner::default();
        let got: Vec<u32> = ["b", "a", "b", "", "a ", "a", "é"].iter().map(|s| t.intern(s)).collect();
        assert_eq!(got, vec![0, 1, 0, 2, 3, 1, 4]);
        let ids: Vec<&str> = t.ids().iter().collect();
        assert_eq!(ids, vec!["b", "a", "", "a ", "é"]);
    }

    /// Ids around the inline length, and ids that share their first seven
    /// bytes or would share a zero-padded key, stay apart.
    #[test]
    fn short_and_long_ids_stay_apart() {
        let ids = ["abcdefg", "abcdefgh", "abcdefgi", "abc", "abc\0", "abc\0\0\0\0", "abcdefg\u{7}", "", "\0"];
        let mut t = Interner::default();
        let first: Vec<u32> = ids.iter().map(|s| t.intern(s)).collect();
        assert_eq!(first, (0..ids.len() as u32).collect::<Vec<_>>());
        let again: Vec<u32> = ids.iter().rev().map(|s| t.intern(s)).collect();
        assert_eq!(again, (0..ids.len() as u32).rev().collect::<Vec<_>>());
    }

    #[test]
    fn placeholders_in_any_case_and_padding() {
        for id in ["NULL", " null ", "(Null)", "N/A", "#n/a", "NaN", "-", "Unknown", "", "  "] {
            assert!(is_placeholder_id(id), "{id:?}");
        }
        for id in ["0", "nullify", "c229", "n/a2", "—", "NA1", "unknown customer"] {
            assert!(!is_placeholder_id(id), "{id:?}");
        }
    }

    #[test]
    fn survives_growth() {
        let mut t = Interner::default();
        for i in 0..10_000 {
            assert_eq!(t.intern(&format!("c{i}")), i);
        }
        for i in (0..10_000).rev() {
            assert_eq!(t.intern(&format!("c{i}")), i);
        }
        assert_eq!(t.ids().get(9_999), "c9999");
    }
}
