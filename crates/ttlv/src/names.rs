//! KMIP tag names, enumeration values and mask flags: one table each, from
//! which every lookup is derived.
//!
//! Transcribed from the tag and enumeration tables of the OASIS KMIP
//! specifications 1.4 (section 9.1.3) and 2.1 (sections 11 and 12), which
//! include every tag of versions 1.0 to 1.3 and 2.0. This file is the source,
//! not generated: a tag is one line of [`tags!`] (its constant, value and name
//! as the specification writes it), from which come the `Tag` constants, the
//! name lookups both ways and the JSON/XML spelling ([`normalize_name`] of the
//! specification's name, as the KMIP profiles define it). An enumeration or
//! mask is one block of [`name_tables!`], which names the tags that use it.
//! Where a later version renamed or reserved a value, the 1.x name is kept so
//! that older messages still read; alternative spellings are accepted on
//! input only.

use std::sync::OnceLock;

use crate::{Tag, normalize_name};

/// Expands the one list of tags into the `Tag` constants and [`TAGS`].
macro_rules! tags {
    ($($constant:ident = $value:literal, $spec_name:literal;)*) => {
        impl Tag {
            $(
                #[doc = concat!($spec_name, " (`", stringify!($value), "`).")]
                pub const $constant: Tag = Tag($value);
            )*
        }

        /// Every tag of KMIP 1.0 to 2.1 with its name as the specification
        /// writes it, sorted by value (a test checks it).
        static TAGS: &[(Tag, &str)] = &[$((Tag::$constant, $spec_name)),*];
    };
}

