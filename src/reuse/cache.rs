//! A bounded store of settled per-bucket answers, one per datasource. Each
//! entry is one bucketed question (its query text at a canonical range) and
//! holds, per bucket start, every group's value, an empty list for a bucket
//! with no records. Least recently used entries are dropped first when the
//! store holds more than its cap.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use crate::plan::{Key, Value};

/// One bucket's answer: each group's value. A group's key is shared by
/// every bucket it is in (a ranking's keys recur in every hour: one copy
/// each instead of one per bucket).
pub type Bucket = Arc<[(Arc<Key>, Value)]>;

/// The store.
#[derive(Debug)]
pub struct BucketCache {
    cap: usize,
    inner: Mutex<Store>,
}

#[derive(Debug, Default)]
struct Store {
    entries: HashMap<String, Entry>,
    bytes: usize,
    clock: u64,
}

#[derive(Debug, Default)]
struct Entry {
    buckets: BTreeMap<i64, Bucket>,
    bytes: usize,
    used: u64,
}

/// About how much memory a bucket holds.
fn size(bucket: &[(Arc<Key>, Value)]) -> usize {
    64 + bucket.iter().map(|(key, _)| 32 + key.iter().map(|k| 24 + k.len()).sum::<usize>()).sum::<usize>()
}

impl BucketCache {
    /// A store of at most about `cap` bytes.
    pub fn new(cap: usize) -> Self {
        Self { cap, inner: Mutex::default() }
    }

    /// The cached buckets of a question that start in `[from, to)`.
    pub fn get(&self, id: &str, from: i64, to: i64) -> BTreeMap<i64, Bucket> {
        let mut store = self.inner.lock().expect("cache lock");
        store.clock += 1;
        let clock = store.clock;
        let Some(entry) = store.entries.get_mut(id) else { return BTreeMap::new() };
        entry.used = clock;
        entry.buckets.range(from..to).map(|(s, b)| (*s, b.clone())).collect()
    }

    /// Keeps settled buckets of a question, then drops the least recently
    /// used questions while the store is over its cap (a question bigger
    /// than the cap is not kept).
    pub fn put(&self, id: &str, buckets: impl IntoIterator<Item = (i64, Bucket)>) {
        let mut store = self.inner.lock().expect("cache lock");
        store.clock += 1;
        let clock = store.clock;
        let mut added = 0;
        let entry = store.entries.entry(id.to_string()).or_default();
        entry.used = clock;
        for (start, bucket) in buckets {
            let bytes = size(&bucket);
            if let Some(old) = entry.buckets.insert(start, bucket) {
                added -= size(&old) as isize;
            }
            added += bytes as isize;
        }
        entry.bytes = entry.bytes.saturating_add_signed(added);
        store.bytes = store.bytes.saturating_add_signed(added);
        if store.entries[id].bytes > self.cap {
            let dropped = store.entries.remove(id).map_or(0, |e| e.bytes);
            store.bytes -= dropped;
        }
        while store.bytes > self.cap {
            let Some(oldest) = store.entries.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| k.clone()) else {
                break;
            };
            let dropped = store.entries.remove(&oldest).map_or(0, |e| e.bytes);
            store.bytes -= dropped;
        }
    }

    /// Bytes held, about.
    pub fn bytes(&self) -> usize {
        self.inner.lock().expect("cache lock").bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(keys: &[&str]) -> Bucket {
        keys.iter().map(|k| (Arc::new(vec![k.to_string()]), 1)).collect::<Vec<_>>().into()
    }

    #[test]
    fn keeps_and_returns_buckets_in_a_range() {
        let cache = BucketCache::new(1 << 20);
        cache.put("q", [(0, bucket(&["a"])), (10, bucket(&[])), (20, bucket(&["a", "b"]))]);
        let got = cache.get("q", 0, 20);
        assert_eq!(got.keys().copied().collect::<Vec<_>>(), vec![0, 10]);
        assert!(got[&10].is_empty(), "an empty bucket is kept as known empty");
        assert!(cache.get("other", 0, 100).is_empty());
        // Replacing a bucket does not count it twice.
        let before = cache.bytes();
        cache.put("q", [(20, bucket(&["a", "b"]))]);
        assert_eq!(cache.bytes(), before);
    }

    #[test]
    fn drops_the_least_recently_used_question_over_the_cap() {
        let one = size(&bucket(&["a"]));
        let cache = BucketCache::new(2 * one);
        cache.put("old", [(0, bucket(&["a"]))]);
        cache.put("new", [(0, bucket(&["a"]))]);
        assert!(!cache.get("old", 0, 1).is_empty(), "old is now the most recently used");
        cache.put("third", [(0, bucket(&["a"]))]);
        assert!(cache.get("new", 0, 1).is_empty(), "new was the least recently used");
        assert!(!cache.get("old", 0, 1).is_empty());
        assert!(cache.bytes() <= 2 * one);
        // Bigger than the whole cap: not kept, and nothing else dropped for it.
        cache.put("huge", (0..10).map(|s| (s, bucket(&["a"]))));
        assert!(cache.get("huge", 0, 10).is_empty());
        assert!(!cache.get("old", 0, 1).is_empty());
        assert!(cache.bytes() <= 2 * one);
    }
}
