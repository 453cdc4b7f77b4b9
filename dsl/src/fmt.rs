//! placeholder replaced by the formatter module
