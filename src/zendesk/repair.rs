//! One bad string must not break a page: an export page is a thousand records, and serde_json
//! refuses the whole of it for one byte that is not UTF-8 or one `\ud800` escape without its
//! pair. The poll would then ask for the same page for ever. Such text is replaced with U+FFFD
//! (the record is kept, that string reads as garbled), and the page read again.

/// The body with invalid UTF-8 and lone surrogate escapes replaced by U+FFFD; None when there
/// is nothing of the kind to replace (the body is broken some other way).
pub fn repaired(body: &[u8]) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(body);
    let lossy = matches!(text, std::borrow::Cow::Owned(_));
    let (fixed, surrogates) = without_lone_surrogates(&text);
    (lossy || surrogates > 0).then(|| fixed.into_bytes())
}

fn hex4(text: &str, at: usize) -> Option<u32> {
    let digits = text.get(at..at + 4)?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}

/// `text` with every `\uD800`–`\uDFFF` escape that is not half of a pair replaced by `\uFFFD`,
/// and how many were.
fn without_lone_surrogates(text: &str) -> (String, usize) {
    let mut out = String::with_capacity(text.len());
    let mut replaced = 0;
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let escape = &rest[at..];
        let Some(unit) = escape.strip_prefix("\\u").and_then(|_| hex4(escape, 2)) else {
            // Another escape (`\\`, `\"`, `\n`): copied whole, so an escaped backslash before a
            // `u` is never read as the start of a `\u` escape.
            let len = escape[1..].chars().next().map_or(1, |c| 1 + c.len_utf8());
            out.push_str(&escape[..len]);
            rest = &escape[len..];
            continue;
        };
        let paired_low = |next: &str| {
            next.strip_prefix("\\u")
                .and_then(|_| hex4(next, 2))
                .is_some_and(|low| (0xDC00..=0xDFFF).contains(&low))
        };
        let len = match unit {
            0xD800..=0xDBFF if paired_low(&escape[6..]) => 12,
            0xD800..=0xDFFF => {
                out.push_str("\\uFFFD");
                replaced += 1;
                rest = &escape[6..];
                continue;
            }
            _ => 6,
        };
        out.push_str(&escape[..len]);
        rest = &escape[len..];
    }
    out.push_str(rest);
    (out, replaced)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &[u8]) -> serde_json::Value {
        serde_json::from_slice(&repaired(body).expect("something to repair")).unwrap()
    }

    #[test]
    fn bad_text_is_replaced_and_the_rest_kept() {
        let lone = br#"{"tickets":[{"id":1,"subject":"a \ud800 b"},{"id":2,"subject":"ok \ud83d\ude00"}]}"#;
        assert!(serde_json::from_slice::<serde_json::Value>(lone).is_err());
        let page = read(lone);
        assert_eq!(page["tickets"][0]["subject"], "a \u{FFFD} b");
        assert_eq!(page["tickets"][1]["subject"], "ok \u{1F600}");

        let invalid = b"{\"tickets\":[{\"id\":1,\"subject\":\"caf\xe9\"},{\"id\":2}]}";
        let page = read(invalid);
        assert_eq!(page["tickets"][0]["subject"], "caf\u{FFFD}");
        assert_eq!(page["tickets"][1]["id"], 2);

        let trailing_low = br#"{"s":"\udc00x","t":"\\ud800"}"#;
        let page = read(trailing_low);
        assert_eq!(page["s"], "\u{FFFD}x");
        assert_eq!(page["t"], "\\ud800", "an escaped backslash is text, not an escape");
    }

    #[test]
    fn a_body_broken_another_way_is_left_to_fail() {
        assert_eq!(repaired(br#"{"tickets":[{"id":1,"subj"#), None);
        assert_eq!(repaired(br#"{"t":"\\ud800 \u00e9"}"#), None);
    }
}
