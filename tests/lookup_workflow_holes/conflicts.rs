//! Item 4 (placeholder, filled in below).
