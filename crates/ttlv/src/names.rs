//! KMIP tag names, enumeration values and mask flags, as tables.
//!
//! Generated from the tag and enumeration tables of the OASIS KMIP specifications
//! 1.4 (section 9.1.3) and 2.1 (sections 11 and 12), which include every tag of
//! versions 1.0 to 1.3 and 2.0. Names are the spec names normalised as the KMIP
//! profiles define for the JSON and XML encodings (see [`normalize_name`]).
//! Where a later version renamed or reserved a value, the 1.x name is kept so that
//! older messages still read; alternative spellings are accepted on input only.

use crate::Tag;

/// Every named tag, sorted by value.
pub(crate) static TAGS_BY_VALUE: &[(u32, &str)] = &[
    (0x420001, "ActivationDate"),
    (0x420002, "ApplicationData"),
    (0x420003, "ApplicationNamespace"),
    (0x420004, "ApplicationSpecificInformation"),
    (0x420005, "ArchiveDate"),
    (0x420006, "AsynchronousCorrelationValue"),
    (0x420007, "AsynchronousIndicator"),
    (0x420008, "Attribute"),
    (0x420009, "AttributeIndex"),
    (0x42000A, "AttributeName"),
    (0x42000B, "AttributeValue"),
    (0x42000C, "Authentication"),
    (0x42000D, "BatchCount"),
    (0x42000E, "BatchErrorContinuationOption"),
    (0x42000F, "BatchItem"),
    (0x420010, "BatchOrderOption"),
    (0x420011, "BlockCipherMode"),
    (0x420012, "CancellationResult"),
    (0x420013, "Certificate"),
    (0x420014, "CertificateIdentifier"),
    (0x420015, "CertificateIssuer"),
    (0x420016, "CertificateIssuerAlternativeName"),
    (0x420017, "CertificateIssuerDistinguishedName"),
    (0x420018, "CertificateRequest"),
    (0x420019, "CertificateRequestType"),
    (0x42001A, "CertificateSubject"),
    (0x42001B, "CertificateSubjectAlternativeName"),
    (0x42001C, "CertificateSubjectDistinguishedName"),
    (0x42001D, "CertificateType"),
    (0x42001E, "CertificateValue"),
    (0x42001F, "CommonTemplateAttribute"),
    (0x420020, "CompromiseDate"),
    (0x420021, "CompromiseOccurrenceDate"),
    (0x420022, "ContactInformation"),
    (0x420023, "Credential"),
    (0x420024, "CredentialType"),
    (0x420025, "CredentialValue"),
    (0x420026, "CriticalityIndicator"),
    (0x420027, "CRTCoefficient"),
    (0x420028, "CryptographicAlgorithm"),
    (0x420029, "CryptographicDomainParameters"),
    (0x42002A, "CryptographicLength"),
    (0x42002B, "CryptographicParameters"),
    (0x42002C, "CryptographicUsageMask"),
    (0x42002D, "CustomAttribute"),
    (0x42002E, "D"),
    (0x42002F, "DeactivationDate"),
    (0x420030, "DerivationData"),
    (0x420031, "DerivationMethod"),
    (0x420032, "DerivationParameters"),
    (0x420033, "DestroyDate"),
    (0x420034, "Digest"),
    (0x420035, "DigestValue"),
    (0x420036, "EncryptionKeyInformation"),
    (0x420037, "G"),
    (0x420038, "HashingAlgorithm"),
    (0x420039, "InitialDate"),
    (0x42003A, "InitializationVector"),
    (0x42003B, "Issuer"),
    (0x42003C, "IterationCount"),
    (0x42003D, "IVCounterNonce"),
    (0x42003E, "J"),
    (0x42003F, "Key"),
    (0x420040, "KeyBlock"),
    (0x420041, "KeyCompressionType"),
    (0x420042, "KeyFormatType"),
    (0x420043, "KeyMaterial"),
    (0x420044, "KeyPartIdentifier"),
    (0x420045, "KeyValue"),
    (0x420046, "KeyWrappingData"),
    (0x420047, "KeyWrappingSpecification"),
    (0x420048, "LastChangeDate"),
    (0x420049, "LeaseTime"),
    (0x42004A, "Link"),
    (0x42004B, "LinkType"),
    (0x42004C, "LinkedObjectIdentifier"),
    (0x42004D, "MACSignature"),
    (0x42004E, "MACSignatureKeyInformation"),
    (0x42004F, "MaximumItems"),
    (0x420050, "MaximumResponseSize"),
    (0x420051, "MessageExtension"),
    (0x420052, "Modulus"),
    (0x420053, "Name"),
    (0x420054, "NameType"),
    (0x420055, "NameValue"),
    (0x420056, "ObjectGroup"),
    (0x420057, "ObjectType"),
    (0x420058, "Offset"),
    (0x420059, "OpaqueDataType"),
    (0x42005A, "OpaqueDataValue"),
    (0x42005B, "OpaqueObject"),
    (0x42005C, "Operation"),
    (0x42005D, "OperationPolicyName"),
    (0x42005E, "P"),
    (0x42005F, "PaddingMethod"),
    (0x420060, "PrimeExponentP"),
    (0x420061, "PrimeExponentQ"),
    (0x420062, "PrimeFieldSize"),
    (0x420063, "PrivateExponent"),
    (0x420064, "PrivateKey"),
    (0x420065, "PrivateKeyTemplateAttribute"),
    (0x420066, "PrivateKeyUniqueIdentifier"),
    (0x420067, "ProcessStartDate"),
    (0x420068, "ProtectStopDate"),
    (0x420069, "ProtocolVersion"),
    (0x42006A, "ProtocolVersionMajor"),
    (0x42006B, "ProtocolVersionMinor"),
    (0x42006C, "PublicExponent"),
    (0x42006D, "PublicKey"),
    (0x42006E, "PublicKeyTemplateAttribute"),
    (0x42006F, "PublicKeyUniqueIdentifier"),
    (0x420070, "PutFunction"),
    (0x420071, "Q"),
    (0x420072, "QString"),
    (0x420073, "Qlength"),
    (0x420074, "QueryFunction"),
    (0x420075, "RecommendedCurve"),
    (0x420076, "ReplacedUniqueIdentifier"),
    (0x420077, "RequestHeader"),
    (0x420078, "RequestMessage"),
    (0x420079, "RequestPayload"),
    (0x42007A, "ResponseHeader"),
    (0x42007B, "ResponseMessage"),
    (0x42007C, "ResponsePayload"),
    (0x42007D, "ResultMessage"),
    (0x42007E, "ResultReason"),
    (0x42007F, "ResultStatus"),
    (0x420080, "RevocationMessage"),
    (0x420081, "RevocationReason"),
    (0x420082, "RevocationReasonCode"),
    (0x420083, "KeyRoleType"),
    (0x420084, "Salt"),
    (0x420085, "SecretData"),
    (0x420086, "SecretDataType"),
    (0x420087, "SerialNumber"),
    (0x420088, "ServerInformation"),
    (0x420089, "SplitKey"),
    (0x42008A, "SplitKeyMethod"),
    (0x42008B, "SplitKeyParts"),
    (0x42008C, "SplitKeyThreshold"),
    (0x42008D, "State"),
    (0x42008E, "StorageStatusMask"),
    (0x42008F, "SymmetricKey"),
    (0x420090, "Template"),
    (0x420091, "TemplateAttribute"),
    (0x420092, "TimeStamp"),
    (0x420093, "UniqueBatchItemID"),
    (0x420094, "UniqueIdentifier"),
    (0x420095, "UsageLimits"),
    (0x420096, "UsageLimitsCount"),
    (0x420097, "UsageLimitsTotal"),
    (0x420098, "UsageLimitsUnit"),
    (0x420099, "Username"),
    (0x42009A, "ValidityDate"),
    (0x42009B, "ValidityIndicator"),
    (0x42009C, "VendorExtension"),
    (0x42009D, "VendorIdentification"),
    (0x42009E, "WrappingMethod"),
    (0x42009F, "X"),
    (0x4200A0, "Y"),
    (0x4200A1, "Password"),
    (0x4200A2, "DeviceIdentifier"),
    (0x4200A3, "EncodingOption"),
    (0x4200A4, "ExtensionInformation"),
    (0x4200A5, "ExtensionName"),
    (0x4200A6, "ExtensionTag"),
    (0x4200A7, "ExtensionType"),
    (0x4200A8, "Fresh"),
    (0x4200A9, "MachineIdentifier"),
    (0x4200AA, "MediaIdentifier"),
    (0x4200AB, "NetworkIdentifier"),
    (0x4200AC, "ObjectGroupMember"),
    (0x4200AD, "CertificateLength"),
    (0x4200AE, "DigitalSignatureAlgorithm"),
    (0x4200AF, "CertificateSerialNumber"),
    (0x4200B0, "DeviceSerialNumber"),
    (0x4200B1, "IssuerAlternativeName"),
    (0x4200B2, "IssuerDistinguishedName"),
    (0x4200B3, "SubjectAlternativeName"),
    (0x4200B4, "SubjectDistinguishedName"),
    (0x4200B5, "X_509CertificateIdentifier"),
    (0x4200B6, "X_509CertificateIssuer"),
    (0x4200B7, "X_509CertificateSubject"),
    (0x4200B8, "KeyValueLocation"),
    (0x4200B9, "KeyValueLocationValue"),
    (0x4200BA, "KeyValueLocationType"),
    (0x4200BB, "KeyValuePresent"),
    (0x4200BC, "OriginalCreationDate"),
    (0x4200BD, "PGPKey"),
    (0x4200BE, "PGPKeyVersion"),
    (0x4200BF, "AlternativeName"),
    (0x4200C0, "AlternativeNameValue"),
    (0x4200C1, "AlternativeNameType"),
    (0x4200C2, "Data"),
    (0x4200C3, "SignatureData"),
    (0x4200C4, "DataLength"),
    (0x4200C5, "RandomIV"),
    (0x4200C6, "MACData"),
    (0x4200C7, "AttestationType"),
    (0x4200C8, "Nonce"),
    (0x4200C9, "NonceID"),
    (0x4200CA, "NonceValue"),
    (0x4200CB, "AttestationMeasurement"),
    (0x4200CC, "AttestationAssertion"),
    (0x4200CD, "IVLength"),
    (0x4200CE, "TagLength"),
    (0x4200CF, "FixedFieldLength"),
    (0x4200D0, "CounterLength"),
    (0x4200D1, "InitialCounterValue"),
    (0x4200D2, "InvocationFieldLength"),
    (0x4200D3, "AttestationCapableIndicator"),
    (0x4200D4, "OffsetItems"),
    (0x4200D5, "LocatedItems"),
    (0x4200D6, "CorrelationValue"),
    (0x4200D7, "InitIndicator"),
    (0x4200D8, "FinalIndicator"),
    (0x4200D9, "RNGParameters"),
    (0x4200DA, "RNGAlgorithm"),
    (0x4200DB, "DRBGAlgorithm"),
    (0x4200DC, "FIPS186Variation"),
    (0x4200DD, "PredictionResistance"),
    (0x4200DE, "RandomNumberGenerator"),
    (0x4200DF, "ValidationInformation"),
    (0x4200E0, "ValidationAuthorityType"),
    (0x4200E1, "ValidationAuthorityCountry"),
    (0x4200E2, "ValidationAuthorityURI"),
    (0x4200E3, "ValidationVersionMajor"),
    (0x4200E4, "ValidationVersionMinor"),
    (0x4200E5, "ValidationType"),
    (0x4200E6, "ValidationLevel"),
    (0x4200E7, "ValidationCertificateIdentifier"),
    (0x4200E8, "ValidationCertificateURI"),
    (0x4200E9, "ValidationVendorURI"),
    (0x4200EA, "ValidationProfile"),
    (0x4200EB, "ProfileInformation"),
    (0x4200EC, "ProfileName"),
    (0x4200ED, "ServerURI"),
    (0x4200EE, "ServerPort"),
    (0x4200EF, "StreamingCapability"),
    (0x4200F0, "AsynchronousCapability"),
    (0x4200F1, "AttestationCapability"),
    (0x4200F2, "UnwrapMode"),
    (0x4200F3, "DestroyAction"),
    (0x4200F4, "ShreddingAlgorithm"),
    (0x4200F5, "RNGMode"),
    (0x4200F6, "ClientRegistrationMethod"),
    (0x4200F7, "CapabilityInformation"),
    (0x4200F8, "KeyWrapType"),
    (0x4200F9, "BatchUndoCapability"),
    (0x4200FA, "BatchContinueCapability"),
    (0x4200FB, "PKCS_12FriendlyName"),
    (0x4200FC, "Description"),
    (0x4200FD, "Comment"),
    (0x4200FE, "AuthenticatedEncryptionAdditionalData"),
    (0x4200FF, "AuthenticatedEncryptionTag"),
    (0x420100, "SaltLength"),
    (0x420101, "MaskGenerator"),
    (0x420102, "MaskGeneratorHashingAlgorithm"),
    (0x420103, "PSource"),
    (0x420104, "TrailerField"),
    (0x420105, "ClientCorrelationValue"),
    (0x420106, "ServerCorrelationValue"),
    (0x420107, "DigestedData"),
    (0x420108, "CertificateSubjectCN"),
    (0x420109, "CertificateSubjectO"),
    (0x42010A, "CertificateSubjectOU"),
    (0x42010B, "CertificateSubjectEmail"),
    (0x42010C, "CertificateSubjectC"),
    (0x42010D, "CertificateSubjectST"),
    (0x42010E, "CertificateSubjectL"),
    (0x42010F, "CertificateSubjectUID"),
    (0x420110, "CertificateSubjectSerialNumber"),
    (0x420111, "CertificateSubjectTitle"),
    (0x420112, "CertificateSubjectDC"),
    (0x420113, "CertificateSubjectDNQualifier"),
    (0x420114, "CertificateIssuerCN"),
    (0x420115, "CertificateIssuerO"),
    (0x420116, "CertificateIssuerOU"),
    (0x420117, "CertificateIssuerEmail"),
    (0x420118, "CertificateIssuerC"),
    (0x420119, "CertificateIssuerST"),
    (0x42011A, "CertificateIssuerL"),
    (0x42011B, "CertificateIssuerUID"),
    (0x42011C, "CertificateIssuerSerialNumber"),
    (0x42011D, "CertificateIssuerTitle"),
    (0x42011E, "CertificateIssuerDC"),
    (0x42011F, "CertificateIssuerDNQualifier"),
    (0x420120, "Sensitive"),
    (0x420121, "AlwaysSensitive"),
    (0x420122, "Extractable"),
    (0x420123, "NeverExtractable"),
    (0x420124, "ReplaceExisting"),
    (0x420125, "Attributes"),
    (0x420126, "CommonAttributes"),
    (0x420127, "PrivateKeyAttributes"),
    (0x420128, "PublicKeyAttributes"),
    (0x420129, "ExtensionEnumeration"),
    (0x42012A, "ExtensionAttribute"),
    (0x42012B, "ExtensionParentStructureTag"),
    (0x42012C, "ExtensionDescription"),
    (0x42012D, "ServerName"),
    (0x42012E, "ServerSerialNumber"),
    (0x42012F, "ServerVersion"),
    (0x420130, "ServerLoad"),
    (0x420131, "ProductName"),
    (0x420132, "BuildLevel"),
    (0x420133, "BuildDate"),
    (0x420134, "ClusterInfo"),
    (0x420135, "AlternateFailoverEndpoints"),
    (0x420136, "ShortUniqueIdentifier"),
    (0x420138, "Tag"),
    (0x420139, "CertificateRequestUniqueIdentifier"),
    (0x42013A, "NISTKeyType"),
    (0x42013B, "AttributeReference"),
    (0x42013C, "CurrentAttribute"),
    (0x42013D, "NewAttribute"),
    (0x420140, "CertificateRequestValue"),
    (0x420141, "LogMessage"),
    (0x420142, "ProfileVersion"),
    (0x420143, "ProfileVersionMajor"),
    (0x420144, "ProfileVersionMinor"),
    (0x420145, "ProtectionLevel"),
    (0x420146, "ProtectionPeriod"),
    (0x420147, "QuantumSafe"),
    (0x420148, "QuantumSafeCapability"),
    (0x420149, "Ticket"),
    (0x42014A, "TicketType"),
    (0x42014B, "TicketValue"),
    (0x42014C, "RequestCount"),
    (0x42014D, "Rights"),
    (0x42014E, "Objects"),
    (0x42014F, "Operations"),
    (0x420150, "Right"),
    (0x420151, "EndpointRole"),
    (0x420152, "DefaultsInformation"),
    (0x420153, "ObjectDefaults"),
    (0x420154, "Ephemeral"),
    (0x420155, "ServerHashedPassword"),
    (0x420156, "OneTimePassword"),
    (0x420157, "HashedPassword"),
    (0x420158, "AdjustmentType"),
    (0x420159, "PKCS_11Interface"),
    (0x42015A, "PKCS_11Function"),
    (0x42015B, "PKCS_11InputParameters"),
    (0x42015C, "PKCS_11OutputParameters"),
    (0x42015D, "PKCS_11ReturnCode"),
    (0x42015E, "ProtectionStorageMask"),
    (0x42015F, "ProtectionStorageMasks"),
    (0x420160, "InteropFunction"),
    (0x420161, "InteropIdentifier"),
    (0x420162, "AdjustmentValue"),
    (0x420163, "CommonProtectionStorageMasks"),
    (0x420164, "PrivateProtectionStorageMasks"),
    (0x420165, "PublicProtectionStorageMasks"),
    (0x420166, "ObjectGroups"),
    (0x420167, "ObjectTypes"),
    (0x420168, "Constraints"),
    (0x420169, "Constraint"),
    (0x42016A, "RotateInterval"),
    (0x42016B, "RotateAutomatic"),
    (0x42016C, "RotateOffset"),
    (0x42016D, "RotateDate"),
    (0x42016E, "RotateGeneration"),
    (0x42016F, "RotateName"),
    (0x420170, "RotateNameValue"),
    (0x420171, "RotateNameType"),
    (0x420172, "RotateLatest"),
    (0x420173, "AsynchronousRequest"),
    (0x420174, "SubmissionDate"),
    (0x420175, "ProcessingStage"),
    (0x420176, "AsynchronousCorrelationValues"),
];

