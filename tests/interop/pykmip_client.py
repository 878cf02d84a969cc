"""Drives a Cryptainer KMIP listener with the real PyKMIP client.

Run by crates/cli/tests/kmip_pykmip.rs against `cryptainer server --dev`:

    python3 pykmip_client.py HOST PORT CERT KEY CA VERSION

VERSION is a KMIP version such as 1.2 or 2.0. Every step asserts its result; the
script prints "ok" and exits 0 when all pass, and exits non-zero otherwise.
"""

import os
import sys
import tempfile

from kmip import enums
from kmip.pie import client as pie_client
from kmip.pie import exceptions
from kmip.pie import objects


def kmip_version(text):
    return {
        "1.0": enums.KMIPVersion.KMIP_1_0,
        "1.1": enums.KMIPVersion.KMIP_1_1,
        "1.2": enums.KMIPVersion.KMIP_1_2,
        "1.3": enums.KMIPVersion.KMIP_1_3,
        "1.4": enums.KMIPVersion.KMIP_1_4,
        "2.0": enums.KMIPVersion.KMIP_2_0,
    }[text]


def wrong_state(version):
    """The result reason of a state-rule refusal: KMIP 1.x has no Wrong Key
    Lifecycle State and says Permission Denied (as the OASIS 1.4 test cases
    answer)."""
    if version.startswith("2"):
        return enums.ResultReason.WRONG_KEY_LIFECYCLE_STATE
    return enums.ResultReason.PERMISSION_DENIED


def expect_failure(reason, call, *args, **kwargs):
    # The attribute calls go through `send_request_payload`, which raises
    # PyKMIP's core OperationFailure rather than the pie one.
    from kmip.core import exceptions as core_exceptions

    try:
        call(*args, **kwargs)
    except (exceptions.KmipOperationFailure, core_exceptions.OperationFailure) as failure:
        assert failure.reason == reason, (failure.reason, str(failure))
        return
    raise AssertionError("expected %s from %s" % (reason, call.__name__))


def main():
    host, port, cert, key, ca, version = sys.argv[1:7]
    # PyKMIP insists on a configuration file; an empty one leaves every
    # setting to the arguments below.
    config = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    config.write("[client]\n")
    config.close()
    try:
        run(host, port, cert, key, ca, version, config.name)
    finally:
        os.unlink(config.name)
    print("ok")


