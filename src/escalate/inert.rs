//! Customer text made inert for GitHub. Whatever slawatch copies from a ticket into an issue
//! (title, labels, table values, the summary and the customer's words) is shown as the text it
//! is: it pings nobody, references no issue, hides nothing, adds no heading, list, table,
//! link, image or HTML, and cannot end the quote it sits in.
//!
//! What GitHub does with text, and how each is made inert:
//! - `@name` and `@org/team` notify (in bodies, and in e-mail replies quoting them): a zero-width
//!   space goes after the `@`, as Renovate and Dependabot do for changelogs. Invisible when
//!   rendered; GitHub's mention pattern needs a letter or digit right after the `@`.
//! - `#12`, `owner/repo#12`, `owner#12` and `GH-12` link and cross-reference issues (the
//!   referenced issue shows "mentioned this"): a zero-width space after the `#` or `GH-`.
//! - Bare URLs are autolinked, and an issue URL cross-references that issue: a URL goes in a
//!   code span, where GitHub links and references nothing (still readable and copyable).
//! - Markdown and HTML: `<` is written `&lt;` (no tag, no `<!--` comment, no forged marker),
//!   `&` before an entity is escaped (`&#64;` would render a live `@`), the characters that
//!   make emphasis, code, strikethrough and table cells are backslash-escaped, and so is `[`
//!   wherever a link, image, footnote or reference definition could open. A line cannot open
//!   a block: a heading, quote, list, rule, fence or setext underline at its start is escaped,
//!   and its indentation is kept as no-break spaces (four spaces would open a code block).
//! - `$…$` renders as math on GitHub; where a text holds two `$`, each is wrapped in
//!   `<span>$</span>` (GitHub's documented way to show a literal dollar beside math).
//! - Line breaks of every kind (`\r\n`, a lone `\r`, U+2028, U+2029, NEL, form feed) become
//!   `\n` before anything else, so a lone `\r` cannot end a quote block early; other control
//!   characters become spaces.
//!
//! Titles are plain text on GitHub (only code spans and references are rendered there): they
//! get the zero-width spaces, not the escaping. Labels are names, not text: one line, no comma
//! (GitHub refuses it), at most 50 characters, and no invisible characters.

/// The zero-width space that breaks a mention or reference without showing.
pub const BREAK: char = '\u{200B}';

/// GitHub's longest label name.
pub const MAX_LABEL_CHARS: usize = 50;

/// `text` with every kind of line break as `\n` and other control characters as spaces.
fn normalized(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
            }
            '\n' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}' => out.push('\n'),
            '\t' => out.push('\t'),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Whether `chars[i]` starts a mention or an issue reference for GitHub, so that a
/// [`BREAK`] must follow it: `@name` (and any `@` before a non-space, which could also be an
/// e-mail address), `#12` (also in `owner/repo#12`), `GH-12`.
fn breaks_after(chars: &[char], i: usize) -> bool {
    let next = chars.get(i + 1);
    match chars[i] {
        // Before a name, and before anything else an e-mail autolink could take for a domain.
        '@' => next.is_some_and(|n| !n.is_whitespace()),
        '#' => next.is_some_and(char::is_ascii_digit),
        '-' => {
            next.is_some_and(char::is_ascii_digit)
                && i >= 2
                && chars[i - 2].eq_ignore_ascii_case(&'g')
                && chars[i - 1].eq_ignore_ascii_case(&'h')
        }
        _ => false,
    }
}

/// Pushes `chars[i]`, and a [`BREAK`] after it where GitHub would see a mention or reference.
fn push_plain(chars: &[char], i: usize, out: &mut String) {
    out.push(chars[i]);
    if breaks_after(chars, i) {
        out.push(BREAK);
    }
}

