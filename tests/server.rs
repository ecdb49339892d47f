//! The real binary serving on a loopback port: routes over TCP, live reload under load (SIGHUP and
//! `POST /admin/reload`, one broken), malformed raw requests, limits, graceful shutdown, and a load of
//! mixed requests checked against the known sites.

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
        Self::start_logging(extra, Some("info"))
    }

    /// With `RUST_LOG` set to `filter` (it must keep `territoires::http::listener` at info, which says where
    /// the server listens), or unset for the binary's default log.
    fn start_logging(extra: &[&str], filter: Option<&str>) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_territoires"));
        command.env_remove("RUST_LOG").env_remove("TERRITOIRES_ACCESS_LOG");
        if let Some(filter) = filter {
            command.env("RUST_LOG", filter);
        }
        let mut child = command
            .env_remove("TERRITOIRES_TERRITORIES")
            .env_remove("TERRITOIRES_GEODATA")
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
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr = rest.split(['/', ' ']).next().unwrap_or_default();
                    let _ = tx.send(addr.to_owned());
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
    // The server may answer and close before a huge request is all sent: read what it said anyway.
    let _ = stream.write_all(request);
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    split_response(&out)
}

/// (status, body) of a raw HTTP/1.1 response, de-chunked as bytes: a chunk may end inside a UTF-8
/// character, so the text is decoded only after.
fn split_response(out: &[u8]) -> (u16, String) {
    let end = out.windows(4).position(|w| w == b"\r\n\r\n");
    let (head, body) = end.map_or((out, &b""[..]), |e| (&out[..e], &out[e + 4..]));
    let head = String::from_utf8_lossy(head);
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let chunked = head.lines().any(|l| l.eq_ignore_ascii_case("transfer-encoding: chunked"));
    (status, String::from_utf8_lossy(&if chunked { dechunk(body) } else { body.to_vec() }).into_owned())
}

/// The payload of a chunked body (streamed answers come this way).
///
/// Chunk sizes count bytes, and a chunk may end inside a multi-byte character (territory names have
/// accents), so the body is cut as bytes and decoded once whole.
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..end]).ok().map(str::trim);
        let Some(Ok(size)) = size.map(|s| usize::from_str_radix(s, 16)) else { break };
        let rest = &body[end + 2..];
        if size == 0 || rest.len() < size {
            break;
        }
        out.extend_from_slice(&rest[..size]);
        body = rest[size..].strip_prefix(b"\r\n").unwrap_or(&rest[size..]);
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

/// What a hostile request must get.
enum Expect {
    /// Our JSON error with this status.
    Json(u16),
    /// A 4xx from the HTTP layer itself (the request cannot be parsed, so no route sees it): no body.
    Transport,
}

fn get_request(target: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes()
}

