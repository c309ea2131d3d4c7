//! The real `keyturn serve` binary as a child process, its output captured in a file.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{smtp, webhook, TestApp};

pub struct Keyturn {
    child: Child,
    pub base: String,
    pub log_path: PathBuf,
    /// The raw key of the sandbox secret it was started with.
    pub key: Vec<u8>,
}

/// A free port on 127.0.0.1 (tiny race between closing and the child binding it).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

impl Keyturn {
    /// Starts `keyturn serve` on SQLite in `data_dir`, mailing to 127.0.0.1:`smtp_port`,
    /// and waits until `/readyz` answers 200.
    pub async fn serve(data_dir: &Path, smtp_port: u16) -> Keyturn {
        Keyturn::serve_with(data_dir, smtp_port, &[], None).await
    }

    /// [`Keyturn::serve`] with extra `KEYTURN_*` variables and, when given, this many file
    /// descriptors at most (`ulimit -n`).
    pub async fn serve_with(data_dir: &Path, smtp_port: u16, env: &[(&str, &str)], nofile: Option<u32>) -> Keyturn {
        let port = free_port();
        let (secret, key) = webhook::new_secret();
        let log_path = data_dir.with_extension(format!("{port}.log"));
        let log = std::fs::File::create(&log_path).unwrap();
        let bin = env!("CARGO_BIN_EXE_keyturn");
        let mut cmd = match nofile {
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
            .env("KEYTURN_DATA_DIR", data_dir)
            .env("KEYTURN_LISTEN", format!("127.0.0.1:{port}"))
            .env("KEYTURN_SMTP_URL", format!("smtp://127.0.0.1:{smtp_port}"))
            .env("KEYTURN_SANDBOX_SECRET", &secret)
            .env("KEYTURN_WORKER_POLL_MS", "100")
            .env("KEYTURN_LOGIN_DELAY_MS", "0")
            .env("KEYTURN_LOG_LEVEL", "info,keyturn=trace")
            .envs(env.iter().map(|(k, v)| (format!("KEYTURN_{}", k.to_ascii_uppercase()), *v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let child = cmd.spawn().expect("spawn keyturn serve");
        let k = Keyturn { child, base: format!("http://127.0.0.1:{port}"), log_path, key };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = client.get(format!("{}/readyz", k.base)).send().await {
                if r.status() == 200 {
                    return k;
                }
            }
            assert!(Instant::now() < deadline, "keyturn serve did not become ready:\n{}", k.logs());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

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
    }
}
