"""Run a command with a private redis-server (tests/lib/cluster_proc.py's RedisProcess) and
its port in WAMPD_TEST_REDIS_PORT; exit with the command's status.

    python3 with_redis.py <command> [args...]
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from cluster_proc import RedisProcess  # noqa: E402


def main():
    redis = RedisProcess().start()
    try:
        env = dict(os.environ, WAMPD_TEST_REDIS_PORT=str(redis.port))
        return subprocess.call(sys.argv[1:], env=env)
    finally:
        redis.stop()


if __name__ == "__main__":
    sys.exit(main())
