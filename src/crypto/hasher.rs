//! The argon2id pool: a fixed set of OS threads, each owning one argon2 memory block that it
//! reuses for every hash, fed by a bounded queue. Beyond the queue callers are turned away at
//! once, so a login flood costs neither memory nor the async threads.
//!
//! argon2id m=19456 KiB means 19 MiB of working memory per hash; allocated per call on a
//! general thread pool, a flood multiplies it by however many threads happen to run.
//! Here it is `workers` × 19 MiB, allocated once.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::rngs::OsRng;
use rand::RngCore;
use subtle::ConstantTimeEq;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

/// Today's parameters: the OWASP/ASVS minimum for argon2id.
const M_COST: u32 = 19456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
/// Output length of the hashes we make (the PHC default).
const OUTPUT_LEN: usize = 32;

fn params() -> Params {
    Params::new(M_COST, T_COST, P_COST, Some(OUTPUT_LEN)).expect("valid argon2 params")
}

/// The password hashing work could not start at once: the queue is full.
#[derive(Debug, thiserror::Error)]
#[error("password hashing is saturated")]
pub struct HasherBusy;

/// The result of checking a password.
pub struct Verified {
    pub ok: bool,
    /// The stored hash should be replaced with one made with today's parameters.
    pub needs_rehash: bool,
}

/// Hashes `password` with a fresh salt into `memory`; returns the PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, as the argon2 crate writes it).
fn hash_into(memory: &mut [Block], password: &[u8]) -> Option<String> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf).ok()?;
    phc_string(memory, password, salt_bytes, salt.as_str())
}

fn phc_string(memory: &mut [Block], password: &[u8], salt: &[u8], salt_b64: &str) -> Option<String> {
    let params = params();
    let mut out = [0u8; OUTPUT_LEN];
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    argon.hash_password_into_with_memory(password, salt, &mut out, &mut memory[..params.block_count()]).ok()?;
    current_phc(argon2::password_hash::Salt::from_b64(salt_b64).ok()?, &out)
}

/// The PHC string of an output made with today's parameters.
fn current_phc(salt: argon2::password_hash::Salt<'_>, out: &[u8]) -> Option<String> {
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params()).ok()?,
        salt: Some(salt),
        hash: Some(Output::new(out).ok()?),
    };
    Some(phc.to_string())
}

/// Verifies `password` against a PHC string, computing into `memory` (a larger hash than the
/// block allows, e.g. imported with stronger parameters, gets its own memory once). Returns
/// `(matches, made with weaker parameters than today's)`.
fn verify_into(memory: &mut [Block], password: &[u8], phc: &str) -> (bool, bool) {
    let Ok(parsed) = PasswordHash::new(phc) else { return (false, false) };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return (false, false) };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else { return (false, false) };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return (false, false),
    };
    let Ok(params) = Params::try_from(&parsed) else { return (false, false) };
    let mut salt_buf = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_buf) else { return (false, false) };
    let mut out_buf = [0u8; Output::MAX_LENGTH];
    let out = &mut out_buf[..expected.len()];
    let argon = Argon2::new(algorithm, version, params.clone());
    let computed = match memory.get_mut(..params.block_count()) {
        Some(blocks) => argon.hash_password_into_with_memory(password, salt_bytes, out, blocks),
        None => argon.hash_password_into(password, salt_bytes, out),
    };
    let ok = computed.is_ok() && bool::from(out.ct_eq(expected.as_bytes()));
    let current = params.m_cost() >= M_COST && params.t_cost() >= T_COST;
    (ok, ok && !current)
}

/// A well-formed hash with today's parameters but random salt and output: verifying against
/// it costs exactly what a real verification costs, and no password can match it.
fn dummy_hash() -> String {
    let salt = SaltString::generate(&mut OsRng);
    let mut out = [0u8; OUTPUT_LEN];
    OsRng.fill_bytes(&mut out);
    current_phc(salt.as_salt(), &out).expect("a well-formed PHC string")
}

/// One unit of work for a hashing thread.
enum Work {
    Hash { password: String, reply: oneshot::Sender<Option<String>> },
    Verify { password: String, phc: String, reply: oneshot::Sender<(bool, bool)> },
}