fn post_request(target: &str, content_type: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(ct) = content_type {
        r.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    r.push_str("\r\n");
    let mut bytes = r.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Issue 6: malformed and hostile requests on the wire, each answered 4xx (our JSON error whenever a
/// route sees the request), none a 5xx, and the server answering normally after all of them.
#[test]
fn hostile_requests_get_4xx_json_and_the_server_stays_up() {
    use Expect::{Json, Transport};
    let server = Server::start(&[]);
    let (status, body) = get(&server.addr, "/healthz");
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(&server.addr, SOISSONS);
    assert!(status == 200 && body.contains("ti-3214"), "{body}");
    let (status, body) = get(&server.addr, "/");
    assert!(status == 200 && body.contains("<html"), "{body}");
    let geojson = Some("application/geo+json");
    let csv = Some("text/csv");
    let nested = "[".repeat(100_000);
    let cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        ("no coordinates", get_request("/api/lookup"), Json(400)),
        ("longitude only", get_request("/api/lookup?lon=3.3"), Json(400)),
        ("letters", get_request("/api/lookup?lon=abc&lat=49"), Json(400)),
        ("NaN", get_request("/api/lookup?lon=NaN&lat=49"), Json(400)),
        ("+inf", get_request("/api/lookup?lon=inf&lat=49"), Json(400)),
        ("-inf", get_request("/api/lookup?lon=3&lat=-inf"), Json(400)),
        ("1e400", get_request("/api/lookup?lon=1e400&lat=49"), Json(400)),
        ("decimal comma", get_request("/api/lookup?lon=3,3&lat=49"), Json(400)),
        ("longitude out of range", get_request("/api/lookup?lon=181&lat=49"), Json(400)),
        ("latitude out of range", get_request("/api/lookup?lon=3&lat=-91"), Json(400)),
        ("huge number", get_request(&format!("/api/lookup?lon=3&lat={}", "9".repeat(400))), Json(400)),
        ("empty values", get_request("/api/lookup?lon=&lat="), Json(400)),
        ("hex number", get_request("/api/lookup?lon=0x10&lat=49"), Json(400)),
        ("NUL byte", get_request("/api/lookup?lon=3&lat=49%00"), Json(400)),
        ("unknown edition", get_request("/api/lookup?lon=3&lat=49&edition=1999"), Json(400)),
        ("empty edition", get_request("/api/lookup?lon=3&lat=49&edition="), Json(400)),
        ("unknown parameter", get_request("/api/lookup?lon=3&lat=49&foo=1"), Json(400)),
        ("parameter twice", get_request("/api/lookup?lon=3&lat=49&lon=4"), Json(400)),
        ("invalid UTF-8, percent-encoded", get_request("/api/lookup?lon=%FF%FE&lat=1"), Json(400)),
        ("invalid UTF-8, raw", b"GET /api/lookup?lon=\xff\xfe&lat=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), Transport),
        ("path traversal, encoded slashes", get_request("/..%2f..%2fetc/passwd"), Json(404)),
        ("path traversal, encoded dots", get_request("/%2e%2e/%2e%2e/etc/passwd"), Json(404)),
        ("dot segments", get_request("/../../etc/passwd"), Json(404)),
        ("out of the web folder", get_request("/vendor/../../Cargo.toml"), Json(404)),
        ("edition with a path", get_request("/api/territories?edition=../../etc"), Json(400)),
        ("short unit code", get_request("/api/units/12"), Json(400)),
        ("SQL in a code", get_request("/api/units/1%27%3B%20DROP%20TABLE%20x"), Json(400)),
        ("search too long", get_request(&format!("/api/search?q={}", "a".repeat(300))), Json(400)),
        ("negative limit", get_request("/api/search?q=a&limit=-1"), Json(400)),
        ("bbox of three numbers", get_request("/api/layers/territories.geojson?bbox=1,2,3"), Json(400)),
        ("bbox with NaN", get_request("/api/layers/territories.geojson?bbox=NaN,1,2,3"), Json(400)),
        ("zoom 99", get_request("/api/layers/territories.geojson?zoom=99"), Json(400)),
        ("unknown unit kind", get_request("/api/layers/units.geojson?kind=region"), Json(400)),
        ("tile zoom 99", get_request("/tiles/epci/99/0/0.mvt"), Json(400)),
        ("tile outside its zoom (no such tile)", get_request("/tiles/epci/5/99999/0.mvt"), Json(404)),
        ("tile of no layer", get_request("/tiles/nope/1/1/1.mvt"), Json(404)),
        ("OGC unknown collection", get_request("/ogc/collections/nope/items"), Json(404)),
        ("OGC limit 0", get_request("/ogc/collections/epci/items?limit=0"), Json(400)),
        ("OGC limit not a number", get_request("/ogc/collections/epci/items?limit=abc"), Json(400)),
        ("OGC bbox of two numbers", get_request("/ogc/collections/epci/items?bbox=1,2"), Json(400)),
        ("200 KB query string", get_request(&format!("/api/lookup?lon={}", "9".repeat(200_000))), Transport),
        ("10 MB query string", get_request(&format!("/api/lookup?lon={}", "9".repeat(10 << 20))), Transport),
        ("100 KB header", format!("GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: {}\r\n\r\n", "c".repeat(100_000)).into_bytes(), Transport),
        ("garbage request line", b"HELLO\r\n\r\n".to_vec(), Transport),
        ("bad chunked body", b"POST /api/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nlon\r\n0\r\n\r\n".to_vec(), Transport),
        ("unknown method", b"BREW /api/lookup HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), Json(405)),
        ("DELETE", b"DELETE /api/lookup HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), Json(405)),
        ("not JSON", post_request("/api/lookup", geojson, b"{not json"), Json(400)),
        ("deeply nested JSON", post_request("/api/lookup", geojson, nested.as_bytes()), Json(400)),
        ("features not an array", post_request("/api/lookup", geojson, br#"{"type":"FeatureCollection","features":"x"}"#), Json(400)),
        ("a Feature, not a collection", post_request("/api/lookup", geojson, br#"{"type":"Feature"}"#), Json(400)),
        ("JSON number 1e400", post_request("/api/intersects", geojson, br#"{"type":"Polygon","coordinates":[[[1e400,49],[3,50],[4,49],[1e400,49]]]}"#), Json(400)),
        ("invalid UTF-8 body", post_request("/api/intersects", geojson, b"\xff\xfe\xfd"), Json(400)),
        ("a Point to intersect", post_request("/api/intersects", geojson, br#"{"type":"Point","coordinates":[3,49]}"#), Json(400)),
        ("CSV without coordinates", post_request("/api/lookup", csv, b"name,x_coord\na,1\n"), Json(400)),
        ("empty CSV", post_request("/api/lookup", csv, b""), Json(400)),
        ("XML body", post_request("/api/lookup", Some("application/xml"), b"<a/>"), Json(415)),
        ("no Content-Type", post_request("/api/lookup", None, b"lon,lat\n3,49\n"), Json(415)),
        ("declared 300 MB body", b"POST /api/lookup HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/csv\r\nContent-Length: 300000000\r\n\r\nlon,lat\n".to_vec(), Json(413)),
        ("admin route without a token", post_request("/admin/reload", None, b""), Json(404)),
    ];
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for (name, request, expect) in &cases {
        let (status, body) = raw(&server.addr, request);
        match expect {
            Json(code) => {
                assert_eq!(status, *code, "{name}: {body}");
                let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                assert!(json["error"]["message"].is_string(), "{name}: not our JSON error: {body}");
            }
            Transport => assert!((400..500).contains(&status), "{name}: {status} {body}"),
        }
    }
    let (status, _) = get(&server.addr, SOISSONS);
    assert_eq!(status, 200, "still answering");
    let (_, metrics) = get(&server.addr, "/metrics");
    assert!(!metrics.lines().any(|l| l.contains("status=\"5")), "no 5xx: {metrics}");
    eprintln!("{} hostile requests answered 4xx; server still up", cases.len());
}

/// Issue 6: every limit answers as documented — a slow body 408, a batch over the concurrent limit 503
/// with `Retry-After`, a client that never finishes its headers is cut off, connections over the limit
/// wait in the backlog and are served when a slot frees.
#[test]
fn limits_answer_with_the_documented_errors() {
    let server = Server::start(&["--request-timeout", "2", "--max-batches", "1", "--max-connections", "3"]);
    let addr = server.addr.clone();

    // A body that trickles in slower than the request time limit.
    let mut slow = TcpStream::connect(&addr).expect("connect");
    slow.write_all(b"POST /api/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 1000\r\n\r\nlon,lat\n")
        .expect("send");
    slow.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut answer = Vec::new();
    let _ = slow.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408") && answer.contains("\"timeout\""), "{answer}");
    drop(slow);

    // One batch at a time: a second one meanwhile is told to come back.
    let mut big = String::from("lon,lat\n");
    for i in 0..200_000 {
        big.push_str(&format!(
            "{:.4},{:.4}\n",
            2.0 + f64::from(i % 500) * 0.01,
            46.0 + f64::from(i / 500) * 0.01
        ));
    }
    // The first batch holds its slot while its answer streams; not reading it keeps it streaming.
    let mut first = TcpStream::connect(&addr).expect("connect");
    first
        .write_all(
            format!(
                "POST /api/lookup HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/csv\r\nContent-Length: {}\r\n\r\n{big}",
                big.len()
            )
            .as_bytes(),
        )
        .expect("send");
    first.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    let mut head = [0u8; 12];
    first.read_exact(&mut head).expect("the first batch answers");
    assert_eq!(&head, b"HTTP/1.1 200");
    let mut second = TcpStream::connect(&addr).expect("connect");
    second
        .write_all(b"POST /api/lookup HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/csv\r\nContent-Length: 13\r\n\r\nlon,lat\n3,49\n")
        .expect("send");
    let mut refused = String::new();
    let _ = second.read_to_string(&mut refused);
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(refused.contains("retry-after: 1") && refused.contains("\"busy\""), "{refused}");
    let mut rest = Vec::new();
    let _ = first.read_to_end(&mut rest);
    let (_, body) = split_response(&[&head[..], &rest].concat());
    assert_eq!(body.lines().count(), 200_001, "the running batch is whole");
    let (status, _) = post(&addr, "/api/lookup", "Content-Type: text/csv\r\n", "lon,lat\n3,49\n");
    assert_eq!(status, 200, "a slot is free again");

    // Headers that never end: the connection is closed after the header time limit.
    let mut loris = TcpStream::connect(&addr).expect("connect");
    loris.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").expect("send");
    loris.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = loris.read_to_end(&mut rest);
    assert!(started.elapsed() < Duration::from_secs(20), "cut off after {:?}", started.elapsed());

    // Three connections held open: a fourth waits, and is served once one of them closes.
    let held: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(&addr).expect("connect")).collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut waiting = TcpStream::connect(&addr).expect("the backlog takes it");
    waiting.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("send");
    waiting.set_read_timeout(Some(Duration::from_millis(1500))).expect("timeout");
    let mut byte = [0u8; 1];
    assert!(waiting.read(&mut byte).is_err(), "not served while three connections are held");
    drop(held);
    waiting.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let mut answer = Vec::new();
    let _ = waiting.read_to_end(&mut answer);
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"), "served once a slot freed");
    let (_, metrics) = get(&addr, "/metrics");
    assert!(metrics.contains("territoires_batches_refused_total "), "{metrics}");
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

/// Issue 17: by default the log says what was loaded and where to go, then only warnings and reloads;
/// one line per request needs `--access-log`.
#[test]
fn the_default_log_is_a_summary_and_request_lines_need_access_log() {
    for access_log in [false, true] {
        let extra: &[&str] = if access_log { &["--access-log"] } else { &[] };
        let server = Server::start_logging(extra, None);
        for _ in 0..3 {
            assert_eq!(get(&server.addr, "/api/editions").0, 200);
        }
        std::thread::sleep(Duration::from_millis(300));
        let log = server.log.lock().expect("log").clone();
        assert!(log.contains("loaded ") && log.contains("EPCI") && log.contains("communes"), "{log}");
        assert!(log.contains("2023 (183 territories") && log.contains("2019 (149 territories"), "{log}");
        assert!(log.contains(&format!("listening on http://{}/", server.addr)), "{log}");
        let request_lines = log.lines().filter(|l| l.contains("/api/editions")).count();
        assert_eq!(request_lines > 0, access_log, "access log {access_log}:\n{log}");
    }
}

#[test]
fn sigterm_lets_the_request_in_flight_finish() {
    // The small sample edition (as the default load was when this test was written), so the batch's
    // duration stays well inside the default 10 s grace in a debug build.
    let sample = format!("sample={}", crate::support::sample().display());
    let server = Server::start(&["--territories", &sample]);
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

/// A keep-alive HTTP/1.1 connection that reads answers by `Content-Length` (or chunks).
struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(addr: &str) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        stream.set_nodelay(true)?;
        Ok(Self { reader: BufReader::new(stream) })
    }

    /// Sends one request; returns status, headers (lower-case) and body.
    fn send(&mut self, request: &str) -> std::io::Result<(u16, String, Vec<u8>)> {
        self.reader.get_mut().write_all(request.as_bytes())?;
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed"));
            }
            if line == "\r\n" {
                break;
            }
            head.push_str(&line.to_ascii_lowercase());
        }
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let header =
            |name: &str| head.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()));
        let mut body = Vec::new();
        if let Some(n) = header("content-length:").and_then(|v| v.parse::<usize>().ok()) {
            body.resize(n, 0);
            self.reader.read_exact(&mut body)?;
        } else if header("transfer-encoding:").is_some_and(|v| v.contains("chunked")) {
            loop {
                let mut size = String::new();
                self.reader.read_line(&mut size)?;
                let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
                let mut chunk = vec![0; n + 2];
                self.reader.read_exact(&mut chunk)?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        }
        Ok((status, head, body))
    }
}

/// Issue 6: many mixed requests from 64 keep-alive connections against the binary: not one 5xx, not
/// one wrong answer (lookups are checked against the known sites, the rest against what each route must
/// say). `TERRITOIRES_LOAD_REQUESTS` changes the count (100,000 by default).
#[test]
fn a_load_of_mixed_requests_gets_no_5xx_and_no_wrong_answer() {
    let (phase2, sites) = (crate::support::phase2(), crate::support::known_sites());
    let total: u64 =
        std::env::var("TERRITOIRES_LOAD_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let edition = format!("2023={}", phase2.display());
    let server =
        Server::start_logging(&["--territories", &edition], Some("warn,territoires::http::listener=info"));
    let addr = server.addr.clone();
    // The layer's ETag, for conditional requests.
    let mut probe = Client::connect(&addr).expect("connect");
    let (_, head, _) = probe
        .send("GET /api/layers/territories.geojson?edition=2023&zoom=4 HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("layer");
    let etag = head.lines().find_map(|l| l.strip_prefix("etag:")).expect("etag").trim().to_owned();
    let sites = Arc::new(sites);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..64)
        .map(|_| {
            let (addr, next, sites, etag) = (addr.clone(), next.clone(), sites.clone(), etag.clone());
            std::thread::spawn(move || -> (u64, Vec<String>) {
                let mut client = Client::connect(&addr).expect("connect");
                let (mut done, mut wrong) = (0u64, Vec::new());
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let site = &sites[(i / 16) as usize % sites.len()];
                    // The sea site has no commune: ask for Soissons instead.
                    let commune = if site.insee_com.is_empty() { "02722" } else { site.insee_com.as_str() };
                    let (target, extra) = match i % 16 {
                        0..=7 => (format!("/api/lookup?lon={}&lat={}", site.lon, site.lat), ""),
                        8 => ("/healthz".to_owned(), ""),
                        9 => ("/api/territories/2023/ti-3214".to_owned(), ""),
                        10 => ("/api/search?q=soissons&limit=3".to_owned(), ""),
                        11 => (format!("/api/units/{commune}"), ""),
                        12 => (
                            "/api/layers/territories.geojson?edition=2023&zoom=4".to_owned(),
                            "if-none-match",
                        ),
                        13 => ("/tiles/territories-2023/6/32/22.mvt".to_owned(), ""),
                        14 => ("/api/lookup?lon=NaN&lat=49".to_owned(), ""),
                        _ => ("/ogc/collections/territories-2023/items?limit=2".to_owned(), ""),
                    };
                    let conditional =
                        if extra.is_empty() { String::new() } else { format!("If-None-Match: {etag}\r\n") };
                    let request = format!("GET {target} HTTP/1.1\r\nHost: x\r\n{conditional}\r\n");
                    let answer = client.send(&request).or_else(|_| {
                        // The server may close an idle keep-alive connection; one retry on a new one.
                        client = Client::connect(&addr)?;
                        client.send(&request)
                    });
                    let Ok((status, _, body)) = answer else {
                        wrong.push(format!("{target}: no answer"));
                        continue;
                    };
                    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                    let ok = match i % 16 {
                        0..=7 => {
                            let ids: Vec<&str> = json["territories"]
                                .as_array()
                                .map(|t| t.iter().filter_map(|t| t["id"].as_str()).collect())
                                .unwrap_or_default();
                            status == 200 && ids.join(";") == site.territory_2023
                        }
                        8 => status == 200 && json["status"] == "ok",
                        9 => status == 200 && json["id"] == "ti-3214",
                        10 => status == 200 && json[0]["code"] == "02722",
                        11 => status == 200 && json["code"] == commune,
                        12 => status == 304 && body.is_empty(),
                        13 => status == 200 && !body.is_empty(),
                        14 => status == 400 && json["error"]["code"] == "bad_request",
                        _ => status == 200 && json["numberReturned"] == 2,
                    };
                    if !ok {
                        wrong.push(format!("{target}: {status} {}", String::from_utf8_lossy(&body)));
                    }
                    done += 1;
                }
                (done, wrong)
            })
        })
        .collect();
    let mut done = 0;
    let mut wrong = Vec::new();
    for w in workers {
        let (d, mut bad) = w.join().expect("worker");
        done += d;
        wrong.append(&mut bad);
    }
    let elapsed = started.elapsed();
    eprintln!(
        "{done} requests from 64 connections in {elapsed:.1?} ({:.0}/s), {} wrong",
        done as f64 / elapsed.as_secs_f64(),
        wrong.len()
    );
    assert!(wrong.is_empty(), "{} wrong answers, first: {:?}", wrong.len(), &wrong[..wrong.len().min(5)]);
    assert_eq!(done, total);
    let (_, metrics) = get(&addr, "/metrics");
    assert!(!metrics.lines().any(|l| l.contains("status=\"5")), "no 5xx: {metrics}");
}