/// One line with runs of whitespace as single spaces, trimmed.
fn one_line(text: &str) -> String {
    normalized(text).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An issue title (plain text on GitHub): one line, no mention, no reference. Nothing else is
/// escaped, since GitHub shows a title's characters as they are.
pub fn title(text: &str) -> String {
    let chars: Vec<char> = one_line(text).chars().collect();
    let mut out = String::with_capacity(chars.len() + 8);
    for i in 0..chars.len() {
        push_plain(&chars, i, &mut out);
    }
    out
}

/// Characters a label must not hold: zero-width ones and bidirectional controls, which would
/// make two labels that look the same.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// A label GitHub accepts: one line, commas taken out (GitHub refuses them), no invisible
/// characters, at most [`MAX_LABEL_CHARS`]; None when nothing is left, or only emoji (GitHub
/// refuses a name of emoji alone).
pub fn label(text: &str) -> Option<String> {
    let cleaned: String = normalized(text)
        .chars()
        .filter(|&c| !invisible(c))
        .map(|c| if c == ',' { ' ' } else { c })
        .collect();
    let label: String = one_line(&cleaned).chars().take(MAX_LABEL_CHARS).collect();
    let label = label.trim_end().to_string();
    label
        .chars()
        .any(|c| c.is_alphanumeric() || c.is_ascii_punctuation())
        .then_some(label)
}

/// Where a URL that GitHub would autolink starts at `chars[i]`, the index just past it:
/// `http://`, `https://`, `ftp://`, or `www.` after a non-alphanumeric character, up to
/// whitespace (or a character that cannot sit in a code span here), less trailing punctuation
/// and an unbalanced `)`. A lone `http://` or `www.` counts too: what follows might be taken
/// for a domain, and a code span costs nothing.
fn url_end(chars: &[char], i: usize) -> Option<usize> {
    let starts = |prefix: &str| {
        prefix
            .chars()
            .enumerate()
            .all(|(k, p)| chars.get(i + k).is_some_and(|c| c.eq_ignore_ascii_case(&p)))
    };
    let prefix = ["http://", "https://", "ftp://", "www."].into_iter().find(|p| starts(p))?;
    // `www.` inside a word is not linked; a scheme is, by some renderers, even there.
    if prefix == "www." && i > 0 && chars[i - 1].is_alphanumeric() {
        return None;
    }
    let least = i + prefix.len();
    let mut end = i;
    while end < chars.len() && !chars[end].is_whitespace() && !matches!(chars[end], '<' | '>' | '`' | '|' | '"') {
        end += 1;
    }
    while end > least {
        let open = chars[i..end].iter().filter(|&&c| c == '(').count();
        let close = chars[i..end].iter().filter(|&&c| c == ')').count();
        match chars[end - 1] {
            '?' | '!' | '.' | ',' | ':' | ';' | '*' | '_' | '~' | '\'' => end -= 1,
            ')' if close > open => end -= 1,
            _ => break,
        }
    }
    Some(end)
}

/// Whether `&` at `chars[0]` starts an HTML entity (`&amp;`, `&#64;`, `&#x40;`), which
/// Markdown would decode.
fn entity_at(chars: &[char]) -> bool {
    let rest = &chars[1..];
    let (digits, radix) = match rest {
        ['#', 'x' | 'X', tail @ ..] => (tail, 16),
        ['#', tail @ ..] => (tail, 10),
        [first, ..] if first.is_ascii_alphabetic() => (rest, 36),
        _ => return false,
    };
    let name = digits.iter().take_while(|c| c.is_digit(radix)).count();
    (1..=32).contains(&name) && digits.get(name) == Some(&';')
}

/// Whether a list marker followed by `next` opens a list item: a space, a tab or the end.
fn spaced(next: Option<char>) -> bool {
    next.is_none_or(|n| n == ' ' || n == '\t')
}

/// How a piece of text is written into Markdown.
struct Writer {
    /// Whether `$` is wrapped (the piece has two or more: math could open).
    dollars: bool,
    /// Whether every `[` is escaped (the piece has `](`: a link or image could open). Otherwise
    /// only one starting a line is (a reference definition, footnote or alert), so that
    /// `[email redacted]` reads as it is.
    brackets: bool,
}

impl Writer {
    fn for_text(text: &str) -> Writer {
        Writer {
            dollars: text.matches('$').count() >= 2,
            brackets: text.contains("]("),
        }
    }

    /// One line (no line break in it) as inert Markdown. With `indent`, its leading spaces and
    /// tabs are kept as no-break spaces; without, they are dropped.
    fn line(&self, line: &str, indent: bool, out: &mut String) {
        let line = line.trim_end();
        let body = line.trim_start_matches([' ', '\t']);
        if indent {
            for c in line[..line.len() - body.len()].chars() {
                out.push_str(if c == '\t' { "\u{A0}\u{A0}\u{A0}\u{A0}" } else { "\u{A0}" });
            }
        }
        let chars: Vec<char> = body.chars().collect();
        // A line of only these is a rule, a setext underline or a table's delimiter row.
        let underline = chars.iter().all(|&x| matches!(x, '-' | '=' | ':' | '|' | ' ' | '\t'));
        let mut i = 0;
        while i < chars.len() {
            if let Some(end) = url_end(&chars, i) {
                // Nothing in a code span is linked, referenced or mentioned; the breaks still
                // go in, for an e-mail reply quoting the text plainly.
                out.push('`');
                for j in i..end {
                    push_plain(&chars, j, out);
                }
                out.push('`');
                i = end;
                continue;
            }
            let c = chars[i];
            let previous = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1).copied();
            match c {
                // Doubled where it would escape what follows: punctuation, or the code span's
                // backtick before a URL (which would then be a live link).
                '\\' if next.is_none_or(|n| n.is_ascii_punctuation()) || url_end(&chars, i + 1).is_some() => out.push_str("\\\\"),
                '*' | '`' | '~' | '|' => {
                    out.push('\\');
                    out.push(c);
                }
                '[' if i == 0 || self.brackets => {
                    out.push('\\');
                    out.push(c);
                }
                // Inside a word (snake_case) an underscore emphasizes nothing: kept as it is.
                '_' if !(previous.is_some_and(char::is_alphanumeric) && next.is_some_and(char::is_alphanumeric)) => out.push_str("\\_"),
                '<' => out.push_str("&lt;"),
                '&' if entity_at(&chars[i..]) => out.push_str("\\&"),
                '$' if self.dollars => out.push_str("<span>$</span>"),
                // What opens a block at the start of a line: a heading, a quote; a list item
                // (`- `, `+ `), a rule, a setext underline or a delimiter row (`---`, `===`, `:-`).
                '#' | '>' if i == 0 => {
                    out.push('\\');
                    out.push(c);
                }
                '-' | '+' | '=' | ':' if i == 0 && (underline || c != ':' && spaced(next)) => {
                    out.push('\\');
                    out.push(c);
                }
                // An ordered list's `1. ` or `1) ` (not a version, `4.2.0`).
                '.' | ')' if (1..=9).contains(&i) && chars[..i].iter().all(char::is_ascii_digit) && spaced(next) => {
                    out.push('\\');
                    out.push(c);
                }
                _ => out.push(c),
            }
            if breaks_after(&chars, i) {
                out.push(BREAK);
            }
            i += 1;
        }
    }
}

