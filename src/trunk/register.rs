//! Outbound REGISTER (placeholder, filled in below).
