//! Building the wire `TSStatus` from results and `model::Error`s.

use crate::common::TSStatus;
use model::{Error, TSStatusCode};

/// A plain status with `code` and optional message.
pub fn status(code: TSStatusCode, message: Option<String>) -> TSStatus {
    TSStatus::new(code.code(), message, None, None, None)
}

/// `200` without a message.
pub fn success() -> TSStatus {
    status(TSStatusCode::SuccessStatus, None)
}

/// The status for an error: its code (from [`Error::status_code`]) and message.
/// [`Error::Multiple`] becomes `302 MULTIPLE_ERROR` with one sub-status per failed item,
/// in item order (clients concatenate their messages).
pub fn from_error(e: &Error) -> TSStatus {
    let mut s = status(e.status_code(), Some(e.to_string()));
    if let Error::Multiple(items) = e {
        s.sub_status = Some(
            items
                .iter()
                .map(|(_, item)| Box::new(from_error(item)))
                .collect(),
        );
    }
    s
}

/// `200` for `Ok`, [`from_error`] for `Err`.
pub fn from_result<T>(r: &model::Result<T>) -> TSStatus {
    match r {
        Ok(_) => success(),
        Err(e) => from_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(success().code, 200);
        assert_eq!(success().message, None);
        let s = from_error(&Error::PathNotExist("root.a".into()));
        assert_eq!(s.code, 508);
        assert_eq!(s.message.as_deref(), Some("Path [root.a] does not exist"));
        let m = Error::Multiple(vec![
            (0, Error::NotLogin),
            (3, Error::Metadata("bad".into())),
        ]);
        let s = from_error(&m);
        assert_eq!(s.code, 302);
        let subs = s.sub_status.unwrap();
        assert_eq!(subs.len(), 2);
        assert_eq!(subs[0].code, 802);
        assert_eq!(subs[1].code, 507);
        assert_eq!(from_result(&Ok::<_, Error>(1)).code, 200);
    }
}
