"""Key files made on first use: every process starting at once ends up with the same key."""

import secrets
import threading

from hotline.infra.config import Config


def test_processes_starting_together_agree_on_the_keys(tmp_path):
    config = Config(data_dir=tmp_path)
    results: list[tuple[str, bytes]] = []
    barrier = threading.Barrier(8)

    def start():
        barrier.wait()
        results.append((config.flask_secret_key(), config.caller_key()))

    threads = [threading.Thread(target=start) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(set(results)) == 1
    assert (tmp_path / "flask-secret.key").stat().st_mode & 0o077 == 0


def test_a_configured_key_wins_over_the_file(tmp_path):
    key = secrets.token_hex(16)
    assert Config(data_dir=tmp_path, secret_key=key).flask_secret_key() == key
    assert not (tmp_path / "flask-secret.key").exists()
