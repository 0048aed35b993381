"""A stand-in for a single-user notebook server, started by RecordingSpawner.

It writes the environment it received to a JSON file, then replies 200 to every GET
on 127.0.0.1, which is all JupyterHub needs to see the server as up.
"""

import http.server
import json
import os
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"server": "ldap-hooks test stand-in"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


def main():
    port, environment_file = int(sys.argv[1]), sys.argv[2]
    temporary = environment_file + ".tmp"
    with open(temporary, "w") as file:
        json.dump(dict(os.environ), file)
    os.replace(temporary, environment_file)
    http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
