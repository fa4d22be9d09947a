//! Users and roles: names, password hashes, path-scoped privileges and role membership,
//! persisted in `data_dir/system/users` (rewritten atomically on every change: temporary file,
//! fsync, rename, directory fsync). The default superuser is `root`/`root`.
//!
//! Passwords are kept only as Argon2id hashes (PHC strings with a random salt). Files written
//! before roles existed (`IRSUSR01`, salted SHA-256) are read, and such a user's hash is
//! upgraded to Argon2id at its next successful login.
//!
//! This store knows privileges only as names and path patterns; which privileges exist, what
//! a statement needs and how patterns cover each other is the executor's business
//! (`query::auth`).

use crate::codec::{self, Reader, Writer};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use model::{Error, PathPattern, Result};
use parking_lot::{Mutex, RwLock};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

/// The file header of the current format (users, roles, privileges).
const MAGIC: &[u8; 8] = b"IRSUSR02";
/// The header of the first format (users with salted SHA-256 hashes only).
const MAGIC_V1: &[u8; 8] = b"IRSUSR01";
/// Name of the superuser, who holds every privilege and cannot be dropped.
pub const SUPERUSER: &str = "root";
const MIN_LEN: usize = 4;
const MAX_NAME_LEN: usize = 32;
const TAG_USER: u8 = 1;
const TAG_ROLE: u8 = 2;

/// Privileges on path patterns: pattern → privilege names.
pub type PrivilegeMap = BTreeMap<PathPattern, BTreeSet<String>>;

#[derive(Debug, Clone)]
enum PasswordHashRec {
    /// Argon2id PHC string.
    Argon2(String),
    /// The first format's salted SHA-256 (upgraded at the next login).
    LegacySha256 { salt: [u8; 16], hash: [u8; 32] },
}

#[derive(Debug, Clone)]
struct UserRec {
    hash: PasswordHashRec,
    privileges: PrivilegeMap,
    roles: BTreeSet<String>,
}

#[derive(Debug, Clone, Default)]
struct State {
    users: BTreeMap<String, UserRec>,
    roles: BTreeMap<String, PrivilegeMap>,
}

/// A user as the executor sees it.
#[derive(Debug, Clone)]
pub struct UserInfo {
    /// Privileges granted to the user directly.
    pub privileges: PrivilegeMap,
    /// Roles granted to the user.
    pub roles: BTreeSet<String>,
}

/// Who privileges are granted to.
#[derive(Debug, Clone, Copy)]
pub enum PrivilegeHolder<'a> {
    /// A user.
    User(&'a str),
    /// A role.
    Role(&'a str),
}

/// Argon2id with its default parameters (19 MiB, 2 passes, 1 lane: OWASP's minimum).
fn argon2() -> Argon2<'static> {
    Argon2::default()
}

/// One Argon2 computation at a time: each takes 19 MiB, so concurrent logins cannot add up
/// to unbounded memory.
static HASH_GATE: Mutex<()> = Mutex::new(());

fn hash_password(password: &str) -> Result<PasswordHashRec> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| Error::internal(format!("no randomness for a password salt: {e}")))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| Error::internal(format!("password salt: {e}")))?;
    let _gate = HASH_GATE.lock();
    let phc = argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| Error::internal(format!("hashing a password: {e}")))?;
    Ok(PasswordHashRec::Argon2(phc.to_string()))
}

