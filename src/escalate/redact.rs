//! Redacting customer contact details from what engineering reads: e-mail addresses and phone
//! numbers become `[email redacted]` and `[phone redacted]`. Dates, times, versions, IP
//! addresses, ticket ids, commit SHAs, UUIDs, durations, ports, sizes, error codes, line
//! numbers and amounts are kept.
//!
//! Two scanners of our own, no regular expression and no crate: `phonenumber` (libphonenumber)
//! judges `2026-12-03`, `20261202` and `0x80070005` valid numbers in one of the regions we must
//! cover (a national number needs a region, and across six regions nearly any digits are valid),
//! finds no candidates in free text, and adds 1.5 MB to the binary; `linkify` misses addresses
//! whose top-level domain is not ASCII (`иван@пример.рф`) and takes a no-break space, curly
//! quotes and the Japanese around an address into it.
//!
//! **E-mail addresses.** Around every `@`, full-width `＠` and percent-encoded `%40` (as in
//! `mailto:jane%40acme.com`): a local part of letters and digits in any script plus
//! `. ! $ % ' * + - ^ _ ~` (not `=`, `?`, `&`, `/`, `|`, so `email=` and a URL's path stay),
//! starting at a letter or digit; a domain of at least two labels (letters and digits in any
//! script, and `-`) whose last label is two or more ASCII letters, `xn--…`, two or more letters
//! of another script, or an IPv4 address. So `müller@firma.de`, `info@müller.de`,
//! `иван@пример.рф` and `用户@例子.广告` go, while `@acme/sdk@4.2.1`, `abc@v1.1` and
//! `image@sha256:…` stay. Where Japanese or Chinese text touches an ASCII address, the address
//! ends at the change of script.
//!
//! **Phone numbers.** The text is cut into runs of digit groups joined by one separator each:
//! one or two spaces (no-break ones too), `.`, `-`, `–`, `/`, or parentheses around a group;
//! a run may start with `+`. Groups joined without a space form a cluster (`555-0100`,
//! `(415)5550100`); a number is one or more whole clusters:
//! - a cluster touching a letter or digit (`v5.3.0`, `E0432`, `0x80070005`, `1500ms`, `24h`,
//!   UUID and SHA parts) or `#`, `-`, `.`, `/`, `_`, `%`, `$`, `€` before it (`#12345`,
//!   `ZD-12345`, `tickets/4155550100`), or a `:` joined to digits (`14:05:33`, `main.rs:123:45`,
//!   `10.0.0.1:8080`), or a `,` that groups thousands (`1,234,567`), is never part of one;
//!   scripts written without spaces (Japanese, Chinese, Korean, Thai) do not count as touching,
//!   so `電話03-1234-5678` goes;
//! - so is a cluster that is a date (`2026-12-03`, `12/03/2026`, `03.12.2026`: three groups
//!   joined by one kind of `-`, `/`, `.`, one of four digits), an IPv4 address, or a version or
//!   decimal (only dots, one group of a single digit: `4.2.1`, `1.2.3.4567`); a number cannot
//!   start with a day, month and year either (`03 12 2026`);
//! - `+` and 7 to 15 digits, or `00` then a country code and 8 to 13 digits: international;
//! - a trunk `0` (not `00`), its first group of 2 to 5 digits, the others of 2 to 8, 9 to 12
//!   digits in all: national in France, the UK, Germany, Japan, Australia (`01 42 68 53 00`,
//!   `020 7946 0958`, `030/1234567`, `03-1234-5678`, `(02) 9876 5432`);
//! - North American, area code and exchange each starting 2 to 9, optionally after a `1`:
//!   grouped 3-3-4 or 3-7 (`(415) 555-0100`, `(415)5550100`, `1-415-555-0100`);
//! - an extension after a number (`x12`, `ext. 12`, `extension 12`) goes with it.
//!
//! **Bare digits, where an id and a phone number look alike.** A run of digits alone is
//! redacted only when its length and first digits are those of a phone number: 10 or 11
//! digits starting `0` and then not `0` (`0142685300`, `07911123456`), or 10 digits shaped
//! like a North American number, or 11 digits `1` and one (`4155550100`, `14155550100`), except
//! the integer limits `2147483647`, `2147483648`, `4294967295`, `4294967296`. Such an id or
//! count is redacted too, on the customer's side: that includes a 10-digit build stamp like
//! `2026120301` (a Washington, DC number). Everything else is kept: 7 to 9 digits (byte
//! sizes, ticket ids, local numbers without an area code like `555-0100`), 12 or more (ids,
//! millisecond timestamps), and 10 starting `1` (Unix timestamps).
//!
//! When a run holds several numbers, the longest match of a usual length (at most 11 national
//! digits, 13 international) wins over a longer one, so `06 12 34 56 78 06 12 34 56 79` is two.
//! Redaction runs until it finds nothing more, so redacting twice gives what redacting once
//! gave.

