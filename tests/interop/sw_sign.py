"""Prints a webhook-signature made by the Standard Webhooks reference library (PyPI standardwebhooks).

usage: python3 sw_sign.py SECRET MSG_ID TIMESTAMP BODY_FILE
"""
import sys
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook

secret, msg_id, ts, path = sys.argv[1:5]
with open(path, encoding="utf-8") as f:
    body = f.read()
sys.stdout.write(Webhook(secret).sign(msg_id, datetime.fromtimestamp(int(ts), timezone.utc), body))
