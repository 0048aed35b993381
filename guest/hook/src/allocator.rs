//! The component's memory allocator: free lists of small blocks in front of the
//! standard allocator.
//!
//! A hook call allocates and frees hundreds of short strings and vectors, and the
//! standard allocator (dlmalloc from wasi-libc) took about a quarter of the hook's
//! own time for them. Here a block of up to 512 bytes goes back to a free list of
//! its size class when it is freed, and the next allocation of that class takes it
//! from the list in a few instructions. Blocks on the lists are never returned to
//! dlmalloc, so the memory in use stays at its peak, which the schema parse of the
//! first call sets.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ptr;

/// The block sizes of the free lists. Every block is aligned to 16 bytes.
const CLASSES: [usize; 6] = [16, 32, 64, 128, 256, 512];
const ALIGN: usize = 16;

/// Free lists of blocks of up to 512 bytes, with dlmalloc for larger blocks.
pub(crate) struct SmallBlocks {
    /// The first free block of each class; each free block stores the next one.
    free: UnsafeCell<[*mut u8; CLASSES.len()]>,
}

// SAFETY: a wasm32-wasip2 component runs on one thread, so the lists are never
// reached from two threads. The allocator is only installed for wasm32.
unsafe impl Sync for SmallBlocks {}

impl SmallBlocks {
    pub(crate) const fn new() -> SmallBlocks {
        SmallBlocks {
            free: UnsafeCell::new([ptr::null_mut(); CLASSES.len()]),
        }
    }
}

/// Returns the class of `layout`, or None for blocks that go to dlmalloc directly.
fn class(layout: Layout) -> Option<usize> {
    if layout.align() > ALIGN {
        return None;
    }
    CLASSES.iter().position(|&size| layout.size() <= size)
}

unsafe impl GlobalAlloc for SmallBlocks {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(index) = class(layout) else {
            // SAFETY: the caller's layout goes to the standard allocator unchanged.
            return unsafe { System.alloc(layout) };
        };
        // SAFETY: one thread (see `Sync`), and no reference to the lists outlives this call.
        let free = unsafe { &mut *self.free.get() };
        let head = free[index];
        if head.is_null() {
            // SAFETY: the class size is nonzero and ALIGN is a power of two.
            return unsafe {
                System.alloc(Layout::from_size_align_unchecked(CLASSES[index], ALIGN))
            };
        }
        // SAFETY: a free block holds the pointer to the next one in its first bytes.
        free[index] = unsafe { head.cast::<*mut u8>().read() };
        head
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        let Some(index) = class(layout) else {
            // SAFETY: blocks outside the classes came from the standard allocator.
            unsafe { System.dealloc(block, layout) };
            return;
        };
        // SAFETY: as in `alloc`; the block has at least 16 bytes aligned to 16, room
        // for the pointer to the next free block.
        let free = unsafe { &mut *self.free.get() };
        unsafe { block.cast::<*mut u8>().write(free[index]) };
        free[index] = block;
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees that `new_size`, rounded up to the alignment,
        // does not overflow isize.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class(layout), class(new_layout)) {
            (Some(old), Some(new)) if old == new => block,
            // SAFETY: both blocks belong to the standard allocator.
            (None, None) => unsafe { System.realloc(block, layout, new_size) },
            _ => {
                // SAFETY: a new block of the new layout, the old one stays valid until
                // its contents are copied.
                let moved = unsafe { self.alloc(new_layout) };
                if !moved.is_null() {
                    unsafe {
                        ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                        self.dealloc(block, layout);
                    }
                }
                moved
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).expect("a valid layout")
    }

    #[test]
    fn freed_block_serves_same_class() {
        let blocks = SmallBlocks::new();
        unsafe {
            let first = blocks.alloc(layout(24, 8));
            blocks.dealloc(first, layout(24, 8));
            let second = blocks.alloc(layout(30, 4));
            assert_eq!(first, second);
            let other_class = blocks.alloc(layout(40, 8));
            assert_ne!(other_class, second);
            assert_eq!(other_class as usize % ALIGN, 0);
        }
    }

    #[test]
    fn realloc_keeps_contents_across_classes() {
        let blocks = SmallBlocks::new();
        unsafe {
            let mut block = blocks.alloc(layout(20, 1));
            for index in 0..20 {
                block.add(index).write(index as u8);
            }
            let mut size = 20;
            for new_size in [28, 100, 4000, 9000, 300, 10] {
                block = blocks.realloc(block, layout(size, 1), new_size);
                assert!(!block.is_null());
                for index in 0..size.min(new_size).min(20) {
                    assert_eq!(
                        block.add(index).read(),
                        index as u8,
                        "byte {index} after {new_size}"
                    );
                }
                size = new_size;
            }
            blocks.dealloc(block, layout(size, 1));
        }
    }

    #[test]
    fn large_and_overaligned_blocks_bypass_lists() {
        let blocks = SmallBlocks::new();
        unsafe {
            let aligned = blocks.alloc(layout(32, 64));
            assert_eq!(aligned as usize % 64, 0);
            blocks.dealloc(aligned, layout(32, 64));
            let large = blocks.alloc(layout(4096, 8));
            assert!(!large.is_null());
            blocks.dealloc(large, layout(4096, 8));
            assert!((*blocks.free.get()).iter().all(|head| head.is_null()));
        }
    }
}