/// Every named tag, sorted by name, for reverse lookup.
pub(crate) static TAGS_BY_NAME: &[(&str, u32)] = &[
    ("ActivationDate", 0x420001),
    ("AdjustmentType", 0x420158),
    ("AdjustmentValue", 0x420162),
    ("AlternateFailoverEndpoints", 0x420135),
    ("AlternativeName", 0x4200BF),
    ("AlternativeNameType", 0x4200C1),
    ("AlternativeNameValue", 0x4200C0),
    ("AlwaysSensitive", 0x420121),
    ("ApplicationData", 0x420002),
    ("ApplicationNamespace", 0x420003),
    ("ApplicationSpecificInformation", 0x420004),
    ("ArchiveDate", 0x420005),
    ("AsynchronousCapability", 0x4200F0),
    ("AsynchronousCorrelationValue", 0x420006),
    ("AsynchronousCorrelationValues", 0x420176),
    ("AsynchronousIndicator", 0x420007),
    ("AsynchronousRequest", 0x420173),
    ("AttestationAssertion", 0x4200CC),
    ("AttestationCapability", 0x4200F1),
    ("AttestationCapableIndicator", 0x4200D3),
    ("AttestationMeasurement", 0x4200CB),
    ("AttestationType", 0x4200C7),
    ("Attribute", 0x420008),
    ("AttributeIndex", 0x420009),
    ("AttributeName", 0x42000A),
    ("AttributeReference", 0x42013B),
    ("AttributeValue", 0x42000B),
    ("Attributes", 0x420125),
    ("AuthenticatedEncryptionAdditionalData", 0x4200FE),
    ("AuthenticatedEncryptionTag", 0x4200FF),
    ("Authentication", 0x42000C),
    ("BatchContinueCapability", 0x4200FA),
    ("BatchCount", 0x42000D),
    ("BatchErrorContinuationOption", 0x42000E),
    ("BatchItem", 0x42000F),
    ("BatchOrderOption", 0x420010),
    ("BatchUndoCapability", 0x4200F9),
    ("BlockCipherMode", 0x420011),
    ("BuildDate", 0x420133),
    ("BuildLevel", 0x420132),
    ("CRTCoefficient", 0x420027),
    ("CancellationResult", 0x420012),
    ("CapabilityInformation", 0x4200F7),
    ("Certificate", 0x420013),
    ("CertificateIdentifier", 0x420014),
    ("CertificateIssuer", 0x420015),
    ("CertificateIssuerAlternativeName", 0x420016),
    ("CertificateIssuerC", 0x420118),
    ("CertificateIssuerCN", 0x420114),
    ("CertificateIssuerDC", 0x42011E),
    ("CertificateIssuerDNQualifier", 0x42011F),
    ("CertificateIssuerDistinguishedName", 0x420017),
    ("CertificateIssuerEmail", 0x420117),
    ("CertificateIssuerL", 0x42011A),
    ("CertificateIssuerO", 0x420115),
    ("CertificateIssuerOU", 0x420116),
    ("CertificateIssuerST", 0x420119),
    ("CertificateIssuerSerialNumber", 0x42011C),
    ("CertificateIssuerTitle", 0x42011D),
    ("CertificateIssuerUID", 0x42011B),
    ("CertificateLength", 0x4200AD),
    ("CertificateRequest", 0x420018),
    ("CertificateRequestType", 0x420019),
    ("CertificateRequestUniqueIdentifier", 0x420139),
    ("CertificateRequestValue", 0x420140),
    ("CertificateSerialNumber", 0x4200AF),
    ("CertificateSubject", 0x42001A),
    ("CertificateSubjectAlternativeName", 0x42001B),
    ("CertificateSubjectC", 0x42010C),
    ("CertificateSubjectCN", 0x420108),
    ("CertificateSubjectDC", 0x420112),
    ("CertificateSubjectDNQualifier", 0x420113),
    ("CertificateSubjectDistinguishedName", 0x42001C),
    ("CertificateSubjectEmail", 0x42010B),
    ("CertificateSubjectL", 0x42010E),
    ("CertificateSubjectO", 0x420109),
    ("CertificateSubjectOU", 0x42010A),
    ("CertificateSubjectST", 0x42010D),
    ("CertificateSubjectSerialNumber", 0x420110),
    ("CertificateSubjectTitle", 0x420111),
    ("CertificateSubjectUID", 0x42010F),
    ("CertificateType", 0x42001D),
    ("CertificateValue", 0x42001E),
    ("ClientCorrelationValue", 0x420105),
    ("ClientRegistrationMethod", 0x4200F6),
    ("ClusterInfo", 0x420134),
    ("Comment", 0x4200FD),
    ("CommonAttributes", 0x420126),
    ("CommonProtectionStorageMasks", 0x420163),
    ("CommonTemplateAttribute", 0x42001F),
    ("CompromiseDate", 0x420020),
    ("CompromiseOccurrenceDate", 0x420021),
    ("Constraint", 0x420169),
    ("Constraints", 0x420168),
    ("ContactInformation", 0x420022),
    ("CorrelationValue", 0x4200D6),
    ("CounterLength", 0x4200D0),
    ("Credential", 0x420023),
    ("CredentialType", 0x420024),
    ("CredentialValue", 0x420025),
    ("CriticalityIndicator", 0x420026),
    ("CryptographicAlgorithm", 0x420028),
    ("CryptographicDomainParameters", 0x420029),
    ("CryptographicLength", 0x42002A),
    ("CryptographicParameters", 0x42002B),
    ("CryptographicUsageMask", 0x42002C),
    ("CurrentAttribute", 0x42013C),
    ("CustomAttribute", 0x42002D),
    ("D", 0x42002E),
    ("DRBGAlgorithm", 0x4200DB),
    ("Data", 0x4200C2),
    ("DataLength", 0x4200C4),
    ("DeactivationDate", 0x42002F),
    ("DefaultsInformation", 0x420152),
    ("DerivationData", 0x420030),
    ("DerivationMethod", 0x420031),
    ("DerivationParameters", 0x420032),
    ("Description", 0x4200FC),
    ("DestroyAction", 0x4200F3),
    ("DestroyDate", 0x420033),
    ("DeviceIdentifier", 0x4200A2),
    ("DeviceSerialNumber", 0x4200B0),
    ("Digest", 0x420034),
    ("DigestValue", 0x420035),
    ("DigestedData", 0x420107),
    ("DigitalSignatureAlgorithm", 0x4200AE),
    ("EncodingOption", 0x4200A3),
    ("EncryptionKeyInformation", 0x420036),
    ("EndpointRole", 0x420151),
    ("Ephemeral", 0x420154),
    ("ExtensionAttribute", 0x42012A),
    ("ExtensionDescription", 0x42012C),
    ("ExtensionEnumeration", 0x420129),
    ("ExtensionInformation", 0x4200A4),
    ("ExtensionName", 0x4200A5),
    ("ExtensionParentStructureTag", 0x42012B),
    ("ExtensionTag", 0x4200A6),
    ("ExtensionType", 0x4200A7),
    ("Extractable", 0x420122),
    ("FIPS186Variation", 0x4200DC),
    ("FinalIndicator", 0x4200D8),
    ("FixedFieldLength", 0x4200CF),
    ("Fresh", 0x4200A8),
    ("G", 0x420037),
    ("HashedPassword", 0x420157),
    ("HashingAlgorithm", 0x420038),
    ("IVCounterNonce", 0x42003D),
    ("IVLength", 0x4200CD),
    ("InitIndicator", 0x4200D7),
    ("InitialCounterValue", 0x4200D1),
    ("InitialDate", 0x420039),
    ("InitializationVector", 0x42003A),
    ("InteropFunction", 0x420160),
    ("InteropIdentifier", 0x420161),
    ("InvocationFieldLength", 0x4200D2),
    ("Issuer", 0x42003B),
    ("IssuerAlternativeName", 0x4200B1),
    ("IssuerDistinguishedName", 0x4200B2),
    ("IterationCount", 0x42003C),
    ("J", 0x42003E),
    ("Key", 0x42003F),
    ("KeyBlock", 0x420040),
    ("KeyCompressionType", 0x420041),
    ("KeyFormatType", 0x420042),
    ("KeyMaterial", 0x420043),
    ("KeyPartIdentifier", 0x420044),
    ("KeyRoleType", 0x420083),
    ("KeyValue", 0x420045),
    ("KeyValueLocation", 0x4200B8),
    ("KeyValueLocationType", 0x4200BA),
    ("KeyValueLocationValue", 0x4200B9),
    ("KeyValuePresent", 0x4200BB),
    ("KeyWrapType", 0x4200F8),
    ("KeyWrappingData", 0x420046),
    ("KeyWrappingSpecification", 0x420047),
    ("LastChangeDate", 0x420048),
    ("LeaseTime", 0x420049),
    ("Link", 0x42004A),
    ("LinkType", 0x42004B),
    ("LinkedObjectIdentifier", 0x42004C),
    ("LocatedItems", 0x4200D5),
    ("LogMessage", 0x420141),
    ("MACData", 0x4200C6),
    ("MACSignature", 0x42004D),
    ("MACSignatureKeyInformation", 0x42004E),
    ("MachineIdentifier", 0x4200A9),
    ("MaskGenerator", 0x420101),
    ("MaskGeneratorHashingAlgorithm", 0x420102),
    ("MaximumItems", 0x42004F),
    ("MaximumResponseSize", 0x420050),
    ("MediaIdentifier", 0x4200AA),
    ("MessageExtension", 0x420051),
    ("Modulus", 0x420052),
    ("NISTKeyType", 0x42013A),
    ("Name", 0x420053),
    ("NameType", 0x420054),
    ("NameValue", 0x420055),
    ("NetworkIdentifier", 0x4200AB),
    ("NeverExtractable", 0x420123),
    ("NewAttribute", 0x42013D),
    ("Nonce", 0x4200C8),
    ("NonceID", 0x4200C9),
    ("NonceValue", 0x4200CA),
    ("ObjectDefaults", 0x420153),
    ("ObjectGroup", 0x420056),
    ("ObjectGroupMember", 0x4200AC),
    ("ObjectGroups", 0x420166),
    ("ObjectType", 0x420057),
    ("ObjectTypes", 0x420167),
    ("Objects", 0x42014E),
    ("Offset", 0x420058),
    ("OffsetItems", 0x4200D4),
    ("OneTimePassword", 0x420156),
    ("OpaqueDataType", 0x420059),
    ("OpaqueDataValue", 0x42005A),
    ("OpaqueObject", 0x42005B),
    ("Operation", 0x42005C),
    ("OperationPolicyName", 0x42005D),
    ("Operations", 0x42014F),
    ("OriginalCreationDate", 0x4200BC),
    ("P", 0x42005E),
    ("PGPKey", 0x4200BD),
    ("PGPKeyVersion", 0x4200BE),
    ("PKCS_11Function", 0x42015A),
    ("PKCS_11InputParameters", 0x42015B),
    ("PKCS_11Interface", 0x420159),
    ("PKCS_11OutputParameters", 0x42015C),
    ("PKCS_11ReturnCode", 0x42015D),
    ("PKCS_12FriendlyName", 0x4200FB),
    ("PSource", 0x420103),
    ("PaddingMethod", 0x42005F),
    ("Password", 0x4200A1),
    ("PredictionResistance", 0x4200DD),
    ("PrimeExponentP", 0x420060),
    ("PrimeExponentQ", 0x420061),
    ("PrimeFieldSize", 0x420062),
    ("PrivateExponent", 0x420063),
    ("PrivateKey", 0x420064),
    ("PrivateKeyAttributes", 0x420127),
    ("PrivateKeyTemplateAttribute", 0x420065),
    ("PrivateKeyUniqueIdentifier", 0x420066),
    ("PrivateProtectionStorageMasks", 0x420164),
    ("ProcessStartDate", 0x420067),
    ("ProcessingStage", 0x420175),
    ("ProductName", 0x420131),
    ("ProfileInformation", 0x4200EB),
    ("ProfileName", 0x4200EC),
    ("ProfileVersion", 0x420142),
    ("ProfileVersionMajor", 0x420143),
    ("ProfileVersionMinor", 0x420144),
    ("ProtectStopDate", 0x420068),
    ("ProtectionLevel", 0x420145),
    ("ProtectionPeriod", 0x420146),
    ("ProtectionStorageMask", 0x42015E),
    ("ProtectionStorageMasks", 0x42015F),
    ("ProtocolVersion", 0x420069),
    ("ProtocolVersionMajor", 0x42006A),
    ("ProtocolVersionMinor", 0x42006B),
    ("PublicExponent", 0x42006C),
    ("PublicKey", 0x42006D),
    ("PublicKeyAttributes", 0x420128),
    ("PublicKeyTemplateAttribute", 0x42006E),
    ("PublicKeyUniqueIdentifier", 0x42006F),
    ("PublicProtectionStorageMasks", 0x420165),
    ("PutFunction", 0x420070),
    ("Q", 0x420071),
    ("QString", 0x420072),
    ("Qlength", 0x420073),
    ("QuantumSafe", 0x420147),
    ("QuantumSafeCapability", 0x420148),
    ("QueryFunction", 0x420074),
    ("RNGAlgorithm", 0x4200DA),
    ("RNGMode", 0x4200F5),
    ("RNGParameters", 0x4200D9),
    ("RandomIV", 0x4200C5),
    ("RandomNumberGenerator", 0x4200DE),
    ("RecommendedCurve", 0x420075),
    ("ReplaceExisting", 0x420124),
    ("ReplacedUniqueIdentifier", 0x420076),
    ("RequestCount", 0x42014C),
    ("RequestHeader", 0x420077),
    ("RequestMessage", 0x420078),
    ("RequestPayload", 0x420079),
    ("ResponseHeader", 0x42007A),
    ("ResponseMessage", 0x42007B),
    ("ResponsePayload", 0x42007C),
    ("ResultMessage", 0x42007D),
    ("ResultReason", 0x42007E),
    ("ResultStatus", 0x42007F),
    ("RevocationMessage", 0x420080),
    ("RevocationReason", 0x420081),
    ("RevocationReasonCode", 0x420082),
    ("Right", 0x420150),
    ("Rights", 0x42014D),
    ("RotateAutomatic", 0x42016B),
    ("RotateDate", 0x42016D),
    ("RotateGeneration", 0x42016E),
    ("RotateInterval", 0x42016A),
    ("RotateLatest", 0x420172),
    ("RotateName", 0x42016F),
    ("RotateNameType", 0x420171),
    ("RotateNameValue", 0x420170),
    ("RotateOffset", 0x42016C),
    ("Salt", 0x420084),
    ("SaltLength", 0x420100),
    ("SecretData", 0x420085),
    ("SecretDataType", 0x420086),
    ("Sensitive", 0x420120),
    ("SerialNumber", 0x420087),
    ("ServerCorrelationValue", 0x420106),
    ("ServerHashedPassword", 0x420155),
    ("ServerInformation", 0x420088),
    ("ServerLoad", 0x420130),
    ("ServerName", 0x42012D),
    ("ServerPort", 0x4200EE),
    ("ServerSerialNumber", 0x42012E),
    ("ServerURI", 0x4200ED),
    ("ServerVersion", 0x42012F),
    ("ShortUniqueIdentifier", 0x420136),
    ("ShreddingAlgorithm", 0x4200F4),
    ("SignatureData", 0x4200C3),
    ("SplitKey", 0x420089),
    ("SplitKeyMethod", 0x42008A),
    ("SplitKeyParts", 0x42008B),
    ("SplitKeyThreshold", 0x42008C),
    ("State", 0x42008D),
    ("StorageStatusMask", 0x42008E),
    ("StreamingCapability", 0x4200EF),
    ("SubjectAlternativeName", 0x4200B3),
    ("SubjectDistinguishedName", 0x4200B4),
    ("SubmissionDate", 0x420174),
    ("SymmetricKey", 0x42008F),
    ("Tag", 0x420138),
    ("TagLength", 0x4200CE),
    ("Template", 0x420090),
    ("TemplateAttribute", 0x420091),
    ("Ticket", 0x420149),
    ("TicketType", 0x42014A),
    ("TicketValue", 0x42014B),
    ("TimeStamp", 0x420092),
    ("TrailerField", 0x420104),
    ("UniqueBatchItemID", 0x420093),
    ("UniqueIdentifier", 0x420094),
    ("UnwrapMode", 0x4200F2),
    ("UsageLimits", 0x420095),
    ("UsageLimitsCount", 0x420096),
    ("UsageLimitsTotal", 0x420097),
    ("UsageLimitsUnit", 0x420098),
    ("Username", 0x420099),
    ("ValidationAuthorityCountry", 0x4200E1),
    ("ValidationAuthorityType", 0x4200E0),
    ("ValidationAuthorityURI", 0x4200E2),
    ("ValidationCertificateIdentifier", 0x4200E7),
    ("ValidationCertificateURI", 0x4200E8),
    ("ValidationInformation", 0x4200DF),
    ("ValidationLevel", 0x4200E6),
    ("ValidationProfile", 0x4200EA),
    ("ValidationType", 0x4200E5),
    ("ValidationVendorURI", 0x4200E9),
    ("ValidationVersionMajor", 0x4200E3),
    ("ValidationVersionMinor", 0x4200E4),
    ("ValidityDate", 0x42009A),
    ("ValidityIndicator", 0x42009B),
    ("VendorExtension", 0x42009C),
    ("VendorIdentification", 0x42009D),
    ("WrappingMethod", 0x42009E),
    ("X", 0x42009F),
    ("X_509CertificateIdentifier", 0x4200B5),
    ("X_509CertificateIssuer", 0x4200B6),
    ("X_509CertificateSubject", 0x4200B7),
    ("Y", 0x4200A0),
];