use std::ops::Range;

pub const EMAIL: &str = "[email redacted]";
pub const PHONE: &str = "[phone redacted]";

/// `text` with e-mail addresses and phone numbers replaced.
pub fn redact(text: &str) -> String {
    let mut text = text.to_string();
    // A redaction can free what was glued to it: in `0142685300(+33) 1 42 68 53 00` the second
    // number touches the first's digits until the first is gone. So again until nothing is
    // found: redacting is idempotent. Each round that finds something takes out an `@` or at
    // least seven digits and puts none back, so the rounds end.
    loop {
        let emails = email_spans(&text);
        let with_emails = replace(&text, &emails, EMAIL);
        let phones = phone_spans(&with_emails);
        if emails.is_empty() && phones.is_empty() {
            return text;
        }
        text = replace(&with_emails, &phones, PHONE);
    }
}

fn replace(text: &str, spans: &[Range<usize>], with: &str) -> String {
    if spans.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        out.push_str(&text[at..span.start]);
        out.push_str(with);
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Scripts written without spaces between words: a number or address touching them still
/// stands alone.
fn spaceless(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF // Thai, Lao
        | 0x1000..=0x109F // Myanmar
        | 0x1100..=0x11FF // Hangul Jamo
        | 0x1780..=0x17FF // Khmer
        | 0x2E80..=0xA4CF // CJK, kana, Yi
        | 0xAC00..=0xD7AF // Hangul
        | 0xF900..=0xFAFF // CJK compatibility
        | 0xFF00..=0xFFEF // full-width forms
        | 0x20000..=0x3FFFF) // CJK extensions
}

/// Combining marks (a decomposed `ü` is `u` and U+0308).
fn mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// A character that glues to a number beside it: a letter or digit of a spaced script.
fn glue(c: char) -> bool {
    c.is_alphanumeric() && !spaceless(c)
}

// ---------------------------------------------------------------------------------------
// E-mail addresses

/// Characters of a local part besides letters, digits and marks.
const LOCAL_PUNCT: &str = ".!$%'*+-^_~";

fn email_spans(text: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    // Where the previous address ended: the next one's local part starts after it.
    let mut floor = 0;
    let mut from = 0;
    while let Some((at, len)) = next_at_sign(text, from) {
        from = at + len;
        let Some(start) = local_start(&text[floor..at]) else { continue };
        let Some(end) = domain_end(&text[at + len..]) else { continue };
        let (start, end) = (floor + start, at + len + end);
        spans.push(start..end);
        floor = end;
        from = end;
    }
    spans
}

/// The next `@`, `＠` or `%40` at or after `from`: where, and how many bytes.
fn next_at_sign(text: &str, from: usize) -> Option<(usize, usize)> {
    text[from..].char_indices().find_map(|(i, c)| {
        let at = from + i;
        match c {
            '@' | '＠' => Some((at, c.len_utf8())),
            '%' if text[at + 1..].starts_with("40") => Some((at, 3)),
            _ => None,
        }
    })
}

/// Where the local part ending at the end of `before` starts: at a letter or digit.
fn local_start(before: &str) -> Option<usize> {
    let mut start = before.len();
    let mut ascii = false;
    for (i, c) in before.char_indices().rev() {
        let allowed = c.is_alphanumeric() || mark(c) || LOCAL_PUNCT.contains(c);
        if !allowed || (ascii && spaceless(c)) {
            break;
        }
        ascii |= c.is_ascii_alphanumeric();
        start = i;
    }
    let skip = before[start..].find(char::is_alphanumeric)?;
    Some(start + skip)
}

