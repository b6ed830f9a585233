//! The answer when no store holds a profile (`not-found`, exit 3): which stores were searched,
//! which could not be, the profiles they do hold, and the nearest of those names ("did you
//! mean"), so that a typo is not reported as a keyring problem.

use super::Vault;
use crate::error::Error;
use crate::settings::StoreKind;

impl Vault {
    /// `not-found` for `profile` after `searched` answered "not here" and `skipped` could not
    /// be searched. The known profiles come from the searched stores that need no network.
    pub(super) fn not_found(
        &self,
        profile: &str,
        searched: &[StoreKind],
        skipped: &[StoreKind],
    ) -> Error {
        let mut known: Vec<String> = Vec::new();
        for store in self.stores.iter().filter(|s| searched.contains(&s.kind()) && !s.remote()) {
            if let Ok(names) = store.names() {
                known.extend(names.into_iter().filter(|n| n != "*"));
            }
        }
        known.sort();
        known.dedup();
        let mut context = match searched {
            [] => "no store could be searched".to_owned(),
            kinds => format!("searched the {} store{}", names(kinds), plural(kinds)),
        };
        if !skipped.is_empty() {
            context.push_str(&format!(
                " (the {} store{} could not be searched)",
                names(skipped),
                plural(skipped)
            ));
        }
        if !searched.is_empty() {
            match known.as_slice() {
                [] => context.push_str(if searched.len() > 1 {
                    "; they hold no profiles"
                } else {
                    "; it holds no profiles"
                }),
                known => {
                    let quoted: Vec<String> = known.iter().map(|n| format!("{n:?}")).collect();
                    context.push_str(&format!("; stored profiles: {}", quoted.join(", ")));
                    if let Some(near) = nearest(profile, known) {
                        context.push_str(&format!(" (did you mean {near:?}?)"));
                    }
                }
            }
        }
        Error::NotFound { profile: profile.to_owned() }.context(context)
    }
}

/// "env", "env and file", "env, file and keyring".
fn names(kinds: &[StoreKind]) -> String {
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

fn plural(kinds: &[StoreKind]) -> &'static str {
    if kinds.len() > 1 { "s" } else { "" }
}

/// The known name nearest to `wanted` when it is near enough to be a typo: the same name in
/// another case, or at most about a third of its characters changed, swapped, added or left
/// out (ties: the first in order).
pub(crate) fn nearest<'a>(wanted: &str, known: &'a [String]) -> Option<&'a str> {
    let wanted_l = wanted.to_lowercase();
    let limit = (wanted.chars().count().div_ceil(3)).clamp(1, 3);
    known
        .iter()
        .filter(|k| k.as_str() != wanted)
        .map(|k| (distance(&wanted_l, &k.to_lowercase()), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.as_str())
}

/// Edit distance with adjacent transpositions (optimal string alignment), by characters.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Names are short; a profile name is at most a few hundred characters.
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best =
                (rows[i - 1][j] + 1).min(rows[i][j - 1] + 1).min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn near_names_are_suggested_and_far_ones_not() {
        let k = known(&["prod", "staging", "team/web"]);
        assert_eq!(nearest("prdo", &k), Some("prod"));
        assert_eq!(nearest("prod2", &k), Some("prod"));
        assert_eq!(nearest("PROD", &k), Some("prod"));
        assert_eq!(nearest("stagign", &k), Some("staging"));
        assert_eq!(nearest("nosuch", &k), None);
        assert_eq!(nearest("x", &k), None);
        assert_eq!(nearest("prod", &k), None);
    }

    #[test]
    fn distance_counts_edits_and_swaps() {
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("abc", "abc"), 0);
        assert_eq!(distance("abc", "acb"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