/// Expands blocks of values and names (then `alias` lines: other spellings
/// accepted on input) into one [`NameTable`] each (a static named after the
/// block's first tag) and a lookup function `$lookup` from a
/// tag to the table its items use.
macro_rules! name_tables {
    (
        $(#[$lookup_doc:meta])*
        fn $lookup:ident;
        $(
            $first:ident $(, $more:ident)* {
                $($value:literal $name:literal,)*
                $(alias $alias:literal = $aliased:literal,)*
            }
        )*
    ) => {
        $(
            static $first: NameTable = NameTable {
                tag: Tag::$first,
                values: &[$(($value, $name)),*],
                aliases: &[$(($alias, $aliased)),*],
            };
        )*

        $(#[$lookup_doc])*
        pub fn $lookup(tag: Tag) -> Option<&'static NameTable> {
            match tag {
                $(Tag::$first $(| Tag::$more)* => Some(&$first),)*
                _ => None,
            }
        }
    };
}

tags! {
    ACTIVATION_DATE = 0x420001, "Activation Date";
    APPLICATION_DATA = 0x420002, "Application Data";
    APPLICATION_NAMESPACE = 0x420003, "Application Namespace";
    APPLICATION_SPECIFIC_INFORMATION = 0x420004, "Application Specific Information";
    ARCHIVE_DATE = 0x420005, "Archive Date";
    ASYNCHRONOUS_CORRELATION_VALUE = 0x420006, "Asynchronous Correlation Value";
    ASYNCHRONOUS_INDICATOR = 0x420007, "Asynchronous Indicator";
    ATTRIBUTE = 0x420008, "Attribute";
    ATTRIBUTE_INDEX = 0x420009, "Attribute Index";
    ATTRIBUTE_NAME = 0x42000A, "Attribute Name";
    ATTRIBUTE_VALUE = 0x42000B, "Attribute Value";
    AUTHENTICATION = 0x42000C, "Authentication";
    BATCH_COUNT = 0x42000D, "Batch Count";
    BATCH_ERROR_CONTINUATION_OPTION = 0x42000E, "Batch Error Continuation Option";
    BATCH_ITEM = 0x42000F, "Batch Item";
    BATCH_ORDER_OPTION = 0x420010, "Batch Order Option";
    BLOCK_CIPHER_MODE = 0x420011, "Block Cipher Mode";
    CANCELLATION_RESULT = 0x420012, "Cancellation Result";
    CERTIFICATE = 0x420013, "Certificate";
    CERTIFICATE_IDENTIFIER = 0x420014, "Certificate Identifier";
    CERTIFICATE_ISSUER = 0x420015, "Certificate Issuer";
    CERTIFICATE_ISSUER_ALTERNATIVE_NAME = 0x420016, "Certificate Issuer Alternative Name";
    CERTIFICATE_ISSUER_DISTINGUISHED_NAME = 0x420017, "Certificate Issuer Distinguished Name";
    CERTIFICATE_REQUEST = 0x420018, "Certificate Request";
    CERTIFICATE_REQUEST_TYPE = 0x420019, "Certificate Request Type";
    CERTIFICATE_SUBJECT = 0x42001A, "Certificate Subject";
    CERTIFICATE_SUBJECT_ALTERNATIVE_NAME = 0x42001B, "Certificate Subject Alternative Name";
    CERTIFICATE_SUBJECT_DISTINGUISHED_NAME = 0x42001C, "Certificate Subject Distinguished Name";
    CERTIFICATE_TYPE = 0x42001D, "Certificate Type";
    CERTIFICATE_VALUE = 0x42001E, "Certificate Value";
    COMMON_TEMPLATE_ATTRIBUTE = 0x42001F, "Common Template-Attribute";
    COMPROMISE_DATE = 0x420020, "Compromise  Date";
    COMPROMISE_OCCURRENCE_DATE = 0x420021, "Compromise Occurrence Date";
    CONTACT_INFORMATION = 0x420022, "Contact Information";
    CREDENTIAL = 0x420023, "Credential";
    CREDENTIAL_TYPE = 0x420024, "Credential Type";
    CREDENTIAL_VALUE = 0x420025, "Credential Value";
    CRITICALITY_INDICATOR = 0x420026, "Criticality Indicator";
    CRT_COEFFICIENT = 0x420027, "CRT Coefficient";
    CRYPTOGRAPHIC_ALGORITHM = 0x420028, "Cryptographic Algorithm";
    CRYPTOGRAPHIC_DOMAIN_PARAMETERS = 0x420029, "Cryptographic Domain Parameters";
    CRYPTOGRAPHIC_LENGTH = 0x42002A, "Cryptographic Length";
    CRYPTOGRAPHIC_PARAMETERS = 0x42002B, "Cryptographic Parameters";
    CRYPTOGRAPHIC_USAGE_MASK = 0x42002C, "Cryptographic Usage Mask";
    CUSTOM_ATTRIBUTE = 0x42002D, "Custom Attribute";
    D = 0x42002E, "D";
    DEACTIVATION_DATE = 0x42002F, "Deactivation Date";
    DERIVATION_DATA = 0x420030, "Derivation Data";
    DERIVATION_METHOD = 0x420031, "Derivation Method";
    DERIVATION_PARAMETERS = 0x420032, "Derivation Parameters";
    DESTROY_DATE = 0x420033, "Destroy Date";
    DIGEST = 0x420034, "Digest";
    DIGEST_VALUE = 0x420035, "Digest Value";
    ENCRYPTION_KEY_INFORMATION = 0x420036, "Encryption Key Information";
    G = 0x420037, "G";
    HASHING_ALGORITHM = 0x420038, "Hashing Algorithm";
    INITIAL_DATE = 0x420039, "Initial Date";
    INITIALIZATION_VECTOR = 0x42003A, "Initialization Vector";
    ISSUER = 0x42003B, "Issuer";
    ITERATION_COUNT = 0x42003C, "Iteration Count";
    IV_COUNTER_NONCE = 0x42003D, "IV/Counter/Nonce";
    J = 0x42003E, "J";
    KEY = 0x42003F, "Key";
    KEY_BLOCK = 0x420040, "Key Block";
    KEY_COMPRESSION_TYPE = 0x420041, "Key Compression Type";
    KEY_FORMAT_TYPE = 0x420042, "Key Format Type";
    KEY_MATERIAL = 0x420043, "Key Material";
    KEY_PART_IDENTIFIER = 0x420044, "Key Part Identifier";
    KEY_VALUE = 0x420045, "Key Value";
    KEY_WRAPPING_DATA = 0x420046, "Key Wrapping Data";
    KEY_WRAPPING_SPECIFICATION = 0x420047, "Key Wrapping Specification";
    LAST_CHANGE_DATE = 0x420048, "Last Change Date";
    LEASE_TIME = 0x420049, "Lease Time";
    LINK = 0x42004A, "Link";
    LINK_TYPE = 0x42004B, "Link Type";
    LINKED_OBJECT_IDENTIFIER = 0x42004C, "Linked Object Identifier";
    MAC_SIGNATURE = 0x42004D, "MAC/Signature";
    MAC_SIGNATURE_KEY_INFORMATION = 0x42004E, "MAC/Signature Key Information";
    MAXIMUM_ITEMS = 0x42004F, "Maximum Items";
    MAXIMUM_RESPONSE_SIZE = 0x420050, "Maximum Response Size";
    MESSAGE_EXTENSION = 0x420051, "Message Extension";
    MODULUS = 0x420052, "Modulus";
    NAME = 0x420053, "Name";
    NAME_TYPE = 0x420054, "Name Type";
    NAME_VALUE = 0x420055, "Name Value";
    OBJECT_GROUP = 0x420056, "Object Group";
    OBJECT_TYPE = 0x420057, "Object Type";
    OFFSET = 0x420058, "Offset";
    OPAQUE_DATA_TYPE = 0x420059, "Opaque Data Type";
    OPAQUE_DATA_VALUE = 0x42005A, "Opaque Data Value";
    OPAQUE_OBJECT = 0x42005B, "Opaque Object";
    OPERATION = 0x42005C, "Operation";
    OPERATION_POLICY_NAME = 0x42005D, "Operation Policy Name";
    P = 0x42005E, "P";
    PADDING_METHOD = 0x42005F, "Padding Method";
    PRIME_EXPONENT_P = 0x420060, "Prime Exponent P";
    PRIME_EXPONENT_Q = 0x420061, "Prime Exponent Q";
    PRIME_FIELD_SIZE = 0x420062, "Prime Field Size";
    PRIVATE_EXPONENT = 0x420063, "Private Exponent";
    PRIVATE_KEY = 0x420064, "Private Key";
    PRIVATE_KEY_TEMPLATE_ATTRIBUTE = 0x420065, "Private Key Template-Attribute";
    PRIVATE_KEY_UNIQUE_IDENTIFIER = 0x420066, "Private Key Unique Identifier";
    PROCESS_START_DATE = 0x420067, "Process Start Date";
    PROTECT_STOP_DATE = 0x420068, "Protect Stop Date";
    PROTOCOL_VERSION = 0x420069, "Protocol Version";
    PROTOCOL_VERSION_MAJOR = 0x42006A, "Protocol Version Major";
    PROTOCOL_VERSION_MINOR = 0x42006B, "Protocol Version Minor";
    PUBLIC_EXPONENT = 0x42006C, "Public Exponent";
    PUBLIC_KEY = 0x42006D, "Public Key";
    PUBLIC_KEY_TEMPLATE_ATTRIBUTE = 0x42006E, "Public Key Template-Attribute";
    PUBLIC_KEY_UNIQUE_IDENTIFIER = 0x42006F, "Public Key Unique Identifier";
    PUT_FUNCTION = 0x420070, "Put Function";
    Q = 0x420071, "Q";
    Q_STRING = 0x420072, "Q String";
    QLENGTH = 0x420073, "Qlength";
    QUERY_FUNCTION = 0x420074, "Query Function";
    RECOMMENDED_CURVE = 0x420075, "Recommended Curve";
    REPLACED_UNIQUE_IDENTIFIER = 0x420076, "Replaced Unique Identifier";
    REQUEST_HEADER = 0x420077, "Request Header";
    REQUEST_MESSAGE = 0x420078, "Request Message";
    REQUEST_PAYLOAD = 0x420079, "Request Payload";
    RESPONSE_HEADER = 0x42007A, "Response Header";
    RESPONSE_MESSAGE = 0x42007B, "Response Message";
    RESPONSE_PAYLOAD = 0x42007C, "Response Payload";
    RESULT_MESSAGE = 0x42007D, "Result Message";
    RESULT_REASON = 0x42007E, "Result Reason";
    RESULT_STATUS = 0x42007F, "Result Status";
    REVOCATION_MESSAGE = 0x420080, "Revocation Message";
    REVOCATION_REASON = 0x420081, "Revocation Reason";
    REVOCATION_REASON_CODE = 0x420082, "Revocation Reason Code";
    KEY_ROLE_TYPE = 0x420083, "Key Role Type";
    SALT = 0x420084, "Salt";
    SECRET_DATA = 0x420085, "Secret Data";
    SECRET_DATA_TYPE = 0x420086, "Secret Data Type";
    SERIAL_NUMBER = 0x420087, "Serial Number";
    SERVER_INFORMATION = 0x420088, "Server Information";
    SPLIT_KEY = 0x420089, "Split Key";
    SPLIT_KEY_METHOD = 0x42008A, "Split Key Method";
    SPLIT_KEY_PARTS = 0x42008B, "Split Key Parts";
    SPLIT_KEY_THRESHOLD = 0x42008C, "Split Key Threshold";
    STATE = 0x42008D, "State";
    STORAGE_STATUS_MASK = 0x42008E, "Storage Status Mask";
    SYMMETRIC_KEY = 0x42008F, "Symmetric Key";
    TEMPLATE = 0x420090, "Template";
    TEMPLATE_ATTRIBUTE = 0x420091, "Template-Attribute";
    TIME_STAMP = 0x420092, "Time Stamp";
    UNIQUE_BATCH_ITEM_ID = 0x420093, "Unique Batch Item ID";
    UNIQUE_IDENTIFIER = 0x420094, "Unique Identifier";
    USAGE_LIMITS = 0x420095, "Usage Limits";
    USAGE_LIMITS_COUNT = 0x420096, "Usage Limits Count";
    USAGE_LIMITS_TOTAL = 0x420097, "Usage Limits Total";
    USAGE_LIMITS_UNIT = 0x420098, "Usage Limits Unit";
    USERNAME = 0x420099, "Username";
    VALIDITY_DATE = 0x42009A, "Validity Date";
    VALIDITY_INDICATOR = 0x42009B, "Validity Indicator";
    VENDOR_EXTENSION = 0x42009C, "Vendor Extension";
    VENDOR_IDENTIFICATION = 0x42009D, "Vendor Identification";
    WRAPPING_METHOD = 0x42009E, "Wrapping Method";
    X = 0x42009F, "X";
    Y = 0x4200A0, "Y";
    PASSWORD = 0x4200A1, "Password";
    DEVICE_IDENTIFIER = 0x4200A2, "Device Identifier";
    ENCODING_OPTION = 0x4200A3, "Encoding Option";
    EXTENSION_INFORMATION = 0x4200A4, "Extension Information";
    EXTENSION_NAME = 0x4200A5, "Extension Name";
    EXTENSION_TAG = 0x4200A6, "Extension Tag";
    EXTENSION_TYPE = 0x4200A7, "Extension Type";
    FRESH = 0x4200A8, "Fresh";
    MACHINE_IDENTIFIER = 0x4200A9, "Machine Identifier";
    MEDIA_IDENTIFIER = 0x4200AA, "Media Identifier";
    NETWORK_IDENTIFIER = 0x4200AB, "Network Identifier";
    OBJECT_GROUP_MEMBER = 0x4200AC, "Object Group Member";
    CERTIFICATE_LENGTH = 0x4200AD, "Certificate Length";
    DIGITAL_SIGNATURE_ALGORITHM = 0x4200AE, "Digital Signature Algorithm";
    CERTIFICATE_SERIAL_NUMBER = 0x4200AF, "Certificate Serial Number";
    DEVICE_SERIAL_NUMBER = 0x4200B0, "Device Serial Number";
    ISSUER_ALTERNATIVE_NAME = 0x4200B1, "Issuer Alternative Name";
    ISSUER_DISTINGUISHED_NAME = 0x4200B2, "Issuer Distinguished Name";
    SUBJECT_ALTERNATIVE_NAME = 0x4200B3, "Subject Alternative Name";
    SUBJECT_DISTINGUISHED_NAME = 0x4200B4, "Subject Distinguished Name";
    X_509_CERTIFICATE_IDENTIFIER = 0x4200B5, "X.509 Certificate Identifier";
    X_509_CERTIFICATE_ISSUER = 0x4200B6, "X.509 Certificate Issuer";
    X_509_CERTIFICATE_SUBJECT = 0x4200B7, "X.509 Certificate Subject";
    KEY_VALUE_LOCATION = 0x4200B8, "Key Value Location";
    KEY_VALUE_LOCATION_VALUE = 0x4200B9, "Key Value Location Value";
    KEY_VALUE_LOCATION_TYPE = 0x4200BA, "Key Value Location Type";
    KEY_VALUE_PRESENT = 0x4200BB, "Key Value Present";
    ORIGINAL_CREATION_DATE = 0x4200BC, "Original Creation Date";
    PGP_KEY = 0x4200BD, "PGP Key";
    PGP_KEY_VERSION = 0x4200BE, "PGP Key Version";
    ALTERNATIVE_NAME = 0x4200BF, "Alternative Name";
    ALTERNATIVE_NAME_VALUE = 0x4200C0, "Alternative Name Value";
    ALTERNATIVE_NAME_TYPE = 0x4200C1, "Alternative Name Type";
    DATA = 0x4200C2, "Data";
    SIGNATURE_DATA = 0x4200C3, "Signature Data";
    DATA_LENGTH = 0x4200C4, "Data Length";
    RANDOM_IV = 0x4200C5, "Random IV";
    MAC_DATA = 0x4200C6, "MAC Data";
    ATTESTATION_TYPE = 0x4200C7, "Attestation Type";
    NONCE = 0x4200C8, "Nonce";
    NONCE_ID = 0x4200C9, "Nonce ID";
    NONCE_VALUE = 0x4200CA, "Nonce Value";
    ATTESTATION_MEASUREMENT = 0x4200CB, "Attestation Measurement";
    ATTESTATION_ASSERTION = 0x4200CC, "Attestation Assertion";
    IV_LENGTH = 0x4200CD, "IV Length";
    TAG_LENGTH = 0x4200CE, "Tag Length";
    FIXED_FIELD_LENGTH = 0x4200CF, "Fixed Field Length";
    COUNTER_LENGTH = 0x4200D0, "Counter Length";
    INITIAL_COUNTER_VALUE = 0x4200D1, "Initial Counter Value";
    INVOCATION_FIELD_LENGTH = 0x4200D2, "Invocation Field Length";
    ATTESTATION_CAPABLE_INDICATOR = 0x4200D3, "Attestation Capable Indicator";
    OFFSET_ITEMS = 0x4200D4, "Offset Items";
    LOCATED_ITEMS = 0x4200D5, "Located Items";
    CORRELATION_VALUE = 0x4200D6, "Correlation Value";
    INIT_INDICATOR = 0x4200D7, "Init Indicator";
    FINAL_INDICATOR = 0x4200D8, "Final Indicator";
    RNG_PARAMETERS = 0x4200D9, "RNG Parameters";
    RNG_ALGORITHM = 0x4200DA, "RNG Algorithm";
    DRBG_ALGORITHM = 0x4200DB, "DRBG Algorithm";
    FIPS186_VARIATION = 0x4200DC, "FIPS186 Variation";
    PREDICTION_RESISTANCE = 0x4200DD, "Prediction Resistance";
    RANDOM_NUMBER_GENERATOR = 0x4200DE, "Random Number Generator";
    VALIDATION_INFORMATION = 0x4200DF, "Validation Information";
    VALIDATION_AUTHORITY_TYPE = 0x4200E0, "Validation Authority Type";
    VALIDATION_AUTHORITY_COUNTRY = 0x4200E1, "Validation Authority Country";
    VALIDATION_AUTHORITY_URI = 0x4200E2, "Validation Authority URI";
    VALIDATION_VERSION_MAJOR = 0x4200E3, "Validation Version Major";
    VALIDATION_VERSION_MINOR = 0x4200E4, "Validation Version Minor";
    VALIDATION_TYPE = 0x4200E5, "Validation Type";
    VALIDATION_LEVEL = 0x4200E6, "Validation Level";
    VALIDATION_CERTIFICATE_IDENTIFIER = 0x4200E7, "Validation Certificate Identifier";
    VALIDATION_CERTIFICATE_URI = 0x4200E8, "Validation Certificate URI";
    VALIDATION_VENDOR_URI = 0x4200E9, "Validation Vendor URI";
    VALIDATION_PROFILE = 0x4200EA, "Validation Profile";
    PROFILE_INFORMATION = 0x4200EB, "Profile Information";
    PROFILE_NAME = 0x4200EC, "Profile Name";
    SERVER_URI = 0x4200ED, "Server URI";
    SERVER_PORT = 0x4200EE, "Server Port";
    STREAMING_CAPABILITY = 0x4200EF, "Streaming Capability";
    ASYNCHRONOUS_CAPABILITY = 0x4200F0, "Asynchronous Capability";
    ATTESTATION_CAPABILITY = 0x4200F1, "Attestation Capability";
    UNWRAP_MODE = 0x4200F2, "Unwrap Mode";
    DESTROY_ACTION = 0x4200F3, "Destroy Action";
    SHREDDING_ALGORITHM = 0x4200F4, "Shredding Algorithm";
    RNG_MODE = 0x4200F5, "RNG Mode";
    CLIENT_REGISTRATION_METHOD = 0x4200F6, "Client Registration Method";
    CAPABILITY_INFORMATION = 0x4200F7, "Capability Information";
    KEY_WRAP_TYPE = 0x4200F8, "Key Wrap Type";
    BATCH_UNDO_CAPABILITY = 0x4200F9, "Batch Undo Capability";
    BATCH_CONTINUE_CAPABILITY = 0x4200FA, "Batch Continue Capability";
    PKCS_12_FRIENDLY_NAME = 0x4200FB, "PKCS#12 Friendly Name";
    DESCRIPTION = 0x4200FC, "Description";
    COMMENT = 0x4200FD, "Comment";
    AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA = 0x4200FE, "Authenticated Encryption Additional Data";
    AUTHENTICATED_ENCRYPTION_TAG = 0x4200FF, "Authenticated Encryption Tag";
    SALT_LENGTH = 0x420100, "Salt Length";
    MASK_GENERATOR = 0x420101, "Mask Generator";
    MASK_GENERATOR_HASHING_ALGORITHM = 0x420102, "Mask Generator Hashing Algorithm";
    P_SOURCE = 0x420103, "P Source";
    TRAILER_FIELD = 0x420104, "Trailer Field";
    CLIENT_CORRELATION_VALUE = 0x420105, "Client Correlation Value";
    SERVER_CORRELATION_VALUE = 0x420106, "Server Correlation Value";
    DIGESTED_DATA = 0x420107, "Digested Data";
    CERTIFICATE_SUBJECT_CN = 0x420108, "Certificate Subject CN";
    CERTIFICATE_SUBJECT_O = 0x420109, "Certificate Subject O";
    CERTIFICATE_SUBJECT_OU = 0x42010A, "Certificate Subject OU";
    CERTIFICATE_SUBJECT_EMAIL = 0x42010B, "Certificate Subject Email";
    CERTIFICATE_SUBJECT_C = 0x42010C, "Certificate Subject C";
    CERTIFICATE_SUBJECT_ST = 0x42010D, "Certificate Subject ST";
    CERTIFICATE_SUBJECT_L = 0x42010E, "Certificate Subject L";
    CERTIFICATE_SUBJECT_UID = 0x42010F, "Certificate Subject UID";
    CERTIFICATE_SUBJECT_SERIAL_NUMBER = 0x420110, "Certificate Subject Serial Number";
    CERTIFICATE_SUBJECT_TITLE = 0x420111, "Certificate Subject Title";
    CERTIFICATE_SUBJECT_DC = 0x420112, "Certificate Subject DC";
    CERTIFICATE_SUBJECT_DN_QUALIFIER = 0x420113, "Certificate Subject DN Qualifier";
    CERTIFICATE_ISSUER_CN = 0x420114, "Certificate Issuer CN";
    CERTIFICATE_ISSUER_O = 0x420115, "Certificate Issuer O";
    CERTIFICATE_ISSUER_OU = 0x420116, "Certificate Issuer OU";
    CERTIFICATE_ISSUER_EMAIL = 0x420117, "Certificate Issuer Email";
    CERTIFICATE_ISSUER_C = 0x420118, "Certificate Issuer C";
    CERTIFICATE_ISSUER_ST = 0x420119, "Certificate Issuer ST";
    CERTIFICATE_ISSUER_L = 0x42011A, "Certificate Issuer L";
    CERTIFICATE_ISSUER_UID = 0x42011B, "Certificate Issuer UID";
    CERTIFICATE_ISSUER_SERIAL_NUMBER = 0x42011C, "Certificate Issuer Serial Number";
    CERTIFICATE_ISSUER_TITLE = 0x42011D, "Certificate Issuer Title";
    CERTIFICATE_ISSUER_DC = 0x42011E, "Certificate Issuer DC";
    CERTIFICATE_ISSUER_DN_QUALIFIER = 0x42011F, "Certificate Issuer DN Qualifier";
    SENSITIVE = 0x420120, "Sensitive";
    ALWAYS_SENSITIVE = 0x420121, "Always Sensitive";
    EXTRACTABLE = 0x420122, "Extractable";
    NEVER_EXTRACTABLE = 0x420123, "Never Extractable";
    REPLACE_EXISTING = 0x420124, "Replace Existing";
    ATTRIBUTES = 0x420125, "Attributes";
    COMMON_ATTRIBUTES = 0x420126, "Common Attributes";
    PRIVATE_KEY_ATTRIBUTES = 0x420127, "Private Key Attributes";
    PUBLIC_KEY_ATTRIBUTES = 0x420128, "Public Key Attributes";
    EXTENSION_ENUMERATION = 0x420129, "Extension Enumeration";
    EXTENSION_ATTRIBUTE = 0x42012A, "Extension Attribute";
    EXTENSION_PARENT_STRUCTURE_TAG = 0x42012B, "Extension Parent Structure Tag";
    EXTENSION_DESCRIPTION = 0x42012C, "Extension Description";
    SERVER_NAME = 0x42012D, "Server Name";
    SERVER_SERIAL_NUMBER = 0x42012E, "Server Serial Number";
    SERVER_VERSION = 0x42012F, "Server Version";
    SERVER_LOAD = 0x420130, "Server Load";
    PRODUCT_NAME = 0x420131, "Product Name";
    BUILD_LEVEL = 0x420132, "Build Level";
    BUILD_DATE = 0x420133, "Build Date";
    CLUSTER_INFO = 0x420134, "Cluster Info";
    ALTERNATE_FAILOVER_ENDPOINTS = 0x420135, "Alternate Failover Endpoints";
    SHORT_UNIQUE_IDENTIFIER = 0x420136, "Short Unique Identifier";
    TAG = 0x420138, "Tag";
    CERTIFICATE_REQUEST_UNIQUE_IDENTIFIER = 0x420139, "Certificate Request Unique Identifier";
    NIST_KEY_TYPE = 0x42013A, "NIST Key Type";
    ATTRIBUTE_REFERENCE = 0x42013B, "Attribute Reference";
    CURRENT_ATTRIBUTE = 0x42013C, "Current Attribute";
    NEW_ATTRIBUTE = 0x42013D, "New Attribute";
    CERTIFICATE_REQUEST_VALUE = 0x420140, "Certificate Request Value";
    LOG_MESSAGE = 0x420141, "Log Message";
    PROFILE_VERSION = 0x420142, "Profile Version";
    PROFILE_VERSION_MAJOR = 0x420143, "Profile Version Major";
    PROFILE_VERSION_MINOR = 0x420144, "Profile Version Minor";
    PROTECTION_LEVEL = 0x420145, "Protection Level";
    PROTECTION_PERIOD = 0x420146, "Protection Period";
    QUANTUM_SAFE = 0x420147, "Quantum Safe";
    QUANTUM_SAFE_CAPABILITY = 0x420148, "Quantum Safe Capability";
    TICKET = 0x420149, "Ticket";
    TICKET_TYPE = 0x42014A, "Ticket Type";
    TICKET_VALUE = 0x42014B, "Ticket Value";
    REQUEST_COUNT = 0x42014C, "Request Count";
    RIGHTS = 0x42014D, "Rights";
    OBJECTS = 0x42014E, "Objects";
    OPERATIONS = 0x42014F, "Operations";
    RIGHT = 0x420150, "Right";
    ENDPOINT_ROLE = 0x420151, "Endpoint Role";
    DEFAULTS_INFORMATION = 0x420152, "Defaults Information";
    OBJECT_DEFAULTS = 0x420153, "Object Defaults";
    EPHEMERAL = 0x420154, "Ephemeral";
    SERVER_HASHED_PASSWORD = 0x420155, "Server Hashed Password";
    ONE_TIME_PASSWORD = 0x420156, "One Time Password";
    HASHED_PASSWORD = 0x420157, "Hashed Password";
    ADJUSTMENT_TYPE = 0x420158, "Adjustment Type";
    PKCS_11_INTERFACE = 0x420159, "PKCS#11 Interface";
    PKCS_11_FUNCTION = 0x42015A, "PKCS#11 Function";
    PKCS_11_INPUT_PARAMETERS = 0x42015B, "PKCS#11 Input Parameters";
    PKCS_11_OUTPUT_PARAMETERS = 0x42015C, "PKCS#11 Output Parameters";
    PKCS_11_RETURN_CODE = 0x42015D, "PKCS#11 Return Code";
    PROTECTION_STORAGE_MASK = 0x42015E, "Protection Storage Mask";
    PROTECTION_STORAGE_MASKS = 0x42015F, "Protection Storage Masks";
    INTEROP_FUNCTION = 0x420160, "Interop Function";
    INTEROP_IDENTIFIER = 0x420161, "Interop Identifier";
    ADJUSTMENT_VALUE = 0x420162, "Adjustment Value";
    COMMON_PROTECTION_STORAGE_MASKS = 0x420163, "Common Protection Storage Masks";
    PRIVATE_PROTECTION_STORAGE_MASKS = 0x420164, "Private Protection Storage Masks";
    PUBLIC_PROTECTION_STORAGE_MASKS = 0x420165, "Public Protection Storage Masks";
    OBJECT_GROUPS = 0x420166, "Object Groups";
    OBJECT_TYPES = 0x420167, "Object Types";
    CONSTRAINTS = 0x420168, "Constraints";
    CONSTRAINT = 0x420169, "Constraint";
    ROTATE_INTERVAL = 0x42016A, "Rotate Interval";
    ROTATE_AUTOMATIC = 0x42016B, "Rotate Automatic";
    ROTATE_OFFSET = 0x42016C, "Rotate Offset";
    ROTATE_DATE = 0x42016D, "Rotate Date";
    ROTATE_GENERATION = 0x42016E, "Rotate Generation";
    ROTATE_NAME = 0x42016F, "Rotate Name";
    ROTATE_NAME_VALUE = 0x420170, "Rotate Name Value";
    ROTATE_NAME_TYPE = 0x420171, "Rotate Name Type";
    ROTATE_LATEST = 0x420172, "Rotate Latest";
    ASYNCHRONOUS_REQUEST = 0x420173, "Asynchronous Request";
    SUBMISSION_DATE = 0x420174, "Submission Date";
    PROCESSING_STAGE = 0x420175, "Processing Stage";
    ASYNCHRONOUS_CORRELATION_VALUES = 0x420176, "Asynchronous Correlation Values";
}

/// The JSON/XML spellings of [`TAGS`], made once on first use.
struct TagNames {
    /// Each tag's value and normalised name, sorted by value.
    by_value: Vec<(u32, String)>,
    /// The same, sorted by name.
    by_name: Vec<(String, u32)>,
}

fn tag_names() -> &'static TagNames {
    static NAMES: OnceLock<TagNames> = OnceLock::new();
    NAMES.get_or_init(|| {
        let by_value: Vec<(u32, String)> = TAGS
            .iter()
            .map(|&(tag, spec_name)| (tag.value(), normalize_name(spec_name)))
            .collect();
        let mut by_name: Vec<(String, u32)> = by_value
            .iter()
            .map(|(value, name)| (name.clone(), *value))
            .collect();
        by_name.sort_unstable();
        TagNames { by_value, by_name }
    })
}

