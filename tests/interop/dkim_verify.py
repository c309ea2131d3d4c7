"""Verifies a DKIM signature with dkimpy (pinned in requirements.txt), an implementation nobody
here wrote. The public key comes from the command line instead of DNS.

    python3 dkim_verify.py MESSAGE_FILE 'v=DKIM1; k=rsa; p=...'

Prints `pass` or `fail` (and exits 0 either way), or exits 2 when the message names another
selector's record than the one given."""

import sys

import dkim


def main() -> None:
    message = open(sys.argv[1], "rb").read()
    record = sys.argv[2].encode()
    asked = []

    def dns(name, timeout=5):
        asked.append(name)
        return record

    ok = dkim.verify(message, dnsfunc=dns)
    print(f"{'pass' if ok else 'fail'} {asked[0].decode() if asked else '-'}")


if __name__ == "__main__":
    main()
