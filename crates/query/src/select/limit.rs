//! OFFSET/LIMIT operator over any result stream.

use super::*;

/// Skips `offset` rows, then passes at most `limit` rows.
pub(super) struct LimitStream {
    pub(super) inner: Box<dyn ResultStream>,
    pub(super) offset: u64,
    pub(super) limit: Option<u64>,
}

impl LimitStream {
    pub(super) fn new(inner: Box<dyn ResultStream>, offset: u64, limit: Option<u64>) -> Self {
        LimitStream {
            inner,
            offset,
            limit,
        }
    }
}

impl ResultStream for LimitStream {
    fn next_batch(&mut self, max_rows: usize) -> Result<Option<RowBatch>> {
        loop {
            if self.limit == Some(0) {
                return Ok(None);
            }
            let want = match self.limit {
                Some(l) => clamp_usize(l).min(max_rows.max(1)),
                None => max_rows.max(1),
            };
            let Some(b) = self.inner.next_batch(want)? else {
                return Ok(None);
            };
            let n = b.len();
            let skip = clamp_usize(self.offset).min(n);
            self.offset -= skip as u64;
            let mut take = n - skip;
            if let Some(l) = self.limit.as_mut() {
                take = take.min(clamp_usize(*l));
                *l -= take as u64;
            }
            if take == 0 {
                continue;
            }
            return Ok(Some(if skip == 0 && take == n {
                b
            } else {
                slice_batch(&b, skip..skip + take)
            }));
        }
    }
}