impl Work {
    fn run(self, memory: &mut [Block]) {
        // A caller that went away (client disconnected) no longer needs the answer: skip the work.
        match self {
            Work::Hash { password, reply } if !reply.is_closed() => {
                let _ = reply.send(hash_into(memory, password.as_bytes()));
            }
            Work::Verify { password, phc, reply } if !reply.is_closed() => {
                let _ = reply.send(verify_into(memory, password.as_bytes(), &phc));
            }
            _ => {}
        }
    }
}

/// Niceness of the hashing threads: when the cores are short, pages, callbacks and refusals
/// (a few milliseconds each) run before the next slice of a hash, not after it.
const HASHING_NICENESS: libc::c_int = 10;

/// Lowers the calling thread's scheduling priority (Linux: per thread); elsewhere nothing.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority take no pointers; a failure only leaves the priority as is.
    unsafe {
        let tid = libc::gettid();
        let _ = libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, HASHING_NICENESS);
    }
}

/// A hashing thread: takes work until every sender is gone, always in the same memory.
fn worker(queue: Arc<Mutex<mpsc::Receiver<Work>>>) {
    lower_priority();
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).blocking_recv();
        let Some(work) = next else { return };
        if memory.is_empty() {
            // Allocated at the first hash, so a pool that never hashes costs nothing.
            memory = vec![Block::new(); params().block_count()];
        }
        // A panic (none is expected) drops the reply: that caller gets `HasherBusy`, the
        // thread and its memory stay.
        let _ = catch_unwind(AssertUnwindSafe(|| work.run(&mut memory)));
    }
}

/// Argon2id on `workers` dedicated threads: at most `workers` hashes run at once and at most
/// `queue` wait; beyond that callers are turned away at once so a login flood cannot starve
/// callbacks and pages. Cheap to clone; the threads end when the last clone is dropped.
#[derive(Clone)]
pub struct PasswordHasherPool {
    work: mpsc::Sender<Work>,
    admitted: Arc<Semaphore>,
    places: usize,
    dummy_hash: Arc<String>,
}

/// A place in the hashing queue, taken before a login does any other work so an excess
/// login is refused before it touches the database. Dropping it frees the place.
pub struct HashTicket {
    pool: PasswordHasherPool,
    _place: OwnedSemaphorePermit,
}

impl PasswordHasherPool {
    /// Starts `workers` hashing threads (at least one) with room for `queue` waiting hashes.
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        let (tx, rx) = mpsc::channel(workers + queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..workers {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("keyturn-argon2-{i}"))
                .spawn(move || worker(rx))
                .expect("cannot start a password hashing thread");
        }
        PasswordHasherPool {
            work: tx,
            admitted: Arc::new(Semaphore::new(workers + queue)),
            places: workers + queue,
            dummy_hash: Arc::new(dummy_hash()),
        }
    }

    /// Places of the queue taken (running or waiting hashes), and places in all.
    pub fn queue(&self) -> (usize, usize) {
        let all = self.places;
        (all.saturating_sub(self.admitted.available_permits()), all)
    }

    /// Takes a place in the queue, or refuses at once when it is full.
    pub fn admit(&self) -> Result<HashTicket, HasherBusy> {
        let place = self.admitted.clone().try_acquire_owned().map_err(|_| HasherBusy)?;
        Ok(HashTicket { pool: self.clone(), _place: place })
    }

    /// Hashes a password (argon2id, fresh salt).
    pub async fn hash(&self, password: String) -> Result<String, HasherBusy> {
        self.admit()?.hash(password).await
    }

    /// Hashes without the admission queue (background jobs wait their turn instead of
    /// being turned away).
    pub async fn hash_unqueued(&self, password: String) -> Result<String, HasherBusy> {
        let (reply, answer) = oneshot::channel();
        self.work.send(Work::Hash { password, reply }).await.map_err(|_| HasherBusy)?;
        answer.await.ok().flatten().ok_or(HasherBusy)
    }

    /// Verifies a password against a stored hash; with `None` it verifies against a dummy
    /// hash so unknown logins cost the same time as known ones.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<Verified, HasherBusy> {
        self.admit()?.verify(password, phc).await
    }
}

impl HashTicket {
    async fn submit<T>(&self, work: Work, answer: oneshot::Receiver<T>) -> Result<T, HasherBusy> {
        // Admitted work always finds room: the queue holds as many as there are places.
        self.pool.work.send(work).await.map_err(|_| HasherBusy)?;
        answer.await.map_err(|_| HasherBusy)
    }

