//! IoTDB 1.0 status codes (`TSStatusCode`), as sent in `TSStatus.code`.

/// A status code of IoTDB 1.0 (numbers shared by 1.0–2.0 servers and clients).
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum TSStatusCode {
    SuccessStatus = 200,
    IncompatibleVersion = 201,
    ConfigurationError = 202,
    StartUpError = 203,
    ShutDownError = 204,
    UnsupportedOperation = 300,
    ExecuteStatementError = 301,
    MultipleError = 302,
    IllegalParameter = 303,
    OverlapWithExistingTask = 304,
    InternalServerError = 305,
    DatabaseNotExist = 500,
    DatabaseAlreadyExists = 501,
    SeriesOverflow = 502,
    TimeseriesAlreadyExist = 503,
    TimeseriesInBlackList = 504,
    AliasAlreadyExist = 505,
    PathAlreadyExist = 506,
    MetadataError = 507,
    PathNotExist = 508,
    IllegalPath = 509,
    CreateTemplateError = 510,
    DuplicatedTemplate = 511,
    UndefinedTemplate = 512,
    TemplateNotSet = 513,
    DifferentTemplate = 514,
    TemplateIsInUse = 515,
    TemplateIncompatible = 516,
    TemplateNotActivated = 524,
    SystemReadOnly = 600,
    StorageEngineError = 601,
    TsfileProcessorError = 604,
    WriteProcessError = 605,
    WriteProcessReject = 606,
    OutOfTtl = 607,
    AlignedTimeseriesError = 609,
    WalError = 610,
    DiskSpaceInsufficient = 611,
    SqlParseError = 700,
    SemanticError = 701,
    GenerateTimeZoneError = 702,
    SetTimeZoneError = 703,
    QueryNotAllowed = 704,
    QueryProcessError = 708,
    CloseOperationError = 710,
    TsBlockSerializeError = 711,
    UninitializedAuthError = 800,
    WrongLoginPassword = 801,
    NotLogin = 802,
    NoPermission = 803,
    UserNotExist = 804,
    UserAlreadyExist = 805,
    UserAlreadyHasRole = 806,
    UserNotHasRole = 807,
    RoleNotExist = 808,
    RoleAlreadyExist = 809,
    AlreadyHasPrivilege = 810,
    NotHasPrivilege = 811,
    InternalRequestTimeOut = 712,
    NoSuchQuery = 714,
    QueryWasKilled = 715,
    LoadFileError = 1100,
}

impl TSStatusCode {
    /// The numeric code sent on the wire.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// True for the codes clients treat as success (200 and 400).
    pub fn is_success(code: i32) -> bool {
        code == 200 || code == 400
    }
}
