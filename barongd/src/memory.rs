//! The allocator: mimalloc, which hands freed memory back to the OS (glibc's malloc kept the
//! argon2 blocks and a heap per thread after a login flood: bench/authz read 123 MB after
//! 10,000 sessions).
//!
//! mimalloc returns memory lazily, from inside later allocator calls; an idle daemon makes
//! almost none, so what a burst freed would stay resident. [`give_back`] asks for it when it
//! matters most: a hashing thread that went idle dropping its 19 MiB block.
#![allow(unsafe_code)]

/// Frees what mimalloc holds without using; `force` also returns memory whose purge delay has
/// not run out yet.
pub fn give_back(force: bool) {
    // SAFETY: mi_collect takes no pointers and has no preconditions; it only walks mimalloc's
    // own bookkeeping for the calling thread and the shared arenas.
    unsafe { libmimalloc_sys::mi_collect(force) }
}
