"""Reply-time benchmark over Rasa's REST webhook against a running `make run`.

    python -m bot.bench [--n 100]

Sends a fixed mix of greetings, guide questions, clarifications, requests for a person and
chit-chat in conversations of five messages (so Rasa's tracker store reads and writes growing
conversations, as in real chats), and prints median / p95 / max reply time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid

import requests

from bot.settings import Settings

MIX = [
    "Hej",
    "Hvordan får jeg MitID?",
    "jeg har mistet min telefon med mitid",
    "Hvordan melder jeg flytning?",
    "pas udløbet",
    "gult kort væk",
    "hvornår har I åbent?",
    "Hvordan bestiller jeg storskrald?",
    "tak for hjælpen",
    "kan jeg tale med et menneske",
    "Hvad bliver vejret i morgen?",
    "ring mig op",
    "boligstøtte",
    "Hvordan søger jeg byggetilladelse?",
    "jeg vil klage over min sag",
    "er du en robot?",
    "skifte læge",
    "Hvordan brevstemmer jeg?",
    "qwerty",
    "farvel",
]
PER_CONVERSATION = 5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args(argv)
    url = f"{Settings.from_env().rasa_url}/webhooks/rest/webhook"
    requests.post(url, json={"sender": "warm-up", "message": "Hej"}, timeout=60).raise_for_status()
    times = []
    sender = ""
    for i in range(args.n):
        if i % PER_CONVERSATION == 0:
            sender = uuid.uuid4().hex
        message = MIX[i % len(MIX)]
        started = time.perf_counter()
        response = requests.post(url, json={"sender": sender, "message": message}, timeout=60)
        response.raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(
        f"{len(times)} messages over the REST webhook: median {statistics.median(times):.0f} ms,"
        f" p95 {p95:.0f} ms, max {times[-1]:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
