//! Black-box tests: the real `nubo` binary, driven by the official Python
//! and Node SDKs. `scripts/test.sh` installs both (a venv in `.venv`, npm
//! packages in `tests/sdk/node`); set NUBO_TEST_PYTHON to use another Python.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{files_under, KEY, SECRET};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn python() -> PathBuf {
    let p = std::env::var_os("NUBO_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".venv/bin/python"));
    assert!(
        p.exists(),
        "{} is missing: run scripts/test.sh, which creates the SDK venv",
        p.display()
    );
    p
}

fn spawn_serve(env: &[(String, String)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_nubo"))
        .arg("serve")
        .envs(env.iter().cloned())
        .env_remove("NUBO_CONFIG")
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A running `nubo serve` on a free port with its own data dir.
pub struct Server {
    child: Child,
    pub port: u16,
    /// Kept so the data dir lives as long as the server.
    _dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Server {
    pub fn start(extra: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut env: Vec<(String, String)> = vec![
            ("NUBO_DATA_DIR".into(), dir.path().display().to_string()),
            ("NUBO_LISTEN".into(), format!("127.0.0.1:{port}")),
            ("NUBO_CLOUD_NAME".into(), "demo".into()),
            ("NUBO_API_KEY".into(), KEY.into()),
            ("NUBO_API_SECRET".into(), SECRET.into()),
            ("NUBO_LOG".into(), "warn".into()),
        ];
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let child = spawn_serve(&env);
        let server = Server {
            child,
            port,
            _dir: dir,
            env,
        };
        server.wait_healthy();
        server
    }

    /// `kill -9`, then a fresh process on the same data dir and port.
    pub fn crash_and_restart(&mut self) {
        self.kill_9();
        self.restart();
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill_9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// A fresh process on the same data dir and port.
    pub fn restart(&mut self) {
        self.child = spawn_serve(&self.env);
        self.wait_healthy();
    }

    pub fn data_dir(&self) -> &Path {
        self._dir.path()
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                use std::io::{Read, Write};
                let _ = s.write_all(b"GET /health HTTP/1.0\r\n\r\n");
                let mut resp = String::new();
                let _ = s.read_to_string(&mut resp);
                if resp.starts_with("HTTP/1.0 200") || resp.starts_with("HTTP/1.1 200") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("nubo did not become healthy on port {}", self.port);
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn cloudinary_url(&self) -> String {
        format!(
            "cloudinary://{KEY}:{SECRET}@demo?upload_prefix={}&cname=127.0.0.1:{}",
            self.base(),
            self.port
        )
    }

    /// Runs a `nubo` subcommand against this server's configuration.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_nubo"))
            .args(args)
            .envs(self.env.iter().cloned())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "nubo {args:?} failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }

    fn create_presets(&self) {
        self.cli(&[
            "preset",
            "create",
            "unsigned_web",
            "--unsigned",
            "--set",
            "folder=web",
        ]);
        self.cli(&[
            "preset",
            "create",
            "signed_only",
            "--set",
            "tags=preset_tag",
        ]);
        // Named transformations used by the SDK delivery tests.
        let created = self.cli(&["transformation", "create", "sdk_thumb", "c_fill,h_20,w_20"]);
        assert!(
            created.contains("created transformation t_sdk_thumb"),
            "{created}"
        );
        let listed = self.cli(&["transformation", "list"]);
        assert!(listed.contains("sdk_thumb"), "{listed}");
        let listed = self.cli(&["preset", "list"]);
        assert!(
            listed.contains("unsigned_web\tunsigned\tfolder=web"),
            "{listed}"
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run_suite(mut cmd: Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("could not run {what}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}\n{stderr}");
    assert!(out.status.success(), "{what} failed:\n{stdout}\n{stderr}");
}

fn python_suite(db: &[(&str, &str)]) {
    let main = Server::start(&[&[("NUBO_FETCH_ALLOW_PRIVATE", "true")], db].concat());
    let strict = Server::start(&[]);
    // Admin API tests that need a cloud of their own, or a tiny rate limit.
    let isolated = Server::start(&[]);
    let limited = Server::start(&[("NUBO_ADMIN_RATE_LIMIT", "3")]);
    main.create_presets();
    let mut cmd = Command::new(python());
    cmd.args([
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/sdk/python",
    ])
    .current_dir(workspace())
    .env("CLOUDINARY_URL", main.cloudinary_url())
    .env("NUBO_STRICT_PREFIX", strict.base())
    .env("NUBO_ISOLATED_URL", isolated.cloudinary_url())
    .env("NUBO_LIMITED_URL", limited.cloudinary_url())
    .env("NUBO_FIXTURES", workspace().join("tests/fixtures"));
    run_suite(cmd, "the Python SDK suite");
}

#[test]
fn python_sdk_on_sqlite() {
    python_suite(&[]);
}

#[test]
fn python_sdk_on_postgres() {
    let schema = format!("nubo_bb_{}", nubo_core::random_id(10));
    let url = crate::catalog_backends::pg_url();
    python_suite(&[
        ("NUBO_DATABASE_URL", &url),
        ("NUBO_DATABASE_SCHEMA", &schema),
    ]);
}

#[test]
fn node_sdk_on_sqlite() {
    let node_modules = workspace().join("tests/sdk/node/node_modules/cloudinary");
    assert!(
        node_modules.exists(),
        "run scripts/test.sh, which installs the Node SDK"
    );
    // Private addresses allowed: the webhook test's receiver is local.
    let server = Server::start(&[("NUBO_FETCH_ALLOW_PRIVATE", "true")]);
    server.create_presets();
    let mut cmd = Command::new("node");
    cmd.args(["--test", "tests/sdk/node/"])
        .current_dir(workspace())
        .env("CLOUDINARY_URL", server.cloudinary_url())
        .env("NUBO_FIXTURES", workspace().join("tests/fixtures"));
    run_suite(cmd, "the Node SDK suite");
}

#[test]
fn config_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        Command::new(env!("CARGO_BIN_EXE_nubo"))
            .args(args)
            .env("NUBO_DATA_DIR", dir.path())
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    let ok = run(&["config", "check"], &[]);
    assert!(ok.status.success());
    let bad = run(&["config", "check"], &[("NUBO_LISTEN", "not-an-address")]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("NUBO_LISTEN"));
    let dump = run(
        &["config", "dump"],
        &[("NUBO_API_KEY", "k"), ("NUBO_API_SECRET", "topsecret")],
    );
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(
        text.contains("api_key = \"k\"  # NUBO_API_KEY") && !text.contains("topsecret"),
        "{text}"
    );
    // cloud and key management
    let created = run(&["cloud", "create", "acme"], &[]);
    let out = String::from_utf8_lossy(&created.stdout);
    assert!(
        out.contains("CLOUDINARY_URL=cloudinary://") && out.contains("@acme?upload_prefix="),
        "{out}"
    );
    let key = String::from_utf8_lossy(&run(&["key", "create", "--cloud", "acme"], &[]).stdout)
        .into_owned();
    let api_key = key
        .lines()
        .find_map(|l| l.strip_prefix("api_key="))
        .unwrap()
        .to_owned();
    assert!(run(&["key", "revoke", "--cloud", "acme", &api_key], &[])
        .status
        .success());
    let listed =
        String::from_utf8_lossy(&run(&["key", "list", "--cloud", "acme"], &[]).stdout).into_owned();
    assert!(
        listed.contains(&api_key) && listed.contains("revoked"),
        "{listed}"
    );
    assert!(
        !run(&["key", "revoke", "--cloud", "acme", &api_key], &[])
            .status
            .success(),
        "revoking twice fails"
    );
    assert!(
        !run(&["cloud", "create", "acme"], &[]).status.success(),
        "duplicate cloud"
    );
    let clouds = String::from_utf8_lossy(&run(&["cloud", "list"], &[]).stdout).into_owned();
    assert!(clouds.contains("acme"));
    // bearer tokens: shown once, listed by id, revocable once
    let made = String::from_utf8_lossy(
        &run(&["token", "create", "--cloud", "acme", "--ttl", "1h"], &[]).stdout,
    )
    .into_owned();
    let id = made
        .lines()
        .find_map(|l| l.strip_prefix("id="))
        .unwrap()
        .to_owned();
    assert!(made.lines().any(|l| l.starts_with("token=nubo_")), "{made}");
    let listed = String::from_utf8_lossy(&run(&["token", "list", "--cloud", "acme"], &[]).stdout)
        .into_owned();
    assert!(
        listed.contains(&id) && listed.contains("active"),
        "{listed}"
    );
    assert!(!listed.contains("nubo_"), "tokens are never shown again");
    assert!(run(&["token", "revoke", "--cloud", "acme", &id], &[])
        .status
        .success());
    assert!(!run(&["token", "revoke", "--cloud", "acme", &id], &[])
        .status
        .success());
    assert!(
        !run(&["token", "create", "--cloud", "acme", "--ttl", "1y"], &[])
            .status
            .success()
    );
    let gc = String::from_utf8_lossy(&run(&["gc"], &[]).stdout).into_owned();
    assert_eq!(gc.trim(), "deleted 0 unreferenced blobs");
    // presets are validated like uploads
    assert!(!run(
        &[
            "preset",
            "create",
            "--cloud",
            "acme",
            "bad",
            "--set",
            "overwrite=maybe"
        ],
        &[]
    )
    .status
    .success());
}

#[test]
fn slow_request_headers_are_cut_off() {
    use std::io::{Read, Write};
    let server = Server::start(&[("NUBO_HEADER_TIMEOUT_SECS", "1")]);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").unwrap(); // never finished
    let mut buf = Vec::new();
    let read = s.read_to_end(&mut buf);
    assert!(
        read.is_ok(),
        "the server should close the connection, not leave it hanging: {read:?}"
    );
    assert!(
        !String::from_utf8_lossy(&buf).contains("200 OK"),
        "no response to an unfinished request"
    );
}

#[test]
fn first_start_prints_a_working_cloudinary_url() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nubo"))
        .arg("serve")
        .env("NUBO_DATA_DIR", dir.path())
        .env("NUBO_LISTEN", format!("127.0.0.1:{port}"))
        .env("NUBO_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::BufRead;
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("nubo exited before printing CLOUDINARY_URL")
            .unwrap();
        if let Some(u) = line.strip_prefix("CLOUDINARY_URL=") {
            break u.to_owned();
        }
    };
    let expected_tail =
        format!("@demo?upload_prefix=http://127.0.0.1:{port}&cname=127.0.0.1:{port}");
    assert!(
        url.starts_with("cloudinary://") && url.ends_with(&expected_tail),
        "{url}"
    );
    // The printed credential works with the SDK.
    let script = "import cloudinary.uploader as up, sys; r = up.upload(sys.argv[1]); assert r['format'] == 'png', r";
    let out = Command::new(python())
        .args([
            "-c",
            script,
            workspace()
                .join("tests/fixtures/alpha.png")
                .to_str()
                .unwrap(),
        ])
        .env("CLOUDINARY_URL", &url)
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn http_status(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes())
        .unwrap();
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    resp.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn a_killed_server_leaves_no_half_asset() {
    use std::io::Write;
    let mut server = Server::start(&[]);
    // A signed upload whose file part is half sent when the server dies.
    let fields = crate::harness::signed("upload", &[("public_id", "half")], crate::harness::now());
    let (content_type, body) =
        crate::harness::multipart(&fields, Some(("big.bin", &vec![7u8; 4 << 20])));
    let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let head = format!(
        "POST /v1_1/demo/raw/upload HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&body[..body.len() / 2]).unwrap();
    s.flush().unwrap();
    // Wait until the server is writing the file, so the kill lands mid-upload.
    let spool = server.data_dir().join("tmp");
    let deadline = Instant::now() + Duration::from_secs(30);
    while files_under(&spool).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the upload never reached the spool"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server.crash_and_restart();
    drop(s);

    assert_eq!(
        http_status(server.port, "/demo/raw/upload/half"),
        "HTTP/1.0 404 Not Found"
    );
    assert!(
        files_under(&server.data_dir().join("blobs")).is_empty(),
        "no blob was committed"
    );
    // The catalog and the store are usable, and the same upload now succeeds.
    let mut cmd = Command::new(python());
    cmd.args(["-c", "import cloudinary.uploader as up, sys; r = up.upload(sys.argv[1], resource_type='raw', public_id='half'); assert r['bytes'] == 16, r"])
        .arg(workspace().join("tests/fixtures/notes.txt"))
        .env("CLOUDINARY_URL", server.cloudinary_url());
    run_suite(cmd, "an upload after the restart");
    assert_eq!(
        http_status(server.port, "/demo/raw/upload/half"),
        "HTTP/1.0 200 OK"
    );
}

/// `nubo admin …` against a running server, as CLOUDINARY_URL names it.
pub(crate) fn admin_cli(server: &Server, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nubo"))
        .arg("admin")
        .args(args)
        .env("CLOUDINARY_URL", server.cloudinary_url())
        .env_remove("NUBO_CONFIG")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn admin_cli_lists_searches_tags_and_deletes_with_a_progress_bar() {
    let server = Server::start(&[]);
    let script = "import cloudinary.uploader as up, sys\n\
                  for n in ['a', 'b', 'c']:\n    up.upload(sys.argv[1], public_id='cli/' + n, tags=['clitag'])";
    let mut cmd = Command::new(python());
    cmd.args(["-c", script])
        .arg(workspace().join("tests/fixtures/photo.jpg"))
        .env("CLOUDINARY_URL", server.cloudinary_url());
    run_suite(cmd, "uploads for the CLI test");
    let ok = |args: &[&str]| {
        let (ok, out, err) = admin_cli(&server, args);
        assert!(ok, "nubo admin {args:?} failed: {out}{err}");
        out
    };
    let listed: serde_json::Value = serde_json::from_str(&ok(&["ls", "cli/", "--json"])).unwrap();
    let ids: Vec<&str> = listed["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["public_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["cli/c", "cli/b", "cli/a"], "newest first");
    let table = ok(&["ls", "cli/", "--max", "1", "--all"]);
    assert!(
        table.starts_with("public_id") && table.contains("cli/a") && table.contains("40x30"),
        "{table}"
    );
    ok(&["tag", "add", "extra", "cli/a"]);
    let found: serde_json::Value =
        serde_json::from_str(&ok(&["search", "tags=extra", "--json"])).unwrap();
    assert_eq!(found["total_count"], 1);
    assert_eq!(found["resources"][0]["public_id"], "cli/a");
    let shown = ok(&["show", "cli/a"]);
    assert!(
        shown.contains("extra") && shown.contains("asset_id"),
        "{shown}"
    );

    ok(&[
        "preset",
        "create",
        "cli_p",
        "--unsigned",
        "--set",
        "folder=x",
    ]);
    assert!(ok(&["preset", "ls"]).contains("cli_p"));
    ok(&["preset", "rm", "cli_p"]);
    assert!(!ok(&["preset", "ls"]).contains("cli_p"));
    ok(&["transformation", "create", "cli_t", "c_fill,h_10,w_10"]);
    assert!(ok(&["transformation", "ls"]).contains("t_cli_t"));
    ok(&["transformation", "rm", "cli_t"]);

    let (done, out, err) = admin_cli(&server, &["rm", "--prefix", "cli/"]);
    assert!(done, "{out}{err}");
    assert_eq!(out.trim(), "deleted 3 resources");
    assert!(
        err.contains("[##############################] 3/3"),
        "{err}"
    );
    let (found, _, err) = admin_cli(&server, &["show", "cli/a"]);
    assert!(
        !found && err.contains("404") && err.contains("Resource not found"),
        "{err}"
    );
}

/// Posts one chunk of a chunked upload over a plain socket; the response.
fn post_chunk(port: u16, upload_id: &str, first: usize, bytes: &[u8], total: usize) -> String {
    use std::io::{Read, Write};
    let fields = crate::harness::signed(
        "upload",
        &[("public_id", "crash.bin")],
        crate::harness::now(),
    );
    let (content_type, body) = crate::harness::multipart(&fields, Some(("crash.bin", bytes)));
    let last = first + bytes.len() - 1;
    let head = format!(
        "POST /v1_1/demo/raw/upload HTTP/1.0\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Content-Range: bytes {first}-{last}/{total}\r\nX-Unique-Upload-Id: {upload_id}\r\n\r\n",
        body.len()
    );
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&body).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp
}

#[test]
fn a_chunked_upload_survives_kill_9_and_continues() {
    let mut server = Server::start(&[]);
    let data: Vec<u8> = (0..(3 << 20))
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let chunk = 1 << 20;
    let first = post_chunk(server.port, "crash1", 0, &data[..chunk], data.len());
    assert!(first.contains("\"done\":false"), "{first}");
    let second = post_chunk(
        server.port,
        "crash1",
        chunk,
        &data[chunk..2 * chunk],
        data.len(),
    );
    assert!(
        second.contains(&format!("\"bytes\":{}", 2 * chunk)),
        "{second}"
    );
    server.crash_and_restart();
    let last = post_chunk(
        server.port,
        "crash1",
        2 * chunk,
        &data[2 * chunk..],
        data.len(),
    );
    assert!(
        last.starts_with("HTTP/1.0 200") || last.starts_with("HTTP/1.1 200"),
        "{last}"
    );
    assert!(last.contains("\"public_id\":\"crash.bin\""), "{last}");
    // The stored file is the whole source, byte for byte.
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    s.write_all(b"GET /demo/raw/upload/crash.bin HTTP/1.0\r\n\r\n")
        .unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(resp[split..].len(), data.len());
    assert!(
        resp[split..] == data[..],
        "the assembled asset differs from the source"
    );
}
