//! Recursion over input-shaped data (schema trees, expressions) without stack overflow.
//!
//! A path of ten thousand levels or a deeply nested expression must never abort the
//! process. Where iotdb-rs recurses over such data it goes through [`deep`], which moves
//! the rest of the recursion onto a fresh heap-allocated stack segment whenever the
//! current one runs low (the `stacker` crate). Input limits ([`crate::path::MAX_PATH_DEPTH`],
//! the SQL parser's nesting limit) keep new data shallow; this keeps data written before
//! those limits existed, and any walk they do not cover, safe.

/// Stack that must remain before recursing deeper without switching segments.
const RED_ZONE: usize = 128 * 1024;
/// Size of each extra stack segment.
const STACK_SEGMENT: usize = 2 * 1024 * 1024;

/// Runs `f`, first switching to a new stack segment if less than a red zone remains.
#[inline]
pub fn deep<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, f)
}

#[cfg(test)]
mod tests {
    use super::deep;

    fn depth(n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            // A large frame so that a plain recursion of this depth would overflow.
            let pad = std::hint::black_box([n; 64]);
            1 + deep(|| depth(n - 1)) + pad[0] - n
        }
    }

    #[test]
    fn deep_recursion_does_not_overflow_a_small_stack() {
        let h = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| depth(200_000))
            .unwrap();
        assert_eq!(h.join().unwrap(), 200_000);
    }
}
