//! Emulation of Java `HashMap` iteration order.
//!
//! IoTDB 1.0 expands wildcards and lists children in the iteration order of Java hash
//! maps keyed by node name; clients observe that order (column order, template nodes,
//! SHOW DATABASES). [`JavaHashMap`] stores entries in insertion order and iterates them
//! in the order Java would.

/// Java's `String.hashCode` over UTF-16 code units.
pub fn java_string_hash(s: &str) -> i32 {
    let mut h: i32 = 0;
    for unit in s.encode_utf16() {
        h = h.wrapping_mul(31).wrapping_add(unit as i32);
    }
    h
}

fn bucket(key: &str, cap: usize) -> usize {
    let h = java_string_hash(key) as u32;
    ((h ^ (h >> 16)) as usize) & (cap - 1)
}

/// Sorts `keys` (given in insertion order) into Java `HashMap` iteration order for a
/// table of capacity `cap` (a power of two).
pub fn java_order<'a>(keys: impl IntoIterator<Item = &'a str>, cap: usize) -> Vec<&'a str> {
    let mut v: Vec<&str> = keys.into_iter().collect();
    v.sort_by_key(|k| bucket(k, cap));
    v
}

/// A map that iterates like a Java `HashMap<String, V>` that saw the same insertions
/// and removals (capacity grows at 0.75 load and never shrinks, as in Java).
#[derive(Debug, Clone)]
pub struct JavaHashMap<V> {
    entries: Vec<(String, V)>,
    index: std::collections::HashMap<String, usize>,
    cap: usize,
}

impl<V> Default for JavaHashMap<V> {
    fn default() -> Self {
        JavaHashMap {
            entries: Vec::new(),
            index: std::collections::HashMap::new(),
            cap: 16,
        }
    }
}

impl<V> JavaHashMap<V> {
    /// An empty map of capacity 16.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value for `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.index.get(key).map(|&i| &self.entries[i].1)
    }

    /// The value for `key`, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        match self.index.get(key) {
            Some(&i) => Some(&mut self.entries[i].1),
            None => None,
        }
    }

    /// True if `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    /// Inserts or replaces; a replaced key keeps its position (as in Java).
    pub fn insert(&mut self, key: String, value: V) -> Option<V> {
        if let Some(&i) = self.index.get(&key) {
            return Some(std::mem::replace(&mut self.entries[i].1, value));
        }
        self.index.insert(key.clone(), self.entries.len());
        self.entries.push((key, value));
        while self.entries.len() as f64 > self.cap as f64 * 0.75 {
            self.cap *= 2;
        }
        None
    }

    /// Returns the value for `key`, inserting `make()` first if absent.
    pub fn get_or_insert_with(&mut self, key: &str, make: impl FnOnce() -> V) -> &mut V {
        if !self.index.contains_key(key) {
            self.insert(key.to_string(), make());
        }
        let i = self.index[key];
        &mut self.entries[i].1
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let i = self.index.remove(key)?;
        let (_, v) = self.entries.remove(i);
        for (_, idx) in self.index.iter_mut() {
            if *idx > i {
                *idx -= 1;
            }
        }
        Some(v)
    }

    /// Entries in Java iteration order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        let mut order: Vec<usize> = (0..self.entries.len()).collect();
        order.sort_by_key(|&i| bucket(&self.entries[i].0, self.cap));
        order
            .into_iter()
            .map(move |i| (&self.entries[i].0, &self.entries[i].1))
    }

    /// Keys in Java iteration order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.iter().map(|(k, _)| k)
    }

    /// Values in Java iteration order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }

    /// Mutable values in insertion order.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    /// Entries in insertion order (for persistence).
    pub fn insertion_order(&self) -> impl Iterator<Item = (&String, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(keys: &[&str]) -> Vec<String> {
        let mut m = JavaHashMap::new();
        for k in keys {
            m.insert(k.to_string(), ());
        }
        m.keys().cloned().collect()
    }

    #[test]
    fn matches_documented_orders() {
        assert_eq!(order(&["s1", "s2", "s3"]), ["s3", "s1", "s2"]);
        assert_eq!(
            order(&["s0", "s1", "s2", "s3", "s4"]),
            ["s3", "s4", "s0", "s1", "s2"]
        );
        assert_eq!(
            order(&["s_01", "s_02", "s_03", "s_04", "s_05", "s_06"]),
            ["s_05", "s_04", "s_06", "s_01", "s_03", "s_02"]
        );
        assert_eq!(order(&["status", "temperature"]), ["temperature", "status"]);
        assert_eq!(order(&["wf01", "wf02"]), ["wf02", "wf01"]);
        assert_eq!(
            order(&["root.cursor", "root.cursor_s1"]),
            ["root.cursor_s1", "root.cursor"]
        );
        assert_eq!(
            order(&[
                "temperature",
                "windspeed",
                "angle",
                "altitude",
                "status",
                "hardware"
            ]),
            [
                "altitude",
                "temperature",
                "windspeed",
                "angle",
                "status",
                "hardware"
            ]
        );
    }

    #[test]
    fn remove_keeps_the_rest_in_order() {
        let mut m = JavaHashMap::new();
        for k in ["s1", "s2", "s3"] {
            m.insert(k.to_string(), k.len());
        }
        m.remove("s1");
        assert_eq!(m.keys().cloned().collect::<Vec<_>>(), ["s3", "s2"]);
        assert_eq!(m.get("s2"), Some(&2));
    }
}
