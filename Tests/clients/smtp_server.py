"""A real SMTP server for the e-mail alert tests: aiosmtpd on 127.0.0.1 that requires STARTTLS
(with the test run's certificate) and AUTH after it, and writes each message it accepts to
OUT_DIR as a JSON file (envelope, raw message, whether TLS and AUTH were used). Prints its port,
then serves until its stdin closes.

usage: smtp_server.py PORT CERT_DIR OUT_DIR USER PASSWORD
"""
import json
import os
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

port, cert_dir, out_dir, user, password = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
os.makedirs(out_dir, exist_ok=True)
tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain(os.path.join(cert_dir, "cert.pem"), os.path.join(cert_dir, "key.pem"))


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login.decode() == user and auth_data.password.decode() == password
    return AuthResult(success=ok, handled=False)


class Keep:
    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(out_dir, "%d-%d.json" % (time.time_ns(), os.getpid()))
        with open(name + ".part", "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                       "content": envelope.content.decode("utf-8", "replace"),
                       "tls": session.ssl is not None, "auth": session.authenticated,
                       "mechanism": getattr(session, "auth_data", None) is not None}, f)
        os.rename(name + ".part", name)
        return "250 Message accepted for delivery"


controller = Controller(Keep(), hostname="127.0.0.1", port=int(port), server_hostname="omnipost-test-smtp",
                        tls_context=tls, require_starttls=True, authenticator=authenticator, auth_require_tls=True)
controller.start()
print(port, flush=True)
try:
    sys.stdin.read()
finally:
    controller.stop()
