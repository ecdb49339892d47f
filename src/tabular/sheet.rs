//! Spreadsheets (XLSX, XLS, ODS) as batches and lists read them: the first sheet, or the one named.

use std::io::{Read, Seek};

use calamine::{Data, Range, Reader, Sheets};

/// The name and cells of the sheet called `sheet`, else of the first one.
///
/// # Errors
/// A message naming the sheets there are when `sheet` is not one of them, or the workbook has none, or
/// the sheet cannot be read.
pub fn first_or_named<R: Read + Seek>(
    book: &mut Sheets<R>,
    sheet: Option<&str>,
) -> Result<(String, Range<Data>), String> {
    let names = book.sheet_names();
    let chosen = match sheet {
        Some(s) => names.iter().find(|n| n.as_str() == s).cloned().ok_or_else(|| {
            format!(
                "no sheet {s:?}; sheets: {}",
                names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
            )
        })?,
        None => names.first().cloned().ok_or_else(|| "the workbook has no sheet".to_owned())?,
    };
    let range = book.worksheet_range(&chosen).map_err(|e| format!("sheet {chosen:?}: {e}"))?;
    Ok((chosen, range))
}
