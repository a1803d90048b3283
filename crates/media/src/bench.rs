//! Relay benchmark (placeholder while the engine compiles).