/// Where the domain starting `after` ends, if it is one.
fn domain_end(after: &str) -> Option<usize> {
    let scanned = after
        .char_indices()
        .find(|&(_, c)| !(c.is_alphanumeric() || mark(c) || c == '-' || c == '.'))
        .map_or(after.len(), |(i, _)| i);
    let mut domain = after[..scanned].trim_end_matches(['.', '-']);
    // `..` ends a domain.
    if let Some(cut) = domain.find("..") {
        domain = &domain[..cut];
    }
    if !domain.starts_with(|c: char| c.is_alphanumeric()) {
        return None;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return None;
    }
    let last = labels[labels.len() - 1];
    let last_start = domain.len() - last.len();
    let numeric = |l: &&str| !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit());
    if labels.len() == 4 && labels.iter().all(numeric) {
        return Some(domain.len());
    }
    Some(last_start + top_level(last)?)
}

/// How much of a domain's last label is its top-level domain.
fn top_level(label: &str) -> Option<usize> {
    if label.len() > 4 && label.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--")) {
        return label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-').then_some(label.len());
    }
    let first = label.chars().next()?;
    let (len, chars) = if first.is_ascii_alphabetic() {
        let len = label.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(label.len());
        (len, len)
    } else if first.is_alphabetic() {
        let len = label
            .find(|c: char| c.is_ascii() || !(c.is_alphabetic() || mark(c)))
            .unwrap_or(label.len());
        (len, label[..len].chars().count())
    } else {
        return None;
    };
    (chars >= 2).then_some(len)
}

// ---------------------------------------------------------------------------------------
// Phone numbers

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Punct {
    None,
    Dash,
    Dot,
    Slash,
}

fn punct(c: char) -> Option<Punct> {
    match c {
        '-' | '–' | '‑' => Some(Punct::Dash),
        '.' => Some(Punct::Dot),
        '/' => Some(Punct::Slash),
        _ => None,
    }
}

fn hspace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{a0}' | '\u{2007}' | '\u{2009}' | '\u{202f}')
}

/// A group of digits, with the `(` before and `)` after it that belong to the number.
#[derive(Debug)]
struct Group {
    start: usize,
    end: usize,
    open: bool,
    close: bool,
}

/// What joins a group to the next.
#[derive(Debug)]
struct Sep {
    space: bool,
    punct: Punct,
}

/// A run of digit groups: `start` is its `+` or `(` if it has one, `end` is past its last
/// digit or `)`.
#[derive(Debug)]
struct Run {
    start: usize,
    end: usize,
    plus: bool,
    groups: Vec<Group>,
    seps: Vec<Sep>,
}

/// What kind of number a range of groups is, and its usual longest length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    International,
    /// `00` and a country code.
    InternationalZeroZero,
    National,
    NorthAmerican,
}

impl Kind {
    fn usual_digits(self) -> usize {
        match self {
            Kind::International => 13,
            Kind::InternationalZeroZero => 15,
            Kind::National | Kind::NorthAmerican => 11,
        }
    }
}

fn phone_spans(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts = match bytes[i] {
            b'0'..=b'9' => i == 0 || !bytes[i - 1].is_ascii_digit(),
            b'(' if paren_country_code(&bytes[i..]) => true,
            b'+' | b'(' => bytes.get(i + 1).is_some_and(u8::is_ascii_digit),
            _ => false,
        };
        if !starts {
            i += 1;
            continue;
        }
        let run = Run::parse(text, i);
        spans.extend(run.phones(text));
        // A number's extension lies past its run: scanning goes on after it.
        i = run.end.max(i + 1).max(spans.last().map_or(0, |s: &Range<usize>| s.end));
    }
    spans
}

