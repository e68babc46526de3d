//! Redacting customer contact details from what engineering reads: e-mail addresses and phone
//! numbers, in North American and international forms. Dates, versions, ids and IP addresses
//! are left alone.

use std::sync::OnceLock;

use regex::Regex;

pub const EMAIL: &str = "[email redacted]";
pub const PHONE: &str = "[phone redacted]";

fn email() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b").expect("valid"))
}

/// Phone number candidates: `+` and a country code then groups (`+44 20 7946 0958`,
/// `+1 (415) 555-0100`), North American `(415) 555-0100` / `415-555-0100` / `415.555.0100`, and
/// national trunk forms `020 7946 0958`.
fn phone() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r"\+\d{1,3}(?:[ .\-]?(?:\(\d{1,4}\)|\d{1,4})){2,5}",
            r"|(?:\(\d{3}\)\s?|\b\d{3}[ .\-])\d{3}[ .\-]\d{4}\b",
            r"|\b0\d{2,4}[ \-]\d{3,4}[ \-]?\d{3,4}\b",
        ))
        .expect("valid")
    })
}

/// `text` with e-mail addresses and phone numbers replaced.
pub fn redact(text: &str) -> String {
    let text = email().replace_all(text, EMAIL);
    phone()
        .replace_all(&text, |caps: &regex::Captures| {
            let found = &caps[0];
            let digits = found.chars().filter(char::is_ascii_digit).count();
            // Too short or too long for a phone number (E.164 allows 15 digits): keep it.
            if (7..=15).contains(&digits) {
                PHONE.to_string()
            } else {
                found.to_string()
            }
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_details_are_redacted_in_every_common_form() {
        for (text, expected) in [
            ("mail jane.doe+ops@acme.example.co.uk now", "mail [email redacted] now"),
            ("call +1 415 555 0100.", "call [phone redacted]."),
            ("call (415) 555-0100 today", "call [phone redacted] today"),
            ("or 415-555-0100 / 415.555.0100", "or [phone redacted] / [phone redacted]"),
            ("London +44 20 7946 0958", "London [phone redacted]"),
            ("London 020 7946 0958", "London [phone redacted]"),
            ("Paris +33 1 42 68 53 00", "Paris [phone redacted]"),
            ("+1 (415) 555-0100", "[phone redacted]"),
            ("office (+44 20 7946 0958) too", "office ([phone redacted]) too"),
        ] {
            assert_eq!(redact(text), expected, "{text}");
        }
    }

    #[test]
    fn dates_versions_ids_and_addresses_are_kept() {
        for text in [
            "since 2026-12-02 on version 4.2.1",
            "ticket #123456789 and build 20261202",
            "host 10.0.0.1:8080, error code 0x80070005",
            "at 09:00-17:00 PST, 24x7",
        ] {
            assert_eq!(redact(text), text);
        }
    }
}