impl Tag {
    /// Activation Date (`0x420001`).
    pub const ACTIVATION_DATE: Tag = Tag(0x420001);
    /// Application Data (`0x420002`).
    pub const APPLICATION_DATA: Tag = Tag(0x420002);
    /// Application Namespace (`0x420003`).
    pub const APPLICATION_NAMESPACE: Tag = Tag(0x420003);
    /// Application Specific Information (`0x420004`).
    pub const APPLICATION_SPECIFIC_INFORMATION: Tag = Tag(0x420004);
    /// Archive Date (`0x420005`).
    pub const ARCHIVE_DATE: Tag = Tag(0x420005);
    /// Asynchronous Correlation Value (`0x420006`).
    pub const ASYNCHRONOUS_CORRELATION_VALUE: Tag = Tag(0x420006);
    /// Asynchronous Indicator (`0x420007`).
    pub const ASYNCHRONOUS_INDICATOR: Tag = Tag(0x420007);
    /// Attribute (`0x420008`).
    pub const ATTRIBUTE: Tag = Tag(0x420008);
    /// Attribute Index (`0x420009`).
    pub const ATTRIBUTE_INDEX: Tag = Tag(0x420009);
    /// Attribute Name (`0x42000A`).
    pub const ATTRIBUTE_NAME: Tag = Tag(0x42000A);
    /// Attribute Value (`0x42000B`).
    pub const ATTRIBUTE_VALUE: Tag = Tag(0x42000B);
    /// Authentication (`0x42000C`).
    pub const AUTHENTICATION: Tag = Tag(0x42000C);
    /// Batch Count (`0x42000D`).
    pub const BATCH_COUNT: Tag = Tag(0x42000D);
    /// Batch Error Continuation Option (`0x42000E`).
    pub const BATCH_ERROR_CONTINUATION_OPTION: Tag = Tag(0x42000E);
    /// Batch Item (`0x42000F`).
    pub const BATCH_ITEM: Tag = Tag(0x42000F);
    /// Batch Order Option (`0x420010`).
    pub const BATCH_ORDER_OPTION: Tag = Tag(0x420010);
    /// Block Cipher Mode (`0x420011`).
    pub const BLOCK_CIPHER_MODE: Tag = Tag(0x420011);
    /// Cancellation Result (`0x420012`).
    pub const CANCELLATION_RESULT: Tag = Tag(0x420012);
    /// Certificate (`0x420013`).
    pub const CERTIFICATE: Tag = Tag(0x420013);
    /// Certificate Identifier (`0x420014`).
    pub const CERTIFICATE_IDENTIFIER: Tag = Tag(0x420014);
    /// Certificate Issuer (`0x420015`).
    pub const CERTIFICATE_ISSUER: Tag = Tag(0x420015);
    /// Certificate Issuer Alternative Name (`0x420016`).
    pub const CERTIFICATE_ISSUER_ALTERNATIVE_NAME: Tag = Tag(0x420016);
    /// Certificate Issuer Distinguished Name (`0x420017`).
    pub const CERTIFICATE_ISSUER_DISTINGUISHED_NAME: Tag = Tag(0x420017);
    /// Certificate Request (`0x420018`).
    pub const CERTIFICATE_REQUEST: Tag = Tag(0x420018);
    /// Certificate Request Type (`0x420019`).
    pub const CERTIFICATE_REQUEST_TYPE: Tag = Tag(0x420019);
    /// Certificate Subject (`0x42001A`).
    pub const CERTIFICATE_SUBJECT: Tag = Tag(0x42001A);
    /// Certificate Subject Alternative Name (`0x42001B`).
    pub const CERTIFICATE_SUBJECT_ALTERNATIVE_NAME: Tag = Tag(0x42001B);
    /// Certificate Subject Distinguished Name (`0x42001C`).
    pub const CERTIFICATE_SUBJECT_DISTINGUISHED_NAME: Tag = Tag(0x42001C);
    /// Certificate Type (`0x42001D`).
    pub const CERTIFICATE_TYPE: Tag = Tag(0x42001D);
    /// Certificate Value (`0x42001E`).
    pub const CERTIFICATE_VALUE: Tag = Tag(0x42001E);
    /// Common Template-Attribute (`0x42001F`).
    pub const COMMON_TEMPLATE_ATTRIBUTE: Tag = Tag(0x42001F);
    /// Compromise  Date (`0x420020`).
    pub const COMPROMISE_DATE: Tag = Tag(0x420020);
    /// Compromise Occurrence Date (`0x420021`).
    pub const COMPROMISE_OCCURRENCE_DATE: Tag = Tag(0x420021);
    /// Contact Information (`0x420022`).
    pub const CONTACT_INFORMATION: Tag = Tag(0x420022);
    /// Credential (`0x420023`).
    pub const CREDENTIAL: Tag = Tag(0x420023);
    /// Credential Type (`0x420024`).
    pub const CREDENTIAL_TYPE: Tag = Tag(0x420024);
    /// Credential Value (`0x420025`).
    pub const CREDENTIAL_VALUE: Tag = Tag(0x420025);
    /// Criticality Indicator (`0x420026`).
    pub const CRITICALITY_INDICATOR: Tag = Tag(0x420026);
    /// CRT Coefficient (`0x420027`).
    pub const CRT_COEFFICIENT: Tag = Tag(0x420027);
    /// Cryptographic Algorithm (`0x420028`).
    pub const CRYPTOGRAPHIC_ALGORITHM: Tag = Tag(0x420028);
    /// Cryptographic Domain Parameters (`0x420029`).
    pub const CRYPTOGRAPHIC_DOMAIN_PARAMETERS: Tag = Tag(0x420029);
    /// Cryptographic Length (`0x42002A`).
    pub const CRYPTOGRAPHIC_LENGTH: Tag = Tag(0x42002A);
    /// Cryptographic Parameters (`0x42002B`).
    pub const CRYPTOGRAPHIC_PARAMETERS: Tag = Tag(0x42002B);
    /// Cryptographic Usage Mask (`0x42002C`).
    pub const CRYPTOGRAPHIC_USAGE_MASK: Tag = Tag(0x42002C);
    /// Custom Attribute (`0x42002D`).
    pub const CUSTOM_ATTRIBUTE: Tag = Tag(0x42002D);
    /// D (`0x42002E`).
    pub const D: Tag = Tag(0x42002E);
    /// Deactivation Date (`0x42002F`).
    pub const DEACTIVATION_DATE: Tag = Tag(0x42002F);
    /// Derivation Data (`0x420030`).
    pub const DERIVATION_DATA: Tag = Tag(0x420030);
    /// Derivation Method (`0x420031`).
    pub const DERIVATION_METHOD: Tag = Tag(0x420031);
    /// Derivation Parameters (`0x420032`).
    pub const DERIVATION_PARAMETERS: Tag = Tag(0x420032);
    /// Destroy Date (`0x420033`).
    pub const DESTROY_DATE: Tag = Tag(0x420033);
    /// Digest (`0x420034`).
    pub const DIGEST: Tag = Tag(0x420034);
    /// Digest Value (`0x420035`).
    pub const DIGEST_VALUE: Tag = Tag(0x420035);
    /// Encryption Key Information (`0x420036`).
    pub const ENCRYPTION_KEY_INFORMATION: Tag = Tag(0x420036);
    /// G (`0x420037`).
    pub const G: Tag = Tag(0x420037);
    /// Hashing Algorithm (`0x420038`).
    pub const HASHING_ALGORITHM: Tag = Tag(0x420038);
    /// Initial Date (`0x420039`).
    pub const INITIAL_DATE: Tag = Tag(0x420039);
    /// Initialization Vector (`0x42003A`).
    pub const INITIALIZATION_VECTOR: Tag = Tag(0x42003A);
    /// Issuer (`0x42003B`).
    pub const ISSUER: Tag = Tag(0x42003B);
    /// Iteration Count (`0x42003C`).
    pub const ITERATION_COUNT: Tag = Tag(0x42003C);
    /// IV/Counter/Nonce (`0x42003D`).
    pub const IV_COUNTER_NONCE: Tag = Tag(0x42003D);
    /// J (`0x42003E`).
    pub const J: Tag = Tag(0x42003E);
    /// Key (`0x42003F`).
    pub const KEY: Tag = Tag(0x42003F);
    /// Key Block (`0x420040`).
    pub const KEY_BLOCK: Tag = Tag(0x420040);
    /// Key Compression Type (`0x420041`).
    pub const KEY_COMPRESSION_TYPE: Tag = Tag(0x420041);
    /// Key Format Type (`0x420042`).
    pub const KEY_FORMAT_TYPE: Tag = Tag(0x420042);
    /// Key Material (`0x420043`).
    pub const KEY_MATERIAL: Tag = Tag(0x420043);
    /// Key Part Identifier (`0x420044`).
    pub const KEY_PART_IDENTIFIER: Tag = Tag(0x420044);
    /// Key Value (`0x420045`).
    pub const KEY_VALUE: Tag = Tag(0x420045);
    /// Key Wrapping Data (`0x420046`).
    pub const KEY_WRAPPING_DATA: Tag = Tag(0x420046);
    /// Key Wrapping Specification (`0x420047`).
    pub const KEY_WRAPPING_SPECIFICATION: Tag = Tag(0x420047);
    /// Last Change Date (`0x420048`).
    pub const LAST_CHANGE_DATE: Tag = Tag(0x420048);
    /// Lease Time (`0x420049`).
    pub const LEASE_TIME: Tag = Tag(0x420049);
    /// Link (`0x42004A`).
    pub const LINK: Tag = Tag(0x42004A);
    /// Link Type (`0x42004B`).
    pub const LINK_TYPE: Tag = Tag(0x42004B);
    /// Linked Object Identifier (`0x42004C`).
    pub const LINKED_OBJECT_IDENTIFIER: Tag = Tag(0x42004C);
    /// MAC/Signature (`0x42004D`).
    pub const MAC_SIGNATURE: Tag = Tag(0x42004D);
    /// MAC/Signature Key Information (`0x42004E`).
    pub const MAC_SIGNATURE_KEY_INFORMATION: Tag = Tag(0x42004E);
    /// Maximum Items (`0x42004F`).
    pub const MAXIMUM_ITEMS: Tag = Tag(0x42004F);
    /// Maximum Response Size (`0x420050`).
    pub const MAXIMUM_RESPONSE_SIZE: Tag = Tag(0x420050);
    /// Message Extension (`0x420051`).
    pub const MESSAGE_EXTENSION: Tag = Tag(0x420051);
    /// Modulus (`0x420052`).
    pub const MODULUS: Tag = Tag(0x420052);
    /// Name (`0x420053`).
    pub const NAME: Tag = Tag(0x420053);
    /// Name Type (`0x420054`).
    pub const NAME_TYPE: Tag = Tag(0x420054);
    /// Name Value (`0x420055`).
    pub const NAME_VALUE: Tag = Tag(0x420055);
    /// Object Group (`0x420056`).
    pub const OBJECT_GROUP: Tag = Tag(0x420056);
    /// Object Type (`0x420057`).
    pub const OBJECT_TYPE: Tag = Tag(0x420057);
    /// Offset (`0x420058`).
    pub const OFFSET: Tag = Tag(0x420058);
    /// Opaque Data Type (`0x420059`).
    pub const OPAQUE_DATA_TYPE: Tag = Tag(0x420059);
    /// Opaque Data Value (`0x42005A`).
    pub const OPAQUE_DATA_VALUE: Tag = Tag(0x42005A);
    /// Opaque Object (`0x42005B`).
    pub const OPAQUE_OBJECT: Tag = Tag(0x42005B);
    /// Operation (`0x42005C`).
    pub const OPERATION: Tag = Tag(0x42005C);
    /// Operation Policy Name (`0x42005D`).
    pub const OPERATION_POLICY_NAME: Tag = Tag(0x42005D);
    /// P (`0x42005E`).
    pub const P: Tag = Tag(0x42005E);
    /// Padding Method (`0x42005F`).
    pub const PADDING_METHOD: Tag = Tag(0x42005F);
    /// Prime Exponent P (`0x420060`).
    pub const PRIME_EXPONENT_P: Tag = Tag(0x420060);
    /// Prime Exponent Q (`0x420061`).
    pub const PRIME_EXPONENT_Q: Tag = Tag(0x420061);
    /// Prime Field Size (`0x420062`).
    pub const PRIME_FIELD_SIZE: Tag = Tag(0x420062);
    /// Private Exponent (`0x420063`).
    pub const PRIVATE_EXPONENT: Tag = Tag(0x420063);
    /// Private Key (`0x420064`).
    pub const PRIVATE_KEY: Tag = Tag(0x420064);
    /// Private Key Template-Attribute (`0x420065`).
    pub const PRIVATE_KEY_TEMPLATE_ATTRIBUTE: Tag = Tag(0x420065);
    /// Private Key Unique Identifier (`0x420066`).
    pub const PRIVATE_KEY_UNIQUE_IDENTIFIER: Tag = Tag(0x420066);
    /// Process Start Date (`0x420067`).
    pub const PROCESS_START_DATE: Tag = Tag(0x420067);
    /// Protect Stop Date (`0x420068`).
    pub const PROTECT_STOP_DATE: Tag = Tag(0x420068);
    /// Protocol Version (`0x420069`).
    pub const PROTOCOL_VERSION: Tag = Tag(0x420069);
    /// Protocol Version Major (`0x42006A`).
    pub const PROTOCOL_VERSION_MAJOR: Tag = Tag(0x42006A);
    /// Protocol Version Minor (`0x42006B`).
    pub const PROTOCOL_VERSION_MINOR: Tag = Tag(0x42006B);
    /// Public Exponent (`0x42006C`).
    pub const PUBLIC_EXPONENT: Tag = Tag(0x42006C);
    /// Public Key (`0x42006D`).
    pub const PUBLIC_KEY: Tag = Tag(0x42006D);
    /// Public Key Template-Attribute (`0x42006E`).
    pub const PUBLIC_KEY_TEMPLATE_ATTRIBUTE: Tag = Tag(0x42006E);
    /// Public Key Unique Identifier (`0x42006F`).
    pub const PUBLIC_KEY_UNIQUE_IDENTIFIER: Tag = Tag(0x42006F);
    /// Put Function (`0x420070`).
    pub const PUT_FUNCTION: Tag = Tag(0x420070);
    /// Q (`0x420071`).
    pub const Q: Tag = Tag(0x420071);
    /// Q String (`0x420072`).
    pub const Q_STRING: Tag = Tag(0x420072);
    /// Qlength (`0x420073`).
    pub const QLENGTH: Tag = Tag(0x420073);
    /// Query Function (`0x420074`).
    pub const QUERY_FUNCTION: Tag = Tag(0x420074);
    /// Recommended Curve (`0x420075`).
    pub const RECOMMENDED_CURVE: Tag = Tag(0x420075);
    /// Replaced Unique Identifier (`0x420076`).
    pub const REPLACED_UNIQUE_IDENTIFIER: Tag = Tag(0x420076);
    /// Request Header (`0x420077`).
    pub const REQUEST_HEADER: Tag = Tag(0x420077);
    /// Request Message (`0x420078`).
    pub const REQUEST_MESSAGE: Tag = Tag(0x420078);
    /// Request Payload (`0x420079`).
    pub const REQUEST_PAYLOAD: Tag = Tag(0x420079);
    /// Response Header (`0x42007A`).
    pub const RESPONSE_HEADER: Tag = Tag(0x42007A);
    /// Response Message (`0x42007B`).
    pub const RESPONSE_MESSAGE: Tag = Tag(0x42007B);
    /// Response Payload (`0x42007C`).
    pub const RESPONSE_PAYLOAD: Tag = Tag(0x42007C);
    /// Result Message (`0x42007D`).
    pub const RESULT_MESSAGE: Tag = Tag(0x42007D);
    /// Result Reason (`0x42007E`).
    pub const RESULT_REASON: Tag = Tag(0x42007E);
    /// Result Status (`0x42007F`).
    pub const RESULT_STATUS: Tag = Tag(0x42007F);
    /// Revocation Message (`0x420080`).
    pub const REVOCATION_MESSAGE: Tag = Tag(0x420080);
    /// Revocation Reason (`0x420081`).
    pub const REVOCATION_REASON: Tag = Tag(0x420081);
    /// Revocation Reason Code (`0x420082`).
    pub const REVOCATION_REASON_CODE: Tag = Tag(0x420082);
    /// Key Role Type (`0x420083`).
    pub const KEY_ROLE_TYPE: Tag = Tag(0x420083);
    /// Salt (`0x420084`).
    pub const SALT: Tag = Tag(0x420084);
    /// Secret Data (`0x420085`).
    pub const SECRET_DATA: Tag = Tag(0x420085);
    /// Secret Data Type (`0x420086`).
    pub const SECRET_DATA_TYPE: Tag = Tag(0x420086);
    /// Serial Number (`0x420087`).
    pub const SERIAL_NUMBER: Tag = Tag(0x420087);
    /// Server Information (`0x420088`).
    pub const SERVER_INFORMATION: Tag = Tag(0x420088);
    /// Split Key (`0x420089`).
    pub const SPLIT_KEY: Tag = Tag(0x420089);
    /// Split Key Method (`0x42008A`).
    pub const SPLIT_KEY_METHOD: Tag = Tag(0x42008A);
    /// Split Key Parts (`0x42008B`).
    pub const SPLIT_KEY_PARTS: Tag = Tag(0x42008B);
    /// Split Key Threshold (`0x42008C`).
    pub const SPLIT_KEY_THRESHOLD: Tag = Tag(0x42008C);
    /// State (`0x42008D`).
    pub const STATE: Tag = Tag(0x42008D);
    /// Storage Status Mask (`0x42008E`).
    pub const STORAGE_STATUS_MASK: Tag = Tag(0x42008E);
    /// Symmetric Key (`0x42008F`).
    pub const SYMMETRIC_KEY: Tag = Tag(0x42008F);
    /// Template (`0x420090`).
    pub const TEMPLATE: Tag = Tag(0x420090);
    /// Template-Attribute (`0x420091`).
    pub const TEMPLATE_ATTRIBUTE: Tag = Tag(0x420091);
    /// Time Stamp (`0x420092`).
    pub const TIME_STAMP: Tag = Tag(0x420092);
    /// Unique Batch Item ID (`0x420093`).
    pub const UNIQUE_BATCH_ITEM_ID: Tag = Tag(0x420093);
    /// Unique Identifier (`0x420094`).
    pub const UNIQUE_IDENTIFIER: Tag = Tag(0x420094);
    /// Usage Limits (`0x420095`).
    pub const USAGE_LIMITS: Tag = Tag(0x420095);
    /// Usage Limits Count (`0x420096`).
    pub const USAGE_LIMITS_COUNT: Tag = Tag(0x420096);
    /// Usage Limits Total (`0x420097`).
    pub const USAGE_LIMITS_TOTAL: Tag = Tag(0x420097);
    /// Usage Limits Unit (`0x420098`).
    pub const USAGE_LIMITS_UNIT: Tag = Tag(0x420098);
    /// Username (`0x420099`).
    pub const USERNAME: Tag = Tag(0x420099);
    /// Validity Date (`0x42009A`).
    pub const VALIDITY_DATE: Tag = Tag(0x42009A);
    /// Validity Indicator (`0x42009B`).
    pub const VALIDITY_INDICATOR: Tag = Tag(0x42009B);
    /// Vendor Extension (`0x42009C`).
    pub const VENDOR_EXTENSION: Tag = Tag(0x42009C);
    /// Vendor Identification (`0x42009D`).
    pub const VENDOR_IDENTIFICATION: Tag = Tag(0x42009D);
    /// Wrapping Method (`0x42009E`).
    pub const WRAPPING_METHOD: Tag = Tag(0x42009E);
    /// X (`0x42009F`).
    pub const X: Tag = Tag(0x42009F);
    /// Y (`0x4200A0`).
    pub const Y: Tag = Tag(0x4200A0);
    /// Password (`0x4200A1`).
    pub const PASSWORD: Tag = Tag(0x4200A1);
    /// Device Identifier (`0x4200A2`).
    pub const DEVICE_IDENTIFIER: Tag = Tag(0x4200A2);
    /// Encoding Option (`0x4200A3`).
    pub const ENCODING_OPTION: Tag = Tag(0x4200A3);
    /// Extension Information (`0x4200A4`).
    pub const EXTENSION_INFORMATION: Tag = Tag(0x4200A4);
    /// Extension Name (`0x4200A5`).
    pub const EXTENSION_NAME: Tag = Tag(0x4200A5);
    /// Extension Tag (`0x4200A6`).
    pub const EXTENSION_TAG: Tag = Tag(0x4200A6);
    /// Extension Type (`0x4200A7`).
    pub const EXTENSION_TYPE: Tag = Tag(0x4200A7);
    /// Fresh (`0x4200A8`).
    pub const FRESH: Tag = Tag(0x4200A8);
    /// Machine Identifier (`0x4200A9`).
    pub const MACHINE_IDENTIFIER: Tag = Tag(0x4200A9);
    /// Media Identifier (`0x4200AA`).
    pub const MEDIA_IDENTIFIER: Tag = Tag(0x4200AA);
    /// Network Identifier (`0x4200AB`).
    pub const NETWORK_IDENTIFIER: Tag = Tag(0x4200AB);
    /// Object Group Member (`0x4200AC`).
    pub const OBJECT_GROUP_MEMBER: Tag = Tag(0x4200AC);
    /// Certificate Length (`0x4200AD`).
    pub const CERTIFICATE_LENGTH: Tag = Tag(0x4200AD);
    /// Digital Signature Algorithm (`0x4200AE`).
    pub const DIGITAL_SIGNATURE_ALGORITHM: Tag = Tag(0x4200AE);
    /// Certificate Serial Number (`0x4200AF`).
    pub const CERTIFICATE_SERIAL_NUMBER: Tag = Tag(0x4200AF);
    /// Device Serial Number (`0x4200B0`).
    pub const DEVICE_SERIAL_NUMBER: Tag = Tag(0x4200B0);
    /// Issuer Alternative Name (`0x4200B1`).
    pub const ISSUER_ALTERNATIVE_NAME: Tag = Tag(0x4200B1);
    /// Issuer Distinguished Name (`0x4200B2`).
    pub const ISSUER_DISTINGUISHED_NAME: Tag = Tag(0x4200B2);
    /// Subject Alternative Name (`0x4200B3`).
    pub const SUBJECT_ALTERNATIVE_NAME: Tag = Tag(0x4200B3);
    /// Subject Distinguished Name (`0x4200B4`).
    pub const SUBJECT_DISTINGUISHED_NAME: Tag = Tag(0x4200B4);
    /// X.509 Certificate Identifier (`0x4200B5`).
    pub const X_509_CERTIFICATE_IDENTIFIER: Tag = Tag(0x4200B5);
    /// X.509 Certificate Issuer (`0x4200B6`).
    pub const X_509_CERTIFICATE_ISSUER: Tag = Tag(0x4200B6);
    /// X.509 Certificate Subject (`0x4200B7`).
    pub const X_509_CERTIFICATE_SUBJECT: Tag = Tag(0x4200B7);
    /// Key Value Location (`0x4200B8`).
    pub const KEY_VALUE_LOCATION: Tag = Tag(0x4200B8);
    /// Key Value Location Value (`0x4200B9`).
    pub const KEY_VALUE_LOCATION_VALUE: Tag = Tag(0x4200B9);
    /// Key Value Location Type (`0x4200BA`).
    pub const KEY_VALUE_LOCATION_TYPE: Tag = Tag(0x4200BA);
    /// Key Value Present (`0x4200BB`).
    pub const KEY_VALUE_PRESENT: Tag = Tag(0x4200BB);
    /// Original Creation Date (`0x4200BC`).
    pub const ORIGINAL_CREATION_DATE: Tag = Tag(0x4200BC);
    /// PGP Key (`0x4200BD`).
    pub const PGP_KEY: Tag = Tag(0x4200BD);
    /// PGP Key Version (`0x4200BE`).
    pub const PGP_KEY_VERSION: Tag = Tag(0x4200BE);
    /// Alternative Name (`0x4200BF`).
    pub const ALTERNATIVE_NAME: Tag = Tag(0x4200BF);
    /// Alternative Name Value (`0x4200C0`).
    pub const ALTERNATIVE_NAME_VALUE: Tag = Tag(0x4200C0);
    /// Alternative Name Type (`0x4200C1`).
    pub const ALTERNATIVE_NAME_TYPE: Tag = Tag(0x4200C1);
    /// Data (`0x4200C2`).
    pub const DATA: Tag = Tag(0x4200C2);
    /// Signature Data (`0x4200C3`).
    pub const SIGNATURE_DATA: Tag = Tag(0x4200C3);
    /// Data Length (`0x4200C4`).
    pub const DATA_LENGTH: Tag = Tag(0x4200C4);
    /// Random IV (`0x4200C5`).
    pub const RANDOM_IV: Tag = Tag(0x4200C5);
    /// MAC Data (`0x4200C6`).
    pub const MAC_DATA: Tag = Tag(0x4200C6);
    /// Attestation Type (`0x4200C7`).
    pub const ATTESTATION_TYPE: Tag = Tag(0x4200C7);
    /// Nonce (`0x4200C8`).
    pub const NONCE: Tag = Tag(0x4200C8);
    /// Nonce ID (`0x4200C9`).
    pub const NONCE_ID: Tag = Tag(0x4200C9);
    /// Nonce Value (`0x4200CA`).
    pub const NONCE_VALUE: Tag = Tag(0x4200CA);
    /// Attestation Measurement (`0x4200CB`).
    pub const ATTESTATION_MEASUREMENT: Tag = Tag(0x4200CB);
    /// Attestation Assertion (`0x4200CC`).
    pub const ATTESTATION_ASSERTION: Tag = Tag(0x4200CC);
    /// IV Length (`0x4200CD`).
    pub const IV_LENGTH: Tag = Tag(0x4200CD);
    /// Tag Length (`0x4200CE`).
    pub const TAG_LENGTH: Tag = Tag(0x4200CE);
    /// Fixed Field Length (`0x4200CF`).
    pub const FIXED_FIELD_LENGTH: Tag = Tag(0x4200CF);
    /// Counter Length (`0x4200D0`).
    pub const COUNTER_LENGTH: Tag = Tag(0x4200D0);
    /// Initial Counter Value (`0x4200D1`).
    pub const INITIAL_COUNTER_VALUE: Tag = Tag(0x4200D1);
    /// Invocation Field Length (`0x4200D2`).
    pub const INVOCATION_FIELD_LENGTH: Tag = Tag(0x4200D2);
    /// Attestation Capable Indicator (`0x4200D3`).
    pub const ATTESTATION_CAPABLE_INDICATOR: Tag = Tag(0x4200D3);
    /// Offset Items (`0x4200D4`).
    pub const OFFSET_ITEMS: Tag = Tag(0x4200D4);
    /// Located Items (`0x4200D5`).
    pub const LOCATED_ITEMS: Tag = Tag(0x4200D5);
    /// Correlation Value (`0x4200D6`).
    pub const CORRELATION_VALUE: Tag = Tag(0x4200D6);
    /// Init Indicator (`0x4200D7`).
    pub const INIT_INDICATOR: Tag = Tag(0x4200D7);
    /// Final Indicator (`0x4200D8`).
    pub const FINAL_INDICATOR: Tag = Tag(0x4200D8);
    /// RNG Parameters (`0x4200D9`).
    pub const RNG_PARAMETERS: Tag = Tag(0x4200D9);
    /// RNG Algorithm (`0x4200DA`).
    pub const RNG_ALGORITHM: Tag = Tag(0x4200DA);
    /// DRBG Algorithm (`0x4200DB`).
    pub const DRBG_ALGORITHM: Tag = Tag(0x4200DB);
    /// FIPS186 Variation (`0x4200DC`).
    pub const FIPS186_VARIATION: Tag = Tag(0x4200DC);
    /// Prediction Resistance (`0x4200DD`).
    pub const PREDICTION_RESISTANCE: Tag = Tag(0x4200DD);
    /// Random Number Generator (`0x4200DE`).
    pub const RANDOM_NUMBER_GENERATOR: Tag = Tag(0x4200DE);
    /// Validation Information (`0x4200DF`).
    pub const VALIDATION_INFORMATION: Tag = Tag(0x4200DF);
    /// Validation Authority Type (`0x4200E0`).
    pub const VALIDATION_AUTHORITY_TYPE: Tag = Tag(0x4200E0);
    /// Validation Authority Country (`0x4200E1`).
    pub const VALIDATION_AUTHORITY_COUNTRY: Tag = Tag(0x4200E1);
    /// Validation Authority URI (`0x4200E2`).
    pub const VALIDATION_AUTHORITY_URI: Tag = Tag(0x4200E2);
    /// Validation Version Major (`0x4200E3`).
    pub const VALIDATION_VERSION_MAJOR: Tag = Tag(0x4200E3);
    /// Validation Version Minor (`0x4200E4`).
    pub const VALIDATION_VERSION_MINOR: Tag = Tag(0x4200E4);
    /// Validation Type (`0x4200E5`).
    pub const VALIDATION_TYPE: Tag = Tag(0x4200E5);
    /// Validation Level (`0x4200E6`).
    pub const VALIDATION_LEVEL: Tag = Tag(0x4200E6);
    /// Validation Certificate Identifier (`0x4200E7`).
    pub const VALIDATION_CERTIFICATE_IDENTIFIER: Tag = Tag(0x4200E7);
    /// Validation Certificate URI (`0x4200E8`).
    pub const VALIDATION_CERTIFICATE_URI: Tag = Tag(0x4200E8);
    /// Validation Vendor URI (`0x4200E9`).
    pub const VALIDATION_VENDOR_URI: Tag = Tag(0x4200E9);
    /// Validation Profile (`0x4200EA`).
    pub const VALIDATION_PROFILE: Tag = Tag(0x4200EA);
    /// Profile Information (`0x4200EB`).
    pub const PROFILE_INFORMATION: Tag = Tag(0x4200EB);
    /// Profile Name (`0x4200EC`).
    pub const PROFILE_NAME: Tag = Tag(0x4200EC);
    /// Server URI (`0x4200ED`).
    pub const SERVER_URI: Tag = Tag(0x4200ED);
    /// Server Port (`0x4200EE`).
    pub const SERVER_PORT: Tag = Tag(0x4200EE);
    /// Streaming Capability (`0x4200EF`).
    pub const STREAMING_CAPABILITY: Tag = Tag(0x4200EF);
    /// Asynchronous Capability (`0x4200F0`).
    pub const ASYNCHRONOUS_CAPABILITY: Tag = Tag(0x4200F0);
    /// Attestation Capability (`0x4200F1`).
    pub const ATTESTATION_CAPABILITY: Tag = Tag(0x4200F1);
    /// Unwrap Mode (`0x4200F2`).
    pub const UNWRAP_MODE: Tag = Tag(0x4200F2);
    /// Destroy Action (`0x4200F3`).
    pub const DESTROY_ACTION: Tag = Tag(0x4200F3);
    /// Shredding Algorithm (`0x4200F4`).
    pub const SHREDDING_ALGORITHM: Tag = Tag(0x4200F4);
    /// RNG Mode (`0x4200F5`).
    pub const RNG_MODE: Tag = Tag(0x4200F5);
    /// Client Registration Method (`0x4200F6`).
    pub const CLIENT_REGISTRATION_METHOD: Tag = Tag(0x4200F6);
    /// Capability Information (`0x4200F7`).
    pub const CAPABILITY_INFORMATION: Tag = Tag(0x4200F7);
    /// Key Wrap Type (`0x4200F8`).
    pub const KEY_WRAP_TYPE: Tag = Tag(0x4200F8);
    /// Batch Undo Capability (`0x4200F9`).
    pub const BATCH_UNDO_CAPABILITY: Tag = Tag(0x4200F9);
    /// Batch Continue Capability (`0x4200FA`).
    pub const BATCH_CONTINUE_CAPABILITY: Tag = Tag(0x4200FA);
    /// PKCS#12 Friendly Name (`0x4200FB`).
    pub const PKCS_12_FRIENDLY_NAME: Tag = Tag(0x4200FB);
    /// Description (`0x4200FC`).
    pub const DESCRIPTION: Tag = Tag(0x4200FC);
    /// Comment (`0x4200FD`).
    pub const COMMENT: Tag = Tag(0x4200FD);
    /// Authenticated Encryption Additional Data (`0x4200FE`).
    pub const AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA: Tag = Tag(0x4200FE);
    /// Authenticated Encryption Tag (`0x4200FF`).
    pub const AUTHENTICATED_ENCRYPTION_TAG: Tag = Tag(0x4200FF);
    /// Salt Length (`0x420100`).
    pub const SALT_LENGTH: Tag = Tag(0x420100);
    /// Mask Generator (`0x420101`).
    pub const MASK_GENERATOR: Tag = Tag(0x420101);
    /// Mask Generator Hashing Algorithm (`0x420102`).
    pub const MASK_GENERATOR_HASHING_ALGORITHM: Tag = Tag(0x420102);
    /// P Source (`0x420103`).
    pub const P_SOURCE: Tag = Tag(0x420103);
    /// Trailer Field (`0x420104`).
    pub const TRAILER_FIELD: Tag = Tag(0x420104);
    /// Client Correlation Value (`0x420105`).
    pub const CLIENT_CORRELATION_VALUE: Tag = Tag(0x420105);
    /// Server Correlation Value (`0x420106`).
    pub const SERVER_CORRELATION_VALUE: Tag = Tag(0x420106);
    /// Digested Data (`0x420107`).
    pub const DIGESTED_DATA: Tag = Tag(0x420107);
    /// Certificate Subject CN (`0x420108`).
    pub const CERTIFICATE_SUBJECT_CN: Tag = Tag(0x420108);
    /// Certificate Subject O (`0x420109`).
    pub const CERTIFICATE_SUBJECT_O: Tag = Tag(0x420109);
    /// Certificate Subject OU (`0x42010A`).
    pub const CERTIFICATE_SUBJECT_OU: Tag = Tag(0x42010A);
    /// Certificate Subject Email (`0x42010B`).
    pub const CERTIFICATE_SUBJECT_EMAIL: Tag = Tag(0x42010B);
    /// Certificate Subject C (`0x42010C`).
    pub const CERTIFICATE_SUBJECT_C: Tag = Tag(0x42010C);
    /// Certificate Subject ST (`0x42010D`).
    pub const CERTIFICATE_SUBJECT_ST: Tag = Tag(0x42010D);
    /// Certificate Subject L (`0x42010E`).
    pub const CERTIFICATE_SUBJECT_L: Tag = Tag(0x42010E);
    /// Certificate Subject UID (`0x42010F`).
    pub const CERTIFICATE_SUBJECT_UID: Tag = Tag(0x42010F);
    /// Certificate Subject Serial Number (`0x420110`).
    pub const CERTIFICATE_SUBJECT_SERIAL_NUMBER: Tag = Tag(0x420110);
    /// Certificate Subject Title (`0x420111`).
    pub const CERTIFICATE_SUBJECT_TITLE: Tag = Tag(0x420111);
    /// Certificate Subject DC (`0x420112`).
    pub const CERTIFICATE_SUBJECT_DC: Tag = Tag(0x420112);
    /// Certificate Subject DN Qualifier (`0x420113`).
    pub const CERTIFICATE_SUBJECT_DN_QUALIFIER: Tag = Tag(0x420113);
    /// Certificate Issuer CN (`0x420114`).
    pub const CERTIFICATE_ISSUER_CN: Tag = Tag(0x420114);
    /// Certificate Issuer O (`0x420115`).
    pub const CERTIFICATE_ISSUER_O: Tag = Tag(0x420115);
    /// Certificate Issuer OU (`0x420116`).
    pub const CERTIFICATE_ISSUER_OU: Tag = Tag(0x420116);
    /// Certificate Issuer Email (`0x420117`).
    pub const CERTIFICATE_ISSUER_EMAIL: Tag = Tag(0x420117);
    /// Certificate Issuer C (`0x420118`).
    pub const CERTIFICATE_ISSUER_C: Tag = Tag(0x420118);
    /// Certificate Issuer ST (`0x420119`).
    pub const CERTIFICATE_ISSUER_ST: Tag = Tag(0x420119);
    /// Certificate Issuer L (`0x42011A`).
    pub const CERTIFICATE_ISSUER_L: Tag = Tag(0x42011A);
    /// Certificate Issuer UID (`0x42011B`).
    pub const CERTIFICATE_ISSUER_UID: Tag = Tag(0x42011B);
    /// Certificate Issuer Serial Number (`0x42011C`).
    pub const CERTIFICATE_ISSUER_SERIAL_NUMBER: Tag = Tag(0x42011C);
    /// Certificate Issuer Title (`0x42011D`).
    pub const CERTIFICATE_ISSUER_TITLE: Tag = Tag(0x42011D);
    /// Certificate Issuer DC (`0x42011E`).
    pub const CERTIFICATE_ISSUER_DC: Tag = Tag(0x42011E);
    /// Certificate Issuer DN Qualifier (`0x42011F`).
    pub const CERTIFICATE_ISSUER_DN_QUALIFIER: Tag = Tag(0x42011F);
    /// Sensitive (`0x420120`).
    pub const SENSITIVE: Tag = Tag(0x420120);
    /// Always Sensitive (`0x420121`).
    pub const ALWAYS_SENSITIVE: Tag = Tag(0x420121);
    /// Extractable (`0x420122`).
    pub const EXTRACTABLE: Tag = Tag(0x420122);
    /// Never Extractable (`0x420123`).
    pub const NEVER_EXTRACTABLE: Tag = Tag(0x420123);
    /// Replace Existing (`0x420124`).
    pub const REPLACE_EXISTING: Tag = Tag(0x420124);
    /// Attributes (`0x420125`).
    pub const ATTRIBUTES: Tag = Tag(0x420125);
    /// Common Attributes (`0x420126`).
    pub const COMMON_ATTRIBUTES: Tag = Tag(0x420126);
    /// Private Key Attributes (`0x420127`).
    pub const PRIVATE_KEY_ATTRIBUTES: Tag = Tag(0x420127);
    /// Public Key Attributes (`0x420128`).
    pub const PUBLIC_KEY_ATTRIBUTES: Tag = Tag(0x420128);
    /// Extension Enumeration (`0x420129`).
    pub const EXTENSION_ENUMERATION: Tag = Tag(0x420129);
    /// Extension Attribute (`0x42012A`).
    pub const EXTENSION_ATTRIBUTE: Tag = Tag(0x42012A);
    /// Extension Parent Structure Tag (`0x42012B`).
    pub const EXTENSION_PARENT_STRUCTURE_TAG: Tag = Tag(0x42012B);
    /// Extension Description (`0x42012C`).
    pub const EXTENSION_DESCRIPTION: Tag = Tag(0x42012C);
    /// Server Name (`0x42012D`).
    pub const SERVER_NAME: Tag = Tag(0x42012D);
    /// Server Serial Number (`0x42012E`).
    pub const SERVER_SERIAL_NUMBER: Tag = Tag(0x42012E);
    /// Server Version (`0x42012F`).
    pub const SERVER_VERSION: Tag = Tag(0x42012F);
    /// Server Load (`0x420130`).
    pub const SERVER_LOAD: Tag = Tag(0x420130);
    /// Product Name (`0x420131`).
    pub const PRODUCT_NAME: Tag = Tag(0x420131);
    /// Build Level (`0x420132`).
    pub const BUILD_LEVEL: Tag = Tag(0x420132);
    /// Build Date (`0x420133`).
    pub const BUILD_DATE: Tag = Tag(0x420133);
    /// Cluster Info (`0x420134`).
    pub const CLUSTER_INFO: Tag = Tag(0x420134);
    /// Alternate Failover Endpoints (`0x420135`).
    pub const ALTERNATE_FAILOVER_ENDPOINTS: Tag = Tag(0x420135);
    /// Short Unique Identifier (`0x420136`).
    pub const SHORT_UNIQUE_IDENTIFIER: Tag = Tag(0x420136);
    /// Tag (`0x420138`).
    pub const TAG: Tag = Tag(0x420138);
    /// Certificate Request Unique Identifier (`0x420139`).
    pub const CERTIFICATE_REQUEST_UNIQUE_IDENTIFIER: Tag = Tag(0x420139);
    /// NIST Key Type (`0x42013A`).
    pub const NIST_KEY_TYPE: Tag = Tag(0x42013A);
    /// Attribute Reference (`0x42013B`).
    pub const ATTRIBUTE_REFERENCE: Tag = Tag(0x42013B);
    /// Current Attribute (`0x42013C`).
    pub const CURRENT_ATTRIBUTE: Tag = Tag(0x42013C);
    /// New Attribute (`0x42013D`).
    pub const NEW_ATTRIBUTE: Tag = Tag(0x42013D);
    /// Certificate Request Value (`0x420140`).
    pub const CERTIFICATE_REQUEST_VALUE: Tag = Tag(0x420140);
    /// Log Message (`0x420141`).
    pub const LOG_MESSAGE: Tag = Tag(0x420141);
    /// Profile Version (`0x420142`).
    pub const PROFILE_VERSION: Tag = Tag(0x420142);
    /// Profile Version Major (`0x420143`).
    pub const PROFILE_VERSION_MAJOR: Tag = Tag(0x420143);
    /// Profile Version Minor (`0x420144`).
    pub const PROFILE_VERSION_MINOR: Tag = Tag(0x420144);
    /// Protection Level (`0x420145`).
    pub const PROTECTION_LEVEL: Tag = Tag(0x420145);
    /// Protection Period (`0x420146`).
    pub const PROTECTION_PERIOD: Tag = Tag(0x420146);
    /// Quantum Safe (`0x420147`).
    pub const QUANTUM_SAFE: Tag = Tag(0x420147);
    /// Quantum Safe Capability (`0x420148`).
    pub const QUANTUM_SAFE_CAPABILITY: Tag = Tag(0x420148);
    /// Ticket (`0x420149`).
    pub const TICKET: Tag = Tag(0x420149);
    /// Ticket Type (`0x42014A`).
    pub const TICKET_TYPE: Tag = Tag(0x42014A);
    /// Ticket Value (`0x42014B`).
    pub const TICKET_VALUE: Tag = Tag(0x42014B);
    /// Request Count (`0x42014C`).
    pub const REQUEST_COUNT: Tag = Tag(0x42014C);
    /// Rights (`0x42014D`).
    pub const RIGHTS: Tag = Tag(0x42014D);
    /// Objects (`0x42014E`).
    pub const OBJECTS: Tag = Tag(0x42014E);
    /// Operations (`0x42014F`).
    pub const OPERATIONS: Tag = Tag(0x42014F);
    /// Right (`0x420150`).
    pub const RIGHT: Tag = Tag(0x420150);
    /// Endpoint Role (`0x420151`).
    pub const ENDPOINT_ROLE: Tag = Tag(0x420151);
    /// Defaults Information (`0x420152`).
    pub const DEFAULTS_INFORMATION: Tag = Tag(0x420152);
    /// Object Defaults (`0x420153`).
    pub const OBJECT_DEFAULTS: Tag = Tag(0x420153);
    /// Ephemeral (`0x420154`).
    pub const EPHEMERAL: Tag = Tag(0x420154);
    /// Server Hashed Password (`0x420155`).
    pub const SERVER_HASHED_PASSWORD: Tag = Tag(0x420155);
    /// One Time Password (`0x420156`).
    pub const ONE_TIME_PASSWORD: Tag = Tag(0x420156);
    /// Hashed Password (`0x420157`).
    pub const HASHED_PASSWORD: Tag = Tag(0x420157);
    /// Adjustment Type (`0x420158`).
    pub const ADJUSTMENT_TYPE: Tag = Tag(0x420158);
    /// PKCS#11 Interface (`0x420159`).
    pub const PKCS_11_INTERFACE: Tag = Tag(0x420159);
    /// PKCS#11 Function (`0x42015A`).
    pub const PKCS_11_FUNCTION: Tag = Tag(0x42015A);
    /// PKCS#11 Input Parameters (`0x42015B`).
    pub const PKCS_11_INPUT_PARAMETERS: Tag = Tag(0x42015B);
    /// PKCS#11 Output Parameters (`0x42015C`).
    pub const PKCS_11_OUTPUT_PARAMETERS: Tag = Tag(0x42015C);
    /// PKCS#11 Return Code (`0x42015D`).
    pub const PKCS_11_RETURN_CODE: Tag = Tag(0x42015D);
    /// Protection Storage Mask (`0x42015E`).
    pub const PROTECTION_STORAGE_MASK: Tag = Tag(0x42015E);
    /// Protection Storage Masks (`0x42015F`).
    pub const PROTECTION_STORAGE_MASKS: Tag = Tag(0x42015F);
    /// Interop Function (`0x420160`).
    pub const INTEROP_FUNCTION: Tag = Tag(0x420160);
    /// Interop Identifier (`0x420161`).
    pub const INTEROP_IDENTIFIER: Tag = Tag(0x420161);
    /// Adjustment Value (`0x420162`).
    pub const ADJUSTMENT_VALUE: Tag = Tag(0x420162);
    /// Common Protection Storage Masks (`0x420163`).
    pub const COMMON_PROTECTION_STORAGE_MASKS: Tag = Tag(0x420163);
    /// Private Protection Storage Masks (`0x420164`).
    pub const PRIVATE_PROTECTION_STORAGE_MASKS: Tag = Tag(0x420164);
    /// Public Protection Storage Masks (`0x420165`).
    pub const PUBLIC_PROTECTION_STORAGE_MASKS: Tag = Tag(0x420165);
    /// Object Groups (`0x420166`).
    pub const OBJECT_GROUPS: Tag = Tag(0x420166);
    /// Object Types (`0x420167`).
    pub const OBJECT_TYPES: Tag = Tag(0x420167);
    /// Constraints (`0x420168`).
    pub const CONSTRAINTS: Tag = Tag(0x420168);
    /// Constraint (`0x420169`).
    pub const CONSTRAINT: Tag = Tag(0x420169);
    /// Rotate Interval (`0x42016A`).
    pub const ROTATE_INTERVAL: Tag = Tag(0x42016A);
    /// Rotate Automatic (`0x42016B`).
    pub const ROTATE_AUTOMATIC: Tag = Tag(0x42016B);
    /// Rotate Offset (`0x42016C`).
    pub const ROTATE_OFFSET: Tag = Tag(0x42016C);
    /// Rotate Date (`0x42016D`).
    pub const ROTATE_DATE: Tag = Tag(0x42016D);
    /// Rotate Generation (`0x42016E`).
    pub const ROTATE_GENERATION: Tag = Tag(0x42016E);
    /// Rotate Name (`0x42016F`).
    pub const ROTATE_NAME: Tag = Tag(0x42016F);
    /// Rotate Name Value (`0x420170`).
    pub const ROTATE_NAME_VALUE: Tag = Tag(0x420170);
    /// Rotate Name Type (`0x420171`).
    pub const ROTATE_NAME_TYPE: Tag = Tag(0x420171);
    /// Rotate Latest (`0x420172`).
    pub const ROTATE_LATEST: Tag = Tag(0x420172);
    /// Asynchronous Request (`0x420173`).
    pub const ASYNCHRONOUS_REQUEST: Tag = Tag(0x420173);
    /// Submission Date (`0x420174`).
    pub const SUBMISSION_DATE: Tag = Tag(0x420174);
    /// Processing Stage (`0x420175`).
    pub const PROCESSING_STAGE: Tag = Tag(0x420175);
    /// Asynchronous Correlation Values (`0x420176`).
    pub const ASYNCHRONOUS_CORRELATION_VALUES: Tag = Tag(0x420176);
}

