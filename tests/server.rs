//! The real binary serving on a loopback port: routes over TCP, live reload under load (SIGHUP and
//! `POST /admin/reload`, one broken), malformed raw requests, graceful shutdown.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::geodata;

/// A running `territoires serve` on 127.0.0.1 and a free port; killed on drop.
struct Server {
    child: Child,
    addr: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_territoires"))
            .env_remove("TERRITOIRES_TERRITORIES")
            .env_remove("TERRITOIRES_GEODATA")
            .env("RUST_LOG", "info")
            .args(["serve", "--addr", "127.0.0.1:0", "--geodata"])
            .arg(geodata())
            .args(extra)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("server starts");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(addr.trim().to_owned());
                }
                if let Ok(mut l) = sink.lock() {
                    l.push_str(&line);
                    l.push('\n');
                }
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(120)).expect("server listening");
        Self { child, addr, log }
    }

    fn signal(&self, name: &str) {
        let status =
            Command::new("kill").args(["-s", name, &self.child.id().to_string()]).status().expect("kill");
        assert!(status.success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::thread::panicking() {
            std::thread::sleep(Duration::from_millis(500));
            if let Ok(log) = self.log.lock() {
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                eprintln!("server log (last lines, newest first):\n{}", tail.join("\n"));
            }
            eprintln!("server exit: {:?}", self.child.try_wait());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends raw bytes, returns (status, body).
fn raw(addr: &str, request: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    stream.write_all(request).expect("send");
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let chunked = head.lines().any(|l| l.eq_ignore_ascii_case("transfer-encoding: chunked"));
    (status, if chunked { dechunk(body) } else { body.to_owned() })
}

/// The payload of a chunked body (streamed answers come this way).
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

fn get(addr: &str, path: &str) -> (u16, String) {
    raw(addr, format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes())
}

fn post(addr: &str, path: &str, headers: &str, body: &str) -> (u16, String) {
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n{headers}\r\n{body}",
        body.len()
    );
    raw(addr, request.as_bytes())
}

const SOISSONS: &str = "/api/lookup?lon=3.328181&lat=49.383574";

fn write_lists(dir: &Path, version: &str) {
    // Two editions that change together: an answer mixing two Atlases would show two versions.
    for e in ["a", "b"] {
        std::fs::write(
            dir.join(format!("{e}.csv")),
            format!("id_ti,lib_ti,member_siren\nt-1,Soissons {version},240200477\nt-2,Saint-Omer {version},200069037\n"),
        )
        .expect("write list");
    }
}

#[test]
fn routes_answer_over_tcp_and_bad_requests_get_json() {
    let server = Server::start(&[]);
    let (status, body) = get(&server.addr, "/healthz");
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(&server.addr, SOISSONS);
    assert!(status == 200 && body.contains("sample-01"), "{body}");
    let (status, body) = get(&server.addr, "/");
    assert!(status == 200 && body.contains("<html"), "{body}");
    // Malformed requests on the wire: each a 4xx, and the server stays up.
    let long_query = format!(
        "GET /api/lookup?lon={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "9".repeat(200_000)
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "invalid UTF-8 in query",
            b"GET /api/lookup?lon=\xff\xfe&lat=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        ),
        (
            "path traversal",
            b"GET /..%2f..%2fetc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        ),
        ("dot segments", b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec()),
        ("200 KB query string", long_query.into_bytes()),
        ("garbage request line", b"HELLO\r\n\r\n".to_vec()),
        ("unknown method", b"BREW /api/lookup HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec()),
    ];
    for (name, request) in cases {
        let (status, body) = raw(&server.addr, &request);
        assert!((400..500).contains(&status), "{name}: {status} {body}");
    }
    let (status, body) =
        post(&server.addr, "/api/lookup", "Content-Type: application/geo+json\r\n", &"[".repeat(100_000));
    assert!(status == 400 && body.contains("error"), "deeply nested JSON: {status} {body}");
    let (status, _) = post(&server.addr, "/admin/reload", "", "");
    assert_eq!(status, 404, "no admin route without a token");
    let (status, _) = get(&server.addr, "/healthz");
    assert_eq!(status, 200, "still up");
}

#[test]
fn reloads_under_load_swap_whole_atlases_and_a_broken_one_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_lists(dir.path(), "v0");
    let a = format!("a={}", dir.path().join("a.csv").display());
    let b = format!("b={}", dir.path().join("b.csv").display());
    let server = Server::start(&["--territories", &a, "--territories", &b, "--admin-token", "s3cret"]);
    let addr = server.addr.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let seen = Arc::new(Mutex::new(std::collections::BTreeSet::new()));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (addr, stop, sent, failed, seen) =
                (addr.clone(), stop.clone(), sent.clone(), failed.clone(), seen.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let (status, body) = get(&addr, SOISSONS);
                    sent.fetch_add(1, Ordering::Relaxed);
                    let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                    let names: Vec<String> = json["territories"]
                        .as_array()
                        .map(|t| t.iter().filter_map(|t| t["name"].as_str().map(str::to_owned)).collect())
                        .unwrap_or_default();
                    // Both editions must come from the same version of the lists.
                    let versions: std::collections::BTreeSet<&str> =
                        names.iter().filter_map(|n| n.split(' ').nth(1)).collect();
                    if status != 200 || names.len() != 2 || versions.len() != 1 {
                        failed.fetch_add(1, Ordering::Relaxed);
                    } else if let Some(v) = versions.first() {
                        seen.lock().expect("lock").insert((*v).to_owned());
                    }
                }
            })
        })
        .collect();
    let started = Instant::now();
    for i in 1..=20 {
        if i == 10 {
            std::fs::write(dir.path().join("b.csv"), "id_ti,lib_ti,member_siren\nt-1,Broken,999999999\n")
                .expect("break");
            let (status, body) = post(&addr, "/admin/reload", "Authorization: Bearer s3cret\r\n", "");
            assert_eq!(status, 422, "{body}");
            assert!(body.contains("999999999"), "the refusal says why: {body}");
            continue;
        }
        write_lists(dir.path(), &format!("v{i}"));
        if i % 2 == 0 {
            let (status, body) = post(&addr, "/admin/reload", "Authorization: Bearer s3cret\r\n", "");
            assert_eq!(status, 200, "reload {i}: {body}");
        } else {
            server.signal("HUP");
        }
        // SIGHUP reloads in the background: wait until the new lists answer.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let (_, body) = get(&addr, SOISSONS);
            if body.contains(&format!("Soissons v{i}")) {
                break;
            }
            assert!(Instant::now() < deadline, "reload {i} never became visible: {body}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let (status, _) = post(&addr, "/admin/reload", "Authorization: Bearer wrong\r\n", "");
    assert_eq!(status, 401);
    std::thread::sleep(Duration::from_millis(800));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("worker");
    }
    let (_, metrics) = get(&addr, "/metrics");
    assert!(metrics.contains("territoires_reload_failures_total 1"), "{metrics}");
    let (_, body) = get(&addr, SOISSONS);
    assert!(body.contains("Soissons v20"), "last good reload serves: {body}");
    let total = sent.load(Ordering::Relaxed);
    eprintln!(
        "{total} requests during 20 reloads in {:?}; versions seen: {:?}",
        started.elapsed(),
        seen.lock().expect("lock")
    );
    assert_eq!(failed.load(Ordering::Relaxed), 0, "failed or mixed answers out of {total}");
    assert!(total > 100 && seen.lock().expect("lock").len() >= 5);
    drop(server);
}

#[test]
fn sigterm_lets_the_request_in_flight_finish() {
    let server = Server::start(&[]);
    let addr = server.addr.clone();
    // A batch big enough to be in flight when the signal arrives.
    let mut csv = String::from("lon,lat\n");
    for i in 0..300_000 {
        csv.push_str(&format!(
            "{:.5},{:.5}\n",
            2.0 + f64::from(i % 1000) * 0.004,
            46.0 + f64::from(i / 1000) * 0.01
        ));
    }
    let batch = std::thread::spawn(move || post(&addr, "/api/lookup", "Content-Type: text/csv\r\n", &csv));
    std::thread::sleep(Duration::from_millis(300));
    server.signal("TERM");
    let (status, body) = batch.join().expect("batch");
    assert_eq!(status, 200, "in-flight batch finished");
    assert_eq!(body.lines().count(), 300_001);
    std::thread::sleep(Duration::from_millis(500));
    assert!(TcpStream::connect(&server.addr).is_err(), "no new connections after shutdown");
    assert!(server.log.lock().expect("log").contains("shutting down"));
}
