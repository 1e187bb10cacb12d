"""forkyard swarm agent client: asks the warm worker for the perspective in $PERSPECTIVE.

Prints what the analysis printed (one JSON line when it behaves) and exits with its exit
code. `--ping SECONDS` waits until the worker answers instead (used right after starting it).
"""
import json
import os
import socket
import sys
import time

SOCKET = os.environ.get("FORKYARD_SWARM_SOCKET", "/opt/forkyard-swarm/run/worker.sock")


def ask(request, timeout):
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(timeout)
    conn.connect(SOCKET)
    try:
        conn.sendall((json.dumps(request) + "\n").encode("utf-8"))
        data = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        conn.close()
    if not data.strip():
        raise RuntimeError("worker closed the connection without an answer (analysis process died)")
    return json.loads(data.decode("utf-8"))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--ping":
        deadline = time.monotonic() + float(sys.argv[2])
        while True:
            try:
                reply = ask({"ping": True}, 5)
                sys.stdout.write(",".join(reply.get("perspectives", [])) + "\n")
                return 0
            except (OSError, ValueError, RuntimeError) as e:
                if time.monotonic() > deadline:
                    sys.stderr.write("worker not answering on %s: %s\n" % (SOCKET, e))
                    return 3
                time.sleep(0.02)
    perspective = os.environ.get("PERSPECTIVE", "")
    if not perspective:
        sys.stderr.write("PERSPECTIVE is not set\n")
        return 2
    try:
        reply = ask({"perspective": perspective}, 3600)
    except (OSError, ValueError, RuntimeError) as e:
        sys.stderr.write("agent client: %s\n" % e)
        return 4
    sys.stdout.write(reply.get("stdout", ""))
    sys.stderr.write(reply.get("stderr", ""))
    code = reply.get("exit", 1)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
