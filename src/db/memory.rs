//! SQLite's memory, from the allocator the rest of the process uses.
//!
//! Left to itself, SQLite allocates with the C library's `malloc` and
//! counts every allocation and free under one process-wide lock, for
//! memory statistics nothing here reads. A checkout allocates a few
//! hundred times in SQLite (the page-cache pages a reader fetches again
//! after another connection committed, cursors, the writer's savepoint
//! journal), on every thread that runs statements. Here SQLite is given
//! the process's allocator instead, with its statistics off, before it
//! first starts (SQLite reads both settings only then).

use std::alloc::{self, Layout};
use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::OnceLock;

use rusqlite::ffi;

/// Each block starts with its size (SQLite asks for a block's size back),
/// and SQLite needs its memory 8-byte aligned.
const HEADER: usize = 8;
const ALIGN: usize = 8;

fn layout(size: usize) -> Option<Layout> {
    Layout::from_size_align(size.checked_add(HEADER)?, ALIGN).ok()
}

/// Writes the size header at `base` and answers the memory after it.
///
/// # Safety
/// `base` is a live block of at least `size + HEADER` bytes, 8-aligned.
unsafe fn start(base: *mut u8, size: usize) -> *mut c_void {
    // SAFETY: the caller's block holds the header, aligned for a u64.
    unsafe {
        base.cast::<u64>().write(size as u64);
        base.add(HEADER).cast()
    }
}

/// The block's start and the size it was asked for.
///
/// # Safety
/// `p` was answered by [`x_malloc`] or [`x_realloc`] and not freed.
unsafe fn block(p: *mut c_void) -> (*mut u8, usize) {
    // SAFETY: such a pointer is HEADER bytes into its block, after the size.
    unsafe {
        let base = p.cast::<u8>().sub(HEADER);
        (base, base.cast::<u64>().read() as usize)
    }
}

unsafe extern "C" fn x_malloc(size: c_int) -> *mut c_void {
    let Some(layout) = usize::try_from(size).ok().and_then(layout) else {
        return ptr::null_mut();
    };
    // SAFETY: the layout is never zero-sized (it holds the header).
    let base = unsafe { alloc::alloc(layout) };
    if base.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: a fresh block of the layout's size.
    unsafe { start(base, layout.size() - HEADER) }
}

unsafe extern "C" fn x_free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: SQLite frees only what this allocator answered, once.
    unsafe {
        let (base, size) = block(p);
        if let Some(layout) = layout(size) {
            alloc::dealloc(base, layout);
        }
    }
}

unsafe extern "C" fn x_realloc(p: *mut c_void, size: c_int) -> *mut c_void {
    if p.is_null() {
        // SAFETY: as x_malloc.
        return unsafe { x_malloc(size) };
    }
    let Some((size, new)) = usize::try_from(size).ok().and_then(|size| Some((size, layout(size)?))) else {
        return ptr::null_mut();
    };
    // SAFETY: `p` is a live block of this allocator with its old layout;
    // the new size is not zero and fits a layout.
    unsafe {
        let (base, old) = block(p);
        let Some(old) = layout(old) else { return ptr::null_mut() };
        let moved = alloc::realloc(base, old, new.size());
        if moved.is_null() {
            return ptr::null_mut();
        }
        start(moved, size)
    }
}

unsafe extern "C" fn x_size(p: *mut c_void) -> c_int {
    if p.is_null() {
        return 0;
    }
    // SAFETY: a live block of this allocator.
    let (_, size) = unsafe { block(p) };
    c_int::try_from(size).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn x_roundup(size: c_int) -> c_int {
    size.saturating_add(7) & !7
}

unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_shutdown(_: *mut c_void) {}

/// Gives SQLite the process's allocator, without its statistics, if
/// SQLite has not started yet in this process; once SQLite has started
/// (a connection was opened before), it keeps what it has and this does
/// nothing. Answers whether SQLite took it.
pub fn use_process_allocator() -> bool {
    static TAKEN: OnceLock<bool> = OnceLock::new();
    *TAKEN.get_or_init(|| {
        let methods = ffi::sqlite3_mem_methods {
            xMalloc: Some(x_malloc),
            xFree: Some(x_free),
            xRealloc: Some(x_realloc),
            xSize: Some(x_size),
            xRoundup: Some(x_roundup),
            xInit: Some(x_init),
            xShutdown: Some(x_shutdown),
            pAppData: ptr::null_mut(),
        };
        // SAFETY: SQLite copies the methods; both calls fail harmlessly
        // (SQLITE_MISUSE) once SQLite has started.
        unsafe {
            ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int) == ffi::SQLITE_OK
                && ffi::sqlite3_config(ffi::SQLITE_CONFIG_MALLOC, &raw const methods) == ffi::SQLITE_OK
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_keep_their_size_alignment_and_contents() {
        // SAFETY: the allocator's own functions, as SQLite calls them.
        unsafe {
            let p = x_malloc(13);
            assert!(!p.is_null());
            assert_eq!(p as usize % ALIGN, 0);
            assert_eq!(x_size(p), 13);
            ptr::copy_nonoverlapping(b"hello, sqlite".as_ptr(), p.cast::<u8>(), 13);
            let q = x_realloc(p, 5000);
            assert!(!q.is_null());
            assert_eq!(x_size(q), 5000);
            assert_eq!(std::slice::from_raw_parts(q.cast::<u8>(), 13), b"hello, sqlite");
            let r = x_realloc(q, 4);
            assert_eq!(x_size(r), 4);
            assert_eq!(std::slice::from_raw_parts(r.cast::<u8>(), 4), b"hell");
            x_free(r);
            x_free(ptr::null_mut());
            assert_eq!(x_size(ptr::null_mut()), 0);
            assert!(x_malloc(-1).is_null());
            assert_eq!(x_roundup(13), 16);
            assert_eq!(x_roundup(16), 16);
        }
    }
}