def run(host, port, cert, key, ca, version, config_file):
    with pie_client.ProxyKmipClient(
        hostname=host,
        port=int(port),
        cert=cert,
        key=key,
        ca=ca,
        ssl_version="PROTOCOL_TLSv1_2",
        config_file=config_file,
        kmip_version=kmip_version(version),
    ) as client:
        # Create: a Pre-Active AES-256 key.
        name = "pykmip key " + version
        uid = client.create(
            enums.CryptographicAlgorithm.AES,
            256,
            name=name,
            cryptographic_usage_mask=[
                enums.CryptographicUsageMask.ENCRYPT,
                enums.CryptographicUsageMask.DECRYPT,
            ],
        )
        assert isinstance(uid, str) and uid, uid

        # Get: the raw key.
        key_object = client.get(uid)
        assert isinstance(key_object, objects.SymmetricKey), key_object
        assert key_object.cryptographic_algorithm == enums.CryptographicAlgorithm.AES
        assert key_object.cryptographic_length == 256
        assert len(key_object.value) == 32

        # Get Attributes: named ones, in the version's attribute shape.
        got_uid, attributes = client.get_attributes(
            uid, ["Cryptographic Length", "State", "Name"]
        )
        assert got_uid == uid
        by_name = {a.attribute_name.value: a.attribute_value for a in attributes}
        assert by_name["Cryptographic Length"].value == 256, by_name
        assert by_name["State"].value == enums.State.PRE_ACTIVE, by_name

        # Locate by name finds exactly this key.
        found = client.locate(
            attributes=[
                client.attribute_factory.create_attribute(
                    enums.AttributeType.NAME, name
                )
            ]
        )
        assert found == [uid], found

        # Activate moves Pre-Active to Active, and only from Pre-Active.
        client.activate(uid)
        expect_failure(wrong_state(version), client.activate, uid)

        # Encrypt/Decrypt (KMIP 1.2 and later): AES-CBC with PKCS5 padding and
        # a client IV, as Ceph CSI sends it.
        if version not in ("1.0", "1.1"):
            parameters = {
                "cryptographic_algorithm": enums.CryptographicAlgorithm.AES,
                "block_cipher_mode": enums.BlockCipherMode.CBC,
                "padding_method": enums.PaddingMethod.PKCS5,
            }
            iv = bytes(range(16))
            ciphertext, generated_iv = client.encrypt(
                b"attack at dawn",
                uid=uid,
                cryptographic_parameters=parameters,
                iv_counter_nonce=iv,
            )
            assert generated_iv is None and len(ciphertext) == 16, ciphertext
            plaintext = client.decrypt(
                ciphertext,
                uid=uid,
                cryptographic_parameters=parameters,
                iv_counter_nonce=iv,
            )
            assert plaintext == b"attack at dawn", plaintext

        # Destroy of an active key is refused; Revoke, then Destroy.
        expect_failure(
            wrong_state(version),
            client.destroy,
            uid,
        )
        client.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, uid)
        client.destroy(uid)
        # A destroyed object's material is gone: Item Not Found, as clients
        # of 1.x and 2.0 expect (2.1 says Object Destroyed); and Locate no
        # longer finds it.
        expect_failure(
            enums.ResultReason.ITEM_NOT_FOUND,
            client.get,
            uid,
        )
        assert uid not in client.locate(), "Locate finds a destroyed object"

        # Register secret data and read it back.
        secret = objects.SecretData(
            b"correct horse battery staple", enums.SecretDataType.PASSWORD
        )
        secret_uid = client.register(secret)
        fetched = client.get(secret_uid)
        assert isinstance(fetched, objects.SecretData), fetched
        assert fetched.value == b"correct horse battery staple"

        # MAC with an HMAC-SHA256 key.
        mac_uid = client.create(enums.CryptographicAlgorithm.HMAC_SHA256, 256)
        client.activate(mac_uid)
        mac_uid_back, mac = client.mac(
            b"data to authenticate",
            uid=mac_uid,
            algorithm=enums.CryptographicAlgorithm.HMAC_SHA256,
        )
        assert mac_uid_back == mac_uid and len(mac) == 32

        key_pairs(client, version)
        registrations(client, version)
        attribute_edits(client, version)
        derivations(client, version)
        wrapped_gets(client, version)

        rekey_key_pair(client, version)
        batches(client, version)
        if not version.startswith("2"):
            custom_attributes(client)

        # Check (through the lower-level KMIPProxy's generic call): the
        # object may be used as asked. (Every operation PyKMIP can read an
        # answer of is supported now; crates/cli/tests/kmip.rs checks that
        # an unsupported one is answered cleanly on a connection that keeps
        # working.)
        from kmip.core.messages import payloads

        checked = client.proxy.send_request_payload(
            enums.Operation.CHECK,
            payloads.CheckRequestPayload(unique_identifier=secret_uid),
        )
        assert checked.unique_identifier == secret_uid, checked


