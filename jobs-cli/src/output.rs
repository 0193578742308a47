//! What commands print: aligned tables for people, JSON for scripts.

use std::fmt::Write as _;
use std::io::Write as _;

use serde::Serialize;

use crate::exit::Failure;

/// How a command prints its answer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Output {
    /// JSON on stdout instead of text.
    pub(crate) json: bool,
}

impl Output {
    /// Prints `value` as pretty JSON.
    pub(crate) fn json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), Failure> {
        let text =
            serde_json::to_string_pretty(value).map_err(|e| Failure::Failed(format!("cannot write JSON: {e}")))?;
        self.text(&format!("{text}\n"))
    }

    /// Prints `text` as it is. A reader that went away (`jobs list | head -1`) is no error.
    pub(crate) fn text(&self, text: &str) -> Result<(), Failure> {
        let mut stdout = std::io::stdout().lock();
        match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
            Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(Failure::Failed(format!("cannot write the output: {error}")))
            }
            _ => Ok(()),
        }
    }
}

/// How a column lines up its cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// A table of text: a header, rows, columns padded to their widest cell, two spaces apart.
#[derive(Debug)]
pub(crate) struct Table {
    columns: Vec<(&'static str, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns.
    pub(crate) fn new(columns: &[(&'static str, Align)]) -> Table {
        Table { columns: columns.to_vec(), rows: Vec::new() }
    }

    /// Adds a row, one cell per column.
    pub(crate) fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.columns.len(), "one cell per column");
        self.rows.push(cells);
    }

    /// The table as text, ending with a newline; trailing spaces trimmed.
    pub(crate) fn render(&self) -> String {
        let width = |cell: &str| cell.chars().count();
        let widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, (name, _))| self.rows.iter().map(|row| width(&row[i])).chain([width(name)]).max().unwrap_or(0))
            .collect();
        let mut text = String::new();
        let header: Vec<String> = self.columns.iter().map(|(name, _)| (*name).to_owned()).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = widths[i] - width(cell);
                match self.columns[i].1 {
                    Align::Left => {
                        line.push_str(cell);
                        line.extend(std::iter::repeat_n(' ', pad));
                    }
                    Align::Right => {
                        line.extend(std::iter::repeat_n(' ', pad));
                        line.push_str(cell);
                    }
                }
            }
            let _ = writeln!(text, "{}", line.trim_end());
        }
        text
    }
}

/// `text` cut to `max` characters, with `…` where it was cut; on one line.
pub(crate) fn clip(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut clipped: String = one_line.chars().take(max.saturating_sub(1)).collect();
    clipped.push('…');
    clipped
}

/// `count` and the noun, singular or plural: `1 job`, `3 jobs`.
pub(crate) fn plural(count: u64, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let mut table = Table::new(&[("QUEUE", Align::Left), ("READY", Align::Right), ("NOTE", Align::Left)]);
        table.row(vec!["default".into(), "12".into(), String::new()]);
        table.row(vec!["mailers".into(), "3".into(), "paused".into()]);
        assert_eq!(table.render(), "QUEUE    READY  NOTE\ndefault     12\nmailers      3  paused\n");
    }

    #[test]
    fn long_text_is_clipped_to_one_line() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("a\nmessage  that is long", 12), "a message t…");
        assert_eq!(plural(1, "job"), "1 job");
        assert_eq!(plural(0, "job"), "0 jobs");
    }
}
