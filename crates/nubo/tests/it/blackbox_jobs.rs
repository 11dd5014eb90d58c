//! Black-box tests of the job queue: webhooks pending when the server is
//! killed are delivered after the restart, each exactly once, and
//! `nubo admin webhooks` shows them with their attempts.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nubo_service::signing::{sign_hex, SignatureAlgorithm};

use crate::blackbox::{admin_cli, Server};
use crate::harness::{fixture, multipart, signed, SECRET};

/// A blocking HTTP receiver that records (public id, signature valid).
struct Receiver {
    got: Arc<Mutex<Vec<(String, bool)>>>,
}

impl Receiver {
    fn serve(listener: TcpListener) -> Receiver {
        let got: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
        let g = got.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Some(n) = read_notification(stream) {
                    g.lock().unwrap().push(n);
                }
            }
        });
        Receiver { got }
    }

    fn snapshot(&self) -> Vec<(String, bool)> {
        self.got.lock().unwrap().clone()
    }
}

/// Reads one POST, answers 200, and checks its Cloudinary signature.
fn read_notification(mut s: std::net::TcpStream) -> Option<(String, bool)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
    };
    let len: usize = header("content-length")?.trim().parse().ok()?;
    while buf.len() < head_end + len {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).into_owned();
    let ts = header("x-cld-timestamp")?;
    let sig = header("x-cld-signature")?;
    let valid = sign_hex(
        &format!("{body}{}", ts.trim()),
        SECRET,
        SignatureAlgorithm::Sha1,
    ) == sig.trim();
    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    Some((v["public_id"].as_str()?.to_owned(), valid))
}

fn upload_with_hook(port: u16, public_id: &str, hook: &str) {
    let fields = signed(
        "upload",
        &[("public_id", public_id), ("notification_url", hook)],
        crate::harness::now(),
    );
    let (content_type, body) = multipart(&fields, Some(("alpha.png", &fixture("alpha.png"))));
    let head = format!(
        "POST /v1_1/demo/image/upload HTTP/1.0\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&body).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(
        resp.starts_with("HTTP/1.0 200") || resp.starts_with("HTTP/1.1 200"),
        "{resp}"
    );
}

fn webhooks_json(server: &Server) -> serde_json::Value {
    let (ok, out, err) = admin_cli(server, &["--json", "webhooks", "--max", "100"]);
    assert!(ok, "nubo admin webhooks failed: {err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn pending_webhooks_survive_kill_9_and_arrive_exactly_once() {
    // A port with nobody listening yet: every delivery fails and is retried.
    let reserved = TcpListener::bind("127.0.0.1:0").unwrap();
    let hook_port = reserved.local_addr().unwrap().port();
    drop(reserved);
    let hook = format!("http://127.0.0.1:{hook_port}/hook");
    let mut server = Server::start(&[
        ("NUBO_FETCH_ALLOW_PRIVATE", "true"),
        ("NUBO_JOB_POLL_MS", "100"),
        ("NUBO_JOB_BACKOFF_MS", "200"),
        ("NUBO_JOB_BACKOFF_CAP_SECS", "1"),
        ("NUBO_JOB_LEASE_SECS", "3"),
        ("NUBO_WEBHOOK_ATTEMPTS", "100"),
    ]);
    let ids: Vec<String> = (0..6).map(|i| format!("hooked{i}")).collect();
    for id in &ids {
        upload_with_hook(server.port, id, &hook);
    }
    // Wait until every delivery has failed at least once.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = webhooks_json(&server);
        let list = v["webhooks"].as_array().unwrap();
        let tried = list
            .iter()
            .filter(|w| w["attempts"].as_i64().unwrap() >= 1 && w["state"] != "done")
            .count();
        if list.len() == ids.len() && tried == ids.len() {
            break;
        }
        assert!(Instant::now() < deadline, "deliveries never failed: {v}");
        std::thread::sleep(Duration::from_millis(100));
    }
    server.kill_9();
    // The receiver comes up while the server is down.
    let rx = Receiver::serve(TcpListener::bind(("127.0.0.1", hook_port)).unwrap());
    server.restart();
    let deadline = Instant::now() + Duration::from_secs(60);
    while rx.snapshot().len() < ids.len() {
        assert!(Instant::now() < deadline, "got only {:?}", rx.snapshot());
        std::thread::sleep(Duration::from_millis(50));
    }
    // Several more poll and backoff periods: nothing arrives twice.
    std::thread::sleep(Duration::from_secs(3));
    let got = rx.snapshot();
    let mut per_id: BTreeMap<String, usize> = BTreeMap::new();
    for (id, valid) in &got {
        assert!(valid, "notification for {id} has a bad signature");
        *per_id.entry(id.clone()).or_default() += 1;
    }
    let expected: BTreeMap<String, usize> = ids.iter().map(|i| (i.clone(), 1)).collect();
    assert_eq!(per_id, expected, "each webhook exactly once");
    // The CLI tells the story: done, after failed attempts, with history.
    let v = webhooks_json(&server);
    for w in v["webhooks"].as_array().unwrap() {
        assert_eq!(w["state"], "done", "{w}");
        let history = w["history"].as_array().unwrap();
        assert!(history.len() >= 2, "{w}");
        assert_eq!(history.last().unwrap()["outcome"], "done");
        assert!(
            history[0]["detail"].as_str().unwrap().contains("127.0.0.1"),
            "{w}"
        );
    }
    let (ok, table, _) = admin_cli(&server, &["webhooks"]);
    assert!(ok);
    assert!(table.contains("done") && table.contains(&hook), "{table}");
    assert!(
        table.contains(&format!("queue: 0 queued, 0 running, {} done", ids.len())),
        "{table}"
    );
}
