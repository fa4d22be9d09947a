//! Users: names and salted SHA-256 password hashes, persisted in `data_dir/system/users`
//! (rewritten atomically on every change). The default superuser is `root`/`root`.

use crate::codec::{self, Reader, Writer};
use model::{Error, Result};
use parking_lot::RwLock;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::PathBuf;

const MAGIC: &[u8; 8] = b"IRSUSR01";
const SUPERUSER: &str = "root";
const MIN_LEN: usize = 4;
const MAX_NAME_LEN: usize = 32;

#[derive(Debug, Clone)]
struct UserRec {
    salt: [u8; 16],
    hash: [u8; 32],
}

fn hash(salt: &[u8; 16], password: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(password.as_bytes());
    h.finalize().into()
}

fn new_rec(password: &str) -> Result<UserRec> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| Error::internal(format!("no randomness for a password salt: {e}")))?;
    Ok(UserRec {
        salt,
        hash: hash(&salt, password),
    })
}

fn check_name(name: &str) -> Result<()> {
    let n = name.chars().count();
    if n < MIN_LEN {
        return Err(Error::IllegalParameter(format!(
            "The length of name must be greater than or equal to {MIN_LEN}"
        )));
    }
    if n > MAX_NAME_LEN {
        return Err(Error::IllegalParameter(format!(
            "The length of name must be less than or equal to {MAX_NAME_LEN}"
        )));
    }
    if name.chars().any(char::is_whitespace) {
        return Err(Error::IllegalParameter(
            "The name cannot contain spaces".into(),
        ));
    }
    Ok(())
}

fn check_password(p: &str) -> Result<()> {
    if p.chars().count() < MIN_LEN {
        return Err(Error::IllegalParameter(format!(
            "The length of password must be greater than or equal to {MIN_LEN}"
        )));
    }
    if p.chars().any(char::is_whitespace) {
        return Err(Error::IllegalParameter(
            "The password cannot contain spaces".into(),
        ));
    }
    Ok(())
}

/// The user store. Passwords are kept only as salted SHA-256 hashes.
#[derive(Debug)]
pub struct UserStore {
    path: Option<PathBuf>,
    users: RwLock<BTreeMap<String, UserRec>>,
}

impl Default for UserStore {
    /// An in-memory store holding only `root`/`root` (nothing is persisted).
    fn default() -> Self {
        let mut m = BTreeMap::new();
        let salt = [0u8; 16];
        m.insert(
            SUPERUSER.to_string(),
            UserRec {
                salt,
                hash: hash(&salt, "root"),
            },
        );
        UserStore {
            path: None,
            users: RwLock::new(m),
        }
    }
}