impl Run {
    fn parse(text: &str, start: usize) -> Run {
        let b = text.as_bytes();
        let digit_at = |at: usize| b.get(at).is_some_and(u8::is_ascii_digit);
        let mut open = paren_country_code(&b[start..]);
        let plus = open || b[start] == b'+';
        let mut pos = start + usize::from(plus) + usize::from(open);
        let (mut groups, mut seps) = (Vec::new(), Vec::new());
        loop {
            let paren = !open && b.get(pos) == Some(&b'(') && digit_at(pos + 1);
            if paren {
                pos += 1;
                open = true;
            }
            let group_open = paren || (open && groups.is_empty());
            let group_start = pos;
            while digit_at(pos) {
                pos += 1;
            }
            groups.push(Group {
                start: group_start,
                end: pos,
                open: group_open,
                close: false,
            });

            let mut at = pos;
            let close = open && b.get(at) == Some(&b')');
            at += usize::from(close);
            let mut spaces = 0;
            while spaces < 2 {
                match text[at..].chars().next() {
                    Some(c) if hspace(c) => {
                        at += c.len_utf8();
                        spaces += 1;
                    }
                    _ => break,
                }
            }
            let mut kind = Punct::None;
            if spaces == 0 {
                if let Some((c, p)) = text[at..].chars().next().and_then(|c| Some((c, punct(c)?))) {
                    kind = p;
                    at += c.len_utf8();
                }
            }
            let still_open = open && !close;
            let next_open = !still_open && b.get(at) == Some(&b'(') && digit_at(at + 1);
            let joined = close || spaces > 0 || kind != Punct::None || next_open;
            if close {
                // The `)` belongs to the number whether or not a group follows.
                if let Some(group) = groups.last_mut() {
                    group.close = true;
                }
                open = false;
            }
            if joined && (digit_at(at) || next_open) {
                seps.push(Sep {
                    space: spaces > 0,
                    punct: kind,
                });
                pos = at;
                continue;
            }
            pos += usize::from(close);
            break;
        }
        Run {
            start,
            end: pos,
            plus,
            groups,
            seps,
        }
    }