def key_pairs(client, version):
    """Create Key Pair (RSA and ECDSA), Get of both halves checked with the
    `cryptography` package PyKMIP depends on, Sign and Signature Verify, and
    RSA OAEP (the last two from KMIP 1.2, where they appear)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding

    public_uid, private_uid = client.create_key_pair(
        enums.CryptographicAlgorithm.RSA,
        2048,
        public_name="pykmip rsa public " + version,
        private_name="pykmip rsa private " + version,
    )
    public = client.get(public_uid)
    private = client.get(private_uid)
    assert isinstance(public, objects.PublicKey), public
    assert isinstance(private, objects.PrivateKey), private
    assert public.key_format_type == enums.KeyFormatType.PKCS_1
    # KMIP 2.x makes PKCS#1 the default of RSA private keys (2.1, Table 81).
    if version.startswith("2"):
        assert private.key_format_type == enums.KeyFormatType.PKCS_1
    else:
        assert private.key_format_type == enums.KeyFormatType.PKCS_8
    assert public.cryptographic_length == 2048
    public_key = serialization.load_der_public_key(public.value)
    private_key = serialization.load_der_private_key(private.value, None)
    assert private_key.public_key().public_numbers() == public_key.public_numbers()

    # The halves carry a Link (PyKMIP lists it but cannot decode Link values,
    # so the linked identifier is checked in crates/kmip/tests instead).
    for uid in (public_uid, private_uid):
        names = client.get_attribute_list(uid)
        assert "Link" in names, names

    # A Pre-Active key may not sign.
    expect_failure(
        wrong_state(version),
        client.sign,
        b"message",
        uid=private_uid,
        cryptographic_parameters={
            "cryptographic_algorithm": enums.CryptographicAlgorithm.RSA,
            "padding_method": enums.PaddingMethod.PSS,
            "hashing_algorithm": enums.HashingAlgorithm.SHA_256,
        },
    )
    client.activate(private_uid)
    client.activate(public_uid)

    if version not in ("1.0", "1.1"):
        pss = {
            "cryptographic_algorithm": enums.CryptographicAlgorithm.RSA,
            "padding_method": enums.PaddingMethod.PSS,
            "hashing_algorithm": enums.HashingAlgorithm.SHA_256,
        }
        pkcs1 = {
            "digital_signature_algorithm": (
                enums.DigitalSignatureAlgorithm.SHA384_WITH_RSA_ENCRYPTION
            ),
        }
        signature = client.sign(b"message", uid=private_uid, cryptographic_parameters=pss)
        public_key.verify(
            signature,
            b"message",
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
            hashes.SHA256(),
        )
        for parameters in (pss, pkcs1):
            signature = client.sign(
                b"message", uid=private_uid, cryptographic_parameters=parameters
            )
            valid = client.signature_verify(
                b"message", signature, uid=public_uid, cryptographic_parameters=parameters
            )
            assert valid == enums.ValidityIndicator.VALID, valid
            invalid = client.signature_verify(
                b"messagE", signature, uid=public_uid, cryptographic_parameters=parameters
            )
            assert invalid == enums.ValidityIndicator.INVALID, invalid
        public_key.verify(signature, b"message", padding.PKCS1v15(), hashes.SHA384())

        # RSA OAEP: the server encrypts, or PyKMIP's side does, and the server
        # decrypts; SHA-1 and SHA-256.
        for hashing, local in (
            (enums.HashingAlgorithm.SHA_1, hashes.SHA1()),
            (enums.HashingAlgorithm.SHA_256, hashes.SHA256()),
        ):
            oaep = {
                "cryptographic_algorithm": enums.CryptographicAlgorithm.RSA,
                "padding_method": enums.PaddingMethod.OAEP,
                "hashing_algorithm": hashing,
            }
            ciphertext, _ = client.encrypt(
                b"wrapped secret", uid=public_uid, cryptographic_parameters=oaep
            )
            assert client.decrypt(
                ciphertext, uid=private_uid, cryptographic_parameters=oaep
            ) == b"wrapped secret"
            local_ciphertext = public_key.encrypt(
                b"from the client",
                padding.OAEP(mgf=padding.MGF1(local), algorithm=local, label=None),
            )
            assert client.decrypt(
                local_ciphertext, uid=private_uid, cryptographic_parameters=oaep
            ) == b"from the client"
            assert private_key.decrypt(
                ciphertext,
                padding.OAEP(mgf=padding.MGF1(local), algorithm=local, label=None),
            ) == b"wrapped secret"

    # ECDSA on P-256 and P-384, named by length.
    for length, local_hash in ((256, hashes.SHA256()), (384, hashes.SHA384())):
        ec_public_uid, ec_private_uid = client.create_key_pair(
            enums.CryptographicAlgorithm.ECDSA, length
        )
        ec_public = client.get(ec_public_uid)
        assert ec_public.key_format_type == enums.KeyFormatType.X_509
        ec_key = serialization.load_der_public_key(ec_public.value)
        assert ec_key.curve.key_size == length, ec_key.curve
        ec_private = client.get(ec_private_uid)
        assert ec_private.key_format_type == enums.KeyFormatType.PKCS_8
        serialization.load_der_private_key(ec_private.value, None)
        if version not in ("1.0", "1.1"):
            client.activate(ec_private_uid)
            signature = client.sign(
                b"ec message",
                uid=ec_private_uid,
                cryptographic_parameters={
                    "cryptographic_algorithm": enums.CryptographicAlgorithm.ECDSA,
                },
            )
            ec_key.verify(signature, b"ec message", ec.ECDSA(local_hash))


def registrations(client, version):
    """Register of public keys (X.509 SubjectPublicKeyInfo, PKCS#1), private
    keys (PKCS#8), an X.509 certificate made by `cryptography` and a split
    key part; Get of each
    compared with the local key or certificate; Sign with a registered
    private key checked locally and by Signature Verify with the registered
    public key (from KMIP 1.2); malformed keys and certificates refused."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.x509.oid import NameOID

    der = serialization.Encoding.DER
    pkcs8 = serialization.PrivateFormat.PKCS8
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    no_encryption = serialization.NoEncryption()

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP384R1())
    cases = [
        (
            rsa_key,
            enums.CryptographicAlgorithm.RSA,
            2048,
            enums.KeyFormatType.PKCS_1,
            rsa_key.public_key().public_bytes(der, serialization.PublicFormat.PKCS1),
            {
                "cryptographic_algorithm": enums.CryptographicAlgorithm.RSA,
                "padding_method": enums.PaddingMethod.PSS,
                "hashing_algorithm": enums.HashingAlgorithm.SHA_256,
            },
            lambda public, signature: public.verify(
                signature,
                b"registered",
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                hashes.SHA256(),
            ),
        ),
        (
            ec_key,
            enums.CryptographicAlgorithm.ECDSA,
            384,
            enums.KeyFormatType.X_509,
            ec_key.public_key().public_bytes(der, spki),
            {"cryptographic_algorithm": enums.CryptographicAlgorithm.ECDSA},
            lambda public, signature: public.verify(
                signature, b"registered", ec.ECDSA(hashes.SHA384())
            ),
        ),
    ]
    for key, algorithm, length, public_format, public_bytes, parameters, check in cases:
        private_uid = client.register(
            objects.PrivateKey(
                algorithm,
                length,
                key.private_bytes(der, pkcs8, no_encryption),
                enums.KeyFormatType.PKCS_8,
                name="registered private " + version,
            )
        )
        public_uid = client.register(
            objects.PublicKey(
                algorithm,
                length,
                public_bytes,
                public_format,
                name="registered public " + version,
            )
        )

        # Get: the same keys, read by `cryptography`.
        private = client.get(private_uid)
        assert isinstance(private, objects.PrivateKey), private
        assert private.cryptographic_length == length
        loaded = serialization.load_der_private_key(private.value, None)
        assert loaded.private_numbers() == key.private_numbers()
        public = client.get(public_uid)
        assert isinstance(public, objects.PublicKey), public
        loaded_public = serialization.load_der_public_key(public.value)
        assert loaded_public.public_numbers() == key.public_key().public_numbers()

        # Registered keys are Pre-Active.
        _, attributes = client.get_attributes(private_uid, ["State"])
        assert attributes[0].attribute_value.value == enums.State.PRE_ACTIVE

        if version not in ("1.0", "1.1"):
            client.activate(private_uid)
            client.activate(public_uid)
            signature = client.sign(
                b"registered", uid=private_uid, cryptographic_parameters=parameters
            )
            check(key.public_key(), signature)
            valid = client.signature_verify(
                b"registered", signature, uid=public_uid, cryptographic_parameters=parameters
            )
            assert valid == enums.ValidityIndicator.VALID, valid

    # A self-signed certificate for the RSA key.
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pykmip " + version)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(rsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(rsa_key, hashes.SHA256())
    )
    certificate_der = certificate.public_bytes(der)
    certificate_uid = client.register(objects.X509Certificate(certificate_der))
    fetched = client.get(certificate_uid)
    assert isinstance(fetched, objects.X509Certificate), fetched
    assert fetched.value == certificate_der
    assert x509.load_der_x509_certificate(fetched.value).subject == subject

    # A split key part: XOR, part 1 of 3, any 2 needed.
    part = os.urandom(32)
    split_uid = client.register(
        objects.SplitKey(
            cryptographic_algorithm=enums.CryptographicAlgorithm.AES,
            cryptographic_length=256,
            key_value=part,
            split_key_parts=3,
            key_part_identifier=1,
            split_key_threshold=2,
            split_key_method=enums.SplitKeyMethod.XOR,
        )
    )
    split = client.get(split_uid)
    assert isinstance(split, objects.SplitKey), split
    assert split.value == part
    assert (split.split_key_parts, split.key_part_identifier, split.split_key_threshold) == (
        3,
        1,
        2,
    ), split
    assert split.split_key_method == enums.SplitKeyMethod.XOR

    # Malformed material is Invalid Field.
    expect_failure(
        enums.ResultReason.INVALID_FIELD,
        client.register,
        objects.PublicKey(
            enums.CryptographicAlgorithm.RSA, 2048, b"not a key", enums.KeyFormatType.X_509
        ),
    )
    expect_failure(
        enums.ResultReason.INVALID_FIELD,
        client.register,
        objects.PrivateKey(
            enums.CryptographicAlgorithm.RSA,
            2048,
            key.private_bytes(der, pkcs8, no_encryption)[:-1],
            enums.KeyFormatType.PKCS_8,
        ),
    )
    expect_failure(
        enums.ResultReason.INVALID_FIELD,
        client.register,
        objects.X509Certificate(certificate_der[:-5]),
    )