/// The values and names of one KMIP enumeration or mask.
#[derive(Debug)]
pub struct NameTable {
    /// The normalised name of the enumeration, e.g. `ObjectType`.
    pub name: &'static str,
    /// Each defined value with its normalised name, sorted by value.
    pub values: &'static [(u32, &'static str)],
    /// Alternative spellings found in other versions of the spec, accepted on input.
    pub aliases: &'static [(&'static str, u32)],
}

static CREDENTIAL_TYPE: NameTable = NameTable {
    name: "CredentialType",
    values: &[
        (0x00000001, "UsernameAndPassword"),
        (0x00000002, "Device"),
        (0x00000003, "Attestation"),
        (0x00000004, "OneTimePassword"),
        (0x00000005, "HashedPassword"),
        (0x00000006, "Ticket"),
    ],
    aliases: &[],
};

static KEY_COMPRESSION_TYPE: NameTable = NameTable {
    name: "KeyCompressionType",
    values: &[
        (0x00000001, "ECPublicKeyTypeUncompressed"),
        (0x00000002, "ECPublicKeyTypeX9_62CompressedPrime"),
        (0x00000003, "ECPublicKeyTypeX9_62CompressedChar2"),
        (0x00000004, "ECPublicKeyTypeX9_62Hybrid"),
    ],
    aliases: &[],
};