    fn digits<'t>(&self, text: &'t str, group: usize) -> &'t str {
        &text[self.groups[group].start..self.groups[group].end]
    }

    /// The clusters: groups joined without a space, as ranges of group indexes.
    fn clusters(&self) -> Vec<Range<usize>> {
        let mut clusters = Vec::new();
        let mut first = 0;
        for (i, sep) in self.seps.iter().enumerate() {
            if sep.space {
                clusters.push(first..i + 1);
                first = i + 1;
            }
        }
        clusters.push(first..self.groups.len());
        clusters
    }

    /// A date, an IPv4 address, a version or a decimal: never part of a phone number.
    fn not_a_number(&self, cluster: &Range<usize>) -> bool {
        let lens: Vec<usize> = self.groups[cluster.clone()].iter().map(|g| g.end - g.start).collect();
        let puncts: Vec<Punct> = self.seps[cluster.start..cluster.end - 1].iter().map(|s| s.punct).collect();
        let parens = self.groups[cluster.clone()].iter().any(|g| g.open || g.close);
        let all = |p: Punct| puncts.iter().all(|&q| q == p);
        if lens.len() == 3 && !parens && puncts[0] != Punct::None && all(puncts[0]) {
            let date = matches!(
                (lens[0], lens[1], lens[2]),
                (4, 1..=2, 1..=2) | (1..=2, 1..=2, 4) | (1..=2, 1..=2, 2)
            );
            if date {
                return true;
            }
        }
        if lens.len() >= 2 && all(Punct::Dot) {
            if lens.len() == 4 && lens.iter().all(|&l| l <= 3) {
                return true;
            }
            let north_american = lens == [1, 3, 3, 4];
            if lens.contains(&1) && !north_american {
                return true;
            }
        }
        false
    }

    /// The phone numbers in this run, extensions included.
    fn phones(&self, text: &str) -> Vec<Range<usize>> {
        let clusters = self.clusters();
        let n = clusters.len();
        let mut spoilt: Vec<bool> = clusters.iter().map(|c| self.not_a_number(c)).collect();
        let extension = extension(text, self.end);
        if self.glued_before(text, &clusters[0]) {
            spoilt[0] = true;
        }
        if glued_after(text, extension.unwrap_or(self.end)) {
            spoilt[n - 1] = true;
        }
        let mut found = Vec::new();
        let mut c = 0;
        while c < n {
            let (mut longest, mut usual) = (None, None);
            let mut digits = 0;
            for e in c..n {
                if spoilt[e] {
                    break;
                }
                digits += self.groups[clusters[e].clone()].iter().map(|g| g.end - g.start).sum::<usize>();
                if digits > 15 {
                    break;
                }
                let groups = clusters[c].start..clusters[e].end;
                if let Some(kind) = self.shape(text, groups, self.plus && c == 0) {
                    longest = Some(e);
                    if digits <= kind.usual_digits() {
                        usual = Some(e);
                    }
                }
            }
            let Some(e) = usual.or(longest) else {
                c += 1;
                continue;
            };
            let first = &self.groups[clusters[c].start];
            let last = &self.groups[clusters[e].end - 1];
            let start = if c == 0 {
                self.start
            } else {
                first.start - usize::from(first.open)
            };
            let end = match extension {
                Some(end) if e == n - 1 => end,
                _ => last.end + usize::from(last.close),
            };
            found.push(start..end);
            c = e + 1;
        }
        found
    }

    /// Whether the run's first cluster is glued to what stands before it.
    fn glued_before(&self, text: &str, first: &Range<usize>) -> bool {
        let mut before = text[..self.start].chars().rev();
        let Some(p) = before.next() else { return false };
        if p.is_whitespace() {
            return false;
        }
        if glue(p) {
            return true;
        }
        let pp = before.next();
        match p {
            ':' => pp.is_some_and(|c| c.is_ascii_digit() || c == ':'),
            ',' => {
                let thousands = !self.plus && first.len() == 1 && self.groups[0].end - self.groups[0].start == 3;
                thousands && pp.is_some_and(|c| c.is_ascii_digit())
            }
            '-' | '–' | '‑' | '.' | '/' | '\\' | '#' | '_' | '$' | '€' | '£' | '¥' | '%' | '^' | '~' | '+' | '°' => true,
            _ => false,
        }
    }

    /// What the groups in `range` are, if a phone number.
    fn shape(&self, text: &str, range: Range<usize>, plus: bool) -> Option<Kind> {
        let digits: String = range.clone().map(|g| self.digits(text, g)).collect();
        let lens: Vec<usize> = range.clone().map(|g| self.digits(text, g).len()).collect();
        let d = digits.as_bytes();
        let n = d.len();
        if plus {
            return (7..=15).contains(&n).then_some(Kind::International);
        }
        if lens.len() >= 2 && d.starts_with(b"00") && n > 2 && d[2] != b'0' && (10..=15).contains(&n) {
            return Some(Kind::InternationalZeroZero);
        }
        if starts_with_date(text, self, range.clone()) {
            return None;
        }
        let trunk = n >= 2 && d[0] == b'0' && d[1] != b'0';
        if lens.len() == 1 {
            if (n == 10 || n == 11) && trunk {
                return Some(Kind::National);
            }
            let limit = ["2147483647", "2147483648", "4294967295", "4294967296"].contains(&digits.as_str());
            if (n == 10 && north_american(d) && !limit) || (n == 11 && d[0] == b'1' && north_american(&d[1..])) {
                return Some(Kind::NorthAmerican);
            }
            return None;
        }
        let (rest, nd) = if lens[0] == 1 && d[0] == b'1' {
            (&lens[1..], &d[1..])
        } else {
            (&lens[..], d)
        };
        if (rest == [3, 3, 4] || rest == [3, 7]) && north_american(nd) {
            return Some(Kind::NorthAmerican);
        }
        let national = trunk && (2..=5).contains(&lens[0]) && lens[1..].iter().all(|l| (2..=8).contains(l)) && (9..=12).contains(&n);
        national.then_some(Kind::National)
    }
}

/// A day, month and four-digit year (either way round) at the start of `range`.
fn starts_with_date(text: &str, run: &Run, range: Range<usize>) -> bool {
    if range.len() < 3 {
        return false;
    }
    let g: Vec<&str> = range.take(3).map(|i| run.digits(text, i)).collect();
    let year = |s: &str| s.len() == 4 && (s.starts_with("19") || s.starts_with("20"));
    let small = |s: &str| s.len() <= 2;
    (small(g[0]) && small(g[1]) && year(g[2])) || (year(g[0]) && small(g[1]) && small(g[2]))
}

/// `(+33)`: a country code in parentheses, as in `(+33) 1 42 68 53 00`; `(+33 1 42 68 53 00)`
/// is a number in parentheses.
fn paren_country_code(b: &[u8]) -> bool {
    let digits = b.iter().skip(2).take_while(|c| c.is_ascii_digit()).count();
    b.starts_with(b"(+") && (1..=3).contains(&digits) && b.get(2 + digits) == Some(&b')')
}

