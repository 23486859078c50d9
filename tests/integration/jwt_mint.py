"""jwt_mint - signs test access tokens with the openssl command-line tool.

An independent signer (not the gateway's own code), so the verifier is tested
against tokens it did not make. ES256 signatures are converted from openssl's
DER to JOSE's r||s; RS256 is used as is. Also makes the forgeries attackers
use: alg "none" and HS256 keyed with the public key."""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import tempfile


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _der_to_jose(der):
    # SEQUENCE { INTEGER r, INTEGER s }, each left-padded/trimmed to 32 bytes
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        value = der[i + 2:i + 2 + n].lstrip(b"\x00")
        out += value.rjust(32, b"\x00")
        i += 2 + n
    return out


class Signer:
    """A key pair in a temporary directory: .private_pem / .public_pem paths."""

    def __init__(self, alg="ES256", directory=None):
        self.alg = alg
        self.dir = directory or tempfile.mkdtemp(prefix="yiwang-keys-")
        self.private_pem = os.path.join(self.dir, "%s-%s.key" % (alg, os.urandom(4).hex()))
        self.public_pem = self.private_pem[:-4] + ".pub"
        if alg == "ES256":
            subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", self.private_pem],
                           check=True, capture_output=True)
        else:
            subprocess.run(["openssl", "genrsa", "-out", self.private_pem, "2048"], check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", self.private_pem, "-pubout", "-out", self.public_pem],
                       check=True, capture_output=True)

    def sign(self, data):
        der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.private_pem, "-binary"], input=data,
                             check=True, capture_output=True).stdout
        return _der_to_jose(der) if self.alg == "ES256" else der

    def token(self, claims, kid, typ="at+jwt", alg=None, header_extra=None):
        header = {"alg": alg or self.alg, "typ": typ, "kid": kid}
        header.update(header_extra or {})
        signing_input = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
        return signing_input.decode() + "." + b64url(self.sign(signing_input))

    def none_token(self, claims, kid):
        header = {"alg": "none", "typ": "at+jwt", "kid": kid}
        return b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode()) + "."

    def hs256_with_public_key(self, claims, kid):
        header = {"alg": "HS256", "typ": "at+jwt", "kid": kid}
        signing_input = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
        with open(self.public_pem, "rb") as f:
            key = f.read()
        return signing_input.decode() + "." + b64url(hmac.new(key, signing_input, hashlib.sha256).digest())