/// The name of `tag` in the JSON and XML spelling (`"ActivationDate"`).
pub(crate) fn tag_name(tag: Tag) -> Option<&'static str> {
    let names = &tag_names().by_value;
    let index = names
        .binary_search_by_key(&tag.value(), |(value, _)| *value)
        .ok()?;
    names.get(index).map(|(_, name)| name.as_str())
}

/// The tag named `name` in the JSON and XML spelling.
pub(crate) fn tag_from_name(name: &str) -> Option<Tag> {
    let names = &tag_names().by_name;
    let index = names
        .binary_search_by(|(candidate, _)| candidate.as_str().cmp(name))
        .ok()?;
    names.get(index).and_then(|&(_, value)| Tag::new(value))
}

/// The name of `tag` as the specification writes it (`"Activation Date"`).
pub(crate) fn tag_spec_name(tag: Tag) -> Option<&'static str> {
    let index = TAGS.binary_search_by_key(&tag, |&(known, _)| known).ok()?;
    TAGS.get(index).map(|&(_, spec_name)| spec_name)
}

/// The values and names of one KMIP enumeration or mask.
#[derive(Debug)]
pub struct NameTable {
    /// The tag whose values these are (the first, when several tags share
    /// the table); the table's name is the tag's.
    pub tag: Tag,
    /// Each defined value with its normalised name, sorted by value.
    pub values: &'static [(u32, &'static str)],
    /// Alternative spellings found in other versions of the spec, accepted on input.
    pub aliases: &'static [(&'static str, u32)],
}