/// Text for one line of Markdown (a table cell, a sentence): line breaks and runs of
/// whitespace as single spaces, escaped so that it renders as the text it is.
pub fn inline(text: &str) -> String {
    let text = one_line(text);
    let mut out = String::with_capacity(text.len() + 16);
    Writer::for_text(&text).line(&text, false, &mut out);
    out
}

/// Lines of text as Markdown paragraphs: each line escaped so that it renders as the text it
/// is, line breaks and indentation kept.
pub fn block(text: &str) -> String {
    lines(text, "")
}

/// Lines of text as a Markdown quote: `> ` before each, escaped as [`block`], so that nothing
/// in the text can end the quote or hide what follows.
pub fn quote(text: &str) -> String {
    lines(text, ">")
}

fn lines(text: &str, prefix: &str) -> String {
    let text = normalized(text);
    let text = text.trim();
    let writer = Writer::for_text(text);
    let mut out = String::with_capacity(text.len() + 64);
    for (n, line) in text.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        out.push_str(prefix);
        let mut written = String::new();
        writer.line(line, true, &mut written);
        if !prefix.is_empty() && !written.is_empty() {
            out.push(' ');
        }
        out.push_str(&written);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_are_left_as_they_are() {
        for text in [
            "The connector crashes on start since 4.2.0; see the logs.",
            "snake_case_name and R&D at AT&T, 50% off, a - b, 1.2.3 :tada:",
            "C:\\Program Files\\Acme",
            "Costs $500 a month",
        ] {
            assert_eq!(inline(text), text);
            assert_eq!(quote(text), format!("> {text}"));
        }
        assert_eq!(title("Crash in module_x <b>"), "Crash in module_x <b>");
    }

    #[test]
    fn mentions_and_references_get_a_break() {
        assert_eq!(
            title("ask @jane and @acme/eng about #12, GH-3 and acme/app#7"),
            "ask @\u{200B}jane and @\u{200B}acme/eng about #\u{200B}12, GH-\u{200B}3 and acme/app#\u{200B}7"
        );
        assert_eq!(inline("mail me@x.io #x @ 1"), "mail me@\u{200B}x.io #x @ 1");
    }

    #[test]
    fn line_breaks_of_every_kind_are_newlines() {
        assert_eq!(
            quote("a\r<!-- x -->\r\nb\u{2028}c\u{2029}d\u{85}e"),
            "> a\n> &lt;!-- x -->\n> b\n> c\n> d\n> e"
        );
        assert_eq!(title("a\rb\n\tc\u{0}d"), "a b c d");
    }

    #[test]
    fn urls_go_in_code_spans_less_trailing_punctuation() {
        assert_eq!(
            inline("see https://github.com/o/r/issues/1."),
            "see `https://github.com/o/r/issues/1`."
        );
        assert_eq!(inline("(www.acme.com/a_(b))"), "(`www.acme.com/a_(b)`)");
        // A lone scheme too: what follows might be taken for a domain.
        assert_eq!(inline("https:// x"), "`https://` x");
        // A backslash before a URL stays a backslash: the code span's backtick is not escaped.
        assert_eq!(inline("\\https://a.test"), "\\\\`https://a.test`");
    }

    #[test]
    fn labels_are_names_github_accepts() {
        assert_eq!(label("customer/Acme, Inc.\r\n").as_deref(), Some("customer/Acme Inc."));
        assert_eq!(label(&format!("team/{}", "x".repeat(60))).unwrap().chars().count(), MAX_LABEL_CHARS);
        assert_eq!(label("a\u{200B}b").as_deref(), Some("ab"));
        assert_eq!(label(" , "), None);
        assert_eq!(label("🚀"), None);
    }
}
