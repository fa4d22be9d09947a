//! One decoded time column for the non-aligned series of a device read together.
//!
//! Each non-aligned series carries its own copy of its timestamps in every page, so a device
//! whose series were written together (a tablet) holds the same time column once per
//! series. A raw query over several such series decoded it once per series, then compared
//! the copies to find that the rows line up (`query::join::shares_times`): on a 1 M x 4
//! DOUBLE scan, three decodes and three compares too many.
//!
//! [`TimeShare`] keeps what the first series of a device read over a range decoded from its
//! clean chunks: per page, the encoded time column and the rows the range kept, and in the
//! end the whole decoded column. Each following series compares each page's encoded time
//! column with the first series' page at the same position: while the bytes are equal,
//! only the values are decoded (the times are the same ones), and a series whose pages all
//! matched gets the first series' [`model::Times`] itself (shared, not copied), which the
//! join recognizes by pointer. At the first page that differs, the times matched so far are
//! copied in and the series is decoded as usual from there on.

use crate::api::{SeriesData, TimeRange};
use crate::memtable::MemTimeShare;
use model::{Result, Times};
use std::ops::Range;
use tsfile::reader::{Chunk, PageRef};

/// One decoded page of the series that leads.
struct LeadPage {
    /// Its encoded time column.
    encoded: Vec<u8>,
    /// Times it decoded to.
    decoded: usize,
    /// Those the range kept (positions within the page).
    kept: Range<usize>,
}

/// What the series being read does with the shared times.
#[derive(Default)]
enum Role {
    /// Not reading.
    #[default]
    Idle,
    /// Leads: records its pages; `valid` until a page's points come otherwise (a page
    /// reduced for an aggregation).
    Lead { valid: bool },
    /// Follows the lead: `next` lead page to compare with, `rows` times taken from the lead
    /// so far (not yet in the series' own buffer), `own` once it decodes its own times.
    Follow { next: usize, rows: usize, own: bool },
}

/// The time column shared by the non-aligned series of one device read over one range (see
/// the module documentation). One per device and range; series are read one after another.
#[derive(Default)]
pub(crate) struct TimeShare {
    pages: Vec<LeadPage>,
    /// The lead's times once it has been read whole (and could lead).
    times: Option<Times>,
    role: Role,
    /// The times the device's series hold in memtables.
    mem: MemTimeShare,
}

impl TimeShare {
    /// Where the series read through this share take times held in memtables from.
    pub(crate) fn mem(&mut self) -> &mut MemTimeShare {
        &mut self.mem
    }

    /// Starts reading a series: the first one leads, the others follow.
    pub(crate) fn begin(&mut self) {
        self.role = match self.times {
            Some(_) => Role::Follow {
                next: 0,
                rows: 0,
                own: false,
            },
            None => {
                self.pages.clear();
                Role::Lead { valid: true }
            }
        };
    }

    /// True while the series being read takes its times from the lead (its own time buffer
    /// stays empty meanwhile).
    pub(crate) fn defers_times(&self) -> bool {
        matches!(self.role, Role::Follow { own: false, .. })
    }

    /// Decodes `page` of `chunk` into `out`, keeping the points inside `range`.
    pub(crate) fn decode(
        &mut self,
        chunk: &Chunk,
        page: &PageRef,
        range: TimeRange,
        out: &mut SeriesData,
    ) -> Result<()> {
        match &mut self.role {
            Role::Follow {
                next,
                rows,
                own: false,
            } => {
                if let Some(lead) = self.pages.get(*next) {
                    let before = out.values.len();
                    if chunk.decode_values_if_times(
                        page,
                        &lead.encoded,
                        lead.decoded,
                        &mut out.values,
                    )? {
                        // the same times, so the same cut
                        if lead.kept.end < lead.decoded {
                            out.values.truncate(before + lead.kept.end);
                        }
                        if lead.kept.start > 0 {
                            out.values.remove_range(before..before + lead.kept.start);
                        }
                        *rows += lead.kept.len();
                        *next += 1;
                        return Ok(());
                    }
                }
                self.take_own(out);
                decode_cut(chunk, page, range, out, None).map(|_| ())
            }
            Role::Lead { valid: true } => {
                let mut encoded = Vec::new();
                let (decoded, kept) = decode_cut(chunk, page, range, out, Some(&mut encoded))?;
                self.pages.push(LeadPage {
                    encoded,
                    decoded,
                    kept,
                });
                Ok(())
            }
            _ => decode_cut(chunk, page, range, out, None).map(|_| ()),
        }
    }

    /// Before points come into `out` other than through [`TimeShare::decode`]: a follower
    /// copies in the times taken so far and decodes its own from here on; the lead can no
    /// longer lead.
    pub(crate) fn take_own(&mut self, out: &mut SeriesData) {
        match &mut self.role {
            Role::Follow { rows, own, .. } if !*own => {
                if let Some(times) = &self.times {
                    out.times.extend_from_slice(&times[..*rows]);
                }
                *own = true;
            }
            Role::Lead { valid } => *valid = false,
            _ => {}
        }
    }

    /// Ends reading a series whose clean points are `clean`: the lead's times are kept for
    /// the followers; a follower whose every page matched gets the lead's times themselves.
    pub(crate) fn finish(&mut self, clean: &mut SeriesData) {
        match std::mem::take(&mut self.role) {
            Role::Lead { valid } => {
                let kept: usize = self.pages.iter().map(|p| p.kept.len()).sum();
                self.times = (valid && kept == clean.times.len()).then(|| clean.times.clone());
            }
            Role::Follow {
                next,
                rows,
                own: false,
            } => {
                if let Some(times) = &self.times {
                    clean.times = if next == self.pages.len() && rows == times.len() {
                        times.clone()
                    } else {
                        Times::from(times[..rows].to_vec())
                    };
                }
            }
            _ => {}
        }
    }
}

/// Decodes `page` of `chunk` onto the end of `out` and cuts what it added to `range`
/// (recording the page's encoded time column in `encoded` if given): how many points the
/// page decoded to, and which of them were kept.
pub(crate) fn decode_cut(
    chunk: &Chunk,
    page: &PageRef,
    range: TimeRange,
    out: &mut SeriesData,
    encoded: Option<&mut Vec<u8>>,
) -> Result<(usize, Range<usize>)> {
    let before = out.times.len();
    match encoded {
        Some(e) => chunk.decode_page_recording(page, &mut out.times, &mut out.values, e)?,
        None => chunk.decode_page_into(page, &mut out.times, &mut out.values)?,
    };
    let added = &out.times[before..];
    let decoded = added.len();
    let (lo, hi) = (
        added.partition_point(|&t| t < range.start),
        added.partition_point(|&t| t <= range.end),
    );
    if hi < decoded {
        out.times.truncate(before + hi);
        out.values.truncate(before + hi);
    }
    if lo > 0 {
        out.times.drain(before..before + lo);
        out.values.remove_range(before..before + lo);
    }
    Ok((decoded, lo..hi))
}
