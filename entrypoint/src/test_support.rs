//! Helpers shared by the unit tests of several modules.

use std::collections::HashMap;

/// An environment lookup over fixed pairs, so tests never touch the process environment
/// (which other tests share).
pub(crate) fn vars<V: AsRef<str>>(pairs: &[(&str, V)]) -> impl Fn(&str) -> Option<String> + use<V> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_ref().to_string()))
        .collect();
    move |k| map.get(k).cloned()
}
