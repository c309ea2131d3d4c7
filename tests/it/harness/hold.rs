//! Holding a resource of the running app (the database's write turn, a place in the hashing
//! queue) while a test shows what still answers meanwhile.

use keyturn::crypto::HashTicket;
use tokio::task::JoinHandle;

use super::TestApp;

/// A write transaction kept open until [`WriteHold::release`] (on SQLite it holds the write gate).
pub struct WriteHold {
    release: std::sync::mpsc::Sender<()>,
    done: JoinHandle<()>,
}

impl TestApp {
    /// Starts a write that does not finish until released; returns once it holds its turn.
    pub async fn hold_write(&self) -> WriteHold {
        let (held, holding) = tokio::sync::oneshot::channel();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let db = self.app.as_ref().expect("app running").state.db.clone();
        let done = tokio::spawn(async move {
            db.write_once(move |_| {
                let _ = held.send(());
                let _ = wait.recv();
                Ok(())
            })
            .await
            .expect("the held write");
        });
        holding.await.expect("the held write started");
        WriteHold { release, done }
    }

    /// Takes a place in the hashing queue (dropping it frees the place).
    pub fn hold_hashing_place(&self) -> HashTicket {
        let hasher = &self.app.as_ref().expect("app running").state.hasher;
        hasher.admit().expect("a free place in the hashing queue")
    }
}

impl WriteHold {
    /// Lets the write commit and waits for it.
    pub async fn release(self) {
        let _ = self.release.send(());
        self.done.await.expect("the held write ended");
    }
}

/// Every connection of the app's pool, taken until [`PoolHold::release`].
pub struct PoolHold {
    release: Vec<std::sync::mpsc::Sender<()>>,
    done: Vec<JoinHandle<()>>,
}

impl TestApp {
    /// Takes every connection of the pool (`database_pool_size`), so that the database does not
    /// answer: a request waits for a connection, gives up (5 s) and answers as in an outage.
    /// Works on SQLite as on PostgreSQL; keep the pool small (`.set("database_pool_size", "2")`).
    pub async fn hold_all_connections(&self) -> PoolHold {
        let state = &self.app.as_ref().expect("app running").state;
        let mut hold = PoolHold { release: Vec::new(), done: Vec::new() };
        for _ in 0..state.settings.database_pool_size {
            let (held, holding) = tokio::sync::oneshot::channel();
            let (release, wait) = std::sync::mpsc::channel::<()>();
            let db = state.db.clone();
            hold.done.push(tokio::spawn(async move {
                db.read(move |_| {
                    let _ = held.send(());
                    let _ = wait.recv();
                    Ok(())
                })
                .await
                .expect("the held connection");
            }));
            holding.await.expect("the connection was taken");
            hold.release.push(release);
        }
        hold
    }
}

impl PoolHold {
    /// Gives the connections back.
    pub async fn release(self) {
        drop(self.release);
        for d in self.done {
            d.await.expect("the held connection ended");
        }
    }
}
