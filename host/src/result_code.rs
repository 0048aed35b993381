//! Names of LDAP result codes (RFC 4511, appendix A) and of the client-side codes
//! that OpenLDAP's C API uses for failures without a server result.

/// The connection to the server was lost (client-side code).
pub const SERVER_DOWN: u32 = 81;
/// The operation did not finish in time (client-side code).
pub const TIMEOUT: u32 = 85;
/// The connection could not be established (client-side code).
pub const CONNECT_ERROR: u32 = 91;
/// The server will not perform the operation (RFC 4511).
pub const UNWILLING_TO_PERFORM: u32 = 53;
/// Any other failure (RFC 4511).
pub const OTHER: u32 = 80;

/// Returns the RFC 4511 name of a result code.
pub fn name(code: u32) -> &'static str {
    match code {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        5 => "compareFalse",
        6 => "compareTrue",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        10 => "referral",
        11 => "adminLimitExceeded",
        12 => "unavailableCriticalExtension",
        13 => "confidentialityRequired",
        14 => "saslBindInProgress",
        16 => "noSuchAttribute",
        17 => "undefinedAttributeType",
        18 => "inappropriateMatching",
        19 => "constraintViolation",
        20 => "attributeOrValueExists",
        21 => "invalidAttributeSyntax",
        32 => "noSuchObject",
        33 => "aliasProblem",
        34 => "invalidDNSyntax",
        36 => "aliasDereferencingProblem",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        54 => "loopDetect",
        64 => "namingViolation",
        65 => "objectClassViolation",
        66 => "notAllowedOnNonLeaf",
        67 => "notAllowedOnRDN",
        68 => "entryAlreadyExists",
        69 => "objectClassModsProhibited",
        71 => "affectsMultipleDSAs",
        80 => "other",
        SERVER_DOWN => "serverDown",
        TIMEOUT => "timeout",
        CONNECT_ERROR => "connectError",
        _ => "unknown",
    }
}