static KEY_FORMAT_TYPE: NameTable = NameTable {
    name: "KeyFormatType",
    values: &[
        (0x00000001, "Raw"),
        (0x00000002, "Opaque"),
        (0x00000003, "PKCS_1"),
        (0x00000004, "PKCS_8"),
        (0x00000005, "X_509"),
        (0x00000006, "ECPrivateKey"),
        (0x00000007, "TransparentSymmetricKey"),
        (0x00000008, "TransparentDSAPrivateKey"),
        (0x00000009, "TransparentDSAPublicKey"),
        (0x0000000A, "TransparentRSAPrivateKey"),
        (0x0000000B, "TransparentRSAPublicKey"),
        (0x0000000C, "TransparentDHPrivateKey"),
        (0x0000000D, "TransparentDHPublicKey"),
        (0x0000000E, "TransparentECDSAPrivateKey"),
        (0x0000000F, "TransparentECDSAPublicKey"),
        (0x00000010, "TransparentECDHPrivateKey"),
        (0x00000011, "TransparentECDHPublicKey"),
        (0x00000012, "TransparentECMQVPrivateKey"),
        (0x00000013, "TransparentECMQVPublicKey"),
        (0x00000014, "TransparentECPrivateKey"),
        (0x00000015, "TransparentECPublicKey"),
        (0x00000016, "PKCS_12"),
        (0x00000017, "PKCS_10"),
    ],
    aliases: &[],
};

static WRAPPING_METHOD: NameTable = NameTable {
    name: "WrappingMethod",
    values: &[
        (0x00000001, "Encrypt"),
        (0x00000002, "MACSign"),
        (0x00000003, "EncryptThenMACSign"),
        (0x00000004, "MACSignThenEncrypt"),
        (0x00000005, "TR_31"),
    ],
    aliases: &[],
};

static RECOMMENDED_CURVE: NameTable = NameTable {
    name: "RecommendedCurve",
    values: &[
        (0x00000001, "P_192"),
        (0x00000002, "K_163"),
        (0x00000003, "B_163"),
        (0x00000004, "P_224"),
        (0x00000005, "K_233"),
        (0x00000006, "B_233"),
        (0x00000007, "P_256"),
        (0x00000008, "K_283"),
        (0x00000009, "B_283"),
        (0x0000000A, "P_384"),
        (0x0000000B, "K_409"),
        (0x0000000C, "B_409"),
        (0x0000000D, "P_521"),
        (0x0000000E, "K_571"),
        (0x0000000F, "B_571"),
        (0x00000010, "SECP112R1"),
        (0x00000011, "SECP112R2"),
        (0x00000012, "SECP128R1"),
        (0x00000013, "SECP128R2"),
        (0x00000014, "SECP160K1"),
        (0x00000015, "SECP160R1"),
        (0x00000016, "SECP160R2"),
        (0x00000017, "SECP192K1"),
        (0x00000018, "SECP224K1"),
        (0x00000019, "SECP256K1"),
        (0x0000001A, "SECT113R1"),
        (0x0000001B, "SECT113R2"),
        (0x0000001C, "SECT131R1"),
        (0x0000001D, "SECT131R2"),
        (0x0000001E, "SECT163R1"),
        (0x0000001F, "SECT193R1"),
        (0x00000020, "SECT193R2"),
        (0x00000021, "SECT239K1"),
        (0x00000022, "ANSIX9P192V2"),
        (0x00000023, "ANSIX9P192V3"),
        (0x00000024, "ANSIX9P239V1"),
        (0x00000025, "ANSIX9P239V2"),
        (0x00000026, "ANSIX9P239V3"),
        (0x00000027, "ANSIX9C2PNB163V1"),
        (0x00000028, "ANSIX9C2PNB163V2"),
        (0x00000029, "ANSIX9C2PNB163V3"),
        (0x0000002A, "ANSIX9C2PNB176V1"),
        (0x0000002B, "ANSIX9C2TNB191V1"),
        (0x0000002C, "ANSIX9C2TNB191V2"),
        (0x0000002D, "ANSIX9C2TNB191V3"),
        (0x0000002E, "ANSIX9C2PNB208W1"),
        (0x0000002F, "ANSIX9C2TNB239V1"),
        (0x00000030, "ANSIX9C2TNB239V2"),
        (0x00000031, "ANSIX9C2TNB239V3"),
        (0x00000032, "ANSIX9C2PNB272W1"),
        (0x00000033, "ANSIX9C2PNB304W1"),
        (0x00000034, "ANSIX9C2TNB359V1"),
        (0x00000035, "ANSIX9C2PNB368W1"),
        (0x00000036, "ANSIX9C2TNB431R1"),
        (0x00000037, "BRAINPOOLP160R1"),
        (0x00000038, "BRAINPOOLP160T1"),
        (0x00000039, "BRAINPOOLP192R1"),
        (0x0000003A, "BRAINPOOLP192T1"),
        (0x0000003B, "BRAINPOOLP224R1"),
        (0x0000003C, "BRAINPOOLP224T1"),
        (0x0000003D, "BRAINPOOLP256R1"),
        (0x0000003E, "BRAINPOOLP256T1"),
        (0x0000003F, "BRAINPOOLP320R1"),
        (0x00000040, "BRAINPOOLP320T1"),
        (0x00000041, "BRAINPOOLP384R1"),
        (0x00000042, "BRAINPOOLP384T1"),
        (0x00000043, "BRAINPOOLP512R1"),
        (0x00000044, "BRAINPOOLP512T1"),
        (0x00000045, "CURVE25519"),
        (0x00000046, "CURVE448"),
    ],
    aliases: &[],
};

static CERTIFICATE_TYPE: NameTable = NameTable {
    name: "CertificateType",
    values: &[(0x00000001, "X_509"), (0x00000002, "PGP")],
    aliases: &[],
};

