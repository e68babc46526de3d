//! "Did you mean": the nearest of the account's names to one the config has wrong.

/// Levenshtein distance between two short strings (ids, keys, tags), by characters.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb)).min(above + 1).min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The candidate nearest to `wrong`, when near enough to be the one meant: within a third of
/// its length (a digit or two of an id, a typo in a key), or differing only in case or in
/// `-`/`_`/space.
pub fn nearest<'a, T>(wrong: &str, candidates: impl IntoIterator<Item = (&'a str, T)>) -> Option<T> {
    let folded = fold(wrong);
    let limit = (wrong.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|(name, item)| {
            let d = if fold(name) == folded { 0 } else { distance(wrong, name) };
            (d, item)
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, item)| item)
}

fn fold(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// At most `max` items joined with ", ", and how many more there are.
pub fn list(items: impl IntoIterator<Item = String>, max: usize) -> String {
    let items: Vec<String> = items.into_iter().collect();
    if items.is_empty() {
        return "none".to_string();
    }
    let shown = items[..items.len().min(max)].join(", ");
    match items.len().saturating_sub(max) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

#[cfg(test)]
mod tests {
    use super::{distance, list, nearest};

    #[test]
    fn a_wrong_digit_or_a_typo_is_near_an_unrelated_name_is_not() {
        assert_eq!(distance("360001", "360007"), 1);
        assert_eq!(distance("deploymnet", "deployment"), 2);
        let keys = [("deployment", 1), ("plan", 2), ("region", 3)];
        assert_eq!(nearest("deploymnet", keys), Some(1));
        assert_eq!(nearest("Deployment", keys), Some(1));
        assert_eq!(nearest("contract", keys), None);
        assert_eq!(nearest("360001", [("360007", 'a'), ("999999", 'b')]), Some('a'));
    }

    #[test]
    fn long_lists_say_how_many_more() {
        assert_eq!(list((1..=7).map(|i| i.to_string()), 5), "1, 2, 3, 4, 5 and 2 more");
        assert_eq!(list(Vec::new(), 5), "none");
    }
}