impl UserStore {
    /// Loads the store from `path`, creating it with `root`/`root` when absent.
    pub(crate) fn open(path: PathBuf) -> Result<UserStore> {
        let mut users = BTreeMap::new();
        let mut damaged = false;
        if path.exists() {
            let bytes = std::fs::read(&path)?;
            if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
                tracing::warn!(
                    "user file {} has a bad header; resetting users",
                    path.display()
                );
                damaged = true;
            } else {
                let scan = codec::scan_file(&path, MAGIC.len() as u64)?;
                if let Some(why) = &scan.damage {
                    tracing::warn!(
                        "user file {}: {why}; keeping the good records",
                        path.display()
                    );
                    damaged = true;
                }
                for rec in &scan.records {
                    match decode_user(rec) {
                        Ok((name, u)) => {
                            users.insert(name, u);
                        }
                        Err(e) => {
                            tracing::warn!("skipping a damaged user record: {e}");
                            damaged = true;
                        }
                    }
                }
            }
        }
        let fresh = !path.exists();
        if !users.contains_key(SUPERUSER) {
            users.insert(SUPERUSER.to_string(), new_rec("root")?);
            damaged = true;
        }
        let store = UserStore {
            path: Some(path),
            users: RwLock::new(users),
        };
        if fresh || damaged {
            store.persist(&store.users.read())?;
        }
        Ok(store)
    }

    fn persist(&self, users: &BTreeMap<String, UserRec>) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut out = MAGIC.to_vec();
        let mut payload = Vec::new();
        for (name, u) in users {
            payload.clear();
            let mut w = Writer::new(&mut payload);
            w.str(name);
            w.bytes(&u.salt);
            w.bytes(&u.hash);
            codec::frame(&mut out, &payload)?;
        }
        codec::write_atomic(path, &out)
    }

    /// True if the user exists and the password matches.
    pub fn check(&self, user: &str, password: &str) -> bool {
        let users = self.users.read();
        let Some(u) = users.get(user) else {
            return false;
        };
        let h = hash(&u.salt, password);
        // constant-time comparison
        h.iter()
            .zip(u.hash.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    /// Creates a user (name: 4–32 characters without spaces; password: at least 4).
    pub fn create_user(&self, user: &str, password: &str) -> Result<()> {
        check_name(user)?;
        check_password(password)?;
        let mut users = self.users.write();
        if users.contains_key(user) {
            return Err(Error::UserAlreadyExist(user.to_string()));
        }
        let mut next = users.clone();
        next.insert(user.to_string(), new_rec(password)?);
        self.persist(&next)?;
        *users = next;
        Ok(())
    }

    /// Drops a user; the superuser cannot be dropped.
    pub fn drop_user(&self, user: &str) -> Result<()> {
        if user == SUPERUSER {
            return Err(Error::NoPermission(
                "Default administrator cannot be deleted".into(),
            ));
        }
        let mut users = self.users.write();
        if !users.contains_key(user) {
            return Err(Error::UserNotExist(user.to_string()));
        }
        let mut next = users.clone();
        next.remove(user);
        self.persist(&next)?;
        *users = next;
        Ok(())
    }

    /// Changes a user's password.
    pub fn set_password(&self, user: &str, password: &str) -> Result<()> {
        check_password(password)?;
        let mut users = self.users.write();
        if !users.contains_key(user) {
            return Err(Error::UserNotExist(user.to_string()));
        }
        let mut next = users.clone();
        next.insert(user.to_string(), new_rec(password)?);
        self.persist(&next)?;
        *users = next;
        Ok(())
    }

    /// All user names, sorted.
    pub fn list(&self) -> Vec<String> {
        self.users.read().keys().cloned().collect()
    }
}

fn decode_user(rec: &[u8]) -> Result<(String, UserRec)> {
    let mut r = Reader::new(rec);
    let name = r.string()?;
    let salt: [u8; 16] = r
        .bytes()?
        .try_into()
        .map_err(|_| Error::StorageEngine("bad salt length".into()))?;
    let hash: [u8; 32] = r
        .bytes()?
        .try_into()
        .map_err(|_| Error::StorageEngine("bad hash length".into()))?;
    Ok((name, UserRec { salt, hash }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_persist_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users");
        {
            let s = UserStore::open(path.clone()).unwrap();
            assert!(s.check("root", "root"));
            assert!(!s.check("root", "wrong"));
            s.create_user("alice", "secret1").unwrap();
            assert!(matches!(
                s.create_user("alice", "x1234"),
                Err(Error::UserAlreadyExist(_))
            ));
            assert!(s.create_user("bob", "pw").is_err());
            assert!(s.create_user("ab", "longpass").is_err());
            s.set_password("root", "newroot").unwrap();
            assert!(matches!(s.drop_user("root"), Err(Error::NoPermission(_))));
            assert!(matches!(s.drop_user("nobody"), Err(Error::UserNotExist(_))));
        }
        let raw = std::fs::read(&path).unwrap();
        assert!(
            !raw.windows(7).any(|w| w == b"secret1"),
            "password stored in clear"
        );
        let s = UserStore::open(path.clone()).unwrap();
        assert_eq!(s.list(), vec!["alice".to_string(), "root".to_string()]);
        assert!(s.check("alice", "secret1"));
        assert!(s.check("root", "newroot"));
        s.drop_user("alice").unwrap();
        let s = UserStore::open(path).unwrap();
        assert_eq!(s.list(), vec!["root".to_string()]);
    }

    #[test]
    fn damaged_user_file_falls_back_to_root() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users");
        std::fs::write(&path, b"garbage!garbage").unwrap();
        let s = UserStore::open(path).unwrap();
        assert!(s.check("root", "root"));
    }
}