static DIGITAL_SIGNATURE_ALGORITHM: NameTable = NameTable {
    name: "DigitalSignatureAlgorithm",
    values: &[
        (0x00000001, "MD2WithRSAEncryption"),
        (0x00000002, "MD5WithRSAEncryption"),
        (0x00000003, "SHA_1WithRSAEncryption"),
        (0x00000004, "SHA_224WithRSAEncryption"),
        (0x00000005, "SHA_256WithRSAEncryption"),
        (0x00000006, "SHA_384WithRSAEncryption"),
        (0x00000007, "SHA_512WithRSAEncryption"),
        (0x00000008, "RSASSA_PSS"),
        (0x00000009, "DSAWithSHA_1"),
        (0x0000000A, "DSAWithSHA224"),
        (0x0000000B, "DSAWithSHA256"),
        (0x0000000C, "ECDSAWithSHA_1"),
        (0x0000000D, "ECDSAWithSHA224"),
        (0x0000000E, "ECDSAWithSHA256"),
        (0x0000000F, "ECDSAWithSHA384"),
        (0x00000010, "ECDSAWithSHA512"),
        (0x00000011, "SHA3_256WithRSAEncryption"),
        (0x00000012, "SHA3_384WithRSAEncryption"),
        (0x00000013, "SHA3_512WithRSAEncryption"),
    ],
    aliases: &[],
};

static SPLIT_KEY_METHOD: NameTable = NameTable {
    name: "SplitKeyMethod",
    values: &[
        (0x00000001, "XOR"),
        (0x00000002, "PolynomialSharingGF2_16"),
        (0x00000003, "PolynomialSharingPrimeField"),
        (0x00000004, "PolynomialSharingGF2_8"),
    ],
    aliases: &[
        ("PolynomialSharingGF216", 0x00000002),
        ("PolynomialSharingGF28", 0x00000004),
    ],
};

static SECRET_DATA_TYPE: NameTable = NameTable {
    name: "SecretDataType",
    values: &[(0x00000001, "Password"), (0x00000002, "Seed")],
    aliases: &[],
};

static NAME_TYPE: NameTable = NameTable {
    name: "NameType",
    values: &[(0x00000001, "UninterpretedTextString"), (0x00000002, "URI")],
    aliases: &[],
};

static OBJECT_TYPE: NameTable = NameTable {
    name: "ObjectType",
    values: &[
        (0x00000001, "Certificate"),
        (0x00000002, "SymmetricKey"),
        (0x00000003, "PublicKey"),
        (0x00000004, "PrivateKey"),
        (0x00000005, "SplitKey"),
        (0x00000006, "Template"),
        (0x00000007, "SecretData"),
        (0x00000008, "OpaqueObject"),
        (0x00000009, "PGPKey"),
        (0x0000000A, "CertificateRequest"),
    ],
    aliases: &[],
};

static CRYPTOGRAPHIC_ALGORITHM: NameTable = NameTable {
    name: "CryptographicAlgorithm",
    values: &[
        (0x00000001, "DES"),
        (0x00000002, "DES3"),
        (0x00000003, "AES"),
        (0x00000004, "RSA"),
        (0x00000005, "DSA"),
        (0x00000006, "ECDSA"),
        (0x00000007, "HMAC_SHA1"),
        (0x00000008, "HMAC_SHA224"),
        (0x00000009, "HMAC_SHA256"),
        (0x0000000A, "HMAC_SHA384"),
        (0x0000000B, "HMAC_SHA512"),
        (0x0000000C, "HMAC_MD5"),
        (0x0000000D, "DH"),
        (0x0000000E, "ECDH"),
        (0x0000000F, "ECMQV"),
        (0x00000010, "Blowfish"),
        (0x00000011, "Camellia"),
        (0x00000012, "CAST5"),
        (0x00000013, "IDEA"),
        (0x00000014, "MARS"),
        (0x00000015, "RC2"),
        (0x00000016, "RC4"),
        (0x00000017, "RC5"),
        (0x00000018, "SKIPJACK"),
        (0x00000019, "Twofish"),
        (0x0000001A, "EC"),
        (0x0000001B, "OneTimePad"),
        (0x0000001C, "ChaCha20"),
        (0x0000001D, "Poly1305"),
        (0x0000001E, "ChaCha20Poly1305"),
        (0x0000001F, "SHA3_224"),
        (0x00000020, "SHA3_256"),
        (0x00000021, "SHA3_384"),
        (0x00000022, "SHA3_512"),
        (0x00000023, "HMAC_SHA3_224"),
        (0x00000024, "HMAC_SHA3_256"),
        (0x00000025, "HMAC_SHA3_384"),
        (0x00000026, "HMAC_SHA3_512"),
        (0x00000027, "SHAKE_128"),
        (0x00000028, "SHAKE_256"),
        (0x00000029, "ARIA"),
        (0x0000002A, "SEED"),
        (0x0000002B, "SM2"),
        (0x0000002C, "SM3"),
        (0x0000002D, "SM4"),
        (0x0000002E, "GOSTR34_10_2012"),
        (0x0000002F, "GOSTR34_11_2012"),
        (0x00000030, "GOSTR34_13_2015"),
        (0x00000031, "GOST28147_89"),
        (0x00000032, "XMSS"),
        (0x00000033, "SPHINCS_256"),
        (0x00000034, "McEliece"),
        (0x00000035, "McEliece_6960119"),
        (0x00000036, "McEliece_8192128"),
        (0x00000037, "Ed25519"),
        (0x00000038, "Ed448"),
    ],
    aliases: &[],
};

static BLOCK_CIPHER_MODE: NameTable = NameTable {
    name: "BlockCipherMode",
    values: &[
        (0x00000001, "CBC"),
        (0x00000002, "ECB"),
        (0x00000003, "PCBC"),
        (0x00000004, "CFB"),
        (0x00000005, "OFB"),
        (0x00000006, "CTR"),
        (0x00000007, "CMAC"),
        (0x00000008, "CCM"),
        (0x00000009, "GCM"),
        (0x0000000A, "CBC_MAC"),
        (0x0000000B, "XTS"),
        (0x0000000C, "AESKeyWrapPadding"),
        (0x0000000D, "NISTKeyWrap"),
        (0x0000000E, "X9_102AESKW"),
        (0x0000000F, "X9_102TDKW"),
        (0x00000010, "X9_102AKW1"),
        (0x00000011, "X9_102AKW2"),
        (0x00000012, "AEAD"),
    ],
    aliases: &[],
};

static PADDING_METHOD: NameTable = NameTable {
    name: "PaddingMethod",
    values: &[
        (0x00000001, "None"),
        (0x00000002, "OAEP"),
        (0x00000003, "PKCS5"),
        (0x00000004, "SSL3"),
        (0x00000005, "Zeros"),
        (0x00000006, "ANSIX9_23"),
        (0x00000007, "ISO10126"),
        (0x00000008, "PKCS1V1_5"),
        (0x00000009, "X9_31"),
        (0x0000000A, "PSS"),
    ],
    aliases: &[],
};

static HASHING_ALGORITHM: NameTable = NameTable {
    name: "HashingAlgorithm",
    values: &[
        (0x00000001, "MD2"),
        (0x00000002, "MD4"),
        (0x00000003, "MD5"),
        (0x00000004, "SHA_1"),
        (0x00000005, "SHA_224"),
        (0x00000006, "SHA_256"),
        (0x00000007, "SHA_384"),
        (0x00000008, "SHA_512"),
        (0x00000009, "RIPEMD_160"),
        (0x0000000A, "Tiger"),
        (0x0000000B, "Whirlpool"),
        (0x0000000C, "SHA_512_224"),
        (0x0000000D, "SHA_512_256"),
        (0x0000000E, "SHA_3_224"),
        (0x0000000F, "SHA_3_256"),
        (0x00000010, "SHA_3_384"),
        (0x00000011, "SHA_3_512"),
    ],
    aliases: &[
        ("SHA3_224", 0x0000000E),
        ("SHA3_256", 0x0000000F),
        ("SHA3_384", 0x00000010),
        ("SHA3_512", 0x00000011),
    ],
};

static KEY_ROLE_TYPE: NameTable = NameTable {
    name: "KeyRoleType",
    values: &[
        (0x00000001, "BDK"),
        (0x00000002, "CVK"),
        (0x00000003, "DEK"),
        (0x00000004, "MKAC"),
        (0x00000005, "MKSMC"),
        (0x00000006, "MKSMI"),
        (0x00000007, "MKDAC"),
        (0x00000008, "MKDN"),
        (0x00000009, "MKCP"),
        (0x0000000A, "MKOTH"),
        (0x0000000B, "KEK"),
        (0x0000000C, "MAC16609"),
        (0x0000000D, "MAC97971"),
        (0x0000000E, "MAC97972"),
        (0x0000000F, "MAC97973"),
        (0x00000010, "MAC97974"),
        (0x00000011, "MAC97975"),
        (0x00000012, "ZPK"),
        (0x00000013, "PVKIBM"),
        (0x00000014, "PVKPVV"),
        (0x00000015, "PVKOTH"),
        (0x00000016, "DUKPT"),
        (0x00000017, "IV"),
        (0x00000018, "TRKBK"),
    ],
    aliases: &[],
};

static STATE: NameTable = NameTable {
    name: "State",
    values: &[
        (0x00000001, "PreActive"),
        (0x00000002, "Active"),
        (0x00000003, "Deactivated"),
        (0x00000004, "Compromised"),
        (0x00000005, "Destroyed"),
        (0x00000006, "DestroyedCompromised"),
    ],
    aliases: &[],
};

static REVOCATION_REASON_CODE: NameTable = NameTable {
    name: "RevocationReasonCode",
    values: &[
        (0x00000001, "Unspecified"),
        (0x00000002, "KeyCompromise"),
        (0x00000003, "CACompromise"),
        (0x00000004, "AffiliationChanged"),
        (0x00000005, "Superseded"),
        (0x00000006, "CessationOfOperation"),
        (0x00000007, "PrivilegeWithdrawn"),
    ],
    aliases: &[],
};

static LINK_TYPE: NameTable = NameTable {
    name: "LinkType",
    values: &[
        (0x00000101, "CertificateLink"),
        (0x00000102, "PublicKeyLink"),
        (0x00000103, "PrivateKeyLink"),
        (0x00000104, "DerivationBaseObjectLink"),
        (0x00000105, "DerivedKeyLink"),
        (0x00000106, "ReplacementObjectLink"),
        (0x00000107, "ReplacedObjectLink"),
        (0x00000108, "ParentLink"),
        (0x00000109, "ChildLink"),
        (0x0000010A, "PreviousLink"),
        (0x0000010B, "NextLink"),
        (0x0000010C, "PKCS_12CertificateLink"),
        (0x0000010D, "PKCS_12PasswordLink"),
        (0x0000010E, "WrappingKeyLink"),
    ],
    aliases: &[],
};

static DERIVATION_METHOD: NameTable = NameTable {
    name: "DerivationMethod",
    values: &[
        (0x00000001, "PBKDF2"),
        (0x00000002, "HASH"),
        (0x00000003, "HMAC"),
        (0x00000004, "ENCRYPT"),
        (0x00000005, "NIST800_108_C"),
        (0x00000006, "NIST800_108_F"),
        (0x00000007, "NIST800_108_DPI"),
        (0x00000008, "AsymmetricKey"),
        (0x00000009, "AWSSignatureVersion4"),
        (0x0000000A, "HKDF"),
    ],
    aliases: &[],
};

static CERTIFICATE_REQUEST_TYPE: NameTable = NameTable {
    name: "CertificateRequestType",
    values: &[
        (0x00000001, "CRMF"),
        (0x00000002, "PKCS_10"),
        (0x00000003, "PEM"),
        (0x00000004, "PGP"),
    ],
    aliases: &[],
};

static VALIDITY_INDICATOR: NameTable = NameTable {
    name: "ValidityIndicator",
    values: &[
        (0x00000001, "Valid"),
        (0x00000002, "Invalid"),
        (0x00000003, "Unknown"),
    ],
    aliases: &[],
};

static QUERY_FUNCTION: NameTable = NameTable {
    name: "QueryFunction",
    values: &[
        (0x00000001, "QueryOperations"),
        (0x00000002, "QueryObjects"),
        (0x00000003, "QueryServerInformation"),
        (0x00000004, "QueryApplicationNamespaces"),
        (0x00000005, "QueryExtensionList"),
        (0x00000006, "QueryExtensionMap"),
        (0x00000007, "QueryAttestationTypes"),
        (0x00000008, "QueryRNGs"),
        (0x00000009, "QueryValidations"),
        (0x0000000A, "QueryProfiles"),
        (0x0000000B, "QueryCapabilities"),
        (0x0000000C, "QueryClientRegistrationMethods"),
        (0x0000000D, "QueryDefaultsInformation"),
        (0x0000000E, "QueryStorageProtectionMasks"),
    ],
    aliases: &[],
};

static CANCELLATION_RESULT: NameTable = NameTable {
    name: "CancellationResult",
    values: &[
        (0x00000001, "Canceled"),
        (0x00000002, "UnableToCancel"),
        (0x00000003, "Completed"),
        (0x00000004, "Failed"),
        (0x00000005, "Unavailable"),
    ],
    aliases: &[],
};

static PUT_FUNCTION: NameTable = NameTable {
    name: "PutFunction",
    values: &[(0x00000001, "New"), (0x00000002, "Replace")],
    aliases: &[],
};

static OPERATION: NameTable = NameTable {
    name: "Operation",
    values: &[
        (0x00000001, "Create"),
        (0x00000002, "CreateKeyPair"),
        (0x00000003, "Register"),
        (0x00000004, "ReKey"),
        (0x00000005, "DeriveKey"),
        (0x00000006, "Certify"),
        (0x00000007, "ReCertify"),
        (0x00000008, "Locate"),
        (0x00000009, "Check"),
        (0x0000000A, "Get"),
        (0x0000000B, "GetAttributes"),
        (0x0000000C, "GetAttributeList"),
        (0x0000000D, "AddAttribute"),
        (0x0000000E, "ModifyAttribute"),
        (0x0000000F, "DeleteAttribute"),
        (0x00000010, "ObtainLease"),
        (0x00000011, "GetUsageAllocation"),
        (0x00000012, "Activate"),
        (0x00000013, "Revoke"),
        (0x00000014, "Destroy"),
        (0x00000015, "Archive"),
        (0x00000016, "Recover"),
        (0x00000017, "Validate"),
        (0x00000018, "Query"),
        (0x00000019, "Cancel"),
        (0x0000001A, "Poll"),
        (0x0000001B, "Notify"),
        (0x0000001C, "Put"),
        (0x0000001D, "ReKeyKeyPair"),
        (0x0000001E, "DiscoverVersions"),
        (0x0000001F, "Encrypt"),
        (0x00000020, "Decrypt"),
        (0x00000021, "Sign"),
        (0x00000022, "SignatureVerify"),
        (0x00000023, "MAC"),
        (0x00000024, "MACVerify"),
        (0x00000025, "RNGRetrieve"),
        (0x00000026, "RNGSeed"),
        (0x00000027, "Hash"),
        (0x00000028, "CreateSplitKey"),
        (0x00000029, "JoinSplitKey"),
        (0x0000002A, "Import"),
        (0x0000002B, "Export"),
        (0x0000002C, "Log"),
        (0x0000002D, "Login"),
        (0x0000002E, "Logout"),
        (0x0000002F, "DelegatedLogin"),
        (0x00000030, "AdjustAttribute"),
        (0x00000031, "SetAttribute"),
        (0x00000032, "SetEndpointRole"),
        (0x00000033, "PKCS_11"),
        (0x00000034, "Interop"),
        (0x00000035, "ReProvision"),
        (0x00000036, "SetDefaults"),
        (0x00000037, "SetConstraints"),
        (0x00000038, "GetConstraints"),
        (0x00000039, "QueryAsynchronousRequests"),
        (0x0000003A, "Process"),
        (0x0000003B, "Ping"),
    ],
    aliases: &[],
};

static RESULT_STATUS: NameTable = NameTable {
    name: "ResultStatus",
    values: &[
        (0x00000000, "Success"),
        (0x00000001, "OperationFailed"),
        (0x00000002, "OperationPending"),
        (0x00000003, "OperationUndone"),
    ],
    aliases: &[],
};

static RESULT_REASON: NameTable = NameTable {
    name: "ResultReason",
    values: &[
        (0x00000001, "ItemNotFound"),
        (0x00000002, "ResponseTooLarge"),
        (0x00000003, "AuthenticationNotSuccessful"),
        (0x00000004, "InvalidMessage"),
        (0x00000005, "OperationNotSupported"),
        (0x00000006, "MissingData"),
        (0x00000007, "InvalidField"),
        (0x00000008, "FeatureNotSupported"),
        (0x00000009, "OperationCanceledByRequester"),
        (0x0000000A, "CryptographicFailure"),
        (0x0000000B, "IllegalOperation"),
        (0x0000000C, "PermissionDenied"),
        (0x0000000D, "ObjectArchived"),
        (0x0000000E, "IndexOutOfBounds"),
        (0x0000000F, "ApplicationNamespaceNotSupported"),
        (0x00000010, "KeyFormatTypeNotSupported"),
        (0x00000011, "KeyCompressionTypeNotSupported"),
        (0x00000012, "EncodingOptionError"),
        (0x00000013, "KeyValueNotPresent"),
        (0x00000014, "AttestationRequired"),
        (0x00000015, "AttestationFailed"),
        (0x00000016, "Sensitive"),
        (0x00000017, "NotExtractable"),
        (0x00000018, "ObjectAlreadyExists"),
        (0x00000019, "InvalidTicket"),
        (0x0000001A, "UsageLimitExceeded"),
        (0x0000001B, "NumericRange"),
        (0x0000001C, "InvalidDataType"),
        (0x0000001D, "ReadOnlyAttribute"),
        (0x0000001E, "MultiValuedAttribute"),
        (0x0000001F, "UnsupportedAttribute"),
        (0x00000020, "AttributeInstanceNotFound"),
        (0x00000021, "AttributeNotFound"),
        (0x00000022, "AttributeReadOnly"),
        (0x00000023, "AttributeSingleValued"),
        (0x00000024, "BadCryptographicParameters"),
        (0x00000025, "BadPassword"),
        (0x00000026, "CodecError"),
        (0x00000028, "IllegalObjectType"),
        (0x00000029, "IncompatibleCryptographicUsageMask"),
        (0x0000002A, "InternalServerError"),
        (0x0000002B, "InvalidAsynchronousCorrelationValue"),
        (0x0000002C, "InvalidAttribute"),
        (0x0000002D, "InvalidAttributeValue"),
        (0x0000002E, "InvalidCorrelationValue"),
        (0x0000002F, "InvalidCSR"),
        (0x00000030, "InvalidObjectType"),
        (0x00000032, "KeyWrapTypeNotSupported"),
        (0x00000034, "MissingInitializationVector"),
        (0x00000035, "NonUniqueNameAttribute"),
        (0x00000036, "ObjectDestroyed"),
        (0x00000037, "ObjectNotFound"),
        (0x00000039, "NotAuthorised"),
        (0x0000003A, "ServerLimitExceeded"),
        (0x0000003B, "UnknownEnumeration"),
        (0x0000003C, "UnknownMessageExtension"),
        (0x0000003D, "UnknownTag"),
        (0x0000003E, "UnsupportedCryptographicParameters"),
        (0x0000003F, "UnsupportedProtocolVersion"),
        (0x00000040, "WrappingObjectArchived"),
        (0x00000041, "WrappingObjectDestroyed"),
        (0x00000042, "WrappingObjectNotFound"),
        (0x00000043, "WrongKeyLifecycleState"),
        (0x00000044, "ProtectionStorageUnavailable"),
        (0x00000045, "PKCS_11CodecError"),
        (0x00000046, "PKCS_11InvalidFunction"),
        (0x00000047, "PKCS_11InvalidInterface"),
        (0x00000048, "PrivateProtectionStorageUnavailable"),
        (0x00000049, "PublicProtectionStorageUnavailable"),
        (0x0000004A, "UnknownObjectGroup"),
        (0x0000004B, "ConstraintViolation"),
        (0x0000004C, "DuplicateProcessRequest"),
        (0x00000100, "GeneralFailure"),
    ],
    aliases: &[],
};

