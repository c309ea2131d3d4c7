//! The real `keyturn serve` binary as a child process, its output captured in a file, on the
//! backend under test (PostgreSQL when `KEYTURN_TEST_DATABASE_URL` is set, else SQLite).
//! An [`Instance`] is what survives a SIGKILL: data dir, database, secret and settings; each
//! [`Instance::serve`] starts one life of it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{db, smtp, webhook, TestApp};

/// A free port on 127.0.0.1 (tiny race between closing and the child binding it).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// What the lives of one keyturn share.
pub struct Instance {
    pub data_dir: PathBuf,
    pub smtp_port: u16,
    secret: String,
    /// The raw key of the sandbox secret (callbacks are signed with it).
    pub key: Vec<u8>,
    env: Vec<(String, String)>,
    pg: Option<Arc<db::PgDb>>,
    lives: usize,
    /// File descriptors each life may hold at most (`ulimit -n`), when set.
    nofile: Option<u32>,
}

impl Instance {
    /// An instance in `data_dir` mailing to 127.0.0.1:`smtp_port`, on the backend under test.
    pub async fn new(data_dir: &Path, smtp_port: u16) -> Instance {
        let pg = match db::base_url() {
            Some(base) => Some(Arc::new(tokio::task::spawn_blocking(move || db::PgDb::create(&base)).await.unwrap())),
            None => None,
        };
        let (secret, key) = webhook::new_secret();
        Instance { data_dir: data_dir.to_path_buf(), smtp_port, secret, key, env: vec![], pg, lives: 0, nofile: None }
    }

    /// A `KEYTURN_*` setting for every life (`key` without the prefix, e.g. `outbox_lease_secs`).
    pub fn set(mut self, key: &str, value: &str) -> Self {
        self.env.push((format!("KEYTURN_{}", key.to_ascii_uppercase()), value.to_string()));
        self
    }

    /// Every life runs with at most `n` file descriptors (`ulimit -n`).
    pub fn nofile(mut self, n: u32) -> Self {
        self.nofile = Some(n);
        self
    }

    /// Where the database is: a PostgreSQL URL, or the SQLite file's path.
    pub fn database(&self) -> String {
        match &self.pg {
            Some(pg) => pg.url.clone(),
            None => self.data_dir.join("keyturn.db").to_string_lossy().into_owned(),
        }
    }

    /// `sql` (one BIGINT column `n`) on this instance's database.
    pub async fn count(&self, sql: &str) -> i64 {
        let (url, sql) = (self.database(), sql.to_string());
        tokio::task::spawn_blocking(move || db::count(&url, &sql)).await.unwrap()
    }

    /// Starts a life of `keyturn serve` and waits until `/readyz` answers 200.
    pub async fn serve(&mut self) -> Keyturn {
        self.lives += 1;
        let port = free_port();
        std::fs::create_dir_all(&self.data_dir).unwrap();
        let log_path = self.data_dir.with_extension(format!("life{}.log", self.lives));
        let log = std::fs::File::create(&log_path).unwrap();
        let bin = env!("CARGO_BIN_EXE_keyturn");
        let mut cmd = match self.nofile {
            Some(n) => {
                let mut c = Command::new("sh");
                c.args(["-c", &format!("ulimit -n {n} && exec \"$0\" serve"), bin]);
                c
            }
            None => {
                let mut c = Command::new(bin);
                c.arg("serve");
                c
            }
        };
        // Only what we set: KEYTURN_TEST_* from the test run is no setting.
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("KEYTURN_DATA_DIR", &self.data_dir)
            .env("KEYTURN_LISTEN", format!("127.0.0.1:{port}"))
            .env("KEYTURN_SMTP_URL", format!("smtp://127.0.0.1:{}", self.smtp_port))
            .env("KEYTURN_SANDBOX_SECRET", &self.secret)
            .env("KEYTURN_SANDBOX_ENABLED", "true")
            .env("KEYTURN_WORKER_POLL_MS", "100")
            .env("KEYTURN_LOGIN_DELAY_MS", "0")
            .env("KEYTURN_LOG_LEVEL", "info,keyturn=trace")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        if let Some(pg) = &self.pg {
            cmd.env("KEYTURN_DATABASE_URL", &pg.url);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn keyturn serve");
        let k = Keyturn { child, base: format!("http://127.0.0.1:{port}"), log_path, key: self.key.clone() };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = client.get(format!("{}/readyz", k.base)).send().await {
                if r.status() == 200 {
                    if let Some(pg) = &self.pg {
                        let url = pg.url.clone();
                        tokio::task::spawn_blocking(move || db::seed_demo(&url)).await.unwrap();
                    }
                    return k;
                }
            }
            assert!(Instant::now() < deadline, "keyturn serve did not become ready:\n{}", k.logs());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// One running life of the binary.
pub struct Keyturn {
    child: Child,
    pub base: String,
    pub log_path: PathBuf,
    /// The raw key of the sandbox secret it was started with.
    pub key: Vec<u8>,
}

impl Keyturn {
    /// A TestApp handle for driving this process (mail read from `store`).
    pub fn driver(&self, store: smtp::Store) -> TestApp {
        TestApp::attach(&self.base, store, vec![self.key.clone()])
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The process id (of `keyturn` itself: the shell wrapper `exec`s it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, no chance to clean up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Keyturn {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("--- log of keyturn serve at {} ---\n{}", self.base, self.logs());
        }
    }
}
