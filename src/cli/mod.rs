//! What the subcommands do, beyond parsing their arguments.

pub mod calc;
pub mod daemon;
pub mod init;
pub mod preflight;
pub mod report;
pub mod test_alert;
pub mod test_page;
pub mod watchdog;
pub mod webhook_setup;

/// Writes to stdout; a reader that went away (`| head`) is not an error worth a panic.
pub fn write_stdout(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
