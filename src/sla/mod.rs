//! The pure SLA domain: no I/O, no async, no clock reads. Facts and an
//! instant go in; decisions come out.

pub mod alerting;
pub mod calendar;
pub mod clock;
pub mod policy;
pub mod time;
pub mod zones;