static BATCH_ERROR_CONTINUATION_OPTION: NameTable = NameTable {
    name: "BatchErrorContinuationOption",
    values: &[
        (0x00000001, "Continue"),
        (0x00000002, "Stop"),
        (0x00000003, "Undo"),
    ],
    aliases: &[],
};

static USAGE_LIMITS_UNIT: NameTable = NameTable {
    name: "UsageLimitsUnit",
    values: &[(0x00000001, "Byte"), (0x00000002, "Object")],
    aliases: &[],
};

static ENCODING_OPTION: NameTable = NameTable {
    name: "EncodingOption",
    values: &[(0x00000001, "NoEncoding"), (0x00000002, "TTLVEncoding")],
    aliases: &[],
};

static OBJECT_GROUP_MEMBER: NameTable = NameTable {
    name: "ObjectGroupMember",
    values: &[
        (0x00000001, "GroupMemberFresh"),
        (0x00000002, "GroupMemberDefault"),
    ],
    aliases: &[],
};

static ALTERNATIVE_NAME_TYPE: NameTable = NameTable {
    name: "AlternativeNameType",
    values: &[
        (0x00000001, "UninterpretedTextString"),
        (0x00000002, "URI"),
        (0x00000003, "ObjectSerialNumber"),
        (0x00000004, "EmailAddress"),
        (0x00000005, "DNSName"),
        (0x00000006, "X_500DistinguishedName"),
        (0x00000007, "IPAddress"),
    ],
    aliases: &[],
};

static KEY_VALUE_LOCATION_TYPE: NameTable = NameTable {
    name: "KeyValueLocationType",
    values: &[(0x00000001, "UninterpretedTextString"), (0x00000002, "URI")],
    aliases: &[],
};

static ATTESTATION_TYPE: NameTable = NameTable {
    name: "AttestationType",
    values: &[
        (0x00000001, "TPMQuote"),
        (0x00000002, "TCGIntegrityReport"),
        (0x00000003, "SAMLAssertion"),
    ],
    aliases: &[],
};

static RNG_ALGORITHM: NameTable = NameTable {
    name: "RNGAlgorithm",
    values: &[
        (0x00000001, "Unspecified"),
        (0x00000002, "FIPS186_2"),
        (0x00000003, "DRBG"),
        (0x00000004, "NRBG"),
        (0x00000005, "ANSIX9_31"),
        (0x00000006, "ANSIX9_62"),
    ],
    aliases: &[],
};

static DRBG_ALGORITHM: NameTable = NameTable {
    name: "DRBGAlgorithm",
    values: &[
        (0x00000001, "Unspecified"),
        (0x00000002, "Dual_EC"),
        (0x00000003, "Hash"),
        (0x00000004, "HMAC"),
        (0x00000005, "CTR"),
    ],
    aliases: &[],
};

static FIPS186_VARIATION: NameTable = NameTable {
    name: "FIPS186Variation",
    values: &[
        (0x00000001, "Unspecified"),
        (0x00000002, "GPXOriginal"),
        (0x00000003, "GPXChangeNotice"),
        (0x00000004, "XOriginal"),
        (0x00000005, "XChangeNotice"),
        (0x00000006, "KOriginal"),
        (0x00000007, "KChangeNotice"),
    ],
    aliases: &[],
};

static VALIDATION_AUTHORITY_TYPE: NameTable = NameTable {
    name: "ValidationAuthorityType",
    values: &[
        (0x00000001, "Unspecified"),
        (0x00000002, "NISTCMVP"),
        (0x00000003, "CommonCriteria"),
    ],
    aliases: &[],
};

static VALIDATION_TYPE: NameTable = NameTable {
    name: "ValidationType",
    values: &[
        (0x00000001, "Unspecified"),
        (0x00000002, "Hardware"),
        (0x00000003, "Software"),
        (0x00000004, "Firmware"),
        (0x00000005, "Hybrid"),
    ],
    aliases: &[],
};

static PROFILE_NAME: NameTable = NameTable {
    name: "ProfileName",
    values: &[
        (0x00000001, "BaselineServerBasicKMIPV1_2"),
        (0x00000002, "BaselineServerTLSV1_2KMIPV1_2"),
        (0x00000003, "BaselineClientBasicKMIPV1_2"),
        (0x00000004, "BaselineClientTLSV1_2KMIPV1_2"),
        (0x00000005, "CompleteServerBasicKMIPV1_2"),
        (0x00000006, "CompleteServerTLSV1_2KMIPV1_2"),
        (0x00000007, "TapeLibraryClientKMIPV1_0"),
        (0x00000008, "TapeLibraryClientKMIPV1_1"),
        (0x00000009, "TapeLibraryClientKMIPV1_2"),
        (0x0000000A, "TapeLibraryServerKMIPV1_0"),
        (0x0000000B, "TapeLibraryServerKMIPV1_1"),
        (0x0000000C, "TapeLibraryServerKMIPV1_2"),
        (0x0000000D, "SymmetricKeyLifecycleClientKMIPV1_0"),
        (0x0000000E, "SymmetricKeyLifecycleClientKMIPV1_1"),
        (0x0000000F, "SymmetricKeyLifecycleClientKMIPV1_2"),
        (0x00000010, "SymmetricKeyLifecycleServerKMIPV1_0"),
        (0x00000011, "SymmetricKeyLifecycleServerKMIPV1_1"),
        (0x00000012, "SymmetricKeyLifecycleServerKMIPV1_2"),
        (0x00000013, "AsymmetricKeyLifecycleClientKMIPV1_0"),
        (0x00000014, "AsymmetricKeyLifecycleClientKMIPV1_1"),
        (0x00000015, "AsymmetricKeyLifecycleClientKMIPV1_2"),
        (0x00000016, "AsymmetricKeyLifecycleServerKMIPV1_0"),
        (0x00000017, "AsymmetricKeyLifecycleServerKMIPV1_1"),
        (0x00000018, "AsymmetricKeyLifecycleServerKMIPV1_2"),
        (0x00000019, "BasicCryptographicClientKMIPV1_2"),
        (0x0000001A, "BasicCryptographicServerKMIPV1_2"),
        (0x0000001B, "AdvancedCryptographicClientKMIPV1_2"),
        (0x0000001C, "AdvancedCryptographicServerKMIPV1_2"),
        (0x0000001D, "RNGCryptographicClientKMIPV1_2"),
        (0x0000001E, "RNGCryptographicServerKMIPV1_2"),
        (0x0000001F, "BasicSymmetricKeyFoundryClientKMIPV1_0"),
        (0x00000020, "IntermediateSymmetricKeyFoundryClientKMIPV1_0"),
        (0x00000021, "AdvancedSymmetricKeyFoundryClientKMIPV1_0"),
        (0x00000022, "BasicSymmetricKeyFoundryClientKMIPV1_1"),
        (0x00000023, "IntermediateSymmetricKeyFoundryClientKMIPV1_1"),
        (0x00000024, "AdvancedSymmetricKeyFoundryClientKMIPV1_1"),
        (0x00000025, "BasicSymmetricKeyFoundryClientKMIPV1_2"),
        (0x00000026, "IntermediateSymmetricKeyFoundryClientKMIPV1_2"),
        (0x00000027, "AdvancedSymmetricKeyFoundryClientKMIPV1_2"),
        (0x00000028, "SymmetricKeyFoundryServerKMIPV1_0"),
        (0x00000029, "SymmetricKeyFoundryServerKMIPV1_1"),
        (0x0000002A, "SymmetricKeyFoundryServerKMIPV1_2"),
        (0x0000002B, "OpaqueManagedObjectStoreClientKMIPV1_0"),
        (0x0000002C, "OpaqueManagedObjectStoreClientKMIPV1_1"),
        (0x0000002D, "OpaqueManagedObjectStoreClientKMIPV1_2"),
        (0x0000002E, "OpaqueManagedObjectStoreServerKMIPV1_0"),
        (0x0000002F, "OpaqueManagedObjectStoreServerKMIPV1_1"),
        (0x00000030, "OpaqueManagedObjectStoreServerKMIPV1_2"),
        (0x00000031, "SuiteBMinLOS_128ClientKMIPV1_0"),
        (0x00000032, "SuiteBMinLOS_128ClientKMIPV1_1"),
        (0x00000033, "SuiteBMinLOS_128ClientKMIPV1_2"),
        (0x00000034, "SuiteBMinLOS_128ServerKMIPV1_0"),
        (0x00000035, "SuiteBMinLOS_128ServerKMIPV1_1"),
        (0x00000036, "SuiteBMinLOS_128ServerKMIPV1_2"),
        (0x00000037, "SuiteBMinLOS_192ClientKMIPV1_0"),
        (0x00000038, "SuiteBMinLOS_192ClientKMIPV1_1"),
        (0x00000039, "SuiteBMinLOS_192ClientKMIPV1_2"),
        (0x0000003A, "SuiteBMinLOS_192ServerKMIPV1_0"),
        (0x0000003B, "SuiteBMinLOS_192ServerKMIPV1_1"),
        (0x0000003C, "SuiteBMinLOS_192ServerKMIPV1_2"),
        (
            0x0000003D,
            "StorageArrayWithSelfEncryptingDriveClientKMIPV1_0",
        ),
        (
            0x0000003E,
            "StorageArrayWithSelfEncryptingDriveClientKMIPV1_1",
        ),
        (
            0x0000003F,
            "StorageArrayWithSelfEncryptingDriveClientKMIPV1_2",
        ),
        (
            0x00000040,
            "StorageArrayWithSelfEncryptingDriveServerKMIPV1_0",
        ),
        (
            0x00000041,
            "StorageArrayWithSelfEncryptingDriveServerKMIPV1_1",
        ),
        (
            0x00000042,
            "StorageArrayWithSelfEncryptingDriveServerKMIPV1_2",
        ),
        (0x00000043, "HTTPSClientKMIPV1_0"),
        (0x00000044, "HTTPSClientKMIPV1_1"),
        (0x00000045, "HTTPSClientKMIPV1_2"),
        (0x00000046, "HTTPSServerKMIPV1_0"),
        (0x00000047, "HTTPSServerKMIPV1_1"),
        (0x00000048, "HTTPSServerKMIPV1_2"),
        (0x00000049, "JSONClientKMIPV1_0"),
        (0x0000004A, "JSONClientKMIPV1_1"),
        (0x0000004B, "JSONClientKMIPV1_2"),
        (0x0000004C, "JSONServerKMIPV1_0"),
        (0x0000004D, "JSONServerKMIPV1_1"),
        (0x0000004E, "JSONServerKMIPV1_2"),
        (0x0000004F, "XMLClientKMIPV1_0"),
        (0x00000050, "XMLClientKMIPV1_1"),
        (0x00000051, "XMLClientKMIPV1_2"),
        (0x00000052, "XMLServerKMIPV1_0"),
        (0x00000053, "XMLServerKMIPV1_1"),
        (0x00000054, "XMLServerKMIPV1_2"),
        (0x00000055, "BaselineServerBasicKMIPV1_3"),
        (0x00000056, "BaselineServerTLSV1_2KMIPV1_3"),
        (0x00000057, "BaselineClientBasicKMIPV1_3"),
        (0x00000058, "BaselineClientTLSV1_2KMIPV1_3"),
        (0x00000059, "CompleteServerBasicKMIPV1_3"),
        (0x0000005A, "CompleteServerTLSV1_2KMIPV1_3"),
        (0x0000005B, "TapeLibraryClientKMIPV1_3"),
        (0x0000005C, "TapeLibraryServerKMIPV1_3"),
        (0x0000005D, "SymmetricKeyLifecycleClientKMIPV1_3"),
        (0x0000005E, "SymmetricKeyLifecycleServerKMIPV1_3"),
        (0x0000005F, "AsymmetricKeyLifecycleClientKMIPV1_3"),
        (0x00000060, "AsymmetricKeyLifecycleServerKMIPV1_3"),
        (0x00000061, "BasicCryptographicClientKMIPV1_3"),
        (0x00000062, "BasicCryptographicServerKMIPV1_3"),
        (0x00000063, "AdvancedCryptographicClientKMIPV1_3"),
        (0x00000064, "AdvancedCryptographicServerKMIPV1_3"),
        (0x00000065, "RNGCryptographicClientKMIPV1_3"),
        (0x00000066, "RNGCryptographicServerKMIPV1_3"),
        (0x00000067, "BasicSymmetricKeyFoundryClientKMIPV1_3"),
        (0x00000068, "IntermediateSymmetricKeyFoundryClientKMIPV1_3"),
        (0x00000069, "AdvancedSymmetricKeyFoundryClientKMIPV1_3"),
        (0x0000006A, "SymmetricKeyFoundryServerKMIPV1_3"),
        (0x0000006B, "OpaqueManagedObjectStoreClientKMIPV1_3"),
        (0x0000006C, "OpaqueManagedObjectStoreServerKMIPV1_3"),
        (0x0000006D, "SuiteBMinLOS_128ClientKMIPV1_3"),
        (0x0000006E, "SuiteBMinLOS_128ServerKMIPV1_3"),
        (0x0000006F, "SuiteBMinLOS_192ClientKMIPV1_3"),
        (0x00000070, "SuiteBMinLOS_192ServerKMIPV1_3"),
        (
            0x00000071,
            "StorageArrayWithSelfEncryptingDriveClientKMIPV1_3",
        ),
        (
            0x00000072,
            "StorageArrayWithSelfEncryptingDriveServerKMIPV1_3",
        ),
        (0x00000073, "HTTPSClientKMIPV1_3"),
        (0x00000074, "HTTPSServerKMIPV1_3"),
        (0x00000075, "JSONClientKMIPV1_3"),
        (0x00000076, "JSONServerKMIPV1_3"),
        (0x00000077, "XMLClientKMIPV1_3"),
        (0x00000078, "XMLServerKMIPV1_3"),
        (0x00000079, "BaselineServerBasicKMIPV1_4"),
        (0x0000007A, "BaselineServerTLSV1_2KMIPV1_4"),
        (0x0000007B, "BaselineClientBasicKMIPV1_4"),
        (0x0000007C, "BaselineClientTLSV1_2KMIPV1_4"),
        (0x0000007D, "CompleteServerBasicKMIPV1_4"),
        (0x0000007E, "CompleteServerTLSV1_2KMIPV1_4"),
        (0x0000007F, "TapeLibraryClientKMIPV1_4"),
        (0x00000080, "TapeLibraryServerKMIPV1_4"),
        (0x00000081, "SymmetricKeyLifecycleClientKMIPV1_4"),
        (0x00000082, "SymmetricKeyLifecycleServerKMIPV1_4"),
        (0x00000083, "AsymmetricKeyLifecycleClientKMIPV1_4"),
        (0x00000084, "AsymmetricKeyLifecycleServerKMIPV1_4"),
        (0x00000085, "BasicCryptographicClientKMIPV1_4"),
        (0x00000086, "BasicCryptographicServerKMIPV1_4"),
        (0x00000087, "AdvancedCryptographicClientKMIPV1_4"),
        (0x00000088, "AdvancedCryptographicServerKMIPV1_4"),
        (0x00000089, "RNGCryptographicClientKMIPV1_4"),
        (0x0000008A, "RNGCryptographicServerKMIPV1_4"),
        (0x0000008B, "BasicSymmetricKeyFoundryClientKMIPV1_4"),
        (0x0000008C, "IntermediateSymmetricKeyFoundryClientKMIPV1_4"),
        (0x0000008D, "AdvancedSymmetricKeyFoundryClientKMIPV1_4"),
        (0x0000008E, "SymmetricKeyFoundryServerKMIPV1_4"),
        (0x0000008F, "OpaqueManagedObjectStoreClientKMIPV1_4"),
        (0x00000090, "OpaqueManagedObjectStoreServerKMIPV1_4"),
        (0x00000091, "SuiteBMinLOS_128ClientKMIPV1_4"),
        (0x00000092, "SuiteBMinLOS_128ServerKMIPV1_4"),
        (0x00000093, "SuiteBMinLOS_192ClientKMIPV1_4"),
        (0x00000094, "SuiteBMinLOS_192ServerKMIPV1_4"),
        (
            0x00000095,
            "StorageArrayWithSelfEncryptingDriveClientKMIPV1_4",
        ),
        (
            0x00000096,
            "StorageArrayWithSelfEncryptingDriveServerKMIPV1_4",
        ),
        (0x00000097, "HTTPSClientKMIPV1_4"),
        (0x00000098, "HTTPSServerKMIPV1_4"),
        (0x00000099, "JSONClientKMIPV1_4"),
        (0x0000009A, "JSONServerKMIPV1_4"),
        (0x0000009B, "XMLClientKMIPV1_4"),
        (0x0000009C, "XMLServerKMIPV1_4"),
        (0x00000104, "CompleteServerBasic"),
        (0x00000105, "CompleteServerTLSV1_2"),
        (0x00000106, "TapeLibraryClient"),
        (0x00000107, "TapeLibraryServer"),
        (0x00000108, "SymmetricKeyLifecycleClient"),
        (0x00000109, "SymmetricKeyLifecycleServer"),
        (0x0000010A, "AsymmetricKeyLifecycleClient"),
        (0x0000010B, "AsymmetricKeyLifecycleServer"),
        (0x0000010C, "BasicCryptographicClient"),
        (0x0000010D, "BasicCryptographicServer"),
        (0x0000010E, "AdvancedCryptographicClient"),
        (0x0000010F, "AdvancedCryptographicServer"),
        (0x00000110, "RNGCryptographicClient"),
        (0x00000111, "RNGCryptographicServer"),
        (0x00000112, "BasicSymmetricKeyFoundryClient"),
        (0x00000113, "IntermediateSymmetricKeyFoundryClient"),
        (0x00000114, "AdvancedSymmetricKeyFoundryClient"),
        (0x00000115, "SymmetricKeyFoundryServer"),
        (0x00000116, "OpaqueManagedObjectStoreClient"),
        (0x00000117, "OpaqueManagedObjectStoreServer"),
        (0x0000011C, "StorageArrayWithSelfEncryptingDriveClient"),
        (0x0000011D, "StorageArrayWithSelfEncryptingDriveServer"),
        (0x0000011E, "HTTPSClient"),
        (0x0000011F, "HTTPSServer"),
        (0x00000120, "JSONClient"),
        (0x00000121, "JSONServer"),
        (0x00000122, "XMLClient"),
        (0x00000123, "XMLServer"),
        (0x00000124, "AESXTSClient"),
        (0x00000125, "AESXTSServer"),
        (0x00000126, "QuantumSafeClient"),
        (0x00000127, "QuantumSafeServer"),
        (0x00000128, "PKCS_11Client"),
        (0x00000129, "PKCS_11Server"),
        (0x0000012A, "BaselineClient"),
        (0x0000012B, "BaselineServer"),
        (0x0000012C, "CompleteServer"),
    ],
    aliases: &[],
};

