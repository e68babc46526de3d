//! No panic on any input (issue 17, point 9): the Zendesk and GitHub decoders and the config
//! parser are fed random mutations of realistic payloads (tests/fixtures/no_panic/): truncations,
//! values of another type, numbers too large for any integer, lone-surrogate escapes and invalid
//! UTF-8, deep nesting, duplicate keys. Each input goes through the same path the clients and
//! `check-config` take (bytes → serde_json → the models and their readers; text →
//! `Config::parse`) and must come back as a value or a clear error: never a panic (debug builds
//! also panic on arithmetic overflow), never a hang.
//!
//! Every case runs in a thread of its own under `CASE_LIMIT`: a panic or a case still running
//! after it fails the property with the input. 256 cases a property by default;
//! `PROPTEST_CASES=5000 cargo test --test no_panic` looks harder.

use slawatch::config::Config;

// ---------------------------------------------------------------------------------------------
// The regressions the properties found
// ---------------------------------------------------------------------------------------------

/// Found by `config_integers_are_read_or_refused_by_name`: the store's cache in bytes
/// (`cache_mb` × 1 MiB) overflowed u64: a panic in debug builds, a tiny cache in release ones.
#[test]
fn a_cache_too_large_to_count_in_bytes_is_refused_by_name() {
    for mb in ["9223372036854775807", "17592186044416"] {
        let errors = Config::parse("mutated.toml", &format!("[store]\ncache_mb = {mb}\n")).unwrap_err();
        assert_eq!(
            errors.to_string(),
            format!("mutated.toml:2: store.cache_mb: {mb} MiB is too large (at most 17592186044415)")
        );
    }
    let config = Config::parse("mutated.toml", "[store]\ncache_mb = 17592186044415\n").unwrap();
    assert_eq!(config.store.cache_bytes, 17_592_186_044_415 << 20, "the largest that fits is kept");
}

/// Found by `config_integers_are_read_or_refused_by_name`: `zendesk.page_size` out of range was
/// refused without its line.
#[test]
fn a_page_size_out_of_range_is_refused_at_its_line() {
    let text =
        "[zendesk]\nurl = \"https://acme.zendesk.com\"\noauth_token_env = \"ZENDESK_OAUTH_TOKEN\"\npage_size = 9223372036854775807\n";
    let errors = Config::parse("mutated.toml", text).unwrap_err();
    assert_eq!(
        errors.to_string(),
        "mutated.toml:4: zendesk.page_size: 9223372036854775807 is not between 1 and 1000"
    );
}

/// Found by `toml_text_mutations_parse_or_fail_clearly` and the truncations: toml leaves some
/// syntax errors without a message (a lone carriage return, a NUL, a file cut where a value is
/// expected), and the error said nothing but the line.
#[test]
fn toml_syntax_errors_without_a_message_say_what_is_wrong() {
    let cases = [
        (
            "a = 1\n\rb = 2\n",
            2,
            "invalid TOML: the control character '\\r' is not allowed here",
        ),
        (
            "[alerts]\nthresholds = [\r\"75%\"]\n",
            2,
            "invalid TOML: the control character '\\r' is not allowed here",
        ),
        (
            "# a comment\0\n",
            1,
            "invalid TOML: the control character '\\0' is not allowed here",
        ),
        (
            "[alerts]\nreminder_every = ",
            2,
            "invalid TOML: the file ends where a value, or the end of a string, array or table, is expected",
        ),
        (
            "[alerts]\nthresholds = [\n  # the thresholds",
            3,
            "invalid TOML: the file ends where a value, or the end of a string, array or table, is expected",
        ),
    ];
    for (text, line, problem) in cases {
        let errors = Config::parse("mutated.toml", text).unwrap_err();
        assert_eq!(errors.to_string(), format!("mutated.toml:{line}: {problem}"), "{text:?}");
    }
}