/// A North American number: area code and exchange start 2 to 9.
fn north_american(d: &[u8]) -> bool {
    d.len() == 10 && (b'2'..=b'9').contains(&d[0]) && (b'2'..=b'9').contains(&d[3])
}

/// Where an extension right after a number (`x12`, ` ext. 12`, ` extension 12`) ends.
fn extension(text: &str, at: usize) -> Option<usize> {
    let rest = &text[at..];
    let skip_space = |s: &str| s.chars().next().filter(|&c| hspace(c)).map_or(0, char::len_utf8);
    let mut i = skip_space(rest);
    let word = ["extension", "ext.", "ext", "x"]
        .into_iter()
        .find(|w| rest.get(i..i + w.len()).is_some_and(|s| s.eq_ignore_ascii_case(w)))?;
    i += word.len();
    i += skip_space(&rest[i..]);
    let digits = rest[i..].bytes().take_while(u8::is_ascii_digit).count();
    let end = i + digits;
    let clean = !rest[end..].starts_with(glue);
    ((1..=6).contains(&digits) && clean).then_some(at + end)
}

/// Whether what follows a run at `at` glues to its last cluster.
fn glued_after(text: &str, at: usize) -> bool {
    let mut after = text[at..].chars();
    let Some(n) = after.next() else { return false };
    if n.is_whitespace() {
        return false;
    }
    if glue(n) {
        return true;
    }
    let nn = after.next();
    match n {
        '.' | ':' | '-' | '–' | '‑' | '/' | ',' | ';' => match nn {
            Some(c) if c.is_ascii_digit() => match n {
                // `1,234`: thousands. `4155550100,4155550101`: a list.
                ',' => text[at + 1..].bytes().take_while(u8::is_ascii_digit).count() == 3,
                ';' => false,
                _ => true,
            },
            Some(c) => glue(c) && n != ',' && n != ';',
            None => false,
        },
        '%' | '°' | '€' | '$' | '£' | '¥' | '#' | '_' | '+' | '=' | '^' | '~' | '\\' => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Contact details, each in a sentence, and what is left of the sentence.
    const REDACTED: &[(&str, &str)] = &[
        // Phone numbers: the formats issue 19 found kept.
        ("call 4155550100 today", "call [phone redacted] today"),
        ("call (415)5550100 today", "call [phone redacted] today"),
        ("Paris 01 42 68 53 00.", "Paris [phone redacted]."),
        ("portable 06 12 34 56 78", "portable [phone redacted]"),
        ("mobile 07911123456", "mobile [phone redacted]"),
        ("Berlin 030/1234567", "Berlin [phone redacted]"),
        ("Tokyo 03-1234-5678", "Tokyo [phone redacted]"),
        ("Sydney (02) 9876 5432", "Sydney [phone redacted]"),
        // North American.
        ("call +1 415 555 0100.", "call [phone redacted]."),
        ("call (415) 555-0100 today", "call [phone redacted] today"),
        ("or 415-555-0100 / 415.555.0100", "or [phone redacted] / [phone redacted]"),
        ("+1 (415) 555-0100", "[phone redacted]"),
        ("1-415-555-0100", "[phone redacted]"),
        ("1.415.555.0100", "[phone redacted]"),
        ("14155550100", "[phone redacted]"),
        ("+14155550100", "[phone redacted]"),
        ("tel:+14155550100", "tel:[phone redacted]"),
        ("415 5550100", "[phone redacted]"),
        ("(415) 555-0100 x123, ask for Jo", "[phone redacted], ask for Jo"),
        ("415-555-0100 ext. 42", "[phone redacted]"),
        ("4155550100x7", "[phone redacted]"),
        ("415–555–0100", "[phone redacted]"),
        // UK.
        ("London +44 20 7946 0958", "London [phone redacted]"),
        ("London 020 7946 0958", "London [phone redacted]"),
        ("+44 (0)20 7946 0958", "[phone redacted]"),
        ("07911 123456", "[phone redacted]"),
        ("+44 7911 123456 or 0161 496 0000", "[phone redacted] or [phone redacted]"),
        ("0044 20 7946 0958", "[phone redacted]"),
        ("office (+44 20 7946 0958) too", "office ([phone redacted]) too"),
        // France.
        ("Paris +33 1 42 68 53 00", "Paris [phone redacted]"),
        ("01.42.68.53.00", "[phone redacted]"),
        ("01-42-68-53-00", "[phone redacted]"),
        ("0142685300", "[phone redacted]"),
        ("01\u{a0}42\u{a0}68\u{a0}53\u{a0}00", "[phone redacted]"),
        ("+33 (0)6 12 34 56 78", "[phone redacted]"),
        ("Phone (+33) 1 42 68 53 00", "Phone [phone redacted]"),
        ("06 12 34 56 78 06 12 34 56 79", "[phone redacted] [phone redacted]"),
        // Germany.
        ("+49 30 1234567", "[phone redacted]"),
        ("030 12345678", "[phone redacted]"),
        ("089 1234-5678", "[phone redacted]"),
        ("0049 89 12345678", "[phone redacted]"),
        ("Tel.: +49 (0) 30 1234567-89", "Tel.: [phone redacted]"),
        // Japan.
        ("+81 3-1234-5678", "[phone redacted]"),
        ("090-1234-5678", "[phone redacted]"),
        ("(03) 1234-5678", "[phone redacted]"),
        ("電話03-1234-5678です", "電話[phone redacted]です"),
        // Australia.
        ("+61 2 9876 5432", "[phone redacted]"),
        ("(02)98765432", "[phone redacted]"),
        ("0412 345 678", "[phone redacted]"),
        ("mobile: 0412345678;", "mobile: [phone redacted];"),
        // Next to other text.
        ("phone=4155550100&x=1", "phone=[phone redacted]&x=1"),
        ("4155550100,4155550101", "[phone redacted],[phone redacted]"),
        ("[4155550100]", "[[phone redacted]]"),
        ("**0142685300**", "**[phone redacted]**"),
        ("ticket 12345 4155550100", "ticket 12345 [phone redacted]"),
        ("since 2026-12-03 call 020 7946 0958", "since 2026-12-03 call [phone redacted]"),
        // E-mail addresses.
        ("mail jane.doe+ops@acme.example.co.uk now", "mail [email redacted] now"),
        ("müller@firma.de", "[email redacted]"),
        ("write info@müller.de.", "write [email redacted]."),
        ("jane%40acme.com", "[email redacted]"),
        ("?to=jane%40acme.com&x=1", "?to=[email redacted]&x=1"),
        ("mailto:jane@acme.com", "mailto:[email redacted]"),
        ("[Jane](mailto:jane@acme.com)", "[Jane](mailto:[email redacted])"),
        ("<jane@acme.com>", "<[email redacted]>"),
        ("“jane@acme.com”", "“[email redacted]”"),
        ("Kontakt\u{a0}jane@acme.com", "Kontakt\u{a0}[email redacted]"),
        ("иван@пример.рф", "[email redacted]"),
        ("用户@例子.广告", "[email redacted]"),
        ("連絡jane@acme.co.jpまで", "連絡[email redacted]まで"),
        ("jane＠acme.com", "[email redacted]"),
        ("O'Brien@acme.ie", "[email redacted]"),
        ("JANE.DOE@ACME.COM", "[email redacted]"),
        ("jane@xn--mller-kva.de", "[email redacted]"),
        ("jane@acme.com's inbox", "[email redacted]'s inbox"),
        ("email=jane@acme.com", "email=[email redacted]"),
        ("ops@10.0.0.1", "[email redacted]"),
        ("14155550100@sms.example.com", "[email redacted]"),
        // Both.
        (
            "Jane (jane@acme.com, +1 415 555 0100) or Jo at 06 12 34 56 78",
            "Jane ([email redacted], [phone redacted]) or Jo at [phone redacted]",
        ),
    ];

    /// Text that carries no contact detail and is kept as it is.
    const KEPT: &[&str] = &[
        // Dates and times.
        "since 2026-12-03 on version 4.2.1",
        "on 12/03/2026 and 03.12.2026",
        "at 2026-12-03T14:05:33Z",
        "at 2026-12-03 14:05:33 UTC",
        "at 2026-12-03T14:05:33+01:00, 2026/12/03 14:05",
        "03 12 2026 1430",
        "at 09:00-17:00 PST, 24x7",
        "build 20261202",
        // Versions.
        "v5.3.0-rc.1 and 1.2.3.4567",
        "10.4.12 → 10.4.13",
        "npm i @acme/sdk@4.2.1",
        "abc@v1.1",
        // IP addresses and ports.
        "host 10.0.0.1:8080, error code 0x80070005",
        "from 192.168.1.100 and 255.255.255.0",
        "[fe80::1] and 2001:db8:85a3::8a2e:370:7334",
        "localhost:8080 and :443",
        // Ticket ids.
        "ticket #123456789 and build 20261202",
        "ZD-12345 and #12345",
        "https://acme.zendesk.com/agent/tickets/4155550100",
        // Commit SHAs and UUIDs.
        "commit 3f9a2c1 and a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
        "sha 1234567 and 0123456789abcdef0123",
        "id 123e4567-e89b-12d3-a456-426614174000",
        "id 01234567-89ab-cdef-0123-456789abcdef",
        "image@sha256:0142685300aa",
        // Durations, sizes, codes, amounts.
        "took 1500ms, then 3h, then 24h",
        "took 1500 ms",
        "1048576 bytes, 1 048 576 bytes",
        "error E0432 and 0x80070005",
        "at main.rs:123:45 in src/lib.rs:98765",
        "$1,234,567.89 and 1,234,567",
        "99.95% of 1000000",
        // Ambiguous digits that are not phone-shaped.
        "timestamp 1733250000 and 1733250000123",
        "order 555-0100",
        "i32 max 2147483647, u32 max 4294967295",
        "0000012345",
        "pages 100-2000",
        "1-800-FLOWERS and 4111 1111 1111 1111",
        "PID 12345, port 5432",
        "0.0142685300",
        "@jane and @acme/support",
        "user@localhost",
    ];

    #[test]
    fn contact_details_are_redacted_in_every_common_form() {
        for (text, expected) in REDACTED {
            assert_eq!(redact(text), *expected, "{text:?}");
        }
    }

    #[test]
    fn dates_versions_ids_and_addresses_are_kept() {
        for text in KEPT {
            assert_eq!(redact(text), *text, "{text:?}");
        }
    }

    #[test]
    fn the_table_covers_both_kinds_widely() {
        assert!(REDACTED.len() + KEPT.len() >= 100);
        assert!(REDACTED.iter().filter(|(_, r)| r.contains(PHONE)).count() >= 40);
        assert!(REDACTED.iter().filter(|(_, r)| r.contains(EMAIL)).count() >= 20);
    }

    #[test]
    fn what_the_property_test_found_stays_fixed() {
        // A top-level domain running into another script was cut inside a character.
        assert_eq!(redact("jane@acme.comрф"), "[email redacted]рф");
        // An extension overlapped the number after it.
        let text = "4152000000ext. 06 12 34 56 78 ";
        assert_eq!(redact(text), "[phone redacted] 12 34 56 78 ");
        assert_eq!(redact(&redact(text)), redact(text));
        // A number glued to the one before it is redacted once that one is gone.
        assert_eq!(redact("0100000000:(2002000000電話"), "[phone redacted]:[phone redacted]電話");
        assert_eq!(redact("0142685300(+33) 1 42 68 53 00"), "[phone redacted][phone redacted]");
    }

    /// Pieces that make the scanners' hard cases when strung together.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{1,12}",
            prop::sample::select(vec![
                " ",
                "  ",
                "\u{a0}",
                "-",
                "–",
                ".",
                "/",
                "(",
                ")",
                "+",
                ",",
                ":",
                ";",
                "@",
                "＠",
                "%40",
                "%",
                "#",
                "x",
                "ext. ",
                "v",
                "e",
                "jane",
                "acme",
                "com",
                "de",
                "рф",
                "ü",
                "電話",
                "です",
                "\n",
                "[phone redacted]",
                "[email redacted]",
                "00",
                "0",
                "1",
                "415",
                "555",
                "0100",
                "06 12 34 56 78",
                "jane@acme.com",
                "'",
                "“",
                "\u{308}",
            ])
            .prop_map(str::to_string),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn redaction_never_panics_and_is_idempotent(pieces in prop::collection::vec(piece(), 0..24)) {
            let text: String = pieces.concat();
            let once = redact(&text);
            prop_assert_eq!(redact(&once), once.clone(), "text {:?}", text);
        }

        #[test]
        fn any_text_is_safe_to_redact(text in any::<String>()) {
            let once = redact(&text);
            prop_assert_eq!(redact(&once), once);
        }
    }
}
