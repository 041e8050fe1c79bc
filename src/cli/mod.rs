//! Glue between the command line and the library: argument handling, printing, exit codes.

pub mod check;
pub mod model;
pub mod serve;
pub mod simulate;
