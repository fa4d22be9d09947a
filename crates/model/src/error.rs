//! The error enum shared by all layers, mapped to IoTDB status codes in one place.

use crate::status::TSStatusCode;

/// Result with the shared [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong in iotdb-rs, by kind. Each variant maps to exactly one
/// IoTDB status code in [`Error::status_code`]; messages say what was wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The statement text does not parse.
    #[error("Error occurred while parsing SQL to physical plan: {0}")]
    SqlParse(String),
    /// The statement parses but makes no sense (mixing aggregates, bad WHERE …).
    #[error("{0}")]
    Semantic(String),
    /// A feature that iotdb-rs does not implement yet.
    #[error("{0}")]
    Unsupported(String),
    /// A request parameter is out of range or malformed.
    #[error("{0}")]
    IllegalParameter(String),
    /// A path or node name is not legal.
    #[error("{path} is not a legal path{reason}", path = .0, reason = .1.as_ref().map(|r| format!(", because {r}")).unwrap_or_default())]
    IllegalPath(String, Option<String>),
    /// No database covers the path.
    #[error("Database is not set for current seriesPath: [{0}]")]
    DatabaseNotSet(String),
    /// The database (or an ancestor/descendant of it) exists already.
    #[error("{0}")]
    DatabaseAlreadyExists(String),
    /// The time series exists already.
    #[error("Path [{0}] already exist")]
    TimeseriesAlreadyExist(String),
    /// The alias is taken.
    #[error("Alias [{0}] for Path [{1}] already exist")]
    AliasAlreadyExist(String, String),
    /// The path exists already (e.g. as a different node kind).
    #[error("Path [{0}] already exist")]
    PathAlreadyExist(String),
    /// The path does not exist.
    #[error("Path [{0}] does not exist")]
    PathNotExist(String),
    /// A schema rule is violated (type mismatch on insert, bad encoding …).
    #[error("{0}")]
    Metadata(String),
    /// Aligned/non-aligned mismatch.
    #[error("{0}")]
    AlignedTimeseries(String),
    /// A schema template cannot be created as asked.
    #[error("{0}")]
    CreateTemplate(String),
    /// A template of that name exists.
    #[error("Duplicated template name: {0}")]
    DuplicatedTemplate(String),
    /// No template of that name.
    #[error("Template {0} does not exist")]
    UndefinedTemplate(String),
    /// The template is not set on the path.
    #[error("{0}")]
    TemplateNotSet(String),
    /// The template is in use and cannot be changed that way.
    #[error("{0}")]
    TemplateIsInUse(String),
    /// The template conflicts with existing schema.
    #[error("{0}")]
    TemplateIncompatible(String),
    /// The template is not activated on the path.
    #[error("{0}")]
    TemplateNotActivated(String),
    /// The server is in read-only mode (`SET SYSTEM TO READONLY`).
    #[error("{0}")]
    SystemReadOnly(String),
    /// Insertion older than the TTL bound.
    #[error("{0}")]
    OutOfTtl(String),
    /// A write was refused because the memory budget stayed exhausted (IoTDB's
    /// `WRITE_PROCESS_REJECT`, 606): the client may retry later.
    #[error("{0}")]
    NotEnoughMemory(String),
    /// The write-ahead log failed.
    #[error("WAL error: {0}")]
    Wal(String),
    /// Storage engine failure (I/O, corrupt file …).
    #[error("{0}")]
    StorageEngine(String),
    /// Stored data failed its checksum: a damaged TsFile (the message names the file and
    /// the offset). IoTDB answers a corrupted TsFile with `TSFILE_PROCESSOR_ERROR`.
    #[error("{0}")]
    CorruptedFile(String),
    /// A query failed while running.
    #[error("Error occurred in query process: {0}")]
    QueryProcess(String),
    /// The query may not run.
    #[error("{0}")]
    QueryNotAllowed(String),
    /// Bad time zone.
    #[error("{0}")]
    TimeZone(String),
    /// Login failed.
    #[error("{0}")]
    WrongLoginPassword(String),
    /// No valid session.
    #[error("Log in failed. Either you are not authorized or the session has timed out.")]
    NotLogin,
    /// Missing privilege.
    #[error("{0}")]
    NoPermission(String),
    /// User does not exist.
    #[error("User {0} does not exist")]
    UserNotExist(String),
    /// User already exists.
    #[error("User {0} already exists")]
    UserAlreadyExist(String),
    /// The user already has the role.
    #[error("User {0} already has role {1}")]
    UserAlreadyHasRole(String, String),
    /// The user does not have the role.
    #[error("User {0} does not have role {1}")]
    UserNotHasRole(String, String),
    /// Role does not exist.
    #[error("Role {0} does not exist")]
    RoleNotExist(String),
    /// Role already exists.
    #[error("Role {0} already exists")]
    RoleAlreadyExist(String),
    /// GRANT of a privilege the user or role already has on that path.
    #[error("{0}")]
    AlreadyHasPrivilege(String),
    /// REVOKE of a privilege the user or role does not have on that path.
    #[error("{0}")]
    NotHasPrivilege(String),
    /// The query ran longer than its timeout (the request's or `query_timeout_threshold`).
    #[error("Current query is time out, please check your statement or modify timeout parameter.")]
    QueryTimeout,
    /// KILL QUERY named a query that is not running.
    #[error("No such query: {0}")]
    NoSuchQuery(String),
    /// KILL QUERY with an id that is not of the form `<yyyyMMdd_HHmmss>_<n>_<node>`.
    #[error("Please ensure your input <queryId> is correct")]
    MalformedQueryId,
    /// The query was stopped by KILL QUERY or by its client.
    #[error("Query {0} was killed")]
    QueryKilled(String),
    /// The server already serves its maximum number of client connections.
    #[error("{0}")]
    TooManyConnections(String),
    /// Client protocol version mismatch.
    #[error("{0}")]
    IncompatibleVersion(String),
    /// Loading a TsFile failed.
    #[error("{0}")]
    LoadFile(String),
    /// Several independent failures of one batch request, each with its own error.
    #[error("{}", .0.iter().map(|(i, e)| format!("[{i}] {e}")).collect::<Vec<_>>().join("; "))]
    Multiple(Vec<(usize, Error)>),
    /// I/O failure.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A request names a query that this session never started (or that is long gone).
    #[error("Has not executed query {0}")]
    UnknownQuery(i64),
    /// A statement failed while it ran (the writes of SELECT INTO); the message carries the
    /// underlying failure and its code, as IoTDB reports it.
    #[error("{0}")]
    ExecuteStatement(String),
    /// A bug or unexpected state; the message names it.
    #[error("Internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The IoTDB status code for this error. This is the only place that maps errors to codes.
    pub fn status_code(&self) -> TSStatusCode {
        use TSStatusCode as C;
        match self {
            Error::SqlParse(_) => C::SqlParseError,
            Error::Semantic(_) => C::SemanticError,
            Error::Unsupported(_) => C::UnsupportedOperation,
            Error::IllegalParameter(_) => C::IllegalParameter,
            Error::IllegalPath(..) => C::IllegalPath,
            Error::DatabaseNotSet(_) => C::DatabaseNotExist,
            Error::DatabaseAlreadyExists(_) => C::DatabaseAlreadyExists,
            Error::TimeseriesAlreadyExist(_) => C::TimeseriesAlreadyExist,
            Error::AliasAlreadyExist(..) => C::AliasAlreadyExist,
            Error::PathAlreadyExist(_) => C::PathAlreadyExist,
            Error::PathNotExist(_) => C::PathNotExist,
            Error::Metadata(_) => C::MetadataError,
            Error::AlignedTimeseries(_) => C::AlignedTimeseriesError,
            Error::CreateTemplate(_) => C::CreateTemplateError,
            // IoTDB reports both as a metadata error (1.x and 2.0 alike)
            Error::DuplicatedTemplate(_) | Error::UndefinedTemplate(_) => C::MetadataError,
            Error::TemplateNotSet(_) => C::TemplateNotSet,
            Error::TemplateIsInUse(_) => C::TemplateIsInUse,
            Error::TemplateIncompatible(_) => C::TemplateIncompatible,
            Error::TemplateNotActivated(_) => C::TemplateNotActivated,
            Error::SystemReadOnly(_) => C::SystemReadOnly,
            Error::OutOfTtl(_) => C::OutOfTtl,
            Error::NotEnoughMemory(_) => C::WriteProcessReject,
            Error::Wal(_) => C::WalError,
            Error::StorageEngine(_) => C::StorageEngineError,
            Error::CorruptedFile(_) => C::TsfileProcessorError,
            Error::QueryProcess(_) => C::QueryProcessError,
            Error::QueryNotAllowed(_) => C::QueryNotAllowed,
            Error::TimeZone(_) => C::SetTimeZoneError,
            Error::WrongLoginPassword(_) => C::WrongLoginPassword,
            Error::NotLogin => C::NotLogin,
            Error::NoPermission(_) => C::NoPermission,
            Error::UserNotExist(_) => C::UserNotExist,
            Error::UserAlreadyExist(_) => C::UserAlreadyExist,
            Error::UserAlreadyHasRole(..) => C::UserAlreadyHasRole,
            Error::UserNotHasRole(..) => C::UserNotHasRole,
            Error::RoleNotExist(_) => C::RoleNotExist,
            Error::RoleAlreadyExist(_) => C::RoleAlreadyExist,
            Error::AlreadyHasPrivilege(_) => C::AlreadyHasPrivilege,
            Error::NotHasPrivilege(_) => C::NotHasPrivilege,
            Error::QueryTimeout => C::InternalRequestTimeOut,
            Error::NoSuchQuery(_) => C::NoSuchQuery,
            Error::QueryKilled(_) => C::QueryWasKilled,
            Error::MalformedQueryId => C::InternalServerError,
            Error::TooManyConnections(_) => C::InternalServerError,
            Error::IncompatibleVersion(_) => C::IncompatibleVersion,
            Error::LoadFile(_) => C::LoadFileError,
            Error::Multiple(_) => C::MultipleError,
            Error::Io(_) => C::StorageEngineError,
            Error::UnknownQuery(_) | Error::ExecuteStatement(_) => C::ExecuteStatementError,
            Error::Internal(_) => C::InternalServerError,
        }
    }

    /// Shorthand for an [`Error::Internal`].
    pub fn internal(msg: impl Into<String>) -> Self {
        Error::Internal(msg.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_messages() {
        let e = Error::PathNotExist("root.a.b".into());
        assert_eq!(e.status_code().code(), 508);
        assert_eq!(e.to_string(), "Path [root.a.b] does not exist");
        let e = Error::IllegalPath("root".into(), Some("too short".into()));
        assert_eq!(e.to_string(), "root is not a legal path, because too short");
        assert_eq!(Error::NotLogin.status_code().code(), 802);
    }
}
