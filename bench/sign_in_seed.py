#!/usr/bin/env python3
"""sign_in_seed.py — signs N people in through a running gateway's sign-in API
and prints one refresh token per line (for bench/refresh_rotation.lua).

    bench/sign_in_seed.py http://127.0.0.1:18400 OUTBOX_FILE CLIENT_ID N > tokens.txt

Each person is a fresh mobile number registered by SMS code (read from the
gateway's outbox file, so identity.sms.provider must be "outbox"); each
login starts its own refresh-token family.
"""
import json
import sys
import time
import urllib.request


def post(base, path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def code_for(outbox, mobile):
    for _ in range(100):
        with open(outbox) as f:
            for line in reversed(f.readlines()):
                message = json.loads(line)
                if message["mobile"] == mobile:
                    return message["code"]
        time.sleep(0.05)
    raise SystemExit("no code for %s in %s" % (mobile, outbox))


def main():
    base, outbox, client_id, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    start = int(time.time()) % 100000 * 1000
    for i in range(count):
        mobile = "139%08d" % ((start + i) % 100000000)
        post(base, "/v1/auth/sms", {"client_id": client_id, "mobile": mobile})
        tokens = post(base, "/v1/auth/login", {"client_id": client_id, "mobile": mobile, "code": code_for(outbox, mobile)})
        print(tokens["refresh_token"])


if __name__ == "__main__":
    main()
