//! The overview's chart of processed and failed runs, drawn on the server as SVG (no script, no
//! library, nothing fetched: it works offline and under the strict CSP).

use std::fmt::Write;

use chrono::{DateTime, TimeDelta, Timelike, Utc};
use jobs_core::HistoryPoint;

/// The span a chart covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Range {
    /// The last hour, a bar a minute.
    Hour,
    /// The last day, a bar every 15 minutes.
    Day,
}

impl Range {
    pub(crate) fn parse(text: Option<&str>) -> Result<Range, String> {
        match text {
            None | Some("hour") => Ok(Range::Hour),
            Some("day") => Ok(Range::Day),
            Some(other) => Err(format!("unknown range `{other}`: use hour or day")),
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Range::Hour => "hour",
            Range::Day => "day",
        }
    }

    /// (bars, minutes a bar)
    fn buckets(self) -> (usize, i64) {
        match self {
            Range::Hour => (60, 1),
            Range::Day => (96, 15),
        }
    }
}

/// Runs per bar, oldest first, and the totals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Series {
    pub(crate) start: DateTime<Utc>,
    pub(crate) minutes: i64,
    pub(crate) bars: Vec<(u64, u64)>,
    pub(crate) processed: u64,
    pub(crate) failed: u64,
}

/// Adds `points` up into the bars of `range` ending at `now`'s minute.
pub(crate) fn series(points: &[HistoryPoint], range: Range, now: DateTime<Utc>) -> Series {
    let (count, minutes) = range.buckets();
    let this_minute = now.with_second(0).and_then(|t| t.with_nanosecond(0)).unwrap_or(now);
    let start = this_minute - TimeDelta::minutes(minutes * count as i64 - 1);
    let mut bars = vec![(0u64, 0u64); count];
    for point in points {
        let offset = (point.minute - start).num_minutes();
        if offset < 0 {
            continue;
        }
        if let Some(bar) = bars.get_mut((offset / minutes) as usize) {
            bar.0 += point.processed;
            bar.1 += point.failed;
        }
    }
    let processed = bars.iter().map(|b| b.0).sum();
    let failed = bars.iter().map(|b| b.1).sum();
    Series { start, minutes, bars, processed, failed }
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 8.0;

/// The SVG of `series`: a bar per bucket, processed behind failed, a tooltip on each.
pub(crate) fn svg(series: &Series) -> String {
    let max = series.bars.iter().map(|b| b.0.max(b.1)).max().unwrap_or(0).max(1);
    let plot_width = WIDTH - LEFT - 4.0;
    let plot_height = HEIGHT - BOTTOM - TOP;
    let step = plot_width / series.bars.len() as f64;
    let scale = |n: u64| n as f64 / max as f64 * plot_height;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="processed and failed runs" xmlns="http://www.w3.org/2000/svg">"#
    );
    let baseline = HEIGHT - BOTTOM;
    let _ = write!(out, r#"<line class="axis" x1="{LEFT}" y1="{baseline}" x2="{}" y2="{baseline}"/>"#, WIDTH - 4.0);
    let _ = write!(out, r#"<line class="grid" x1="{LEFT}" y1="{TOP}" x2="{}" y2="{TOP}"/>"#, WIDTH - 4.0);
    let _ = write!(out, r#"<text class="label" x="{}" y="{}" text-anchor="end">{max}</text>"#, LEFT - 6.0, TOP + 4.0);
    let _ = write!(out, r#"<text class="label" x="{}" y="{baseline}" text-anchor="end">0</text>"#, LEFT - 6.0);
    for (i, (processed, failed)) in series.bars.iter().enumerate() {
        let x = LEFT + i as f64 * step;
        let at = series.start + TimeDelta::minutes(series.minutes * i as i64);
        let _ = write!(out, r#"<g><title>{}: {processed} processed, {failed} failed</title>"#, at.format("%H:%M"));
        for (class, n) in [("processed", *processed), ("failed", *failed)] {
            if n > 0 {
                let h = scale(n).max(1.0);
                let _ = write!(
                    out,
                    r#"<rect class="{class}" x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}"/>"#,
                    baseline - h,
                    (step - 1.0).max(1.0)
                );
            }
        }
        // An invisible full-height target, so the tooltip shows on empty minutes too.
        let _ =
            write!(out, r#"<rect class="hover" x="{x:.1}" y="{TOP}" width="{step:.1}" height="{plot_height}"/></g>"#);
    }
    let last = series.bars.len().saturating_sub(1);
    for i in [0, series.bars.len() / 2, last] {
        let at = series.start + TimeDelta::minutes(series.minutes * i as i64);
        let x = LEFT + i as f64 * step + step / 2.0;
        let anchor = if i == 0 {
            "start"
        } else if i == last {
            "end"
        } else {
            "middle"
        };
        let _ = write!(
            out,
            r#"<text class="label" x="{x:.1}" y="{}" text-anchor="{anchor}">{} UTC</text>"#,
            HEIGHT - 6.0,
            at.format("%H:%M")
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(minute: DateTime<Utc>, processed: u64, failed: u64) -> HistoryPoint {
        HistoryPoint { minute, queue: "default".into(), class: "A".into(), processed, failed }
    }

    #[test]
    fn adds_points_into_their_minutes() {
        let now = DateTime::parse_from_rfc3339("2026-12-06T12:00:30Z").unwrap().with_timezone(&Utc);
        let minute = |m: i64| now.with_second(0).unwrap() - TimeDelta::minutes(m);
        let points =
            [point(minute(0), 5, 1), point(minute(0), 2, 0), point(minute(59), 3, 3), point(minute(60), 100, 100)];
        let hour = series(&points, Range::Hour, now);
        assert_eq!(hour.bars.len(), 60);
        assert_eq!(hour.bars[59], (7, 1), "this minute, both classes");
        assert_eq!(hour.bars[0], (3, 3), "59 minutes ago is the first bar");
        assert_eq!((hour.processed, hour.failed), (10, 4), "an hour ago is outside the hour");
        let day = series(&points, Range::Day, now);
        assert_eq!((day.bars.len(), day.processed), (96, 110));
        let svg = svg(&hour);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("12:00: 7 processed, 1 failed"), "{svg}");
        assert_eq!(Range::parse(Some("week")).unwrap_err(), "unknown range `week`: use hour or day");
    }
}