def rekey_key_pair(client, version):
    """Re-key Key Pair (through PyKMIP's KMIPProxy: the pie client has no
    call for it): a new EC pair, Pre-Active, which takes the old pair's
    names, and whose keys `cryptography` reads."""
    from cryptography.hazmat.primitives import serialization
    from kmip.core import attributes as core_attributes

    name = "pykmip rekeyed " + version
    _, old_private_uid = client.create_key_pair(
        enums.CryptographicAlgorithm.ECDSA,
        256,
        public_name=name + " public",
        private_name=name + " private",
    )
    result = client.proxy.rekey_key_pair(
        private_key_uuid=core_attributes.PrivateKeyUniqueIdentifier(old_private_uid)
    )
    assert result.result_status.value == enums.ResultStatus.SUCCESS, (
        result.result_reason,
        result.result_message,
    )
    private_uid = getattr(result.private_key_uuid, "value", result.private_key_uuid)
    public_uid = getattr(result.public_key_uuid, "value", result.public_key_uuid)
    assert old_private_uid not in (private_uid, public_uid)
    private = client.get(private_uid)
    assert isinstance(private, objects.PrivateKey), private
    serialization.load_der_private_key(private.value, None)
    public = client.get(public_uid)
    assert serialization.load_der_public_key(public.value).curve.key_size == 256
    _, attributes = client.get_attributes(private_uid, ["State"])
    assert attributes[0].attribute_value.value == enums.State.PRE_ACTIVE
    found = client.locate(
        attributes=[
            client.attribute_factory.create_attribute(
                enums.AttributeType.NAME, name + " private"
            )
        ]
    )
    assert found == [private_uid], found


