//! Item 3 (placeholder, filled in below).