    /// Hashes a password (argon2id, fresh salt) in this place of the queue.
    pub async fn hash(&self, password: String) -> Result<String, HasherBusy> {
        let (reply, answer) = oneshot::channel();
        self.submit(Work::Hash { password, reply }, answer).await?.ok_or(HasherBusy)
    }

    /// Verifies in this place of the queue; see [`PasswordHasherPool::verify`].
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<Verified, HasherBusy> {
        let real = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.pool.dummy_hash.as_str().to_string());
        let (reply, answer) = oneshot::channel();
        let (ok, needs_rehash) = self.submit(Work::Verify { password, phc, reply }, answer).await?;
        Ok(Verified { ok: ok && real, needs_rehash })
    }
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, SaltString};

    use super::*;

    fn memory() -> Vec<Block> {
        vec![Block::new(); params().block_count()]
    }

    #[test]
    fn phc_strings_are_those_the_argon2_crate_writes() {
        let salt = SaltString::generate(&mut OsRng);
        let mut buf = [0u8; 64];
        let raw = salt.decode_b64(&mut buf).unwrap();
        let ours = phc_string(&mut memory(), b"correct horse battery", raw, salt.as_str()).unwrap();
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params());
        let theirs = argon.hash_password(b"correct horse battery", &salt).unwrap().to_string();
        assert_eq!(ours, theirs);
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    }

    #[test]
    fn one_memory_serves_many_hashes_and_verifications() {
        let mut mem = memory();
        let a = hash_into(&mut mem, b"first password").unwrap();
        let b = hash_into(&mut mem, b"second password").unwrap();
        assert_eq!(verify_into(&mut mem, b"first password", &a), (true, false));
        assert_eq!(verify_into(&mut mem, b"second password", &b), (true, false));
        assert_eq!(verify_into(&mut mem, b"first password", &b), (false, false));
        assert_eq!(verify_into(&mut mem, b"x", "not a phc string"), (false, false));
    }

    #[test]
    fn weaker_and_stronger_stored_hashes_verify_and_weaker_ones_ask_for_a_rehash() {
        let salt = SaltString::generate(&mut OsRng);
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(4096, 1, 1, None).unwrap());
        let weak = weak.hash_password(b"old password", &salt).unwrap().to_string();
        let strong = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(M_COST + 1024, 2, 1, None).unwrap());
        let strong = strong.hash_password(b"old password", &salt).unwrap().to_string();
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, params());
        let argon2i = argon2i.hash_password(b"old password", &salt).unwrap().to_string();
        let mut mem = memory();
        assert_eq!(verify_into(&mut mem, b"old password", &weak), (true, true));
        assert_eq!(verify_into(&mut mem, b"old password", &strong), (true, false));
        assert_eq!(verify_into(&mut mem, b"old password", &argon2i), (true, false));
        assert_eq!(verify_into(&mut mem, b"wrong password", &weak), (false, false));
    }

    #[tokio::test]
    async fn hash_verifies_and_dummy_never_matches() {
        // The dummy is a full-cost hash (today's parameters), so unknown logins take as long.
        assert!(dummy_hash().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(verify_into(&mut memory(), b"anything", &dummy_hash()), (false, false));
        let pool = PasswordHasherPool::new(1, 1);
        let h = pool.hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(pool.verify("correct horse battery".into(), Some(h.clone())).await.unwrap().ok);
        assert!(!pool.verify("wrong".into(), Some(h)).await.unwrap().ok);
        assert!(!pool.verify("anything".into(), None).await.unwrap().ok);
        assert!(pool.hash_unqueued("background".into()).await.unwrap().starts_with("$argon2id$"));
    }

    #[tokio::test]
    async fn beyond_the_queue_callers_are_turned_away_at_once() {
        let pool = PasswordHasherPool::new(1, 1);
        let first = pool.admit().unwrap();
        let _second = pool.admit().unwrap();
        assert!(pool.admit().is_err());
        assert!(pool.verify("x".into(), None).await.is_err());
        // A ticket covers a verification and the rehash after it; dropping it frees the place.
        let v = first.verify("x".into(), None).await.unwrap();
        assert!(!v.ok);
        drop(first);
        assert!(pool.admit().is_ok());
    }
}