def attribute_edits(client, version):
    """Modify, Delete and (2.0) Set Attribute in the version's request shape,
    and the refusals of read-only and undeletable attributes."""
    from kmip.core import enums as core_enums
    from kmip.core import objects as core_objects

    def read(uid, name):
        _, attributes = client.get_attributes(uid, [name])
        values = [a.attribute_value for a in attributes if a.attribute_name.value == name]
        return values[0].value if values else None

    uid = client.create(
        enums.CryptographicAlgorithm.AES,
        128,
        cryptographic_usage_mask=[
            enums.CryptographicUsageMask.ENCRYPT,
            enums.CryptographicUsageMask.DECRYPT,
        ],
    )
    encrypt_only = [enums.CryptographicUsageMask.ENCRYPT]
    two = version.startswith("2")
    if two:
        value = client.attribute_value_factory.create_attribute_value_by_enum(
            core_enums.Tags.CRYPTOGRAPHIC_USAGE_MASK, encrypt_only
        )
        client.modify_attribute(uid, new_attribute=core_objects.NewAttribute(value))
    else:
        attribute = client.attribute_factory.create_attribute(
            enums.AttributeType.CRYPTOGRAPHIC_USAGE_MASK, encrypt_only
        )
        got_uid, modified = client.modify_attribute(uid, attribute=attribute)
        assert got_uid == uid and modified is not None, modified
    assert read(uid, "Cryptographic Usage Mask") == enums.CryptographicUsageMask.ENCRYPT.value

    # The usage mask may be modified but not deleted; the length not changed.
    read_only = (
        enums.ResultReason.ATTRIBUTE_READ_ONLY
        if two
        else enums.ResultReason.PERMISSION_DENIED
    )
    if two:
        mask = client.attribute_value_factory.create_attribute_value_by_enum(
            core_enums.Tags.CRYPTOGRAPHIC_USAGE_MASK, encrypt_only
        )
        expect_failure(
            read_only,
            client.delete_attribute,
            uid,
            current_attribute=core_objects.CurrentAttribute(mask),
        )
        length = client.attribute_value_factory.create_attribute_value_by_enum(
            core_enums.Tags.CRYPTOGRAPHIC_LENGTH, 256
        )
        expect_failure(
            read_only,
            client.modify_attribute,
            uid,
            new_attribute=core_objects.NewAttribute(length),
        )

        # Set Attribute (2.0), then delete what it set.
        client.set_attribute(
            uid, attribute_name="Object Group", attribute_value="pykmip group"
        )
        assert read(uid, "Object Group") == "pykmip group"
        group = client.attribute_value_factory.create_attribute_value_by_enum(
            core_enums.Tags.OBJECT_GROUP, "pykmip group"
        )
        client.delete_attribute(uid, current_attribute=core_objects.CurrentAttribute(group))
        assert read(uid, "Object Group") is None
    else:
        expect_failure(
            read_only,
            client.delete_attribute,
            uid,
            attribute_name="Cryptographic Usage Mask",
            attribute_index=0,
        )
        length = client.attribute_factory.create_attribute(
            enums.AttributeType.CRYPTOGRAPHIC_LENGTH, 256
        )
        expect_failure(read_only, client.modify_attribute, uid, attribute=length)


