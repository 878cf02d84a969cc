//! The mask tables: one block per mask, naming the tags that use it.

use super::NameTable;
use crate::Tag;

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
