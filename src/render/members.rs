//! A territory's members as files to download: CSV (UTF-8 with a BOM, so spreadsheet programs read the
//! accents right) and XLSX, with the same columns. Pure: a [`TerritoryDetail`] in, bytes out.

use crate::atlas::queries::TerritoryDetail;

/// The columns of both files, in order.
pub const COLUMNS: [&str; 9] = [
    "territory_id",
    "territory_name",
    "edition",
    "member_kind",
    "member_code",
    "member_siren",
    "member_name",
    "communes",
    "population",
];

/// One row of values per member, as text (numbers unformatted).
fn rows(detail: &TerritoryDetail) -> impl Iterator<Item = [String; 9]> + '_ {
    let s = &detail.summary;
    detail.member_list.iter().map(move |m| {
        [
            s.id.clone(),
            s.name.clone(),
            s.edition.clone(),
            m.kind.label().to_owned(),
            m.code.clone(),
            m.siren.clone().unwrap_or_default(),
            m.name.clone(),
            m.figures.communes.to_string(),
            m.figures.population.to_string(),
        ]
    })
}

/// The members as CSV: a UTF-8 BOM, a header line, one line per member in list order, `\r\n` line ends.
///
/// # Errors
/// Only if writing to memory fails (it does not).
pub fn members_csv(detail: &TerritoryDetail) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    writer.write_record(COLUMNS)?;
    for row in rows(detail) {
        writer.write_record(&row)?;
    }
    let body = writer.into_inner().map_err(|e| csv::Error::from(e.into_error()))?;
    let mut out = Vec::with_capacity(body.len() + 3);
    out.extend_from_slice(b"\xEF\xBB\xBF");
    out.extend_from_slice(&body);
    Ok(out)
}

/// The members as an XLSX workbook of one sheet (named after the territory id): the same columns,
/// codes as text (their leading zeros kept), communes and population as numbers.
///
/// # Errors
/// An [`rust_xlsxwriter::XlsxError`] if the workbook cannot be assembled.
pub fn members_xlsx(detail: &TerritoryDetail) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let sheet = workbook.add_worksheet();
    // Sheet names: at most 31 characters, none of []:*?/\ (ids like `ti-3214` are fine).
    let name: String =
        detail.summary.id.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect::<String>();
    sheet.set_name(if name.is_empty() { "members" } else { &name })?;
    for (c, title) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *title, &bold)?;
    }
    for (r, row) in rows(detail).enumerate() {
        let r = r as u32 + 1;
        for (c, value) in row.iter().enumerate() {
            let c = c as u16;
            if c >= 7 {
                sheet.write_number(r, c, value.parse::<f64>().unwrap_or_default())?;
            } else {
                sheet.write_string(r, c, value)?;
            }
        }
    }
    sheet.set_column_width(1, 32)?;
    sheet.set_column_width(6, 40)?;
    workbook.save_to_buffer()
}
