//! `import-list` on ANCT-shaped files with every defect ANCT's exports really have, each turned into
//! exactly the list the clean file gives; `--strict`, idempotence, the "what changed" report and the
//! unfixable errors (all listed at once, with file and line).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;
use territoires::source::import::{ImportOptions, Imported, NormalisedRow, UnitRegistry, import_list};

use crate::support::geodata;

fn registry() -> &'static UnitRegistry {
    static REGISTRY: OnceLock<UnitRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| UnitRegistry::from_geodata(&geodata()).unwrap_or_else(|e| panic!("{e}")))
}

/// ANCT's data.gouv.fr shape, clean: three real phase II territories, a commune member among them.
const CLEAN: &str = "id_ti,lib_ti,siren_groupement,lib_groupement,nature_juridique\n\
ti-0101,Basse-Terre,249710062,CA du Nord Basse-Terre,CA\n\
ti-0101,Basse-Terre,249710070,CA Grand Sud Caraïbe,CA\n\
ti-0103,Terres de Cannes et Industries d'Avenir,200044691,CA du Nord Grande Terre,CA\n\
ti-0103,Terres de Cannes et Industries d'Avenir,249710047,CC de Marie-Galante,CC\n\
ti-2707,Nevers Val de Loire,245804406,CA de Nevers,CA\n\
ti-2707,Nevers Val de Loire,215800467,Cercy-la-Tour,COM\n\
ti-2707,Nevers Val de Loire,200067700,CC Sud Nivernais,CC\n";

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write fixture");
    path
}

fn import(path: &Path, strict: bool) -> Result<Imported, String> {
    import_list(&[path.to_path_buf()], registry(), &ImportOptions { sheet: None, strict })
        .map_err(|e| e.to_string())
}

fn clean_rows(dir: &Path) -> Vec<NormalisedRow> {
    let imported =
        import(&write(dir, "clean.csv", CLEAN.as_bytes()), true).expect("clean file imports strictly");
    assert!(imported.repairs.is_empty(), "{:?}", imported.repairs);
    imported.rows
}

/// Text as a UTF-8 file read as Latin-1 and saved again as UTF-8 makes it.
fn mojibake(s: &str) -> String {
    s.bytes().map(char::from).collect()
}

#[test]
fn the_clean_file_gives_the_committed_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rows = clean_rows(dir.path());
    assert_eq!(rows.len(), 7);
    let committed = std::fs::read_to_string(geodata().join("territories/2023.csv")).expect("2023.csv");
    for r in &rows {
        let line = format!(
            "{},{},{},{},{},{},{}",
            r.id_ti, r.lib_ti, r.insee_reg, r.member_siren, r.member_name, r.member_kind, r.member_insee_com
        );
        assert!(committed.lines().any(|l| l == line), "{line} is a line of 2023.csv");
    }
    assert_eq!(rows[5].member_kind, "COM");
    assert_eq!(rows[5].member_insee_com, "58046");
}

