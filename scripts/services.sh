#!/usr/bin/env bash
# Start MariaDB and Redis on 127.0.0.1 when they are installed but not running (tests and CI).
set -euo pipefail
if ! mariadb-admin -h127.0.0.1 -uroot ping >/dev/null 2>&1; then
  echo "Starting MariaDB"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
  for _ in $(seq 60); do mariadb-admin -h127.0.0.1 -uroot ping >/dev/null 2>&1 && break; sleep 1; done
fi
mariadb-admin -h127.0.0.1 -uroot ping >/dev/null
# USE_TZ needs the time-zone tables (otherwise __date lookups silently find nothing).
if [ "$(mariadb -h127.0.0.1 -uroot -N -e 'SELECT COUNT(*) FROM mysql.time_zone_name')" = "0" ]; then
  mariadb-tzinfo-to-sql /usr/share/zoneinfo 2>/dev/null | mariadb -h127.0.0.1 -uroot mysql
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
fi
redis-cli -h 127.0.0.1 ping >/dev/null
