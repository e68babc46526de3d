//! What the subcommands do, beyond parsing their arguments.

pub mod calc;
pub mod daemon;