#[test]
fn every_defect_is_repaired_into_the_clean_list_and_refused_by_strict() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clean = clean_rows(dir.path());
    let wrap = |t: &str| {
        t.lines()
            .enumerate()
            .map(|(i, l)| {
                if i == 0 {
                    return l.to_owned();
                }
                let mut cells: Vec<String> = l.split(',').map(str::to_owned).collect();
                cells[2] = format!("=\"{}\"", cells[2]);
                cells.join(",")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let numeric = CLEAN.replace(",249710062,", ",249710062.0,").replace(",215800467,", ",2.15800467E+08,");
    let (latin1, _, _) = encoding_rs::WINDOWS_1252.encode(CLEAN);
    let spaced = CLEAN
        .replace("Basse-Terre,249710062", "Basse-Terre\u{a0},249710062")
        .replace("CA de Nevers,", "CA de  Nevers   ,")
        .replace(",Cercy-la-Tour,", ", Cercy-la-Tour\u{a0},");
    let garbled = CLEAN
        .replace("Caraïbe", &mojibake("Caraïbe"))
        .replace("Industries d'Avenir,200044691", &mojibake("Industries d\u{2019}Avenir,200044691"));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("bom.csv", format!("\u{feff}{CLEAN}").into_bytes(), "byte-order mark"),
        ("semicolon.csv", CLEAN.replace(',', ";").into_bytes(), "separator"),
        ("tab.csv", CLEAN.replace(',', "\t").into_bytes(), "separator"),
        ("crlf.csv", CLEAN.replace('\n', "\r\n").into_bytes(), "CRLF"),
        ("cp1252.csv", latin1.into_owned(), "Windows-1252"),
        ("wrapped.csv", wrap(CLEAN).into_bytes(), "Excel"),
        ("numbers.csv", numeric.into_bytes(), "number"),
        ("mojibake.csv", garbled.into_bytes(), "mojibake"),
        ("spaces.csv", spaced.into_bytes(), "spaces"),
    ];
    for (name, bytes, what) in cases {
        let path = write(dir.path(), name, &bytes);
        let imported = import(&path, false).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(imported.rows, clean, "{name} gives the clean list");
        assert!(
            imported
                .repairs
                .iter()
                .any(|r| r.what.contains(what) && r.at.starts_with(&path.display().to_string())),
            "{name}: a {what} repair, located: {:?}",
            imported.repairs
        );
        let strict = import(&path, true).expect_err(name);
        assert!(
            strict.contains("refused: --strict") && strict.contains(&path.display().to_string()),
            "{name}: {strict}"
        );
    }
    // The Windows-1252 repair names the line and shows both values.
    let cp = import(&dir.path().join("cp1252.csv"), false).expect("cp1252");
    let r = cp.repairs.iter().find(|r| r.what.contains("Windows-1252")).expect("repair");
    assert!(r.at.ends_with("cp1252.csv:3") && r.old.contains("\\xEF") && r.new.contains("Caraïbe"), "{r}");
}

#[test]
fn an_xlsx_with_numeric_sirens_gives_the_clean_list() {
    use rust_xlsxwriter::Workbook;
    let dir = tempfile::tempdir().expect("tempdir");
    let clean = clean_rows(dir.path());
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("Liste TI").expect("sheet name");
    for (r, line) in CLEAN.lines().enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            let (row, col) = (u32::try_from(r).expect("row"), u16::try_from(c).expect("col"));
            if r > 0 && c == 2 {
                sheet.write_number(row, col, cell.parse::<f64>().expect("siren")).expect("number");
            } else {
                sheet.write_string(row, col, cell).expect("text");
            }
        }
    }
    let path = dir.path().join("liste-ti-20240704.xlsx");
    book.save(&path).expect("save xlsx");
    let imported = import(&path, false).expect("xlsx imports");
    assert_eq!(imported.rows, clean);
    let numbers: Vec<_> = imported.repairs.iter().filter(|r| r.what == "code stored as a number").collect();
    assert_eq!(numbers.len(), 7, "{:?}", imported.repairs);
    assert_eq!(numbers[0].at, format!("{}:2", path.display()));
    assert_eq!((numbers[0].old.as_str(), numbers[0].new.as_str()), ("249710062.0", "249710062"));
    assert!(import(&path, true).is_err());
    // A named sheet that is not there is a clear error.
    let err = import_list(
        std::slice::from_ref(&path),
        registry(),
        &ImportOptions { sheet: Some("Feuil9".into()), strict: false },
    )
    .expect_err("no such sheet")
    .to_string();
    assert!(err.contains("no sheet \"Feuil9\"") && err.contains("\"Liste TI\""), "{err}");
}

/// A commune-level list (one row per commune, codes that lost their leading zero, an arrondissement
/// code) is grouped back into the members: the EPCI whose communes are all listed, the communes left.
#[test]
fn a_commune_level_list_is_grouped_into_members() {
    let atlas = crate::support::atlas_2023();
    let entry = atlas.edition("2023").expect("2023");
    let t = entry.edition.territories.iter().find(|t| t.id.as_str() == "ti-3214").expect("ti-3214");
    let mut csv = String::from("id_ti;lib_ti;insee_com;lib_com\n");
    for m in &t.members {
        for &c in atlas.communes_of(m.unit) {
            let u = atlas.unit(c);
            let code = u.code().trim_start_matches('0');
            csv.push_str(&format!("ti-3214;Soissonnais-Valois;{code};{}\n", u.name));
        }
    }
    csv.push_str("ti-1199;Essai Paris;75108;Paris 8e Arrondissement\n");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "communes.csv", csv.as_bytes());
    let imported = import(&path, false).unwrap_or_else(|e| panic!("{e}"));
    let pairs = |id: &str| -> Vec<String> {
        imported.rows.iter().filter(|r| r.id_ti == id).map(|r| r.member_siren.clone()).collect()
    };
    let mut expected: Vec<String> =
        t.members.iter().filter_map(|m| atlas.unit(m.unit).siren.as_ref().map(ToString::to_string)).collect();
    expected.sort();
    assert_eq!(pairs("ti-3214"), expected);
    assert_eq!(pairs("ti-1199"), ["217500016"], "Paris, from its 8th arrondissement");
    assert!(
        imported
            .repairs
            .iter()
            .any(|r| r.what.contains("leading zero") && r.old == "2722" && r.new == "02722")
    );
    assert!(imported.repairs.iter().any(|r| r.what.contains("arrondissement") && r.new == "75056"));
}

