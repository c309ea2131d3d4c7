"""Checks webhooks with the Standard Webhooks reference library (PyPI standardwebhooks).

usage: python3 sw_verify.py FILE
FILE holds a JSON array of {"secret", "id", "timestamp", "signature", "body"}. Prints a JSON
array with, for each, the library's own signature of the message ("expected") and the result
of its verify() ("payload", or "error": verify also refuses timestamps more than 5 minutes
from the real clock, which tests that move the application's clock produce on purpose).
"""
import json
import sys
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook

with open(sys.argv[1], encoding="utf-8") as f:
    items = json.load(f)
out = []
for item in items:
    hook = Webhook(item["secret"])
    ts = datetime.fromtimestamp(int(item["timestamp"]), timezone.utc)
    result = {"expected": hook.sign(item["id"], ts, item["body"])}
    headers = {
        "webhook-id": item["id"],
        "webhook-timestamp": item["timestamp"],
        "webhook-signature": item["signature"],
    }
    try:
        result["payload"] = hook.verify(item["body"], headers)
    except Exception as e:  # WebhookVerificationError
        result["error"] = str(e)
    out.append(result)
sys.stdout.write(json.dumps(out))
