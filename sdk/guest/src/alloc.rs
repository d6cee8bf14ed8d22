//! The allocator of a plug-in call (feature `call-allocator`, on by default).
//!
//! Every call runs in a fresh instance whose memory is discarded when the call
//! returns, so memory never has to be given back for a later call: this
//! allocator hands out memory in order from the end of the heap, grows the
//! linear memory a page at a time as needed, and reclaims only the most
//! recent block (freed, or grown in place by `realloc`). Allocation is a few
//! instructions instead of a general allocator's bookkeeping. A call that
//! allocates more than the memory limit ends in a `memory` failure, as it
//! would with any allocator. A plug-in that frees and allocates a lot within
//! one call (say, a string per iteration of a long loop) may prefer a general
//! allocator: depend on the SDK with `default-features = false` and set one.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;

const PAGE: usize = 64 * 1024;

#[global_allocator]
static ALLOCATOR: CallAllocator = CallAllocator::new();

/// Bump allocator for wasm32 plug-ins (see the module documentation).
struct CallAllocator {
    state: UnsafeCell<(usize, usize)>, // (next free address, end of memory)
}

// SAFETY: wasm32 plug-ins are single-threaded (the host runs no threads).
unsafe impl Sync for CallAllocator {}

impl CallAllocator {
    /// An allocator that starts at the heap's base on first use.
    const fn new() -> CallAllocator {
        CallAllocator {
            state: UnsafeCell::new((0, 0)),
        }
    }
}

extern "C" {
    static __heap_base: u8;
}

fn heap_base() -> usize {
    // SAFETY: the linker defines `__heap_base`; only its address is taken.
    unsafe { &__heap_base as *const u8 as usize }
}

/// Takes `size` bytes at `start`, the new end of the heap, growing memory by
/// whole pages as needed;
/// `None` when the address overflows or memory cannot grow that far.
fn reserve(state: &mut (usize, usize), start: usize, size: usize) -> Option<usize> {
    let end = start.checked_add(size)?;
    if end > state.1 {
        let pages = (end - state.1 + PAGE - 1) / PAGE;
        let old = core::arch::wasm32::memory_grow(0, pages);
        if old == usize::MAX {
            return None;
        }
        state.1 = (old + pages) * PAGE;
    }
    state.0 = end;
    Some(start)
}

unsafe impl GlobalAlloc for CallAllocator {
    #[inline(never)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let state = &mut *self.state.get();
        if state.1 == 0 {
            state.0 = heap_base();
            state.1 = core::arch::wasm32::memory_size(0) * PAGE;
        }
        let start = (state.0 + layout.align() - 1) & !(layout.align() - 1);
        reserve(state, start, layout.size()).map_or(core::ptr::null_mut(), |at| at as *mut u8)
    }

    #[inline(never)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let state = &mut *self.state.get();
        if ptr as usize + layout.size() == state.0 {
            state.0 = ptr as usize;
        }
    }

    #[inline(never)]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let state = &mut *self.state.get();
        if ptr as usize + layout.size() == state.0 {
            // The last block: grow or shrink it where it is.
            return reserve(state, ptr as usize, new_size).map_or(core::ptr::null_mut(), |_| ptr);
        }
        if new_size <= layout.size() {
            return ptr;
        }
        let new = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
        if !new.is_null() {
            core::ptr::copy_nonoverlapping(ptr, new, layout.size());
        }
        new
    }
}
