//! The file system layer (in progress).
