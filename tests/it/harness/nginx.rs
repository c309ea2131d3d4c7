//! A real nginx in front of a static directory and an echo upstream, protected by
//! `auth_request` to keyturn's `/auth/verify` — the set-up the README documents. It runs in the
//! foreground on a loopback port with its own prefix in a temp dir and is killed on drop.
//! Without nginx installed the caller skips its test, unless KEYTURN_REQUIRE_NGINX is set.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A running nginx.
pub struct Nginx {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"].iter().map(PathBuf::from).find(|p| p.exists())
}

/// Where nginx forwards, and which service it sells.
pub struct Protect<'a> {
    /// keyturn's address, `http://127.0.0.1:PORT`.
    pub keyturn: &'a str,
    /// The port nginx listens on (chosen before keyturn starts, for `return_hosts`).
    pub port: u16,
    pub service: &'a str,
    /// The echo upstream's port (`/app/`).
    pub echo_port: u16,
}

/// `/files/` and `/course/` (static) and `/app/` (the echo upstream, told `Remote-User`) behind
/// `auth_request`; `/course/` sends a visitor without a session to the login page.
fn config(dir: &Path, p: &Protect) -> String {
    let d = dir.display();
    let (kt, port, svc, echo) = (p.keyturn, p.port, p.service, p.echo_port);
    format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  server {{
    listen 127.0.0.1:{port};
    root {d}/site;
    location = /_keyturn {{
      internal;
      proxy_pass {kt}/auth/verify?service={svc};
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Forwarded-Uri $request_uri;
    }}
    location @login {{
      rewrite ^ /auth/verify?service={svc}&redirect=true? break;
      proxy_pass {kt};
      # keyturn's Location points at keyturn itself: keep nginx from rewriting it to its own host.
      proxy_redirect off;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Forwarded-Uri $request_uri;
    }}
    location /files/ {{
      auth_request /_keyturn;
    }}
    location /course/ {{
      auth_request /_keyturn;
      error_page 401 = @login;
    }}
    location /app/ {{
      auth_request /_keyturn;
      auth_request_set $kt_user $upstream_http_remote_user;
      auth_request_set $kt_email $upstream_http_remote_email;
      auth_request_set $kt_name $upstream_http_remote_name;
      auth_request_set $kt_groups $upstream_http_remote_groups;
      auth_request_set $kt_until $upstream_http_x_keyturn_active_until;
      auth_request_set $kt_state $upstream_http_x_keyturn_access_state;
      proxy_set_header Remote-User $kt_user;
      proxy_set_header Remote-Email $kt_email;
      proxy_set_header Remote-Name $kt_name;
      proxy_set_header Remote-Groups $kt_groups;
      proxy_set_header X-Keyturn-Active-Until $kt_until;
      proxy_set_header X-Keyturn-Access-State $kt_state;
      proxy_set_header Cookie $kt_app_cookie;
      proxy_pass http://127.0.0.1:{echo};
    }}
  }}
  map $http_cookie $kt_app_cookie {{
    "~^(?<kt_a>.*?)(?:^|;\s*)(?:__Host-|__Secure-)?keyturn_session=[^;]*(?<kt_b>.*)$" "$kt_a$kt_b";
    default $http_cookie;
  }}
}}
"#
    )
}

impl Nginx {
    /// Starts nginx, or `None` (test skipped) when it is not installed.
    pub async fn start(p: &Protect<'_>) -> Option<Nginx> {
        let Some(bin) = binary() else {
            assert!(
                std::env::var("KEYTURN_REQUIRE_NGINX").is_err(),
                "KEYTURN_REQUIRE_NGINX is set but nginx is not installed"
            );
            eprintln!("nginx test skipped: install the Debian package nginx to run it");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        for page in ["files/index.html", "course/lesson.html"] {
            let path = dir.path().join("site").join(page);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, format!("members only: {page}\n")).unwrap();
        }
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, config(dir.path(), p)).unwrap();
        let child = Command::new(bin)
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nginx starts");
        let mut n = Nginx { child, base: format!("http://127.0.0.1:{}", p.port), dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", p.port)).await.is_err() {
            if let Ok(Some(status)) = n.child.try_wait() {
                panic!("nginx exited ({status}): {}", n.errors());
            }
            assert!(Instant::now() < deadline, "nginx did not listen: {}", n.errors());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Some(n)
    }

    fn errors(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

/// An upstream that answers every request with the request head it received.
pub async fn echo_upstream() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    head.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
                let _ = sock.write_all(&head).await;
            });
        }
    });
    port
}
