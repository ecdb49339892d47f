//! Issue 17 §1: the atlas snapshot built into the binary. The committed `geodata/atlas.snapshot` (and the
//! copy the binary embeds) is what a fresh build of the committed files gives, byte for byte; it reads
//! back into the same data; damage is refused; and the binary copied alone into an empty folder answers
//! lookups and serves the map from it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use territoires::snapshot::{self, SnapshotError};

use crate::support::geodata;

fn committed() -> Vec<u8> {
    std::fs::read(geodata().join(snapshot::FILE_NAME)).expect("geodata/atlas.snapshot is committed")
}

#[test]
fn the_committed_snapshot_is_a_fresh_build_of_the_committed_files_and_is_built_in() {
    let fresh = snapshot::build_from_dir(&geodata()).expect("geodata builds");
    let committed = committed();
    let unpacked = snapshot::container::unpack(&committed).expect("the committed snapshot unpacks");
    assert!(fresh == unpacked, "geodata/atlas.snapshot is stale: run `territoires snapshot`");
    assert!(snapshot::embedded() == unpacked.as_slice(), "the binary embeds another snapshot");
    let sources =
        territoires::atlas::AtlasSources::from_geodata_dir(&geodata(), Vec::new()).expect("sources");
    let header = snapshot::header(&committed).expect("header");
    assert_eq!(header.digest, sources.digest().expect("digest"));
    // A guard against growth (LZ4 sections: see the size in benches/RESULTS.md).
    assert!(committed.len() < 45_000_000, "{} bytes", committed.len());
}

#[test]
fn a_snapshot_reads_back_into_the_same_data() {
    let bytes = snapshot::embedded();
    let (atlas, layers) = snapshot::decode_all(bytes).expect("decodes");
    let digest = snapshot::header(bytes).expect("header").digest;
    // Encoding what was read gives the same bytes: nothing is lost or changed on the way.
    let atlas = atlas.normalised_for_snapshot(Path::new("geodata"));
    let again = snapshot::encode(&atlas, &layers, digest).expect("encodes");
    assert!(again == bytes, "a decoded snapshot encodes to other bytes");
    // And it answers as the Atlas built from the files (support's, which adds a sample edition).
    let built = crate::support::atlas_2023();
    for (lon, lat) in [(3.33, 49.38), (2.35, 48.86), (-1.55, 47.22), (55.45, -20.88), (7.75, 48.58)] {
        let from_snapshot = serde_json::to_value(atlas.lookup(lon, lat).expect("lookup")).expect("json");
        let from_files = serde_json::to_value(built.lookup(lon, lat).expect("lookup")).expect("json");
        for edition in ["2023", "2019"] {
            let pick = |v: &Value| {
                v["territories"]
                    .as_array()
                    .expect("territories")
                    .iter()
                    .find(|t| t["edition"] == edition)
                    .cloned()
            };
            assert_eq!(pick(&from_snapshot), pick(&from_files), "{lon},{lat} edition {edition}");
        }
        assert_eq!(from_snapshot["units"], from_files["units"], "{lon},{lat}");
    }
}

#[test]
fn a_damaged_or_foreign_snapshot_is_refused() {
    let good = snapshot::embedded();
    assert!(matches!(snapshot::decode_atlas(b""), Err(SnapshotError::NotASnapshot)));
    assert!(matches!(snapshot::decode_atlas(b"PK\x03\x04 a zip file"), Err(SnapshotError::NotASnapshot)));
    let mut other_version = good.to_vec();
    other_version[8] = other_version[8].wrapping_add(1);
    assert!(matches!(snapshot::decode_atlas(&other_version), Err(SnapshotError::Version { .. })));
    let mut flipped = good.to_vec();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x40;
    // The last byte is in the layers section: the Atlas still reads, the whole does not.
    assert!(snapshot::decode_atlas(&flipped).is_ok());
    assert!(matches!(snapshot::decode_all(&flipped), Err(SnapshotError::Damaged { section: "layers", .. })));
    let truncated = &good[..good.len() / 2];
    assert!(matches!(snapshot::decode_all(truncated), Err(SnapshotError::Damaged { .. })));
}