static UNWRAP_MODE: NameTable = NameTable {
    name: "UnwrapMode",
    values: &[
        (0x00000001, "Unspecified"),
        (0x00000002, "Processed"),
        (0x00000003, "NotProcessed"),
    ],
    aliases: &[],
};

static DESTROY_ACTION: NameTable = NameTable {
    name: "DestroyAction",
    values: &[
        (0x00000001, "Unspecified"),
        (0x00000002, "KeyMaterialDeleted"),
        (0x00000003, "KeyMaterialShredded"),
        (0x00000004, "MetaDataDeleted"),
        (0x00000005, "MetaDataShredded"),
        (0x00000006, "Deleted"),
        (0x00000007, "Shredded"),
    ],
    aliases: &[],
};

static SHREDDING_ALGORITHM: NameTable = NameTable {
    name: "ShreddingAlgorithm",
    values: &[
        (0x00000001, "Unspecified"),
        (0x00000002, "Cryptographic"),
        (0x00000003, "Unsupported"),
    ],
    aliases: &[],
};

static RNG_MODE: NameTable = NameTable {
    name: "RNGMode",
    values: &[
        (0x00000001, "Unspecified"),
        (0x00000002, "SharedInstantiation"),
        (0x00000003, "NonSharedInstantiation"),
    ],
    aliases: &[],
};

static CLIENT_REGISTRATION_METHOD: NameTable = NameTable {
    name: "ClientRegistrationMethod",
    values: &[
        (0x00000001, "Unspecified"),
        (0x00000002, "ServerPreGenerated"),
        (0x00000003, "ServerOnDemand"),
        (0x00000004, "ClientGenerated"),
        (0x00000005, "ClientRegistered"),
    ],
    aliases: &[],
};

static KEY_WRAP_TYPE: NameTable = NameTable {
    name: "KeyWrapType",
    values: &[(0x00000001, "NotWrapped"), (0x00000002, "AsRegistered")],
    aliases: &[],
};

static MASK_GENERATOR: NameTable = NameTable {
    name: "MaskGenerator",
    values: &[(0x00000001, "MGF1")],
    aliases: &[("MFG1", 0x00000001)],
};

static ADJUSTMENT_TYPE: NameTable = NameTable {
    name: "AdjustmentType",
    values: &[
        (0x00000001, "Increment"),
        (0x00000002, "Decrement"),
        (0x00000003, "Negate"),
    ],
    aliases: &[],
};

static ASYNCHRONOUS_INDICATOR: NameTable = NameTable {
    name: "AsynchronousIndicator",
    values: &[
        (0x00000001, "Mandatory"),
        (0x00000002, "Optional"),
        (0x00000003, "Prohibited"),
    ],
    aliases: &[],
};

static DATA: NameTable = NameTable {
    name: "Data",
    values: &[
        (0x00000001, "Decrypt"),
        (0x00000002, "Encrypt"),
        (0x00000003, "Hash"),
        (0x00000004, "MACMACData"),
        (0x00000005, "RNGRetrieve"),
        (0x00000006, "SignSignatureData"),
        (0x00000007, "SignatureVerify"),
    ],
    aliases: &[],
};

static ENDPOINT_ROLE: NameTable = NameTable {
    name: "EndpointRole",
    values: &[(0x00000001, "Client"), (0x00000002, "Server")],
    aliases: &[],
};

static INTEROP_FUNCTION: NameTable = NameTable {
    name: "InteropFunction",
    values: &[
        (0x00000001, "Begin"),
        (0x00000002, "End"),
        (0x00000003, "Reset"),
    ],
    aliases: &[],
};

static NIST_KEY_TYPE: NameTable = NameTable {
    name: "NISTKeyType",
    values: &[
        (0x00000001, "PrivateSignatureKey"),
        (0x00000002, "PublicSignatureVerificationKey"),
        (0x00000003, "SymmetricAuthenticationKey"),
        (0x00000004, "PrivateAuthenticationKey"),
        (0x00000005, "PublicAuthenticationKey"),
        (0x00000006, "SymmetricDataEncryptionKey"),
        (0x00000007, "SymmetricKeyWrappingKey"),
        (0x00000008, "SymmetricRandomNumberGenerationKey"),
        (0x00000009, "SymmetricMasterKey"),
        (0x0000000A, "PrivateKeyTransportKey"),
        (0x0000000B, "PublicKeyTransportKey"),
        (0x0000000C, "SymmetricKeyAgreementKey"),
        (0x0000000D, "PrivateStaticKeyAgreementKey"),
        (0x0000000E, "PublicStaticKeyAgreementKey"),
        (0x0000000F, "PrivateEphemeralKeyAgreementKey"),
        (0x00000010, "PublicEphemeralKeyAgreementKey"),
        (0x00000011, "SymmetricAuthorizationKey"),
        (0x00000012, "PrivateAuthorizationKey"),
        (0x00000013, "PublicAuthorizationKey"),
    ],
    aliases: &[],
};

static PROCESSING_STAGE: NameTable = NameTable {
    name: "ProcessingStage",
    values: &[
        (0x00000001, "Submitted"),
        (0x00000002, "InProcess"),
        (0x00000003, "Completed"),
    ],
    aliases: &[],
};

static PROTECTION_LEVEL: NameTable = NameTable {
    name: "ProtectionLevel",
    values: &[(0x00000001, "High"), (0x00000002, "Low")],
    aliases: &[],
};

static ROTATE_NAME_TYPE: NameTable = NameTable {
    name: "RotateNameType",
    values: &[(0x00000001, "UninterpretedTextString"), (0x00000002, "URI")],
    aliases: &[],
};

static TICKET_TYPE: NameTable = NameTable {
    name: "TicketType",
    values: &[(0x00000001, "Login")],
    aliases: &[],
};

static UNIQUE_IDENTIFIER: NameTable = NameTable {
    name: "UniqueIdentifier",
    values: &[
        (0x00000001, "IDPlaceholder"),
        (0x00000002, "Certify"),
        (0x00000003, "Create"),
        (0x00000004, "CreateKeyPair"),
        (0x00000005, "CreateKeyPairPrivateKey"),
        (0x00000006, "CreateKeyPairPublicKey"),
        (0x00000007, "CreateSplitKey"),
        (0x00000008, "DeriveKey"),
        (0x00000009, "Import"),
        (0x0000000A, "JoinSplitKey"),
        (0x0000000B, "Locate"),
        (0x0000000C, "Register"),
        (0x0000000D, "ReKey"),
        (0x0000000E, "ReCertify"),
        (0x0000000F, "ReKeyKeyPair"),
        (0x00000010, "ReKeyKeyPairPrivateKey"),
        (0x00000011, "ReKeyKeyPairPublicKey"),
    ],
    aliases: &[],
};

static CRYPTOGRAPHIC_USAGE_MASK: NameTable = NameTable {
    name: "CryptographicUsageMask",
    values: &[
        (0x00000001, "Sign"),
        (0x00000002, "Verify"),
        (0x00000004, "Encrypt"),
        (0x00000008, "Decrypt"),
        (0x00000010, "WrapKey"),
        (0x00000020, "UnwrapKey"),
        (0x00000040, "Export"),
        (0x00000080, "MACGenerate"),
        (0x00000100, "MACVerify"),
        (0x00000200, "DeriveKey"),
        (0x00000400, "ContentCommitment"),
        (0x00000800, "KeyAgreement"),
        (0x00001000, "CertificateSign"),
        (0x00002000, "CRLSign"),
        (0x00004000, "GenerateCryptogram"),
        (0x00008000, "ValidateCryptogram"),
        (0x00010000, "TranslateEncrypt"),
        (0x00020000, "TranslateDecrypt"),
        (0x00040000, "TranslateWrap"),
        (0x00080000, "TranslateUnwrap"),
        (0x00100000, "Authenticate"),
        (0x00200000, "Unrestricted"),
        (0x00400000, "FPEEncrypt"),
        (0x00800000, "FPEDecrypt"),
    ],
    aliases: &[],
};

static STORAGE_STATUS_MASK: NameTable = NameTable {
    name: "StorageStatusMask",
    values: &[
        (0x00000001, "OnLineStorage"),
        (0x00000002, "ArchivalStorage"),
        (0x00000004, "DestroyedStorage"),
    ],
    aliases: &[],
};

static PROTECTION_STORAGE_MASK: NameTable = NameTable {
    name: "ProtectionStorageMask",
    values: &[
        (0x00000001, "Software"),
        (0x00000002, "Hardware"),
        (0x00000004, "OnProcessor"),
        (0x00000008, "OnSystem"),
        (0x00000010, "OffSystem"),
        (0x00000020, "Hypervisor"),
        (0x00000040, "OperatingSystem"),
        (0x00000080, "Container"),
        (0x00000100, "OnPremises"),
        (0x00000200, "OffPremises"),
        (0x00000400, "SelfManaged"),
        (0x00000800, "Outsourced"),
        (0x00001000, "Validated"),
        (0x00002000, "SameJurisdiction"),
    ],
    aliases: &[],
};

/// The enumeration whose names an Enumeration item with this tag uses, if known.
pub fn enumeration_for(tag: Tag) -> Option<&'static NameTable> {
    match tag.value() {
        0x420024 => Some(&CREDENTIAL_TYPE),
        0x420041 => Some(&KEY_COMPRESSION_TYPE),
        0x420042 => Some(&KEY_FORMAT_TYPE),
        0x42009E => Some(&WRAPPING_METHOD),
        0x420075 => Some(&RECOMMENDED_CURVE),
        0x42001D => Some(&CERTIFICATE_TYPE),
        0x4200AE => Some(&DIGITAL_SIGNATURE_ALGORITHM),
        0x42008A => Some(&SPLIT_KEY_METHOD),
        0x420086 => Some(&SECRET_DATA_TYPE),
        0x420054 => Some(&NAME_TYPE),
        0x420057 => Some(&OBJECT_TYPE),
        0x420028 => Some(&CRYPTOGRAPHIC_ALGORITHM),
        0x420011 => Some(&BLOCK_CIPHER_MODE),
        0x42005F => Some(&PADDING_METHOD),
        0x420038 => Some(&HASHING_ALGORITHM),
        0x420083 => Some(&KEY_ROLE_TYPE),
        0x42008D => Some(&STATE),
        0x420082 => Some(&REVOCATION_REASON_CODE),
        0x42004B => Some(&LINK_TYPE),
        0x420031 => Some(&DERIVATION_METHOD),
        0x420019 => Some(&CERTIFICATE_REQUEST_TYPE),
        0x42009B => Some(&VALIDITY_INDICATOR),
        0x420074 => Some(&QUERY_FUNCTION),
        0x420012 => Some(&CANCELLATION_RESULT),
        0x420070 => Some(&PUT_FUNCTION),
        0x42005C => Some(&OPERATION),
        0x42007F => Some(&RESULT_STATUS),
        0x42007E => Some(&RESULT_REASON),
        0x42000E => Some(&BATCH_ERROR_CONTINUATION_OPTION),
        0x420098 => Some(&USAGE_LIMITS_UNIT),
        0x4200A3 => Some(&ENCODING_OPTION),
        0x4200AC => Some(&OBJECT_GROUP_MEMBER),
        0x4200C1 => Some(&ALTERNATIVE_NAME_TYPE),
        0x4200BA => Some(&KEY_VALUE_LOCATION_TYPE),
        0x4200C7 => Some(&ATTESTATION_TYPE),
        0x4200DA => Some(&RNG_ALGORITHM),
        0x4200DB => Some(&DRBG_ALGORITHM),
        0x4200DC => Some(&FIPS186_VARIATION),
        0x4200E0 => Some(&VALIDATION_AUTHORITY_TYPE),
        0x4200E5 => Some(&VALIDATION_TYPE),
        0x4200EC => Some(&PROFILE_NAME),
        0x4200F2 => Some(&UNWRAP_MODE),
        0x4200F3 => Some(&DESTROY_ACTION),
        0x4200F4 => Some(&SHREDDING_ALGORITHM),
        0x4200F5 => Some(&RNG_MODE),
        0x4200F6 => Some(&CLIENT_REGISTRATION_METHOD),
        0x4200F8 => Some(&KEY_WRAP_TYPE),
        0x420101 => Some(&MASK_GENERATOR),
        0x420158 => Some(&ADJUSTMENT_TYPE),
        0x420007 => Some(&ASYNCHRONOUS_INDICATOR),
        0x4200C2 => Some(&DATA),
        0x420151 => Some(&ENDPOINT_ROLE),
        0x420160 => Some(&INTEROP_FUNCTION),
        0x42013A => Some(&NIST_KEY_TYPE),
        0x420175 => Some(&PROCESSING_STAGE),
        0x420145 => Some(&PROTECTION_LEVEL),
        0x420171 => Some(&ROTATE_NAME_TYPE),
        0x42014A => Some(&TICKET_TYPE),
        0x420094 => Some(&UNIQUE_IDENTIFIER),
        0x420102 => Some(&HASHING_ALGORITHM),
        _ => None,
    }
}

/// The mask whose flag names an Integer item with this tag uses, if it is a mask.
pub fn mask_for(tag: Tag) -> Option<&'static NameTable> {
    match tag.value() {
        0x42002C => Some(&CRYPTOGRAPHIC_USAGE_MASK),
        0x42008E => Some(&STORAGE_STATUS_MASK),
        0x42015E => Some(&PROTECTION_STORAGE_MASK),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize_name;

    /// Every value a tag, enumeration or mask can take under any tag, named by
    /// the tables `enumeration_for` and `mask_for` return.
    fn all_tables() -> Vec<&'static NameTable> {
        TAGS_BY_VALUE
            .iter()
            .filter_map(|&(value, _)| Tag::new(value))
            .flat_map(|tag| [enumeration_for(tag), mask_for(tag)])
            .flatten()
            .collect()
    }

    #[test]
    fn tag_tables_are_sorted_and_agree() {
        // `Tag::name` and `Tag::from_name` binary-search these tables.
        assert!(TAGS_BY_VALUE.windows(2).all(|pair| pair[0].0 < pair[1].0));
        assert!(
            TAGS_BY_NAME
                .windows(2)
                .all(|pair| pair[0].0.as_bytes() < pair[1].0.as_bytes())
        );
        assert_eq!(TAGS_BY_VALUE.len(), TAGS_BY_NAME.len());
        for &(value, name) in TAGS_BY_VALUE {
            assert_eq!(Tag::from_name(name).map(Tag::value), Some(value), "{name}");
            assert_eq!(Tag::new(value).and_then(Tag::name), Some(name));
            assert_eq!(value >> 16, 0x42, "{name} is not a KMIP tag");
            // Names are already in the normalised spelling.
            assert_eq!(normalize_name(name), name);
        }
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
        assert!(tables.len() >= 60, "only {} tables in use", tables.len());
        for table in tables {
            assert!(
                table.values.windows(2).all(|pair| pair[0].0 < pair[1].0),
                "{} is not sorted by value, or repeats one",
                table.name
            );
            for (index, &(value, name)) in table.values.iter().enumerate() {
                assert!(
                    table
                        .values
                        .iter()
                        .skip(index + 1)
                        .all(|&(_, other)| other != name),
                    "{} names two values {name}",
                    table.name
                );
                assert!(!name.is_empty() && !name.contains(' '), "{name:?}");
                // An alias must not shadow another value's name.
                assert!(
                    table
                        .aliases
                        .iter()
                        .all(|&(alias, aliased)| alias != name || aliased == value),
                    "{}: alias {name} names two values",
                    table.name
                );
            }
            for &(_, aliased) in table.aliases {
                assert!(
                    table.values.iter().any(|&(value, _)| value == aliased),
                    "{}: alias for unknown value 0x{aliased:08X}",
                    table.name
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
                assert_eq!(value.count_ones(), 1, "{name} in {}", table.name);
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
