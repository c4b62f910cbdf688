#!/usr/bin/env bash
# Prints a TCP port that is free on 127.0.0.1 now: the test layers pick
# their servers' ports at run time, so two runs (or anything else on the
# machine) do not collide.
exec python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