impl NameTable {
    /// The normalised name of the enumeration or mask, e.g. `ObjectType`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        tag_name(self.tag).unwrap_or_default()
    }
}

name_tables! {
    /// The enumeration whose names an Enumeration item with this tag uses, if known.
    fn enumeration_for;
    CREDENTIAL_TYPE {
        0x0000_0001 "UsernameAndPassword",
        0x0000_0002 "Device",
        0x0000_0003 "Attestation",
        0x0000_0004 "OneTimePassword",
        0x0000_0005 "HashedPassword",
        0x0000_0006 "Ticket",
    }
    KEY_COMPRESSION_TYPE {
        0x0000_0001 "ECPublicKeyTypeUncompressed",
        0x0000_0002 "ECPublicKeyTypeX9_62CompressedPrime",
        0x0000_0003 "ECPublicKeyTypeX9_62CompressedChar2",
        0x0000_0004 "ECPublicKeyTypeX9_62Hybrid",
    }
    KEY_FORMAT_TYPE {
        0x0000_0001 "Raw",
        0x0000_0002 "Opaque",
        0x0000_0003 "PKCS_1",
        0x0000_0004 "PKCS_8",
        0x0000_0005 "X_509",
        0x0000_0006 "ECPrivateKey",
        0x0000_0007 "TransparentSymmetricKey",
        0x0000_0008 "TransparentDSAPrivateKey",
        0x0000_0009 "TransparentDSAPublicKey",
        0x0000_000A "TransparentRSAPrivateKey",
        0x0000_000B "TransparentRSAPublicKey",
        0x0000_000C "TransparentDHPrivateKey",
        0x0000_000D "TransparentDHPublicKey",
        0x0000_000E "TransparentECDSAPrivateKey",
        0x0000_000F "TransparentECDSAPublicKey",
        0x0000_0010 "TransparentECDHPrivateKey",
        0x0000_0011 "TransparentECDHPublicKey",
        0x0000_0012 "TransparentECMQVPrivateKey",
        0x0000_0013 "TransparentECMQVPublicKey",
        0x0000_0014 "TransparentECPrivateKey",
        0x0000_0015 "TransparentECPublicKey",
        0x0000_0016 "PKCS_12",
        0x0000_0017 "PKCS_10",
    }
    WRAPPING_METHOD {
        0x0000_0001 "Encrypt",
        0x0000_0002 "MACSign",
        0x0000_0003 "EncryptThenMACSign",
        0x0000_0004 "MACSignThenEncrypt",
        0x0000_0005 "TR_31",
    }
    RECOMMENDED_CURVE {
        0x0000_0001 "P_192",
        0x0000_0002 "K_163",
        0x0000_0003 "B_163",
        0x0000_0004 "P_224",
        0x0000_0005 "K_233",
        0x0000_0006 "B_233",
        0x0000_0007 "P_256",
        0x0000_0008 "K_283",
        0x0000_0009 "B_283",
        0x0000_000A "P_384",
        0x0000_000B "K_409",
        0x0000_000C "B_409",
        0x0000_000D "P_521",
        0x0000_000E "K_571",
        0x0000_000F "B_571",
        0x0000_0010 "SECP112R1",
        0x0000_0011 "SECP112R2",
        0x0000_0012 "SECP128R1",
        0x0000_0013 "SECP128R2",
        0x0000_0014 "SECP160K1",
        0x0000_0015 "SECP160R1",
        0x0000_0016 "SECP160R2",
        0x0000_0017 "SECP192K1",
        0x0000_0018 "SECP224K1",
        0x0000_0019 "SECP256K1",
        0x0000_001A "SECT113R1",
        0x0000_001B "SECT113R2",
        0x0000_001C "SECT131R1",
        0x0000_001D "SECT131R2",
        0x0000_001E "SECT163R1",
        0x0000_001F "SECT193R1",
        0x0000_0020 "SECT193R2",
        0x0000_0021 "SECT239K1",
        0x0000_0022 "ANSIX9P192V2",
        0x0000_0023 "ANSIX9P192V3",
        0x0000_0024 "ANSIX9P239V1",
        0x0000_0025 "ANSIX9P239V2",
        0x0000_0026 "ANSIX9P239V3",
        0x0000_0027 "ANSIX9C2PNB163V1",
        0x0000_0028 "ANSIX9C2PNB163V2",
        0x0000_0029 "ANSIX9C2PNB163V3",
        0x0000_002A "ANSIX9C2PNB176V1",
        0x0000_002B "ANSIX9C2TNB191V1",
        0x0000_002C "ANSIX9C2TNB191V2",
        0x0000_002D "ANSIX9C2TNB191V3",
        0x0000_002E "ANSIX9C2PNB208W1",
        0x0000_002F "ANSIX9C2TNB239V1",
        0x0000_0030 "ANSIX9C2TNB239V2",
        0x0000_0031 "ANSIX9C2TNB239V3",
        0x0000_0032 "ANSIX9C2PNB272W1",
        0x0000_0033 "ANSIX9C2PNB304W1",
        0x0000_0034 "ANSIX9C2TNB359V1",
        0x0000_0035 "ANSIX9C2PNB368W1",
        0x0000_0036 "ANSIX9C2TNB431R1",
        0x0000_0037 "BRAINPOOLP160R1",
        0x0000_0038 "BRAINPOOLP160T1",
        0x0000_0039 "BRAINPOOLP192R1",
        0x0000_003A "BRAINPOOLP192T1",
        0x0000_003B "BRAINPOOLP224R1",
        0x0000_003C "BRAINPOOLP224T1",
        0x0000_003D "BRAINPOOLP256R1",
        0x0000_003E "BRAINPOOLP256T1",
        0x0000_003F "BRAINPOOLP320R1",
        0x0000_0040 "BRAINPOOLP320T1",
        0x0000_0041 "BRAINPOOLP384R1",
        0x0000_0042 "BRAINPOOLP384T1",
        0x0000_0043 "BRAINPOOLP512R1",
        0x0000_0044 "BRAINPOOLP512T1",
        0x0000_0045 "CURVE25519",
        0x0000_0046 "CURVE448",
    }
    CERTIFICATE_TYPE {
        0x0000_0001 "X_509",
        0x0000_0002 "PGP",
    }
    DIGITAL_SIGNATURE_ALGORITHM {
        0x0000_0001 "MD2WithRSAEncryption",
        0x0000_0002 "MD5WithRSAEncryption",
        0x0000_0003 "SHA_1WithRSAEncryption",
        0x0000_0004 "SHA_224WithRSAEncryption",
        0x0000_0005 "SHA_256WithRSAEncryption",
        0x0000_0006 "SHA_384WithRSAEncryption",
        0x0000_0007 "SHA_512WithRSAEncryption",
        0x0000_0008 "RSASSA_PSS",
        0x0000_0009 "DSAWithSHA_1",
        0x0000_000A "DSAWithSHA224",
        0x0000_000B "DSAWithSHA256",
        0x0000_000C "ECDSAWithSHA_1",
        0x0000_000D "ECDSAWithSHA224",
        0x0000_000E "ECDSAWithSHA256",
        0x0000_000F "ECDSAWithSHA384",
        0x0000_0010 "ECDSAWithSHA512",
        0x0000_0011 "SHA3_256WithRSAEncryption",
        0x0000_0012 "SHA3_384WithRSAEncryption",
        0x0000_0013 "SHA3_512WithRSAEncryption",
    }
    SPLIT_KEY_METHOD {
        0x0000_0001 "XOR",
        0x0000_0002 "PolynomialSharingGF2_16",
        0x0000_0003 "PolynomialSharingPrimeField",
        0x0000_0004 "PolynomialSharingGF2_8",
        alias "PolynomialSharingGF216" = 0x0000_0002,
        alias "PolynomialSharingGF28" = 0x0000_0004,
    }
    SECRET_DATA_TYPE {
        0x0000_0001 "Password",
        0x0000_0002 "Seed",
    }
    NAME_TYPE {
        0x0000_0001 "UninterpretedTextString",
        0x0000_0002 "URI",
    }
    OBJECT_TYPE {
        0x0000_0001 "Certificate",
        0x0000_0002 "SymmetricKey",
        0x0000_0003 "PublicKey",
        0x0000_0004 "PrivateKey",
        0x0000_0005 "SplitKey",
        0x0000_0006 "Template",
        0x0000_0007 "SecretData",
        0x0000_0008 "OpaqueObject",
        0x0000_0009 "PGPKey",
        0x0000_000A "CertificateRequest",
    }
    CRYPTOGRAPHIC_ALGORITHM {
        0x0000_0001 "DES",
        0x0000_0002 "DES3",
        0x0000_0003 "AES",
        0x0000_0004 "RSA",
        0x0000_0005 "DSA",
        0x0000_0006 "ECDSA",
        0x0000_0007 "HMAC_SHA1",
        0x0000_0008 "HMAC_SHA224",
        0x0000_0009 "HMAC_SHA256",
        0x0000_000A "HMAC_SHA384",
        0x0000_000B "HMAC_SHA512",
        0x0000_000C "HMAC_MD5",
        0x0000_000D "DH",
        0x0000_000E "ECDH",
        0x0000_000F "ECMQV",
        0x0000_0010 "Blowfish",
        0x0000_0011 "Camellia",
        0x0000_0012 "CAST5",
        0x0000_0013 "IDEA",
        0x0000_0014 "MARS",
        0x0000_0015 "RC2",
        0x0000_0016 "RC4",
        0x0000_0017 "RC5",
        0x0000_0018 "SKIPJACK",
        0x0000_0019 "Twofish",
        0x0000_001A "EC",
        0x0000_001B "OneTimePad",
        0x0000_001C "ChaCha20",
        0x0000_001D "Poly1305",
        0x0000_001E "ChaCha20Poly1305",
        0x0000_001F "SHA3_224",
        0x0000_0020 "SHA3_256",
        0x0000_0021 "SHA3_384",
        0x0000_0022 "SHA3_512",
        0x0000_0023 "HMAC_SHA3_224",
        0x0000_0024 "HMAC_SHA3_256",
        0x0000_0025 "HMAC_SHA3_384",
        0x0000_0026 "HMAC_SHA3_512",
        0x0000_0027 "SHAKE_128",
        0x0000_0028 "SHAKE_256",
        0x0000_0029 "ARIA",
        0x0000_002A "SEED",
        0x0000_002B "SM2",
        0x0000_002C "SM3",
        0x0000_002D "SM4",
        0x0000_002E "GOSTR34_10_2012",
        0x0000_002F "GOSTR34_11_2012",
        0x0000_0030 "GOSTR34_13_2015",
        0x0000_0031 "GOST28147_89",
        0x0000_0032 "XMSS",
        0x0000_0033 "SPHINCS_256",
        0x0000_0034 "McEliece",
        0x0000_0035 "McEliece_6960119",
        0x0000_0036 "McEliece_8192128",
        0x0000_0037 "Ed25519",
        0x0000_0038 "Ed448",
    }
    BLOCK_CIPHER_MODE {
        0x0000_0001 "CBC",
        0x0000_0002 "ECB",
        0x0000_0003 "PCBC",
        0x0000_0004 "CFB",
        0x0000_0005 "OFB",
        0x0000_0006 "CTR",
        0x0000_0007 "CMAC",
        0x0000_0008 "CCM",
        0x0000_0009 "GCM",
        0x0000_000A "CBC_MAC",
        0x0000_000B "XTS",
        0x0000_000C "AESKeyWrapPadding",
        0x0000_000D "NISTKeyWrap",
        0x0000_000E "X9_102AESKW",
        0x0000_000F "X9_102TDKW",
        0x0000_0010 "X9_102AKW1",
        0x0000_0011 "X9_102AKW2",
        0x0000_0012 "AEAD",
    }
    PADDING_METHOD {
        0x0000_0001 "None",
        0x0000_0002 "OAEP",
        0x0000_0003 "PKCS5",
        0x0000_0004 "SSL3",
        0x0000_0005 "Zeros",
        0x0000_0006 "ANSIX9_23",
        0x0000_0007 "ISO10126",
        0x0000_0008 "PKCS1V1_5",
        0x0000_0009 "X9_31",
        0x0000_000A "PSS",
    }
    HASHING_ALGORITHM, MASK_GENERATOR_HASHING_ALGORITHM {
        0x0000_0001 "MD2",
        0x0000_0002 "MD4",
        0x0000_0003 "MD5",
        0x0000_0004 "SHA_1",
        0x0000_0005 "SHA_224",
        0x0000_0006 "SHA_256",
        0x0000_0007 "SHA_384",
        0x0000_0008 "SHA_512",
        0x0000_0009 "RIPEMD_160",
        0x0000_000A "Tiger",
        0x0000_000B "Whirlpool",
        0x0000_000C "SHA_512_224",
        0x0000_000D "SHA_512_256",
        0x0000_000E "SHA_3_224",
        0x0000_000F "SHA_3_256",
        0x0000_0010 "SHA_3_384",
        0x0000_0011 "SHA_3_512",
        alias "SHA3_224" = 0x0000_000E,
        alias "SHA3_256" = 0x0000_000F,
        alias "SHA3_384" = 0x0000_0010,
        alias "SHA3_512" = 0x0000_0011,
    }
    KEY_ROLE_TYPE {
        0x0000_0001 "BDK",
        0x0000_0002 "CVK",
        0x0000_0003 "DEK",
        0x0000_0004 "MKAC",
        0x0000_0005 "MKSMC",
        0x0000_0006 "MKSMI",
        0x0000_0007 "MKDAC",
        0x0000_0008 "MKDN",
        0x0000_0009 "MKCP",
        0x0000_000A "MKOTH",
        0x0000_000B "KEK",
        0x0000_000C "MAC16609",
        0x0000_000D "MAC97971",
        0x0000_000E "MAC97972",
        0x0000_000F "MAC97973",
        0x0000_0010 "MAC97974",
        0x0000_0011 "MAC97975",
        0x0000_0012 "ZPK",
        0x0000_0013 "PVKIBM",
        0x0000_0014 "PVKPVV",
        0x0000_0015 "PVKOTH",
        0x0000_0016 "DUKPT",
        0x0000_0017 "IV",
        0x0000_0018 "TRKBK",
    }
    STATE {
        0x0000_0001 "PreActive",
        0x0000_0002 "Active",
        0x0000_0003 "Deactivated",
        0x0000_0004 "Compromised",
        0x0000_0005 "Destroyed",
        0x0000_0006 "DestroyedCompromised",
    }
    REVOCATION_REASON_CODE {
        0x0000_0001 "Unspecified",
        0x0000_0002 "KeyCompromise",
        0x0000_0003 "CACompromise",
        0x0000_0004 "AffiliationChanged",
        0x0000_0005 "Superseded",
        0x0000_0006 "CessationOfOperation",
        0x0000_0007 "PrivilegeWithdrawn",
    }
    LINK_TYPE {
        0x0000_0101 "CertificateLink",
        0x0000_0102 "PublicKeyLink",
        0x0000_0103 "PrivateKeyLink",
        0x0000_0104 "DerivationBaseObjectLink",
        0x0000_0105 "DerivedKeyLink",
        0x0000_0106 "ReplacementObjectLink",
        0x0000_0107 "ReplacedObjectLink",
        0x0000_0108 "ParentLink",
        0x0000_0109 "ChildLink",
        0x0000_010A "PreviousLink",
        0x0000_010B "NextLink",
        0x0000_010C "PKCS_12CertificateLink",
        0x0000_010D "PKCS_12PasswordLink",
        0x0000_010E "WrappingKeyLink",
    }
    DERIVATION_METHOD {
        0x0000_0001 "PBKDF2",
        0x0000_0002 "HASH",
        0x0000_0003 "HMAC",
        0x0000_0004 "ENCRYPT",
        0x0000_0005 "NIST800_108_C",
        0x0000_0006 "NIST800_108_F",
        0x0000_0007 "NIST800_108_DPI",
        0x0000_0008 "AsymmetricKey",
        0x0000_0009 "AWSSignatureVersion4",
        0x0000_000A "HKDF",
    }
    CERTIFICATE_REQUEST_TYPE {
        0x0000_0001 "CRMF",
        0x0000_0002 "PKCS_10",
        0x0000_0003 "PEM",
        0x0000_0004 "PGP",
    }
    VALIDITY_INDICATOR {
        0x0000_0001 "Valid",
        0x0000_0002 "Invalid",
        0x0000_0003 "Unknown",
    }
    QUERY_FUNCTION {
        0x0000_0001 "QueryOperations",
        0x0000_0002 "QueryObjects",
        0x0000_0003 "QueryServerInformation",
        0x0000_0004 "QueryApplicationNamespaces",
        0x0000_0005 "QueryExtensionList",
        0x0000_0006 "QueryExtensionMap",
        0x0000_0007 "QueryAttestationTypes",
        0x0000_0008 "QueryRNGs",
        0x0000_0009 "QueryValidations",
        0x0000_000A "QueryProfiles",
        0x0000_000B "QueryCapabilities",
        0x0000_000C "QueryClientRegistrationMethods",
        0x0000_000D "QueryDefaultsInformation",
        0x0000_000E "QueryStorageProtectionMasks",
    }
    CANCELLATION_RESULT {
        0x0000_0001 "Canceled",
        0x0000_0002 "UnableToCancel",
        0x0000_0003 "Completed",
        0x0000_0004 "Failed",
        0x0000_0005 "Unavailable",
    }
    PUT_FUNCTION {
        0x0000_0001 "New",
        0x0000_0002 "Replace",
    }
    OPERATION {
        0x0000_0001 "Create",
        0x0000_0002 "CreateKeyPair",
        0x0000_0003 "Register",
        0x0000_0004 "ReKey",
        0x0000_0005 "DeriveKey",
        0x0000_0006 "Certify",
        0x0000_0007 "ReCertify",
        0x0000_0008 "Locate",
        0x0000_0009 "Check",
        0x0000_000A "Get",
        0x0000_000B "GetAttributes",
        0x0000_000C "GetAttributeList",
        0x0000_000D "AddAttribute",
        0x0000_000E "ModifyAttribute",
        0x0000_000F "DeleteAttribute",
        0x0000_0010 "ObtainLease",
        0x0000_0011 "GetUsageAllocation",
        0x0000_0012 "Activate",
        0x0000_0013 "Revoke",
        0x0000_0014 "Destroy",
        0x0000_0015 "Archive",
        0x0000_0016 "Recover",
        0x0000_0017 "Validate",
        0x0000_0018 "Query",
        0x0000_0019 "Cancel",
        0x0000_001A "Poll",
        0x0000_001B "Notify",
        0x0000_001C "Put",
        0x0000_001D "ReKeyKeyPair",
        0x0000_001E "DiscoverVersions",
        0x0000_001F "Encrypt",
        0x0000_0020 "Decrypt",
        0x0000_0021 "Sign",
        0x0000_0022 "SignatureVerify",
        0x0000_0023 "MAC",
        0x0000_0024 "MACVerify",
        0x0000_0025 "RNGRetrieve",
        0x0000_0026 "RNGSeed",
        0x0000_0027 "Hash",
        0x0000_0028 "CreateSplitKey",
        0x0000_0029 "JoinSplitKey",
        0x0000_002A "Import",
        0x0000_002B "Export",
        0x0000_002C "Log",
        0x0000_002D "Login",
        0x0000_002E "Logout",
        0x0000_002F "DelegatedLogin",
        0x0000_0030 "AdjustAttribute",
        0x0000_0031 "SetAttribute",
        0x0000_0032 "SetEndpointRole",
        0x0000_0033 "PKCS_11",
        0x0000_0034 "Interop",
        0x0000_0035 "ReProvision",
        0x0000_0036 "SetDefaults",
        0x0000_0037 "SetConstraints",
        0x0000_0038 "GetConstraints",
        0x0000_0039 "QueryAsynchronousRequests",
        0x0000_003A "Process",
        0x0000_003B "Ping",
    }
    RESULT_STATUS {
        0x0000_0000 "Success",
        0x0000_0001 "OperationFailed",
        0x0000_0002 "OperationPending",
        0x0000_0003 "OperationUndone",
    }
    RESULT_REASON {
        0x0000_0001 "ItemNotFound",
        0x0000_0002 "ResponseTooLarge",
        0x0000_0003 "AuthenticationNotSuccessful",
        0x0000_0004 "InvalidMessage",
        0x0000_0005 "OperationNotSupported",
        0x0000_0006 "MissingData",
        0x0000_0007 "InvalidField",
        0x0000_0008 "FeatureNotSupported",
        0x0000_0009 "OperationCanceledByRequester",
        0x0000_000A "CryptographicFailure",
        0x0000_000B "IllegalOperation",
        0x0000_000C "PermissionDenied",
        0x0000_000D "ObjectArchived",
        0x0000_000E "IndexOutOfBounds",
        0x0000_000F "ApplicationNamespaceNotSupported",
        0x0000_0010 "KeyFormatTypeNotSupported",
        0x0000_0011 "KeyCompressionTypeNotSupported",
        0x0000_0012 "EncodingOptionError",
        0x0000_0013 "KeyValueNotPresent",
        0x0000_0014 "AttestationRequired",
        0x0000_0015 "AttestationFailed",
        0x0000_0016 "Sensitive",
        0x0000_0017 "NotExtractable",
        0x0000_0018 "ObjectAlreadyExists",
        0x0000_0019 "InvalidTicket",
        0x0000_001A "UsageLimitExceeded",
        0x0000_001B "NumericRange",
        0x0000_001C "InvalidDataType",
        0x0000_001D "ReadOnlyAttribute",
        0x0000_001E "MultiValuedAttribute",
        0x0000_001F "UnsupportedAttribute",
        0x0000_0020 "AttributeInstanceNotFound",
        0x0000_0021 "AttributeNotFound",
        0x0000_0022 "AttributeReadOnly",
        0x0000_0023 "AttributeSingleValued",
        0x0000_0024 "BadCryptographicParameters",
        0x0000_0025 "BadPassword",
        0x0000_0026 "CodecError",
        0x0000_0028 "IllegalObjectType",
        0x0000_0029 "IncompatibleCryptographicUsageMask",
        0x0000_002A "InternalServerError",
        0x0000_002B "InvalidAsynchronousCorrelationValue",
        0x0000_002C "InvalidAttribute",
        0x0000_002D "InvalidAttributeValue",
        0x0000_002E "InvalidCorrelationValue",
        0x0000_002F "InvalidCSR",
        0x0000_0030 "InvalidObjectType",
        0x0000_0032 "KeyWrapTypeNotSupported",
        0x0000_0034 "MissingInitializationVector",
        0x0000_0035 "NonUniqueNameAttribute",
        0x0000_0036 "ObjectDestroyed",
        0x0000_0037 "ObjectNotFound",
        0x0000_0039 "NotAuthorised",
        0x0000_003A "ServerLimitExceeded",
        0x0000_003B "UnknownEnumeration",
        0x0000_003C "UnknownMessageExtension",
        0x0000_003D "UnknownTag",
        0x0000_003E "UnsupportedCryptographicParameters",
        0x0000_003F "UnsupportedProtocolVersion",
        0x0000_0040 "WrappingObjectArchived",
        0x0000_0041 "WrappingObjectDestroyed",
        0x0000_0042 "WrappingObjectNotFound",
        0x0000_0043 "WrongKeyLifecycleState",
        0x0000_0044 "ProtectionStorageUnavailable",
        0x0000_0045 "PKCS_11CodecError",
        0x0000_0046 "PKCS_11InvalidFunction",
        0x0000_0047 "PKCS_11InvalidInterface",
        0x0000_0048 "PrivateProtectionStorageUnavailable",
        0x0000_0049 "PublicProtectionStorageUnavailable",
        0x0000_004A "UnknownObjectGroup",
        0x0000_004B "ConstraintViolation",
        0x0000_004C "DuplicateProcessRequest",
        0x0000_0100 "GeneralFailure",
    }
    BATCH_ERROR_CONTINUATION_OPTION {
        0x0000_0001 "Continue",
        0x0000_0002 "Stop",
        0x0000_0003 "Undo",
    }
    USAGE_LIMITS_UNIT {
        0x0000_0001 "Byte",
        0x0000_0002 "Object",
    }
    ENCODING_OPTION {
        0x0000_0001 "NoEncoding",
        0x0000_0002 "TTLVEncoding",
    }
    OBJECT_GROUP_MEMBER {
        0x0000_0001 "GroupMemberFresh",
        0x0000_0002 "GroupMemberDefault",
    }
    ALTERNATIVE_NAME_TYPE {
        0x0000_0001 "UninterpretedTextString",
        0x0000_0002 "URI",
        0x0000_0003 "ObjectSerialNumber",
        0x0000_0004 "EmailAddress",
        0x0000_0005 "DNSName",
        0x0000_0006 "X_500DistinguishedName",
        0x0000_0007 "IPAddress",
    }
    KEY_VALUE_LOCATION_TYPE {
        0x0000_0001 "UninterpretedTextString",
        0x0000_0002 "URI",
    }
    ATTESTATION_TYPE {
        0x0000_0001 "TPMQuote",
        0x0000_0002 "TCGIntegrityReport",
        0x0000_0003 "SAMLAssertion",
    }
    RNG_ALGORITHM {
        0x0000_0001 "Unspecified",
        0x0000_0002 "FIPS186_2",
        0x0000_0003 "DRBG",
        0x0000_0004 "NRBG",
        0x0000_0005 "ANSIX9_31",
        0x0000_0006 "ANSIX9_62",
    }
    DRBG_ALGORITHM {
        0x0000_0001 "Unspecified",
        0x0000_0002 "Dual_EC",
        0x0000_0003 "Hash",
        0x0000_0004 "HMAC",
        0x0000_0005 "CTR",
    }
    FIPS186_VARIATION {
        0x0000_0001 "Unspecified",
        0x0000_0002 "GPXOriginal",
        0x0000_0003 "GPXChangeNotice",
        0x0000_0004 "XOriginal",
        0x0000_0005 "XChangeNotice",
        0x0000_0006 "KOriginal",
        0x0000_0007 "KChangeNotice",
    }
    VALIDATION_AUTHORITY_TYPE {
        0x0000_0001 "Unspecified",
        0x0000_0002 "NISTCMVP",
        0x0000_0003 "CommonCriteria",
    }
    VALIDATION_TYPE {
        0x0000_0001 "Unspecified",
        0x0000_0002 "Hardware",
        0x0000_0003 "Software",
        0x0000_0004 "Firmware",
        0x0000_0005 "Hybrid",
    }
    PROFILE_NAME {
        0x0000_0001 "BaselineServerBasicKMIPV1_2",
        0x0000_0002 "BaselineServerTLSV1_2KMIPV1_2",
        0x0000_0003 "BaselineClientBasicKMIPV1_2",
        0x0000_0004 "BaselineClientTLSV1_2KMIPV1_2",
        0x0000_0005 "CompleteServerBasicKMIPV1_2",
        0x0000_0006 "CompleteServerTLSV1_2KMIPV1_2",
        0x0000_0007 "TapeLibraryClientKMIPV1_0",
        0x0000_0008 "TapeLibraryClientKMIPV1_1",
        0x0000_0009 "TapeLibraryClientKMIPV1_2",
        0x0000_000A "TapeLibraryServerKMIPV1_0",
        0x0000_000B "TapeLibraryServerKMIPV1_1",
        0x0000_000C "TapeLibraryServerKMIPV1_2",
        0x0000_000D "SymmetricKeyLifecycleClientKMIPV1_0",
        0x0000_000E "SymmetricKeyLifecycleClientKMIPV1_1",
        0x0000_000F "SymmetricKeyLifecycleClientKMIPV1_2",
        0x0000_0010 "SymmetricKeyLifecycleServerKMIPV1_0",
        0x0000_0011 "SymmetricKeyLifecycleServerKMIPV1_1",
        0x0000_0012 "SymmetricKeyLifecycleServerKMIPV1_2",
        0x0000_0013 "AsymmetricKeyLifecycleClientKMIPV1_0",
        0x0000_0014 "AsymmetricKeyLifecycleClientKMIPV1_1",
        0x0000_0015 "AsymmetricKeyLifecycleClientKMIPV1_2",
        0x0000_0016 "AsymmetricKeyLifecycleServerKMIPV1_0",
        0x0000_0017 "AsymmetricKeyLifecycleServerKMIPV1_1",
        0x0000_0018 "AsymmetricKeyLifecycleServerKMIPV1_2",
        0x0000_0019 "BasicCryptographicClientKMIPV1_2",
        0x0000_001A "BasicCryptographicServerKMIPV1_2",
        0x0000_001B "AdvancedCryptographicClientKMIPV1_2",
        0x0000_001C "AdvancedCryptographicServerKMIPV1_2",
        0x0000_001D "RNGCryptographicClientKMIPV1_2",
        0x0000_001E "RNGCryptographicServerKMIPV1_2",
        0x0000_001F "BasicSymmetricKeyFoundryClientKMIPV1_0",
        0x0000_0020 "IntermediateSymmetricKeyFoundryClientKMIPV1_0",
        0x0000_0021 "AdvancedSymmetricKeyFoundryClientKMIPV1_0",
        0x0000_0022 "BasicSymmetricKeyFoundryClientKMIPV1_1",
        0x0000_0023 "IntermediateSymmetricKeyFoundryClientKMIPV1_1",
        0x0000_0024 "AdvancedSymmetricKeyFoundryClientKMIPV1_1",
        0x0000_0025 "BasicSymmetricKeyFoundryClientKMIPV1_2",
        0x0000_0026 "IntermediateSymmetricKeyFoundryClientKMIPV1_2",
        0x0000_0027 "AdvancedSymmetricKeyFoundryClientKMIPV1_2",
        0x0000_0028 "SymmetricKeyFoundryServerKMIPV1_0",
        0x0000_0029 "SymmetricKeyFoundryServerKMIPV1_1",
        0x0000_002A "SymmetricKeyFoundryServerKMIPV1_2",
        0x0000_002B "OpaqueManagedObjectStoreClientKMIPV1_0",
        0x0000_002C "OpaqueManagedObjectStoreClientKMIPV1_1",
        0x0000_002D "OpaqueManagedObjectStoreClientKMIPV1_2",
        0x0000_002E "OpaqueManagedObjectStoreServerKMIPV1_0",
        0x0000_002F "OpaqueManagedObjectStoreServerKMIPV1_1",
        0x0000_0030 "OpaqueManagedObjectStoreServerKMIPV1_2",
        0x0000_0031 "SuiteBMinLOS_128ClientKMIPV1_0",
        0x0000_0032 "SuiteBMinLOS_128ClientKMIPV1_1",
        0x0000_0033 "SuiteBMinLOS_128ClientKMIPV1_2",
        0x0000_0034 "SuiteBMinLOS_128ServerKMIPV1_0",
        0x0000_0035 "SuiteBMinLOS_128ServerKMIPV1_1",
        0x0000_0036 "SuiteBMinLOS_128ServerKMIPV1_2",
        0x0000_0037 "SuiteBMinLOS_192ClientKMIPV1_0",
        0x0000_0038 "SuiteBMinLOS_192ClientKMIPV1_1",
        0x0000_0039 "SuiteBMinLOS_192ClientKMIPV1_2",
        0x0000_003A "SuiteBMinLOS_192ServerKMIPV1_0",
        0x0000_003B "SuiteBMinLOS_192ServerKMIPV1_1",
        0x0000_003C "SuiteBMinLOS_192ServerKMIPV1_2",
        0x0000_0043 "HTTPSClientKMIPV1_0",
        0x0000_0044 "HTTPSClientKMIPV1_1",
        0x0000_0045 "HTTPSClientKMIPV1_2",
        0x0000_0046 "HTTPSServerKMIPV1_0",
        0x0000_0047 "HTTPSServerKMIPV1_1",
        0x0000_0048 "HTTPSServerKMIPV1_2",
        0x0000_0049 "JSONClientKMIPV1_0",
        0x0000_004A "JSONClientKMIPV1_1",
        0x0000_004B "JSONClientKMIPV1_2",
        0x0000_004C "JSONServerKMIPV1_0",
        0x0000_004D "JSONServerKMIPV1_1",
        0x0000_004E "JSONServerKMIPV1_2",
        0x0000_004F "XMLClientKMIPV1_0",
        0x0000_0050 "XMLClientKMIPV1_1",
        0x0000_0051 "XMLClientKMIPV1_2",
        0x0000_0052 "XMLServerKMIPV1_0",
        0x0000_0053 "XMLServerKMIPV1_1",
        0x0000_0054 "XMLServerKMIPV1_2",
        0x0000_0055 "BaselineServerBasicKMIPV1_3",
        0x0000_0056 "BaselineServerTLSV1_2KMIPV1_3",
        0x0000_0057 "BaselineClientBasicKMIPV1_3",
        0x0000_0058 "BaselineClientTLSV1_2KMIPV1_3",
        0x0000_0059 "CompleteServerBasicKMIPV1_3",
        0x0000_005A "CompleteServerTLSV1_2KMIPV1_3",
        0x0000_005B "TapeLibraryClientKMIPV1_3",
        0x0000_005C "TapeLibraryServerKMIPV1_3",
        0x0000_005D "SymmetricKeyLifecycleClientKMIPV1_3",
        0x0000_005E "SymmetricKeyLifecycleServerKMIPV1_3",
        0x0000_005F "AsymmetricKeyLifecycleClientKMIPV1_3",
        0x0000_0060 "AsymmetricKeyLifecycleServerKMIPV1_3",
        0x0000_0061 "BasicCryptographicClientKMIPV1_3",
        0x0000_0062 "BasicCryptographicServerKMIPV1_3",
        0x0000_0063 "AdvancedCryptographicClientKMIPV1_3",
        0x0000_0064 "AdvancedCryptographicServerKMIPV1_3",
        0x0000_0065 "RNGCryptographicClientKMIPV1_3",
        0x0000_0066 "RNGCryptographicServerKMIPV1_3",
        0x0000_0067 "BasicSymmetricKeyFoundryClientKMIPV1_3",
        0x0000_0068 "IntermediateSymmetricKeyFoundryClientKMIPV1_3",
        0x0000_0069 "AdvancedSymmetricKeyFoundryClientKMIPV1_3",
        0x0000_006A "SymmetricKeyFoundryServerKMIPV1_3",
        0x0000_006B "OpaqueManagedObjectStoreClientKMIPV1_3",
        0x0000_006C "OpaqueManagedObjectStoreServerKMIPV1_3",
        0x0000_006D "SuiteBMinLOS_128ClientKMIPV1_3",
        0x0000_006E "SuiteBMinLOS_128ServerKMIPV1_3",
        0x0000_006F "SuiteBMinLOS_192ClientKMIPV1_3",
        0x0000_0070 "SuiteBMinLOS_192ServerKMIPV1_3",
        0x0000_0073 "HTTPSClientKMIPV1_3",
        0x0000_0074 "HTTPSServerKMIPV1_3",
        0x0000_0075 "JSONClientKMIPV1_3",
        0x0000_0076 "JSONServerKMIPV1_3",
        0x0000_0077 "XMLClientKMIPV1_3",
        0x0000_0078 "XMLServerKMIPV1_3",
        0x0000_0079 "BaselineServerBasicKMIPV1_4",
        0x0000_007A "BaselineServerTLSV1_2KMIPV1_4",
        0x0000_007B "BaselineClientBasicKMIPV1_4",
        0x0000_007C "BaselineClientTLSV1_2KMIPV1_4",
        0x0000_007D "CompleteServerBasicKMIPV1_4",
        0x0000_007E "CompleteServerTLSV1_2KMIPV1_4",
        0x0000_007F "TapeLibraryClientKMIPV1_4",
        0x0000_0080 "TapeLibraryServerKMIPV1_4",
        0x0000_0081 "SymmetricKeyLifecycleClientKMIPV1_4",
        0x0000_0082 "SymmetricKeyLifecycleServerKMIPV1_4",
        0x0000_0083 "AsymmetricKeyLifecycleClientKMIPV1_4",
        0x0000_0084 "AsymmetricKeyLifecycleServerKMIPV1_4",
        0x0000_0085 "BasicCryptographicClientKMIPV1_4",
        0x0000_0086 "BasicCryptographicServerKMIPV1_4",
        0x0000_0087 "AdvancedCryptographicClientKMIPV1_4",
        0x0000_0088 "AdvancedCryptographicServerKMIPV1_4",
        0x0000_0089 "RNGCryptographicClientKMIPV1_4",
        0x0000_008A "RNGCryptographicServerKMIPV1_4",
        0x0000_008B "BasicSymmetricKeyFoundryClientKMIPV1_4",
        0x0000_008C "IntermediateSymmetricKeyFoundryClientKMIPV1_4",
        0x0000_008D "AdvancedSymmetricKeyFoundryClientKMIPV1_4",
        0x0000_008E "SymmetricKeyFoundryServerKMIPV1_4",
        0x0000_008F "OpaqueManagedObjectStoreClientKMIPV1_4",
        0x0000_0090 "OpaqueManagedObjectStoreServerKMIPV1_4",
        0x0000_0091 "SuiteBMinLOS_128ClientKMIPV1_4",
        0x0000_0092 "SuiteBMinLOS_128ServerKMIPV1_4",
        0x0000_0093 "SuiteBMinLOS_192ClientKMIPV1_4",
        0x0000_0094 "SuiteBMinLOS_192ServerKMIPV1_4",
        0x0000_0097 "HTTPSClientKMIPV1_4",
        0x0000_0098 "HTTPSServerKMIPV1_4",
        0x0000_0099 "JSONClientKMIPV1_4",
        0x0000_009A "JSONServerKMIPV1_4",
        0x0000_009B "XMLClientKMIPV1_4",
        0x0000_009C "XMLServerKMIPV1_4",
        0x0000_0104 "CompleteServerBasic",
        0x0000_0105 "CompleteServerTLSV1_2",
        0x0000_0106 "TapeLibraryClient",
        0x0000_0107 "TapeLibraryServer",
        0x0000_0108 "SymmetricKeyLifecycleClient",
        0x0000_0109 "SymmetricKeyLifecycleServer",
        0x0000_010A "AsymmetricKeyLifecycleClient",
        0x0000_010B "AsymmetricKeyLifecycleServer",
        0x0000_010C "BasicCryptographicClient",
        0x0000_010D "BasicCryptographicServer",
        0x0000_010E "AdvancedCryptographicClient",
        0x0000_010F "AdvancedCryptographicServer",
        0x0000_0110 "RNGCryptographicClient",
        0x0000_0111 "RNGCryptographicServer",
        0x0000_0112 "BasicSymmetricKeyFoundryClient",
        0x0000_0113 "IntermediateSymmetricKeyFoundryClient",
        0x0000_0114 "AdvancedSymmetricKeyFoundryClient",
        0x0000_0115 "SymmetricKeyFoundryServer",
        0x0000_0116 "OpaqueManagedObjectStoreClient",
        0x0000_0117 "OpaqueManagedObjectStoreServer",
        0x0000_011C "StorageArrayWithSelfEncryptingDriveClient",
        0x0000_011D "StorageArrayWithSelfEncryptingDriveServer",
        0x0000_011E "HTTPSClient",
        0x0000_011F "HTTPSServer",
        0x0000_0120 "JSONClient",
        0x0000_0121 "JSONServer",
        0x0000_0122 "XMLClient",
        0x0000_0123 "XMLServer",
        0x0000_0124 "AESXTSClient",
        0x0000_0125 "AESXTSServer",
        0x0000_0126 "QuantumSafeClient",
        0x0000_0127 "QuantumSafeServer",
        0x0000_0128 "PKCS_11Client",
        0x0000_0129 "PKCS_11Server",
        0x0000_012A "BaselineClient",
        0x0000_012B "BaselineServer",
        0x0000_012C "CompleteServer",
    }
    UNWRAP_MODE {
        0x0000_0001 "Unspecified",
        0x0000_0002 "Processed",
        0x0000_0003 "NotProcessed",
    }
    DESTROY_ACTION {
        0x0000_0001 "Unspecified",
        0x0000_0002 "KeyMaterialDeleted",
        0x0000_0003 "KeyMaterialShredded",
        0x0000_0004 "MetaDataDeleted",
        0x0000_0005 "MetaDataShredded",
        0x0000_0006 "Deleted",
        0x0000_0007 "Shredded",
    }
    SHREDDING_ALGORITHM {
        0x0000_0001 "Unspecified",
        0x0000_0002 "Cryptographic",
        0x0000_0003 "Unsupported",
    }
    RNG_MODE {
        0x0000_0001 "Unspecified",
        0x0000_0002 "SharedInstantiation",
        0x0000_0003 "NonSharedInstantiation",
    }
    CLIENT_REGISTRATION_METHOD {
        0x0000_0001 "Unspecified",
        0x0000_0002 "ServerPreGenerated",
        0x0000_0003 "ServerOnDemand",
        0x0000_0004 "ClientGenerated",
        0x0000_0005 "ClientRegistered",
    }
    KEY_WRAP_TYPE {
        0x0000_0001 "NotWrapped",
        0x0000_0002 "AsRegistered",
    }
    MASK_GENERATOR {
        0x0000_0001 "MGF1",
        alias "MFG1" = 0x0000_0001,
    }
    ADJUSTMENT_TYPE {
        0x0000_0001 "Increment",
        0x0000_0002 "Decrement",
        0x0000_0003 "Negate",
    }
    ASYNCHRONOUS_INDICATOR {
        0x0000_0001 "Mandatory",
        0x0000_0002 "Optional",
        0x0000_0003 "Prohibited",
    }
    DATA {
        0x0000_0001 "Decrypt",
        0x0000_0002 "Encrypt",
        0x0000_0003 "Hash",
        0x0000_0004 "MACMACData",
        0x0000_0005 "RNGRetrieve",
        0x0000_0006 "SignSignatureData",
        0x0000_0007 "SignatureVerify",
    }
    ENDPOINT_ROLE {
        0x0000_0001 "Client",
        0x0000_0002 "Server",
    }
    INTEROP_FUNCTION {
        0x0000_0001 "Begin",
        0x0000_0002 "End",
        0x0000_0003 "Reset",
    }
    NIST_KEY_TYPE {
        0x0000_0001 "PrivateSignatureKey",
        0x0000_0002 "PublicSignatureVerificationKey",
        0x0000_0003 "SymmetricAuthenticationKey",
        0x0000_0004 "PrivateAuthenticationKey",
        0x0000_0005 "PublicAuthenticationKey",
        0x0000_0006 "SymmetricDataEncryptionKey",
        0x0000_0007 "SymmetricKeyWrappingKey",
        0x0000_0008 "SymmetricRandomNumberGenerationKey",
        0x0000_0009 "SymmetricMasterKey",
        0x0000_000A "PrivateKeyTransportKey",
        0x0000_000B "PublicKeyTransportKey",
        0x0000_000C "SymmetricKeyAgreementKey",
        0x0000_000D "PrivateStaticKeyAgreementKey",
        0x0000_000E "PublicStaticKeyAgreementKey",
        0x0000_000F "PrivateEphemeralKeyAgreementKey",
        0x0000_0010 "PublicEphemeralKeyAgreementKey",
        0x0000_0011 "SymmetricAuthorizationKey",
        0x0000_0012 "PrivateAuthorizationKey",
        0x0000_0013 "PublicAuthorizationKey",
    }
    PROCESSING_STAGE {
        0x0000_0001 "Submitted",
        0x0000_0002 "InProcess",
        0x0000_0003 "Completed",
    }
    PROTECTION_LEVEL {
        0x0000_0001 "High",
        0x0000_0002 "Low",
    }
    ROTATE_NAME_TYPE {
        0x0000_0001 "UninterpretedTextString",
        0x0000_0002 "URI",
    }
    TICKET_TYPE {
        0x0000_0001 "Login",
    }
    UNIQUE_IDENTIFIER {
        0x0000_0001 "IDPlaceholder",
        0x0000_0002 "Certify",
        0x0000_0003 "Create",
        0x0000_0004 "CreateKeyPair",
        0x0000_0005 "CreateKeyPairPrivateKey",
        0x0000_0006 "CreateKeyPairPublicKey",
        0x0000_0007 "CreateSplitKey",
        0x0000_0008 "DeriveKey",
        0x0000_0009 "Import",
        0x0000_000A "JoinSplitKey",
        0x0000_000B "Locate",
        0x0000_000C "Register",
        0x0000_000D "ReKey",
        0x0000_000E "ReCertify",
        0x0000_000F "ReKeyKeyPair",
        0x0000_0010 "ReKeyKeyPairPrivateKey",
        0x0000_0011 "ReKeyKeyPairPublicKey",
    }

}