/// The binary alone, in an empty temporary folder.
fn lone_binary() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let bin = dir.path().join("territoires");
    std::fs::copy(env!("CARGO_BIN_EXE_territoires"), &bin).expect("copy the binary");
    (dir, bin)
}

fn lone(bin: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.current_dir(dir).env_clear().env("PATH", "/usr/bin:/bin");
    cmd
}

#[test]
fn the_binary_alone_in_an_empty_folder_answers_from_its_built_in_snapshot() {
    let (dir, bin) = lone_binary();
    let out =
        lone(&bin, dir.path()).args(["lookup", "--lon", "3.33", "--lat", "49.38"]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let alone: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let territories = alone["territories"].as_array().expect("territories");
    let of = |edition: &str| territories.iter().find(|t| t["edition"] == edition).cloned();
    assert_eq!(of("2023").expect("in a 2023 territory")["id"], "ti-3214", "{alone}");
    assert!(of("2019").is_some(), "{alone}");
    // The same answer as from the files.
    let files = lone(&bin, dir.path())
        .args(["lookup", "--lon", "3.33", "--lat", "49.38", "--geodata"])
        .arg(geodata())
        .output()
        .expect("runs");
    assert!(files.status.success(), "{}", String::from_utf8_lossy(&files.stderr));
    assert_eq!(alone, serde_json::from_slice::<Value>(&files.stdout).expect("JSON"));
    // `validate` alone checks the built-in snapshot.
    let out = lone(&bin, dir.path()).arg("validate").output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("built-in snapshot") && text.contains("183 territories"), "{text}");
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1, "nothing written beside the binary");
}

fn get(addr: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("write");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, answer)
}

/// Starts `serve` on a free port from `dir`; returns the child, its address and its log up to listening.
fn serve_from(bin: &Path, dir: &Path) -> (std::process::Child, String, String) {
    let mut child = lone(bin, dir)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut log = String::new();
    let mut addr = None;
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        log.push_str(&line);
        log.push('\n');
        if let Some(rest) = line.split("listening on http://").nth(1) {
            addr = rest.split(['/', ' ']).next().map(str::to_owned);
            break;
        }
    }
    let Some(addr) = addr else {
        let _ = child.kill();
        panic!("not listening:\n{log}")
    };
    (child, addr, log)
}

#[test]
fn the_binary_alone_serves_healthz_and_the_map() {
    let (dir, bin) = lone_binary();
    let (mut child, addr, log) = serve_from(&bin, dir.path());
    assert!(log.contains("from the built-in snapshot") && log.contains("2023 (183 territories"), "{log}");
    let (status, health) = get(&addr, "/healthz");
    assert_eq!(status, 200, "{health}");
    assert!(health.contains("\"ok\""), "{health}");
    let (status, page) = get(&addr, "/");
    assert_eq!(status, 200);
    assert!(page.contains("maplibre"), "{page}");
    let (status, layer) = get(&addr, "/api/layers/territories.geojson?edition=2023&zoom=6");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200, "{}", &layer[..layer.len().min(500)]);
    assert!(layer.contains("ti-3214"));
}

/// Copies a directory's files and subdirectories (one level deep is all geodata has).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").map(|e| e.expect("entry")) {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn a_geodata_folder_that_differs_from_the_built_in_snapshot_is_built_from_its_files() {
    // A user's ./geodata with one edition relabelled: the built-in snapshot must not answer for it.
    let (dir, bin) = lone_binary();
    copy_dir(&geodata(), &dir.path().join("geodata"));
    let meta = dir.path().join("geodata/territories/2023.meta.json");
    let text = std::fs::read_to_string(&meta).expect("sidecar");
    assert!(text.contains("Phase II (2023-2027)"), "{text}");
    std::fs::write(&meta, text.replace("Phase II (2023-2027)", "Phase II (relabelled here)")).expect("write");
    let (mut child, addr, log) = serve_from(&bin, dir.path());
    let (status, health) = get(&addr, "/healthz");
    let _ = child.kill();
    let _ = child.wait();
    assert!(log.contains("from files (they differ from the built-in snapshot)"), "{log}");
    assert_eq!(status, 200, "{health}");
    assert!(health.contains("Phase II (relabelled here)"), "{health}");
}