def derivations(client, version):
    """Derive Key by PBKDF2, HMAC (HKDF), NIST SP 800-108 counter mode and
    AES-CBC encryption, each derived key compared with the one `cryptography`
    derives locally from the base key."""
    from cryptography.hazmat.primitives import hashes, padding as symmetric_padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.kdf import hkdf, kbkdf, pbkdf2

    base_uid = client.create(enums.CryptographicAlgorithm.AES, 256)
    client.activate(base_uid)
    base = client.get(base_uid).value
    sha256 = {"hashing_algorithm": enums.HashingAlgorithm.SHA_256}
    iv = bytes(range(16))
    padder = symmetric_padding.PKCS7(128).padder()
    padded = padder.update(b"derivation data!" * 2) + padder.finalize()
    encryptor = Cipher(algorithms.AES(base), modes.CBC(iv)).encryptor()
    cases = [
        (
            enums.DerivationMethod.PBKDF2,
            {"cryptographic_parameters": sha256, "salt": b"salt", "iteration_count": 1000},
            pbkdf2.PBKDF2HMAC(hashes.SHA256(), 32, b"salt", 1000).derive(base),
        ),
        (
            enums.DerivationMethod.HMAC,
            {"cryptographic_parameters": sha256, "salt": b"salt", "derivation_data": b"info"},
            hkdf.HKDF(hashes.SHA256(), 32, b"salt", b"info").derive(base),
        ),
        (
            enums.DerivationMethod.NIST800_108_C,
            {"cryptographic_parameters": sha256, "derivation_data": b"fixed input"},
            kbkdf.KBKDFHMAC(
                hashes.SHA256(),
                kbkdf.Mode.CounterMode,
                32,
                4,
                None,
                kbkdf.CounterLocation.BeforeFixed,
                None,
                None,
                b"fixed input",
            ).derive(base),
        ),
        (
            enums.DerivationMethod.ENCRYPT,
            {
                "cryptographic_parameters": {
                    "block_cipher_mode": enums.BlockCipherMode.CBC,
                    "padding_method": enums.PaddingMethod.PKCS5,
                    "cryptographic_algorithm": enums.CryptographicAlgorithm.AES,
                },
                "initialization_vector": iv,
                "derivation_data": b"derivation data!" * 2,
            },
            (encryptor.update(padded) + encryptor.finalize())[:32],
        ),
    ]
    for method, parameters, expected in cases:
        derived_uid = client.derive_key(
            enums.ObjectType.SYMMETRIC_KEY,
            [base_uid],
            method,
            parameters,
            cryptographic_length=256,
            cryptographic_algorithm=enums.CryptographicAlgorithm.AES,
        )
        assert client.get(derived_uid).value == expected, method