fn sha256_legacy(salt: &[u8; 16], password: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(password.as_bytes());
    h.finalize().into()
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn verify(rec: &PasswordHashRec, password: &str) -> bool {
    match rec {
        PasswordHashRec::Argon2(phc) => {
            let Ok(parsed) = PasswordHash::new(phc) else {
                return false;
            };
            let _gate = HASH_GATE.lock();
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        }
        PasswordHashRec::LegacySha256 { salt, hash } => ct_eq(&sha256_legacy(salt, password), hash),
    }
}

fn check_name(kind: &str, name: &str) -> Result<()> {
    let n = name.chars().count();
    if n < MIN_LEN {
        return Err(Error::IllegalParameter(format!(
            "The length of {kind} name must be greater than or equal to {MIN_LEN}"
        )));
    }
    if n > MAX_NAME_LEN {
        return Err(Error::IllegalParameter(format!(
            "The length of {kind} name must be less than or equal to {MAX_NAME_LEN}"
        )));
    }
    if name.chars().any(char::is_whitespace) {
        return Err(Error::IllegalParameter(format!(
            "The {kind} name cannot contain spaces"
        )));
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

/// The user and role store.
#[derive(Debug)]
pub struct UserStore {
    path: Option<PathBuf>,
    state: RwLock<State>,
    /// Logins already verified against the slow hash in this process: user → SHA-256 of
    /// (process key, password). Spares repeated logins the Argon2 cost; dropped on any
    /// change of the user.
    verified: Mutex<HashMap<String, [u8; 32]>>,
    cache_key: [u8; 32],
}

fn root_rec(password: &str) -> Result<UserRec> {
    Ok(UserRec {
        hash: hash_password(password)?,
        privileges: PrivilegeMap::new(),
        roles: BTreeSet::new(),
    })
}

impl Default for UserStore {
    /// An in-memory store holding only `root`/`root` (nothing is persisted).
    fn default() -> Self {
        let mut state = State::default();
        let salt = [0u8; 16];
        state.users.insert(
            SUPERUSER.to_string(),
            UserRec {
                hash: PasswordHashRec::LegacySha256 {
                    salt,
                    hash: sha256_legacy(&salt, "root"),
                },
                privileges: PrivilegeMap::new(),
                roles: BTreeSet::new(),
            },
        );
        UserStore::with_state(None, state)
    }
}

impl UserStore {
    fn with_state(path: Option<PathBuf>, state: State) -> UserStore {
        let mut cache_key = [0u8; 32];
        // Without randomness the cache key is all zeros, which only weakens the in-memory
        // cache, never the stored hashes.
        let _ = getrandom::fill(&mut cache_key);
        UserStore {
            path,
            state: RwLock::new(state),
            verified: Mutex::new(HashMap::new()),
            cache_key,
        }
    }

    /// Loads the store from `path`, creating it with `root`/`root` when absent.
    pub(crate) fn open(path: PathBuf) -> Result<UserStore> {
        let mut state = State::default();
        let mut damaged = false;
        let mut upgrade = false;
        if path.exists() {
            let bytes = std::fs::read(&path)?;
            let header = bytes.get(..MAGIC.len());
            if header != Some(&MAGIC[..]) && header != Some(&MAGIC_V1[..]) {
                tracing::warn!(
                    "user file {} has a bad header; resetting users",
                    path.display()
                );
                damaged = true;
            } else {
                let v1 = header == Some(&MAGIC_V1[..]);
                upgrade = v1;
                let scan = codec::scan_file(&path, MAGIC.len() as u64)?;
                if let Some(why) = &scan.damage {
                    tracing::warn!(
                        "user file {}: {why}; keeping the good records",
                        path.display()
                    );
                    damaged = true;
                }
                for rec in &scan.records {
                    let r = if v1 {
                        decode_v1_user(rec).map(|(n, u)| {
                            state.users.insert(n, u);
                        })
                    } else {
                        decode_record(rec, &mut state)
                    };
                    if let Err(e) = r {
                        tracing::warn!("skipping a damaged user record: {e}");
                        damaged = true;
                    }
                }
            }
        }
        let fresh = !path.exists();
        if !state.users.contains_key(SUPERUSER) {
            state.users.insert(SUPERUSER.to_string(), root_rec("root")?);
            damaged = true;
        }
        // roles a user names but that no longer exist (damaged file) are dropped
        let known: BTreeSet<String> = state.roles.keys().cloned().collect();
        for u in state.users.values_mut() {
            u.roles.retain(|r| known.contains(r));
        }
        let store = UserStore::with_state(Some(path), state);
        if fresh || damaged || upgrade {
            store.persist(&store.state.read())?;
        }
        Ok(store)
    }

    fn persist(&self, state: &State) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut out = MAGIC.to_vec();
        let mut payload = Vec::new();
        for (name, u) in &state.users {
            payload.clear();
            let mut w = Writer::new(&mut payload);
            w.u8(TAG_USER);
            w.str(name);
            match &u.hash {
                PasswordHashRec::Argon2(phc) => {
                    w.u8(1);
                    w.str(phc);
                }
                PasswordHashRec::LegacySha256 { salt, hash } => {
                    w.u8(0);
                    w.bytes(salt);
                    w.bytes(hash);
                }
            }
            write_privileges(&mut w, &u.privileges);
            w.len(u.roles.len());
            for r in &u.roles {
                w.str(r);
            }
            codec::frame(&mut out, &payload)?;
        }
        for (name, privileges) in &state.roles {
            payload.clear();
            let mut w = Writer::new(&mut payload);
            w.u8(TAG_ROLE);
            w.str(name);
            write_privileges(&mut w, privileges);
            codec::frame(&mut out, &payload)?;
        }
        codec::write_atomic(path, &out)
    }

    /// Applies `change` to a copy of the state, persists the copy, then installs it: the
    /// store changes only if the change succeeds and reaches the disk.
    fn update<T>(&self, change: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        let mut state = self.state.write();
        let mut next = state.clone();
        let out = change(&mut next)?;
        self.persist(&next)?;
        *state = next;
        Ok(out)
    }

    fn cache_digest(&self, password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.cache_key);
        h.update(password.as_bytes());
        h.finalize().into()
    }

    /// True if the user exists and the password matches.
    pub fn check(&self, user: &str, password: &str) -> bool {
        let digest = self.cache_digest(password);
        if let Some(d) = self.verified.lock().get(user) {
            if ct_eq(d, &digest) {
                return self.state.read().users.contains_key(user);
            }
        }
        let Some(rec) = self.state.read().users.get(user).map(|u| u.hash.clone()) else {
            return false;
        };
        if !verify(&rec, password) {
            return false;
        }
        if matches!(rec, PasswordHashRec::LegacySha256 { .. }) {
            if let Err(e) = self.rehash(user, password) {
                tracing::warn!("upgrading the password hash of {user}: {e}");
            }
        }
        self.verified.lock().insert(user.to_string(), digest);
        true
    }

    fn rehash(&self, user: &str, password: &str) -> Result<()> {
        let hash = hash_password(password)?;
        self.update(|s| {
            if let Some(u) = s.users.get_mut(user) {
                u.hash = hash;
            }
            Ok(())
        })
    }

    /// Creates a user (name: 4–32 characters without spaces; password: at least 4).
    pub fn create_user(&self, user: &str, password: &str) -> Result<()> {
        check_name("user", user)?;
        check_password(password)?;
        if self.state.read().users.contains_key(user) {
            return Err(Error::UserAlreadyExist(user.to_string()));
        }
        let rec = root_rec(password)?;
        self.update(|s| {
            if s.users.contains_key(user) {
                return Err(Error::UserAlreadyExist(user.to_string()));
            }
            s.users.insert(user.to_string(), rec);
            Ok(())
        })
    }

    /// Drops a user; the superuser cannot be dropped.
    pub fn drop_user(&self, user: &str) -> Result<()> {
        if user == SUPERUSER {
            return Err(Error::NoPermission(
                "Default administrator cannot be deleted".into(),
            ));
        }
        self.update(|s| {
            s.users
                .remove(user)
                .map(|_| ())
                .ok_or_else(|| Error::UserNotExist(user.to_string()))
        })?;
        self.verified.lock().remove(user);
        Ok(())
    }

    /// Changes a user's password.
    pub fn set_password(&self, user: &str, password: &str) -> Result<()> {
        check_password(password)?;
        if !self.state.read().users.contains_key(user) {
            return Err(Error::UserNotExist(user.to_string()));
        }
        let hash = hash_password(password)?;
        self.update(|s| {
            let u = s
                .users
                .get_mut(user)
                .ok_or_else(|| Error::UserNotExist(user.to_string()))?;
            u.hash = hash;
            Ok(())
        })?;
        self.verified.lock().remove(user);
        Ok(())
    }

    /// All user names, sorted.
    pub fn list(&self) -> Vec<String> {
        self.state.read().users.keys().cloned().collect()
    }

    /// All role names, sorted.
    pub fn list_roles(&self) -> Vec<String> {
        self.state.read().roles.keys().cloned().collect()
    }

    /// A user's direct privileges and roles.
    pub fn user(&self, user: &str) -> Result<UserInfo> {
        let s = self.state.read();
        let u = s
            .users
            .get(user)
            .ok_or_else(|| Error::UserNotExist(user.to_string()))?;
        Ok(UserInfo {
            privileges: u.privileges.clone(),
            roles: u.roles.clone(),
        })
    }

    /// A role's privileges.
    pub fn role(&self, role: &str) -> Result<PrivilegeMap> {
        self.state
            .read()
            .roles
            .get(role)
            .cloned()
            .ok_or_else(|| Error::RoleNotExist(role.to_string()))
    }

    /// Users that have the role, sorted.
    pub fn users_of_role(&self, role: &str) -> Result<Vec<String>> {
        let s = self.state.read();
        if !s.roles.contains_key(role) {
            return Err(Error::RoleNotExist(role.to_string()));
        }
        Ok(s.users
            .iter()
            .filter(|(_, u)| u.roles.contains(role))
            .map(|(n, _)| n.clone())
            .collect())
    }

    /// True if `holds` accepts one of the user's privilege entries (direct or through one of
    /// its roles). False for an unknown user.
    pub fn any_privilege(&self, user: &str, holds: impl Fn(&PathPattern, &str) -> bool) -> bool {
        let s = self.state.read();
        let Some(u) = s.users.get(user) else {
            return false;
        };
        let hit = |m: &PrivilegeMap| {
            m.iter()
                .any(|(path, names)| names.iter().any(|n| holds(path, n)))
        };
        hit(&u.privileges) || u.roles.iter().filter_map(|r| s.roles.get(r)).any(hit)
    }

    /// Creates a role.
    pub fn create_role(&self, role: &str) -> Result<()> {
        check_name("role", role)?;
        self.update(|s| {
            if s.roles.contains_key(role) {
                return Err(Error::RoleAlreadyExist(role.to_string()));
            }
            s.roles.insert(role.to_string(), PrivilegeMap::new());
            Ok(())
        })
    }

    /// Drops a role and takes it away from every user that has it.
    pub fn drop_role(&self, role: &str) -> Result<()> {
        self.update(|s| {
            if s.roles.remove(role).is_none() {
                return Err(Error::RoleNotExist(role.to_string()));
            }
            for u in s.users.values_mut() {
                u.roles.remove(role);
            }
            Ok(())
        })
    }

    /// Grants a role to a user.
    pub fn grant_role(&self, role: &str, user: &str) -> Result<()> {
        self.set_membership(role, user, true)
    }

    /// Takes a role away from a user.
    pub fn revoke_role(&self, role: &str, user: &str) -> Result<()> {
        self.set_membership(role, user, false)
    }

    fn set_membership(&self, role: &str, user: &str, member: bool) -> Result<()> {
        self.update(|s| {
            if !s.roles.contains_key(role) {
                return Err(Error::RoleNotExist(role.to_string()));
            }
            let u = s
                .users
                .get_mut(user)
                .ok_or_else(|| Error::UserNotExist(user.to_string()))?;
            match (member, u.roles.contains(role)) {
                (true, true) => Err(Error::UserAlreadyHasRole(user.into(), role.into())),
                (false, false) => Err(Error::UserNotHasRole(user.into(), role.into())),
                (true, false) => {
                    u.roles.insert(role.to_string());
                    Ok(())
                }
                (false, true) => {
                    u.roles.remove(role);
                    Ok(())
                }
            }
        })
    }

    /// Changes the privileges of a user or role atomically: `change` edits a copy of the
    /// holder's privilege map; nothing changes if it fails. Entries left empty are removed.
    pub fn update_privileges(
        &self,
        holder: PrivilegeHolder<'_>,
        change: impl FnOnce(&mut PrivilegeMap) -> Result<()>,
    ) -> Result<()> {
        self.update(|s| {
            let map = match holder {
                PrivilegeHolder::User(u) => {
                    &mut s
                        .users
                        .get_mut(u)
                        .ok_or_else(|| Error::UserNotExist(u.to_string()))?
                        .privileges
                }
                PrivilegeHolder::Role(r) => s
                    .roles
                    .get_mut(r)
                    .ok_or_else(|| Error::RoleNotExist(r.to_string()))?,
            };
            change(map)?;
            map.retain(|_, names| !names.is_empty());
            Ok(())
        })
    }
}

fn write_privileges(w: &mut Writer<'_>, m: &PrivilegeMap) {
    w.len(m.len());
    for (path, names) in m {
        w.str(&path.to_string());
        w.len(names.len());
        for n in names {
            w.str(n);
        }
    }
}

fn read_privileges(r: &mut Reader<'_>) -> Result<PrivilegeMap> {
    let mut m = PrivilegeMap::new();
    for _ in 0..r.count(5)? {
        let path = PathPattern::parse(&r.string()?)?;
        let mut names = BTreeSet::new();
        for _ in 0..r.count(4)? {
            names.insert(r.string()?);
        }
        m.insert(path, names);
    }
    Ok(m)
}

fn decode_record(rec: &[u8], state: &mut State) -> Result<()> {
    let mut r = Reader::new(rec);
    match r.u8()? {
        TAG_USER => {
            let name = r.string()?;
            let hash = match r.u8()? {
                1 => PasswordHashRec::Argon2(r.string()?),
                0 => {
                    let (salt, hash) = legacy_hash(&mut r)?;
                    PasswordHashRec::LegacySha256 { salt, hash }
                }
                k => return Err(Error::StorageEngine(format!("unknown hash kind {k}"))),
            };
            let privileges = read_privileges(&mut r)?;
            let mut roles = BTreeSet::new();
            for _ in 0..r.count(4)? {
                roles.insert(r.string()?);
            }
            state.users.insert(
                name,
                UserRec {
                    hash,
                    privileges,
                    roles,
                },
            );
        }
        TAG_ROLE => {
            let name = r.string()?;
            let privileges = read_privileges(&mut r)?;
            state.roles.insert(name, privileges);
        }
        t => return Err(Error::StorageEngine(format!("unknown record tag {t}"))),
    }
    Ok(())
}

fn legacy_hash(r: &mut Reader<'_>) -> Result<([u8; 16], [u8; 32])> {
    let salt: [u8; 16] = r
        .bytes()?
        .try_into()
        .map_err(|_| Error::StorageEngine("bad salt length".into()))?;
    let hash: [u8; 32] = r
        .bytes()?
        .try_into()
        .map_err(|_| Error::StorageEngine("bad hash length".into()))?;
    Ok((salt, hash))
}

fn decode_v1_user(rec: &[u8]) -> Result<(String, UserRec)> {
    let mut r = Reader::new(rec);
    let name = r.string()?;
    let (salt, hash) = legacy_hash(&mut r)?;
    Ok((
        name,
        UserRec {
            hash: PasswordHashRec::LegacySha256 { salt, hash },
            privileges: PrivilegeMap::new(),
            roles: BTreeSet::new(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(s: &str) -> PathPattern {
        PathPattern::parse(s).unwrap()
    }

    #[test]
    fn users_roles_and_privileges_persist_hashed() {
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
            s.create_role("reader").unwrap();
            assert!(matches!(
                s.create_role("reader"),
                Err(Error::RoleAlreadyExist(_))
            ));
            s.update_privileges(PrivilegeHolder::Role("reader"), |m| {
                m.entry(pat("root.sg.**"))
                    .or_default()
                    .insert("READ_TIMESERIES".into());
                Ok(())
            })
            .unwrap();
            s.grant_role("reader", "alice").unwrap();
            assert!(matches!(
                s.grant_role("reader", "alice"),
                Err(Error::UserAlreadyHasRole(..))
            ));
            // a failing change leaves nothing behind
            assert!(s
                .update_privileges(PrivilegeHolder::User("alice"), |m| {
                    m.entry(pat("root.x.**")).or_default().insert("X".into());
                    Err(Error::internal("no"))
                })
                .is_err());
            assert!(s.user("alice").unwrap().privileges.is_empty());
        }
        let raw = std::fs::read(&path).unwrap();
        assert!(
            !raw.windows(7).any(|w| w == b"secret1"),
            "password stored in clear"
        );
        let s = UserStore::open(path.clone()).unwrap();
        assert_eq!(s.list(), vec!["alice".to_string(), "root".to_string()]);
        assert!(s.check("alice", "secret1"));
        assert!(s.check("alice", "secret1"), "cached login");
        assert!(!s.check("alice", "secret2"));
        assert!(s.check("root", "newroot"));
        assert_eq!(s.users_of_role("reader").unwrap(), vec!["alice"]);
        assert!(s.any_privilege("alice", |p, n| p == &pat("root.sg.**")
            && n == "READ_TIMESERIES"));
        assert!(!s.any_privilege("root", |_, _| true));
        s.drop_role("reader").unwrap();
        assert!(s.user("alice").unwrap().roles.is_empty());
        s.drop_user("alice").unwrap();
        assert!(!s.check("alice", "secret1"), "dropped user still logs in");
        let s = UserStore::open(path).unwrap();
        assert_eq!(s.list(), vec!["root".to_string()]);
        assert!(s.list_roles().is_empty());
    }

    #[test]
    fn first_format_is_read_and_upgraded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users");
        let mut out = MAGIC_V1.to_vec();
        for (name, pw) in [("root", "rootpw"), ("carol", "carolpw")] {
            let salt = [7u8; 16];
            let mut payload = Vec::new();
            let mut w = Writer::new(&mut payload);
            w.str(name);
            w.bytes(&salt);
            w.bytes(&sha256_legacy(&salt, pw));
            codec::frame(&mut out, &payload).unwrap();
        }
        std::fs::write(&path, out).unwrap();
        let s = UserStore::open(path.clone()).unwrap();
        assert!(s.check("carol", "carolpw"));
        assert!(!s.check("root", "root"));
        drop(s);
        let raw = std::fs::read(&path).unwrap();
        assert_eq!(&raw[..8], MAGIC);
        let s = UserStore::open(path).unwrap();
        assert!(s.check("carol", "carolpw"));
        assert!(s.check("root", "rootpw"));
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
