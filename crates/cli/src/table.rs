//! Aligned-column tables for people: a header row, then one row per item, columns
//! separated by two spaces. Scripts use `--json` instead.

/// A table being filled.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// Replaces control characters, so text from the server cannot move the cursor
/// or change the terminal's colours.
fn printable(text: &str) -> String {
    text.chars()
        .map(|character| {
            if character.is_control() {
                '?'
            } else {
                character
            }
        })
        .collect()
}

impl Table {
    /// A table with these column headers; an empty list gives a table without a
    /// header row (for name/value listings).
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|header| (*header).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row. Missing cells are left blank; extra cells get columns too.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows
            .push(cells.iter().map(|cell| printable(cell)).collect());
    }

    /// The table as text, one line per row, each ending in a newline. Widths
    /// count characters; trailing spaces are not written.
    pub fn render(&self) -> String {
        let header_row = (!self.headers.is_empty()).then_some(&self.headers);
        let all_rows = || header_row.into_iter().chain(self.rows.iter());
        let columns = all_rows().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0; columns];
        for row in all_rows() {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in all_rows() {
            let mut line = String::new();
            for (index, width) in widths.iter().enumerate() {
                let cell = row.get(index).map_or("", String::as_str);
                if index > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                let pad = width.saturating_sub(cell.chars().count());
                line.extend(std::iter::repeat_n(' ', pad));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(table: &Table, expected: &str) {
        assert_eq!(table.render(), expected);
    }

    fn cells(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|cell| (*cell).to_owned()).collect()
    }

    #[test]
    fn aligns_columns_to_the_widest_cell() {
        let mut table = Table::new(&["NAME", "STATE", "VERSION"]);
        table.row(cells(&["db", "active", "1"]));
        table.row(cells(&["backups-2026", "deactivated", "12"]));
        check(
            &table,
            "NAME          STATE        VERSION\n\
             db            active       1\n\
             backups-2026  deactivated  12\n",
        );
    }

    #[test]
    fn header_only_when_there_are_no_rows() {
        let table = Table::new(&["ID", "ROLE"]);
        check(&table, "ID  ROLE\n");
    }

    #[test]
    fn no_header_for_name_value_listings() {
        let mut table = Table::new(&[]);
        table.row(cells(&["Name:", "db"]));
        table.row(cells(&["Algorithm:", "aes 256"]));
        check(&table, "Name:       db\nAlgorithm:  aes 256\n");
    }

    #[test]
    fn short_rows_and_trailing_blanks_leave_no_trailing_spaces() {
        let mut table = Table::new(&["A", "B", "C"]);
        table.row(cells(&["x"]));
        table.row(cells(&["y", "", ""]));
        table.row(cells(&["z", "2", "3", "extra"]));
        check(&table, "A  B  C\nx\ny\nz  2  3  extra\n");
    }

    #[test]
    fn counts_characters_not_bytes() {
        let mut table = Table::new(&["NAME", "X"]);
        table.row(cells(&["clé", "1"]));
        check(&table, "NAME  X\nclé   1\n");
    }

    #[test]
    fn control_characters_from_the_server_are_neutralised() {
        let mut table = Table::new(&["NAME"]);
        table.row(cells(&["evil\u{1b}[31m\nname"]));
        check(&table, "NAME\nevil?[31m?name\n");
    }
}