def ttlv_items(data):
    """(tag, type, value bytes) of every item in a TTLV message, depth first."""
    items = []
    offset = 0
    while offset + 8 <= len(data):
        tag = int.from_bytes(data[offset:offset + 3], "big")
        kind = data[offset + 3]
        length = int.from_bytes(data[offset + 4:offset + 8], "big")
        value = data[offset + 8:offset + 8 + length]
        items.append((tag, kind, value))
        if kind == 0x01:
            items.extend(ttlv_items(value))
        offset += 8 + (length + 7) // 8 * 8
    return items


def wrapped_gets(client, version):
    """Get with a Key Wrapping Specification: an AES key wrapped by NIST Key
    Wrap (RFC 3394) and an EC private key by AES Key Wrap with Padding
    (RFC 5649), each unwrapped by `cryptography` with the KEK.

    PyKMIP builds the request, but its response reader insists on a Key Value
    structure, while KMIP sends a wrapped Key Value as a Byte String; so the
    response is read from the connection here and walked as TTLV."""
    from cryptography.hazmat.primitives import keywrap, serialization
    from kmip.core import enums as core_enums
    from kmip.core.messages import messages, payloads
    from kmip.core.messages.contents import Operation

    kek_uid = client.create(enums.CryptographicAlgorithm.AES, 256)
    client.activate(kek_uid)
    kek = client.get(kek_uid).value
    key_uid = client.create(enums.CryptographicAlgorithm.AES, 256)
    plain = client.get(key_uid).value
    _, ec_private_uid = client.create_key_pair(enums.CryptographicAlgorithm.ECDSA, 256)
    ec_private = client.get(ec_private_uid).value

    def wrapped_get(uid, mode):
        specification = client._build_key_wrapping_specification({
            "wrapping_method": enums.WrappingMethod.ENCRYPT,
            "encryption_key_information": {
                "unique_identifier": kek_uid,
                "cryptographic_parameters": {"block_cipher_mode": mode},
            },
            "encoding_option": enums.EncodingOption.NO_ENCODING,
        })
        item = messages.RequestBatchItem(
            operation=Operation(core_enums.Operation.GET),
            request_payload=payloads.GetRequestPayload(
                unique_identifier=uid, key_wrapping_specification=specification
            ),
        )
        proxy = client.proxy
        proxy._send_message(proxy._build_request_message(None, [item]))
        items = ttlv_items(bytes(proxy._receive_message().buffer))
        # Result Status (0x42007F) Success; one Key Value (0x420045), a Byte
        # String (type 0x08); the KEK's Unique Identifier (0x420094) named.
        status = [int.from_bytes(v[:4], "big") for t, _, v in items if t == 0x42007F]
        assert status == [0], items
        values = [(k, v) for t, k, v in items if t == 0x420045]
        assert len(values) == 1 and values[0][0] == 0x08, items
        identifiers = [v.decode() for t, k, v in items if t == 0x420094]
        assert kek_uid in identifiers, identifiers
        return values[0][1]

    wrapped = wrapped_get(key_uid, enums.BlockCipherMode.NIST_KEY_WRAP)
    assert keywrap.aes_key_unwrap(kek, wrapped) == plain
    wrapped = wrapped_get(ec_private_uid, enums.BlockCipherMode.AES_KEY_WRAP_PADDING)
    unwrapped = keywrap.aes_key_unwrap_with_padding(kek, wrapped)
    assert unwrapped == ec_private
    serialization.load_der_private_key(unwrapped, None)

def aes_create_payload(client, extra=()):
    """A Create request payload for an AES-256 key, with `extra` 1.x
    attributes in its template."""
    from kmip.core import objects as core_objects
    from kmip.core.messages import payloads

    factory = client.attribute_factory
    attributes = [
        factory.create_attribute(
            enums.AttributeType.CRYPTOGRAPHIC_ALGORITHM,
            enums.CryptographicAlgorithm.AES,
        ),
        factory.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_LENGTH, 256),
    ]
    attributes.extend(extra)
    return payloads.CreateRequestPayload(
        object_type=enums.ObjectType.SYMMETRIC_KEY,
        template_attribute=core_objects.TemplateAttribute(attributes=attributes),
    )