#[test]
fn unfixable_problems_are_all_listed_with_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "broken.csv",
        "id_ti,lib_ti,siren_groupement,lib_groupement,nature_juridique\n\
         ti-0101,Basse-Terre,249710062,CA du Nord Basse-Terre,CA\n\
         ti-0101,Basse-Terre,299999999,CA Inconnue,CA\n\
         ti-0103,Terres,249710047,CC de Marie-Galante,CC\n\
         ti-0104,Autre,249710047,CC de Marie-Galante,CC\n\
         ti-0105,Vide,,,\n"
            .as_bytes(),
    );
    let err = import(&path, false).expect_err("broken list");
    let name = path.display().to_string();
    assert!(err.contains(&format!("{name}:3: member 299999999 (CA Inconnue) matches no")), "{err}");
    assert!(
        err.contains(&format!("{name}:5: member \"249710047\" listed twice (first at {name}:4)")),
        "{err}"
    );
    assert!(err.contains(&format!("{name}:6: territory ti-0105 has no members")), "{err}");
    assert!(err.contains(&format!("{name}:6: empty member code")), "{err}");
    // One unit listed under two codes in two territories: a member in two territories.
    let two = write(
        dir.path(),
        "two.csv",
        "id_ti,lib_ti,siren,code_insee\nti-1,Un,215800467,\nti-2,Deux,,58046\n".as_bytes(),
    );
    let err = import(&two, false).expect_err("member twice");
    let two = two.display().to_string();
    assert!(
        err.contains(&format!(
            "{two}:3: COM 215800467 Cercy-la-Tour is in territory ti-2 here and in ti-1 at {two}:2"
        )),
        "{err}"
    );
}

fn cli(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("territoires")
        .expect("binary")
        .env_remove("TERRITOIRES_GEODATA")
        .arg("import-list")
        .args(args)
        .arg("--geodata")
        .arg(geodata())
        .output()
        .expect("runs")
}

#[test]
fn the_command_is_idempotent_and_reports_what_changed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("out");
    let out = out_dir.to_str().expect("utf-8 path");
    let first =
        write(dir.path(), "liste-ti-20240704.csv", format!("\u{feff}{}", CLEAN.replace(',', ";")).as_bytes());
    let run = cli(&["--edition", "x", first.to_str().expect("path"), "--out", out, "--label-fr", "Essai"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report = String::from_utf8_lossy(&run.stdout);
    assert!(report.contains("3 territories, 7 members (1 COM, 6 EPCI)"), "{report}");
    assert!(report.contains("repairs: 2") && report.contains("changes: new edition"), "{report}");
    let csv_path = out_dir.join("x.csv");
    let (csv, meta) = (
        std::fs::read(&csv_path).expect("csv"),
        std::fs::read_to_string(out_dir.join("x.meta.json")).expect("meta"),
    );
    assert!(
        meta.contains("\"list_date\": \"2024-07-04\"") && meta.contains("liste-ti-20240704.csv"),
        "{meta}"
    );
    assert!(meta.contains("ANCT — Territoires d'industrie, données 2024-07-04"), "{meta}");
    // Re-run on its own output: same bytes, metadata included, and says so.
    let again = cli(&["--edition", "x", csv_path.to_str().expect("path"), "--out", out, "--strict"]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("changes: none"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    assert_eq!(std::fs::read(&csv_path).expect("csv"), csv);
    assert_eq!(std::fs::read_to_string(out_dir.join("x.meta.json")).expect("meta"), meta);
    // A new list: one territory renamed, one removed, one added, a member moved.
    let next = CLEAN
        .replace("Basse-Terre,", "Basse-Terre Industrie,")
        .replace(
            "ti-0103,Terres de Cannes et Industries d'Avenir,249710047",
            "ti-2707,Nevers Val de Loire,249710047",
        )
        .replace(
            "ti-0103,Terres de Cannes et Industries d'Avenir,200044691",
            "ti-0104,Nord Grande-Terre,200044691",
        );
    let second = write(dir.path(), "liste-ti-20250101.csv", next.as_bytes());
    let run = cli(&["--edition", "x", second.to_str().expect("path"), "--out", out]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report = String::from_utf8_lossy(&run.stdout);
    for line in [
        "territory added: ti-0104 Nord Grande-Terre",
        "territory removed: ti-0103 Terres de Cannes et Industries d'Avenir",
        "territory renamed: ti-0101 \"Basse-Terre\" -> \"Basse-Terre Industrie\"",
        "member moved: 249710047 CC de Marie-Galante from ti-0103 to ti-2707",
        "member moved: 200044691 CA du Nord Grande Terre from ti-0103 to ti-0104",
    ] {
        assert!(report.contains(line), "{line}\n{report}");
    }
    let meta = std::fs::read_to_string(out_dir.join("x.meta.json")).expect("meta");
    assert!(
        meta.contains("\"fr\": \"Essai\"") && meta.contains("2025-01-01"),
        "kept label, new date: {meta}"
    );
    // Errors exit non-zero and list every problem.
    let bad = write(dir.path(), "bad.csv", b"id_ti,lib_ti,siren\nti-1,Un,299999999\nti-2,Deux,299999998\n");
    let run = cli(&["--edition", "y", bad.to_str().expect("path"), "--out", out]);
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("2 error(s)") && err.contains("bad.csv:2") && err.contains("bad.csv:3"), "{err}");
    assert!(!out_dir.join("y.csv").exists());
}
