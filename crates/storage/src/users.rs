//! Users: names and salted SHA-256 password hashes, persisted under `data_dir/system/`.

use model::{Error, Result};

/// The user store. The default superuser is `root`/`root`.
#[derive(Debug, Default)]
pub struct UserStore {}

impl UserStore {
    /// True if the user exists and the password matches.
    pub fn check(&self, _user: &str, _password: &str) -> bool {
        false
    }

    /// Creates a user.
    pub fn create_user(&self, _user: &str, _password: &str) -> Result<()> {
        Err(Error::Unsupported("users are not supported yet".into()))
    }

    /// Drops a user (the superuser cannot be dropped).
    pub fn drop_user(&self, _user: &str) -> Result<()> {
        Err(Error::Unsupported("users are not supported yet".into()))
    }

    /// Changes a user's password.
    pub fn set_password(&self, _user: &str, _password: &str) -> Result<()> {
        Err(Error::Unsupported("users are not supported yet".into()))
    }

    /// All user names.
    pub fn list(&self) -> Vec<String> {
        Vec::new()
    }
}