name_tables! {
    /// The mask whose flag names an Integer item with this tag uses, if it is a mask.
    fn mask_for;
    CRYPTOGRAPHIC_USAGE_MASK {
        0x0000_0001 "Sign",
        0x0000_0002 "Verify",
        0x0000_0004 "Encrypt",
        0x0000_0008 "Decrypt",
        0x0000_0010 "WrapKey",
        0x0000_0020 "UnwrapKey",
        0x0000_0040 "Export",
        0x0000_0080 "MACGenerate",
        0x0000_0100 "MACVerify",
        0x0000_0200 "DeriveKey",
        0x0000_0400 "ContentCommitment",
        0x0000_0800 "KeyAgreement",
        0x0000_1000 "CertificateSign",
        0x0000_2000 "CRLSign",
        0x0000_4000 "GenerateCryptogram",
        0x0000_8000 "ValidateCryptogram",
        0x0001_0000 "TranslateEncrypt",
        0x0002_0000 "TranslateDecrypt",
        0x0004_0000 "TranslateWrap",
        0x0008_0000 "TranslateUnwrap",
        0x0010_0000 "Authenticate",
        0x0020_0000 "Unrestricted",
        0x0040_0000 "FPEEncrypt",
        0x0080_0000 "FPEDecrypt",
    }
    STORAGE_STATUS_MASK {
        0x0000_0001 "OnLineStorage",
        0x0000_0002 "ArchivalStorage",
        0x0000_0004 "DestroyedStorage",
    }
    PROTECTION_STORAGE_MASK {
        0x0000_0001 "Software",
        0x0000_0002 "Hardware",
        0x0000_0004 "OnProcessor",
        0x0000_0008 "OnSystem",
        0x0000_0010 "OffSystem",
        0x0000_0020 "Hypervisor",
        0x0000_0040 "OperatingSystem",
        0x0000_0080 "Container",
        0x0000_0100 "OnPremises",
        0x0000_0200 "OffPremises",
        0x0000_0400 "SelfManaged",
        0x0000_0800 "Outsourced",
        0x0000_1000 "Validated",
        0x0000_2000 "SameJurisdiction",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize_name;

    /// Every value a tag, enumeration or mask can take under any tag, named by
    /// the tables `enumeration_for` and `mask_for` return.
    fn all_tables() -> Vec<&'static NameTable> {
        TAGS.iter()
            .flat_map(|&(tag, _)| [enumeration_for(tag), mask_for(tag)])
            .flatten()
            .collect()
    }

    #[test]
    fn the_tag_table_is_sorted_unique_and_its_names_agree() {
        // `Tag::spec_name` and `Tag::name` binary-search it by value.
        assert!(TAGS.windows(2).all(|pair| pair[0].0 < pair[1].0));
        let names = tag_names();
        assert_eq!(names.by_value.len(), TAGS.len());
        assert!(
            names.by_name.windows(2).all(|pair| pair[0].0 < pair[1].0),
            "two tags have the same name"
        );
        for &(tag, spec_name) in TAGS {
            let name = tag.name().unwrap();
            assert_eq!(Tag::from_name(name), Some(tag), "{name}");
            assert_eq!(tag.spec_name(), Some(spec_name));
            assert_eq!(tag.value() >> 16, 0x42, "{name} is not a KMIP tag");
            // Normalising is idempotent: a JSON/XML name reads back as itself.
            assert_eq!(normalize_name(name), name);
        }
    }

    #[test]
    fn json_and_xml_names_follow_the_profiles_spelling() {
        // Names with the characters the KMIP profiles' "Normalizing Names"
        // rules change, as the OASIS test cases spell them.
        for (tag, name) in [
            (Tag::ACTIVATION_DATE, "ActivationDate"),
            (Tag::COMMON_TEMPLATE_ATTRIBUTE, "CommonTemplateAttribute"),
            (Tag::IV_COUNTER_NONCE, "IVCounterNonce"),
            (
                Tag::MAC_SIGNATURE_KEY_INFORMATION,
                "MACSignatureKeyInformation",
            ),
            (
                Tag::X_509_CERTIFICATE_IDENTIFIER,
                "X_509CertificateIdentifier",
            ),
            (Tag::PKCS_12_FRIENDLY_NAME, "PKCS_12FriendlyName"),
            (Tag::CRT_COEFFICIENT, "CRTCoefficient"),
            (Tag::FIPS186_VARIATION, "FIPS186Variation"),
        ] {
            assert_eq!(tag.name(), Some(name), "{:?}", tag.spec_name());
        }
        assert_eq!(
            Tag::X_509_CERTIFICATE_IDENTIFIER.spec_name(),
            Some("X.509 Certificate Identifier")
        );
        assert_eq!(Tag::from_name("Activation Date"), None);
        assert_eq!(Tag::new(0x54_0001).and_then(Tag::spec_name), None);
    }

    #[test]
    fn every_tag_of_kmip_1_0_to_2_1_is_named() {
        // 0x420001 to 0x420176 is every tag of KMIP 1.0 to 2.1; KMIP 2.0 reserved
        // 0x420137, 0x42013E and 0x42013F.
        let reserved = [0x42_0137, 0x42_013E, 0x42_013F];
        for value in 0x42_0001..=0x42_0176 {
            let named = Tag::new(value).and_then(Tag::name).is_some();
            assert_eq!(named, !reserved.contains(&value), "tag 0x{value:06X}");
        }
        assert_eq!(Tag::new(0x42_0177).and_then(Tag::name), None);
    }

    #[test]
    fn enumeration_and_mask_tables_are_consistent() {
        let tables = all_tables();
        for table in &tables {
            // A table is named after its (first) tag, and that tag uses it.
            assert!(!table.name().is_empty());
            assert!(
                enumeration_for(table.tag).is_some_and(|found| std::ptr::eq(found, *table))
                    || mask_for(table.tag).is_some_and(|found| std::ptr::eq(found, *table))
            );
        }
        assert!(tables.len() >= 60, "only {} tables in use", tables.len());
        for table in tables {
            assert!(
                table.values.windows(2).all(|pair| pair[0].0 < pair[1].0),
                "{} is not sorted by value, or repeats one",
                table.name()
            );
            for (index, &(value, name)) in table.values.iter().enumerate() {
                assert!(
                    table
                        .values
                        .iter()
                        .skip(index + 1)
                        .all(|&(_, other)| other != name),
                    "{} names two values {name}",
                    table.name()
                );
                assert!(!name.is_empty() && !name.contains(' '), "{name:?}");
                // An alias must not shadow another value's name.
                assert!(
                    table
                        .aliases
                        .iter()
                        .all(|&(alias, aliased)| alias != name || aliased == value),
                    "{}: alias {name} names two values",
                    table.name()
                );
            }
            for &(_, aliased) in table.aliases {
                assert!(
                    table.values.iter().any(|&(value, _)| value == aliased),
                    "{}: alias for unknown value 0x{aliased:08X}",
                    table.name()
                );
            }
        }
    }

    #[test]
    fn masks_are_single_bits() {
        for tag in [
            Tag::CRYPTOGRAPHIC_USAGE_MASK,
            Tag::STORAGE_STATUS_MASK,
            Tag::PROTECTION_STORAGE_MASK,
        ] {
            let table = mask_for(tag).unwrap();
            for &(value, name) in table.values {
                assert_eq!(value.count_ones(), 1, "{name} in {}", table.name());
            }
        }
    }

    #[test]
    fn spot_checks_against_the_specification_tables() {
        // KMIP 2.1 section 11 and 1.4 section 9.1.3, a few entries per table.
        let name = |tag: Tag, value: u32| {
            enumeration_for(tag)
                .and_then(|table| table.values.iter().find(|&&(known, _)| known == value))
                .map(|&(_, name)| name)
        };
        assert_eq!(name(Tag::OPERATION, 0x01), Some("Create"));
        assert_eq!(name(Tag::OPERATION, 0x1E), Some("DiscoverVersions"));
        assert_eq!(name(Tag::OBJECT_TYPE, 0x02), Some("SymmetricKey"));
        assert_eq!(name(Tag::CRYPTOGRAPHIC_ALGORITHM, 0x03), Some("AES"));
        assert_eq!(name(Tag::CRYPTOGRAPHIC_ALGORITHM, 0x38), Some("Ed448"));
        assert_eq!(name(Tag::RESULT_REASON, 0x01), Some("ItemNotFound"));
        assert_eq!(name(Tag::RESULT_REASON, 0x100), Some("GeneralFailure"));
        assert_eq!(name(Tag::STATE, 0x02), Some("Active"));
        assert_eq!(
            name(Tag::KEY_FORMAT_TYPE, 0x07),
            Some("TransparentSymmetricKey")
        );
        let usage = mask_for(Tag::CRYPTOGRAPHIC_USAGE_MASK).unwrap();
        assert!(usage.values.contains(&(0x0000_0004, "Encrypt")));
        assert!(usage.values.contains(&(0x0000_0008, "Decrypt")));
        assert!(usage.values.contains(&(0x0000_0001, "Sign")));
    }
}
