#!/usr/bin/env python3
"""Ask a running Sentinel server whether a tool call may run.

    sentinel_check.py TOOL [key=value ...]
    echo '{"tool": "Bash", "args": {"command": "ls"}}' | sentinel_check.py --stdin

Environment: SENTINEL_URL (default http://127.0.0.1:3300), SENTINEL_TOKEN (a
token with the "check" scope; none for a server without clients), and
optionally SENTINEL_SESSION and SENTINEL_AGENT.

Exit status, as `sentinel check`: 0 allow or notify, 2 deny, 3 confirm, and 1
when no decision was obtained (a network error, an HTTP error, an answer
without an action). Treat 1 like a deny: never run a call that was not
decided. Standard library only.
"""

import json
import os
import re
import sys
import urllib.error
import urllib.request

EXIT = {"allow": 0, "notify": 0, "deny": 2, "confirm": 3}
MAX_ANSWER = 1 << 20
TIMEOUT = 10


def fail(msg):
    print("sentinel: " + msg, file=sys.stderr)
    return 1


def typed(v):
    # The CLI's key=value typing: true/false and plain numbers; the rest are strings.
    if v in ("true", "false"):
        return v == "true"
    if re.fullmatch(r"-?[0-9]+", v) and str(int(v)) == v:
        return int(v)
    if re.fullmatch(r"-?[0-9]+\.[0-9]+", v):
        return float(v)
    return v


def parse_call(argv):
    if argv == ["--stdin"]:
        call = json.loads(sys.stdin.read(MAX_ANSWER))
        if not isinstance(call, dict):
            raise ValueError("stdin must hold one JSON object")
        return call
    if not argv or argv[0].startswith("-"):
        raise ValueError("usage: sentinel_check.py TOOL [key=value ...] | --stdin")
    args = {}
    for kv in argv[1:]:
        k, sep, v = kv.partition("=")
        if not sep or not k:
            raise ValueError("argument %r is not key=value" % kv)
        args[k] = typed(v)
    call = {"tool": argv[0], "args": args}
    for field, env in (("session", "SENTINEL_SESSION"), ("agent", "SENTINEL_AGENT")):
        if os.environ.get(env):
            call[field] = os.environ[env]
    return call


def error_text(status, body):
    try:
        err = json.loads(body)["error"]
        return "HTTP %d %s: %s" % (status, err["code"], err["message"])
    except (ValueError, KeyError, TypeError):
        return "HTTP %d without an API error body" % status


def main(argv):
    try:
        call = parse_call(argv)
    except ValueError as e:
        return fail(str(e))
    url = os.environ.get("SENTINEL_URL", "http://127.0.0.1:3300").rstrip("/") + "/v1/check"
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if os.environ.get("SENTINEL_TOKEN"):
        headers["Authorization"] = "Bearer " + os.environ["SENTINEL_TOKEN"]
    req = urllib.request.Request(url, data=json.dumps(call).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            body = resp.read(MAX_ANSWER + 1)
    except urllib.error.HTTPError as e:
        return fail(error_text(e.code, e.read(MAX_ANSWER)))
    except (urllib.error.URLError, OSError) as e:
        return fail("no answer from %s: %s" % (url, getattr(e, "reason", e)))
    if len(body) > MAX_ANSWER:
        return fail("the answer is larger than %d bytes" % MAX_ANSWER)
    try:
        d = json.loads(body)
        action = d["action"]
        reasons = d.get("reasons") or []
    except (ValueError, KeyError, TypeError, AttributeError):
        return fail("the answer is not a decision")
    if not isinstance(action, str) or action not in EXIT:
        return fail("the answer has no valid action (%.40r)" % (action,))
    print("%s  risk %.2f" % (action.upper(), (d.get("risk") or {}).get("score", 0)))
    for r in reasons:
        print("  %-34s %s" % (r.get("code", "?"), r.get("message", "")))
    approval = d.get("approval")
    if approval:
        print("approval %s %s: wait with GET %s" % (approval.get("id"), approval.get("status", "?"), approval.get("wait", "")))
    print("decision %s" % d.get("decision_id", ""))
    return EXIT[action]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