def batches(client, version):
    """Several batch items in one request message through PyKMIP's KMIPProxy:
    Create; Activate; Get; Get Attributes, where only Create names anything
    and the others use the ID placeholder; then the Batch Error Continuation
    Option: Stop (the default) leaves the items after a failure unanswered,
    Continue answers them."""
    from kmip.core import enums as core_enums
    from kmip.core.messages import contents, messages, payloads

    proxy = client.proxy

    def item(operation, payload):
        return messages.RequestBatchItem(
            operation=contents.Operation(operation), request_payload=payload
        )

    def send(items, continuation=None):
        request = proxy._build_request_message(None, items)
        if continuation is not None:
            request.request_header.batch_error_cont_option = (
                contents.BatchErrorContinuationOption(continuation)
            )
        return proxy._send_and_receive_message(request).batch_items

    answered = send([
        item(core_enums.Operation.CREATE, aes_create_payload(client)),
        item(core_enums.Operation.ACTIVATE, payloads.ActivateRequestPayload()),
        item(core_enums.Operation.GET, payloads.GetRequestPayload()),
        item(
            core_enums.Operation.GET_ATTRIBUTES,
            payloads.GetAttributesRequestPayload(attribute_names=["State"]),
        ),
    ])
    assert [a.result_status.value for a in answered] == [
        enums.ResultStatus.SUCCESS
    ] * 4, [(a.result_status, a.result_message) for a in answered]
    # Some PyKMIP payloads give the identifier as text, others as an object.
    identifiers = [
        getattr(identifier, "value", identifier)
        for identifier in (a.response_payload.unique_identifier for a in answered)
    ]
    uid = identifiers[0]
    assert identifiers == [uid] * 4, identifiers
    assert len(answered[2].response_payload.secret.key_block.key_value.key_material.value) == 32
    # The key the batch created and activated is Active.
    _, attributes = client.get_attributes(uid, ["State"])
    assert attributes[0].attribute_value.value == enums.State.ACTIVE, attributes

    missing = "6f9619ff-8b86-d011-b42d-00c04fc964ff"
    failing = [
        item(
            core_enums.Operation.GET,
            payloads.GetRequestPayload(unique_identifier=missing),
        ),
        item(core_enums.Operation.ACTIVATE, payloads.ActivateRequestPayload()),
    ]
    answered = send(failing)
    assert len(answered) == 1, answered
    assert answered[0].result_reason.value == enums.ResultReason.ITEM_NOT_FOUND
    answered = send(failing, core_enums.BatchErrorContinuationOption.CONTINUE)
    assert [a.result_reason.value for a in answered] == [
        enums.ResultReason.ITEM_NOT_FOUND,
        enums.ResultReason.MISSING_DATA,
    ], answered


def custom_attributes(client):
    """A custom (x-) attribute, as vSphere sets them: set at Create, read by
    Get Attributes and Get Attribute List, found by Locate, modified and
    deleted by index (KMIP 1.x: PyKMIP reads custom values as text); and
    two Names, the second deleted by index."""
    factory = client.attribute_factory
    created = client.proxy.send_request_payload(
        enums.Operation.CREATE,
        aes_create_payload(
            client, [factory.create_attribute("x-Product_Version", "7.0.3")]
        ),
    )
    uid = created.unique_identifier

    def read():
        _, attributes = client.get_attributes(uid, ["x-Product_Version"])
        return [a.attribute_value.value for a in attributes]

    assert read() == ["7.0.3"], read()
    assert "x-Product_Version" in client.get_attribute_list(uid)
    client.modify_attribute(
        uid, attribute=factory.create_attribute("x-Product_Version", "8.0", 0)
    )
    assert read() == ["8.0"], read()
    found = client.locate(
        attributes=[factory.create_attribute("x-Product_Version", "8.0")]
    )
    assert found == [uid], found
    client.delete_attribute(
        uid, attribute_name="x-Product_Version", attribute_index=0
    )
    assert read() == [], read()

    # Two Names at Create; the second deleted by its index.
    names = [
        factory.create_attribute(enums.AttributeType.NAME, "pykmip first name"),
        factory.create_attribute(enums.AttributeType.NAME, "pykmip second name"),
    ]
    created = client.proxy.send_request_payload(
        enums.Operation.CREATE, aes_create_payload(client, names)
    )

    def read_names():
        _, attributes = client.get_attributes(created.unique_identifier, ["Name"])
        return [a.attribute_value.name_value.value for a in attributes]

    assert read_names() == ["pykmip first name", "pykmip second name"], read_names()
    client.delete_attribute(
        created.unique_identifier, attribute_name="Name", attribute_index=1
    )
    assert read_names() == ["pykmip first name"], read_names()


if __name__ == "__main__":
    main()
